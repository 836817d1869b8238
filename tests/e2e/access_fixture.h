#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "cpts/access/v1/access_service.grpc.pb.h"
#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::e2e {

// Starts a fresh schema in `db`, migrates it with the real binary and starts the real access
// server on free ports (FHIR endpoint included), calling `membership_target` for member
// facts with a service token signed by `tokens`' key. `field_key_file` is a cpts_field_keys
// file.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartAccess(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::string& field_key_file,
    testing::TestSchema* schema_out = nullptr);

// The real membership and access servers, started once per test suite, and a fresh tenant
// (with ready-made tokens) for every test.
class AccessE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // A call context with a 10 s deadline and, unless empty, the bearer token.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

  // A token of the test's tenant. The subject defaults to "user-<member id or first role>".
  std::string Token(std::vector<std::string> roles, const std::string& member_id = "",
                    const std::string& subject = "") const;
  // A token with any claims (expired, another audience, ...) signed by the suite's key.
  static std::string Mint(const testing::TestTokens::Claims& claims);
  std::string TokenFor(const std::string& tenant, std::vector<std::string> roles,
                       const std::string& member_id = "", const std::string& subject = "") const;

  // A new tenant in membership (territory: kCommunes, FINESS `finess` unless empty); returns
  // its id.
  std::string NewTenant(const std::string& name, const std::string& finess = "");
  // Creates and approves a person member of `tenant` (default: the test's) practising in
  // `communes`; returns its member id.
  std::string CreateActiveMember(const std::string& profession_code,
                                 const std::vector<std::string>& communes,
                                 const std::string& tenant = "");

  // The audit records of one resource in the access schema, newest first.
  std::vector<platform::db::AuditRecord> AuditRows(const std::string& resource_type,
                                                   const std::string& resource_id) const;
  // Runs one query as the access schema's migrator and returns the first column of each row
  // (e.g. to check that only ciphertext is stored).
  std::vector<std::string> QueryColumn(const std::string& sql) const;

  static int fhir_port();
  static testing::ServiceProcess& access_server();

  // Communes of every test tenant's territory (Gironde, synthetic use).
  static constexpr std::array<const char*, 3> kCommunes = {"33529", "33051", "33063"};

  static std::unique_ptr<access::v1::AccessService::Stub> access_;
  static std::unique_ptr<membership::v1::MembershipService::Stub> membership_;
  std::string tenant_;
};

}  // namespace cpts::e2e
