#pragma once

#include <cppconn/exception.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cpts::platform::db {

// The one conversion from a Connector/C++ exception to a Status; every connector call in the
// code base sits inside `try { ... } catch (const sql::SQLException& e) { return
// MapSqlException(e, "what"); }`. Codes are chosen by what the caller should do next:
//   1062 (duplicate key)                               -> AlreadyExists
//   1213 (deadlock, Galera certification failure),
//   1205 (lock wait timeout)                           -> Aborted, retryable: the whole
//                                                         transaction may be run again
//   2002/2003/2005/2006/2013/2055 (client: cannot connect, server gone, lost connection),
//   1040 (too many connections), 1047 (WSREP not ready), 1053 (shutdown in progress),
//   1158-1161 (network errors), 1927 (connection killed),
//   4031 (disconnected for inactivity)                 -> Unavailable: the connection is
//                                                         discarded and the call may be retried
//   1644 / SQLSTATE 45000 (SIGNAL, e.g. from a trigger) -> FailedPrecondition carrying the
//                                                         trigger's message
//   anything else                                      -> Internal
// `what` names the operation and prefixes the message.
absl::Status MapSqlException(const sql::SQLException& e, std::string_view what);

// MapSqlException, with the message of a duplicate of the unique key named `key` replaced by
// `message` (the server's message quotes the duplicate values; ours says which rule was
// broken). A duplicate of another key keeps MapSqlException's status.
absl::Status MapDuplicate(
    const sql::SQLException& e, std::string_view what,
    std::initializer_list<std::pair<absl::string_view, absl::string_view>> messages_by_key);

// The NotFound status of a store for a missing row: "<what> <id> not found".
absl::Status NotFound(absl::string_view what, absl::string_view id);

// True for the Aborted statuses MapSqlException produces for deadlocks and lock wait timeouts
// (recognised by a payload, so a domain-level Aborted such as an etag mismatch is not retried).
bool IsRetryableTransactionError(const absl::Status& s);

// True when the error code means the connection itself is no longer usable.
bool IsConnectionLevelError(int mysql_error_code);

namespace internal {
// Number of connection-level errors MapSqlException has seen on the calling thread. A pool
// lease compares it at release time with its value at acquisition: if it moved, the
// connection is discarded even if the caller forgot to call MarkBroken().
uint64_t ConnectionErrorsOnThisThread();
}  // namespace internal

}  // namespace cpts::platform::db
