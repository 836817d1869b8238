#pragma once

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::platform::db {

struct TxOptions {
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(5);
  // Bound on waiting for a pooled connection (each attempt); past it, Unavailable.
  absl::Time acquire_deadline = absl::InfiniteFuture();
};

// Runs fn inside one transaction on one pooled connection: autocommit off, COMMIT if fn returns
// OK, else ROLLBACK, then autocommit on again. When fn or the commit fails with
// IsRetryableTransactionError (deadlock, Galera certification failure, lock wait timeout), the
// whole fn is run again after a jittered exponential backoff, up to max_attempts; fn must
// therefore have no side effects outside the transaction. A connection-level failure
// (Unavailable) discards the connection and returns Unavailable at once: after a failed COMMIT
// the outcome is unknown, so retrying is the caller's decision (use request ids). Any other
// error from fn is returned as is after the rollback. A sql::SQLException escaping fn is caught
// and mapped like any other.
absl::Status RunInTransaction(ConnectionPool& pool, absl::FunctionRef<absl::Status(Connection&)> fn,
                              TxOptions options = {});

}  // namespace cpts::platform::db
