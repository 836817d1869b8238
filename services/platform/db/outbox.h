#pragma once

// The transactional outbox (docs/outbox.md). A service appends an event with AppendOutbox in
// the same transaction as the change it announces; an OutboxRelay delivers committed events to
// the consuming service's idempotent RPC, retrying with exponential backoff and jitter.
//
// Guarantees: an event is delivered only if its transaction committed, and at least once
// (possibly more: see OutboxRelay), so the consumer MUST dedupe on (tenant_id, topic,
// event_key). At-least-once delivery + an idempotent consumer = the effect happens once.
// Events are not ordered across a retry: a failing event does not hold back the next ones.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/platform/core/clock.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::platform::db {

// Largest payload AppendOutbox accepts; events carry ids and amounts, not documents.
inline constexpr size_t kMaxOutboxPayloadBytes = 1 << 20;

// One row of the platform's `outbox_event` table (created by PlatformMigrations()).
struct OutboxEvent {
  std::string tenant_id{};  // required, at most 64 characters
  // Required: what happened, and so which delivery function gets it, e.g.
  // "projects.attendance_entitlement". [a-z0-9._-], at most 64 characters.
  std::string topic{};
  // Required: the idempotency key the consumer dedupes on, unique per (tenant_id, topic), e.g.
  // "<meeting id>/<member id>". At most 190 characters; compared byte for byte.
  std::string event_key{};
  std::string payload{};  // bytes: a serialized proto or a JSON document; may be empty
  // Set it from the injected Clock (the relay compares it with its own Clock to decide that the
  // event is due); left at the Unix epoch, the server's UTC time is used.
  absl::Time created_at{};

  // Output only, filled for the delivery function.
  int64_t seq = 0;   // global sequence number, unique within the database
  int attempts = 0;  // recorded delivery attempts before this one
};

// Appends one pending event on the given connection, i.e. inside the caller's transaction: it
// becomes visible to the relay when, and only if, that transaction commits. Returns
// InvalidArgument when a required field is empty, a field is too long, the topic has a
// character outside [a-z0-9._-] or the payload exceeds kMaxOutboxPayloadBytes;
// AlreadyExists when (tenant_id, topic, event_key) was appended before (the caller decides:
// MariaDB undoes only the failed INSERT, so the transaction may continue, or return the error
// to roll the whole change back); otherwise the mapped database error.
absl::Status AppendOutbox(Connection& conn, const OutboxEvent& event);

// A parked event as an operator sees it (ListDeadOutbox).
struct DeadOutboxEvent {
  int64_t seq = 0;  // the event's id
  std::string topic{};
  std::string event_key{};
  int attempts = 0;          // delivery attempts made, the last one included
  std::string last_error{};  // the consumer's last answer, as the relay recorded it
  // When the relay parked it (its Clock). Events parked before this was recorded show the time
  // their last attempt was due, which is no later.
  absl::Time dead_since = absl::InfinitePast();
};

struct DeadOutboxPage {
  std::vector<DeadOutboxEvent> events{};  // oldest first (by seq)
  int64_t next_after_seq = 0;             // pass as after_seq for the next page; 0: no more
};

// Lists the dead events of `tenant_id` with seq > after_seq, oldest first, at most `limit`
// (1..1000, else InvalidArgument).
absl::StatusOr<DeadOutboxPage> ListDeadOutbox(Connection& conn, std::string_view tenant_id,
                                              int limit, int64_t after_seq = 0);

struct OutboxRequeueResult {
  std::vector<int64_t> requeued{};  // now pending again, in seq order
  std::vector<int64_t> not_dead{};  // asked for, but pending or delivered: left as they were
};

// Puts dead events of `tenant_id` back to pending with attempts = 0 and next_attempt_at = now
// (from the caller's Clock, as the relay compares it with its own), so the next relay pass
// delivers them; last_error is kept until then. Run it in the caller's transaction (with its
// audit row). Events that are not dead are left untouched and reported in not_dead.
// By ids: NotFound naming the first id that is not an event of the tenant (then nothing must
// be committed: return the error from the transaction); InvalidArgument for an empty list.
absl::StatusOr<OutboxRequeueResult> RequeueDeadOutbox(Connection& conn, std::string_view tenant_id,
                                                      const std::vector<int64_t>& seqs,
                                                      absl::Time now);
// Every dead event of `topic` (InvalidArgument for an invalid topic); none is not an error.
absl::StatusOr<OutboxRequeueResult> RequeueDeadOutboxTopic(Connection& conn,
                                                           std::string_view tenant_id,
                                                           std::string_view topic, absl::Time now);

struct OutboxRelayOptions {
  int batch_size = 50;  // events claimed (and locked) per RunOnce
  // Delay before retry n (n = 1, 2...) is min(max_backoff, base_backoff * 2^(n-1)), multiplied
  // by a uniform random factor in [0.5, 1] so that a consumer's backlog is not replayed in step.
  absl::Duration base_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(10);
  // After this many failed attempts an event is parked as dead (about 4 hours with the defaults).
  int max_attempts = 30;
  // Start(): pause between two RunOnce calls that found less than a full batch.
  absl::Duration poll_interval = absl::Seconds(1);
  // Bound on waiting for a pooled connection in RunOnce; past it, Unavailable.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Called after an event was parked as dead (and that was committed), with the consumer's last
  // error: the service logs it. Must not block.
  std::function<void(const OutboxEvent&, const absl::Status&)> on_dead{};
};

// Counters for /metrics; cumulative since the relay was created, except `pending`.
struct OutboxRelayStats {
  int64_t delivered = 0;    // events marked delivered
  int64_t retried = 0;      // failed attempts scheduled for a retry
  int64_t dead = 0;         // events parked as dead by this relay
  int64_t pending = 0;      // pending events (due or not) seen by the last successful RunOnce
  int64_t runs_failed = 0;  // RunOnce calls that returned an error (database unavailable...)
};

// Delivers the events of one topic: typically an RPC, with its own deadline, to the consumer's
// idempotent method, keyed by (tenant_id, topic, event_key). Its status decides what happens:
//  - OK, or AlreadyExists (the consumer has seen this key): delivered;
//  - InvalidArgument, FailedPrecondition, OutOfRange: the consumer refuses the event itself, a
//    retry cannot help: parked as dead at once, with the error;
//  - anything else (Unavailable, DeadlineExceeded, Aborted, Internal, Unauthenticated...):
//    retried with backoff, and parked as dead after max_attempts.
using OutboxDeliverFn = std::function<absl::Status(const OutboxEvent&)>;

// Delivers committed outbox events. Thread-safe. Any number of relays (replicas) may run over
// the same database: each RunOnce claims its batch with SELECT ... FOR UPDATE SKIP LOCKED in
// one transaction held during the deliveries, so no two relays deliver the same event at the
// same time, and a relay that dies mid-batch only releases its locks (the transaction rolls
// back). That transaction is also why delivery is at-least-once: a delivery that succeeded
// but whose "delivered" mark was not committed (crash, lost connection, failed COMMIT) is
// delivered again by the next RunOnce, so the consumer must be idempotent on event_key.
// On Galera, row locks are local to one node: point all relays at the same node, or two may
// deliver the same event (then one commit fails certification and the consumer dedupes).
// Only topics with a delivery function are claimed; other events stay pending, untouched.
class OutboxRelay final {
 public:
  // InvalidArgument for an empty handler map, a topic name AppendOutbox would refuse, an empty
  // function or nonsensical options. `pool` and `clock` must outlive the relay.
  static absl::StatusOr<std::unique_ptr<OutboxRelay>> Create(
      ConnectionPool& pool, const Clock& clock, OutboxRelayOptions options,
      absl::flat_hash_map<std::string, OutboxDeliverFn> deliver);

  ~OutboxRelay();  // Stop()
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // One pass: claims up to batch_size due events (next_attempt_at <= clock.Now()) in seq order,
  // delivers each, records the outcomes, commits. Returns how many events were attempted;
  // Unavailable when no connection was had or the connection was lost (the batch's outcomes
  // are then not recorded and the events will be delivered again), or another mapped database
  // error. Calls are serialised. After Stop() it attempts no further event.
  absl::StatusOr<int> RunOnce();

  // Runs RunOnce in a background thread: at once again after a full batch, else after
  // poll_interval. Stop() ends it promptly: the current delivery finishes, the rest of the
  // batch is left pending, the outcomes so far are committed. Start after Stop is refused
  // (FailedPrecondition), as is a second Start.
  absl::Status Start();
  void Stop();

  OutboxRelayStats GetStats() const;

 private:
  OutboxRelay(ConnectionPool& pool, const Clock& clock, OutboxRelayOptions options,
              absl::flat_hash_map<std::string, OutboxDeliverFn> deliver);
  void Loop();
  bool stopping() const;

  ConnectionPool& pool_;
  const Clock& clock_;
  const OutboxRelayOptions options_;
  const absl::flat_hash_map<std::string, OutboxDeliverFn> deliver_;
  const std::string topics_;  // comma-separated, for FIND_IN_SET

  std::mutex run_mu_;  // serialises RunOnce

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  OutboxRelayStats stats_;
  std::thread thread_;
};

}  // namespace cpts::platform::db
