#include "services/platform/db/audit_log.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/platform/core/json.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::platform::db {
namespace {

constexpr std::string_view kInsertAudit = R"sql(
INSERT INTO audit_log (tenant_id, occurred_at, actor_subject, actor_member_id, actor_roles,
                       action, resource_type, resource_id, outcome, reason, details)
VALUES (?, COALESCE(?, UTC_TIMESTAMP(6)), ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr std::string_view kListAudit = R"sql(
SELECT tenant_id, occurred_at, actor_subject, actor_member_id, actor_roles, action,
       resource_type, resource_id, outcome, reason, details
FROM audit_log
WHERE tenant_id = ? AND resource_type = ? AND resource_id = ?
ORDER BY id DESC
LIMIT ?)sql";

constexpr int kMaxListLimit = 1000;
constexpr int kErConstraintFailed = 4025;  // CHECK (JSON_VALID(details)) of the JSON type

// VARCHAR(n) counts characters: count UTF-8 lead bytes, not bytes.
size_t Utf8Length(absl::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

absl::Status CheckField(absl::string_view field, absl::string_view value, size_t max_chars,
                        bool required) {
  if (required && value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("audit record: ", field, " is required"));
  }
  if (Utf8Length(value) > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit record: ", field, " is longer than ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

absl::Status Validate(const AuditRecord& r, const std::string& roles) {
  for (const std::string& role : r.actor_roles) {
    if (absl::StrContains(role, ',')) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit record: role '", role, "' contains a comma"));
    }
  }
  for (const absl::Status& s : {
           CheckField("tenant_id", r.tenant_id, 64, true),
           CheckField("actor_subject", r.actor_subject, 190, false),
           CheckField("actor_member_id", r.actor_member_id, 64, false),
           CheckField("actor_roles", roles, 255, false),
           CheckField("action", r.action, 64, true),
           CheckField("resource_type", r.resource_type, 64, true),
           CheckField("resource_id", r.resource_id, 64, false),
           CheckField("outcome", r.outcome, 32, true),
           CheckField("reason", r.reason, 500, false),
       }) {
    if (!s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendAudit(Connection& conn, const AuditRecord& record) {
  const std::string roles = absl::StrJoin(record.actor_roles, ",");
  if (absl::Status s = Validate(record, roles); !s.ok()) {
    return s;
  }
  try {
    sql::PreparedStatement& insert = conn.Prepare(kInsertAudit);
    insert.setString(1, record.tenant_id);
    if (record.occurred_at == absl::UnixEpoch()) {
      insert.setNull(2, sql::DataType::TIMESTAMP);
    } else {
      insert.setDateTime(
          2, absl::FormatTime("%Y-%m-%d %H:%M:%E6S", record.occurred_at, absl::UTCTimeZone()));
    }
    insert.setString(3, record.actor_subject);
    insert.setString(4, record.actor_member_id);
    insert.setString(5, roles);
    insert.setString(6, record.action);
    insert.setString(7, record.resource_type);
    insert.setString(8, record.resource_id);
    insert.setString(9, record.outcome);
    insert.setString(10, record.reason);
    if (record.details.empty()) {
      insert.setNull(11, sql::DataType::LONGVARCHAR);
    } else {
      insert.setString(11, record.details);
    }
    insert.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    absl::Status status = MapSqlException(e, "append to audit_log");
    if (e.getErrorCode() == kErConstraintFailed) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit record: details is not a JSON document (", status.message(), ")"));
    }
    return status;
  }
}

absl::StatusOr<std::vector<AuditRecord>> ListAudit(Connection& conn, std::string_view tenant_id,
                                                   std::string_view resource_type,
                                                   std::string_view resource_id, int limit) {
  limit = std::clamp(limit, 1, kMaxListLimit);
  try {
    sql::PreparedStatement& select = conn.Prepare(kListAudit);
    select.setString(1, std::string(tenant_id));
    select.setString(2, std::string(resource_type));
    select.setString(3, std::string(resource_id));
    select.setInt(4, limit);
    std::unique_ptr<sql::ResultSet> rs(select.executeQuery());
    std::vector<AuditRecord> records;
    records.reserve(static_cast<size_t>(std::min<size_t>(rs->rowsCount(), limit)));
    while (rs->next()) {
      AuditRecord r;
      r.tenant_id = rs->getString(1);
      const std::string occurred_at = rs->getString(2);
      std::string error;
      if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", occurred_at, absl::UTCTimeZone(), &r.occurred_at,
                           &error)) {
        return absl::InternalError(
            absl::StrCat("audit_log.occurred_at '", occurred_at, "' unreadable: ", error));
      }
      r.actor_subject = rs->getString(3);
      r.actor_member_id = rs->getString(4);
      r.actor_roles = absl::StrSplit(std::string(rs->getString(5)), ',', absl::SkipEmpty());
      r.action = rs->getString(6);
      r.resource_type = rs->getString(7);
      r.resource_id = rs->getString(8);
      r.outcome = rs->getString(9);
      r.reason = rs->getString(10);
      if (!rs->isNull(11)) {
        r.details = rs->getString(11);
      }
      records.push_back(std::move(r));
    }
    return records;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list audit_log");
  }
}

std::string AuditSummaryJson(std::string_view summary) {
  std::string out = "{\"summary\":";
  AppendJsonString(out, summary);
  out += "}";
  return out;
}

}  // namespace cpts::platform::db
