#include "services/platform/db/idempotency.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/cord.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"

namespace cpts::platform::db {
namespace {

constexpr std::string_view kSelectKey = R"sql(
SELECT fingerprint, resource_id FROM idempotency_keys
WHERE tenant_id = ? AND scope = ? AND request_id = ? FOR UPDATE)sql";

constexpr std::string_view kInsertKey = R"sql(
INSERT INTO idempotency_keys (tenant_id, scope, request_id, fingerprint, resource_id, created_at)
VALUES (?, ?, ?, ?, ?, COALESCE(?, UTC_TIMESTAMP(6))))sql";

constexpr absl::string_view kKeyRacePayload = "type.cpts/cpts.platform.IdempotencyKeyRace";

constexpr int kMaxKeyRaceAttempts = 2;

}  // namespace

absl::StatusOr<std::optional<std::string>> LookUpIdempotencyKey(
    Connection& conn, absl::string_view tenant_id, const std::optional<IdempotencyKeyRef>& key) {
  if (!key.has_value()) return std::optional<std::string>();
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectKey);
    Binder(ps).Str(tenant_id).Str(key->scope).Str(key->request_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<std::string>();
    RowReader r(*rs);
    const std::string fingerprint = r.Str();
    std::string resource_id = r.Str();
    if (fingerprint != key->fingerprint) {
      return absl::InvalidArgumentError("request_id: already used for a different request");
    }
    return std::optional<std::string>(std::move(resource_id));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "look up idempotency key");
  }
}

absl::Status RememberIdempotencyKey(Connection& conn, absl::string_view tenant_id,
                                    const std::optional<IdempotencyKeyRef>& key,
                                    absl::string_view resource_id, absl::Time created) {
  if (!key.has_value()) return absl::OkStatus();
  try {
    sql::PreparedStatement& ps = conn.Prepare(kInsertKey);
    Binder(ps)
        .Str(tenant_id)
        .Str(key->scope)
        .Str(key->request_id)
        .Str(key->fingerprint)
        .Str(resource_id)
        .Instant(created);
    ps.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    absl::Status status = MapSqlException(e, "record idempotency key");
    if (absl::IsAlreadyExists(status)) {
      // A concurrent call with the same key committed first (we waited for its lock).
      return IdempotencyKeyRaceError("request_id: a concurrent request used the same request_id");
    }
    return status;
  }
}

absl::Status IdempotencyKeyRaceError(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kKeyRacePayload, absl::Cord("1"));
  return status;
}

bool IsIdempotencyKeyRace(const absl::Status& status) {
  return absl::IsAborted(status) && status.GetPayload(kKeyRacePayload).has_value();
}

absl::Status RunInTransactionRetryingKeyRace(ConnectionPool& pool,
                                             absl::FunctionRef<absl::Status(Connection&)> fn) {
  for (int attempt = 1;; ++attempt) {
    absl::Status status = RunInTransaction(pool, fn);
    if (status.ok() || !IsIdempotencyKeyRace(status)) return status;
    if (attempt >= kMaxKeyRaceAttempts) return absl::AbortedError(status.message());
  }
}

}  // namespace cpts::platform::db
