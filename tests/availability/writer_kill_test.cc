// Availability: a 3-node Galera cluster on loopback, the real membership, access and projects
// servers connected to it through a --db_host failover list (one writer: node 1 while it lives),
// a steady load of BookSlot and of CloseAttendance on prepared meetings, and node 1 killed with
// SIGKILL mid-load. The services must recover without a restart; every booking and every close
// acknowledged to a client must be present exactly once on the surviving nodes (a closed sheet
// with one outbox event per line, none twice); no slot may be booked twice; and the time without
// writes is measured for each load.
//
// A control replica of access configured with node 1 only (no failover list) runs beside it:
// it must stop writing when node 1 dies. That is what this test would observe for the main
// replicas without failover support in the connection pool.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cpts/projects/v1/events.pb.h"
#include "gtest/gtest.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/testing/galera_cluster.h"
#include "tests/availability/availability_fixture.h"

namespace cpts::availability {
namespace {

// Client threads pause between calls: each load has a ceiling (threads x load time / pacing)
// below the number of slots or meetings prepared, whatever the latency.
constexpr int kMainSlots = 1500;
constexpr int kControlSlots = 300;
constexpr int kThreads = 3;
constexpr absl::Duration kPacing = absl::Milliseconds(50);
// The closes: fewer, because each needs a meeting prepared before the load.
constexpr int kMeetings = 300;
constexpr int kCloseThreads = 2;
constexpr absl::Duration kClosePacing = absl::Milliseconds(100);
constexpr absl::Duration kWarmUp = absl::Seconds(3);
constexpr absl::Duration kAfterKill = absl::Seconds(10);
// attendance_sheets.state: services/projects/model.h, SheetState.
constexpr int kSheetRecorded = 2;
constexpr int kSheetClosed = 3;

struct Ack {
  int index;
  std::string id;  // the booking's; for a close, the meeting's
  absl::Time at;
  int attempts;
};

bool Alive(pid_t pid) {
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, WNOHANG) == 0;
}

// The rows of `query` (one ? bound to the tenant), as strings, read on one node only after it
// has applied everything the cluster committed before (wsrep_sync_wait).
absl::StatusOr<std::vector<std::vector<std::string>>> ReadRows(const testing::TestSchema& schema,
                                                               int port, const std::string& query,
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
    sql::PreparedStatement& ps = (*lease)->Prepare(query);
    ps.setString(1, tenant);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    const unsigned columns = rs->getMetaData()->getColumnCount();
    std::vector<std::vector<std::string>> rows;
    while (rs->next()) {
      std::vector<std::string> row;
      row.reserve(columns);
      for (unsigned c = 1; c <= columns; ++c) row.emplace_back(rs->getString(c));
      rows.push_back(std::move(row));
    }
    return rows;
  } catch (const sql::SQLException& e) {
    return platform::db::MapSqlException(e, "read rows");
  }
}

// The writes of one load, seen from the clients: how many completed before and after the kill,
// and the longest time without one.
struct Gaps {
  int before = 0;
  int after = 0;
  absl::Duration longest;
  absl::Duration longest_ends_after_kill;
  absl::Duration first_after_kill = absl::InfiniteDuration();
  absl::Duration tail;  // from the last write to the end of the load
};
Gaps Measure(std::vector<absl::Time> at, absl::Time load_start, absl::Time killed_at,
             absl::Time load_end) {
  Gaps g;
  if (at.empty()) return g;
  std::sort(at.begin(), at.end());
  g.longest = at.front() - load_start;
  g.longest_ends_after_kill = at.front() - killed_at;
  for (size_t k = 0; k < at.size(); ++k) {
    (at[k] < killed_at ? g.before : g.after)++;
    if (at[k] >= killed_at && g.first_after_kill == absl::InfiniteDuration()) {
      g.first_after_kill = at[k] - killed_at;
    }
    if (k > 0 && at[k] - at[k - 1] > g.longest) {
      g.longest = at[k] - at[k - 1];
      g.longest_ends_after_kill = at[k] - killed_at;
    }
  }
  g.tail = load_end - at.back();
  return g;
}

std::vector<absl::Time> Times(const std::vector<Ack>& acks) {
  std::vector<absl::Time> out;
  out.reserve(acks.size());
  for (const Ack& a : acks) out.push_back(a.at);
  return out;
}

std::string Describe(const Gaps& g) {
  return absl::StrCat(g.before, " before the kill, ", g.after,
                      " after; longest gap between two acknowledged writes ",
                      absl::FormatDuration(g.longest), " (ending ",
                      absl::FormatDuration(g.longest_ends_after_kill),
                      " after the kill); first write completed after the kill ",
                      absl::FormatDuration(g.first_after_kill), " after it");
}

TEST(WriterKillTest, WritesSurviveTheWriterNodeDying) {
  const absl::Time setup_start = absl::Now();
  auto cluster = testing::GaleraCluster::Start(CPTS_SOURCE_DIR "/scripts/galera.sh");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const absl::Time cluster_up = absl::Now();
  // Schemas and users are created through the failover list too; they replicate.
  std::unique_ptr<testing::MariaDbServer> db = (*cluster)->Admin(0);
  auto stack = Stack::Start(*db);
  ASSERT_TRUE(stack.ok()) << stack.status();
  auto access = (*stack)->StartAccess();  // --db_host=n1,n2,n3
  ASSERT_TRUE(access.ok()) << access.status();
  auto control = (*stack)->StartAccess(absl::StrCat("127.0.0.1:", (*cluster)->port(1)));
  ASSERT_TRUE(control.ok()) << control.status();
  auto projects = (*stack)->StartProjects();  // --db_host=n1,n2,n3
  ASSERT_TRUE(projects.ok()) << projects.status();
  ASSERT_TRUE((*stack)->CreateTenant().ok());

  auto stub = av1::AccessService::NewStub(
      grpc::CreateChannel((*access)->grpc_target(), grpc::InsecureChannelCredentials()));
  auto control_stub = av1::AccessService::NewStub(
      grpc::CreateChannel((*control)->grpc_target(), grpc::InsecureChannelCredentials()));
  auto projects_stub = pv1::ProjectsService::NewStub(
      grpc::CreateChannel((*projects)->grpc_target(), grpc::InsecureChannelCredentials()));
  const absl::Time first =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(48)) / 3600 * 3600);
  // The meetings are prepared while the slots are published: most of their preparation is
  // waiting for them to start.
  absl::StatusOr<HeldMeetings> meetings;
  absl::Duration prepare;
  std::thread preparing([&] {
    const absl::Time prepare_start = absl::Now();
    meetings = (*stack)->PrepareHeldMeetings(*projects_stub, kMeetings);
    prepare = absl::Now() - prepare_start;
  });
  auto slots = (*stack)->PublishSlots(*stub, first, kMainSlots + kControlSlots);
  preparing.join();
  ASSERT_TRUE(slots.ok()) << slots.status();
  ASSERT_EQ(slots->size(), size_t{kMainSlots + kControlSlots});
  ASSERT_TRUE(meetings.ok()) << meetings.status();
  ASSERT_EQ(meetings->participant_ids.size(), 2u);
  const absl::Duration setup = absl::Now() - cluster_up;
  const std::string& token = (*stack)->booker_token();
  const std::string& coordinator = (*stack)->coordinator_token();

  // The load.
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  std::atomic<bool> out_of_slots{false};
  std::atomic<int> next_meeting{0};
  std::atomic<bool> out_of_meetings{false};
  std::mutex mu;
  std::vector<Ack> acks;
  std::vector<Ack> closes;
  std::vector<std::string> failures;
  std::map<std::string, int> retried_codes;
  std::vector<absl::Time> control_acks;
  const absl::Time load_start = absl::Now();
  std::vector<std::thread> threads;
  threads.reserve(kThreads + kCloseThreads + 1);
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
        {
          std::lock_guard lock(mu);
          for (grpc::StatusCode c : out.retried) ++retried_codes[absl::StrCat("book ", c)];
          if (out.status.ok()) {
            acks.push_back({i, resp.booking().id(), now, out.attempts});
            EXPECT_EQ(resp.booking().slot_id(), slot_id);
          } else {
            failures.push_back(absl::StrCat("wk-", i, ": code ", out.status.error_code(), " ",
                                            out.status.error_message()));
          }
        }
        absl::SleepFor(kPacing);
      }
    });
  }
  // The closes: each meeting's sheet once, with a request id, so that a retry after a lost
  // answer replays the stored close instead of failing on a closed sheet.
  for (int t = 0; t < kCloseThreads; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        const int i = next_meeting.fetch_add(1);
        if (i >= kMeetings) {
          out_of_meetings = true;
          return;
        }
        pv1::CloseAttendanceRequest req;
        req.set_meeting_id(meetings->meeting_ids[static_cast<size_t>(i)]);
        req.set_request_id(absl::StrCat("wk-close-", i));
        pv1::CloseAttendanceResponse resp;
        const RetryOutcome out = CallWithRetry(
            [&] {
              resp.Clear();
              return projects_stub->CloseAttendance(Ctx(coordinator, absl::Seconds(10)).get(), req,
                                                    &resp);
            },
            absl::Now() + absl::Seconds(30), /*retry_aborted=*/true);
        const absl::Time now = absl::Now();
        {
          std::lock_guard lock(mu);
          for (grpc::StatusCode c : out.retried) ++retried_codes[absl::StrCat("close ", c)];
          if (out.status.ok()) {
            closes.push_back({i, req.meeting_id(), now, out.attempts});
            EXPECT_EQ(resp.sheet().state(), pv1::ATTENDANCE_SHEET_STATE_CLOSED) << req.meeting_id();
            EXPECT_EQ(resp.sheet().version(), 1) << req.meeting_id();
          } else {
            failures.push_back(absl::StrCat("wk-close-", i, ": code ", out.status.error_code(), " ",
                                            out.status.error_message()));
          }
        }
        absl::SleepFor(kClosePacing);
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

  // No call failed for a client that retries; the loads never ran dry.
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed calls, first: " << failures[0];
  EXPECT_FALSE(out_of_slots.load()) << "raise kMainSlots";
  EXPECT_FALSE(out_of_meetings.load()) << "raise kMeetings";

  // The services were never restarted: the same processes still run.
  EXPECT_TRUE(Alive((*access)->pid())) << (*access)->ReadLog();
  EXPECT_TRUE(Alive((*projects)->pid())) << (*projects)->ReadLog();
  EXPECT_TRUE(Alive((*control)->pid()));
  EXPECT_TRUE(Alive((*stack)->membership().pid()));
  // They are not needed any more. Each graceful stop takes a while (lame duck, drain): start
  // them all now, so that they run together and beside the checks below.
  for (const pid_t pid :
       {(*projects)->pid(), (*access)->pid(), (*control)->pid(), (*stack)->membership().pid()}) {
    ::kill(pid, SIGTERM);
  }

  // Writes before and after the kill; the longest gap between two acknowledged writes, per load
  // and for both together.
  ASSERT_FALSE(acks.empty());
  ASSERT_FALSE(closes.empty());
  const Gaps booking_gaps = Measure(Times(acks), load_start, killed_at, load_end);
  const Gaps close_gaps = Measure(Times(closes), load_start, killed_at, load_end);
  std::vector<absl::Time> all = Times(acks);
  for (const Ack& c : closes) all.push_back(c.at);
  const Gaps all_gaps = Measure(all, load_start, killed_at, load_end);
  EXPECT_GT(booking_gaps.before, 20);
  EXPECT_GT(booking_gaps.after, 20) << "access must keep writing after the writer node died";
  EXPECT_GT(close_gaps.before, 5);
  EXPECT_GT(close_gaps.after, 20) << "projects must keep writing after the writer node died";
  for (const Gaps* g : {&booking_gaps, &close_gaps}) {
    EXPECT_LT(g->tail, absl::Seconds(2)) << "writes stopped before the end of the load";
    EXPECT_LT(g->longest, absl::Seconds(15));
  }
  int max_attempts = 0;
  for (const std::vector<Ack>* v : {&acks, &closes}) {
    for (const Ack& a : *v) max_attempts = std::max(max_attempts, a.attempts);
  }

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
  std::vector<size_t> booking_rows;
  for (int node : {2, 3}) {
    auto rows = ReadRows((*stack)->access_schema(), (*cluster)->port(node),
                         "SELECT id, slot_id, COALESCE(request_id, ''), state FROM snp_bookings "
                         "WHERE tenant_id = ? ORDER BY id",
                         (*stack)->tenant());
    ASSERT_TRUE(rows.ok()) << "node " << node << ": " << rows.status();
    std::map<std::string, int> by_request;
    std::map<std::string, int> by_slot;
    for (const std::vector<std::string>& r : *rows) {
      if (!absl::StartsWith(r[2], "wk-")) continue;  // the control replica's
      ++by_request[r[2]];
      ++by_slot[r[1]];
      EXPECT_EQ(r[3], "BOOKED") << r[0];
      if (const auto it = acked_by_request.find(r[2]); it != acked_by_request.end()) {
        EXPECT_EQ(r[0], it->second->id) << "the acknowledged booking id is the stored one";
      }
    }
    int present = 0;
    for (const auto& [request_id, ack] : acked_by_request) {
      const auto it = by_request.find(request_id);
      if (it == by_request.end()) {
        ADD_FAILURE() << "node " << node << ": acknowledged booking " << ack->id << " ("
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
    std::printf(
        "AVAILABILITY writer-kill node%d: %zu bookings acknowledged, %d present, %zu rows\n", node,
        acked_by_request.size(), present, by_request.size());
    booking_rows.push_back(rows->size());
  }
  ASSERT_EQ(booking_rows.size(), 2u);
  EXPECT_EQ(booking_rows[0], booking_rows[1]) << "the survivors disagree";

  // Every acknowledged close is on both survivors: its sheet closed, one outbox event per line
  // (the référent's, the member's) and no other; no other sheet closed, no event of another.
  std::set<std::string> closed_meetings;
  for (const Ack& c : closes) closed_meetings.insert(c.id);
  EXPECT_EQ(closed_meetings.size(), closes.size()) << "a meeting acknowledged closed twice";
  std::vector<std::pair<size_t, size_t>> close_rows;
  for (int node : {2, 3}) {
    auto sheets = ReadRows((*stack)->projects_schema(), (*cluster)->port(node),
                           "SELECT meeting_id, state FROM attendance_sheets WHERE tenant_id = ?",
                           (*stack)->tenant());
    ASSERT_TRUE(sheets.ok()) << "node " << node << ": " << sheets.status();
    auto events = ReadRows((*stack)->projects_schema(), (*cluster)->port(node),
                           "SELECT event_key, payload FROM outbox_event WHERE tenant_id = ? "
                           "AND topic = 'finance.attendance'",
                           (*stack)->tenant());
    ASSERT_TRUE(events.ok()) << "node " << node << ": " << events.status();
    EXPECT_EQ(sheets->size(), size_t{kMeetings}) << "node " << node;
    int closed = 0;
    for (const std::vector<std::string>& r : *sheets) {
      const int want = closed_meetings.contains(r[0]) ? kSheetClosed : kSheetRecorded;
      EXPECT_EQ(r[1], absl::StrCat(want)) << "node " << node << ": sheet of meeting " << r[0];
      if (r[1] == absl::StrCat(kSheetClosed)) ++closed;
    }
    std::map<std::pair<std::string, std::string>, int> lines;  // (meeting, participant)
    for (const std::vector<std::string>& r : *events) {
      projects::v1::AttendanceEntitlementEvent e;
      ASSERT_TRUE(e.ParseFromString(r[1])) << r[0];
      EXPECT_EQ(e.idempotency_key(), r[0]);
      EXPECT_TRUE(closed_meetings.contains(e.meeting_id()))
          << "node " << node << ": event " << r[0] << " of a close never acknowledged";
      EXPECT_EQ(e.sheet_version(), 1) << r[0];
      EXPECT_FALSE(e.correction() || e.reversal()) << r[0];
      ++lines[{e.meeting_id(), e.participant_id()}];
    }
    int complete = 0;
    for (const std::string& meeting : closed_meetings) {
      bool ok = true;
      for (const std::string& participant : meetings->participant_ids) {
        const auto it = lines.find({meeting, participant});
        const int count = it == lines.end() ? 0 : it->second;
        EXPECT_EQ(count, 1) << "node " << node << ": events of meeting " << meeting
                            << ", participant " << participant;
        ok = ok && count == 1;
      }
      complete += ok ? 1 : 0;
    }
    EXPECT_EQ(events->size(), 2 * closes.size()) << "node " << node;
    std::printf(
        "AVAILABILITY writer-kill node%d: %zu closes acknowledged, %d sheets closed, %d with "
        "exactly one event per line, %zu events\n",
        node, closes.size(), closed, complete, events->size());
    close_rows.emplace_back(sheets->size(), events->size());
  }
  ASSERT_EQ(close_rows.size(), 2u);
  EXPECT_EQ(close_rows[0], close_rows[1]) << "the survivors disagree";

  std::string retried;
  for (const auto& [code, count] : retried_codes) absl::StrAppend(&retried, code, "x", count, " ");
  std::printf(
      "AVAILABILITY writer-kill: cluster start %s; setup %s (of which %d meetings prepared in %s); "
      "load %s, %d booking threads, %d "
      "close threads; %zu failed calls; retried attempts by call and gRPC code: %s; max "
      "attempts of one call %d\n"
      "AVAILABILITY writer-kill bookings: %zu acknowledged, %s\n"
      "AVAILABILITY writer-kill closes: %zu acknowledged, %s\n"
      "AVAILABILITY writer-kill both loads: longest time without any write %s\n"
      "AVAILABILITY writer-kill control replica (node 1 only): %d writes before the kill, %d "
      "after\n",
      absl::FormatDuration(cluster_up - setup_start).c_str(), absl::FormatDuration(setup).c_str(),
      kMeetings, absl::FormatDuration(prepare).c_str(),
      absl::FormatDuration(load_end - load_start).c_str(), kThreads, kCloseThreads, failures.size(),
      retried.c_str(), max_attempts, acks.size(), Describe(booking_gaps).c_str(), closes.size(),
      Describe(close_gaps).c_str(), absl::FormatDuration(all_gaps.longest).c_str(), control_before,
      control_after);
  ::testing::Test::RecordProperty(
      "longest_write_gap_ms", static_cast<int>(absl::ToInt64Milliseconds(booking_gaps.longest)));
  ::testing::Test::RecordProperty("longest_close_gap_ms",
                                  static_cast<int>(absl::ToInt64Milliseconds(close_gaps.longest)));
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acks.size()));
  ::testing::Test::RecordProperty("closes_acknowledged", static_cast<int>(closes.size()));
}

}  // namespace
}  // namespace cpts::availability
