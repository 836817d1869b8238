#include "services/platform/db/sql_values.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cpts::platform::db {

std::string FormatSqlInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseSqlInstant(absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t, &error)) {
    return std::nullopt;
  }
  return t;
}

std::string FormatSqlDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

std::optional<absl::CivilDay> ParseSqlDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return std::nullopt;
  return day;
}

// --- Binder ------------------------------------------------------------------------------

Binder& Binder::Str(absl::string_view value) {
  ps_.setString(Next(), SqlText(value));
  return *this;
}

Binder& Binder::StrOrNull(absl::string_view value) {
  if (value.empty()) {
    ps_.setNull(Next(), sql::DataType::VARCHAR);
    return *this;
  }
  return Str(value);
}

Binder& Binder::Int(int value) {
  ps_.setInt(Next(), value);
  return *this;
}

Binder& Binder::Int64(int64_t value) {
  ps_.setInt64(Next(), value);
  return *this;
}

Binder& Binder::Bool(bool value) {
  ps_.setBoolean(Next(), value);
  return *this;
}

Binder& Binder::Instant(absl::Time value) {
  if (!IsFinite(value)) {
    ps_.setNull(Next(), sql::DataType::TIMESTAMP);
    return *this;
  }
  ps_.setDateTime(Next(), SqlText(FormatSqlInstant(value)));
  return *this;
}

Binder& Binder::Instant(const std::optional<absl::Time>& value) {
  return Instant(value.value_or(absl::InfinitePast()));
}

Binder& Binder::Day(absl::CivilDay value) { return Str(FormatSqlDay(value)); }

Binder& Binder::Day(const std::optional<absl::CivilDay>& value) {
  if (!value.has_value()) {
    ps_.setNull(Next(), sql::DataType::DATE);
    return *this;
  }
  return Day(*value);
}

// --- RowReader ---------------------------------------------------------------------------

std::string RowReader::Str() {
  const unsigned column = Next();
  if (rs_.isNull(column)) return "";
  return ColumnText(column);
}

int RowReader::Int() { return rs_.getInt(Next()); }

int64_t RowReader::Int64() { return rs_.getInt64(Next()); }

bool RowReader::Bool() { return rs_.getBoolean(Next()); }

absl::Time RowReader::Instant() {
  const unsigned column = Next();
  const std::string value = ColumnText(column);
  const std::optional<absl::Time> t = rs_.isNull(column) ? std::nullopt : ParseSqlInstant(value);
  if (!t.has_value()) {
    Fail(column, rs_.isNull(column) ? "NULL" : value, "a DATETIME");
    return absl::InfinitePast();
  }
  return *t;
}

absl::Time RowReader::NullableInstant() { return OptionalInstant().value_or(absl::InfinitePast()); }

std::optional<absl::Time> RowReader::OptionalInstant() {
  if (rs_.isNull(column_ + 1)) {
    Next();
    return std::nullopt;
  }
  return Instant();
}

absl::CivilDay RowReader::Day() {
  const unsigned column = Next();
  const std::string value = ColumnText(column);
  const std::optional<absl::CivilDay> day = rs_.isNull(column) ? std::nullopt : ParseSqlDay(value);
  if (!day.has_value()) {
    Fail(column, rs_.isNull(column) ? "NULL" : value, "a DATE");
    return absl::CivilDay();
  }
  return *day;
}

std::optional<absl::CivilDay> RowReader::OptionalDay() {
  if (rs_.isNull(column_ + 1)) {
    Next();
    return std::nullopt;
  }
  return Day();
}

std::string RowReader::ColumnText(unsigned column) const {
  return rs_.getString(column).asStdString();
}

void RowReader::Fail(unsigned column, std::optional<absl::string_view> value,
                     absl::string_view what) {
  if (!status_.ok()) return;
  if (value.has_value()) {
    status_ = absl::InternalError(
        absl::StrCat("unreadable row: column ", column, " value '", *value, "' is not ", what));
  } else {
    status_ =
        absl::InternalError(absl::StrCat("unreadable row: column ", column, " is not ", what));
  }
}

}  // namespace cpts::platform::db
