#include "services/platform/client/service_identity.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::client {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

class ServiceIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cpts-identity.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_THAT(auth::GenerateDevKeys(dir_), IsOk());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ServiceIdentityConfig Config() const {
    return {.service_name = "access",
            .issuer = "cpts-test",
            .audience = "cpts",
            .private_key_file = dir_ + "/" + auth::kDevPrivateKeyFile,
            .token_ttl = absl::Minutes(10)};
  }

  std::string dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(ServiceIdentityTest, TokenProvesTheServiceForTheTenant) {
  auto identity = ServiceIdentity::Create(Config(), clock_);
  ASSERT_THAT(identity.status(), IsOk());
  auto token = (*identity)->TokenFor("tenant-a");
  ASSERT_THAT(token.status(), IsOk());

  auto verifier =
      auth::JwtVerifier::Create({.issuer = "cpts-test",
                                 .audience = "cpts",
                                 .public_key_file = dir_ + "/" + auth::kDevPublicKeyFile},
                                clock_);
  ASSERT_THAT(verifier.status(), IsOk());
  auto principal = (*verifier)->Verify(*token);
  ASSERT_THAT(principal.status(), IsOk());
  EXPECT_EQ(principal->tenant_id, "tenant-a");
  EXPECT_EQ(principal->subject, "service:access");
  EXPECT_EQ(principal->roles, std::vector<std::string>{"service"});
}

TEST_F(ServiceIdentityTest, ReusesATokenUntilHalfItsLifeThenRenews) {
  auto identity = ServiceIdentity::Create(Config(), clock_);
  ASSERT_THAT(identity.status(), IsOk());
  auto first = (*identity)->TokenFor("tenant-a");
  clock_.Advance(absl::Minutes(4));
  auto again = (*identity)->TokenFor("tenant-a");
  auto other_tenant = (*identity)->TokenFor("tenant-b");
  clock_.Advance(absl::Minutes(2));
  auto renewed = (*identity)->TokenFor("tenant-a");
  ASSERT_TRUE(first.ok() && again.ok() && other_tenant.ok() && renewed.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*first, *other_tenant);
  EXPECT_NE(*first, *renewed);
}

TEST_F(ServiceIdentityTest, RefusesBadConfiguration) {
  auto config = Config();
  config.private_key_file = dir_ + "/missing.pem";
  EXPECT_THAT(ServiceIdentity::Create(config, clock_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  config = Config();
  config.private_key_file = dir_ + "/" + auth::kDevPublicKeyFile;  // not a private key
  EXPECT_THAT(ServiceIdentity::Create(config, clock_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  config = Config();
  config.service_name.clear();
  EXPECT_THAT(ServiceIdentity::Create(config, clock_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto identity = ServiceIdentity::Create(Config(), clock_);
  ASSERT_THAT(identity.status(), IsOk());
  EXPECT_THAT((*identity)->TokenFor("").status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cpts::platform::client
