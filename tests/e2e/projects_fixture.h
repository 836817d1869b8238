#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "cpts/projects/v1/events.pb.h"
#include "cpts/projects/v1/projects_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::e2e {

// Starts a fresh schema in `db`, migrates it with the real binary and starts the real
// projects server on free ports, calling `membership_target` (is a member active?) with a
// service token signed by `tokens`' key. `extra_args` are added to the server's flags.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartProjects(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, testing::TestSchema* schema_out = nullptr,
    const std::vector<std::string>& extra_args = {});

// Starts the real projects server on `schema`, already migrated (e.g. a restart after a
// crash), as StartProjects does.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartProjectsOn(
    const testing::TestSchema& schema, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::vector<std::string>& extra_args = {});

// The real membership and projects servers, started once per test suite, and a fresh tenant
// (with ready-made tokens) for every test.
class ProjectsE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // A call context with a 10 s deadline and, unless empty, the bearer token.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

  // A token of the test's tenant (or of `tenant`). The subject is "user-<member id or role>".
  std::string Token(std::vector<std::string> roles, const std::string& member_id = "") const;
  std::string TokenFor(const std::string& tenant, std::vector<std::string> roles,
                       const std::string& member_id = "") const;

  // A new tenant in membership; returns its id.
  std::string NewTenant(const std::string& name);
  // Creates and approves a member of the test's tenant; returns its member id.
  std::string CreateActiveMember();
  // Suspends a member in membership.
  void SuspendMember(const std::string& member_id);

  // The outbox events of the test's tenant (topic finance.attendance), in append order.
  std::vector<projects::v1::AttendanceEntitlementEvent> OutboxEvents() const;
  // Parks an event of the test's tenant (or of `tenant`) in the outbox as the relay does when
  // finance refuses it: state 'dead' after one attempt, with `error`. Returns its id (seq).
  int64_t ParkDeadOutboxEvent(const std::string& event_key, const std::string& error,
                              const std::string& tenant = "") const;
  // "state:attempts" of an outbox event.
  std::string OutboxState(int64_t id) const;
  // The audit records of one resource in the projects schema, newest first.
  std::vector<platform::db::AuditRecord> AuditRows(const std::string& resource_type,
                                                   const std::string& resource_id) const;

  static std::unique_ptr<projects::v1::ProjectsService::Stub> projects_;
  static std::unique_ptr<membership::v1::MembershipService::Stub> membership_;
  std::string tenant_;
};

}  // namespace cpts::e2e
