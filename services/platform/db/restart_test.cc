// The pool survives a database restart without being recreated: while the server is down calls
// fail fast with Unavailable, and once it is back the same pool reconnects by itself.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/transaction.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::QueryInt;

TEST(RestartTest, PoolRecoversAfterServerRestart) {
  // A private server: stopping the shared one would break the other tests.
  absl::StatusOr<std::unique_ptr<cpts::testing::MariaDbServer>> server =
      cpts::testing::MariaDbServer::Start();
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<cpts::testing::TestSchema> schema =
      cpts::testing::CreateTestSchema(**server, "restart");
  ASSERT_THAT(schema, IsOk());
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(schema->app);

  // Several idle connections, all of which the restart will kill.
  {
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
      ASSERT_THAT(lease, IsOk());
      leases.push_back(*std::move(lease));
    }
  }
  ASSERT_THAT(test_util::Exec(*ConnectionPool::Create(schema->migrator),
                              "CREATE TABLE kept (tenant_id VARCHAR(8) PRIMARY KEY)"),
              IsOk());
  ASSERT_THAT(test_util::Exec(*pool, "INSERT INTO kept VALUES ('t1')"), IsOk());
  EXPECT_EQ(pool->GetStats().open, 3);

  ASSERT_THAT((*server)->Stop(), IsOk());

  const absl::Time down = absl::Now();
  // An idle connection used a moment ago is handed out unvalidated; its first query fails.
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    EXPECT_THAT((*lease)->Execute("SELECT 1"), StatusIs(absl::StatusCode::kUnavailable));
  }
  // From then on the pool validates the others, finds them dead, and cannot open new ones.
  EXPECT_THAT(pool->Acquire(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(pool->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(RunInTransaction(*pool, [](Connection&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - down, absl::Seconds(5)) << "calls must fail fast, not hang";
  ConnectionPool::Stats stats = pool->GetStats();
  EXPECT_EQ(stats.open, 0);
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_EQ(stats.discarded, 3);
  EXPECT_GE(stats.connect_failures, 3);

  ASSERT_THAT((*server)->StartAgain(), IsOk());
  EXPECT_THAT(pool->Ping(), IsOk());
  EXPECT_EQ(QueryInt(*pool, "SELECT COUNT(*) FROM kept"), 1);  // same data
  EXPECT_THAT(
      RunInTransaction(
          *pool, [](Connection& conn) { return conn.Execute("INSERT INTO kept VALUES ('t2')"); }),
      IsOk());
  EXPECT_EQ(QueryInt(*pool, "SELECT COUNT(*) FROM kept"), 2);
}

TEST(RestartTest, RestartWhileIdleCostsAtMostOneFailedCall) {
  absl::StatusOr<std::unique_ptr<cpts::testing::MariaDbServer>> server =
      cpts::testing::MariaDbServer::Start();
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<cpts::testing::TestSchema> schema =
      cpts::testing::CreateTestSchema(**server, "restart");
  ASSERT_THAT(schema, IsOk());
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(schema->app);
  {
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
      ASSERT_THAT(lease, IsOk());
      leases.push_back(*std::move(lease));
    }
  }
  ASSERT_THAT((*server)->Stop(), IsOk());
  ASSERT_THAT((*server)->StartAgain(), IsOk());
  // Ping replaces a dead reused connection once, so a health check sees the server back.
  EXPECT_THAT(pool->Ping(), IsOk());
  // Once one dead connection was found, the remaining idle ones are validated before use.
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(test_util::Exec(*pool, "SELECT 1"), IsOk()) << i;
  }
}

}  // namespace
}  // namespace cpts::platform::db
