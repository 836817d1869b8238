#include "services/platform/server/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cpts::platform {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsRegistry, RendersCountsAndCumulativeBuckets) {
  MetricsRegistry registry;
  MethodMetrics* m = registry.RegisterMethod("/svc/Get");
  m->Record(0, absl::Microseconds(300));
  m->Record(0, absl::Milliseconds(3));
  m->Record(5, absl::Milliseconds(30));
  const std::string text = registry.RenderPrometheus();
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handled_total{grpc_method=\"/svc/Get\",grpc_code=\"OK\"} 2"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_method=\"/svc/Get\","
                              "grpc_code=\"NOT_FOUND\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"/svc/Get\","
                              "grpc_code=\"OK\",le=\"0.0005\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"/svc/Get\","
                              "grpc_code=\"OK\",le=\"0.005\"} 2"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_count{grpc_method=\"/svc/Get\","
                              "grpc_code=\"OK\"} 2"));
  EXPECT_THAT(text, Not(HasSubstr("grpc_code=\"ABORTED\"")));
}

TEST(MetricsRegistry, RendersGauges) {
  MetricsRegistry registry;
  registry.RegisterGauge("db_pool_connections", "help", [] {
    return std::vector<MetricsRegistry::GaugeSample>{{"state=\"idle\"", 3}};
  });
  EXPECT_THAT(registry.RenderPrometheus(), HasSubstr("db_pool_connections{state=\"idle\"} 3\n"));
}

}  // namespace
}  // namespace cpts::platform
