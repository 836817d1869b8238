#pragma once

// Request idempotency keys, shared by the stores that keep the table
//
//   idempotency_keys (tenant_id, scope, request_id, fingerprint, resource_id,
//                     created_at DATETIME(6), PRIMARY KEY (tenant_id, scope, request_id))
//
// in their own schema. A create looks the key up inside its transaction (the row is locked
// when it exists) and replays the resource it names, or creates the resource and remembers
// the key in the same transaction. Two concurrent creates with the same key: the second
// insert of the key fails once the first commits, its transaction is rolled back with an
// IsIdempotencyKeyRace status, and RunInTransactionRetryingKeyRace runs it again (it then
// replays).

#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::platform::db {

// The key of one request; the services' IdempotencyKey structs convert with
// IdempotencyKeyOf.
struct IdempotencyKeyRef {
  absl::string_view scope;        // the operation, e.g. "CreateMember"
  absl::string_view request_id;   // chosen by the client
  absl::string_view fingerprint;  // digest of the normalised request
};

// nullopt for a null `key` (the request has no request_id).
template <typename Key>
std::optional<IdempotencyKeyRef> IdempotencyKeyOf(const Key* key) {
  if (key == nullptr) return std::nullopt;
  return IdempotencyKeyRef{key->scope, key->request_id, key->fingerprint};
}

// Inside the creating transaction, locking the key row if it exists: nullopt when the key is
// new (or absent), the id of the resource to replay when it was seen with the same
// fingerprint, InvalidArgument when it was seen with another.
absl::StatusOr<std::optional<std::string>> LookUpIdempotencyKey(
    Connection& conn, absl::string_view tenant_id, const std::optional<IdempotencyKeyRef>& key);

// Records `key` (nothing when absent) as naming `resource_id`, created at `created` (the
// server's UTC_TIMESTAMP(6) when infinite). A duplicate (a concurrent request with the same
// key committed first) is an IsIdempotencyKeyRace status.
absl::Status RememberIdempotencyKey(Connection& conn, absl::string_view tenant_id,
                                    const std::optional<IdempotencyKeyRef>& key,
                                    absl::string_view resource_id,
                                    absl::Time created = absl::InfinitePast());

// The Aborted status of a lost race for a key (also for keys the store keeps elsewhere, e.g.
// event keys), and its test.
absl::Status IdempotencyKeyRaceError(absl::string_view message);
bool IsIdempotencyKeyRace(const absl::Status& status);

// RunInTransaction; when `fn` loses a key race, once more (it then replays). A second lost
// race is a plain Aborted.
absl::Status RunInTransactionRetryingKeyRace(ConnectionPool& pool,
                                             absl::FunctionRef<absl::Status(Connection&)> fn);

}  // namespace cpts::platform::db
