#include "services/platform/db/transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "services/platform/core/status_macros.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::QueryInt;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "tx");
    ASSERT_THAT(schema, IsOk());
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    ASSERT_THAT(test_util::Exec(*migrator,
                                "CREATE TABLE account (tenant_id VARCHAR(64) NOT NULL, "
                                "id VARCHAR(64) NOT NULL, balance BIGINT NOT NULL, "
                                "PRIMARY KEY (tenant_id, id))"),
                IsOk());
    ASSERT_THAT(
        test_util::Exec(*migrator, "INSERT INTO account VALUES ('t', 'a', 100), ('t', 'b', 100)"),
        IsOk());
    pool_ = ConnectionPool::Create(schema->app);
  }

  // Adds delta to one account's balance through a prepared statement.
  static absl::Status Add(Connection& conn, const char* id, int delta) {
    try {
      sql::PreparedStatement& ps =
          conn.Prepare("UPDATE account SET balance = balance + ? WHERE tenant_id = 't' AND id = ?");
      ps.setInt(1, delta);
      ps.setString(2, id);
      ps.executeUpdate();
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "update account");
    }
  }

  int64_t Balance(const std::string& id) {
    return QueryInt(*pool_,
                    "SELECT balance FROM account WHERE tenant_id = 't' AND id = '" + id + "'");
  }

  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(TransactionTest, CommitsWhenFnSucceeds) {
  EXPECT_THAT(RunInTransaction(*pool_,
                               [](Connection& conn) {
                                 CPTS_RETURN_IF_ERROR(Add(conn, "a", -30));
                                 return Add(conn, "b", 30);
                               }),
              IsOk());
  EXPECT_EQ(Balance("a"), 70);
  EXPECT_EQ(Balance("b"), 130);
  // The connection is back in autocommit mode.
  EXPECT_EQ(QueryInt(*pool_, "SELECT @@session.autocommit"), 1);
}

TEST_F(TransactionTest, RollsBackAndDoesNotRetryOnError) {
  int calls = 0;
  EXPECT_THAT(RunInTransaction(*pool_,
                               [&calls](Connection& conn) {
                                 ++calls;
                                 CPTS_RETURN_IF_ERROR(Add(conn, "a", -30));
                                 return absl::InvalidArgumentError("rejected");
                               }),
              StatusIs(absl::StatusCode::kInvalidArgument, "rejected"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Balance("a"), 100);
  EXPECT_EQ(QueryInt(*pool_, "SELECT @@session.autocommit"), 1);
}

TEST_F(TransactionTest, NonRetryableDatabaseErrorsAreNotRetried) {
  int calls = 0;
  EXPECT_THAT(RunInTransaction(*pool_,
                               [&calls](Connection& conn) {
                                 ++calls;
                                 return conn.Execute("INSERT INTO account VALUES ('t', 'a', 1)");
                               }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_THAT(RunInTransaction(*pool_,
                               [&calls](Connection&) {
                                 ++calls;
                                 return absl::AbortedError("etag mismatch");  // domain Aborted
                               }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(calls, 1);
}

TEST_F(TransactionTest, RetryableErrorsAreRetriedUpToMaxAttempts) {
  int calls = 0;
  absl::Status deadlock =
      MapSqlException(sql::SQLException("Deadlock found", "40001", 1213), "simulated");
  EXPECT_THAT(RunInTransaction(
                  *pool_,
                  [&](Connection& conn) {
                    ++calls;
                    CPTS_RETURN_IF_ERROR(Add(conn, "a", 1));
                    return deadlock;
                  },
                  TxOptions{.max_attempts = 3, .initial_backoff = absl::Milliseconds(1)}),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(Balance("a"), 100);  // every attempt rolled back

  calls = 0;
  EXPECT_THAT(RunInTransaction(*pool_,
                               [&](Connection& conn) -> absl::Status {
                                 if (++calls < 3) return deadlock;
                                 return Add(conn, "a", 5);
                               }),
              IsOk());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(Balance("a"), 105);
}

TEST_F(TransactionTest, RealDeadlockIsRetriedAndBothCommit) {
  // Two transactions lock the two rows in opposite orders; both wait at the latch holding their
  // first lock, so InnoDB must pick a victim. The victim is retried and commits after the other.
  std::latch both_hold_first_lock(2);
  std::atomic<int> attempts{0};
  auto transfer = [&](const char* first, const char* second) {
    bool first_attempt = true;
    return RunInTransaction(*pool_, [&](Connection& conn) {
      ++attempts;
      CPTS_RETURN_IF_ERROR(Add(conn, first, -10));
      if (first_attempt) {
        first_attempt = false;
        both_hold_first_lock.arrive_and_wait();
      }
      return Add(conn, second, 10);
    });
  };
  absl::Status a_to_b;
  absl::Status b_to_a;
  std::thread one([&] { a_to_b = transfer("a", "b"); });
  std::thread two([&] { b_to_a = transfer("b", "a"); });
  one.join();
  two.join();
  EXPECT_THAT(a_to_b, IsOk());
  EXPECT_THAT(b_to_a, IsOk());
  EXPECT_EQ(attempts.load(), 3);  // one of them ran twice
  EXPECT_EQ(Balance("a"), 100);
  EXPECT_EQ(Balance("b"), 100);
  EXPECT_EQ(pool_->GetStats().discarded, 0);
}

TEST_F(TransactionTest, UnavailableMarksTheConnectionBrokenWithoutRetry) {
  int calls = 0;
  EXPECT_THAT(RunInTransaction(*pool_,
                               [&calls](Connection&) {
                                 ++calls;
                                 return MapSqlException(
                                     sql::SQLException("Lost connection", "HY000", 2013), "q");
                               }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(pool_->GetStats().discarded, 1);
}

TEST_F(TransactionTest, ExceptionFromFnIsMappedNotPropagated) {
  EXPECT_THAT(RunInTransaction(*pool_,
                               [](Connection& conn) -> absl::Status {
                                 // Not caught by the body on purpose.
                                 std::unique_ptr<sql::ResultSet> rs(
                                     conn.Prepare("SELECT * FROM missing").executeQuery());
                                 return absl::OkStatus();
                               }),
              StatusIs(absl::StatusCode::kInternal, "1146"));
}

}  // namespace
}  // namespace cpts::platform::db
