#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::e2e {

namespace v1 = ::cpts::membership::v1;

// An RPPS number with a valid Luhn check digit, derived from `seed` (synthetic, not a real
// professional's).
std::string ValidRpps(int seed);

// Starts a fresh schema in `db`, migrates it with the real binary (--migrate_only, as the
// migrator user) and starts the real membership server on free ports (as the app user).
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartMembership(
    testing::MariaDbServer& db, const testing::TestTokens& tokens, std::string_view prefix);

// One running membership server with a tenant and ready-made tokens.
class MembershipE2e : public ::testing::Test {
 protected:
  void SetUp() override;

  // A call context with a deadline and, unless empty, the bearer token.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

  std::string AdminToken() const;
  std::string Token(const std::string& tenant, std::vector<std::string> roles,
                    const std::string& member_id = "") const;

  absl::StatusOr<v1::Tenant> CreateTenant(const std::string& name);
  // A valid person for CreateMember / SubmitAdhesion; `n` varies names and RPPS.
  static v1::Member ValidPerson(int n);
  // Creates and approves a member of `tenant` (as its coordinator); fails the test on error.
  v1::Member CreateActiveMember(const std::string& tenant, int n);

  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<testing::ServiceProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MembershipService::Stub> stub_;
  std::string tenant_;  // created in SetUp
};

}  // namespace cpts::e2e
