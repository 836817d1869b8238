#include "services/platform/db/sql_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/platform/db/audit_log.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;

absl::Status Map(int code, const std::string& state, const std::string& message = "boom") {
  return MapSqlException(sql::SQLException(message, state, code), "load member");
}

TEST(MapSqlExceptionTest, DuplicateKeyIsAlreadyExists) {
  const absl::Status s = Map(1062, "23000", "Duplicate entry 'x' for key 'PRIMARY'");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAlreadyExists, "load member: Duplicate entry"));
  EXPECT_THAT(s.message(), HasSubstr("1062"));
  EXPECT_FALSE(IsRetryableTransactionError(s));
}

TEST(MapSqlExceptionTest, DeadlockAndLockWaitAreRetryableAborted) {
  for (int code : {1213, 1205}) {
    const absl::Status s = Map(code, "40001");
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted)) << code;
    EXPECT_TRUE(IsRetryableTransactionError(s)) << code;
  }
}

TEST(MapSqlExceptionTest, DomainAbortedIsNotRetryable) {
  EXPECT_FALSE(IsRetryableTransactionError(absl::AbortedError("etag mismatch")));
  EXPECT_FALSE(IsRetryableTransactionError(absl::OkStatus()));
}

TEST(MapSqlExceptionTest, ConnectionLevelErrorsAreUnavailable) {
  for (int code : {2002, 2003, 2006, 2013, 2055, 1047, 1053, 1927, 1040, 4031}) {
    EXPECT_THAT(Map(code, "HY000"), StatusIs(absl::StatusCode::kUnavailable)) << code;
    EXPECT_TRUE(IsConnectionLevelError(code)) << code;
  }
}

TEST(MapSqlExceptionTest, ConnectionErrorsAreCountedPerThread) {
  const uint64_t before = internal::ConnectionErrorsOnThisThread();
  (void)Map(1146, "42S02");
  EXPECT_EQ(internal::ConnectionErrorsOnThisThread(), before);
  (void)Map(2013, "HY000");
  EXPECT_EQ(internal::ConnectionErrorsOnThisThread(), before + 1);
}

TEST(MapSqlExceptionTest, SignalIsFailedPreconditionWithTriggerMessage) {
  EXPECT_THAT(
      Map(1644, "45000", "audit_log is append-only"),
      StatusIs(absl::StatusCode::kFailedPrecondition, "load member: audit_log is append-only"));
  // Identified by SQLSTATE alone too.
  EXPECT_THAT(Map(0, "45000", "rule"), StatusIs(absl::StatusCode::kFailedPrecondition, "rule"));
}

TEST(MapSqlExceptionTest, EverythingElseIsInternal) {
  EXPECT_THAT(Map(1146, "42S02", "Table 'x' doesn't exist"),
              StatusIs(absl::StatusCode::kInternal, "Table 'x' doesn't exist"));
  EXPECT_THAT(MapSqlException(sql::SQLException("no code"), "op"),
              StatusIs(absl::StatusCode::kInternal, "op: no code"));
}

TEST(MapDuplicateTest, NamesTheBrokenRuleOfAKnownKey) {
  const sql::SQLException dup("Duplicate entry 't-1' for key 'things_by_name'", "23000", 1062);
  EXPECT_THAT(
      MapDuplicate(dup, "insert thing",
                   {{"other", "other: taken"}, {"things_by_name", "thing.name: already used"}}),
      StatusIs(absl::StatusCode::kAlreadyExists, "thing.name: already used"));
  // Another key keeps MapSqlException's status; so does another error.
  EXPECT_THAT(MapDuplicate(dup, "insert thing", {{"things_by_code", "thing.code: taken"}}),
              StatusIs(absl::StatusCode::kAlreadyExists, "insert thing: Duplicate entry"));
  EXPECT_THAT(MapDuplicate(sql::SQLException("deadlock", "40001", 1213), "insert thing",
                           {{"things_by_name", "thing.name: already used"}}),
              StatusIs(absl::StatusCode::kAborted));
}

TEST(NotFoundTest, NamesWhatAndId) {
  EXPECT_THAT(NotFound("working group", "g-1"),
              StatusIs(absl::StatusCode::kNotFound, "working group g-1 not found"));
}

TEST(AuditSummaryJsonTest, QuotesTheSummary) {
  EXPECT_EQ(AuditSummaryJson("renamed \"A\""), "{\"summary\":\"renamed \\\"A\\\"\"}");
  EXPECT_EQ(AuditSummaryJson(""), "{\"summary\":\"\"}");
}

}  // namespace
}  // namespace cpts::platform::db
