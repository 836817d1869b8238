// The projects service end to end: the real projects server beside the real membership
// server, on a real MariaDB, with real tokens. Meetings really start: a "held" meeting is
// scheduled a few seconds ahead and the test waits for its start.
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/projects_fixture.h"

namespace cpts::e2e {
namespace {

namespace pv1 = ::cpts::projects::v1;

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

class ProjectsFlowE2e : public ProjectsE2e {
 protected:
  void SetUp() override {
    ProjectsE2e::SetUp();
    coordinator_ = Token({"coordinator"});
  }

  pv1::Action CreateAction(const std::string& title) {
    pv1::ListMissionsResponse missions;
    grpc::Status st = projects_->ListMissions(Ctx(coordinator_).get(), {}, &missions);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(missions.missions_size(), 6);
    pv1::CreateActionRequest req;
    req.mutable_action()->set_mission_id(missions.missions(0).id());
    req.mutable_action()->set_title(title);
    auto* ind = req.mutable_action()->add_indicators();
    ind->set_name("Réunions tenues");
    ind->set_kind(pv1::INDICATOR_KIND_ACTION);
    ind->set_unit("réunions");
    auto* target = ind->add_targets();
    target->set_year(
        static_cast<int32_t>(absl::ToCivilYear(absl::Now(), absl::UTCTimeZone()).year()));
    target->set_target(10);
    req.set_request_id(absl::StrCat("create-action-", ++actions_created_));
    pv1::CreateActionResponse resp;
    st = projects_->CreateAction(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.action();
  }

  pv1::WorkingGroup CreateGroup(const std::string& action_id) {
    pv1::CreateWorkingGroupRequest req;
    req.mutable_working_group()->set_name("Groupe parcours");
    req.mutable_working_group()->add_action_ids(action_id);
    pv1::CreateWorkingGroupResponse resp;
    const grpc::Status st = projects_->CreateWorkingGroup(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.working_group();
  }

  // The member asks to join and `decider` accepts; returns the participation.
  pv1::GroupParticipant Join(const std::string& group_id, const std::string& member,
                             const std::string& decider) {
    pv1::RequestToJoinRequest req;
    req.set_group_id(group_id);
    req.set_message("Je souhaite contribuer");
    pv1::RequestToJoinResponse resp;
    grpc::Status st = projects_->RequestToJoin(Ctx(Token({"member"}, member)).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.join_request().state(), pv1::JOIN_REQUEST_STATE_PENDING);
    pv1::AcceptJoinRequest accept;
    accept.set_join_request_id(resp.join_request().id());
    pv1::AcceptJoinResponse accepted;
    st = projects_->AcceptJoin(Ctx(decider).get(), accept, &accepted);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(accepted.participant().role(), pv1::GROUP_ROLE_ACTIVE_MEMBER);
    return accepted.participant();
  }

  pv1::GroupParticipant Appoint(const std::string& group_id, const std::string& participant_id) {
    pv1::AppointReferentRequest req;
    req.set_group_id(group_id);
    req.set_participant_id(participant_id);
    pv1::AppointReferentResponse resp;
    const grpc::Status st = projects_->AppointReferent(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.participant().role(), pv1::GROUP_ROLE_REFERENT);
    return resp.participant();
  }

  pv1::GroupParticipant InviteGuest(const std::string& group_id, const std::string& by) {
    pv1::AddGroupParticipantRequest req;
    req.set_group_id(group_id);
    req.set_role(pv1::GROUP_ROLE_GUEST);
    req.mutable_participant()->set_guest_name("Invitée Fictive");
    req.mutable_participant()->set_guest_organization("Hôpital Fictif");
    pv1::AddGroupParticipantResponse resp;
    const grpc::Status st = projects_->AddGroupParticipant(Ctx(by).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.participant();
  }

  pv1::Meeting Schedule(const std::string& group_id, absl::Time start, const std::string& by) {
    pv1::ScheduleMeetingRequest req;
    req.mutable_meeting()->set_group_id(group_id);
    SetTime(start, req.mutable_meeting()->mutable_start_time());
    SetTime(start + absl::Hours(2), req.mutable_meeting()->mutable_end_time());
    req.mutable_meeting()->set_place("Salle du conseil, maison de santé fictive");
    req.mutable_meeting()->set_agenda("Point d'étape");
    pv1::ScheduleMeetingResponse resp;
    const grpc::Status st = projects_->ScheduleMeeting(Ctx(by).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.meeting();
  }

  static void WaitUntil(absl::Time t) {
    const absl::Duration left = t - absl::Now();
    if (left > absl::ZeroDuration()) absl::SleepFor(left + absl::Milliseconds(200));
  }

  grpc::Status Record(const std::string& meeting_id, const std::string& token,
                      const std::vector<std::pair<std::string, pv1::AttendanceStatus>>& lines,
                      pv1::AttendanceSheet* sheet = nullptr) {
    pv1::RecordAttendanceRequest req;
    req.set_meeting_id(meeting_id);
    for (const auto& [participant, status] : lines) {
      auto* l = req.add_lines();
      l->set_participant_id(participant);
      l->set_status(status);
    }
    pv1::RecordAttendanceResponse resp;
    grpc::Status st = projects_->RecordAttendance(Ctx(token).get(), req, &resp);
    if (sheet != nullptr) *sheet = resp.sheet();
    return st;
  }

  grpc::Status Close(const std::string& meeting_id, const std::string& token,
                     pv1::AttendanceSheet* sheet = nullptr) {
    pv1::CloseAttendanceRequest req;
    req.set_meeting_id(meeting_id);
    pv1::CloseAttendanceResponse resp;
    grpc::Status st = projects_->CloseAttendance(Ctx(token).get(), req, &resp);
    if (sheet != nullptr) *sheet = resp.sheet();
    return st;
  }

  // A group with a référent, an active member and a guest, and a meeting that has started.
  struct Held {
    std::string referent_member;
    std::string active_member;
    pv1::WorkingGroup group;
    pv1::GroupParticipant referent;
    pv1::GroupParticipant member;
    pv1::GroupParticipant guest;
    pv1::Meeting meeting;
  };
  // With `wait` false, the meeting may not have started yet on return: see WaitUntilStarted.
  Held MakeHeld(bool wait = true) {
    Held h;
    h.referent_member = CreateActiveMember();
    h.active_member = CreateActiveMember();
    const pv1::Action action = CreateAction("Action santé mentale");
    h.group = CreateGroup(action.id());
    h.referent = Appoint(h.group.id(), Join(h.group.id(), h.referent_member, coordinator_).id());
    h.member = Join(h.group.id(), h.active_member, Token({"member"}, h.referent_member));
    h.guest = InviteGuest(h.group.id(), Token({"member"}, h.referent_member));
    const absl::Time start = absl::Now() + absl::Seconds(3);
    h.meeting = Schedule(h.group.id(), start, Token({"member"}, h.referent_member));
    if (wait) WaitUntil(start);
    return h;
  }
  static void WaitUntilStarted(const Held& h) {
    WaitUntil(absl::FromUnixSeconds(h.meeting.start_time().seconds()));
  }

  grpc::Status UpdateSettings(const std::string& token, const std::string& time_zone,
                              pv1::AttendancePayment payment, const std::vector<std::string>& mask,
                              pv1::ProjectSettings* out = nullptr) {
    pv1::UpdateProjectSettingsRequest req;
    req.mutable_settings()->set_time_zone(time_zone);
    req.mutable_settings()->set_attendance_payment(payment);
    for (const std::string& path : mask) req.mutable_update_mask()->add_paths(path);
    pv1::UpdateProjectSettingsResponse resp;
    grpc::Status st = projects_->UpdateProjectSettings(Ctx(token).get(), req, &resp);
    if (out != nullptr) *out = resp.settings();
    return st;
  }

  pv1::ProjectSettings Settings(const std::string& token) {
    pv1::GetProjectSettingsResponse resp;
    const grpc::Status st = projects_->GetProjectSettings(Ctx(token).get(), {}, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.settings();
  }

  std::string coordinator_;
  int actions_created_ = 0;
};

TEST_F(ProjectsFlowE2e, MemberWhoIsNotReferentCannotRecordOrCloseTheSheet) {
  const Held h = MakeHeld();
  const std::string member = Token({"member"}, h.active_member);
  EXPECT_EQ(Record(h.meeting.id(), member, {{h.member.id(), pv1::ATTENDANCE_STATUS_PRESENT}})
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Record(h.meeting.id(), Token({"member"}, h.referent_member),
                     {{h.member.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {h.referent.id(), pv1::ATTENDANCE_STATUS_PRESENT}})
                  .ok());
  const grpc::Status denied = Close(h.meeting.id(), member);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(denied.error_message(), "MANAGE_ATTENDANCE"))
      << denied.error_message();
  // Being référent of another group gives no right here.
  const pv1::WorkingGroup other = CreateGroup(CreateAction("Action voisine").id());
  Appoint(other.id(), Join(other.id(), h.active_member, coordinator_).id());
  EXPECT_EQ(Close(h.meeting.id(), member).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(OutboxEvents().empty());
}

TEST_F(ProjectsFlowE2e, GuestIsSentButNeverIndemnifiable) {
  const Held h = MakeHeld();
  const std::string referent = Token({"member"}, h.referent_member);
  ASSERT_TRUE(Record(h.meeting.id(), referent,
                     {{h.referent.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {h.member.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {h.guest.id(), pv1::ATTENDANCE_STATUS_PRESENT}})
                  .ok());
  pv1::AttendanceSheet sheet;
  const grpc::Status st = Close(h.meeting.id(), referent, &sheet);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto events = OutboxEvents();
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    if (e.participant_id() == h.guest.id()) {
      EXPECT_EQ(e.role(), pv1::ENTITLEMENT_ROLE_GUEST);
      EXPECT_FALSE(e.indemnifiable());
    } else {
      EXPECT_TRUE(e.indemnifiable()) << e.participant_id();
    }
    EXPECT_EQ(e.tenant_id(), tenant_);
    EXPECT_EQ(e.sheet_version(), 1);
  }
}

TEST_F(ProjectsFlowE2e, ClosedSheetIsImmutableExceptByAmendment) {
  const Held h = MakeHeld();
  const std::string referent = Token({"member"}, h.referent_member);
  ASSERT_TRUE(Record(h.meeting.id(), referent,
                     {{h.referent.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {h.member.id(), pv1::ATTENDANCE_STATUS_ABSENT}})
                  .ok());
  pv1::AttendanceSheet closed;
  // Every line needs a status: the guest's is still unset.
  const grpc::Status incomplete = Close(h.meeting.id(), referent);
  EXPECT_EQ(incomplete.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << incomplete.error_message();
  ASSERT_TRUE(
      Record(h.meeting.id(), referent, {{h.guest.id(), pv1::ATTENDANCE_STATUS_ABSENT}}).ok());
  ASSERT_TRUE(Close(h.meeting.id(), referent, &closed).ok());
  EXPECT_EQ(Record(h.meeting.id(), referent, {{h.member.id(), pv1::ATTENDANCE_STATUS_PRESENT}})
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Close(h.meeting.id(), referent).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  pv1::AmendAttendanceRequest amend;
  amend.set_meeting_id(h.meeting.id());
  auto* line = amend.add_lines();
  line->set_participant_id(h.member.id());
  line->set_status(pv1::ATTENDANCE_STATUS_PRESENT);
  amend.set_reason("Présence oubliée");
  amend.set_etag("v0");
  pv1::AmendAttendanceResponse amended;
  EXPECT_EQ(projects_->AmendAttendance(Ctx(referent).get(), amend, &amended).error_code(),
            grpc::StatusCode::ABORTED);
  amend.set_etag(closed.etag());
  const grpc::Status st = projects_->AmendAttendance(Ctx(referent).get(), amend, &amended);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(amended.sheet().state(), pv1::ATTENDANCE_SHEET_STATE_AMENDED);
  EXPECT_EQ(amended.sheet().version(), 2);
  ASSERT_EQ(amended.sheet().amendments_size(), 1);
  EXPECT_EQ(amended.sheet().amendments(0).amended_by(), "user-" + h.referent_member);
  const auto events = OutboxEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[1].correction());
  EXPECT_EQ(events[1].participant_id(), h.member.id());
  const auto audit = AuditRows("meeting", h.meeting.id());
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().action, "projects.ATTENDANCE_AMENDED");
  EXPECT_EQ(audit.front().reason, "Présence oubliée");
}

TEST_F(ProjectsFlowE2e, TenantsAreIsolated) {
  const pv1::Action action = CreateAction("Action isolée");
  const pv1::WorkingGroup group = CreateGroup(action.id());
  const std::string other = NewTenant("CPTS Voisine Fictive");
  const std::string other_coordinator = TokenFor(other, {"coordinator"});
  pv1::GetWorkingGroupRequest get;
  get.set_group_id(group.id());
  pv1::GetWorkingGroupResponse got;
  EXPECT_EQ(projects_->GetWorkingGroup(Ctx(other_coordinator).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pv1::GetActionRequest get_action;
  get_action.set_action_id(action.id());
  pv1::GetActionResponse action_resp;
  EXPECT_EQ(
      projects_->GetAction(Ctx(other_coordinator).get(), get_action, &action_resp).error_code(),
      grpc::StatusCode::NOT_FOUND);
  pv1::ListWorkingGroupsResponse listed;
  ASSERT_TRUE(projects_->ListWorkingGroups(Ctx(other_coordinator).get(), {}, &listed).ok());
  EXPECT_EQ(listed.working_groups_size(), 0);
  // No token, no call.
  EXPECT_EQ(projects_->GetWorkingGroup(Ctx("").get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ProjectsFlowE2e, SuspendedMemberCannotJoin) {
  const pv1::Action action = CreateAction("Action prévention");
  const pv1::WorkingGroup group = CreateGroup(action.id());
  const std::string member = CreateActiveMember();
  SuspendMember(member);
  pv1::RequestToJoinRequest req;
  req.set_group_id(group.id());
  pv1::RequestToJoinResponse resp;
  const grpc::Status st =
      projects_->RequestToJoin(Ctx(Token({"member"}, member)).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
}

TEST_F(ProjectsFlowE2e, OnlyTheCoordinatorChangesTheSettingsAndBadOnesNameTheirField) {
  const pv1::ProjectSettings defaults = Settings(Token({"member"}, CreateActiveMember()));
  EXPECT_EQ(defaults.time_zone(), "Europe/Paris");
  EXPECT_EQ(defaults.attendance_payment(), pv1::ATTENDANCE_PAYMENT_PER_MEETING);
  EXPECT_EQ(defaults.etag(), "v0");
  EXPECT_FALSE(defaults.has_update_time());

  // A référent leads a group, not the CPTS.
  const std::string referent_member = CreateActiveMember();
  const pv1::WorkingGroup group = CreateGroup(CreateAction("Action soins non programmés").id());
  Appoint(group.id(), Join(group.id(), referent_member, coordinator_).id());
  const std::string referent = Token({"member"}, referent_member);
  EXPECT_EQ(UpdateSettings(referent, "America/Cayenne", pv1::ATTENDANCE_PAYMENT_PER_HOUR,
                           {"time_zone", "attendance_payment"})
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  for (const std::string zone : {"Europe/Atlantis", "localtime", "UTC+1", ""}) {
    const grpc::Status bad =
        UpdateSettings(coordinator_, zone, pv1::ATTENDANCE_PAYMENT_PER_HOUR, {"time_zone"});
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << zone;
    EXPECT_TRUE(absl::StartsWith(bad.error_message(), "settings.time_zone: "))
        << bad.error_message();
  }
  const grpc::Status no_payment = UpdateSettings(
      coordinator_, "Europe/Paris", pv1::ATTENDANCE_PAYMENT_UNSPECIFIED, {"attendance_payment"});
  EXPECT_EQ(no_payment.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(no_payment.error_message(), "settings.attendance_payment"))
      << no_payment.error_message();
  EXPECT_EQ(UpdateSettings(coordinator_, "Europe/Paris", pv1::ATTENDANCE_PAYMENT_PER_HOUR, {})
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(AuditRows("settings", tenant_).empty()) << "a refused change is not a change";

  pv1::ProjectSettings changed;
  const grpc::Status st =
      UpdateSettings(coordinator_, "America/Cayenne", pv1::ATTENDANCE_PAYMENT_PER_HOUR,
                     {"time_zone", "attendance_payment"}, &changed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(changed.time_zone(), "America/Cayenne");
  EXPECT_EQ(changed.attendance_payment(), pv1::ATTENDANCE_PAYMENT_PER_HOUR);
  EXPECT_EQ(changed.updated_by(), "user-coordinator");
  EXPECT_EQ(changed.etag(), "v1");
  EXPECT_TRUE(changed.has_update_time());
  EXPECT_EQ(Settings(referent).time_zone(), "America/Cayenne");
  const auto audit = AuditRows("settings", tenant_);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit.front().action, "projects.SETTINGS_UPDATED");
  EXPECT_EQ(audit.front().actor_subject, "user-coordinator");
}

TEST_F(ProjectsFlowE2e, AnHourlyTenantNeedsMinutesWhereAPerMeetingTenantDoesNot) {
  ASSERT_TRUE(UpdateSettings(coordinator_, "Europe/Paris", pv1::ATTENDANCE_PAYMENT_PER_HOUR,
                             {"attendance_payment"})
                  .ok());
  const std::string hourly_tenant = tenant_;
  const Held hourly = MakeHeld(/*wait=*/false);
  // A second CPTS on the same server keeps the defaults: paid per meeting.
  tenant_ = NewTenant("CPTS Voisine Fictive");
  coordinator_ = Token({"coordinator"});
  const Held per_meeting = MakeHeld(/*wait=*/false);
  EXPECT_EQ(Settings(coordinator_).attendance_payment(), pv1::ATTENDANCE_PAYMENT_PER_MEETING);
  WaitUntilStarted(hourly);
  WaitUntilStarted(per_meeting);

  // Per meeting: present without minutes closes.
  const std::string per_meeting_referent = Token({"member"}, per_meeting.referent_member);
  pv1::AttendanceSheet sheet;
  ASSERT_TRUE(Record(per_meeting.meeting.id(), per_meeting_referent,
                     {{per_meeting.referent.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {per_meeting.member.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {per_meeting.guest.id(), pv1::ATTENDANCE_STATUS_ABSENT}},
                     &sheet)
                  .ok());
  EXPECT_FALSE(sheet.hourly());
  const grpc::Status closed = Close(per_meeting.meeting.id(), per_meeting_referent);
  EXPECT_TRUE(closed.ok()) << closed.error_message();

  // By the hour: the same sheet cannot close until the present lines have their minutes.
  tenant_ = hourly_tenant;
  const std::string referent = Token({"member"}, hourly.referent_member);
  ASSERT_TRUE(Record(hourly.meeting.id(), referent,
                     {{hourly.referent.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {hourly.member.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {hourly.guest.id(), pv1::ATTENDANCE_STATUS_ABSENT}},
                     &sheet)
                  .ok());
  EXPECT_TRUE(sheet.hourly());
  const grpc::Status refused = Close(hourly.meeting.id(), referent);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "no minutes worked"))
      << refused.error_message();
  pv1::RecordAttendanceRequest minutes;
  minutes.set_meeting_id(hourly.meeting.id());
  for (const auto& [participant, worked] :
       {std::pair{hourly.referent.id(), 150}, std::pair{hourly.member.id(), 120}}) {
    auto* line = minutes.add_lines();
    line->set_participant_id(participant);
    line->set_status(pv1::ATTENDANCE_STATUS_PRESENT);
    line->set_minutes_worked(worked);
  }
  pv1::RecordAttendanceResponse recorded;
  ASSERT_TRUE(projects_->RecordAttendance(Ctx(referent).get(), minutes, &recorded).ok());
  const grpc::Status st = Close(hourly.meeting.id(), referent);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto events = OutboxEvents();
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) EXPECT_GT(e.minutes_worked(), 0) << e.participant_id();
}

TEST_F(ProjectsFlowE2e, AYearOfAWorkingGroup) {
  const std::string referent_member = CreateActiveMember();
  const std::string active_member = CreateActiveMember();
  const std::string refused_member = CreateActiveMember();
  const pv1::Action action = CreateAction("Parcours insuffisance cardiaque");
  ASSERT_EQ(action.indicators_size(), 1);
  const pv1::WorkingGroup group = CreateGroup(action.id());

  const pv1::GroupParticipant referent =
      Appoint(group.id(), Join(group.id(), referent_member, coordinator_).id());
  const std::string ref_token = Token({"member"}, referent_member);
  const pv1::GroupParticipant member = Join(group.id(), active_member, ref_token);
  {
    pv1::RequestToJoinRequest req;
    req.set_group_id(group.id());
    pv1::RequestToJoinResponse resp;
    ASSERT_TRUE(
        projects_->RequestToJoin(Ctx(Token({"member"}, refused_member)).get(), req, &resp).ok());
    pv1::RefuseJoinRequest refuse;
    refuse.set_join_request_id(resp.join_request().id());
    pv1::RefuseJoinResponse refused;
    EXPECT_EQ(projects_->RefuseJoin(Ctx(ref_token).get(), refuse, &refused).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);  // the reason is required
    refuse.set_reason("Groupe complet pour cette année");
    ASSERT_TRUE(projects_->RefuseJoin(Ctx(ref_token).get(), refuse, &refused).ok());
    EXPECT_EQ(refused.join_request().state(), pv1::JOIN_REQUEST_STATE_REFUSED);
  }

  // A meeting in three days: an excuse now is in time. A meeting in a few seconds: late.
  const pv1::Meeting later = Schedule(group.id(), absl::Now() + absl::Hours(72), ref_token);
  const absl::Time start = absl::Now() + absl::Seconds(4);
  const pv1::Meeting soon = Schedule(group.id(), start, ref_token);
  const std::string member_token = Token({"member"}, active_member);
  for (const auto& [meeting, late] : {std::pair{later, false}, std::pair{soon, true}}) {
    pv1::ReplyToMeetingRequest reply;
    reply.set_meeting_id(meeting.id());
    reply.set_kind(pv1::REPLY_KIND_EXCUSED);
    reply.set_reason("Garde");
    pv1::ReplyToMeetingResponse replied;
    const grpc::Status st = projects_->ReplyToMeeting(Ctx(member_token).get(), reply, &replied);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(replied.reply().late(), late) << meeting.id();
  }
  WaitUntil(start);

  // The sheet starts pre-filled from the replies; the late excuse counts as an absence.
  pv1::GetAttendanceSheetRequest get;
  get.set_meeting_id(soon.id());
  pv1::GetAttendanceSheetResponse open;
  ASSERT_TRUE(projects_->GetAttendanceSheet(Ctx(ref_token).get(), get, &open).ok());
  EXPECT_EQ(open.sheet().state(), pv1::ATTENDANCE_SHEET_STATE_OPEN);
  bool prefilled = false;
  for (const auto& l : open.sheet().lines()) {
    if (l.participant_id() == member.id()) {
      prefilled = l.status() == pv1::ATTENDANCE_STATUS_EXCUSED_LATE;
    }
  }
  EXPECT_TRUE(prefilled);
  ASSERT_TRUE(Record(soon.id(), ref_token,
                     {{referent.id(), pv1::ATTENDANCE_STATUS_PRESENT},
                      {member.id(), pv1::ATTENDANCE_STATUS_EXCUSED_LATE}})
                  .ok());
  pv1::AttendanceSheet closed;
  ASSERT_TRUE(Close(soon.id(), ref_token, &closed).ok());
  EXPECT_EQ(closed.state(), pv1::ATTENDANCE_SHEET_STATE_CLOSED);

  // Minutes, an indicator value, the year's figures.
  pv1::AttachMinutesRequest minutes;
  minutes.set_meeting_id(soon.id());
  minutes.mutable_minutes()->set_text("Relevé de décisions fictif");
  pv1::AttachMinutesResponse with_minutes;
  ASSERT_TRUE(projects_->AttachMinutes(Ctx(ref_token).get(), minutes, &with_minutes).ok());
  EXPECT_EQ(with_minutes.meeting().minutes().author_subject(), "user-" + referent_member);
  const int year = static_cast<int>(absl::ToCivilYear(absl::Now(), absl::UTCTimeZone()).year());
  pv1::RecordIndicatorValueRequest value;
  value.mutable_value()->set_action_id(action.id());
  value.mutable_value()->set_indicator_id(action.indicators(0).id());
  value.mutable_value()->set_year(year);
  value.mutable_value()->set_value(1);
  pv1::RecordIndicatorValueResponse recorded;
  const grpc::Status vst = projects_->RecordIndicatorValue(Ctx(ref_token).get(), value, &recorded);
  ASSERT_TRUE(vst.ok()) << vst.error_message();

  pv1::GetGroupAttendanceStatsRequest stats_req;
  stats_req.set_group_id(group.id());
  stats_req.set_year(year);
  pv1::GetGroupAttendanceStatsResponse stats;
  ASSERT_TRUE(
      projects_->GetGroupAttendanceStats(Ctx(Token({"reporting"})).get(), stats_req, &stats).ok());
  EXPECT_EQ(stats.stats().meetings_held(), 1);
  EXPECT_EQ(stats.stats().present(), 1);
  EXPECT_EQ(stats.stats().absent(), 1);

  pv1::GetProjectReportRequest report_req;
  report_req.set_year(year);
  pv1::GetProjectReportResponse report;
  EXPECT_EQ(projects_->GetProjectReport(Ctx(member_token).get(), report_req, &report).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      projects_->GetProjectReport(Ctx(Token({"reporting"})).get(), report_req, &report).ok());
  bool found = false;
  for (const auto& mission : report.report().missions()) {
    for (const auto& a : mission.actions()) {
      if (a.action_id() != action.id()) continue;
      found = true;
      EXPECT_EQ(a.meetings_held(), 1);
      EXPECT_EQ(a.participants(), 1);
      ASSERT_EQ(a.indicators_size(), 1);
      EXPECT_EQ(a.indicators(0).value(), 1);
      EXPECT_EQ(a.indicators(0).target(), 10);
      EXPECT_EQ(a.indicators(0).attainment_bp(), 1000);
    }
  }
  EXPECT_TRUE(found);

  // Only the référent's presence reached the outbox; the member's history shows the late
  // excuse.
  const auto events = OutboxEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].participant_id(), referent.id());
  EXPECT_EQ(events[0].role(), pv1::ENTITLEMENT_ROLE_REFERENT);
  pv1::ListParticipationHistoryRequest history_req;
  history_req.set_member_id(active_member);
  pv1::ListParticipationHistoryResponse history;
  ASSERT_TRUE(
      projects_->ListParticipationHistory(Ctx(member_token).get(), history_req, &history).ok());
  ASSERT_EQ(history.entries_size(), 1);
  EXPECT_EQ(history.entries(0).attendance(), pv1::ATTENDANCE_STATUS_EXCUSED_LATE);
  EXPECT_EQ(history.entries(0).reply(), pv1::REPLY_KIND_EXCUSED);

  // The member leaves; the référent steps down.
  pv1::LeaveGroupRequest leave;
  leave.set_group_id(group.id());
  pv1::LeaveGroupResponse left;
  ASSERT_TRUE(projects_->LeaveGroup(Ctx(member_token).get(), leave, &left).ok());
  EXPECT_EQ(left.participant().state(), pv1::PARTICIPANT_STATE_LEFT);
  pv1::StepDownRequest step_down;
  step_down.set_group_id(group.id());
  pv1::StepDownResponse stepped;
  ASSERT_TRUE(projects_->StepDown(Ctx(ref_token).get(), step_down, &stepped).ok());
  EXPECT_EQ(stepped.participant().role(), pv1::GROUP_ROLE_ACTIVE_MEMBER);
}

TEST_F(ProjectsFlowE2e, CoordinatorSeesAndRequeuesDeadOutboxEventsOfItsTenantOnly) {
  const int64_t first = ParkDeadOutboxEvent("m-1/p-1/1", "INVALID_ARGUMENT: no tariff");
  const int64_t second = ParkDeadOutboxEvent("m-1/p-2/1", "OUT_OF_RANGE: year closed");
  const std::string other = NewTenant("CPTS Voisine Fictive");
  const int64_t foreign = ParkDeadOutboxEvent("m-9/p-9/1", "INVALID_ARGUMENT: x", other);

  pv1::ListDeadOutboxEventsRequest list;
  list.set_page_size(1);
  pv1::ListDeadOutboxEventsResponse page;
  grpc::Status st = projects_->ListDeadOutboxEvents(Ctx(coordinator_).get(), list, &page);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).id(), first);
  EXPECT_EQ(page.events(0).topic(), "finance.attendance");
  EXPECT_EQ(page.events(0).event_key(), "m-1/p-1/1");
  EXPECT_EQ(page.events(0).attempts(), 1);
  EXPECT_EQ(page.events(0).last_error(), "INVALID_ARGUMENT: no tariff");
  EXPECT_TRUE(page.events(0).has_dead_time());
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(projects_->ListDeadOutboxEvents(Ctx(coordinator_).get(), list, &page).ok());
  ASSERT_EQ(page.events_size(), 1);  // the other tenant's event is not listed
  EXPECT_EQ(page.events(0).id(), second);
  EXPECT_TRUE(page.next_page_token().empty());

  // A référent leads a group, not the CPTS.
  const std::string referent_member = CreateActiveMember();
  const pv1::WorkingGroup group = CreateGroup(CreateAction("Action relais").id());
  Appoint(group.id(), Join(group.id(), referent_member, coordinator_).id());
  const std::string referent = Token({"member"}, referent_member);
  pv1::RequeueOutboxEventsRequest requeue;
  requeue.add_ids(first);
  requeue.set_reason("Tarif 2026 saisi");
  pv1::RequeueOutboxEventsResponse requeued;
  EXPECT_EQ(projects_->ListDeadOutboxEvents(Ctx(referent).get(), {}, &page).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(projects_->RequeueOutboxEvents(Ctx(referent).get(), requeue, &requeued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  pv1::RequeueOutboxEventsRequest bad = requeue;
  bad.set_topic("finance.attendance");
  st = projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), bad, &requeued);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(st.error_message(), "topic: ")) << st.error_message();
  bad = requeue;
  bad.clear_reason();
  st = projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), bad, &requeued);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(st.error_message(), "reason: ")) << st.error_message();
  bad = requeue;
  bad.add_ids(foreign);  // another tenant's event does not exist here
  EXPECT_EQ(projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), bad, &requeued).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(OutboxState(first), "dead:1");
  EXPECT_TRUE(AuditRows("outbox", tenant_).empty()) << "a refused re-queue changes nothing";

  st = projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), requeue, &requeued);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(requeued.requeued_ids_size(), 1);
  EXPECT_EQ(requeued.requeued_ids(0), first);
  EXPECT_EQ(OutboxState(first), "pending:0");
  // Again: no longer dead, reported and left alone.
  ASSERT_TRUE(projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), requeue, &requeued).ok());
  EXPECT_EQ(requeued.requeued_ids_size(), 0);
  ASSERT_EQ(requeued.not_dead_ids_size(), 1);
  EXPECT_EQ(requeued.not_dead_ids(0), first);
  pv1::RequeueOutboxEventsRequest by_topic;
  by_topic.set_topic("finance.attendance");
  by_topic.set_reason("Exercice rouvert");
  ASSERT_TRUE(projects_->RequeueOutboxEvents(Ctx(coordinator_).get(), by_topic, &requeued).ok());
  ASSERT_EQ(requeued.requeued_ids_size(), 1);
  EXPECT_EQ(requeued.requeued_ids(0), second);
  EXPECT_EQ(OutboxState(foreign), "dead:1");
  const auto audit = AuditRows("outbox", tenant_);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit.back().action, "projects.OUTBOX_REQUEUED");
  EXPECT_EQ(audit.back().reason, "Tarif 2026 saisi");
  EXPECT_EQ(audit.back().actor_subject, "user-coordinator");
}

}  // namespace
}  // namespace cpts::e2e
