// Availability: a rolling restart of the access service under load. Two replicas on the same
// database; a client that spreads its calls over them round-robin and retries UNAVAILABLE, and
// only UNAVAILABLE, with exponential backoff on the next replica. Each replica in turn gets
// SIGTERM (graceful stop: lame duck, then new calls refused while in-flight ones finish, then
// Shutdown; docs/availability.md), and a new replica takes its place in the client's list once
// the old process has exited.
//
// - Endpoints follow: the replica leaves the client's list kEndpointsLag after its SIGTERM,
//   within the lame duck, as Kubernetes endpoints would.
// - In rotation: the client keeps the replica in its list until it has exited, so it keeps
//   sending new calls through the lame duck, the refusal and the Shutdown; a BookSlot held in
//   its handler by a row lock, released during the refusal, is in flight throughout.
//
// In both, the client sees zero failed calls and no attempt ends with another code than OK or
// UNAVAILABLE; every acknowledged booking is stored exactly once.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/testing/mariadb_server.h"
#include "tests/availability/availability_fixture.h"

namespace cpts::availability {
namespace {

constexpr int kSlots = 1500;
constexpr int kBookThreads = 2;
constexpr int kSearchThreads = 2;
constexpr absl::Duration kPacing = absl::Milliseconds(20);
constexpr absl::Duration kLameDuck = kAccessLameDuck;
constexpr absl::Duration kEndpointsLag = absl::Milliseconds(300);
constexpr absl::Duration kHold = absl::Milliseconds(300);

// The client's view of the replicas: round-robin over the current targets; each attempt goes
// to the next one.
class Replicas {
 public:
  void SetTargets(std::vector<std::string> targets) {
    std::lock_guard lock(mu_);
    targets_ = std::move(targets);
    for (const std::string& target : targets_) {
      if (!stubs_.contains(target)) {
        stubs_[target] = av1::AccessService::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
      }
    }
  }
  std::pair<std::string, av1::AccessService::Stub*> Next() {
    std::lock_guard lock(mu_);
    const std::string& target = targets_[next_++ % targets_.size()];
    return {target, stubs_[target].get()};
  }

 private:
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::map<std::string, std::unique_ptr<av1::AccessService::Stub>> stubs_;
  size_t next_ = 0;
};

struct Attempt {
  std::string target;
  absl::Time start;
  absl::Time end;
  grpc::StatusCode code;
};

struct Result {
  int calls = 0;
  std::vector<std::string> failures;
  std::vector<Attempt> attempts;
  std::map<std::string, std::string> acked;  // request_id -> booking id
  std::vector<std::string> stopped_targets;
  std::vector<absl::Time> sigterm_at;
  std::vector<absl::Duration> drain_time;
  std::vector<absl::Duration> replace_time;
  std::vector<int> exit_codes;
  absl::Duration slowest_call;
  int held_calls_in_flight = 0;  // held calls running when their replica got SIGTERM
  int held_calls_ok = 0;
  bool out_of_slots = false;
};

// Runs the load, restarts replica 1 then replica 2, stops the load. `in_rotation`: each
// replica stays in the client's list until it has exited, with a BookSlot held in flight on it;
// else it leaves the list kEndpointsLag after its SIGTERM.
void RollingRestart(bool in_rotation, Result& r) {
  auto stack_or = Stack::Start(testing::SharedMariaDb());
  ASSERT_TRUE(stack_or.ok()) << stack_or.status();
  Stack& stack = **stack_or;
  ASSERT_TRUE(stack.CreateTenant().ok());
  std::vector<std::unique_ptr<testing::ServiceProcess>> replicas;
  Replicas client;
  for (int k = 0; k < 2; ++k) {
    auto replica = stack.StartAccess();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replicas.push_back(*std::move(replica));
  }
  client.SetTargets({replicas[0]->grpc_target(), replicas[1]->grpc_target()});
  auto direct = av1::AccessService::NewStub(
      grpc::CreateChannel(replicas[0]->grpc_target(), grpc::InsecureChannelCredentials()));
  const absl::Time first =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(48)) / 3600 * 3600);
  // Two more slots for the held calls.
  auto slots = stack.PublishSlots(*direct, first, kSlots + 2);
  ASSERT_TRUE(slots.ok()) << slots.status();
  const std::string& token = stack.booker_token();

  std::atomic<bool> stop{false};
  std::atomic<int> next_slot{0};
  std::mutex mu;
  const auto call = [&](const std::function<grpc::Status(av1::AccessService::Stub&)>& rpc,
                        const std::string& what) {
    const absl::Time start = absl::Now();
    const RetryOutcome out = CallWithRetry(
        [&] {
          const auto [target, stub] = client.Next();
          Attempt a{target, absl::Now(), absl::Time(), grpc::StatusCode::OK};
          grpc::Status st = rpc(*stub);
          a.end = absl::Now();
          a.code = st.error_code();
          std::lock_guard lock(mu);
          r.attempts.push_back(std::move(a));
          return st;
        },
        absl::Now() + absl::Seconds(30), /*retry_aborted=*/false);
    std::lock_guard lock(mu);
    ++r.calls;
    r.slowest_call = std::max(r.slowest_call, absl::Now() - start);
    if (!out.status.ok()) {
      r.failures.push_back(
          absl::StrCat(what, ": code ", out.status.error_code(), " ", out.status.error_message()));
    }
    return out.status.ok();
  };
  std::vector<std::thread> threads;
  threads.reserve(kBookThreads + kSearchThreads);
  for (int t = 0; t < kBookThreads; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        const int i = next_slot.fetch_add(1);
        if (i >= kSlots) {
          r.out_of_slots = true;
          return;
        }
        const std::string request_id = absl::StrCat("rr-", i);
        const av1::BookSlotRequest req = BookRequest((*slots)[static_cast<size_t>(i)], request_id);
        av1::BookSlotResponse resp;
        if (call(
                [&](av1::AccessService::Stub& s) {
                  resp.Clear();
                  return s.BookSlot(Ctx(token, absl::Seconds(10)).get(), req, &resp);
                },
                request_id)) {
          std::lock_guard lock(mu);
          r.acked[request_id] = resp.booking().id();
        }
        absl::SleepFor(kPacing);
      }
    });
  }
  for (int t = 0; t < kSearchThreads; ++t) {
    threads.emplace_back([&] {
      av1::SearchSlotsRequest search;
      search.mutable_start_time()->set_seconds(absl::ToUnixSeconds(first));
      search.mutable_end_time()->set_seconds(absl::ToUnixSeconds(first + absl::Hours(24)));
      search.add_communes(Stack::commune());
      while (!stop.load()) {
        av1::SearchSlotsResponse found;
        call(
            [&](av1::AccessService::Stub& s) {
              found.Clear();
              return s.SearchSlots(Ctx(token, absl::Seconds(10)).get(), search, &found);
            },
            "search");
        absl::SleepFor(kPacing);
      }
    });
  }

  absl::SleepFor(absl::Seconds(2));
  for (size_t k = 0; k < 2; ++k) {
    const size_t other = 1 - k;
    r.stopped_targets.push_back(replicas[k]->grpc_target());
    std::thread held;
    std::unique_ptr<platform::db::ConnectionPool> lock_pool;
    std::optional<platform::db::ConnectionPool::Lease> lock;
    if (in_rotation) {
      // A BookSlot held in its handler by a row lock the test takes on its slot: certainly in
      // flight at the SIGTERM, and released only once the replica refuses new calls.
      platform::db::DbConfig config = stack.access_schema().migrator;
      config.pool_size = 1;
      lock_pool = platform::db::ConnectionPool::Create(config);
      auto lease = lock_pool->Acquire(absl::Now() + absl::Seconds(10));
      ASSERT_TRUE(lease.ok()) << lease.status();
      lock.emplace(*std::move(lease));
      const std::string held_slot = (*slots)[static_cast<size_t>(kSlots) + k];
      ASSERT_TRUE((*lock)->Execute("START TRANSACTION").ok());
      try {
        sql::PreparedStatement& ps =
            (*lock)->Prepare("SELECT id FROM snp_slots WHERE tenant_id = ? AND id = ? FOR UPDATE");
        ps.setString(1, stack.tenant());
        ps.setString(2, held_slot);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        ASSERT_TRUE(rs->next());
      } catch (const sql::SQLException& e) {
        FAIL() << platform::db::MapSqlException(e, "lock a slot");
      }
      held = std::thread([&, k, held_slot, target = replicas[k]->grpc_target()] {
        auto stub = av1::AccessService::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
        const std::string request_id = absl::StrCat("rr-held-", k);
        av1::BookSlotResponse resp;
        const absl::Time start = absl::Now();
        const grpc::Status st = stub->BookSlot(Ctx(token, absl::Seconds(30)).get(),
                                               BookRequest(held_slot, request_id), &resp);
        const absl::Time end = absl::Now();
        std::lock_guard guard(mu);
        if (r.sigterm_at.size() > k && start < r.sigterm_at[k] && end > r.sigterm_at[k]) {
          ++r.held_calls_in_flight;
        }
        if (st.ok()) {
          ++r.held_calls_ok;
          r.acked[request_id] = resp.booking().id();
        } else {
          r.failures.push_back(
              absl::StrCat(request_id, ": code ", st.error_code(), " ", st.error_message()));
        }
      });
      absl::SleepFor(kHold);  // the call is in its handler, waiting for the row lock
    }
    {
      std::lock_guard guard(mu);
      r.sigterm_at.push_back(absl::Now());
    }
    int exit_code = -1;
    std::thread stopper([&, k] { exit_code = replicas[k]->Stop(); });  // SIGTERM, waits
    if (in_rotation) {
      // Past the lame duck, new calls are refused; the held call goes on until released.
      absl::SleepFor(kLameDuck + kHold);
      EXPECT_TRUE((*lock)->Execute("ROLLBACK").ok());
      lock.reset();
    } else {
      absl::SleepFor(kEndpointsLag);
      client.SetTargets({replicas[other]->grpc_target()});
    }
    stopper.join();
    r.exit_codes.push_back(exit_code);
    r.drain_time.push_back(absl::Now() - r.sigterm_at.back());
    if (held.joinable()) held.join();
    auto replacement = stack.StartAccess();
    ASSERT_TRUE(replacement.ok()) << replacement.status();
    replicas[k] = *std::move(replacement);
    client.SetTargets({replicas[0]->grpc_target(), replicas[1]->grpc_target()});
    r.replace_time.push_back(absl::Now() - r.sigterm_at.back());
    absl::SleepFor(absl::Seconds(2));
  }
  stop = true;
  for (std::thread& th : threads) th.join();

  // Every acknowledged booking is stored exactly once.
  platform::db::DbConfig config = stack.access_schema().migrator;
  config.pool_size = 1;
  auto pool = platform::db::ConnectionPool::Create(config);
  auto lease = pool->Acquire(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(lease.ok()) << lease.status();
  std::map<std::string, std::string> stored;  // request_id -> id
  int rows = 0;
  try {
    sql::PreparedStatement& ps = (*lease)->Prepare(
        "SELECT request_id, id FROM snp_bookings WHERE tenant_id = ? AND request_id LIKE 'rr-%'");
    ps.setString(1, stack.tenant());
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    while (rs->next()) {
      ++rows;
      stored[rs->getString(1)] = rs->getString(2);
    }
  } catch (const sql::SQLException& e) {
    FAIL() << platform::db::MapSqlException(e, "read bookings");
  }
  EXPECT_EQ(static_cast<size_t>(rows), stored.size()) << "a request stored twice";
  EXPECT_EQ(stored.size(), r.acked.size()) << "stored bookings nobody was told about";
  for (const auto& [request_id, id] : r.acked) EXPECT_EQ(stored[request_id], id) << request_id;
}

// Checks shared by both modes; prints the figures; returns the attempts by gRPC code.
std::map<grpc::StatusCode, int> CheckAndPrint(const char* mode, const Result& r) {
  EXPECT_TRUE(r.failures.empty()) << r.failures.size()
                                  << " failed calls, first: " << r.failures.front();
  EXPECT_FALSE(r.out_of_slots) << "raise kSlots";
  std::map<grpc::StatusCode, int> codes;
  EXPECT_EQ(r.sigterm_at.size(), 2u);
  if (r.sigterm_at.size() != 2) return codes;
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(r.exit_codes[k], 0) << "replica " << k + 1 << " did not drain cleanly";
  }
  int ok_after_last_restart = 0;
  for (const Attempt& a : r.attempts) {
    ++codes[a.code];
    if (a.code == grpc::StatusCode::OK && a.start > r.sigterm_at[1] + r.replace_time[1]) {
      ++ok_after_last_restart;
    }
    // Refused calls are UNAVAILABLE, never CANCELLED (which a Shutdown with calls still
    // arriving would answer: grpc/grpc#41785).
    EXPECT_TRUE(a.code == grpc::StatusCode::OK || a.code == grpc::StatusCode::UNAVAILABLE)
        << mode << ": " << a.target << " code " << a.code << " started "
        << absl::FormatDuration(a.start - r.sigterm_at[0]) << " after the first SIGTERM";
  }
  EXPECT_GT(ok_after_last_restart, 20) << "the load ran through both restarts";
  EXPECT_GT(r.acked.size(), 100u);
  std::string by_code;
  for (const auto& [code, n] : codes) absl::StrAppend(&by_code, "code ", code, ": ", n, "; ");
  std::printf(
      "AVAILABILITY rolling-restart (%s): %d calls (%zu bookings acknowledged), %zu failed; "
      "attempts by gRPC code: %sdrain %s / %s (exit %d / %d); SIGTERM to replacement serving "
      "%s / %s; held calls in flight at SIGTERM %d, completed OK %d; slowest call incl. "
      "retries %s\n",
      mode, r.calls, r.acked.size(), r.failures.size(), by_code.c_str(),
      absl::FormatDuration(r.drain_time[0]).c_str(), absl::FormatDuration(r.drain_time[1]).c_str(),
      r.exit_codes[0], r.exit_codes[1], absl::FormatDuration(r.replace_time[0]).c_str(),
      absl::FormatDuration(r.replace_time[1]).c_str(), r.held_calls_in_flight, r.held_calls_ok,
      absl::FormatDuration(r.slowest_call).c_str());
  return codes;
}

TEST(RollingRestartTest, EndpointsFollowZeroFailedCallsRetryingUnavailableOnly) {
  Result r;
  RollingRestart(/*in_rotation=*/false, r);
  if (HasFatalFailure()) return;
  const auto codes = CheckAndPrint("out of the list during the lame duck", r);
  EXPECT_EQ(codes.count(grpc::StatusCode::UNAVAILABLE), 0u)
      << "the replica left the list during its lame duck: no call was refused";
  for (absl::Duration d : r.drain_time) EXPECT_GE(d, kLameDuck) << "the lame duck was served";
}

TEST(RollingRestartTest, InRotationZeroFailedCallsRetryingUnavailableOnly) {
  Result r;
  RollingRestart(/*in_rotation=*/true, r);
  if (HasFatalFailure()) return;
  auto codes = CheckAndPrint("in the list until exit", r);
  EXPECT_GT(codes[grpc::StatusCode::UNAVAILABLE], 0)
      << "new calls reached the stopping replicas, to be refused";
  EXPECT_EQ(r.held_calls_in_flight, 2) << "the held call must be running at the SIGTERM";
  EXPECT_EQ(r.held_calls_ok, 2) << "in-flight calls are drained, not cut";
  for (absl::Duration d : r.drain_time) {
    EXPECT_GE(d, kLameDuck + kHold) << "the drain waited for the call";
  }
}

}  // namespace
}  // namespace cpts::availability
