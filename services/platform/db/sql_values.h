#pragma once

// Binding prepared-statement parameters and reading result rows, shared by the MySQL stores.
// Instants are DATETIME(6) in UTC ("2026-11-29 12:21:56.123456"); days are DATE
// ("2026-11-29"). Only the stores (mysql_*.cc) and this library use it: it exposes
// Connector/C++ types.

#include <cppconn/datatype.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/sqlstring.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cpts::platform::db {

// A connector string of `s` (which may hold NUL bytes).
inline sql::SQLString SqlText(absl::string_view s) { return {s.data(), s.size()}; }

// False for absl::InfinitePast() and absl::InfiniteFuture(), the "never set" instants that
// Binder::Instant binds as NULL.
inline bool IsFinite(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture();
}

// "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, the text of a DATETIME(6) (microseconds kept, finer
// digits truncated). `t` must be finite.
std::string FormatSqlInstant(absl::Time t);
// Parses a DATETIME in UTC with any number of fractional digits (none included); nullopt
// when `text` is not one.
std::optional<absl::Time> ParseSqlInstant(absl::string_view text);

// "YYYY-MM-DD", the text of a DATE.
std::string FormatSqlDay(absl::CivilDay day);
// nullopt when `text` is not a DATE.
std::optional<absl::CivilDay> ParseSqlDay(absl::string_view text);

// Binds parameters 1, 2, 3... of `ps` in the order of the calls, as they appear in the SQL
// text.
class Binder {
 public:
  explicit Binder(sql::PreparedStatement& ps) : ps_(ps) {}

  Binder& Str(absl::string_view value);
  // NULL when empty (e.g. an optional identifier, so that a unique key ignores the rows
  // without one).
  Binder& StrOrNull(absl::string_view value);
  Binder& Int(int value);
  Binder& Int64(int64_t value);
  Binder& Bool(bool value);
  // An enum stored as its integer value (RowReader::Enum<E>(max) reads it back).
  template <typename E>
  Binder& Enum(E value) {
    return Int(static_cast<int>(value));
  }
  // An infinite time (never set) is bound as NULL: NOT NULL columns then refuse it.
  Binder& Instant(absl::Time value);
  // nullopt is bound as NULL.
  Binder& Instant(const std::optional<absl::Time>& value);
  Binder& Day(absl::CivilDay value);
  // nullopt is bound as NULL.
  Binder& Day(const std::optional<absl::CivilDay>& value);

 private:
  unsigned Next() { return ++index_; }

  sql::PreparedStatement& ps_;
  unsigned index_ = 0;
};

// Reads columns 1, 2, 3... of the current row of `rs` in the order of the calls. A value that
// does not parse records an Internal status (the first one; see status()) and yields a
// default: check status() once the row is read.
class RowReader {
 public:
  explicit RowReader(const sql::ResultSet& rs) : rs_(rs) {}

  // NULL reads as "".
  std::string Str();
  // NULL reads as 0 / false.
  int Int();
  int64_t Int64();
  bool Bool();

  // A NOT NULL DATETIME: NULL is an error.
  absl::Time Instant();
  // A nullable DATETIME: NULL reads as absl::InfinitePast() (what Binder::Instant binds as
  // NULL).
  absl::Time NullableInstant();
  std::optional<absl::Time> OptionalInstant();
  // A NOT NULL DATE: NULL is an error.
  absl::CivilDay Day();
  std::optional<absl::CivilDay> OptionalDay();

  // An enum stored by name: the element of `all` whose `name(e)` equals the column; another
  // value is an error and reads as all.front().
  template <typename E, size_t N, typename NameFn>
  E Enum(const std::array<E, N>& all, NameFn name) {
    const unsigned column = Next();
    const std::string value = ColumnText(column);
    for (const E e : all) {
      if (name(e) == value) return e;
    }
    Fail(column, value, "a known enumerator");
    return all.front();
  }
  // An enum stored as its integer value (Binder::Enum), from 0 to `max`; another value is an
  // error.
  template <typename E>
  E Enum(int max) {
    const unsigned column = Next();
    const int value = rs_.getInt(column);
    if (rs_.isNull(column) || value < 0 || value > max) {
      Fail(column, ColumnText(column), absl::StrCat("an enumerator from 0 to ", max));
      return static_cast<E>(0);
    }
    return static_cast<E>(value);
  }
  // A serialized protocol buffer message of type M (anything with ParseFromString). The
  // column's bytes are not quoted in the error.
  template <typename M>
  M Message() {
    const unsigned column = Next();
    M message;
    if (!message.ParseFromString(ColumnText(column))) Fail(column, std::nullopt, "a message");
    return message;
  }

  const absl::Status& status() const { return status_; }

 private:
  unsigned Next() { return ++column_; }
  std::string ColumnText(unsigned column) const;
  // `value` nullopt: not quoted (binary).
  void Fail(unsigned column, std::optional<absl::string_view> value, absl::string_view what);

  const sql::ResultSet& rs_;
  unsigned column_ = 0;
  absl::Status status_;
};

// Runs the query of `ps` and converts every row with `read` (a callable taking the
// sql::ResultSet on the row and returning absl::StatusOr<T>); stops at the first error. The
// caller catches sql::SQLException.
template <typename T, typename ReadFn>
absl::StatusOr<std::vector<T>> QueryRows(sql::PreparedStatement& ps, ReadFn read) {
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  std::vector<T> out;
  out.reserve(rs->rowsCount());
  while (rs->next()) {
    absl::StatusOr<T> row = read(*rs);
    if (!row.ok()) return row.status();
    out.push_back(*std::move(row));
  }
  return out;
}

}  // namespace cpts::platform::db
