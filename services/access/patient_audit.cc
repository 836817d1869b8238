#include "services/access/patient_audit.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "services/platform/db/audit_log.h"
#include "services/platform/db/transaction.h"

namespace cpts::access {
namespace {

platform::db::AuditRecord RecordOf(const platform::auth::Principal& caller,
                                   const PatientAccess& access, absl::Time now) {
  platform::db::AuditRecord r;
  r.tenant_id = caller.tenant_id;
  r.actor_subject = caller.subject;
  r.actor_member_id = caller.member_id;
  r.actor_roles = caller.roles;
  r.action = std::string(access.action);
  r.resource_type = std::string(access.resource_type);
  r.resource_id = std::string(access.resource_id);
  r.reason = std::string(access.reason);
  r.occurred_at = now;
  return r;
}

}  // namespace

absl::Status AuditPatientAccess(platform::db::Connection& conn,
                                const platform::auth::Principal& caller,
                                const PatientAccess& access, absl::Time now) {
  return platform::db::AppendAudit(conn, RecordOf(caller, access, now));
}

absl::Status AuditPatientDenied(platform::db::ConnectionPool& pool,
                                const platform::auth::Principal& caller,
                                const PatientAccess& access, absl::Time now,
                                const absl::Status& denial) {
  platform::db::AuditRecord r = RecordOf(caller, access, now);
  r.outcome = "denied";
  // The message names a state or a rule, never patient data; the column is bounded, and the
  // cut must not split a UTF-8 sequence.
  absl::string_view message = denial.message();
  size_t cut = std::min<size_t>(message.size(), 200);
  while (cut > 0 && cut < message.size() &&
         (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  r.reason = std::string(message.substr(0, cut));
  absl::Status written = platform::db::RunInTransaction(
      pool, [&](platform::db::Connection& conn) { return platform::db::AppendAudit(conn, r); });
  if (!written.ok()) return written;
  return denial;
}

}  // namespace cpts::access
