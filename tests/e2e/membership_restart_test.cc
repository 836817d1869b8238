// The service keeps answering across a database restart: UNAVAILABLE while the database is
// down, then success again without restarting the service.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::e2e {
namespace {

TEST(MembershipRestart, AnswersAgainAfterTheDatabaseRestarts) {
  auto db = testing::MariaDbServer::Start();
  ASSERT_TRUE(db.ok()) << db.status();
  auto tokens = testing::TestTokens::Create();
  ASSERT_TRUE(tokens.ok());
  auto server = StartMembership(**db, *tokens, "restart");
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::MembershipService::NewStub(
      grpc::CreateChannel((*server)->grpc_target(), grpc::InsecureChannelCredentials()));
  const auto call = [&](const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::ListTenantsResponse resp;
    return stub->ListTenants(&ctx, {}, &resp);
  };
  const std::string admin = tokens->Mint({.roles = {"platform_admin"}});
  ASSERT_TRUE(call(admin).ok());

  ASSERT_TRUE((*db)->Stop().ok());
  const grpc::Status down = call(admin);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();

  ASSERT_TRUE((*db)->StartAgain().ok());
  grpc::Status up = call(admin);
  // The first call after the restart may meet a connection that died with the old server;
  // the pool discards it, and a client retrying UNAVAILABLE (as ours do) then succeeds.
  for (int i = 0; i < 3 && up.error_code() == grpc::StatusCode::UNAVAILABLE; ++i) up = call(admin);
  EXPECT_TRUE(up.ok()) << up.error_message();
}

}  // namespace
}  // namespace cpts::e2e
