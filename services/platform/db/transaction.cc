#include "services/platform/db/transaction.h"

#include <cppconn/exception.h>

#include <algorithm>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::platform::db {
namespace {

// One attempt: begin, fn, commit or rollback. Leaves the connection in autocommit mode, or
// marks it broken when that cannot be guaranteed.
absl::Status RunOnce(Connection& conn, absl::FunctionRef<absl::Status(Connection&)> fn) {
  try {
    conn.raw().setAutoCommit(false);
  } catch (const sql::SQLException& e) {
    absl::Status status = MapSqlException(e, "begin transaction");
    conn.MarkBroken();
    return status;
  }
  absl::Status status;
  try {
    status = fn(conn);
  } catch (const sql::SQLException& e) {
    status = MapSqlException(e, "transaction body");
  }
  // An explicit COMMIT statement reports its errors (a Galera certification failure surfaces
  // there as 1213), which the connector's commit() does not promise.
  if (status.ok()) {
    status = conn.Execute("COMMIT");
  }
  if (!status.ok() && !conn.broken()) {
    const absl::Status rolled_back = conn.Execute("ROLLBACK");
    if (!rolled_back.ok()) {
      conn.MarkBroken();  // locks might still be held: never reuse it
    }
  }
  if (!conn.broken()) {
    try {
      conn.raw().setAutoCommit(true);
    } catch (const sql::SQLException& e) {
      (void)MapSqlException(e, "end transaction");
      conn.MarkBroken();
    }
  }
  if (absl::IsUnavailable(status)) {
    conn.MarkBroken();
  }
  return status;
}

}  // namespace

absl::Status RunInTransaction(ConnectionPool& pool, absl::FunctionRef<absl::Status(Connection&)> fn,
                              TxOptions options) {
  const int max_attempts = std::max(1, options.max_attempts);
  absl::Duration backoff = options.initial_backoff;
  absl::BitGen random;
  for (int attempt = 1;; ++attempt) {
    absl::Status status;
    {
      CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool.Acquire(options.acquire_deadline));
      status = RunOnce(*lease, fn);
    }  // the connection goes back before sleeping, so others can use it meanwhile
    if (status.ok() || !IsRetryableTransactionError(status) || attempt >= max_attempts) {
      return status;
    }
    // Full jitter around the exponential step keeps two deadlocked peers from colliding again.
    absl::SleepFor(backoff * absl::Uniform(random, 0.5, 1.5));
    backoff *= 2;
  }
}

}  // namespace cpts::platform::db
