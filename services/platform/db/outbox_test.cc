#include "services/platform/db/outbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/migrations.h"
#include "services/platform/db/transaction.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::db {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using test_util::QueryInt;
using test_util::QueryString;
using ::testing::HasSubstr;

MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "holds " << *arg;
  return *arg == value;
}

constexpr char kTopic[] = "projects.attendance_entitlement";

std::string Id(const OutboxEvent& e) {
  return absl::StrCat(e.tenant_id, "/", e.topic, "/", e.event_key);
}

// A consumer that dedupes on (tenant, topic, event_key), as the finance service must: it counts
// every delivery, and applies the effect of a key once. Results can be scripted per event key.
class Receiver {
 public:
  void Script(const std::string& event_key, std::vector<absl::Status> results) {
    std::lock_guard lock(mu_);
    script_[event_key].insert(script_[event_key].end(), results.begin(), results.end());
  }

  absl::Status Deliver(const OutboxEvent& e) {
    std::lock_guard lock(mu_);
    ++deliveries_[Id(e)];
    last_[Id(e)] = e;
    std::deque<absl::Status>& script = script_[e.event_key];
    if (!script.empty()) {
      absl::Status result = script.front();
      script.pop_front();
      if (!result.ok()) {
        return result;
      }
    }
    effects_.insert(Id(e));
    cv_.notify_all();
    return absl::OkStatus();
  }

  OutboxDeliverFn Fn() {
    return [this](const OutboxEvent& e) { return Deliver(e); };
  }

  int Deliveries(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = deliveries_.find(id);
    return it == deliveries_.end() ? 0 : it->second;
  }
  int TotalDeliveries() {
    std::lock_guard lock(mu_);
    int total = 0;
    for (const auto& [id, n] : deliveries_) total += n;
    return total;
  }
  std::map<std::string, int> AllDeliveries() {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  size_t Effects() {
    std::lock_guard lock(mu_);
    return effects_.size();
  }
  OutboxEvent Last(const std::string& id) {
    std::lock_guard lock(mu_);
    return last_[id];
  }
  // Waits (bounded, for a background relay) until n distinct effects were applied.
  bool WaitForEffects(size_t n, absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                        [&] { return effects_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> deliveries_;
  std::map<std::string, OutboxEvent> last_;
  std::set<std::string> effects_;
  std::map<std::string, std::deque<absl::Status>> script_;
};

// RunInTransaction for a function returning a StatusOr: its value once committed.
template <typename Fn>
auto InTransaction(ConnectionPool& pool, Fn fn) -> decltype(fn(std::declval<Connection&>())) {
  std::optional<decltype(fn(std::declval<Connection&>()))> out;
  const absl::Status status = RunInTransaction(pool, [&](Connection& conn) -> absl::Status {
    out.emplace(fn(conn));
    return out->status();
  });
  if (!status.ok()) {
    return status;
  }
  return *std::move(out);
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "outbox");
    ASSERT_THAT(schema, IsOk());
    schema_ = *schema;
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema_.migrator);
    ASSERT_THAT(RunMigrations(*migrator, {PlatformMigrations()}), IsOk());
    app_ = ConnectionPool::Create(schema_.app);
  }

  OutboxEvent Event(std::string tenant, std::string key, std::string payload = "p") {
    return {.tenant_id = std::move(tenant),
            .topic = kTopic,
            .event_key = std::move(key),
            .payload = std::move(payload),
            .created_at = clock_.Now()};
  }

  absl::Status Append(const std::vector<OutboxEvent>& events) {
    return RunInTransaction(*app_, [&](Connection& conn) {
      for (const OutboxEvent& e : events) {
        CPTS_RETURN_IF_ERROR(AppendOutbox(conn, e));
      }
      return absl::OkStatus();
    });
  }

  std::unique_ptr<OutboxRelay> Relay(Receiver& receiver, OutboxRelayOptions options = {},
                                     ConnectionPool* pool = nullptr) {
    absl::StatusOr<std::unique_ptr<OutboxRelay>> relay = OutboxRelay::Create(
        pool != nullptr ? *pool : *app_, clock_, std::move(options), {{kTopic, receiver.Fn()}});
    EXPECT_THAT(relay, IsOk());
    return relay.ok() ? std::move(*relay) : nullptr;
  }

  // "state:attempts" of one event.
  std::string StateOf(const std::string& tenant, const std::string& key) {
    return QueryString(*app_, absl::StrCat("SELECT CONCAT(state, ':', attempts) FROM outbox_event "
                                           "WHERE tenant_id = '",
                                           tenant, "' AND event_key = '", key, "'"));
  }

  cpts::testing::TestSchema schema_;
  std::unique_ptr<ConnectionPool> app_;
  FakeClock clock_{absl::FromUnixMicros(1'800'000'000'123'456)};
};

TEST_F(OutboxTest, RolledBackEventIsNeverDeliveredCommittedOneOnce) {
  EXPECT_THAT(RunInTransaction(*app_,
                               [&](Connection& conn) {
                                 CPTS_RETURN_IF_ERROR(AppendOutbox(conn, Event("t1", "rolled")));
                                 return absl::FailedPreconditionError("sheet already closed");
                               }),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event"), 0);

  const std::string bytes("\0\x01\xff{\"m\":1}\n", 11);  // a payload is bytes, not text
  ASSERT_THAT(Append({Event("t1", "meeting-1/member-1", bytes)}), IsOk());
  Receiver receiver;
  std::unique_ptr<OutboxRelay> relay = Relay(receiver);
  ASSERT_NE(relay, nullptr);
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));

  const std::string id = absl::StrCat("t1/", kTopic, "/meeting-1/member-1");
  EXPECT_EQ(receiver.Deliveries(id), 1);
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/rolled")), 0);
  const OutboxEvent got = receiver.Last(id);
  EXPECT_EQ(got.payload, bytes);
  EXPECT_EQ(got.created_at, clock_.Now() - absl::Seconds(1));  // microseconds survive
  EXPECT_EQ(got.attempts, 0);
  EXPECT_GT(got.seq, 0);
  EXPECT_EQ(StateOf("t1", "meeting-1/member-1"), "delivered:1");
  EXPECT_EQ(QueryString(*app_, "SELECT delivered_at FROM outbox_event"),
            absl::FormatTime("%Y-%m-%d %H:%M:%E6S", clock_.Now(), absl::UTCTimeZone()));
  const OutboxRelayStats stats = relay->GetStats();
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.retried, 0);
  EXPECT_EQ(stats.dead, 0);
  EXPECT_EQ(stats.pending, 0);
}

TEST_F(OutboxTest, DuplicateKeyIsAlreadyExistsPerTenantAndTopic) {
  ASSERT_THAT(Append({Event("t1", "k1")}), IsOk());
  EXPECT_THAT(Append({Event("t1", "k1", "other payload")}),
              StatusIs(absl::StatusCode::kAlreadyExists, "k1"));
  // The caller may ignore it: only the failed INSERT is undone, the transaction goes on.
  ASSERT_THAT(RunInTransaction(*app_,
                               [&](Connection& conn) {
                                 EXPECT_THAT(AppendOutbox(conn, Event("t1", "k1")),
                                             StatusIs(absl::StatusCode::kAlreadyExists));
                                 return AppendOutbox(conn, Event("t1", "k2"));
                               }),
              IsOk());
  OutboxEvent other_topic = Event("t1", "k1");
  other_topic.topic = "projects.other";
  EXPECT_THAT(Append({other_topic}), IsOk());
  EXPECT_THAT(Append({Event("t2", "k1")}), IsOk());
  EXPECT_THAT(Append({Event("t1", "K1")}), IsOk());  // keys compare byte for byte
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event"), 5);
  EXPECT_EQ(QueryString(*app_,
                        "SELECT payload FROM outbox_event WHERE tenant_id = 't1' AND "
                        "event_key = 'k1' AND topic = 'projects.attendance_entitlement'"),
            "p");
}

TEST_F(OutboxTest, InvalidEventsAreRejected) {
  absl::StatusOr<ConnectionPool::Lease> lease = app_->Acquire();
  ASSERT_THAT(lease, IsOk());
  OutboxEvent e = Event("", "k");
  EXPECT_THAT(AppendOutbox(**lease, e), StatusIs(absl::StatusCode::kInvalidArgument, "tenant_id"));
  e = Event("t1", "");
  EXPECT_THAT(AppendOutbox(**lease, e), StatusIs(absl::StatusCode::kInvalidArgument, "event_key"));
  e = Event("t1", std::string(191, 'k'));
  EXPECT_THAT(AppendOutbox(**lease, e), StatusIs(absl::StatusCode::kInvalidArgument, "event_key"));
  e = Event("t1", std::string(190, 'k'));
  EXPECT_THAT(AppendOutbox(**lease, e), IsOk());
  e = Event("t1", "k");
  e.topic = "Projects,x";
  EXPECT_THAT(AppendOutbox(**lease, e), StatusIs(absl::StatusCode::kInvalidArgument, "topic"));
  e = Event("t1", "k", std::string(kMaxOutboxPayloadBytes + 1, 'x'));
  EXPECT_THAT(AppendOutbox(**lease, e), StatusIs(absl::StatusCode::kInvalidArgument, "payload"));
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event"), 1);
}

TEST_F(OutboxTest, RetriesWithExponentialBackoffUntilDelivered) {
  const absl::Time t0 = clock_.Now();
  ASSERT_THAT(Append({Event("t1", "k1")}), IsOk());
  Receiver receiver;
  receiver.Script("k1", {absl::UnavailableError("finance is down"),
                         absl::DeadlineExceededError("finance is slow")});
  std::unique_ptr<OutboxRelay> relay =
      Relay(receiver, {.base_backoff = absl::Seconds(10), .max_backoff = absl::Hours(1)});
  ASSERT_NE(relay, nullptr);
  // The delay before the next attempt, as recorded.
  auto delay_micros = [&] {
    return QueryInt(*app_,
                    "SELECT TIMESTAMPDIFF(MICROSECOND, created_at, next_attempt_at) "
                    "FROM outbox_event");
  };

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));  // attempt 1 fails
  EXPECT_EQ(StateOf("t1", "k1"), "pending:1");
  EXPECT_THAT(QueryString(*app_, "SELECT last_error FROM outbox_event"),
              HasSubstr("finance is down"));
  const int64_t first = delay_micros();
  EXPECT_GE(first, 5'000'000);  // base 10 s, jitter [0.5, 1]
  EXPECT_LE(first, 10'000'000);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));  // not due
  clock_.Set(t0 + absl::Microseconds(first) - absl::Microseconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  clock_.Set(t0 + absl::Microseconds(first));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));  // attempt 2 fails
  EXPECT_EQ(StateOf("t1", "k1"), "pending:2");
  const int64_t second = delay_micros() - first;
  EXPECT_GE(second, 10'000'000);  // doubled: 20 s, jitter [0.5, 1]
  EXPECT_LE(second, 20'000'000);
  clock_.Set(t0 + absl::Microseconds(first + second) - absl::Microseconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  clock_.Set(t0 + absl::Microseconds(first + second));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));  // attempt 3 succeeds
  EXPECT_EQ(StateOf("t1", "k1"), "delivered:3");
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/k1")), 3);
  EXPECT_EQ(receiver.Last(absl::StrCat("t1/", kTopic, "/k1")).attempts, 2);
  EXPECT_EQ(receiver.Effects(), 1u);
  clock_.Advance(absl::Hours(24));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  const OutboxRelayStats stats = relay->GetStats();
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.retried, 2);
  EXPECT_EQ(stats.dead, 0);
}

TEST_F(OutboxTest, BackoffIsCappedByMaxBackoff) {
  ASSERT_THAT(Append({Event("t1", "k1")}), IsOk());
  Receiver receiver;
  receiver.Script("k1", std::vector<absl::Status>(6, absl::InternalError("boom")));
  std::unique_ptr<OutboxRelay> relay =
      Relay(receiver, {.base_backoff = absl::Seconds(1), .max_backoff = absl::Seconds(4)});
  ASSERT_NE(relay, nullptr);
  for (int i = 0; i < 5; ++i) {
    const absl::Time before = clock_.Now();
    ASSERT_THAT(relay->RunOnce(), IsOkAndHolds(1)) << "attempt " << i + 1;
    const int64_t next = QueryInt(
        *app_, absl::StrCat("SELECT TIMESTAMPDIFF(MICROSECOND, '",
                            absl::FormatTime("%Y-%m-%d %H:%M:%E6S", before, absl::UTCTimeZone()),
                            "', next_attempt_at) FROM outbox_event"));
    EXPECT_LE(next, 4'000'000) << "attempt " << i + 1;
    clock_.Advance(absl::Seconds(4));
  }
  EXPECT_EQ(StateOf("t1", "k1"), "pending:5");
}

TEST_F(OutboxTest, PermanentErrorParksTheEventAsDeadAtOnce) {
  ASSERT_THAT(Append({Event("t1", "bad"), Event("t1", "seen"), Event("t1", "good")}), IsOk());
  Receiver receiver;
  receiver.Script("bad", {absl::InvalidArgumentError("unknown meeting type")});
  receiver.Script("seen", {absl::AlreadyExistsError("entitlement already recorded")});
  std::vector<std::string> dead_log;
  std::unique_ptr<OutboxRelay> relay =
      Relay(receiver, {.on_dead = [&](const OutboxEvent& e, const absl::Status& error) {
              dead_log.push_back(absl::StrCat(e.event_key, ": ", error.message()));
            }});
  ASSERT_NE(relay, nullptr);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(3));
  EXPECT_EQ(StateOf("t1", "bad"), "dead:1");
  EXPECT_EQ(StateOf("t1", "seen"), "delivered:1");  // the consumer had it already
  EXPECT_EQ(StateOf("t1", "good"), "delivered:1");
  EXPECT_THAT(QueryString(*app_, "SELECT last_error FROM outbox_event WHERE event_key = 'bad'"),
              HasSubstr("unknown meeting type"));
  EXPECT_THAT(dead_log, ::testing::ElementsAre("bad: unknown meeting type"));
  clock_.Advance(absl::Hours(24 * 30));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));  // never retried, never deleted
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/bad")), 1);
  EXPECT_EQ(StateOf("t1", "bad"), "dead:1");
  const OutboxRelayStats stats = relay->GetStats();
  EXPECT_EQ(stats.dead, 1);
  EXPECT_EQ(stats.delivered, 2);
  EXPECT_EQ(stats.pending, 0);
}

TEST_F(OutboxTest, RetryableErrorsParkAsDeadAfterMaxAttempts) {
  ASSERT_THAT(Append({Event("t1", "k1")}), IsOk());
  Receiver receiver;
  receiver.Script("k1", std::vector<absl::Status>(10, absl::UnavailableError("down")));
  int dead_calls = 0;
  std::unique_ptr<OutboxRelay> relay = Relay(
      receiver, {.max_attempts = 3, .on_dead = [&](const OutboxEvent&, const absl::Status& s) {
                   ++dead_calls;
                   EXPECT_TRUE(absl::IsUnavailable(s));
                 }});
  ASSERT_NE(relay, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(relay->RunOnce(), IsOk());
    clock_.Advance(absl::Hours(1));
  }
  EXPECT_EQ(StateOf("t1", "k1"), "dead:3");
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/k1")), 3);
  EXPECT_EQ(dead_calls, 1);
  EXPECT_EQ(relay->GetStats().retried, 2);
  EXPECT_EQ(relay->GetStats().dead, 1);
}

TEST_F(OutboxTest, SkipLockedLetsASecondRelayTakeOtherEventsWithoutWaiting) {
  std::vector<OutboxEvent> events;
  events.reserve(10);
  for (int i = 0; i < 10; ++i) events.push_back(Event("t1", absl::StrCat("k", i)));
  ASSERT_THAT(Append(events), IsOk());

  // Relay A blocks inside its first delivery, holding the row locks of its batch.
  absl::Notification a_inside;
  absl::Notification release_a;
  Receiver receiver;
  absl::StatusOr<std::unique_ptr<OutboxRelay>> a =
      OutboxRelay::Create(*app_, clock_, {.batch_size = 5},
                          {{kTopic, [&](const OutboxEvent& e) {
                              if (!a_inside.HasBeenNotified()) {
                                a_inside.Notify();
                                release_a.WaitForNotificationWithTimeout(absl::Seconds(30));
                              }
                              return receiver.Deliver(e);
                            }}});
  ASSERT_THAT(a, IsOk());
  absl::StatusOr<int> a_result;
  std::thread a_thread([&] { a_result = (*a)->RunOnce(); });
  ASSERT_TRUE(a_inside.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // Without SKIP LOCKED, B would wait for A's locks and fail with a lock wait timeout.
  DbConfig b_config = schema_.app;
  b_config.lock_wait_timeout = absl::Seconds(3);
  std::unique_ptr<ConnectionPool> b_pool = ConnectionPool::Create(b_config);
  std::unique_ptr<OutboxRelay> b = Relay(receiver, {.batch_size = 5}, b_pool.get());
  ASSERT_NE(b, nullptr);
  const absl::Time start = absl::Now();
  EXPECT_THAT(b->RunOnce(), IsOkAndHolds(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_THAT(b->RunOnce(), IsOkAndHolds(0));  // the rest is A's, still locked
  release_a.Notify();
  a_thread.join();
  EXPECT_THAT(a_result, IsOkAndHolds(5));

  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/k", i)), 1) << i;
  }
  // A took the oldest five, B the next five.
  EXPECT_EQ((*a)->GetStats().delivered, 5);
  EXPECT_EQ(b->GetStats().delivered, 5);
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event WHERE state = 'delivered'"), 10);
}

TEST_F(OutboxTest, TwoConcurrentRelaysDeliverEachOf200EventsExactlyOnce) {
  std::vector<OutboxEvent> events;
  events.reserve(200);
  for (int i = 0; i < 200; ++i) {
    events.push_back(Event(i % 2 == 0 ? "t1" : "t2", absl::StrCat("meeting-", i / 10, "/m-", i)));
  }
  ASSERT_THAT(Append(events), IsOk());

  Receiver receiver;
  // Each relay's first delivery waits until the other one is delivering too, so both hold a
  // batch at the same time (with plain FOR UPDATE the second would block on the first instead).
  absl::Notification in[2];
  bool met[2] = {false, false};
  std::unique_ptr<ConnectionPool> pools[2] = {ConnectionPool::Create(schema_.app),
                                              ConnectionPool::Create(schema_.app)};
  std::unique_ptr<OutboxRelay> relays[2];
  for (int r = 0; r < 2; ++r) {
    absl::StatusOr<std::unique_ptr<OutboxRelay>> relay = OutboxRelay::Create(
        *pools[r], clock_, {.batch_size = 7},
        {{kTopic, [&, r](const OutboxEvent& e) {
            if (!in[r].HasBeenNotified()) {
              in[r].Notify();
              met[r] = in[1 - r].WaitForNotificationWithTimeout(absl::Seconds(20));
            }
            return receiver.Deliver(e);
          }}});
    ASSERT_THAT(relay, IsOk());
    relays[r] = std::move(*relay);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  absl::Status errors[2];
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      while (receiver.Effects() < 200 && absl::Now() < deadline) {
        absl::StatusOr<int> n = relays[r]->RunOnce();
        if (!n.ok()) {
          errors[r] = n.status();
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_THAT(errors[0], IsOk());
  EXPECT_THAT(errors[1], IsOk());
  EXPECT_TRUE(met[0]);
  EXPECT_TRUE(met[1]);
  const std::map<std::string, int> deliveries = receiver.AllDeliveries();
  EXPECT_EQ(deliveries.size(), 200u);
  for (const auto& [id, n] : deliveries) {
    EXPECT_EQ(n, 1) << id;
  }
  EXPECT_EQ(relays[0]->GetStats().delivered + relays[1]->GetStats().delivered, 200);
  EXPECT_GT(relays[0]->GetStats().delivered, 0);
  EXPECT_GT(relays[1]->GetStats().delivered, 0);
  EXPECT_EQ(QueryInt(*app_,
                     "SELECT COUNT(*) FROM outbox_event WHERE state = 'delivered' AND "
                     "attempts = 1"),
            200);
}

TEST_F(OutboxTest, DeliveredButUnmarkedEventIsDeliveredAgainAndDedupedByTheConsumer) {
  ASSERT_THAT(Append({Event("t1", "k1")}), IsOk());
  // The relay "crashes" between a successful delivery and the commit of its mark: its
  // connection is killed while it is delivering, as a dead process's would be closed.
  std::unique_ptr<ConnectionPool> admin =
      ConnectionPool::Create(cpts::testing::SharedMariaDb().AdminConfig());
  Receiver receiver;
  bool crash = true;
  absl::StatusOr<std::unique_ptr<OutboxRelay>> relay = OutboxRelay::Create(
      *app_, clock_, {},
      {{kTopic, [&](const OutboxEvent& e) {
          absl::Status delivered = receiver.Deliver(e);
          if (crash) {
            crash = false;
            const int64_t relay_thread =
                QueryInt(*admin, absl::StrCat("SELECT t.trx_mysql_thread_id FROM "
                                              "information_schema.INNODB_TRX t JOIN "
                                              "information_schema.PROCESSLIST p ON "
                                              "p.ID = t.trx_mysql_thread_id WHERE p.DB = '",
                                              schema_.name, "'"));
            EXPECT_THAT(
                cpts::testing::SharedMariaDb().Exec(absl::StrCat("KILL CONNECTION ", relay_thread)),
                IsOk());
          }
          return delivered;
        }}});
  ASSERT_THAT(relay, IsOk());

  EXPECT_THAT((*relay)->RunOnce(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(StateOf("t1", "k1"), "pending:0");  // the mark was rolled back
  EXPECT_EQ((*relay)->GetStats().delivered, 0);
  EXPECT_EQ((*relay)->GetStats().runs_failed, 1);

  EXPECT_THAT((*relay)->RunOnce(), IsOkAndHolds(1));
  EXPECT_EQ(StateOf("t1", "k1"), "delivered:1");
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/k1")), 2);  // at least once...
  EXPECT_EQ(receiver.Effects(), 1u);                                      // ...and the effect once
  EXPECT_THAT((*relay)->RunOnce(), IsOkAndHolds(0));
}

TEST_F(OutboxTest, TenantsAreIsolated) {
  ASSERT_THAT(Append({Event("t1", "k1", "for t1"), Event("t2", "k1", "for t2")}), IsOk());
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event WHERE tenant_id = 't1'"), 1);
  EXPECT_EQ(QueryInt(*app_, "SELECT COUNT(*) FROM outbox_event WHERE tenant_id = 't2'"), 1);
  Receiver receiver;
  receiver.Script("k1", {absl::UnavailableError("t1's consumer is down")});  // the first: t1's
  std::unique_ptr<OutboxRelay> relay = Relay(receiver);
  ASSERT_NE(relay, nullptr);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));
  // One tenant's failure neither blocks nor marks the other tenant's event.
  EXPECT_EQ(StateOf("t1", "k1"), "pending:1");
  EXPECT_EQ(StateOf("t2", "k1"), "delivered:1");
  EXPECT_EQ(receiver.Last(absl::StrCat("t1/", kTopic, "/k1")).payload, "for t1");
  EXPECT_EQ(receiver.Last(absl::StrCat("t2/", kTopic, "/k1")).payload, "for t2");
  EXPECT_EQ(receiver.Last(absl::StrCat("t2/", kTopic, "/k1")).tenant_id, "t2");
  EXPECT_EQ(relay->GetStats().pending, 1);
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_EQ(StateOf("t1", "k1"), "delivered:2");
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t2/", kTopic, "/k1")), 1);
}

TEST_F(OutboxTest, EventsOfTopicsWithoutADeliveryFunctionStayPending) {
  OutboxEvent other = Event("t1", "k1");
  other.topic = "projects.not_handled_here";
  ASSERT_THAT(Append({other, Event("t1", "k2")}), IsOk());
  Receiver receiver;
  std::unique_ptr<OutboxRelay> relay = Relay(receiver, {.batch_size = 1});
  ASSERT_NE(relay, nullptr);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));  // k2: k1 does not take the slot
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  EXPECT_EQ(StateOf("t1", "k1"), "pending:0");
  EXPECT_EQ(StateOf("t1", "k2"), "delivered:1");
  EXPECT_EQ(relay->GetStats().pending, 1);
}

TEST_F(OutboxTest, StartDeliversInTheBackgroundAndStopIsPrompt) {
  std::vector<OutboxEvent> events;
  events.reserve(5);
  for (int i = 0; i < 5; ++i) events.push_back(Event("t1", absl::StrCat("k", i)));
  ASSERT_THAT(Append(events), IsOk());
  Receiver receiver;
  // Batches of 2 with an hour between polls: all 5 arrive only because a full batch is
  // followed at once by the next RunOnce.
  std::unique_ptr<OutboxRelay> relay =
      Relay(receiver, {.batch_size = 2, .poll_interval = absl::Hours(1)});
  ASSERT_NE(relay, nullptr);
  ASSERT_THAT(relay->Start(), IsOk());
  EXPECT_THAT(relay->Start(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(receiver.WaitForEffects(5, absl::Seconds(30)));
  const absl::Time start = absl::Now();
  relay->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // not the poll interval
  EXPECT_EQ(relay->GetStats().delivered, 5);
  EXPECT_THAT(relay->Start(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(Append({Event("t1", "late")}), IsOk());
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));  // stopped: attempts nothing
  EXPECT_EQ(StateOf("t1", "late"), "pending:0");
}

TEST_F(OutboxTest, CreateValidatesItsArguments) {
  Receiver receiver;
  EXPECT_THAT(OutboxRelay::Create(*app_, clock_, {}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OutboxRelay::Create(*app_, clock_, {}, {{"Bad,Topic", receiver.Fn()}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "topic"));
  EXPECT_THAT(OutboxRelay::Create(*app_, clock_, {}, {{kTopic, nullptr}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty delivery function"));
  EXPECT_THAT(OutboxRelay::Create(*app_, clock_, {.batch_size = 0}, {{kTopic, receiver.Fn()}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      OutboxRelay::Create(*app_, clock_,
                          {.base_backoff = absl::Seconds(2), .max_backoff = absl::Seconds(1)},
                          {{kTopic, receiver.Fn()}}),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(OutboxTest, DeadEventsAreListedOldestFirstPagedAndRequeuedForDelivery) {
  ASSERT_THAT(Append({Event("t1", "a"), Event("t1", "b"), Event("t1", "ok"), Event("t1", "c"),
                      Event("t2", "a")}),
              IsOk());
  Receiver receiver;
  for (const char* key : {"a", "b", "c", "a"}) {  // "a" twice: t1's, then t2's
    receiver.Script(key, {absl::OutOfRangeError(absl::StrCat("no rate for ", key))});
  }
  std::unique_ptr<OutboxRelay> relay = Relay(receiver);
  ASSERT_NE(relay, nullptr);
  const absl::Time died = clock_.Now();
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(5));

  std::vector<DeadOutboxEvent> seen;
  int64_t after = 0;
  int pages = 0;
  do {
    absl::StatusOr<DeadOutboxPage> page = InTransaction(
        *app_, [&](Connection& conn) { return ListDeadOutbox(conn, "t1", 2, after); });
    ASSERT_THAT(page, IsOk());
    seen.insert(seen.end(), page->events.begin(), page->events.end());
    after = page->next_after_seq;
    ++pages;
  } while (after != 0 && pages < 5);
  EXPECT_EQ(pages, 2);
  ASSERT_EQ(seen.size(), 3u);  // only t1's, oldest first
  EXPECT_EQ(seen[0].event_key, "a");
  EXPECT_EQ(seen[1].event_key, "b");
  EXPECT_EQ(seen[2].event_key, "c");
  EXPECT_LT(seen[0].seq, seen[1].seq);
  EXPECT_EQ(seen[0].topic, kTopic);
  EXPECT_EQ(seen[0].attempts, 1);
  EXPECT_THAT(seen[0].last_error, HasSubstr("no rate for a"));
  EXPECT_EQ(seen[0].dead_since, died);

  const int64_t ok_seq = QueryInt(*app_, "SELECT seq FROM outbox_event WHERE event_key = 'ok'");
  const int64_t t2_seq = QueryInt(*app_, "SELECT seq FROM outbox_event WHERE tenant_id = 't2'");
  clock_.Advance(absl::Hours(1));
  // Another tenant's id is unknown, and the whole call changes nothing.
  EXPECT_THAT(
      RunInTransaction(
          *app_,
          [&](Connection& conn) -> absl::Status {
            return RequeueDeadOutbox(conn, "t1", {seen[0].seq, t2_seq}, clock_.Now()).status();
          }),
      StatusIs(absl::StatusCode::kNotFound, absl::StrCat(t2_seq)));
  EXPECT_EQ(StateOf("t1", "a"), "dead:1");
  absl::StatusOr<OutboxRequeueResult> requeued = InTransaction(*app_, [&](Connection& conn) {
    return RequeueDeadOutbox(conn, "t1", {ok_seq, seen[0].seq}, clock_.Now());
  });
  ASSERT_THAT(requeued, IsOk());
  EXPECT_THAT(requeued->requeued, ::testing::ElementsAre(seen[0].seq));
  EXPECT_THAT(requeued->not_dead, ::testing::ElementsAre(ok_seq));
  EXPECT_EQ(StateOf("t1", "a"), "pending:0");
  EXPECT_EQ(StateOf("t1", "ok"), "delivered:1");  // untouched
  EXPECT_EQ(StateOf("t2", "a"), "dead:1");

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));  // due at once, delivered this time
  EXPECT_EQ(StateOf("t1", "a"), "delivered:1");
  EXPECT_EQ(receiver.Deliveries(absl::StrCat("t1/", kTopic, "/a")), 2);
}

TEST_F(OutboxTest, RequeueByTopicTakesEveryDeadEventOfTheTenantAndTopicOnly) {
  OutboxEvent other = Event("t1", "x");
  other.topic = "projects.other";
  ASSERT_THAT(Append({Event("t1", "a"), Event("t1", "b"), other, Event("t2", "c")}), IsOk());
  Receiver receiver;
  for (const char* key : {"a", "b", "x", "c"}) {
    receiver.Script(key, {absl::FailedPreconditionError("refused")});
  }
  absl::StatusOr<std::unique_ptr<OutboxRelay>> relay = OutboxRelay::Create(
      *app_, clock_, {}, {{kTopic, receiver.Fn()}, {"projects.other", receiver.Fn()}});
  ASSERT_THAT(relay, IsOk());
  EXPECT_THAT((*relay)->RunOnce(), IsOkAndHolds(4));
  absl::StatusOr<OutboxRequeueResult> requeued = InTransaction(*app_, [&](Connection& conn) {
    return RequeueDeadOutboxTopic(conn, "t1", kTopic, clock_.Now());
  });
  ASSERT_THAT(requeued, IsOk());
  EXPECT_EQ(requeued->requeued.size(), 2u);
  EXPECT_EQ(StateOf("t1", "a"), "pending:0");
  EXPECT_EQ(StateOf("t1", "b"), "pending:0");
  EXPECT_EQ(StateOf("t1", "x"), "dead:1");
  EXPECT_EQ(StateOf("t2", "c"), "dead:1");
  requeued = InTransaction(*app_, [&](Connection& conn) {
    return RequeueDeadOutboxTopic(conn, "t1", kTopic, clock_.Now());
  });
  ASSERT_THAT(requeued, IsOk());
  EXPECT_TRUE(requeued->requeued.empty());
  EXPECT_THAT(RunInTransaction(
                  *app_,
                  [&](Connection& conn) -> absl::Status {
                    return RequeueDeadOutboxTopic(conn, "t1", "Bad Topic", clock_.Now()).status();
                  }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RunInTransaction(*app_,
                               [&](Connection& conn) -> absl::Status {
                                 return ListDeadOutbox(conn, "t1", 0).status();
                               }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cpts::platform::db
