// The access server as a whole: it starts beside membership, reports its health, refuses
// callers without a token on gRPC and on the FHIR port, and reaches membership with its own
// service identity.
#include <httplib.h>

#include <chrono>
#include <thread>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;

using AccessSmokeTest = AccessE2e;

TEST_F(AccessSmokeTest, ReportsServingOnceTheDatabaseAnswers) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(access_server().grpc_target(), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("cpts.access.v1.AccessService");
  grpc::health::v1::HealthCheckResponse resp;
  // The first database ping may still be under way just after start.
  for (int i = 0; i < 50; ++i) {
    resp.Clear();
    const grpc::Status st = health->Check(Ctx("").get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(AccessSmokeTest, RefusesACallWithoutToken) {
  v1::SearchSlotsRequest req;
  v1::SearchSlotsResponse resp;
  EXPECT_EQ(access_->SearchSlots(Ctx("").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ListMtQueueRequest queue;
  v1::ListMtQueueResponse queue_resp;
  EXPECT_EQ(access_->ListMtQueue(Ctx("").get(), queue, &queue_resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccessSmokeTest, FhirEndpointRefusesWithoutTokenWithAnOperationOutcome) {
  ASSERT_GT(fhir_port(), 0);
  httplib::Client http("127.0.0.1", fhir_port());
  auto res = http.Get("/fhir/Slot?status=free");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(res->body.find("OperationOutcome"), std::string::npos) << res->body;
}

TEST_F(AccessSmokeTest, ChecksGpsAgainstMembershipWithItsServiceIdentity) {
  const std::string gp = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
  const std::string nurse = CreateActiveMember("INFIRMIER", {kCommunes[0]});
  const std::string coordinator = Token({"coordinator"});

  v1::DeclareGpCapacityRequest req;
  auto* capacity = req.mutable_gp_capacity();
  capacity->set_gp_member_id(gp);
  capacity->set_declared_count(3);
  const absl::CivilDay in_a_month =
      absl::ToCivilDay(absl::Now() + absl::Hours(24 * 30), absl::UTCTimeZone());
  capacity->mutable_valid_until()->set_year(static_cast<int>(in_a_month.year()));
  capacity->mutable_valid_until()->set_month(in_a_month.month());
  capacity->mutable_valid_until()->set_day(in_a_month.day());
  capacity->add_communes(kCommunes[0]);
  capacity->add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
  v1::DeclareGpCapacityResponse resp;
  grpc::Status st = access_->DeclareGpCapacity(Ctx(coordinator).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();

  // Membership says this member is a nurse: no MT capacity.
  req.mutable_gp_capacity()->set_gp_member_id(nurse);
  st = access_->DeclareGpCapacity(Ctx(coordinator).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();

  // Unknown to membership in this tenant.
  req.mutable_gp_capacity()->set_gp_member_id("01NOSUCHMEMBER0000000000AA");
  st = access_->DeclareGpCapacity(Ctx(coordinator).get(), req, &resp);
  EXPECT_TRUE(st.error_code() == grpc::StatusCode::NOT_FOUND ||
              st.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
      << st.error_code() << " " << st.error_message();
}

}  // namespace
}  // namespace cpts::e2e
