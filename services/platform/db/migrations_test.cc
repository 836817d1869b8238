#include "services/platform/db/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/time/clock.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::QueryInt;
using test_util::QueryString;

MigrationSet Widgets() {
  return MigrationSet{
      "widgets",
      {
          {1, "create_widget",
           "-- first\n"
           "CREATE TABLE widget (\n"
           "  tenant_id VARCHAR(64) NOT NULL,\n"
           "  id VARCHAR(64) NOT NULL,\n"
           "  PRIMARY KEY (tenant_id, id)\n"
           ");\n"
           "CREATE TABLE widget_log (tenant_id VARCHAR(64) NOT NULL, n INT NOT NULL);\n"},
          {2, "seed", "INSERT INTO widget_log VALUES ('t', 2);\n"},
          {3, "add_color",
           "ALTER TABLE widget ADD COLUMN color VARCHAR(16) NOT NULL DEFAULT 'blue';\n"
           "INSERT INTO widget_log VALUES ('t', 3);\n"},
      }};
}

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "mig");
    ASSERT_THAT(schema, IsOk());
    schema_ = *schema;
    migrator_ = ConnectionPool::Create(schema_.migrator);
  }

  int64_t AppliedCount() { return QueryInt(*migrator_, "SELECT COUNT(*) FROM schema_migrations"); }

  cpts::testing::TestSchema schema_;
  std::unique_ptr<ConnectionPool> migrator_;
};

TEST_F(MigrationsTest, AppliesInOrderAndRecordsEachMigration) {
  ASSERT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  EXPECT_EQ(AppliedCount(), 3);
  EXPECT_EQ(QueryString(*migrator_,
                        "SELECT GROUP_CONCAT(CONCAT(version, ':', name) ORDER BY version) "
                        "FROM schema_migrations WHERE component = 'widgets'"),
            "1:create_widget,2:seed,3:add_color");
  EXPECT_EQ(QueryString(*migrator_, "SELECT checksum FROM schema_migrations WHERE version = 2"),
            MigrationChecksum(Widgets().migrations[1].sql));
  EXPECT_EQ(QueryInt(*migrator_,
                     "SELECT COUNT(*) FROM schema_migrations "
                     "WHERE applied_at > UTC_TIMESTAMP() - INTERVAL 1 HOUR"),
            3);
  EXPECT_EQ(QueryString(*migrator_, "SELECT GROUP_CONCAT(n ORDER BY n) FROM widget_log"), "2,3");
  EXPECT_THAT(test_util::Exec(*migrator_, "INSERT INTO widget (tenant_id, id) VALUES ('t', 'w')"),
              IsOk());
  EXPECT_EQ(QueryString(*migrator_, "SELECT color FROM widget"), "blue");
}

TEST_F(MigrationsTest, SecondRunDoesNothingAndNewMigrationsApplyLater) {
  MigrationSet first_two = Widgets();
  first_two.migrations.pop_back();
  ASSERT_THAT(RunMigrations(*migrator_, {first_two}), IsOk());
  EXPECT_EQ(AppliedCount(), 2);
  ASSERT_THAT(RunMigrations(*migrator_, {first_two}), IsOk());
  EXPECT_EQ(AppliedCount(), 2);
  ASSERT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  ASSERT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  EXPECT_EQ(AppliedCount(), 3);
  EXPECT_EQ(QueryString(*migrator_, "SELECT GROUP_CONCAT(n ORDER BY n) FROM widget_log"), "2,3");
}

TEST_F(MigrationsTest, EditedMigrationIsRefused) {
  ASSERT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  MigrationSet edited = Widgets();
  edited.migrations[1].sql = "INSERT INTO widget_log VALUES ('t', 22);\n";
  EXPECT_THAT(RunMigrations(*migrator_, {edited}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "widgets/2 (seed) was edited"));
  MigrationSet renamed = Widgets();
  renamed.migrations[0].name = "create_widgets";
  EXPECT_THAT(RunMigrations(*migrator_, {renamed}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "widgets/1"));
  EXPECT_EQ(QueryString(*migrator_, "SELECT GROUP_CONCAT(n ORDER BY n) FROM widget_log"), "2,3");
}

TEST_F(MigrationsTest, MissingMigrationIsRefused) {
  ASSERT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  MigrationSet older = Widgets();
  older.migrations.pop_back();
  EXPECT_THAT(RunMigrations(*migrator_, {older}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "widgets/3 (add_color) is recorded as applied but is missing"));
}

TEST_F(MigrationsTest, GapsAndDuplicatesAreRefusedBeforeTouchingTheDatabase) {
  MigrationSet gap = Widgets();
  gap.migrations.erase(gap.migrations.begin() + 1);
  EXPECT_THAT(RunMigrations(*migrator_, {gap}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "version 2 is missing"));
  MigrationSet duplicate = Widgets();
  duplicate.migrations[2].version = 2;
  EXPECT_THAT(RunMigrations(*migrator_, {duplicate}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "widgets/2 appears twice"));
  EXPECT_EQ(QueryInt(*migrator_,
                     "SELECT COUNT(*) FROM information_schema.tables "
                     "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'"),
            0);
}

TEST_F(MigrationsTest, FailingStatementIsReportedAndNotRecorded) {
  MigrationSet broken = Widgets();
  broken.migrations[2].sql = "ALTER TABLE widget ADD COLUMN oops NOT_A_TYPE;\n";
  EXPECT_THAT(RunMigrations(*migrator_, {broken}),
              StatusIs(absl::StatusCode::kInternal, "widgets/3 (add_color) statement 1 of 1"));
  EXPECT_EQ(AppliedCount(), 2);
  // The lock was released: a fixed set runs.
  EXPECT_THAT(RunMigrations(*migrator_, {Widgets()}, absl::Seconds(2)), IsOk());
  EXPECT_EQ(AppliedCount(), 3);
}

TEST_F(MigrationsTest, ConcurrentRunnersApplyEachMigrationOnce) {
  // The first migration is slow so that the runners overlap.
  MigrationSet set = Widgets();
  set.migrations[0].sql += "SELECT SLEEP(0.3);\n";
  std::unique_ptr<ConnectionPool> other = ConnectionPool::Create(schema_.migrator);
  absl::Status first;
  absl::Status second;
  std::thread one([&] { first = RunMigrations(*migrator_, {set}); });
  std::thread two([&] { second = RunMigrations(*other, {set}); });
  one.join();
  two.join();
  EXPECT_THAT(first, IsOk());
  EXPECT_THAT(second, IsOk());
  EXPECT_EQ(AppliedCount(), 3);
  EXPECT_EQ(QueryString(*migrator_, "SELECT GROUP_CONCAT(n ORDER BY n) FROM widget_log"), "2,3");
}

TEST_F(MigrationsTest, HeldLockGivesUnavailableAfterTimeout) {
  std::unique_ptr<ConnectionPool> holder_pool = ConnectionPool::Create(schema_.migrator);
  absl::StatusOr<ConnectionPool::Lease> holder = holder_pool->Acquire();
  ASSERT_THAT(holder, IsOk());
  ASSERT_THAT((*holder)->Execute("SELECT GET_LOCK('cpts_migrations." + schema_.name + "', 0)"),
              IsOk());
  const absl::Time start = absl::Now();
  EXPECT_THAT(RunMigrations(*migrator_, {Widgets()}, absl::Milliseconds(500)),
              StatusIs(absl::StatusCode::kUnavailable, "holds lock"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_THAT((*holder)->Execute("SELECT RELEASE_LOCK('cpts_migrations." + schema_.name + "')"),
              IsOk());
  EXPECT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
}

TEST_F(MigrationsTest, SeveralComponentsShareTheTable) {
  ASSERT_THAT(RunMigrations(*migrator_, {PlatformMigrations(), Widgets()}), IsOk());
  EXPECT_EQ(AppliedCount(), 5);  // platform: audit_log, outbox; widgets: 3
  // A service that only knows its own set leaves the other component's rows alone.
  EXPECT_THAT(RunMigrations(*migrator_, {Widgets()}), IsOk());
  EXPECT_EQ(QueryInt(*migrator_, "SELECT COUNT(*) FROM audit_log"), 0);
}

TEST_F(MigrationsTest, EmbeddedMigrationsApplyByteForByte) {
  const MigrationSet set = test_util::EmbeddedTestMigrations();
  EXPECT_EQ(set.component, "embedded");
  ASSERT_EQ(set.migrations.size(), 2u);
  EXPECT_EQ(set.migrations[0].name, "create_gadget");
  ASSERT_THAT(RunMigrations(*migrator_, {set}), IsOk());
  EXPECT_EQ(QueryString(*migrator_, "SELECT label FROM gadget WHERE id = 'g1'"), "it's \\ fine");
  EXPECT_EQ(QueryString(*migrator_, "SELECT label FROM gadget WHERE id = 'g2'"),
            "Crème brûlée; 100 %");
}

TEST_F(MigrationsTest, DownDatabaseIsUnavailable) {
  DbConfig config = schema_.migrator;
  config.port = 1;
  std::unique_ptr<ConnectionPool> down = ConnectionPool::Create(config);
  EXPECT_THAT(RunMigrations(*down, {Widgets()}), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cpts::platform::db
