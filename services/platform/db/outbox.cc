#include "services/platform/db/outbox.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/transaction.h"

namespace cpts::platform::db {
namespace {

constexpr std::string_view kInsertOutbox = R"sql(
INSERT INTO outbox_event (tenant_id, topic, event_key, payload, created_at, next_attempt_at)
VALUES (?, ?, ?, ?, COALESCE(?, UTC_TIMESTAMP(6)), COALESCE(?, UTC_TIMESTAMP(6))))sql";

// Loose index scan of outbox_event_by_state: one index dive per tenant (see 0002_outbox.sql).
constexpr std::string_view kOldestPendingPerTenant = R"sql(
SELECT tenant_id, MIN(seq)
FROM outbox_event
WHERE state = 'pending'
GROUP BY tenant_id)sql";

constexpr std::string_view kCountPending = R"sql(
SELECT COUNT(*)
FROM outbox_event FORCE INDEX (outbox_event_by_seq)
WHERE seq >= ? AND state = 'pending')sql";

// From the low-water mark, in seq order; rows another relay holds (or an uncommitted INSERT)
// are skipped rather than waited for.
constexpr std::string_view kClaimDue = R"sql(
SELECT tenant_id, seq, topic, event_key, payload, created_at, attempts
FROM outbox_event FORCE INDEX (outbox_event_by_seq)
WHERE seq >= ? AND state = 'pending' AND next_attempt_at <= ? AND FIND_IN_SET(topic, ?) > 0
ORDER BY seq
LIMIT ?
FOR UPDATE SKIP LOCKED)sql";

constexpr std::string_view kMarkDelivered = R"sql(
UPDATE outbox_event
SET state = 'delivered', attempts = attempts + 1, delivered_at = ?
WHERE tenant_id = ? AND seq = ?)sql";

constexpr std::string_view kMarkRetry = R"sql(
UPDATE outbox_event
SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
WHERE tenant_id = ? AND seq = ?)sql";

// next_attempt_at means nothing for a dead event: it keeps when the event died, for operators.
constexpr std::string_view kMarkDead = R"sql(
UPDATE outbox_event
SET state = 'dead', attempts = attempts + 1, last_error = ?, next_attempt_at = ?
WHERE tenant_id = ? AND seq = ?)sql";

constexpr std::string_view kListDead = R"sql(
SELECT seq, topic, event_key, attempts, last_error, next_attempt_at
FROM outbox_event
WHERE tenant_id = ? AND state = 'dead' AND seq > ?
ORDER BY seq
LIMIT ?)sql";

constexpr std::string_view kLockEvent = R"sql(
SELECT state FROM outbox_event WHERE tenant_id = ? AND seq = ? FOR UPDATE)sql";

constexpr std::string_view kLockDeadOfTopic = R"sql(
SELECT seq FROM outbox_event
WHERE tenant_id = ? AND state = 'dead' AND topic = ?
ORDER BY seq
FOR UPDATE)sql";

constexpr std::string_view kRequeue = R"sql(
UPDATE outbox_event
SET state = 'pending', attempts = 0, next_attempt_at = ?
WHERE tenant_id = ? AND seq = ? AND state = 'dead')sql";

constexpr int kMaxDeadPage = 1000;

constexpr size_t kMaxLastErrorBytes = 1000;
constexpr char kTimeFormat[] = "%Y-%m-%d %H:%M:%E6S";

// VARCHAR(n) counts characters: count UTF-8 lead bytes, not bytes.
size_t Utf8Length(absl::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

absl::Status CheckField(absl::string_view field, absl::string_view value, size_t max_chars) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("outbox event: ", field, " is required"));
  }
  if (Utf8Length(value) > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat("outbox event: ", field, " is longer than ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckTopic(absl::string_view topic) {
  if (absl::Status s = CheckField("topic", topic, 64); !s.ok()) {
    return s;
  }
  for (const char c : topic) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
      return absl::InvalidArgumentError(
          absl::StrCat("outbox event: topic '", topic, "' has a character outside [a-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

std::string SqlTime(absl::Time t) { return absl::FormatTime(kTimeFormat, t, absl::UTCTimeZone()); }

absl::StatusOr<absl::Time> ParseSqlTime(absl::string_view column, const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d %H:%M:%E*S", text, absl::UTCTimeZone(), &t, &error)) {
    return absl::InternalError(
        absl::StrCat("outbox_event.", column, " '", text, "' unreadable: ", error));
  }
  return t;
}

enum class Outcome { kDelivered, kRetry, kDead };

Outcome Classify(const absl::Status& s, int attempts_after, int max_attempts) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kAlreadyExists:
      return Outcome::kDelivered;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return Outcome::kDead;
    default:
      return attempts_after >= max_attempts ? Outcome::kDead : Outcome::kRetry;
  }
}

// The status text kept in last_error, cut to the column.
std::string LastError(const absl::Status& s) {
  std::string text = s.ToString();
  if (text.size() > kMaxLastErrorBytes) {
    text.resize(kMaxLastErrorBytes);
  }
  return text;
}

absl::Duration Backoff(const OutboxRelayOptions& options, int failed_attempts, absl::BitGen& bits) {
  absl::Duration delay = options.base_backoff;
  for (int i = 1; i < failed_attempts && delay < options.max_backoff; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options.max_backoff);
  return delay * absl::Uniform(absl::IntervalClosedClosed, bits, 0.5, 1.0);
}

}  // namespace

absl::Status AppendOutbox(Connection& conn, const OutboxEvent& event) {
  for (const absl::Status& s : {
           CheckField("tenant_id", event.tenant_id, 64),
           CheckTopic(event.topic),
           CheckField("event_key", event.event_key, 190),
       }) {
    if (!s.ok()) {
      return s;
    }
  }
  if (event.payload.size() > kMaxOutboxPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("outbox event: payload is larger than ", kMaxOutboxPayloadBytes, " bytes"));
  }
  try {
    sql::PreparedStatement& insert = conn.Prepare(kInsertOutbox);
    insert.setString(1, event.tenant_id);
    insert.setString(2, event.topic);
    insert.setString(3, event.event_key);
    std::istringstream payload(event.payload);  // read by executeUpdate: binary safe
    insert.setBlob(4, &payload);
    for (const int index : {5, 6}) {
      if (event.created_at == absl::UnixEpoch()) {
        insert.setNull(index, sql::DataType::TIMESTAMP);
      } else {
        insert.setDateTime(index, SqlTime(event.created_at));
      }
    }
    insert.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    absl::Status status = MapSqlException(e, "append to outbox_event");
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat("outbox event ", event.topic, " '",
                                                   event.event_key, "' already exists for tenant ",
                                                   event.tenant_id));
    }
    return status;
  }
}

absl::StatusOr<DeadOutboxPage> ListDeadOutbox(Connection& conn, std::string_view tenant_id,
                                              int limit, int64_t after_seq) {
  if (limit < 1 || limit > kMaxDeadPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("dead outbox events: limit must be in [1, ", kMaxDeadPage, "]"));
  }
  DeadOutboxPage page;
  try {
    sql::PreparedStatement& list = conn.Prepare(kListDead);
    list.setString(1, std::string(tenant_id));
    list.setInt64(2, after_seq);
    list.setInt(3, limit + 1);  // one more tells whether there is a next page
    std::unique_ptr<sql::ResultSet> rs(list.executeQuery());
    while (rs->next()) {
      if (page.events.size() == static_cast<size_t>(limit)) {
        page.next_after_seq = page.events.back().seq;
        break;
      }
      DeadOutboxEvent e;
      e.seq = rs->getInt64(1);
      e.topic = rs->getString(2);
      e.event_key = rs->getString(3);
      e.attempts = rs->getInt(4);
      e.last_error = rs->getString(5);
      absl::StatusOr<absl::Time> dead_since = ParseSqlTime("next_attempt_at", rs->getString(6));
      if (!dead_since.ok()) {
        return dead_since.status();
      }
      e.dead_since = *dead_since;
      page.events.push_back(std::move(e));
    }
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list dead outbox events");
  }
  return page;
}

namespace {
void Requeue(Connection& conn, std::string_view tenant_id, int64_t seq, absl::Time now) {
  sql::PreparedStatement& requeue = conn.Prepare(kRequeue);
  requeue.setDateTime(1, SqlTime(now));
  requeue.setString(2, std::string(tenant_id));
  requeue.setInt64(3, seq);
  requeue.executeUpdate();
}
}  // namespace

absl::StatusOr<OutboxRequeueResult> RequeueDeadOutbox(Connection& conn, std::string_view tenant_id,
                                                      const std::vector<int64_t>& seqs,
                                                      absl::Time now) {
  if (seqs.empty()) {
    return absl::InvalidArgumentError("re-queue outbox events: no event id");
  }
  std::vector<int64_t> sorted = seqs;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  OutboxRequeueResult result;
  try {
    std::vector<int64_t> dead;
    dead.reserve(sorted.size());
    result.not_dead.reserve(sorted.size());
    for (const int64_t seq : sorted) {
      sql::PreparedStatement& lock = conn.Prepare(kLockEvent);
      lock.setString(1, std::string(tenant_id));
      lock.setInt64(2, seq);
      std::unique_ptr<sql::ResultSet> rs(lock.executeQuery());
      if (!rs->next()) {
        return absl::NotFoundError(absl::StrCat("outbox event ", seq, " not found"));
      }
      (rs->getString(1) == "dead" ? dead : result.not_dead).push_back(seq);
    }
    for (const int64_t seq : dead) {
      Requeue(conn, tenant_id, seq, now);
    }
    result.requeued = std::move(dead);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "re-queue outbox events");
  }
  return result;
}

absl::StatusOr<OutboxRequeueResult> RequeueDeadOutboxTopic(Connection& conn,
                                                           std::string_view tenant_id,
                                                           std::string_view topic, absl::Time now) {
  CPTS_RETURN_IF_ERROR(CheckTopic(absl::string_view(topic.data(), topic.size())));
  OutboxRequeueResult result;
  try {
    {
      sql::PreparedStatement& lock = conn.Prepare(kLockDeadOfTopic);
      lock.setString(1, std::string(tenant_id));
      lock.setString(2, std::string(topic));
      std::unique_ptr<sql::ResultSet> rs(lock.executeQuery());
      while (rs->next()) {
        result.requeued.push_back(rs->getInt64(1));
      }
    }
    for (const int64_t seq : result.requeued) {
      Requeue(conn, tenant_id, seq, now);
    }
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "re-queue outbox events");
  }
  return result;
}

absl::StatusOr<std::unique_ptr<OutboxRelay>> OutboxRelay::Create(
    ConnectionPool& pool, const Clock& clock, OutboxRelayOptions options,
    absl::flat_hash_map<std::string, OutboxDeliverFn> deliver) {
  if (deliver.empty()) {
    return absl::InvalidArgumentError("outbox relay: no delivery function");
  }
  for (const auto& [topic, fn] : deliver) {
    if (absl::Status s = CheckTopic(topic); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("outbox relay: ", s.message()));
    }
    if (!fn) {
      return absl::InvalidArgumentError(
          absl::StrCat("outbox relay: empty delivery function for topic ", topic));
    }
  }
  if (options.batch_size < 1 || options.max_attempts < 1 ||
      options.base_backoff <= absl::ZeroDuration() || options.max_backoff < options.base_backoff ||
      options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "outbox relay: batch_size and max_attempts must be >= 1, 0 < base_backoff <= "
        "max_backoff, poll_interval > 0");
  }
  return std::unique_ptr<OutboxRelay>(
      new OutboxRelay(pool, clock, std::move(options), std::move(deliver)));
}

namespace {
std::string JoinTopics(const absl::flat_hash_map<std::string, OutboxDeliverFn>& deliver) {
  std::vector<std::string> topics;
  topics.reserve(deliver.size());
  for (const auto& [topic, fn] : deliver) {
    topics.push_back(topic);
  }
  std::sort(topics.begin(), topics.end());
  return absl::StrJoin(topics, ",");
}
}  // namespace

OutboxRelay::OutboxRelay(ConnectionPool& pool, const Clock& clock, OutboxRelayOptions options,
                         absl::flat_hash_map<std::string, OutboxDeliverFn> deliver)
    : pool_(pool),
      clock_(clock),
      options_(std::move(options)),
      deliver_(std::move(deliver)),
      topics_(JoinTopics(deliver_)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

bool OutboxRelay::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

OutboxRelayStats OutboxRelay::GetStats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  std::lock_guard run_lock(run_mu_);
  if (stopping()) {
    return 0;
  }
  const absl::Time now = clock_.Now();
  OutboxRelayStats tally;
  int attempted = 0;
  std::vector<std::pair<OutboxEvent, absl::Status>> dead;
  absl::BitGen bits;

  auto pass = [&](Connection& conn) -> absl::Status {
    // Reset: the whole function runs again only if the transaction is retried, which it is not
    // (max_attempts = 1), but keep the tallies consistent with what is committed regardless.
    tally = OutboxRelayStats{};
    attempted = 0;
    dead.clear();
    try {
      int64_t low_water = -1;
      {
        std::unique_ptr<sql::ResultSet> rs(conn.Prepare(kOldestPendingPerTenant).executeQuery());
        while (rs->next()) {
          const int64_t oldest = rs->getInt64(2);
          low_water = low_water < 0 ? oldest : std::min(low_water, oldest);
        }
      }
      if (low_water < 0) {
        return absl::OkStatus();  // nothing pending anywhere
      }
      {
        sql::PreparedStatement& count = conn.Prepare(kCountPending);
        count.setInt64(1, low_water);
        std::unique_ptr<sql::ResultSet> rs(count.executeQuery());
        tally.pending = rs->next() ? rs->getInt64(1) : 0;
      }
      std::vector<OutboxEvent> batch;
      {
        sql::PreparedStatement& claim = conn.Prepare(kClaimDue);
        claim.setInt64(1, low_water);
        claim.setDateTime(2, SqlTime(now));
        claim.setString(3, topics_);
        claim.setInt(4, options_.batch_size);
        std::unique_ptr<sql::ResultSet> rs(claim.executeQuery());
        while (rs->next()) {
          OutboxEvent e;
          e.tenant_id = rs->getString(1);
          e.seq = rs->getInt64(2);
          e.topic = rs->getString(3);
          e.event_key = rs->getString(4);
          e.payload = rs->getString(5);
          absl::StatusOr<absl::Time> created_at = ParseSqlTime("created_at", rs->getString(6));
          if (!created_at.ok()) {
            return created_at.status();
          }
          e.created_at = *created_at;
          e.attempts = rs->getInt(7);
          batch.push_back(std::move(e));
        }
      }
      for (const OutboxEvent& event : batch) {
        if (stopping()) {
          break;  // the rest stays pending; what was delivered is committed below
        }
        const auto fn = deliver_.find(event.topic);
        const absl::Status delivery =
            fn != deliver_.end()
                ? fn->second(event)
                : absl::InternalError(absl::StrCat("no delivery function for ", event.topic));
        ++attempted;
        switch (Classify(delivery, event.attempts + 1, options_.max_attempts)) {
          case Outcome::kDelivered: {
            sql::PreparedStatement& mark = conn.Prepare(kMarkDelivered);
            mark.setDateTime(1, SqlTime(now));
            mark.setString(2, event.tenant_id);
            mark.setInt64(3, event.seq);
            mark.executeUpdate();
            ++tally.delivered;
            --tally.pending;
            break;
          }
          case Outcome::kRetry: {
            sql::PreparedStatement& mark = conn.Prepare(kMarkRetry);
            mark.setDateTime(1, SqlTime(now + Backoff(options_, event.attempts + 1, bits)));
            mark.setString(2, LastError(delivery));
            mark.setString(3, event.tenant_id);
            mark.setInt64(4, event.seq);
            mark.executeUpdate();
            ++tally.retried;
            break;
          }
          case Outcome::kDead: {
            sql::PreparedStatement& mark = conn.Prepare(kMarkDead);
            mark.setString(1, LastError(delivery));
            mark.setDateTime(2, SqlTime(now));
            mark.setString(3, event.tenant_id);
            mark.setInt64(4, event.seq);
            mark.executeUpdate();
            ++tally.dead;
            --tally.pending;
            dead.emplace_back(event, delivery);
            break;
          }
        }
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "outbox relay");
    }
  };

  // Not retried: a retry would deliver the batch again. The next RunOnce will.
  const absl::Status status = RunInTransaction(
      pool_, pass, {.max_attempts = 1, .acquire_deadline = absl::Now() + options_.acquire_timeout});
  {
    std::lock_guard lock(mu_);
    if (!status.ok()) {
      ++stats_.runs_failed;
    } else {
      stats_.delivered += tally.delivered;
      stats_.retried += tally.retried;
      stats_.dead += tally.dead;
      stats_.pending = tally.pending;
    }
  }
  if (!status.ok()) {
    return status;
  }
  if (options_.on_dead) {
    for (const auto& [event, error] : dead) {
      options_.on_dead(event, error);
    }
  }
  return attempted;
}

absl::Status OutboxRelay::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) {
    return absl::FailedPreconditionError("outbox relay: already started or stopped");
  }
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void OutboxRelay::Loop() {
  while (!stopping()) {
    const absl::StatusOr<int> attempted = RunOnce();
    if (attempted.ok() && *attempted >= options_.batch_size) {
      continue;  // probably more due: no pause
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                 [this] { return stopping_; });
  }
}

}  // namespace cpts::platform::db
