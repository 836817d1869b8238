#include "services/platform/db/connection_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {

// For gmock's messages (found by argument-dependent lookup).
void PrintTo(const DbEndpoint& e, std::ostream* os);
void PrintTo(const DbEndpoint& e, std::ostream* os) { *os << e.host << ":" << e.port; }

namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::Exec;
using test_util::QueryInt;
using test_util::QueryString;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ConnectionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "pool");
    ASSERT_THAT(schema, IsOk());
    schema_ = *schema;
  }

  std::unique_ptr<ConnectionPool> NewPool(int size) {
    DbConfig config = schema_.app;
    config.pool_size = size;
    return ConnectionPool::Create(config);
  }

  cpts::testing::TestSchema schema_;
};

TEST_F(ConnectionPoolTest, CreateOpensNothingAndAcquireReusesConnections) {
  std::unique_ptr<ConnectionPool> pool = NewPool(2);
  ConnectionPool::Stats stats = pool->GetStats();
  EXPECT_EQ(stats.open, 0);
  EXPECT_EQ(stats.max, 2);
  Connection* first = nullptr;
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    EXPECT_TRUE(lease->fresh());
    first = lease->get();
    stats = pool->GetStats();
    EXPECT_EQ(stats.open, 1);
    EXPECT_EQ(stats.in_use, 1);
    EXPECT_EQ(stats.idle, 0);
  }
  stats = pool->GetStats();
  EXPECT_EQ(stats.open, 1);
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_EQ(stats.idle, 1);
  absl::StatusOr<ConnectionPool::Lease> again = pool->Acquire();
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->fresh());
  EXPECT_EQ(again->get(), first);
  // Leases move; the moved-from one returns nothing.
  ConnectionPool::Lease moved = *std::move(again);
  EXPECT_EQ(moved.get(), first);
  EXPECT_EQ(pool->GetStats().in_use, 1);
}

TEST_F(ConnectionPoolTest, SessionIsConfigured) {
  std::unique_ptr<ConnectionPool> pool = NewPool(1);
  EXPECT_EQ(QueryString(*pool, "SELECT @@session.time_zone"), "+00:00");
  EXPECT_EQ(QueryString(*pool, "SELECT @@session.tx_isolation"), "READ-COMMITTED");
  const std::string sql_mode = QueryString(*pool, "SELECT @@session.sql_mode");
  for (const char* mode :
       {"STRICT_ALL_TABLES", "NO_ZERO_DATE", "NO_ZERO_IN_DATE", "ERROR_FOR_DIVISION_BY_ZERO"}) {
    EXPECT_THAT(sql_mode, HasSubstr(mode));
  }
  EXPECT_EQ(QueryInt(*pool, "SELECT @@session.autocommit"), 1);
  EXPECT_EQ(QueryString(*pool, "SELECT @@session.character_set_connection"), "utf8mb4");
  EXPECT_EQ(QueryInt(*pool, "SELECT @@session.innodb_lock_wait_timeout"), 10);
  EXPECT_EQ(QueryString(*pool, "SELECT DATABASE()"), schema_.name);
  // Strict mode: a too long value is an error, not a silent truncation.
  ASSERT_THAT(Exec(*ConnectionPool::Create(schema_.migrator),
                   "CREATE TABLE t (tenant_id VARCHAR(3) NOT NULL)"),
              IsOk());
  EXPECT_THAT(Exec(*pool, "INSERT INTO t VALUES ('abcd')"),
              StatusIs(absl::StatusCode::kInternal, "1406"));
}

TEST_F(ConnectionPoolTest, PreparedStatementsAreCachedAndCleared) {
  std::unique_ptr<ConnectionPool> pool = NewPool(1);
  sql::PreparedStatement* first = nullptr;
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    try {
      sql::PreparedStatement& ps = (*lease)->Prepare("SELECT ? + 1");
      first = &ps;
      ps.setInt(1, 41);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      ASSERT_TRUE(rs->next());
      EXPECT_EQ(rs->getInt(1), 42);
    } catch (const sql::SQLException& e) {
      FAIL() << MapSqlException(e, "query");
    }
  }
  absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
  ASSERT_THAT(lease, IsOk());
  try {
    sql::PreparedStatement& ps = (*lease)->Prepare("SELECT ? + 1");
    EXPECT_EQ(&ps, first);  // same server-side statement, next lease
    // Parameters were cleared: executing without binding fails.
    EXPECT_THROW(std::unique_ptr<sql::ResultSet>(ps.executeQuery()), sql::SQLException);
  } catch (const sql::SQLException& e) {
    FAIL() << MapSqlException(e, "prepare");
  }
}

TEST_F(ConnectionPoolTest, ExecuteReadsAndDiscardsResults) {
  std::unique_ptr<ConnectionPool> pool = NewPool(1);
  absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
  ASSERT_THAT(lease, IsOk());
  EXPECT_THAT((*lease)->Execute("SELECT 1"), IsOk());
  EXPECT_THAT((*lease)->Execute("SELECT 2"), IsOk());  // not "commands out of sync"
  EXPECT_THAT((*lease)->Execute("SELECT * FROM no_such_table"),
              StatusIs(absl::StatusCode::kInternal, "1146"));
  EXPECT_FALSE((*lease)->broken());
}

TEST_F(ConnectionPoolTest, ExhaustedPoolWaitsThenUnavailableAtDeadline) {
  std::unique_ptr<ConnectionPool> pool = NewPool(1);
  absl::StatusOr<ConnectionPool::Lease> held = pool->Acquire();
  ASSERT_THAT(held, IsOk());
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Acquire(start + absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kUnavailable, "deadline"));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(90));
  EXPECT_LT(waited, absl::Seconds(2));
  EXPECT_EQ(pool->GetStats().waits, 1);

  // A waiter gets the connection as soon as it is returned.
  std::thread releaser([&held] {
    absl::SleepFor(absl::Milliseconds(50));
    ConnectionPool::Lease done = *std::move(held);
  });
  absl::StatusOr<ConnectionPool::Lease> next = pool->Acquire(absl::Now() + absl::Seconds(10));
  releaser.join();
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->fresh());
  EXPECT_EQ(pool->GetStats().waits, 2);
  EXPECT_EQ(pool->GetStats().open, 1);
}

TEST_F(ConnectionPoolTest, BrokenConnectionsAreDiscarded) {
  std::unique_ptr<ConnectionPool> pool = NewPool(2);
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    (*lease)->MarkBroken();
  }
  ConnectionPool::Stats stats = pool->GetStats();
  EXPECT_EQ(stats.open, 0);
  EXPECT_EQ(stats.discarded, 1);
  // A connection-level error mapped while a lease is held discards it without MarkBroken().
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    (void)MapSqlException(sql::SQLException("gone", "HY000", 2006), "simulated");
  }
  stats = pool->GetStats();
  EXPECT_EQ(stats.open, 0);
  EXPECT_EQ(stats.discarded, 2);
  EXPECT_THAT(pool->Ping(), IsOk());
}

TEST_F(ConnectionPoolTest, KilledConnectionIsReplaced) {
  std::unique_ptr<ConnectionPool> pool = NewPool(1);
  const int64_t id = QueryInt(*pool, "SELECT CONNECTION_ID()");
  ASSERT_THAT(cpts::testing::SharedMariaDb().Exec("KILL CONNECTION " + std::to_string(id)), IsOk());
  // The idle connection was used a moment ago, so it is handed out unvalidated: the query
  // fails as Unavailable and the connection is discarded...
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    EXPECT_THAT((*lease)->Execute("SELECT 1"), StatusIs(absl::StatusCode::kUnavailable));
  }
  // ...and the next caller gets a new one.
  EXPECT_NE(QueryInt(*pool, "SELECT CONNECTION_ID()"), id);
  EXPECT_EQ(pool->GetStats().discarded, 1);
}

TEST_F(ConnectionPoolTest, WrongPasswordIsUnavailable) {
  DbConfig config = schema_.app;
  config.password = "wrong";
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(config);
  EXPECT_THAT(pool->Acquire(), StatusIs(absl::StatusCode::kUnavailable, "Access denied"));
  EXPECT_THAT(pool->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(pool->GetStats().connect_failures, 2);
  EXPECT_EQ(pool->GetStats().open, 0);
}

TEST(ConnectionPoolNoServerTest, NothingListeningIsUnavailableQuickly) {
  DbConfig config;
  config.port = 1;  // privileged and unused: connection refused
  config.user = "nobody";
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(config);
  const absl::Time start = absl::Now();
  EXPECT_THAT(pool->Acquire(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(pool->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(ConnectionPoolTest, ManyThreadsShareFewConnections) {
  std::unique_ptr<ConnectionPool> pool = NewPool(4);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&pool, &failures, t] {
      for (int i = 0; i < 100; ++i) {
        absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        try {
          sql::PreparedStatement& ps = (*lease)->Prepare("SELECT ?");
          ps.setInt(1, t * 1000 + i);
          std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
          if (!rs->next() || rs->getInt(1) != t * 1000 + i) {
            ++failures;
          }
        } catch (const sql::SQLException&) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  const ConnectionPool::Stats stats = pool->GetStats();
  EXPECT_LE(stats.open, 4);
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_EQ(stats.discarded, 0);
  EXPECT_EQ(stats.connect_failures, 0);
}

// ---------------------------------------------------------------------------------------------
// Host lists and failover

std::vector<DbEndpoint> Parsed(std::string_view hosts, int default_port) {
  absl::StatusOr<std::vector<DbEndpoint>> parsed = ParseDbHosts(hosts, default_port);
  EXPECT_THAT(parsed, IsOk()) << hosts;
  return parsed.ok() ? *parsed : std::vector<DbEndpoint>{};
}

TEST(ParseDbHostsTest, ListsWithAndWithoutPorts) {
  EXPECT_THAT(Parsed("127.0.0.1", 3307),
              ElementsAre(DbEndpoint{.host = "127.0.0.1", .port = 3307}));
  EXPECT_THAT(
      Parsed("n1:3311, n2:3312,n3", 3306),
      ElementsAre(DbEndpoint{.host = "n1", .port = 3311}, DbEndpoint{.host = "n2", .port = 3312},
                  DbEndpoint{.host = "n3", .port = 3306}));
  EXPECT_THAT(Parsed("[::1]:3311,[fe80::1],::1", 3306),
              ElementsAre(DbEndpoint{.host = "::1", .port = 3311},
                          DbEndpoint{.host = "fe80::1", .port = 3306},
                          DbEndpoint{.host = "::1", .port = 3306}));
  for (const char* bad : {"", "n1,,n2", "n1:", ":3306", "n1:abc", "n1:0", "n1:70000", "[::1",
                          "[]:3306", "[::1]x", "n1,"}) {
    EXPECT_THAT(ParseDbHosts(bad, 3306), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

// A TCP port on 127.0.0.1 nothing listens on (bound then released).
int DeadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(ConnectionPoolTest, HostListSkipsADeadHostAndStaysOnTheLiveOne) {
  DbConfig config = schema_.app;
  const int live = config.port;
  config.host = absl::StrCat("127.0.0.1:", DeadPort(), ",", config.host, ":", live);
  config.pool_size = 2;
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(config);
  ASSERT_EQ(pool->endpoints().size(), 2u);
  EXPECT_EQ(QueryInt(*pool, "SELECT @@port"), live);
  ConnectionPool::Stats stats = pool->GetStats();
  EXPECT_EQ(stats.current_host, 1);
  EXPECT_EQ(stats.failovers, 1);
  EXPECT_EQ(stats.connect_failures, 0) << "one host failing is not a failed Acquire";
  // Later connections go straight to the live host: no new failover.
  {
    absl::StatusOr<ConnectionPool::Lease> a = pool->Acquire();
    absl::StatusOr<ConnectionPool::Lease> b = pool->Acquire();
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
  }
  EXPECT_EQ(pool->GetStats().failovers, 1);
  EXPECT_THAT(pool->Ping(), IsOk());
}

TEST(ConnectionPoolNoServerTest, AllHostsDeadIsUnavailableNamingEach) {
  DbConfig config;
  const int a = DeadPort();
  const int b = DeadPort();
  config.host = absl::StrCat("127.0.0.1:", a, ",127.0.0.1:", b);
  config.user = "nobody";
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(config);
  absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
  EXPECT_THAT(lease, StatusIs(absl::StatusCode::kUnavailable, absl::StrCat(":", a, " ")));
  EXPECT_THAT(lease, StatusIs(absl::StatusCode::kUnavailable, absl::StrCat(":", b, " ")));
  EXPECT_EQ(pool->GetStats().current_host, 0);
}

// Two servers with the same account; the first one dies: the next connections go to the
// second, and stay there when the first comes back (no flapping between writers).
TEST(ConnectionPoolFailoverTest, CurrentHostDiesNextAcquireUsesTheOther) {
  absl::StatusOr<std::unique_ptr<cpts::testing::MariaDbServer>> first =
      cpts::testing::MariaDbServer::Start();
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::unique_ptr<cpts::testing::MariaDbServer>> second =
      cpts::testing::MariaDbServer::Start();
  ASSERT_THAT(second, IsOk());
  for (cpts::testing::MariaDbServer* server : {first->get(), second->get()}) {
    ASSERT_THAT(server->Exec("CREATE USER 'failover'@'127.0.0.1' IDENTIFIED BY 'fo-pw-1'"), IsOk());
  }
  DbConfig config;
  config.host = absl::StrCat("127.0.0.1:", (*first)->port(), ",127.0.0.1:", (*second)->port());
  config.user = "failover";
  config.password = "fo-pw-1";
  config.pool_size = 3;
  std::unique_ptr<ConnectionPool> pool = ConnectionPool::Create(config);
  EXPECT_EQ(QueryInt(*pool, "SELECT @@port"), (*first)->port()) << "the first host is preferred";
  EXPECT_EQ(pool->GetStats().failovers, 0);

  ASSERT_THAT((*first)->Stop(), IsOk());
  // The idle connection dies with its server: its first use fails (the caller retries).
  {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    EXPECT_THAT((*lease)->Execute("SELECT 1"), StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_EQ(QueryInt(*pool, "SELECT @@port"), (*second)->port());
  EXPECT_EQ(pool->GetStats().failovers, 1);
  EXPECT_EQ(pool->GetStats().current_host, 1);

  // The first host is back: the pool stays on the second one, also for new connections.
  ASSERT_THAT((*first)->StartAgain(), IsOk());
  {
    std::vector<ConnectionPool::Lease> leases;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
      ASSERT_THAT(lease, IsOk());
      leases.push_back(*std::move(lease));
    }
    for (ConnectionPool::Lease& lease : leases) {
      std::unique_ptr<sql::ResultSet> rs(lease->Prepare("SELECT @@port").executeQuery());
      ASSERT_TRUE(rs->next());
      EXPECT_EQ(rs->getInt(1), (*second)->port());
    }
  }
  EXPECT_EQ(pool->GetStats().failovers, 1);

  // The second dies too: back to the first, which is the next in (circular) order.
  ASSERT_THAT((*second)->Stop(), IsOk());
  int port = -1;
  for (int attempt = 0; attempt < 4 && port != (*first)->port(); ++attempt) {
    absl::StatusOr<ConnectionPool::Lease> lease = pool->Acquire();
    if (!lease.ok()) continue;
    try {
      std::unique_ptr<sql::ResultSet> rs((*lease)->Prepare("SELECT @@port").executeQuery());
      port = rs->next() ? rs->getInt(1) : -1;
    } catch (const sql::SQLException& e) {
      (void)MapSqlException(e, "probe");  // marks the connection broken
    }
  }
  EXPECT_EQ(port, (*first)->port());
  EXPECT_EQ(pool->GetStats().failovers, 2);
}

}  // namespace
}  // namespace cpts::platform::db
