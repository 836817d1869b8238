#include "services/platform/db/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/platform/core/status_macros.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/migrations.h"
#include "services/platform/db/transaction.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::QueryInt;
using ::testing::ElementsAre;
using ::testing::SizeIs;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "audit");
    ASSERT_THAT(schema, IsOk());
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    ASSERT_THAT(RunMigrations(*migrator, {PlatformMigrations()}), IsOk());
    app_ = ConnectionPool::Create(schema->app);
  }

  static AuditRecord Record(std::string action, absl::Time at) {
    AuditRecord r;
    r.tenant_id = "cpts-1";
    r.actor_subject = "psc|8001234567";
    r.actor_member_id = "m-1";
    r.actor_roles = {"coordinator", "board"};
    r.action = std::move(action);
    r.resource_type = "member";
    r.resource_id = "m-42";
    r.reason = "adhésion vérifiée";
    r.details = R"({"fields": ["email"]})";
    r.occurred_at = at;
    return r;
  }

  std::unique_ptr<ConnectionPool> app_;
};

TEST_F(AuditLogTest, AppendsInTheCallersTransactionAndListsNewestFirst) {
  const absl::Time t0 = absl::FromUnixMicros(1'700'000'000'123'456);
  ASSERT_THAT(RunInTransaction(*app_,
                               [&](Connection& conn) {
                                 CPTS_RETURN_IF_ERROR(AppendAudit(conn, Record("member.read", t0)));
                                 return AppendAudit(conn,
                                                    Record("member.update", t0 + absl::Seconds(1)));
                               }),
              IsOk());
  // Rolled back with the change it describes.
  EXPECT_THAT(
      RunInTransaction(*app_,
                       [&](Connection& conn) {
                         CPTS_RETURN_IF_ERROR(AppendAudit(conn, Record("member.delete", t0)));
                         return absl::FailedPreconditionError("member has mandates");
                       }),
      StatusIs(absl::StatusCode::kFailedPrecondition));

  absl::StatusOr<ConnectionPool::Lease> lease = app_->Acquire();
  ASSERT_THAT(lease, IsOk());
  absl::StatusOr<std::vector<AuditRecord>> records =
      ListAudit(**lease, "cpts-1", "member", "m-42", 10);
  ASSERT_THAT(records, IsOk());
  ASSERT_THAT(*records, SizeIs(2));
  const AuditRecord& newest = (*records)[0];
  EXPECT_EQ(newest.action, "member.update");
  EXPECT_EQ((*records)[1].action, "member.read");
  EXPECT_EQ((*records)[1].occurred_at, t0);  // microseconds survive
  EXPECT_EQ(newest.tenant_id, "cpts-1");
  EXPECT_EQ(newest.actor_subject, "psc|8001234567");
  EXPECT_EQ(newest.actor_member_id, "m-1");
  EXPECT_THAT(newest.actor_roles, ElementsAre("coordinator", "board"));
  EXPECT_EQ(newest.resource_id, "m-42");
  EXPECT_EQ(newest.outcome, "ok");
  EXPECT_EQ(newest.reason, "adhésion vérifiée");
  EXPECT_EQ(newest.details, R"({"fields": ["email"]})");

  // Other tenants and resources are not listed; the limit applies.
  EXPECT_THAT(*ListAudit(**lease, "cpts-2", "member", "m-42", 10), SizeIs(0));
  EXPECT_THAT(*ListAudit(**lease, "cpts-1", "member", "m-43", 10), SizeIs(0));
  EXPECT_THAT(*ListAudit(**lease, "cpts-1", "member", "m-42", 1), SizeIs(1));
}

TEST_F(AuditLogTest, UnsetTimeUsesServerTimeAndEmptyDetailsIsNull) {
  AuditRecord r = Record("member.read", absl::UnixEpoch());
  r.details.clear();
  absl::StatusOr<ConnectionPool::Lease> lease = app_->Acquire();
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(AppendAudit(**lease, r), IsOk());
  absl::StatusOr<std::vector<AuditRecord>> records =
      ListAudit(**lease, "cpts-1", "member", "m-42", 10);
  ASSERT_THAT(records, IsOk());
  ASSERT_THAT(*records, SizeIs(1));
  EXPECT_LT(absl::AbsDuration((*records)[0].occurred_at - absl::Now()), absl::Minutes(5));
  EXPECT_EQ((*records)[0].details, "");
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM audit_log WHERE details IS NULL"), 1);
}

TEST_F(AuditLogTest, InvalidRecordsAreRejected) {
  absl::StatusOr<ConnectionPool::Lease> lease = app_->Acquire();
  ASSERT_THAT(lease, IsOk());
  AuditRecord r = Record("member.read", absl::UnixEpoch());
  r.tenant_id.clear();
  EXPECT_THAT(AppendAudit(**lease, r), StatusIs(absl::StatusCode::kInvalidArgument, "tenant_id"));
  r = Record("member.read", absl::UnixEpoch());
  r.reason = std::string(501, 'x');
  EXPECT_THAT(AppendAudit(**lease, r), StatusIs(absl::StatusCode::kInvalidArgument, "reason"));
  r.reason = std::string(500, 'x');
  EXPECT_THAT(AppendAudit(**lease, r), IsOk());
  r.actor_roles = {"a,b"};
  EXPECT_THAT(AppendAudit(**lease, r), StatusIs(absl::StatusCode::kInvalidArgument, "comma"));
  r = Record("member.read", absl::UnixEpoch());
  r.details = "not json";
  EXPECT_THAT(AppendAudit(**lease, r), StatusIs(absl::StatusCode::kInvalidArgument, "JSON"));
}

TEST_F(AuditLogTest, IsAppendOnlyForTheAppUser) {
  absl::StatusOr<ConnectionPool::Lease> lease = app_->Acquire();
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(AppendAudit(**lease, Record("member.read", absl::UnixEpoch())), IsOk());
  EXPECT_THAT((*lease)->Execute("UPDATE audit_log SET outcome = 'denied'"),
              StatusIs(absl::StatusCode::kFailedPrecondition, "audit_log is append-only"));
  EXPECT_THAT((*lease)->Execute("DELETE FROM audit_log"),
              StatusIs(absl::StatusCode::kFailedPrecondition, "audit_log is append-only"));
  // The app user can neither remove the guard nor bypass it.
  EXPECT_THAT((*lease)->Execute("DROP TRIGGER audit_log_no_delete"),
              StatusIs(absl::StatusCode::kInternal, "denied"));
  EXPECT_THAT((*lease)->Execute("TRUNCATE TABLE audit_log"),
              StatusIs(absl::StatusCode::kInternal, "denied"));
  EXPECT_THAT((*lease)->Execute("DROP TABLE audit_log"),
              StatusIs(absl::StatusCode::kInternal, "denied"));
  EXPECT_THAT((*lease)->Execute("DELETE FROM audit_log"),
              StatusIs(absl::StatusCode::kFailedPrecondition, "append-only"));
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM audit_log WHERE outcome = 'ok'"), 1);
  EXPECT_FALSE((*lease)->broken());
}

}  // namespace
}  // namespace cpts::platform::db
