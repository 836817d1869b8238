#include "services/platform/db/sql_errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cpts::platform::db {
namespace {

// Marks the Aborted statuses that come from the database's own concurrency control.
constexpr absl::string_view kRetryablePayloadUrl =
    "type.cpts/cpts.platform.db.RetryableTransaction";

thread_local uint64_t connection_errors_on_this_thread = 0;

}  // namespace

bool IsConnectionLevelError(int code) {
  switch (code) {
    case 1040:  // ER_CON_COUNT_ERROR: too many connections
    case 1047:  // ER_UNKNOWN_COM_ERROR: Galera "WSREP has not yet prepared node"
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1158:  // ER_NET_READ_ERROR
    case 1159:  // ER_NET_READ_INTERRUPTED
    case 1160:  // ER_NET_ERROR_ON_WRITE
    case 1161:  // ER_NET_WRITE_INTERRUPTED
    case 1927:  // ER_CONNECTION_KILLED
    case 2002:  // CR_CONNECTION_ERROR (socket)
    case 2003:  // CR_CONN_HOST_ERROR (TCP connect refused or timed out)
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
      return true;
    default:
      return false;
  }
}

absl::Status MapSqlException(const sql::SQLException& e, std::string_view what_std) {
  // Debian's Abseil is built with its own absl::string_view, distinct from std::string_view.
  const absl::string_view what(what_std.data(), what_std.size());
  const int code = e.getErrorCode();
  const std::string& state = e.getSQLState();
  // A SIGNAL from a trigger is a business rule speaking: pass its message through as is.
  if (code == 1644 || state == "45000") {
    return absl::FailedPreconditionError(absl::StrCat(what, ": ", e.what()));
  }
  const std::string message =
      absl::StrCat(what, ": ", e.what(), " (MySQL error ", code, ", SQLSTATE ", state, ")");
  if (code == 1062) {
    return absl::AlreadyExistsError(message);
  }
  if (code == 1213 || code == 1205) {
    absl::Status status = absl::AbortedError(message);
    status.SetPayload(kRetryablePayloadUrl, absl::Cord("1"));
    return status;
  }
  if (IsConnectionLevelError(code)) {
    ++connection_errors_on_this_thread;
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

bool IsRetryableTransactionError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted && s.GetPayload(kRetryablePayloadUrl).has_value();
}

namespace internal {
uint64_t ConnectionErrorsOnThisThread() { return connection_errors_on_this_thread; }
}  // namespace internal

absl::Status MapDuplicate(
    const sql::SQLException& e, std::string_view what,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> messages_by_key) {
  absl::Status status = MapSqlException(e, what);
  if (!absl::IsAlreadyExists(status)) return status;
  const absl::string_view text(e.what());
  for (const auto& [key, message] : messages_by_key) {
    if (absl::StrContains(text, absl::StrCat("'", key, "'"))) {
      return absl::AlreadyExistsError(message);
    }
  }
  return status;
}

absl::Status NotFound(absl::string_view what, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
}

}  // namespace cpts::platform::db
