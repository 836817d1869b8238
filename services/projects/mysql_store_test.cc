// Integration tests of MysqlProjectsStore and of the Projects application on it, against a
// real MariaDB (SharedMariaDb()): one schema migrated with {PlatformMigrations(),
// Migrations()} per test process and a fresh tenant per test. The outbox relay is tested with
// an in-process receiver standing for finance.
#include "services/projects/mysql_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cpts/projects/v1/events.pb.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/migrations.h"
#include "services/platform/db/outbox.h"
#include "services/platform/db/transaction.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"
#include "services/projects/convert.h"
#include "services/projects/projects.h"

namespace cpts::projects {
namespace {

using ::cpts::platform::db::ConnectionPool;
using ::cpts::platform::db::OutboxEvent;
using ::cpts::platform::db::OutboxRelay;
using ::cpts::platform::db::test_util::QueryInt;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

struct SharedSchema {
  absl::Status status;
  std::string name;
  std::unique_ptr<ConnectionPool> pool;
};

SharedSchema& Schema() {
  static SharedSchema* const shared = [] {
    auto* s = new SharedSchema;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "projects_store");
    if (!schema.ok()) {
      s->status = schema.status();
      return s;
    }
    s->name = schema->name;
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    s->status =
        platform::db::RunMigrations(*migrator, {platform::db::PlatformMigrations(), Migrations()});
    if (s->status.ok()) s->pool = ConnectionPool::Create(schema->app);
    return s;
  }();
  return *shared;
}

std::string NextTenant() {
  static std::atomic<int> counter{0};
  return absl::StrCat("tenant-", ::testing::UnitTest::GetInstance()->random_seed(), "-", ++counter);
}

// Stands for finance: counts deliveries per event key and applies each key once.
class Receiver {
 public:
  absl::Status Deliver(const OutboxEvent& e) {
    std::lock_guard lock(mu_);
    ++deliveries_[e.event_key];
    v1::AttendanceEntitlementEvent event;
    if (!event.ParseFromString(e.payload)) return absl::InvalidArgumentError("bad payload");
    if (applied_.insert(e.event_key).second) events_.push_back(event);
    return absl::OkStatus();
  }
  int Deliveries(const std::string& key) {
    std::lock_guard lock(mu_);
    return deliveries_[key];
  }
  std::vector<v1::AttendanceEntitlementEvent> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> deliveries_;
  std::set<std::string> applied_;
  std::vector<v1::AttendanceEntitlementEvent> events_;
};

absl::Time Start() {
  return absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone());
}

class ProjectsStoreTest : public ::testing::Test {
 protected:
  ProjectsStoreTest()
      : tenant_(NextTenant()),
        clock_(Start()),
        ids_(absl::StrCat("id", tenant_.substr(7), "x")),
        store_(*Schema().pool, ids_),
        app_(ProjectsDeps{.settings = store_,
                          .missions = store_,
                          .actions = store_,
                          .groups = store_,
                          .tasks = store_,
                          .documents = store_,
                          .meetings = store_,
                          .attendance = store_,
                          .outbox = store_,
                          .members = members_,
                          .clock = clock_,
                          .ids = ids_}) {}

  void SetUp() override { ASSERT_THAT(Schema().status, IsOk()); }

  void PutMember(const std::string& member_id, bool active) {
    members_.Put(tenant_, {.member_id = member_id,
                           .status = active ? membership::MemberStatus::kActive
                                            : membership::MemberStatus::kSuspended});
  }
  Caller Coordinator() const { return {tenant_, "user-coord", "", {"coordinator"}}; }
  Caller Member(const std::string& member_id) const {
    return {tenant_, absl::StrCat("user-", member_id), member_id, {"member"}};
  }
  ConnectionPool& pool() { return *Schema().pool; }
  int64_t Count(const std::string& sql) { return QueryInt(pool(), sql); }
  int64_t OutboxCount() {
    return Count(
        absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_, "'"));
  }

  // A mission's action with one indicator, a group carrying it, `referent` as référent and
  // `member` as active member, both accepted through join requests.
  struct World {
    Action action;
    WorkingGroup group;
    GroupParticipant referent;
    GroupParticipant member;
  };
  World MakeWorld(const std::string& referent = "m-ref", const std::string& member = "m-act") {
    World w;
    PutMember(referent, true);
    PutMember(member, true);
    auto missions = app_.ListMissions(Coordinator());
    EXPECT_THAT(missions, IsOk());
    Action a;
    a.mission_id = missions->front().id;
    a.title = "Parcours diabète";
    a.indicators.push_back({.name = "Patients inclus",
                            .kind = IndicatorKind::kResult,
                            .unit = "patients",
                            .targets = {{.year = 2026, .target = 40}}});
    auto action = app_.CreateAction(Coordinator(), a, {});
    EXPECT_THAT(action, IsOk());
    w.action = *action;
    WorkingGroup g;
    g.name = "Groupe diabète";
    g.action_ids = {w.action.id};
    auto group = app_.CreateWorkingGroup(Coordinator(), g, {});
    EXPECT_THAT(group, IsOk());
    w.group = *group;
    for (const std::string& m : {referent, member}) {
      auto request = app_.RequestToJoin(Member(m), w.group.id, "Je souhaite participer");
      EXPECT_THAT(request, IsOk());
      auto accepted = app_.AcceptJoin(Coordinator(), request->id, "");
      EXPECT_THAT(accepted, IsOk());
      (m == referent ? w.referent : w.member) = accepted->second;
    }
    auto appointed = app_.AppointReferent(Coordinator(), w.group.id, w.referent.id);
    EXPECT_THAT(appointed, IsOk());
    w.referent = *appointed;
    return w;
  }

  // A meeting of the group three days ahead, then the clock moved past its start.
  Meeting HeldMeeting(const World& w) {
    Meeting m;
    m.group_id = w.group.id;
    m.start_time = clock_.Now() + absl::Hours(72);
    m.end_time = m.start_time + absl::Hours(2);
    m.location.place = "Maison de santé, salle 2";
    auto meeting = app_.ScheduleMeeting(Member("m-ref"), m, {});
    EXPECT_THAT(meeting, IsOk());
    clock_.Advance(absl::Hours(75));
    return *meeting;
  }

  std::string tenant_;
  platform::FakeClock clock_;
  platform::SequentialIdGenerator ids_;
  membership::client::FakeMemberDirectory members_;
  MysqlProjectsStore store_;
  Projects app_;
};

TEST_F(ProjectsStoreTest, SettingsAreDefaultsUntilTheCoordinatorChangesThemAudited) {
  auto defaults = app_.GetProjectSettings(Member("m-any"));
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->time_zone, "Europe/Paris");
  EXPECT_EQ(defaults->attendance_payment, AttendancePayment::kPerMeeting);
  EXPECT_EQ(defaults->version, 0);
  const std::vector<std::string> both = {"time_zone", "attendance_payment"};
  const ProjectSettings cayenne{.time_zone = "America/Cayenne",
                                .attendance_payment = AttendancePayment::kPerHour};
  EXPECT_THAT(app_.UpdateProjectSettings(Member("m-any"), cayenne, both, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(app_.UpdateProjectSettings(Coordinator(), cayenne, {}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "update_mask: required"));
  EXPECT_THAT(app_.UpdateProjectSettings(Coordinator(), cayenne, {"hourly"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "update_mask: 'hourly'"));
  EXPECT_THAT(app_.UpdateProjectSettings(Coordinator(), {.time_zone = "Europe/Atlantis"},
                                         {"time_zone"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings.time_zone: unknown"));
  EXPECT_THAT(app_.UpdateProjectSettings(Coordinator(), {}, {"attendance_payment"}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings.attendance_payment"));
  // Refused changes write nothing: no row, no audit.
  auto stored = store_.GetSettings(tenant_);
  ASSERT_THAT(stored, IsOk());
  EXPECT_FALSE(stored->has_value());

  auto changed = app_.UpdateProjectSettings(Coordinator(), cayenne, both, "v0");
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->version, 1);
  EXPECT_EQ(changed->update_time, clock_.Now());
  EXPECT_EQ(changed->updated_by, "user-coord");
  EXPECT_THAT(app_.UpdateProjectSettings(Coordinator(), cayenne, both, "v0"),
              StatusIs(absl::StatusCode::kAborted));
  // A mask of one field leaves the other as it is.
  auto per_meeting = app_.UpdateProjectSettings(
      Coordinator(), {.attendance_payment = AttendancePayment::kPerMeeting}, {"attendance_payment"},
      "v1");
  ASSERT_THAT(per_meeting, IsOk());
  EXPECT_EQ(per_meeting->time_zone, "America/Cayenne");
  EXPECT_EQ(per_meeting->attendance_payment, AttendancePayment::kPerMeeting);
  auto read = app_.GetProjectSettings(Member("m-any"));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->time_zone, "America/Cayenne");
  EXPECT_EQ(read->version, 2);
  EXPECT_EQ(read->update_time, clock_.Now());

  auto lease = pool().Acquire();
  ASSERT_THAT(lease, IsOk());
  auto audit = platform::db::ListAudit(**lease, tenant_, "settings", tenant_, 10);
  ASSERT_THAT(audit, IsOk());
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ(audit->front().action, "projects.SETTINGS_UPDATED");
  EXPECT_EQ(audit->front().actor_subject, "user-coord");
  EXPECT_THAT(audit->front().details, HasSubstr("attendance_payment=PER_MEETING"));
  EXPECT_THAT(audit->back().details, HasSubstr("time_zone=America/Cayenne"));

  // Another tenant still has the defaults.
  const Caller other{"tenant-other-" + tenant_, "user-x", "", {"coordinator"}};
  auto theirs = app_.GetProjectSettings(other);
  ASSERT_THAT(theirs, IsOk());
  EXPECT_EQ(theirs->time_zone, "Europe/Paris");
  EXPECT_EQ(theirs->version, 0);
}

TEST_F(ProjectsStoreTest, ConcurrentFirstSettingsChangesAreSerialised) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      AuditEntry audit{.subject_kind = "settings",
                       .subject_id = tenant_,
                       .action = "SETTINGS_UPDATED",
                       .actor = absl::StrCat("user-", i),
                       .time = clock_.Now()};
      auto r = store_.UpdateSettings(
          tenant_,
          {.time_zone = "Europe/Paris", .attendance_payment = AttendancePayment::kPerMeeting},
          [&](ProjectSettings& s) {
            s.attendance_payment = AttendancePayment::kPerHour;
            s.updated_by = absl::StrCat("user-", i);
            s.update_time = clock_.Now();
            return absl::OkStatus();
          },
          audit);
      if (r.ok()) ok.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  auto stored = store_.GetSettings(tenant_);
  ASSERT_THAT(stored, IsOk());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->version, 4);
  EXPECT_EQ((*stored)->attendance_payment, AttendancePayment::kPerHour);
}

TEST_F(ProjectsStoreTest, TheTenantsSettingsDriveItsSheetsAndDates) {
  World w = MakeWorld();
  // Auckland is 13 hours ahead in March: a 13:00 UTC meeting falls on the next day there.
  ASSERT_THAT(app_.UpdateProjectSettings(Coordinator(),
                                         {.time_zone = "Pacific/Auckland",
                                          .attendance_payment = AttendancePayment::kPerHour},
                                         {"time_zone", "attendance_payment"}, ""),
              IsOk());
  Meeting m;
  m.group_id = w.group.id;
  m.start_time = absl::FromCivil(absl::CivilSecond(2026, 3, 5, 13, 0, 0), absl::UTCTimeZone());
  m.end_time = m.start_time + absl::Hours(2);
  m.location.place = "Maison de santé, salle 2";
  auto meeting = app_.ScheduleMeeting(Coordinator(), m, {});
  ASSERT_THAT(meeting, IsOk());
  clock_.Advance(m.start_time - clock_.Now() + absl::Hours(3));
  auto open = app_.GetAttendanceSheet(Member("m-ref"), meeting->id);
  ASSERT_THAT(open, IsOk());
  EXPECT_TRUE(open->hourly);
  auto recorded = app_.RecordAttendance(
      Member("m-ref"), meeting->id,
      {{.participant_id = w.referent.id, .status = AttendanceStatus::kPresent},
       {.participant_id = w.member.id, .status = AttendanceStatus::kPresent}},
      "");
  ASSERT_THAT(recorded, IsOk());
  EXPECT_TRUE(recorded->hourly);
  // Going back to per meeting now does not change a sheet already recorded.
  ASSERT_THAT(app_.UpdateProjectSettings(Coordinator(),
                                         {.attendance_payment = AttendancePayment::kPerMeeting},
                                         {"attendance_payment"}, ""),
              IsOk());
  EXPECT_THAT(app_.CloseAttendance(Member("m-ref"), meeting->id, "", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no minutes worked"));
  ASSERT_THAT(app_.RecordAttendance(Member("m-ref"), meeting->id,
                                    {{.participant_id = w.referent.id,
                                      .status = AttendanceStatus::kPresent,
                                      .minutes_worked = 120},
                                     {.participant_id = w.member.id,
                                      .status = AttendanceStatus::kPresent,
                                      .minutes_worked = 90}},
                                    ""),
              IsOk());
  ASSERT_THAT(app_.CloseAttendance(Member("m-ref"), meeting->id, "", {}), IsOk());
  for (const std::string& payload : platform::db::test_util::QueryColumn(
           pool(),
           absl::StrCat("SELECT payload FROM outbox_event WHERE tenant_id = '", tenant_, "'"))) {
    v1::AttendanceEntitlementEvent e;
    ASSERT_TRUE(e.ParseFromString(payload));
    EXPECT_EQ(e.meeting_date().day(), 6) << "the meeting's date in Auckland";
  }
  EXPECT_EQ(OutboxCount(), 2);
}

TEST_F(ProjectsStoreTest, MissionsAreSeededOnceAndNumbersStayUnique) {
  auto first = app_.ListMissions(Coordinator());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(*first, SizeIs(6));
  EXPECT_EQ(first->front().number, 1);
  auto again = app_.ListMissions(Coordinator());
  ASSERT_THAT(again, IsOk());
  EXPECT_THAT(*again, SizeIs(6));
  EXPECT_EQ(again->front().id, first->front().id);

  Mission m{.number = 3, .label = "Doublon", .kind = MissionKind::kOptional};
  EXPECT_THAT(app_.CreateMission(Coordinator(), m, {}),
              StatusIs(absl::StatusCode::kAlreadyExists, "mission.number"));
  m.number = 7;
  auto created = app_.CreateMission(Coordinator(), m, {.request_id = "r1", .fingerprint = "f"});
  ASSERT_THAT(created, IsOk());
  auto replay = app_.CreateMission(Coordinator(), m, {.request_id = "r1", .fingerprint = "f"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->id, created->id);
  EXPECT_THAT(app_.CreateMission(Coordinator(), m, {.request_id = "r1", .fingerprint = "g"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id"));
  EXPECT_THAT(app_.CreateMission(Member("m1"), m, {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(ProjectsStoreTest, ActionIndicatorsTargetsAndValuesRoundTrip) {
  const World w = MakeWorld();
  auto read = app_.GetAction(Coordinator(), w.action.id);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->status, ActionStatus::kDraft);
  ASSERT_THAT(read->indicators, SizeIs(1));
  const Indicator indicator = read->indicators.front();
  EXPECT_FALSE(indicator.id.empty());
  EXPECT_THAT(indicator.targets, ElementsAre(YearlyTarget{.year = 2026, .target = 40}));

  EXPECT_THAT(app_.CreateIndicator(
                  Coordinator(), w.action.id,
                  {.name = "Patients inclus", .kind = IndicatorKind::kAction, .unit = "n"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto copied = app_.CopyIndicatorTargets(Coordinator(), w.action.id, 2026, 2027);
  ASSERT_THAT(copied, IsOk());
  EXPECT_EQ(copied->second, 1);
  EXPECT_THAT(app_.ChangeActionStatus(Coordinator(), w.action.id, ActionStatus::kActive, "", "v1"),
              StatusIs(absl::StatusCode::kAborted));  // stale etag: the copy bumped it
  ASSERT_THAT(app_.ChangeActionStatus(Coordinator(), w.action.id, ActionStatus::kActive, "",
                                      Etag(copied->first.version)),
              IsOk());

  // The référent records a MANUAL value; a second value of the same period replaces it.
  IndicatorValue v{
      .action_id = w.action.id, .indicator_id = indicator.id, .year = 2026, .month = 3, .value = 5};
  ASSERT_THAT(app_.RecordIndicatorValue(Member("m-ref"), v, {}), IsOk());
  v.value = 7;
  ASSERT_THAT(app_.RecordIndicatorValue(Member("m-ref"), v, {}), IsOk());
  EXPECT_THAT(app_.RecordIndicatorValue(Member("m-act"), v, {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto values = app_.ListIndicatorValues(Coordinator(), w.action.id, 2026);
  ASSERT_THAT(values, IsOk());
  ASSERT_THAT(*values, SizeIs(1));
  EXPECT_EQ(values->front().value, 7);
  EXPECT_EQ(values->front().recorded_by, "user-m-ref");
}

TEST_F(ProjectsStoreTest, JoinRequestsAreUniqueAndAcceptedOnce) {
  const World w = MakeWorld();
  PutMember("m-new", true);
  PutMember("m-lapsed", false);
  auto request = app_.RequestToJoin(Member("m-new"), w.group.id, "");
  ASSERT_THAT(request, IsOk());
  EXPECT_THAT(app_.RequestToJoin(Member("m-new"), w.group.id, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, "pending"));
  EXPECT_THAT(app_.RequestToJoin(Member("m-lapsed"), w.group.id, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not an active member"));
  // An active member (not référent) may not decide.
  EXPECT_THAT(app_.AcceptJoin(Member("m-act"), request->id, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(app_.AcceptJoin(Member("m-ref"), request->id, "Bienvenue"), IsOk());
  EXPECT_THAT(app_.AcceptJoin(Member("m-ref"), request->id, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto participants =
      app_.ListGroupParticipants(Coordinator(), w.group.id, ParticipantState::kActive, 0, "");
  ASSERT_THAT(participants, IsOk());
  EXPECT_THAT(participants->items, SizeIs(3));
  EXPECT_EQ(participants->items.front().role, GroupRole::kReferent);

  auto lease = pool().Acquire();
  ASSERT_THAT(lease, IsOk());
  auto audit = platform::db::ListAudit(**lease, tenant_, "join_request", request->id, 10);
  ASSERT_THAT(audit, IsOk());
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ(audit->front().action, "projects.JOIN_ACCEPTED");
  EXPECT_EQ(audit->front().actor_subject, "user-m-ref");
}

TEST_F(ProjectsStoreTest, CloseWritesSheetAuditAndEventsInOneTransaction) {
  World w = MakeWorld();
  auto guest = app_.AddGroupParticipant(Member("m-ref"), w.group.id,
                                        {.guest_name = "Invitée ARS", .guest_organization = "ARS"},
                                        GroupRole::kGuest);
  ASSERT_THAT(guest, IsOk());
  const Meeting meeting = HeldMeeting(w);
  const std::vector<AttendanceLine> lines = {
      {.participant_id = w.referent.id, .status = AttendanceStatus::kPresent},
      {.participant_id = w.member.id, .status = AttendanceStatus::kPresent},
      {.participant_id = guest->id, .status = AttendanceStatus::kPresent}};
  // Only a leader of the group records and closes.
  EXPECT_THAT(app_.RecordAttendance(Member("m-act"), meeting.id, lines, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto recorded = app_.RecordAttendance(Member("m-ref"), meeting.id, lines, "");
  ASSERT_THAT(recorded, IsOk());
  EXPECT_EQ(recorded->state, SheetState::kRecorded);
  EXPECT_EQ(OutboxCount(), 0);
  EXPECT_THAT(app_.CloseAttendance(Member("m-act"), meeting.id, "", {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(app_.CloseAttendance(Member("m-ref"), meeting.id, "v0", {}),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(OutboxCount(), 0);

  auto closed = app_.CloseAttendance(Member("m-ref"), meeting.id, Etag(recorded->revision),
                                     {.request_id = "c1", .fingerprint = "f1"});
  ASSERT_THAT(closed, IsOk());
  EXPECT_EQ(closed->state, SheetState::kClosed);
  EXPECT_EQ(closed->version, 1);
  EXPECT_EQ(OutboxCount(), 3);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_,
                               "' AND topic = 'finance.attendance' AND event_key = '", meeting.id,
                               "/", guest->id, "/v1'")),
            1);
  // A retry of the same close replays; the sheet is then immutable except by amendment.
  auto replay = app_.CloseAttendance(Member("m-ref"), meeting.id, Etag(recorded->revision),
                                     {.request_id = "c1", .fingerprint = "f1"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->revision, closed->revision);
  EXPECT_THAT(app_.CloseAttendance(Member("m-ref"), meeting.id, "", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(app_.RecordAttendance(Member("m-ref"), meeting.id, lines, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(OutboxCount(), 3);

  auto lease = pool().Acquire();
  ASSERT_THAT(lease, IsOk());
  auto audit = platform::db::ListAudit(**lease, tenant_, "meeting", meeting.id, 10);
  ASSERT_THAT(audit, IsOk());
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ(audit->front().action, "projects.ATTENDANCE_CLOSED");
}

TEST_F(ProjectsStoreTest, AmendmentEmitsReversalAndNewEventAndTheRelayDeliversOnce) {
  World w = MakeWorld();
  auto guest = app_.AddGroupParticipant(Coordinator(), w.group.id, {.guest_name = "Invité"},
                                        GroupRole::kGuest);
  ASSERT_THAT(guest, IsOk());
  const Meeting meeting = HeldMeeting(w);
  auto recorded = app_.RecordAttendance(
      Member("m-ref"), meeting.id,
      {{.participant_id = w.referent.id, .status = AttendanceStatus::kPresent},
       {.participant_id = w.member.id, .status = AttendanceStatus::kAbsent},
       {.participant_id = guest->id, .status = AttendanceStatus::kPresent}},
      "");
  ASSERT_THAT(recorded, IsOk());
  auto closed = app_.CloseAttendance(Member("m-ref"), meeting.id, "", {});
  ASSERT_THAT(closed, IsOk());
  EXPECT_THAT(
      app_.AmendAttendance(Member("m-ref"), meeting.id,
                           {{.participant_id = w.member.id, .status = AttendanceStatus::kPresent}},
                           "Oubli", "", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, "etag"));
  auto amended = app_.AmendAttendance(
      Member("m-ref"), meeting.id,
      {{.participant_id = w.member.id, .status = AttendanceStatus::kPresent},
       {.participant_id = w.referent.id, .status = AttendanceStatus::kAbsent}},
      "Feuille corrigée", Etag(closed->revision), {.request_id = "a1", .fingerprint = "f"});
  ASSERT_THAT(amended, IsOk());
  EXPECT_EQ(amended->state, SheetState::kAmended);
  EXPECT_EQ(amended->version, 2);
  EXPECT_EQ(OutboxCount(), 4);  // 2 on close + the member's new line + the référent's reversal
  // A retry of the amendment replays it: no third version, no new event.
  auto again = app_.AmendAttendance(
      Member("m-ref"), meeting.id,
      {{.participant_id = w.member.id, .status = AttendanceStatus::kPresent},
       {.participant_id = w.referent.id, .status = AttendanceStatus::kAbsent}},
      "Feuille corrigée", Etag(closed->revision), {.request_id = "a1", .fingerprint = "f"});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->version, 2);
  EXPECT_EQ(again->revision, amended->revision);
  EXPECT_EQ(OutboxCount(), 4);
  EXPECT_THAT(app_.AmendAttendance(
                  Member("m-ref"), meeting.id,
                  {{.participant_id = w.member.id, .status = AttendanceStatus::kAbsent}}, "Autre",
                  Etag(amended->revision), {.request_id = "a1", .fingerprint = "other"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id"));

  Receiver receiver;
  auto relay = OutboxRelay::Create(
      pool(), clock_, {},
      {{kAttendanceTopic, [&](const OutboxEvent& e) { return receiver.Deliver(e); }}});
  ASSERT_THAT(relay, IsOk());
  for (int i = 0; i < 5; ++i) ASSERT_THAT((*relay)->RunOnce(), IsOk());
  std::vector<v1::AttendanceEntitlementEvent> events;
  for (const auto& e : receiver.Events()) {
    if (e.tenant_id() == tenant_) events.push_back(e);
  }
  ASSERT_THAT(events, SizeIs(4));
  int reversals = 0;
  for (const auto& e : events) {
    EXPECT_EQ(receiver.Deliveries(e.idempotency_key()), 1) << e.idempotency_key();
    if (e.participant_id() == guest->id) {
      EXPECT_FALSE(e.indemnifiable());
    }
    if (e.participant_id() == w.member.id) {
      EXPECT_TRUE(e.indemnifiable());
    }
    if (e.reversal()) {
      ++reversals;
      EXPECT_EQ(e.participant_id(), w.referent.id);
      EXPECT_THAT(e.idempotency_key(), HasSubstr("/reversal"));
    }
    EXPECT_EQ(e.meeting_date().year(), 2026);
  }
  EXPECT_EQ(reversals, 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_,
                               "' AND state = 'delivered'")),
            4);
}

TEST_F(ProjectsStoreTest, EventDeliveredButUnmarkedIsDeliveredAgainAndDeduped) {
  World w = MakeWorld();
  const Meeting meeting = HeldMeeting(w);
  ASSERT_THAT(app_.RecordAttendance(
                  Member("m-ref"), meeting.id,
                  {{.participant_id = w.referent.id, .status = AttendanceStatus::kPresent},
                   {.participant_id = w.member.id, .status = AttendanceStatus::kExcused}},
                  ""),
              IsOk());
  ASSERT_THAT(app_.CloseAttendance(Member("m-ref"), meeting.id, "", {}), IsOk());
  const std::string key = absl::StrCat(meeting.id, "/", w.referent.id, "/v1");

  // Drain other tenants' events first, so that the crash below hits this test's event.
  Receiver others;
  {
    auto drain = OutboxRelay::Create(pool(), clock_, {},
                                     {{kAttendanceTopic, [&](const OutboxEvent& e) -> absl::Status {
                                         if (e.tenant_id == tenant_)
                                           return absl::UnavailableError("later");
                                         return others.Deliver(e);
                                       }}});
    ASSERT_THAT(drain, IsOk());
    ASSERT_THAT((*drain)->RunOnce(), IsOk());
  }
  clock_.Advance(absl::Hours(1));  // past the retry delay of the refused attempt

  std::unique_ptr<ConnectionPool> admin =
      ConnectionPool::Create(cpts::testing::SharedMariaDb().AdminConfig());
  Receiver receiver;
  bool crash = true;
  auto relay = OutboxRelay::Create(
      pool(), clock_, {},
      {{kAttendanceTopic, [&](const OutboxEvent& e) {
          absl::Status delivered = receiver.Deliver(e);
          if (crash && e.event_key == key) {
            crash = false;
            // The relay dies between the delivery and the commit of its mark.
            const int64_t thread =
                QueryInt(*admin, absl::StrCat("SELECT t.trx_mysql_thread_id FROM "
                                              "information_schema.INNODB_TRX t JOIN "
                                              "information_schema.PROCESSLIST p ON p.ID = "
                                              "t.trx_mysql_thread_id WHERE p.DB = '",
                                              Schema().name, "' LIMIT 1"));
            EXPECT_THAT(
                cpts::testing::SharedMariaDb().Exec(absl::StrCat("KILL CONNECTION ", thread)),
                IsOk());
          }
          return delivered;
        }}});
  ASSERT_THAT(relay, IsOk());
  EXPECT_THAT((*relay)->RunOnce(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_,
                               "' AND state = 'delivered'")),
            0);
  ASSERT_THAT((*relay)->RunOnce(), IsOk());
  EXPECT_EQ(receiver.Deliveries(key), 2);  // at least once...
  int applied = 0;
  for (const auto& e : receiver.Events()) applied += e.idempotency_key() == key ? 1 : 0;
  EXPECT_EQ(applied, 1);  // ...applied once
  EXPECT_EQ(Count(absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_,
                               "' AND state = 'delivered'")),
            1);
}

TEST_F(ProjectsStoreTest, RepliesFollowTheFortyEightHourRuleAndFeedStatsAndReport) {
  World w = MakeWorld();
  Meeting m;
  m.group_id = w.group.id;
  m.start_time = clock_.Now() + absl::Hours(72);
  m.end_time = m.start_time + absl::Minutes(90);
  m.location.video_link = "https://visio.example.org/groupe";
  auto meeting = app_.ScheduleMeeting(Coordinator(), m, {});
  ASSERT_THAT(meeting, IsOk());
  EXPECT_EQ(meeting->action_id, w.action.id);
  auto in_time = app_.ReplyToMeeting(Member("m-act"), meeting->id, ReplyKind::kExcused, "Garde");
  ASSERT_THAT(in_time, IsOk());
  EXPECT_FALSE(in_time->late);
  clock_.Advance(absl::Hours(30));  // 42 h before the start
  auto late = app_.ReplyToMeeting(Member("m-act"), meeting->id, ReplyKind::kExcused, "Garde");
  ASSERT_THAT(late, IsOk());
  EXPECT_TRUE(late->late);
  EXPECT_THAT(app_.ReplyToMeeting(Member("m-outsider"), meeting->id, ReplyKind::kAttending, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  clock_.Advance(absl::Hours(43));
  auto sheet = app_.GetAttendanceSheet(Member("m-ref"), meeting->id);
  ASSERT_THAT(sheet, IsOk());
  EXPECT_EQ(sheet->state, SheetState::kOpen);
  ASSERT_THAT(app_.RecordAttendance(
                  Member("m-ref"), meeting->id,
                  {{.participant_id = w.referent.id, .status = AttendanceStatus::kPresent},
                   {.participant_id = w.member.id, .status = AttendanceStatus::kExcusedLate}},
                  ""),
              IsOk());
  ASSERT_THAT(app_.CloseAttendance(Member("m-ref"), meeting->id, "", {}), IsOk());

  auto stats = app_.GetGroupAttendanceStats(Coordinator(), w.group.id, 2026);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->meetings_held, 1);
  EXPECT_EQ(stats->present, 1);
  EXPECT_EQ(stats->absent, 1);
  auto report = app_.GetProjectReport(Coordinator(), 2026);
  ASSERT_THAT(report, IsOk());
  int held = 0;
  for (const auto& mission : report->missions) {
    for (const auto& action : mission.actions) {
      if (action.action_id == w.action.id) {
        held = action.meetings_held;
        EXPECT_EQ(action.participants, 1);
      }
    }
  }
  EXPECT_EQ(held, 1);
  auto history = app_.ListParticipationHistory(Member("m-act"), "m-act", std::nullopt, 0, "");
  ASSERT_THAT(history, IsOk());
  ASSERT_THAT(history->items, SizeIs(1));
  EXPECT_EQ(history->items.front().attendance, AttendanceStatus::kExcusedLate);
  EXPECT_EQ(history->items.front().reply, ReplyKind::kExcused);
  EXPECT_THAT(app_.ListParticipationHistory(Member("m-act"), "m-ref", std::nullopt, 0, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(ProjectsStoreTest, AnotherTenantSeesNothing) {
  World w = MakeWorld();
  const Meeting meeting = HeldMeeting(w);
  const Caller other{"tenant-other-" + tenant_, "user-x", "", {"coordinator"}};
  EXPECT_THAT(app_.GetMeeting(other, meeting.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(app_.GetWorkingGroup(other, w.group.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(app_.GetAction(other, w.action.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(app_.RecordAttendance(
                  other, meeting.id,
                  {{.participant_id = w.referent.id, .status = AttendanceStatus::kPresent}}, ""),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ProjectsStoreTest, TasksDocumentsAndPagination) {
  World w = MakeWorld();
  for (int i = 0; i < 3; ++i) {
    Task t;
    t.group_id = w.group.id;
    t.title = absl::StrCat("Tâche ", i);
    t.assignee_participant_ids = {w.member.id};
    if (i < 2) t.due_date = absl::CivilDay(2026, 4, 10 - i);
    ASSERT_THAT(app_.CreateTask(Member("m-ref"), t, {}), IsOk());
  }
  TaskQuery q{.group_id = w.group.id, .page_size = 2};
  auto page1 = app_.ListTasks(Member("m-act"), q);
  ASSERT_THAT(page1, IsOk());
  ASSERT_THAT(page1->items, SizeIs(2));
  EXPECT_EQ(page1->items[0].title, "Tâche 1");  // due first
  ASSERT_FALSE(page1->next_page_token.empty());
  q.page_token = page1->next_page_token;
  auto page2 = app_.ListTasks(Member("m-act"), q);
  ASSERT_THAT(page2, IsOk());
  ASSERT_THAT(page2->items, SizeIs(1));
  EXPECT_EQ(page2->items[0].title, "Tâche 2");  // no due date: last
  // An assignee may change the status only.
  Task done = page2->items[0];
  done.status = TaskStatus::kDone;
  ASSERT_THAT(app_.UpdateTask(Member("m-act"), done, {"status"}, ""), IsOk());
  EXPECT_THAT(app_.UpdateTask(Member("m-act"), done, {"title"}, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto mine = app_.ListTasks(Member("m-act"), {.assignee_member_id = "m-act"});
  ASSERT_THAT(mine, IsOk());
  EXPECT_THAT(mine->items, SizeIs(3));

  Document d;
  d.group_id = w.group.id;
  d.title = "Compte rendu";
  d.url = "https://docs.example.org/cr.pdf";
  ASSERT_THAT(app_.CreateDocument(Member("m-act"), d, {}), IsOk());
  auto docs = app_.ListDocuments(Member("m-ref"), w.group.id, 0, "");
  ASSERT_THAT(docs, IsOk());
  ASSERT_THAT(docs->items, SizeIs(1));
  EXPECT_EQ(docs->items[0].author_member_id, "m-act");
}

// A topic of this test only: the relays of other tests never claim its events.
constexpr char kRepairTopic[] = "test.requeue";

TEST_F(ProjectsStoreTest, CoordinatorListsDeadOutboxEventsAndRequeuesThemForDelivery) {
  const std::string other = NextTenant();
  ASSERT_THAT(
      platform::db::RunInTransaction(
          pool(),
          [&](platform::db::Connection& conn) -> absl::Status {
            for (const auto& [tenant, key] : std::vector<std::pair<std::string, std::string>>{
                     {tenant_, "k1"}, {tenant_, "k2"}, {tenant_, "k3"}, {other, "k1"}}) {
              CPTS_RETURN_IF_ERROR(platform::db::AppendOutbox(conn, {.tenant_id = tenant,
                                                                     .topic = kRepairTopic,
                                                                     .event_key = key,
                                                                     .created_at = clock_.Now()}));
            }
            return absl::OkStatus();
          }),
      IsOk());
  bool refuse = true;
  std::map<std::string, int> delivered;
  auto relay = OutboxRelay::Create(pool(), clock_, {},
                                   {{kRepairTopic, [&](const OutboxEvent& e) -> absl::Status {
                                       if (refuse && e.event_key != "k3")
                                         return absl::InvalidArgumentError("no tariff \xC3");
                                       ++delivered[absl::StrCat(e.tenant_id, "/", e.event_key)];
                                       return absl::OkStatus();
                                     }}});
  ASSERT_THAT(relay, IsOk());
  ASSERT_THAT((*relay)->RunOnce(), IsOk());

  EXPECT_THAT(app_.ListDeadOutboxEvents(Member("m-ref"), 0, ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(app_.RequeueOutboxEvents(Member("m-ref"), {}, kRepairTopic, "tarif ajouté"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(app_.ListDeadOutboxEvents(Coordinator(), -1, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_size"));
  EXPECT_THAT(app_.ListDeadOutboxEvents(Coordinator(), 0, "!!"),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_token"));

  auto first = app_.ListDeadOutboxEvents(Coordinator(), 1, "");
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(first->items, SizeIs(1));
  EXPECT_EQ(first->items[0].topic, kRepairTopic);
  EXPECT_EQ(first->items[0].event_key, "k1");
  EXPECT_EQ(first->items[0].attempts, 1);
  EXPECT_THAT(first->items[0].last_error, HasSubstr("no tariff ?"));  // made valid UTF-8
  EXPECT_EQ(first->items[0].dead_time, clock_.Now());
  ASSERT_FALSE(first->next_page_token.empty());
  auto second = app_.ListDeadOutboxEvents(Coordinator(), 1, first->next_page_token);
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(second->items, SizeIs(1));  // k3 was delivered, the other tenant's is not shown
  EXPECT_EQ(second->items[0].event_key, "k2");
  EXPECT_TRUE(second->next_page_token.empty());
  const int64_t k1 = first->items[0].id;
  const int64_t k3 = Count(absl::StrCat("SELECT seq FROM outbox_event WHERE tenant_id = '", tenant_,
                                        "' AND event_key = 'k3'"));
  const int64_t others_k1 = Count(absl::StrCat("SELECT seq FROM outbox_event WHERE tenant_id = '",
                                               other, "' AND event_key = 'k1'"));

  EXPECT_THAT(app_.RequeueOutboxEvents(Coordinator(), {k1}, "", " "),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason"));
  EXPECT_THAT(app_.RequeueOutboxEvents(Coordinator(), {k1}, kRepairTopic, "tarif ajouté"),
              StatusIs(absl::StatusCode::kInvalidArgument, "topic"));
  // Another tenant's event is unknown here, and nothing of the call is written.
  EXPECT_THAT(app_.RequeueOutboxEvents(Coordinator(), {k1, others_k1}, "", "tarif ajouté"),
              StatusIs(absl::StatusCode::kNotFound));
  const std::string audit_count =
      absl::StrCat("SELECT COUNT(*) FROM audit_log WHERE tenant_id = '", tenant_,
                   "' AND action = 'projects.OUTBOX_REQUEUED'");
  EXPECT_EQ(Count(audit_count), 0);

  clock_.Advance(absl::Minutes(5));
  auto by_ids = app_.RequeueOutboxEvents(Coordinator(), {k1, k3}, "", "tarif ajouté");
  ASSERT_THAT(by_ids, IsOk());
  EXPECT_THAT(by_ids->requeued, ElementsAre(k1));
  EXPECT_THAT(by_ids->not_dead, ElementsAre(k3));
  EXPECT_EQ(Count(audit_count), 1);
  auto by_topic = app_.RequeueOutboxEvents(Coordinator(), {}, kRepairTopic, "tarif ajouté");
  ASSERT_THAT(by_topic, IsOk());
  EXPECT_THAT(by_topic->requeued, SizeIs(1));  // k2 only: k1 is pending, the other tenant's kept
  EXPECT_EQ(Count(audit_count), 2);

  refuse = false;
  ASSERT_THAT((*relay)->RunOnce(), IsOk());
  EXPECT_EQ(delivered[absl::StrCat(tenant_, "/k1")], 1);
  EXPECT_EQ(delivered[absl::StrCat(tenant_, "/k2")], 1);
  EXPECT_EQ(delivered[absl::StrCat(other, "/k1")], 0);
  auto after = app_.ListDeadOutboxEvents(Coordinator(), 0, "");
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(after->items, SizeIs(0));
}

}  // namespace
}  // namespace cpts::projects
