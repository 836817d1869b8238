#pragma once

// The audit trail of patient data (health data, RGPD art. 9): every read and write of a
// patient field, allowed or denied, leaves one row in the platform's append-only audit_log.
// Ids only, never the data itself.
//
// Allowed access: AuditPatientAccess on the connection of the transaction that reads or
// writes, so the access and its record commit together, and a failed audit write fails the
// call (nothing is returned that was not recorded). Denied access: AuditPatientDenied in a
// transaction of its own, since the caller's transaction rolls back with the error.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/platform/auth/principal.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::access {

// Actions, "access.<resource>.<verb>".
namespace audit_actions {
inline constexpr char kMtRequestCreate[] = "access.mt_request.create";
inline constexpr char kMtRequestRead[] = "access.mt_request.read";
inline constexpr char kMtRequestUpdate[] = "access.mt_request.update";
inline constexpr char kMtRequestPurge[] = "access.mt_request.purge";
inline constexpr char kBookingCreate[] = "access.booking.create";
inline constexpr char kBookingRead[] = "access.booking.read";
inline constexpr char kBookingUpdate[] = "access.booking.update";
inline constexpr char kBookingPurge[] = "access.booking.purge";
}  // namespace audit_actions

struct PatientAccess {
  absl::string_view action;         // one of audit_actions
  absl::string_view resource_type;  // "mt_request" or "booking"
  absl::string_view resource_id;
  absl::string_view reason = {};  // why (a workflow step, a denial's cause); no patient data
};

// Appends the record of an allowed access on `conn` (inside the caller's transaction).
// `caller.tenant_id` is the record's tenant.
absl::Status AuditPatientAccess(platform::db::Connection& conn,
                                const platform::auth::Principal& caller,
                                const PatientAccess& access, absl::Time now);

// Records a denied attempt (outcome "denied" and the status message as reason) in its own
// transaction, then returns `denial` unchanged, or Unavailable/Internal if the record could
// not be written. Use it as `return AuditPatientDenied(pool, caller, access, now, status);`.
absl::Status AuditPatientDenied(platform::db::ConnectionPool& pool,
                                const platform::auth::Principal& caller,
                                const PatientAccess& access, absl::Time now,
                                const absl::Status& denial);

}  // namespace cpts::access
