#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::platform::db {

// One row of the shared, append-only `audit_log` table (created by PlatformMigrations(); its
// triggers reject UPDATE and DELETE). Who did what to which record, when, with what outcome
// and why. Never put patient data in it: ids only, `details` is for technical context.
struct AuditRecord {
  std::string tenant_id;  // required
  std::string actor_subject;
  std::string actor_member_id;
  std::vector<std::string> actor_roles;
  std::string action;         // required, e.g. "membership.member.read"
  std::string resource_type;  // required, e.g. "member"
  std::string resource_id;
  std::string outcome = "ok";
  std::string reason;
  std::string details;  // a JSON document or empty
  // Set it from the injected Clock; left at the Unix epoch, the server's UTC time is used.
  absl::Time occurred_at;
};

// Appends one row on the given connection, i.e. inside the caller's transaction, so the change
// and its audit commit (or roll back) together. InvalidArgument when a required field is empty,
// a field is longer than its column, a role contains ',' or details is not a JSON document;
// otherwise the mapped database error.
absl::Status AppendAudit(Connection& conn, const AuditRecord& record);

// A details document holding only a free-text summary: {"summary": "..."} (read back with
// JSON_VALUE(details, '$.summary')).
std::string AuditSummaryJson(std::string_view summary);

// For tests and history views: the newest `limit` (1..1000) records of one resource of one
// tenant, newest first.
absl::StatusOr<std::vector<AuditRecord>> ListAudit(Connection& conn, std::string_view tenant_id,
                                                   std::string_view resource_type,
                                                   std::string_view resource_id, int limit);

}  // namespace cpts::platform::db
