#include "services/projects/convert.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/platform/core/status_macros.h"

namespace cpts::projects {
namespace {

// The domain enumerations mirror the proto ones number for number: a new proto enumerator
// without its domain twin (or the reverse) stops the build here instead of being refused,
// or misread, at run time. `last` below is always the enumerator checked here.
static_assert(static_cast<int>(MissionKind::kOptional) == v1::MissionKind_MAX);
static_assert(static_cast<int>(ActionStatus::kDone) == v1::ActionStatus_MAX);
static_assert(static_cast<int>(IndicatorKind::kResult) == v1::IndicatorKind_MAX);
static_assert(static_cast<int>(IndicatorSource::kMeetings) == v1::IndicatorSource_MAX);
static_assert(static_cast<int>(GroupRole::kGuest) == v1::GroupRole_MAX);
static_assert(static_cast<int>(ParticipantState::kLeft) == v1::ParticipantState_MAX);
static_assert(static_cast<int>(JoinRequestState::kRefused) == v1::JoinRequestState_MAX);
static_assert(static_cast<int>(TaskStatus::kCancelled) == v1::TaskStatus_MAX);
static_assert(static_cast<int>(MeetingState::kCancelled) == v1::MeetingState_MAX);
static_assert(static_cast<int>(ReplyKind::kExcused) == v1::ReplyKind_MAX);
static_assert(static_cast<int>(SheetState::kAmended) == v1::AttendanceSheetState_MAX);
static_assert(static_cast<int>(AttendanceStatus::kAbsent) == v1::AttendanceStatus_MAX);
static_assert(static_cast<int>(EntitlementRole::kStaff) == v1::EntitlementRole_MAX);
static_assert(static_cast<int>(AttendancePayment::kPerHour) == v1::AttendancePayment_MAX);

// `value` as an enumerator from 0 to `last`.
template <typename E>
absl::StatusOr<E> EnumFromProto(int value, E last, absl::string_view field) {
  if (value < 0 || value > static_cast<int>(last)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
  }
  return static_cast<E>(value);
}

template <typename E>
int N(E e) {
  return static_cast<int>(e);
}

std::string F(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, ".", name);
}

absl::StatusOr<absl::CivilDay> RequiredDay(const common::v1::Date& date, absl::string_view field) {
  CPTS_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> day, OptionalDay(date, field));
  if (!day.has_value()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  return *day;
}

}  // namespace

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return;
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return absl::InfinitePast();
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return std::nullopt;
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a date"));
  }
  return day;
}

std::string Etag(int64_t version) { return absl::StrCat("v", version); }

absl::Status CheckEtag(absl::string_view etag, int64_t version) {
  if (etag.empty() || etag == Etag(version)) return absl::OkStatus();
  return absl::AbortedError("etag: the record changed since it was read; read it again");
}

// --- settings ------------------------------------------------------------------------------

absl::StatusOr<ProjectSettings> FromProto(const v1::ProjectSettings& in, absl::string_view field) {
  ProjectSettings s;
  s.time_zone = in.time_zone();
  CPTS_ASSIGN_OR_RETURN(s.attendance_payment,
                        EnumFromProto(in.attendance_payment(), AttendancePayment::kPerHour,
                                      F(field, "attendance_payment")));
  return s;
}

void ToProto(const ProjectSettings& in, v1::ProjectSettings* out) {
  out->set_time_zone(in.time_zone);
  out->set_attendance_payment(static_cast<v1::AttendancePayment>(N(in.attendance_payment)));
  if (in.update_time != absl::InfinitePast()) {
    ToProto(in.update_time, out->mutable_update_time());
  }
  out->set_updated_by(in.updated_by);
  out->set_etag(Etag(in.version));
}

// --- missions ------------------------------------------------------------------------------

absl::StatusOr<Mission> FromProto(const v1::Mission& in, absl::string_view field) {
  Mission m;
  m.id = in.id();
  m.number = in.number();
  m.label = in.label();
  m.description = in.description();
  CPTS_ASSIGN_OR_RETURN(m.kind, EnumFromProto(in.kind(), MissionKind::kOptional, F(field, "kind")));
  m.create_time = FromProto(in.create_time());
  m.update_time = FromProto(in.update_time());
  return m;
}

void ToProto(const Mission& in, v1::Mission* out) {
  out->set_id(in.id);
  out->set_number(in.number);
  out->set_label(in.label);
  out->set_description(in.description);
  out->set_kind(static_cast<v1::MissionKind>(N(in.kind)));
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.version));
}

// --- actions and indicators -------------------------------------------------------------

absl::StatusOr<Indicator> FromProto(const v1::Indicator& in, absl::string_view field) {
  Indicator i;
  i.id = in.id();
  i.name = in.name();
  CPTS_ASSIGN_OR_RETURN(i.kind, EnumFromProto(in.kind(), IndicatorKind::kResult, F(field, "kind")));
  i.unit = in.unit();
  CPTS_ASSIGN_OR_RETURN(i.source,
                        EnumFromProto(in.source(), IndicatorSource::kMeetings, F(field, "source")));
  for (const auto& t : in.targets()) i.targets.push_back({.year = t.year(), .target = t.target()});
  return i;
}

void ToProto(const Indicator& in, v1::Indicator* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_kind(static_cast<v1::IndicatorKind>(N(in.kind)));
  out->set_unit(in.unit);
  out->set_source(static_cast<v1::IndicatorSource>(N(in.source)));
  for (const YearlyTarget& t : in.targets) {
    auto* p = out->add_targets();
    p->set_year(t.year);
    p->set_target(t.target);
  }
}

absl::StatusOr<Action> FromProto(const v1::Action& in, absl::string_view field) {
  Action a;
  a.id = in.id();
  a.mission_id = in.mission_id();
  a.title = in.title();
  a.context = in.context();
  a.general_objective = in.general_objective();
  a.specific_objectives.assign(in.specific_objectives().begin(), in.specific_objectives().end());
  a.partners.assign(in.partners().begin(), in.partners().end());
  a.expected_results = in.expected_results();
  for (int i = 0; i < in.calendar_size(); ++i) {
    const std::string f = absl::StrCat(field, ".calendar[", i, "].date");
    CPTS_ASSIGN_OR_RETURN(absl::CivilDay day, RequiredDay(in.calendar(i).date(), f));
    a.calendar.push_back({.label = in.calendar(i).label(), .date = day});
  }
  CPTS_ASSIGN_OR_RETURN(a.status,
                        EnumFromProto(in.status(), ActionStatus::kDone, F(field, "status")));
  for (int i = 0; i < in.indicators_size(); ++i) {
    CPTS_ASSIGN_OR_RETURN(Indicator ind,
                          FromProto(in.indicators(i), absl::StrCat(field, ".indicators[", i, "]")));
    a.indicators.push_back(std::move(ind));
  }
  a.create_time = FromProto(in.create_time());
  a.update_time = FromProto(in.update_time());
  return a;
}

void ToProto(const Action& in, v1::Action* out) {
  out->set_id(in.id);
  out->set_mission_id(in.mission_id);
  out->set_title(in.title);
  out->set_context(in.context);
  out->set_general_objective(in.general_objective);
  for (const auto& s : in.specific_objectives) out->add_specific_objectives(s);
  for (const auto& s : in.partners) out->add_partners(s);
  out->set_expected_results(in.expected_results);
  for (const Milestone& m : in.calendar) {
    auto* p = out->add_calendar();
    p->set_label(m.label);
    ToProto(m.date, p->mutable_date());
  }
  out->set_status(static_cast<v1::ActionStatus>(N(in.status)));
  for (const Indicator& i : in.indicators) ToProto(i, out->add_indicators());
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.version));
}

absl::StatusOr<IndicatorValue> FromProto(const v1::IndicatorValue& in, absl::string_view field) {
  IndicatorValue v;
  v.id = in.id();
  v.action_id = in.action_id();
  v.indicator_id = in.indicator_id();
  v.year = in.year();
  v.month = in.month();
  v.value = in.value();
  CPTS_ASSIGN_OR_RETURN(v.source,
                        EnumFromProto(in.source(), IndicatorSource::kMeetings, F(field, "source")));
  v.recorded_by = in.recorded_by();
  v.record_time = FromProto(in.record_time());
  return v;
}

void ToProto(const IndicatorValue& in, v1::IndicatorValue* out) {
  out->set_id(in.id);
  out->set_action_id(in.action_id);
  out->set_indicator_id(in.indicator_id);
  out->set_year(in.year);
  out->set_month(in.month);
  out->set_value(in.value);
  out->set_source(static_cast<v1::IndicatorSource>(N(in.source)));
  out->set_recorded_by(in.recorded_by);
  ToProto(in.record_time, out->mutable_record_time());
}

// --- groups ------------------------------------------------------------------------------

absl::StatusOr<WorkingGroup> FromProto(const v1::WorkingGroup& in, absl::string_view /*field*/) {
  WorkingGroup g;
  g.id = in.id();
  g.name = in.name();
  g.description = in.description();
  g.action_ids.assign(in.action_ids().begin(), in.action_ids().end());
  g.create_time = FromProto(in.create_time());
  g.update_time = FromProto(in.update_time());
  return g;
}

void ToProto(const WorkingGroup& in, v1::WorkingGroup* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_description(in.description);
  for (const auto& a : in.action_ids) out->add_action_ids(a);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.version));
}

absl::StatusOr<GroupParticipant> FromProto(const v1::GroupParticipant& in,
                                           absl::string_view field) {
  GroupParticipant p;
  p.id = in.id();
  p.group_id = in.group_id();
  p.member_id = in.member_id();
  p.guest_name = in.guest_name();
  p.guest_organization = in.guest_organization();
  CPTS_ASSIGN_OR_RETURN(p.role, EnumFromProto(in.role(), GroupRole::kGuest, F(field, "role")));
  CPTS_ASSIGN_OR_RETURN(p.state,
                        EnumFromProto(in.state(), ParticipantState::kLeft, F(field, "state")));
  p.join_time = FromProto(in.join_time());
  if (in.has_leave_time()) p.leave_time = FromProto(in.leave_time());
  return p;
}

void ToProto(const GroupParticipant& in, v1::GroupParticipant* out) {
  out->set_id(in.id);
  out->set_group_id(in.group_id);
  out->set_member_id(in.member_id);
  out->set_guest_name(in.guest_name);
  out->set_guest_organization(in.guest_organization);
  out->set_role(static_cast<v1::GroupRole>(N(in.role)));
  out->set_state(static_cast<v1::ParticipantState>(N(in.state)));
  ToProto(in.join_time, out->mutable_join_time());
  if (in.leave_time.has_value()) ToProto(*in.leave_time, out->mutable_leave_time());
}

void ToProto(const JoinRequest& in, v1::JoinRequest* out) {
  out->set_id(in.id);
  out->set_group_id(in.group_id);
  out->set_member_id(in.member_id);
  out->set_message(in.message);
  out->set_state(static_cast<v1::JoinRequestState>(N(in.state)));
  out->set_decided_by(in.decided_by);
  out->set_decision_reason(in.decision_reason);
  ToProto(in.create_time, out->mutable_create_time());
  if (in.decide_time.has_value()) ToProto(*in.decide_time, out->mutable_decide_time());
}

absl::StatusOr<Task> FromProto(const v1::Task& in, absl::string_view field) {
  Task t;
  t.id = in.id();
  t.group_id = in.group_id();
  t.title = in.title();
  t.description = in.description();
  t.assignee_participant_ids.assign(in.assignee_participant_ids().begin(),
                                    in.assignee_participant_ids().end());
  CPTS_ASSIGN_OR_RETURN(t.due_date, OptionalDay(in.due_date(), F(field, "due_date")));
  CPTS_ASSIGN_OR_RETURN(t.status,
                        EnumFromProto(in.status(), TaskStatus::kCancelled, F(field, "status")));
  t.created_by = in.created_by();
  t.create_time = FromProto(in.create_time());
  t.update_time = FromProto(in.update_time());
  return t;
}

void ToProto(const Task& in, v1::Task* out) {
  out->set_id(in.id);
  out->set_group_id(in.group_id);
  out->set_title(in.title);
  out->set_description(in.description);
  for (const auto& a : in.assignee_participant_ids) out->add_assignee_participant_ids(a);
  if (in.due_date.has_value()) ToProto(*in.due_date, out->mutable_due_date());
  out->set_status(static_cast<v1::TaskStatus>(N(in.status)));
  out->set_created_by(in.created_by);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.version));
}

absl::StatusOr<Document> FromProto(const v1::Document& in, absl::string_view /*field*/) {
  Document d;
  d.id = in.id();
  d.group_id = in.group_id();
  d.title = in.title();
  d.url = in.url();
  d.storage_key = in.storage_key();
  d.version_label = in.version();
  d.author_member_id = in.author_member_id();
  d.author_subject = in.author_subject();
  d.create_time = FromProto(in.create_time());
  return d;
}

void ToProto(const Document& in, v1::Document* out) {
  out->set_id(in.id);
  out->set_group_id(in.group_id);
  out->set_title(in.title);
  if (!in.url.empty()) out->set_url(in.url);
  if (!in.storage_key.empty()) out->set_storage_key(in.storage_key);
  out->set_version(in.version_label);
  out->set_author_member_id(in.author_member_id);
  out->set_author_subject(in.author_subject);
  ToProto(in.create_time, out->mutable_create_time());
}

void ToProto(const DeadEvent& in, v1::DeadOutboxEvent* out) {
  out->set_id(in.id);
  out->set_topic(in.topic);
  out->set_event_key(in.event_key);
  out->set_attempts(in.attempts);
  out->set_last_error(in.last_error);
  ToProto(in.dead_time, out->mutable_dead_time());
}

// --- meetings ----------------------------------------------------------------------------

Minutes FromProto(const v1::Minutes& in) {
  Minutes m;
  m.text = in.text();
  m.document_id = in.document_id();
  m.author_subject = in.author_subject();
  m.attach_time = FromProto(in.attach_time());
  return m;
}

absl::StatusOr<Meeting> FromProto(const v1::Meeting& in, absl::string_view field) {
  Meeting m;
  m.id = in.id();
  m.group_id = in.group_id();
  m.action_id = in.action_id();
  m.start_time = FromProto(in.start_time());
  m.end_time = FromProto(in.end_time());
  m.location.place = in.place();
  m.location.video_link = in.video_link();
  m.agenda = in.agenda();
  CPTS_ASSIGN_OR_RETURN(m.state,
                        EnumFromProto(in.state(), MeetingState::kCancelled, F(field, "state")));
  m.cancel_reason = in.cancel_reason();
  if (in.has_minutes()) m.minutes = FromProto(in.minutes());
  m.create_time = FromProto(in.create_time());
  m.update_time = FromProto(in.update_time());
  return m;
}

void ToProto(const Meeting& in, v1::Meeting* out) {
  out->set_id(in.id);
  out->set_group_id(in.group_id);
  out->set_action_id(in.action_id);
  ToProto(in.start_time, out->mutable_start_time());
  ToProto(in.end_time, out->mutable_end_time());
  if (!in.location.place.empty()) out->set_place(in.location.place);
  if (!in.location.video_link.empty()) out->set_video_link(in.location.video_link);
  out->set_agenda(in.agenda);
  out->set_state(static_cast<v1::MeetingState>(N(in.state)));
  out->set_cancel_reason(in.cancel_reason);
  if (in.minutes.has_value()) {
    auto* m = out->mutable_minutes();
    m->set_text(in.minutes->text);
    m->set_document_id(in.minutes->document_id);
    m->set_author_subject(in.minutes->author_subject);
    ToProto(in.minutes->attach_time, m->mutable_attach_time());
  }
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.version));
}

void ToProto(const MeetingReply& in, v1::MeetingReply* out) {
  out->set_meeting_id(in.meeting_id);
  out->set_participant_id(in.participant_id);
  out->set_kind(static_cast<v1::ReplyKind>(N(in.kind)));
  out->set_late(in.late);
  out->set_reason(in.reason);
  ToProto(in.reply_time, out->mutable_reply_time());
}

// --- attendance --------------------------------------------------------------------------

absl::StatusOr<AttendanceLine> FromProto(const v1::AttendanceLine& in, absl::string_view field) {
  AttendanceLine l;
  l.participant_id = in.participant_id();
  l.member_id = in.member_id();
  CPTS_ASSIGN_OR_RETURN(l.role, EnumFromProto(in.role(), GroupRole::kGuest, F(field, "role")));
  CPTS_ASSIGN_OR_RETURN(l.status,
                        EnumFromProto(in.status(), AttendanceStatus::kAbsent, F(field, "status")));
  l.minutes_worked = in.minutes_worked();
  l.entitled_version = in.entitled_version();
  return l;
}

absl::StatusOr<AttendanceSheet> FromProto(const v1::AttendanceSheet& in, absl::string_view field) {
  AttendanceSheet s;
  s.meeting_id = in.meeting_id();
  s.group_id = in.group_id();
  CPTS_ASSIGN_OR_RETURN(s.state,
                        EnumFromProto(in.state(), SheetState::kAmended, F(field, "state")));
  s.version = in.version();
  for (int i = 0; i < in.lines_size(); ++i) {
    CPTS_ASSIGN_OR_RETURN(AttendanceLine line,
                          FromProto(in.lines(i), absl::StrCat(field, ".lines[", i, "]")));
    s.lines.push_back(std::move(line));
  }
  s.hourly = in.hourly();
  s.closed_by = in.closed_by();
  if (in.has_close_time()) s.close_time = FromProto(in.close_time());
  for (const auto& a : in.amendments()) {
    s.amendments.push_back({.version = a.version(),
                            .reason = a.reason(),
                            .amended_by = a.amended_by(),
                            .amend_time = FromProto(a.amend_time())});
  }
  return s;
}

void ToProto(const AttendanceSheet& in, v1::AttendanceSheet* out) {
  out->set_meeting_id(in.meeting_id);
  out->set_group_id(in.group_id);
  out->set_state(static_cast<v1::AttendanceSheetState>(N(in.state)));
  out->set_version(in.version);
  for (const AttendanceLine& l : in.lines) {
    auto* p = out->add_lines();
    p->set_participant_id(l.participant_id);
    p->set_member_id(l.member_id);
    p->set_role(static_cast<v1::GroupRole>(N(l.role)));
    p->set_status(static_cast<v1::AttendanceStatus>(N(l.status)));
    p->set_minutes_worked(l.minutes_worked);
    p->set_entitled_version(l.entitled_version);
  }
  out->set_hourly(in.hourly);
  out->set_closed_by(in.closed_by);
  if (in.close_time.has_value()) ToProto(*in.close_time, out->mutable_close_time());
  for (const AttendanceAmendment& a : in.amendments) {
    auto* p = out->add_amendments();
    p->set_version(a.version);
    p->set_reason(a.reason);
    p->set_amended_by(a.amended_by);
    ToProto(a.amend_time, p->mutable_amend_time());
  }
  out->set_etag(Etag(in.revision));
}

void ToProto(const EntitlementEvent& in, v1::AttendanceEntitlementEvent* out) {
  out->set_tenant_id(in.tenant_id);
  out->set_idempotency_key(in.idempotency_key);
  out->set_meeting_id(in.meeting_id);
  out->set_group_id(in.group_id);
  out->set_action_id(in.action_id);
  out->set_participant_id(in.participant_id);
  out->set_member_id(in.member_id);
  out->set_role(static_cast<v1::EntitlementRole>(N(in.role)));
  out->set_present(in.present);
  out->set_minutes_worked(in.minutes_worked);
  ToProto(in.meeting_date, out->mutable_meeting_date());
  out->set_sheet_version(in.sheet_version);
  out->set_correction(in.correction);
  out->set_reversal(in.reversal);
  out->set_indemnifiable(in.indemnifiable);
}

absl::StatusOr<EntitlementEvent> FromProto(const v1::AttendanceEntitlementEvent& in) {
  EntitlementEvent e;
  e.tenant_id = in.tenant_id();
  e.idempotency_key = in.idempotency_key();
  e.meeting_id = in.meeting_id();
  e.group_id = in.group_id();
  e.action_id = in.action_id();
  e.participant_id = in.participant_id();
  e.member_id = in.member_id();
  CPTS_ASSIGN_OR_RETURN(e.role, EnumFromProto(in.role(), EntitlementRole::kStaff, "role"));
  e.present = in.present();
  e.minutes_worked = in.minutes_worked();
  CPTS_ASSIGN_OR_RETURN(e.meeting_date, RequiredDay(in.meeting_date(), "meeting_date"));
  e.sheet_version = in.sheet_version();
  e.correction = in.correction();
  e.reversal = in.reversal();
  e.indemnifiable = in.indemnifiable();
  return e;
}

// --- reports -----------------------------------------------------------------------------

void ToProto(const AttendanceStats& in, v1::GroupAttendanceStats* out) {
  out->set_meetings_held(in.meetings_held);
  out->set_expected(in.expected);
  out->set_present(in.present);
  out->set_excused(in.excused);
  out->set_absent(in.absent);
  out->set_attendance_rate_bp(in.attendance_rate_bp);
}

void ToProto(const ProjectReport& in, v1::ProjectReport* out) {
  out->set_year(in.year);
  for (const MissionReport& m : in.missions) {
    auto* pm = out->add_missions();
    pm->set_mission_id(m.mission_id);
    pm->set_number(m.number);
    pm->set_label(m.label);
    pm->set_kind(static_cast<v1::MissionKind>(N(m.kind)));
    for (const ActionReport& a : m.actions) {
      auto* pa = pm->add_actions();
      pa->set_action_id(a.action_id);
      pa->set_title(a.title);
      pa->set_status(static_cast<v1::ActionStatus>(N(a.status)));
      pa->set_meetings_held(a.meetings_held);
      pa->set_participants(a.participants);
      pa->set_minutes_worked(a.minutes_worked);
      for (const IndicatorReport& i : a.indicators) {
        auto* pi = pa->add_indicators();
        pi->set_indicator_id(i.indicator_id);
        pi->set_name(i.name);
        pi->set_kind(static_cast<v1::IndicatorKind>(N(i.kind)));
        pi->set_unit(i.unit);
        pi->set_has_target(i.has_target);
        pi->set_target(i.target);
        pi->set_value(i.value);
        pi->set_attainment_bp(i.attainment_bp);
      }
    }
  }
}

// --- enumerations ------------------------------------------------------------------------

absl::StatusOr<ActionStatus> ActionStatusFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, ActionStatus::kDone, field);
}
absl::StatusOr<GroupRole> GroupRoleFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, GroupRole::kGuest, field);
}
absl::StatusOr<ParticipantState> ParticipantStateFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, ParticipantState::kLeft, field);
}
absl::StatusOr<JoinRequestState> JoinRequestStateFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, JoinRequestState::kRefused, field);
}
absl::StatusOr<TaskStatus> TaskStatusFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, TaskStatus::kCancelled, field);
}
absl::StatusOr<MeetingState> MeetingStateFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, MeetingState::kCancelled, field);
}
absl::StatusOr<ReplyKind> ReplyKindFromProto(int value, absl::string_view field) {
  return EnumFromProto(value, ReplyKind::kExcused, field);
}

}  // namespace cpts::projects
