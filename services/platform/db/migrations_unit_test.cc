#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "services/platform/db/migrations.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

TEST(SplitSqlStatementsTest, SplitsOnSemicolonAtEndOfLine) {
  EXPECT_THAT(SplitSqlStatements("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n"),
              ElementsAre("CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"));
}

TEST(SplitSqlStatementsTest, KeepsMultiLineStatementsAndInnerSemicolons) {
  const std::string sql =
      "-- header comment;\n"
      "\n"
      "INSERT INTO t VALUES ('a;b', 1),\n"
      "  ('c', 2);   \r\n"
      "# another comment\n"
      "CREATE TRIGGER tr BEFORE DELETE ON t FOR EACH ROW\n"
      "  -- inside; not an end\n"
      "  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';\n"
      "SELECT 1\n";
  EXPECT_THAT(SplitSqlStatements(sql),
              ElementsAre("INSERT INTO t VALUES ('a;b', 1),\n  ('c', 2)",
                          "CREATE TRIGGER tr BEFORE DELETE ON t FOR EACH ROW\n"
                          "  -- inside; not an end\n"
                          "  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no'",
                          "SELECT 1"));
}

TEST(SplitSqlStatementsTest, CommentsAndBlanksOnlyGiveNothing) {
  EXPECT_THAT(SplitSqlStatements(""), SizeIs(0));
  EXPECT_THAT(SplitSqlStatements("-- nothing\n\n# here;\n"), SizeIs(0));
  EXPECT_THAT(SplitSqlStatements("SELECT 1;\n-- trailing comment\n"), ElementsAre("SELECT 1"));
}

TEST(MigrationChecksumTest, IsHexSha256) {
  EXPECT_EQ(MigrationChecksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MigrationChecksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

MigrationSet Set(std::string component, const std::vector<int>& versions) {
  MigrationSet set{std::move(component), {}};
  for (int v : versions) {
    set.migrations.push_back({v, "m" + std::to_string(v), "SELECT 1;"});
  }
  return set;
}

TEST(ValidateMigrationSetsTest, AcceptsContiguousVersionsInAnyOrder) {
  EXPECT_THAT(ValidateMigrationSets({Set("platform", {1}), Set("membership", {2, 1, 3})}), IsOk());
  EXPECT_THAT(ValidateMigrationSets({Set("empty", {})}), IsOk());
}

TEST(ValidateMigrationSetsTest, RefusesGapsDuplicatesAndBadNames) {
  EXPECT_THAT(ValidateMigrationSets({Set("membership", {1, 3})}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "version 2 is missing"));
  EXPECT_THAT(ValidateMigrationSets({Set("membership", {2})}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "version 1 is missing"));
  EXPECT_THAT(ValidateMigrationSets({Set("membership", {1, 2, 2})}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "membership/2 appears twice"));
  EXPECT_THAT(ValidateMigrationSets({Set("Bad-Name", {1})}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "component name"));
  EXPECT_THAT(ValidateMigrationSets({Set("a", {1}), Set("a", {1})}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "given twice"));
}

TEST(PlatformMigrationsTest, EmbedsTheAuditLogMigrationByteForByte) {
  const MigrationSet set = PlatformMigrations();
  EXPECT_EQ(set.component, "platform");
  ASSERT_THAT(set.migrations, SizeIs(2));  // 0002 is the outbox
  EXPECT_EQ(set.migrations[0].version, 1);
  EXPECT_EQ(set.migrations[0].name, "audit_log");
  std::ifstream file(CPTS_PLATFORM_MIGRATIONS_DIR "/0001_audit_log.sql", std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(set.migrations[0].sql, content.str());
  const std::vector<std::string> statements = SplitSqlStatements(set.migrations[0].sql);
  ASSERT_THAT(statements, SizeIs(3));
  EXPECT_THAT(statements[0], StartsWith("CREATE TABLE audit_log"));
  EXPECT_THAT(statements[1], HasSubstr("BEFORE UPDATE ON audit_log"));
  EXPECT_THAT(statements[2], HasSubstr("BEFORE DELETE ON audit_log"));
  EXPECT_THAT(ValidateMigrationSets({set}), IsOk());
}

TEST(PlatformMigrationsTest, EmbedsTheOutboxMigrationByteForByte) {
  const MigrationSet set = PlatformMigrations();
  ASSERT_THAT(set.migrations, SizeIs(2));
  EXPECT_EQ(set.migrations[1].version, 2);
  EXPECT_EQ(set.migrations[1].name, "outbox");
  std::ifstream file(CPTS_PLATFORM_MIGRATIONS_DIR "/0002_outbox.sql", std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(set.migrations[1].sql, content.str());
  const std::vector<std::string> statements = SplitSqlStatements(set.migrations[1].sql);
  ASSERT_THAT(statements, SizeIs(1));
  EXPECT_THAT(statements[0], StartsWith("CREATE TABLE outbox_event"));
}

}  // namespace
}  // namespace cpts::platform::db
