// Availability: a 3-node Galera cluster on loopback, the real membership and access servers
// connected to it through a --db_host failover list (one writer: node 1 while it lives), a
// steady load of BookSlot, and node 1 killed with SIGKILL mid-load. The services must recover
// without a restart, every booking acknowledged to a client must be present exactly once on
// the surviving nodes, no slot may be booked twice, and the time without writes is measured.
//
// A control replica of access configured with node 1 only (no failover list) runs beside it:
// it must stop writing when node 1 dies. That is what this test would observe for the main
// replica without failover support in the connection pool.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/testing/galera_cluster.h"
#include "tests/availability/availability_fixture.h"

namespace cpts::availability {
namespace {

constexpr int kMainSlots = 1500;
constexpr int kControlSlots = 300;
constexpr int kThreads = 3;
constexpr absl::Duration kPacing = absl::Milliseconds(25);  // per client thread, between calls
constexpr absl::Duration kWarmUp = absl::Seconds(3);
constexpr absl::Duration kAfterKill = absl::Seconds(10);

struct Ack {
  int index;
  std::string slot_id;
  std::string booking_id;
  absl::Time at;
  int attempts;
};

bool Alive(pid_t pid) {
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, WNOHANG) == 0;
}

// (request_id, slot_id, booking id) of every booking of the tenant, read on one node only
// after it has applied everything the cluster committed before (wsrep_sync_wait).
struct Row {
  std::string id;
  std::string slot_id;
  std::string request_id;
  std::string state;
};
absl::StatusOr<std::vector<Row>> ReadBookings(const testing::TestSchema& schema, int port,
                                              const std::string& tenant) {
  platform::db::DbConfig config = schema.migrator;
  config.host = "127.0.0.1";
  config.port = port;
  config.pool_size = 1;
  auto pool = platform::db::ConnectionPool::Create(config);
  auto lease = pool->Acquire(absl::Now() + absl::Seconds(10));
  if (!lease.ok()) return lease.status();
  try {
    if (absl::Status s = (*lease)->Execute("SET SESSION wsrep_sync_wait = 1"); !s.ok()) return s;
    sql::PreparedStatement& ps = (*lease)->Prepare(
        "SELECT id, slot_id, COALESCE(request_id, ''), state FROM snp_bookings "
        "WHERE tenant_id = ? ORDER BY id");
    ps.setString(1, tenant);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    std::vector<Row> rows;
    while (rs->next()) {
      rows.push_back({rs->getString(1), rs->getString(2), rs->getString(3), rs->getString(4)});
    }
    return rows;
  } catch (const sql::SQLException& e) {
    return platform::db::MapSqlException(e, "read bookings");
  }
}

TEST(WriterKillTest, BookingsSurviveTheWriterNodeDying) {
  const absl::Time setup_start = absl::Now();
  auto cluster = testing::GaleraCluster::Start(CPTS_SOURCE_DIR "/scripts/galera.sh");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const absl::Duration cluster_start = absl::Now() - setup_start;
  // Schemas and users are created through the failover list too; they replicate.
  std::unique_ptr<testing::MariaDbServer> db = (*cluster)->Admin(0);
  auto stack = Stack::Start(*db);
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto access = (*stack)->StartAccess();  // --db_host=n1,n2,n3
  ASSERT_TRUE(access.ok()) << access.status();
  auto control = (*stack)->StartAccess(absl::StrCat("127.0.0.1:", (*cluster)->port(1)));
  ASSERT_TRUE(control.ok()) << control.status();
  ASSERT_TRUE((*stack)->CreateTenant().ok());

  auto stub = av1::AccessService::NewStub(
      grpc::CreateChannel((*access)->grpc_target(), grpc::InsecureChannelCredentials()));
  auto control_stub = av1::AccessService::NewStub(
      grpc::CreateChannel((*control)->grpc_target(), grpc::InsecureChannelCredentials()));
  const absl::Time first =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(48)) / 3600 * 3600);
  auto slots = (*stack)->PublishSlots(*stub, first, kMainSlots + kControlSlots);
  ASSERT_TRUE(slots.ok()) << slots.status();
  ASSERT_EQ(slots->size(), size_t{kMainSlots + kControlSlots});
  const std::string& token = (*stack)->booker_token();

  // The load.
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  std::atomic<bool> out_of_slots{false};
  std::mutex mu;
  std::vector<Ack> acks;
  std::vector<std::string> failures;
  std::map<std::string, int> retried_codes;
  std::vector<absl::Time> control_acks;
  const absl::Time load_start = absl::Now();
  std::vector<std::thread> threads;
  threads.reserve(kThreads + 1);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        const int i = next.fetch_add(1);
        if (i >= kMainSlots) {
          out_of_slots = true;
          return;
        }
        const std::string slot_id = (*slots)[static_cast<size_t>(i)];
        const av1::BookSlotRequest req = BookRequest(slot_id, absl::StrCat("wk-", i));
        av1::BookSlotResponse resp;
        const RetryOutcome out = CallWithRetry(
            [&] {
              resp.Clear();
              return stub->BookSlot(Ctx(token, absl::Seconds(10)).get(), req, &resp);
            },
            absl::Now() + absl::Seconds(30), /*retry_aborted=*/true);
        const absl::Time now = absl::Now();
        std::lock_guard lock(mu);
        for (grpc::StatusCode c : out.retried) ++retried_codes[absl::StrCat(c)];
        if (out.status.ok()) {
          acks.push_back({i, slot_id, resp.booking().id(), now, out.attempts});
        } else {
          failures.push_back(absl::StrCat("wk-", i, ": code ", out.status.error_code(), " ",
                                          out.status.error_message()));
        }
        absl::SleepFor(kPacing);
      }
    });
  }
  // The control replica: node 1 only. Short retries, so that it keeps trying new bookings.
  threads.emplace_back([&] {
    for (int i = 0; i < kControlSlots && !stop.load(); ++i) {
      const std::string& slot_id =
          (*slots)[static_cast<size_t>(kMainSlots) + static_cast<size_t>(i)];
      const av1::BookSlotRequest req = BookRequest(slot_id, absl::StrCat("ctl-", i));
      av1::BookSlotResponse resp;
      const RetryOutcome out = CallWithRetry(
          [&] { return control_stub->BookSlot(Ctx(token, absl::Seconds(2)).get(), req, &resp); },
          absl::Now() + absl::Seconds(1), /*retry_aborted=*/true);
      if (out.status.ok()) {
        std::lock_guard lock(mu);
        control_acks.push_back(absl::Now());
      }
      absl::SleepFor(kPacing * 4);
    }
  });

  absl::SleepFor(kWarmUp);
  const absl::Time killed_at = absl::Now();
  ASSERT_TRUE((*cluster)->Kill(1).ok());
  absl::SleepFor(kAfterKill);
  stop = true;
  for (std::thread& th : threads) th.join();
  const absl::Time load_end = absl::Now();

  // No call failed for a client that retries; the load never ran dry.
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls, first: " << failures[0];
  EXPECT_FALSE(out_of_slots.load()) << "raise kMainSlots";

  // The services were never restarted: the same processes still run.
  EXPECT_TRUE(Alive((*access)->pid())) << (*access)->ReadLog();
  EXPECT_TRUE(Alive((*control)->pid()));
  EXPECT_TRUE(Alive((*stack)->membership().pid()));

  // Writes before and after the kill; the longest gap between two acknowledged writes.
  std::sort(acks.begin(), acks.end(), [](const Ack& a, const Ack& b) { return a.at < b.at; });
  ASSERT_FALSE(acks.empty());
  int before = 0;
  int after = 0;
  absl::Duration longest_gap = acks.front().at - load_start;
  absl::Time gap_end = acks.front().at;
  absl::Time first_after_kill = absl::InfiniteFuture();
  for (size_t k = 0; k < acks.size(); ++k) {
    (acks[k].at < killed_at ? before : after)++;
    if (acks[k].at >= killed_at && first_after_kill == absl::InfiniteFuture()) {
      first_after_kill = acks[k].at;
    }
    if (k > 0 && acks[k].at - acks[k - 1].at > longest_gap) {
      longest_gap = acks[k].at - acks[k - 1].at;
      gap_end = acks[k].at;
    }
  }
  const absl::Duration tail_gap = load_end - acks.back().at;
  EXPECT_GT(before, 20);
  EXPECT_GT(after, 20) << "the service must keep writing after the writer node died";
  EXPECT_LT(tail_gap, absl::Seconds(2)) << "writes stopped before the end of the load";
  EXPECT_LT(longest_gap, absl::Seconds(15));
  int max_attempts = 0;
  for (const Ack& a : acks) max_attempts = std::max(max_attempts, a.attempts);

  // Without failover (the control replica, node 1 only) writes stop for good at the kill.
  int control_before = 0;
  int control_after = 0;
  for (absl::Time t : control_acks) {
    if (t < killed_at) ++control_before;
    if (t > killed_at + absl::Seconds(1)) ++control_after;
  }
  EXPECT_GT(control_before, 0) << "the control replica worked before the kill";
  EXPECT_EQ(control_after, 0) << "a single-host pool cannot write once its node is dead";

  // Every acknowledged booking is on both survivors, exactly once; no slot booked twice.
  std::map<std::string, const Ack*> acked_by_request;
  for (const Ack& a : acks) acked_by_request[absl::StrCat("wk-", a.index)] = &a;
  std::vector<std::vector<Row>> per_node;
  for (int node : {2, 3}) {
    auto rows = ReadBookings((*stack)->access_schema(), (*cluster)->port(node), (*stack)->tenant());
    ASSERT_TRUE(rows.ok()) << "node " << node << ": " << rows.status();
    std::map<std::string, int> by_request;
    std::map<std::string, int> by_slot;
    for (const Row& r : *rows) {
      if (!absl::StartsWith(r.request_id, "wk-")) continue;  // the control replica's
      ++by_request[r.request_id];
      ++by_slot[r.slot_id];
      EXPECT_EQ(r.state, "BOOKED") << r.id;
    }
    int present = 0;
    for (const auto& [request_id, ack] : acked_by_request) {
      const auto it = by_request.find(request_id);
      if (it == by_request.end()) {
        ADD_FAILURE() << "node " << node << ": acknowledged booking " << ack->booking_id << " ("
                      << request_id << ") is missing";
        continue;
      }
      EXPECT_EQ(it->second, 1) << request_id << " duplicated";
      ++present;
    }
    for (const auto& [slot, count] : by_slot) EXPECT_EQ(count, 1) << "slot " << slot;
    for (const auto& [request_id, count] : by_request) {
      EXPECT_TRUE(acked_by_request.contains(request_id))
          << "node " << node << ": " << request_id << " present but never acknowledged";
    }
    for (const Row& r : *rows) {
      if (const auto it = acked_by_request.find(r.request_id); it != acked_by_request.end()) {
        EXPECT_EQ(r.id, it->second->booking_id) << "the acknowledged booking id is the stored one";
      }
    }
    std::printf("AVAILABILITY writer-kill node%d: %zu acknowledged, %d present, %zu rows\n", node,
                acked_by_request.size(), present, by_request.size());
    per_node.push_back(*std::move(rows));
  }
  ASSERT_EQ(per_node.size(), 2u);
  EXPECT_EQ(per_node[0].size(), per_node[1].size()) << "the survivors disagree";

  std::string retried;
  for (const auto& [code, count] : retried_codes) absl::StrAppend(&retried, code, "x", count, " ");
  std::printf(
      "AVAILABILITY writer-kill: cluster start %s; load %s, %d client threads; %zu bookings "
      "acknowledged (%d before the kill, %d after), %zu failed; longest gap between two "
      "acknowledged writes %s (ending %s after the kill); first write completed after the kill "
      "%s after it; retried attempts by gRPC code: %s; max attempts of one call %d; control "
      "replica (node 1 only): %d writes before the kill, %d after\n",
      absl::FormatDuration(cluster_start).c_str(),
      absl::FormatDuration(load_end - load_start).c_str(), kThreads, acks.size(), before, after,
      failures.size(), absl::FormatDuration(longest_gap).c_str(),
      absl::FormatDuration(gap_end - killed_at).c_str(),
      absl::FormatDuration(first_after_kill - killed_at).c_str(), retried.c_str(), max_attempts,
      control_before, control_after);
  ::testing::Test::RecordProperty("longest_write_gap_ms",
                                  static_cast<int>(absl::ToInt64Milliseconds(longest_gap)));
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acks.size()));
}

}  // namespace
}  // namespace cpts::availability
