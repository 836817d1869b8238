#include "services/platform/db/sql_values.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/idempotency.h"
#include "services/platform/db/transaction.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

enum class Color { kRed, kGreen, kBlue };
constexpr std::array<Color, 3> kAllColors = {Color::kRed, Color::kGreen, Color::kBlue};
absl::string_view ColorName(Color c) {
  switch (c) {
    case Color::kRed:
      return "RED";
    case Color::kGreen:
      return "GREEN";
    case Color::kBlue:
      return "BLUE";
  }
  return "UNKNOWN";
}

// Parses any text but "bad" (stands for a protocol buffer message).
struct FakeMessage {
  std::string text;
  bool ParseFromString(const std::string& s) {
    text = s;
    return s != "bad";
  }
};

absl::Time At(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(SqlTextTest, FormatsAndParsesInstantsAndDays) {
  const absl::Time t = At(2026, 11, 29, 12, 21, 56) + absl::Microseconds(123456);
  EXPECT_EQ(FormatSqlInstant(t), "2026-11-29 12:21:56.123456");
  // Finer than a microsecond is truncated.
  EXPECT_EQ(FormatSqlInstant(t + absl::Nanoseconds(999)), "2026-11-29 12:21:56.123456");
  EXPECT_EQ(ParseSqlInstant("2026-11-29 12:21:56.123456"), t);
  EXPECT_EQ(ParseSqlInstant("2026-11-29 12:21:56"), At(2026, 11, 29, 12, 21, 56));
  EXPECT_EQ(ParseSqlInstant("2026-11-29"), std::nullopt);
  EXPECT_EQ(ParseSqlInstant(""), std::nullopt);
  EXPECT_EQ(FormatSqlDay(absl::CivilDay(2026, 2, 3)), "2026-02-03");
  EXPECT_EQ(ParseSqlDay("2026-02-03"), absl::CivilDay(2026, 2, 3));
  EXPECT_EQ(ParseSqlDay("2026-02-30x"), std::nullopt);
  EXPECT_TRUE(IsFinite(t));
  EXPECT_FALSE(IsFinite(absl::InfinitePast()));
  EXPECT_FALSE(IsFinite(absl::InfiniteFuture()));
}

class SqlValuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "sqlv");
    ASSERT_THAT(schema, IsOk());
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    ASSERT_THAT(test_util::Exec(*migrator,
                                "CREATE TABLE v (id INT NOT NULL PRIMARY KEY, s VARCHAR(64) NULL, "
                                "sn VARCHAR(64) NULL, i INT NULL, i64 BIGINT NULL, b BOOL NULL, "
                                "e INT NULL, en VARCHAR(16) NULL, t DATETIME(6) NULL, "
                                "ot DATETIME(6) NULL, d DATE NULL, od DATE NULL, "
                                "m VARBINARY(64) NULL, bad VARCHAR(64) NULL)"),
                IsOk());
    ASSERT_THAT(test_util::Exec(*migrator,
                                "CREATE TABLE idempotency_keys ("
                                "tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL, "
                                "scope VARCHAR(64) COLLATE utf8mb4_bin NOT NULL, "
                                "request_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL, "
                                "fingerprint VARCHAR(128) COLLATE utf8mb4_bin NOT NULL, "
                                "resource_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL, "
                                "created_at DATETIME(6) NOT NULL, "
                                "PRIMARY KEY (tenant_id, scope, request_id))"),
                IsOk());
    pool_ = ConnectionPool::Create(schema->app);
  }

  // Runs `fn` on a pooled connection, mapping connector exceptions.
  absl::Status Run(absl::FunctionRef<absl::Status(Connection&)> fn) {
    absl::StatusOr<ConnectionPool::Lease> lease = pool_->Acquire(absl::Now() + absl::Seconds(10));
    if (!lease.ok()) return lease.status();
    try {
      return fn(**lease);
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "test");
    }
  }

  absl::Status Insert(int id, Binder& (*bind)(Binder&)) {
    return Run([&](Connection& conn) {
      sql::PreparedStatement& ps = conn.Prepare(
          "INSERT INTO v (id, s, sn, i, i64, b, e, en, t, ot, d, od, m, bad) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      bind(Binder(ps).Int(id));
      ps.executeUpdate();
      return absl::OkStatus();
    });
  }

  std::unique_ptr<ConnectionPool> pool_;
};

constexpr std::string_view kSelectRow =
    "SELECT s, sn, i, i64, b, e, en, t, ot, d, od, m FROM v WHERE id = ?";

TEST_F(SqlValuesTest, BindsAndReadsBackEveryType) {
  static const absl::Time kT = At(2026, 11, 29, 12, 21, 56) + absl::Microseconds(654321);
  ASSERT_THAT(Insert(1,
                     [](Binder& b) -> Binder& {
                       return b.Str(std::string("a\0b", 3))
                           .StrOrNull("x")
                           .Int(-7)
                           .Int64(int64_t{1} << 40)
                           .Bool(true)
                           .Enum(Color::kBlue)
                           .Str(ColorName(Color::kGreen))
                           .Instant(kT)
                           .Instant(std::optional<absl::Time>(kT + absl::Microseconds(1)))
                           .Day(absl::CivilDay(2026, 2, 28))
                           .Day(std::optional<absl::CivilDay>(absl::CivilDay(2027, 1, 1)))
                           .Str("message")
                           .Str("");
                     }),
              IsOk());
  EXPECT_THAT(Run([](Connection& conn) {
                sql::PreparedStatement& ps = conn.Prepare(kSelectRow);
                Binder(ps).Int(1);
                std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
                EXPECT_TRUE(rs->next());
                RowReader r(*rs);
                EXPECT_EQ(r.Str(), std::string("a\0b", 3));
                EXPECT_EQ(r.Str(), "x");
                EXPECT_EQ(r.Int(), -7);
                EXPECT_EQ(r.Int64(), int64_t{1} << 40);
                EXPECT_TRUE(r.Bool());
                EXPECT_EQ(r.Enum<Color>(2), Color::kBlue);
                EXPECT_EQ(r.Enum(kAllColors, ColorName), Color::kGreen);
                EXPECT_EQ(r.Instant(), kT);
                EXPECT_EQ(r.OptionalInstant(), kT + absl::Microseconds(1));
                EXPECT_EQ(r.Day(), absl::CivilDay(2026, 2, 28));
                EXPECT_EQ(r.OptionalDay(), absl::CivilDay(2027, 1, 1));
                EXPECT_EQ(r.Message<FakeMessage>().text, "message");
                return r.status();
              }),
              IsOk());
}

TEST_F(SqlValuesTest, BindsNullsAndInfiniteTimesAndReadsThemBack) {
  ASSERT_THAT(Insert(2,
                     [](Binder& b) -> Binder& {
                       return b.StrOrNull("")
                           .StrOrNull("")
                           .Int(0)
                           .Int64(0)
                           .Bool(false)
                           .Enum(Color::kRed)
                           .StrOrNull("")
                           .Instant(absl::InfinitePast())
                           .Instant(std::optional<absl::Time>())
                           .Day(std::optional<absl::CivilDay>())
                           .Day(std::optional<absl::CivilDay>())
                           .StrOrNull("")
                           .Instant(absl::InfiniteFuture());
                     }),
              IsOk());
  EXPECT_EQ(test_util::QueryInt(*pool_,
                                "SELECT COUNT(*) FROM v WHERE id = 2 AND s IS NULL AND t IS NULL "
                                "AND ot IS NULL AND d IS NULL AND od IS NULL AND bad IS NULL"),
            1);
  EXPECT_THAT(Run([](Connection& conn) {
                sql::PreparedStatement& ps = conn.Prepare(kSelectRow);
                Binder(ps).Int(2);
                std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
                EXPECT_TRUE(rs->next());
                RowReader r(*rs);
                EXPECT_EQ(r.Str(), "");
                EXPECT_EQ(r.Str(), "");
                EXPECT_EQ(r.Int(), 0);
                EXPECT_EQ(r.Int64(), 0);
                EXPECT_FALSE(r.Bool());
                EXPECT_EQ(r.Enum<Color>(2), Color::kRed);
                EXPECT_EQ(r.Str(), "");
                EXPECT_EQ(r.NullableInstant(), absl::InfinitePast());
                EXPECT_EQ(r.OptionalInstant(), std::nullopt);
                EXPECT_EQ(r.OptionalDay(), std::nullopt);
                EXPECT_EQ(r.OptionalDay(), std::nullopt);
                EXPECT_EQ(r.Str(), "");
                return r.status();
              }),
              IsOk());
}

// A NOT NULL reader meeting NULL, a value that does not parse: the first one is recorded as
// Internal, naming the column; later failures do not overwrite it.
TEST_F(SqlValuesTest, RecordsTheFirstUnreadableValueAsInternal) {
  ASSERT_THAT(Run([](Connection& conn) {
                sql::PreparedStatement& ps = conn.Prepare(
                    "INSERT INTO v (id, s, e, en, t, d, m) VALUES (3, 'not a time', 9, 'PINK', "
                    "NULL, NULL, 'bad')");
                ps.executeUpdate();
                return absl::OkStatus();
              }),
              IsOk());
  const auto read_status = [&](std::string_view sql, auto read) {
    absl::Status status;
    EXPECT_THAT(Run([&](Connection& conn) {
                  std::unique_ptr<sql::ResultSet> rs(conn.Prepare(sql).executeQuery());
                  EXPECT_TRUE(rs->next());
                  RowReader r(*rs);
                  read(r);
                  status = r.status();
                  return absl::OkStatus();
                }),
                IsOk());
    return status;
  };
  EXPECT_THAT(read_status("SELECT s, t FROM v WHERE id = 3",
                          [](RowReader& r) {
                            EXPECT_EQ(r.Instant(), absl::InfinitePast());
                            EXPECT_EQ(r.Instant(),
                                      absl::InfinitePast());  // NULL: not recorded again
                          }),
              StatusIs(absl::StatusCode::kInternal,
                       "column 1 value 'not a time' is not a "
                       "DATETIME"));
  EXPECT_THAT(read_status("SELECT t FROM v WHERE id = 3",
                          [](RowReader& r) { EXPECT_EQ(r.Instant(), absl::InfinitePast()); }),
              StatusIs(absl::StatusCode::kInternal, "'NULL' is not a DATETIME"));
  EXPECT_THAT(read_status("SELECT d FROM v WHERE id = 3", [](RowReader& r) { r.Day(); }),
              StatusIs(absl::StatusCode::kInternal, "'NULL' is not a DATE"));
  EXPECT_THAT(read_status("SELECT s FROM v WHERE id = 3", [](RowReader& r) { r.OptionalDay(); }),
              StatusIs(absl::StatusCode::kInternal, "is not a DATE"));
  EXPECT_THAT(read_status("SELECT e FROM v WHERE id = 3",
                          [](RowReader& r) { EXPECT_EQ(r.Enum<Color>(2), Color::kRed); }),
              StatusIs(absl::StatusCode::kInternal, "value '9' is not an enumerator from 0 to 2"));
  EXPECT_THAT(
      read_status("SELECT en FROM v WHERE id = 3",
                  [](RowReader& r) { EXPECT_EQ(r.Enum(kAllColors, ColorName), Color::kRed); }),
      StatusIs(absl::StatusCode::kInternal, "'PINK' is not a known enumerator"));
  EXPECT_THAT(
      read_status("SELECT m FROM v WHERE id = 3", [](RowReader& r) { r.Message<FakeMessage>(); }),
      StatusIs(absl::StatusCode::kInternal, "column 1 is not a message"));
}

TEST_F(SqlValuesTest, QueryRowsReadsEveryRowAndStopsAtTheFirstError) {
  ASSERT_THAT(Run([](Connection& conn) {
                conn.Prepare("INSERT INTO v (id) VALUES (10), (11), (12)").executeUpdate();
                return absl::OkStatus();
              }),
              IsOk());
  std::vector<int> ids;
  EXPECT_THAT(Run([&](Connection& conn) -> absl::Status {
                sql::PreparedStatement& ps =
                    conn.Prepare("SELECT id FROM v WHERE id BETWEEN 10 AND 12 ORDER BY id");
                absl::StatusOr<std::vector<int>> rows =
                    QueryRows<int>(ps, [](const sql::ResultSet& rs) -> absl::StatusOr<int> {
                      return RowReader(rs).Int();
                    });
                if (!rows.ok()) return rows.status();
                ids = *std::move(rows);
                return absl::OkStatus();
              }),
              IsOk());
  EXPECT_THAT(ids, ::testing::ElementsAre(10, 11, 12));
  int calls = 0;
  EXPECT_THAT(Run([&](Connection& conn) -> absl::Status {
                sql::PreparedStatement& ps =
                    conn.Prepare("SELECT id FROM v WHERE id BETWEEN 10 AND 12 ORDER BY id");
                return QueryRows<int>(ps,
                                      [&](const sql::ResultSet&) -> absl::StatusOr<int> {
                                        ++calls;
                                        return absl::InternalError("unreadable");
                                      })
                    .status();
              }),
              StatusIs(absl::StatusCode::kInternal, "unreadable"));
  EXPECT_EQ(calls, 1);
}

TEST_F(SqlValuesTest, IdempotencyKeysReplayRefuseAndRace) {
  struct Key {
    std::string scope, request_id, fingerprint;
  };
  const Key key{"Create", "r1", "f1"};
  const Key other{"Create", "r1", "f2"};
  EXPECT_EQ(IdempotencyKeyOf<Key>(nullptr), std::nullopt);
  EXPECT_THAT(
      RunInTransaction(*pool_,
                       [&](Connection& conn) -> absl::Status {
                         absl::StatusOr<std::optional<std::string>> seen =
                             LookUpIdempotencyKey(conn, "t", IdempotencyKeyOf(&key));
                         EXPECT_THAT(seen, IsOk());
                         EXPECT_EQ(*seen, std::nullopt);
                         // No key: nothing recorded.
                         EXPECT_THAT(RememberIdempotencyKey(conn, "t", std::nullopt, "x"), IsOk());
                         return RememberIdempotencyKey(conn, "t", IdempotencyKeyOf(&key), "res-1");
                       }),
      IsOk());
  EXPECT_EQ(test_util::QueryInt(*pool_,
                                "SELECT COUNT(*) FROM idempotency_keys WHERE created_at > "
                                "UTC_TIMESTAMP(6) - INTERVAL 1 HOUR"),
            1);
  EXPECT_THAT(Run([&](Connection& conn) -> absl::Status {
                absl::StatusOr<std::optional<std::string>> seen =
                    LookUpIdempotencyKey(conn, "t", IdempotencyKeyOf(&key));
                EXPECT_THAT(seen, IsOk());
                EXPECT_EQ(*seen, "res-1");
                EXPECT_THAT(LookUpIdempotencyKey(conn, "t", IdempotencyKeyOf(&other)),
                            StatusIs(absl::StatusCode::kInvalidArgument));
                // Another tenant's key space.
                seen = LookUpIdempotencyKey(conn, "u", IdempotencyKeyOf(&key));
                EXPECT_THAT(seen, IsOk());
                EXPECT_EQ(*seen, std::nullopt);
                const absl::Time created = At(2026, 1, 2, 3, 4, 5);
                EXPECT_THAT(
                    RememberIdempotencyKey(conn, "u", IdempotencyKeyOf(&key), "res-2", created),
                    IsOk());
                const absl::Status race =
                    RememberIdempotencyKey(conn, "t", IdempotencyKeyOf(&key), "res-3");
                EXPECT_TRUE(IsIdempotencyKeyRace(race)) << race;
                return absl::OkStatus();
              }),
              IsOk());
  EXPECT_EQ(test_util::QueryInt(*pool_,
                                "SELECT COUNT(*) FROM idempotency_keys WHERE tenant_id = 'u' AND "
                                "created_at = '2026-01-02 03:04:05.000000'"),
            1);
  EXPECT_FALSE(IsIdempotencyKeyRace(absl::AbortedError("etag")));

  // A lost race runs the body once more; twice is a plain Aborted.
  int calls = 0;
  EXPECT_THAT(RunInTransactionRetryingKeyRace(*pool_,
                                              [&](Connection&) {
                                                return ++calls == 1
                                                           ? IdempotencyKeyRaceError("race")
                                                           : absl::OkStatus();
                                              }),
              IsOk());
  EXPECT_EQ(calls, 2);
  calls = 0;
  const absl::Status twice = RunInTransactionRetryingKeyRace(*pool_, [&](Connection&) {
    ++calls;
    return IdempotencyKeyRaceError("race");
  });
  EXPECT_THAT(twice, StatusIs(absl::StatusCode::kAborted));
  EXPECT_FALSE(IsIdempotencyKeyRace(twice));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cpts::platform::db
