#include "bench/load/load_generator.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <mutex>
#include <set>

#include "bench/load/bench_scenarios.h"
#include "bench/load/scenarios.h"
#include "cpts/bench/v1/bench.grpc.pb.h"
#include "gtest/gtest.h"

namespace cpts::bench {
namespace {

using v1::BenchService;
using v1::PointReadRequest;
using v1::PointReadResponse;

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(h.max(), absl::ZeroDuration());
  EXPECT_EQ(h.mean(), absl::ZeroDuration());
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercent) {
  LatencyHistogram h;
  for (int us = 1; us <= 100'000; ++us) h.Record(absl::Microseconds(us));
  EXPECT_EQ(h.count(), 100'000u);
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double expected = q * 100'000;
    const double got = absl::ToDoubleMicroseconds(h.Percentile(q));
    EXPECT_NEAR(got, expected, expected * 0.01) << "q=" << q;
  }
  EXPECT_EQ(h.min(), absl::Microseconds(1));
  EXPECT_EQ(h.max(), absl::Microseconds(100'000));
  EXPECT_NEAR(absl::ToDoubleMicroseconds(h.mean()), 50'000.5, 0.01);
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndHugeOnesClamped) {
  LatencyHistogram h;
  h.Record(absl::Nanoseconds(100));
  EXPECT_EQ(h.Percentile(1.0), absl::Nanoseconds(100));
  h.Record(absl::Hours(1));
  EXPECT_EQ(h.max(), absl::Hours(1));  // exact max, even beyond the buckets
  EXPECT_GT(h.Percentile(1.0), absl::Minutes(10));
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.Record(absl::Milliseconds(1));
  b.Record(absl::Milliseconds(3));
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.min(), absl::Milliseconds(1));
  EXPECT_EQ(a.max(), absl::Milliseconds(3));
}

// Answers PointRead with the id; NOT_FOUND for ids divisible by 10; UNAUTHENTICATED without
// the expected authorization metadata.
class FakeBenchService final : public BenchService::Service {
 public:
  grpc::Status PointRead(grpc::ServerContext* context, const PointReadRequest* request,
                         PointReadResponse* response) override {
    ++calls_;
    const auto& md = context->client_metadata();
    const auto it = md.find("authorization");
    if (it == md.end() || it->second != "Bearer t0ken") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no token");
    }
    if (request->id() % 10 == 0) return grpc::Status(grpc::StatusCode::NOT_FOUND, "none");
    response->set_id(request->id());
    return grpc::Status::OK;
  }
  int calls() const { return calls_; }

 private:
  std::atomic<int> calls_{0};
};

class LoadGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options_.target = "127.0.0.1:" + std::to_string(port_);
    options_.concurrency = 4;
    options_.channels = 2;
    options_.warmup = absl::Milliseconds(200);
    options_.duration = absl::Milliseconds(500);
  }
  void TearDown() override { server_->Shutdown(); }

  Scenario PointReads(std::vector<int64_t> ids) {
    std::vector<PointReadRequest> requests(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) requests[i].set_id(ids[i]);
    Scenario s;
    s.name = "test";
    s.method = "/cpts.bench.v1.BenchService/PointRead";
    s.metadata.push_back(BearerAuthorization("t0ken"));
    s.request = RoundRobinMessages(requests);
    return s;
  }

  FakeBenchService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  LoadOptions options_;
};

TEST_F(LoadGeneratorTest, CountsOkCallsAndErrorsByCode) {
  auto result = RunLoad(options_, PointReads({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->ok, 100u);
  ASSERT_EQ(result->errors_by_code.size(), 1u);
  const uint64_t not_found = result->errors_by_code.at("NOT_FOUND");
  EXPECT_EQ(result->errors, not_found);
  // One request in ten fails: the round robin makes it exact up to the calls in flight.
  EXPECT_NEAR(static_cast<double>(not_found), static_cast<double>(result->ok) / 9, 10);
  EXPECT_EQ(result->latency.count(), result->ok);
  EXPECT_GT(result->latency.Percentile(0.5), absl::ZeroDuration());
  EXPECT_NEAR(result->qps, static_cast<double>(result->ok) / 0.5, 1);
  // The warm-up's calls reached the server but were not counted.
  EXPECT_GT(static_cast<uint64_t>(service_.calls()), result->ok + result->errors);
}

TEST_F(LoadGeneratorTest, MissingMetadataShowsAsUnauthenticated) {
  Scenario s = PointReads({1});
  s.metadata.clear();
  auto result = RunLoad(options_, s);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 0u);
  EXPECT_GT(result->errors_by_code.at("UNAUTHENTICATED"), 0u);
}

TEST_F(LoadGeneratorTest, FailedResponseCheckCountsAsBadResponse) {
  Scenario s = PointReads({1});
  s.check_response = [](const grpc::ByteBuffer& bytes) {
    PointReadResponse r;
    return ParseFromByteBuffer(bytes, &r) && r.id() == 2;
  };
  auto result = RunLoad(options_, s);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok, 0u);
  EXPECT_GT(result->errors_by_code.at("BAD_RESPONSE"), 0u);
}

TEST_F(LoadGeneratorTest, CallNumbersAreUniqueAcrossThreads) {
  std::mutex mu;
  std::multiset<uint64_t> seen;
  Scenario s = PointReads({1});
  const RequestSource prepared = s.request;
  s.request = [&](uint64_t n) {
    std::lock_guard lock(mu);
    seen.insert(n);
    return prepared(n);
  };
  options_.threads = 2;
  auto result = RunLoad(options_, s);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->threads, 2);
  std::set<uint64_t> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), seen.size());
}

TEST_F(LoadGeneratorTest, JsonLineHasTheFigures) {
  auto result = RunLoad(options_, PointReads({1}));
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string json = ToJson(*result, {{"mode", "\"raw\""}});
  EXPECT_NE(json.find("\"qps\":"), std::string::npos);
  EXPECT_NE(json.find("\"p99_ms\":"), std::string::npos);
  EXPECT_NE(json.find("\"mode\":\"raw\"}"), std::string::npos);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(LoadGeneratorNoServerTest, UnreachableTargetFails) {
  LoadOptions options;
  options.target = "127.0.0.1:1";
  options.connect_timeout = absl::Milliseconds(200);
  Scenario s;
  s.method = "/x.Y/Z";
  s.request = RoundRobin({grpc::ByteBuffer()});
  EXPECT_EQ(RunLoad(options, s).status().code(), absl::StatusCode::kUnavailable);
}

TEST(ScenarioRegistryTest, BuildsBenchAndRawScenarios) {
  ScenarioRegistry registry;
  RegisterRawScenario(registry);
  RegisterBenchScenarios(registry);
  auto point = registry.Make("bench.point_read", {{"rows", "10"}, {"prepared", "5"}});
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_EQ(point->name, "bench.point_read");
  EXPECT_EQ(point->method, "/cpts.bench.v1.BenchService/PointRead");
  PointReadRequest r;
  ASSERT_TRUE(ParseFromByteBuffer(point->request(7), &r));
  EXPECT_GE(r.id(), 1);
  EXPECT_LE(r.id(), 10);
  EXPECT_EQ(registry.Make("raw", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Make("bench.point_read", {{"rows", "x"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Make("nope", {}).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cpts::bench
