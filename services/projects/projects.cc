#include "services/projects/projects.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/platform/core/status_macros.h"
#include "services/projects/convert.h"
#include "services/projects/group_roles.h"
#include "services/projects/indicators.h"
#include "services/projects/meeting_rules.h"
#include "services/projects/missions_catalog.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

namespace roles = platform::auth::roles;
using membership::MemberProfile;

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 200;
constexpr int kDefaultParticipantsPage = 100;
constexpr int kMaxParticipantsPage = 500;
constexpr int kMaxLines = 200;
constexpr int kMaxPendingScan = 1000;

bool IsCoordinatorRole(const Caller& caller) { return caller.HasRole(roles::kCoordinator); }

bool Has(const std::vector<std::string>& mask, absl::string_view field) {
  return std::find(mask.begin(), mask.end(), field) != mask.end();
}

absl::Status CheckMask(const std::vector<std::string>& mask,
                       std::initializer_list<absl::string_view> allowed) {
  if (mask.empty()) return FieldError("update_mask", "required");
  for (const std::string& f : mask) {
    if (std::find(allowed.begin(), allowed.end(), f) == allowed.end()) {
      return FieldError("update_mask", absl::StrCat("'", f, "' cannot be updated"));
    }
  }
  return absl::OkStatus();
}

const IdempotencyKey* KeyOf(const RequestKey& in, absl::string_view scope, IdempotencyKey& out) {
  if (in.request_id.empty()) return nullptr;
  out = IdempotencyKey{std::string(scope), in.request_id, in.fingerprint};
  return &out;
}

// Page tokens: the cursor's parts joined by \x1f, web-safe base64.
std::string EncodeToken(std::initializer_list<std::string> parts) {
  return absl::WebSafeBase64Escape(absl::StrJoin(parts, "\x1f"));
}
absl::StatusOr<std::vector<std::string>> DecodeToken(absl::string_view token, size_t parts) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return FieldError("page_token", "malformed");
  std::vector<std::string> out = absl::StrSplit(raw, '\x1f');
  if (out.size() != parts) return FieldError("page_token", "malformed");
  return out;
}
std::string TimeToken(absl::Time t) { return absl::StrCat(absl::ToUnixMicros(t)); }
absl::StatusOr<absl::Time> TokenTime(const std::string& s) {
  int64_t micros = 0;
  if (!absl::SimpleAtoi(s, &micros)) return FieldError("page_token", "malformed");
  return absl::FromUnixMicros(micros);
}
// The (time, id) cursor of a page token; none for the first page.
using TimeIdCursor = std::optional<std::pair<absl::Time, std::string>>;
absl::StatusOr<TimeIdCursor> DecodeTimeIdToken(absl::string_view token) {
  if (token.empty()) return TimeIdCursor();
  CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(token, 2));
  CPTS_ASSIGN_OR_RETURN(absl::Time t, TokenTime(parts[0]));
  return std::make_pair(t, parts[1]);
}

// A new record of the caller's tenant: a fresh id, created and last updated at `now`.
template <typename T>
void StampNew(T& record, const Caller& caller, platform::IdGenerator& ids, absl::Time now) {
  record.id = ids.NewId();
  record.tenant_id = caller.tenant_id;
  record.create_time = now;
  record.update_time = now;
}

std::optional<GroupParticipant> CurrentOf(const std::vector<GroupParticipant>& participants,
                                          absl::string_view member_id) {
  if (member_id.empty()) return std::nullopt;
  for (const GroupParticipant& p : participants) {
    if (p.member_id == member_id && p.state == ParticipantState::kActive) return p;
  }
  return std::nullopt;
}

const GroupParticipant* FindParticipant(const std::vector<GroupParticipant>& participants,
                                        absl::string_view id) {
  for (const GroupParticipant& p : participants) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// [1 January of `year`, 1 January of `year` + 1) in `zone`, the CPTS's calendar.
std::pair<absl::Time, absl::Time> YearBounds(int year, absl::TimeZone zone) {
  return {absl::FromCivil(absl::CivilDay(year, 1, 1), zone),
          absl::FromCivil(absl::CivilDay(year + 1, 1, 1), zone)};
}

AuditEntry Audit(const Caller& caller, absl::string_view kind, absl::string_view id,
                 absl::string_view action, absl::Time now, absl::string_view reason = "",
                 std::string details = "") {
  AuditEntry a;
  a.tenant_id = caller.tenant_id;
  a.subject_kind = std::string(kind);
  a.subject_id = std::string(id);
  a.action = std::string(action);
  a.actor = caller.subject;
  a.time = now;
  a.reason = std::string(reason);
  a.details = std::move(details);
  return a;
}

}  // namespace

// =========================================================================================
// Shared checks
// =========================================================================================

absl::Status Projects::RequireCoordinator(const Caller& caller, absl::string_view what) const {
  if (IsCoordinatorRole(caller)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(what, " needs the coordinator of the CPTS"));
}

absl::Status Projects::RequireGroupReader(const Caller& caller,
                                          const std::vector<GroupParticipant>& participants) const {
  if (IsCoordinatorRole(caller) || caller.HasRole(roles::kReporting) ||
      caller.HasRole(roles::kBureauMember)) {
    return absl::OkStatus();
  }
  if (CurrentOf(participants, caller.member_id).has_value()) return absl::OkStatus();
  return absl::PermissionDeniedError("needs a participant of the group or the coordinator");
}

absl::StatusOr<Projects::GroupView> Projects::LoadGroup(const Caller& caller,
                                                        absl::string_view group_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  GroupView v;
  CPTS_ASSIGN_OR_RETURN(v.group, d_.groups.GetGroup(caller.tenant_id, group_id));
  CPTS_ASSIGN_OR_RETURN(v.participants, d_.groups.ListParticipants(caller.tenant_id, group_id));
  return v;
}

absl::StatusOr<bool> Projects::MemberActive(const Caller& caller, absl::string_view member_id) {
  absl::StatusOr<MemberProfile> profile =
      d_.members.GetMemberProfile(caller.tenant_id, member_id, std::nullopt);
  if (absl::IsNotFound(profile.status())) return false;
  if (!profile.ok()) return profile.status();
  return membership::client::IsActive(*profile);
}

absl::StatusOr<std::vector<GroupParticipant>> Projects::ApplyStep(
    const Caller& caller, absl::string_view group_id, absl::string_view join_request_id,
    absl::FunctionRef<absl::StatusOr<GroupRepository::Step>(const std::vector<GroupParticipant>&,
                                                            const std::optional<JoinRequest>&)>
        mutate) {
  return d_.groups.ApplyStep(caller.tenant_id, group_id, join_request_id, mutate);
}

absl::StatusOr<GroupParticipant> Projects::WriteParticipant(
    const Caller& caller, absl::string_view group_id, absl::string_view audit_action,
    absl::Time now,
    absl::FunctionRef<absl::StatusOr<GroupParticipant>(const std::vector<GroupParticipant>&)>
        change,
    absl::string_view audit_details) {
  CPTS_ASSIGN_OR_RETURN(
      std::vector<GroupParticipant> written,
      ApplyStep(caller, group_id, "",
                [&](const std::vector<GroupParticipant>& ps,
                    const std::optional<JoinRequest>&) -> absl::StatusOr<GroupRepository::Step> {
                  CPTS_ASSIGN_OR_RETURN(GroupParticipant p, change(ps));
                  GroupRepository::Step step;
                  step.upserts.push_back(p);
                  step.audit = Audit(caller, "group", group_id, audit_action, now, "",
                                     audit_details.empty() ? p.id : std::string(audit_details));
                  return step;
                }));
  if (written.empty()) return absl::InternalError("participant not written");
  return written.front();
}

absl::StatusOr<TenantRules> Projects::RulesFor(const Caller& caller) {
  CPTS_ASSIGN_OR_RETURN(ProjectSettings settings, GetProjectSettings(caller));
  return RulesOf(settings);
}

// =========================================================================================
// Settings
// =========================================================================================

absl::StatusOr<ProjectSettings> Projects::GetProjectSettings(const Caller& caller) {
  CPTS_ASSIGN_OR_RETURN(std::optional<ProjectSettings> stored,
                        d_.settings.GetSettings(caller.tenant_id));
  if (stored.has_value()) return *std::move(stored);
  return DefaultSettings(caller.tenant_id);
}

absl::StatusOr<ProjectSettings> Projects::UpdateProjectSettings(
    const Caller& caller, const ProjectSettings& settings, const std::vector<std::string>& mask,
    absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "UpdateProjectSettings"));
  CPTS_RETURN_IF_ERROR(CheckMask(mask, {"time_zone", "attendance_payment"}));
  // The fields sent are checked before any read, so a bad value names its field whatever
  // the stored settings are.
  std::vector<std::string> changes;
  if (Has(mask, "time_zone")) {
    CPTS_RETURN_IF_ERROR(ParseTimeZone(settings.time_zone, "settings.time_zone").status());
    changes.push_back(absl::StrCat("time_zone=", settings.time_zone));
  }
  if (Has(mask, "attendance_payment")) {
    if (settings.attendance_payment == AttendancePayment::kUnspecified) {
      return FieldError("settings.attendance_payment", "required");
    }
    changes.push_back(
        absl::StrCat("attendance_payment=", AttendancePaymentName(settings.attendance_payment)));
  }
  const absl::Time now = d_.clock.Now();
  return d_.settings.UpdateSettings(
      caller.tenant_id, DefaultSettings(caller.tenant_id),
      [&](ProjectSettings& s) -> absl::Status {
        CPTS_RETURN_IF_ERROR(CheckEtag(etag, s.version));
        if (Has(mask, "time_zone")) s.time_zone = settings.time_zone;
        if (Has(mask, "attendance_payment")) s.attendance_payment = settings.attendance_payment;
        CPTS_RETURN_IF_ERROR(ValidateSettings(s, "settings"));
        s.update_time = now;
        s.updated_by = caller.subject;
        return absl::OkStatus();
      },
      Audit(caller, "settings", caller.tenant_id, "SETTINGS_UPDATED", now, "",
            absl::StrJoin(changes, " ")));
}

// =========================================================================================
// Missions
// =========================================================================================

absl::StatusOr<std::vector<Mission>> Projects::ListMissions(const Caller& caller) {
  const absl::Time now = d_.clock.Now();
  std::vector<Mission> seed = DefaultMissions();
  for (Mission& m : seed) {
    StampNew(m, caller, d_.ids, now);
  }
  return d_.missions.ListOrSeedMissions(caller.tenant_id, seed);
}

absl::StatusOr<Mission> Projects::CreateMission(const Caller& caller, Mission mission,
                                                const RequestKey& key) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "CreateMission"));
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_RETURN_IF_ERROR(NormalizeMission(mission, "mission"));
  // The first mission of a tenant comes after the seed.
  CPTS_RETURN_IF_ERROR(ListMissions(caller).status());
  const absl::Time now = d_.clock.Now();
  StampNew(mission, caller, d_.ids, now);
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(CreateResult<Mission> r,
                        d_.missions.CreateMission(mission, KeyOf(key, "CreateMission", k)));
  return r.value;
}

absl::StatusOr<Mission> Projects::UpdateMission(const Caller& caller, const Mission& mission,
                                                const std::vector<std::string>& mask,
                                                absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "UpdateMission"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(mission.id, "mission.id"));
  CPTS_RETURN_IF_ERROR(CheckMask(mask, {"number", "label", "description", "kind"}));
  const absl::Time now = d_.clock.Now();
  return d_.missions.UpdateMission(caller.tenant_id, mission.id, [&](Mission& m) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, m.version));
    if (Has(mask, "number")) m.number = mission.number;
    if (Has(mask, "label")) m.label = mission.label;
    if (Has(mask, "description")) m.description = mission.description;
    if (Has(mask, "kind")) m.kind = mission.kind;
    CPTS_RETURN_IF_ERROR(NormalizeMission(m, "mission"));
    m.update_time = now;
    return absl::OkStatus();
  });
}

// =========================================================================================
// Actions and indicators
// =========================================================================================

absl::StatusOr<Action> Projects::CreateAction(const Caller& caller, Action action,
                                              const RequestKey& key) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "CreateAction"));
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_RETURN_IF_ERROR(NormalizeAction(action, "action"));
  std::vector<Indicator> indicators = std::move(action.indicators);
  action.indicators.clear();
  action.status = ActionStatus::kDraft;
  for (size_t i = 0; i < indicators.size(); ++i) {
    Indicator ind = indicators[i];
    ind.id.clear();
    CPTS_RETURN_IF_ERROR(NormalizeIndicator(ind, absl::StrCat("action.indicators[", i, "]")));
    CPTS_RETURN_IF_ERROR(AddIndicator(ind, action));
  }
  const absl::Time now = d_.clock.Now();
  StampNew(action, caller, d_.ids, now);
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(CreateResult<Action> r,
                        d_.actions.CreateAction(action, KeyOf(key, "CreateAction", k)));
  return r.value;
}

absl::StatusOr<Action> Projects::GetAction(const Caller& caller, absl::string_view action_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  return d_.actions.GetAction(caller.tenant_id, action_id);
}

absl::StatusOr<Page<Action>> Projects::ListActions(const Caller& caller,
                                                   absl::string_view mission_id,
                                                   ActionStatus status, int page_size,
                                                   absl::string_view page_token) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  std::optional<ActionRepository::Cursor> after;
  if (!page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(page_token, 3));
    ActionRepository::Cursor c;
    if (!absl::SimpleAtoi(parts[0], &c.mission_number)) {
      return FieldError("page_token", "malformed");
    }
    c.title = parts[1];
    c.id = parts[2];
    after = c;
  }
  CPTS_ASSIGN_OR_RETURN(
      std::vector<Action> rows,
      d_.actions.ListActions(caller.tenant_id, mission_id, status, after, size + 1));
  Page<Action> page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    const Action& last = rows.back();
    // The mission number is not on the action: read it from the list of missions.
    CPTS_ASSIGN_OR_RETURN(std::vector<Mission> missions, ListMissions(caller));
    int number = 0;
    for (const Mission& m : missions) {
      if (m.id == last.mission_id) number = m.number;
    }
    page.next_page_token = EncodeToken({absl::StrCat(number), last.title, last.id});
  }
  page.items = std::move(rows);
  return page;
}

absl::StatusOr<Action> Projects::UpdateAction(const Caller& caller, const Action& action,
                                              const std::vector<std::string>& mask,
                                              absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action.id, "action.id"));
  CPTS_RETURN_IF_ERROR(
      CheckMask(mask, {"mission_id", "title", "context", "general_objective", "specific_objectives",
                       "partners", "expected_results", "calendar"}));
  if (!IsCoordinatorRole(caller)) {
    // A référent of a group carrying the action.
    bool referent = false;
    if (!caller.member_id.empty()) {
      CPTS_ASSIGN_OR_RETURN(std::vector<WorkingGroup> groups,
                            d_.groups.ListGroups(caller.tenant_id, action.id, caller.member_id,
                                                 std::nullopt, kMaxPage));
      for (const WorkingGroup& g : groups) {
        CPTS_ASSIGN_OR_RETURN(std::vector<GroupParticipant> ps,
                              d_.groups.ListParticipants(caller.tenant_id, g.id));
        const auto me = CurrentOf(ps, caller.member_id);
        if (me.has_value() && me->role == GroupRole::kReferent) referent = true;
      }
    }
    if (!referent) {
      return absl::PermissionDeniedError(
          "UpdateAction needs the coordinator or a référent of a group carrying the action");
    }
  }
  const absl::Time now = d_.clock.Now();
  return d_.actions.UpdateAction(caller.tenant_id, action.id, [&](Action& a) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, a.version));
    if (a.status == ActionStatus::kDone) {
      return absl::FailedPreconditionError("action is DONE");
    }
    if (Has(mask, "mission_id")) a.mission_id = action.mission_id;
    if (Has(mask, "title")) a.title = action.title;
    if (Has(mask, "context")) a.context = action.context;
    if (Has(mask, "general_objective")) a.general_objective = action.general_objective;
    if (Has(mask, "specific_objectives")) a.specific_objectives = action.specific_objectives;
    if (Has(mask, "partners")) a.partners = action.partners;
    if (Has(mask, "expected_results")) a.expected_results = action.expected_results;
    if (Has(mask, "calendar")) a.calendar = action.calendar;
    CPTS_RETURN_IF_ERROR(NormalizeAction(a, "action"));
    a.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> Projects::ChangeActionStatus(const Caller& caller,
                                                    absl::string_view action_id,
                                                    ActionStatus status, absl::string_view reason,
                                                    absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "ChangeActionStatus"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  CPTS_RETURN_IF_ERROR(NormalizeText(reason, "reason", 500, false).status());
  const absl::Time now = d_.clock.Now();
  return d_.actions.UpdateAction(caller.tenant_id, action_id, [&](Action& a) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, a.version));
    CPTS_RETURN_IF_ERROR(CheckActionStatusChange(a.status, status));
    a.status = status;
    a.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> Projects::CreateIndicator(const Caller& caller, absl::string_view action_id,
                                                 Indicator indicator) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "CreateIndicator"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  indicator.id.clear();
  CPTS_RETURN_IF_ERROR(NormalizeIndicator(indicator, "indicator"));
  const absl::Time now = d_.clock.Now();
  return d_.actions.UpdateAction(caller.tenant_id, action_id, [&](Action& a) -> absl::Status {
    CPTS_RETURN_IF_ERROR(AddIndicator(indicator, a));
    a.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> Projects::UpdateIndicator(const Caller& caller, absl::string_view action_id,
                                                 const Indicator& indicator,
                                                 const std::vector<std::string>& mask,
                                                 absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "UpdateIndicator"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(indicator.id, "indicator.id"));
  CPTS_RETURN_IF_ERROR(CheckMask(mask, {"name", "unit", "source", "targets"}));
  const absl::Time now = d_.clock.Now();
  return d_.actions.UpdateAction(caller.tenant_id, action_id, [&](Action& a) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, a.version));
    if (a.status == ActionStatus::kDone) return absl::FailedPreconditionError("action is DONE");
    auto it = std::find_if(a.indicators.begin(), a.indicators.end(),
                           [&](const Indicator& i) { return i.id == indicator.id; });
    if (it == a.indicators.end()) {
      return absl::NotFoundError(absl::StrCat("indicator ", indicator.id, " not found"));
    }
    Indicator changed = *it;
    if (Has(mask, "name")) changed.name = indicator.name;
    if (Has(mask, "unit")) changed.unit = indicator.unit;
    if (Has(mask, "source")) changed.source = indicator.source;
    if (Has(mask, "targets")) changed.targets = indicator.targets;
    CPTS_RETURN_IF_ERROR(NormalizeIndicator(changed, "indicator"));
    for (const Indicator& other : a.indicators) {
      if (other.id != changed.id && other.name == changed.name) {
        return FieldError("indicator.name", "another indicator of the action has this name");
      }
    }
    *it = std::move(changed);
    a.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<std::pair<Action, int>> Projects::CopyIndicatorTargets(const Caller& caller,
                                                                      absl::string_view action_id,
                                                                      int from_year, int to_year) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "CopyIndicatorTargets"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  const absl::Time now = d_.clock.Now();
  int copied = 0;
  CPTS_ASSIGN_OR_RETURN(
      Action a,
      d_.actions.UpdateAction(caller.tenant_id, action_id, [&](Action& x) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(copied, CopyTargets(from_year, to_year, x));
        x.update_time = now;
        return absl::OkStatus();
      }));
  return std::make_pair(std::move(a), copied);
}

absl::StatusOr<IndicatorValue> Projects::RecordIndicatorValue(const Caller& caller,
                                                              IndicatorValue value,
                                                              const RequestKey& key) {
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(value.action_id, "value.action_id"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(value.indicator_id, "value.indicator_id"));
  CPTS_ASSIGN_OR_RETURN(Action action, d_.actions.GetAction(caller.tenant_id, value.action_id));
  CPTS_RETURN_IF_ERROR(ValidateIndicatorValue(action, value));
  const Indicator* indicator = nullptr;
  for (const Indicator& i : action.indicators) {
    if (i.id == value.indicator_id) indicator = &i;
  }
  if (indicator == nullptr) {
    return absl::NotFoundError(absl::StrCat("indicator ", value.indicator_id, " not found"));
  }
  const bool manual = indicator->source == IndicatorSource::kManual;
  if (manual) {
    bool allowed = IsCoordinatorRole(caller);
    if (!allowed && !caller.member_id.empty()) {
      CPTS_ASSIGN_OR_RETURN(std::vector<WorkingGroup> groups,
                            d_.groups.ListGroups(caller.tenant_id, action.id, caller.member_id,
                                                 std::nullopt, kMaxPage));
      for (const WorkingGroup& g : groups) {
        CPTS_ASSIGN_OR_RETURN(std::vector<GroupParticipant> ps,
                              d_.groups.ListParticipants(caller.tenant_id, g.id));
        const auto me = CurrentOf(ps, caller.member_id);
        if (me.has_value() && me->role == GroupRole::kReferent) allowed = true;
      }
    }
    if (!allowed) {
      return absl::PermissionDeniedError(
          "a MANUAL indicator is recorded by the coordinator or a référent of the action");
    }
  } else if (!caller.HasRole(roles::kService)) {
    return absl::PermissionDeniedError("a fed indicator is recorded by its feeding service");
  }
  value.id.clear();
  value.source = indicator->source;
  value.recorded_by = caller.subject;
  value.record_time = d_.clock.Now();
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(
      CreateResult<IndicatorValue> r,
      d_.actions.RecordValue(caller.tenant_id, value, KeyOf(key, "RecordIndicatorValue", k)));
  return r.value;
}

absl::StatusOr<std::vector<IndicatorValue>> Projects::ListIndicatorValues(
    const Caller& caller, absl::string_view action_id, int year) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(action_id, "action_id"));
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_RETURN_IF_ERROR(d_.actions.GetAction(caller.tenant_id, action_id).status());
  return d_.actions.ListValues(caller.tenant_id, action_id, year);
}

// =========================================================================================
// Working groups
// =========================================================================================

absl::StatusOr<WorkingGroup> Projects::CreateWorkingGroup(const Caller& caller, WorkingGroup group,
                                                          const RequestKey& key) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "CreateWorkingGroup"));
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_RETURN_IF_ERROR(NormalizeWorkingGroup(group, "working_group"));
  const absl::Time now = d_.clock.Now();
  StampNew(group, caller, d_.ids, now);
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(CreateResult<WorkingGroup> r,
                        d_.groups.CreateGroup(group, KeyOf(key, "CreateWorkingGroup", k)));
  return r.value;
}

absl::StatusOr<WorkingGroup> Projects::GetWorkingGroup(const Caller& caller,
                                                       absl::string_view group_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  return d_.groups.GetGroup(caller.tenant_id, group_id);
}

absl::StatusOr<Page<WorkingGroup>> Projects::ListWorkingGroups(const Caller& caller,
                                                               absl::string_view action_id,
                                                               absl::string_view member_id,
                                                               int page_size,
                                                               absl::string_view page_token) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  std::optional<std::pair<std::string, std::string>> after;
  if (!page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(page_token, 2));
    after = std::make_pair(parts[0], parts[1]);
  }
  CPTS_ASSIGN_OR_RETURN(
      std::vector<WorkingGroup> rows,
      d_.groups.ListGroups(caller.tenant_id, action_id, member_id, after, size + 1));
  Page<WorkingGroup> page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    page.next_page_token = EncodeToken({rows.back().name, rows.back().id});
  }
  page.items = std::move(rows);
  return page;
}

absl::StatusOr<WorkingGroup> Projects::UpdateWorkingGroup(const Caller& caller,
                                                          const WorkingGroup& group,
                                                          const std::vector<std::string>& mask,
                                                          absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(CheckMask(mask, {"name", "description", "action_ids"}));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group.id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kUpdateGroup));
  const absl::Time now = d_.clock.Now();
  return d_.groups.UpdateGroup(caller.tenant_id, group.id, [&](WorkingGroup& g) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, g.version));
    if (Has(mask, "name")) g.name = group.name;
    if (Has(mask, "description")) g.description = group.description;
    if (Has(mask, "action_ids")) g.action_ids = group.action_ids;
    CPTS_RETURN_IF_ERROR(NormalizeWorkingGroup(g, "working_group"));
    g.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Page<GroupParticipant>> Projects::ListGroupParticipants(
    const Caller& caller, absl::string_view group_id, ParticipantState state, int page_size,
    absl::string_view page_token) {
  CPTS_ASSIGN_OR_RETURN(int size, EffectivePageSize(page_size, kDefaultParticipantsPage,
                                                    kMaxParticipantsPage, "page_size"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group_id));
  if (state == ParticipantState::kUnspecified) state = ParticipantState::kActive;
  std::vector<GroupParticipant> rows;
  for (const GroupParticipant& p : v.participants) {
    if (p.state == state) rows.push_back(p);
  }
  std::sort(rows.begin(), rows.end(), [](const GroupParticipant& a, const GroupParticipant& b) {
    return std::make_pair(static_cast<int>(a.role), a.id) <
           std::make_pair(static_cast<int>(b.role), b.id);
  });
  size_t start = 0;
  if (!page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(page_token, 1));
    if (!absl::SimpleAtoi(parts[0], &start)) return FieldError("page_token", "malformed");
  }
  Page<GroupParticipant> page;
  for (size_t i = start; i < rows.size() && page.items.size() < static_cast<size_t>(size); ++i) {
    page.items.push_back(rows[i]);
  }
  if (start + page.items.size() < rows.size()) {
    page.next_page_token = EncodeToken({absl::StrCat(start + page.items.size())});
  }
  return page;
}

absl::StatusOr<GroupParticipant> Projects::AddGroupParticipant(const Caller& caller,
                                                               absl::string_view group_id,
                                                               GroupParticipant participant,
                                                               GroupRole role) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  const absl::Time now = d_.clock.Now();
  const std::string id = d_.ids.NewId();
  return WriteParticipant(
      caller, group_id, "PARTICIPANT_ADDED", now,
      [&](const std::vector<GroupParticipant>& ps) -> absl::StatusOr<GroupParticipant> {
        CPTS_ASSIGN_OR_RETURN(GroupParticipant p, NewParticipant(ActorFor(caller, ps), group_id,
                                                                 role, participant, now));
        p.id = id;
        return p;
      },
      absl::StrCat(id, " ", GroupRoleName(role)));
}

absl::StatusOr<JoinRequest> Projects::RequestToJoin(const Caller& caller,
                                                    absl::string_view group_id,
                                                    absl::string_view message) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  if (caller.member_id.empty()) {
    return absl::PermissionDeniedError("REQUEST_TO_JOIN needs a member of the CPTS");
  }
  CPTS_ASSIGN_OR_RETURN(bool active, MemberActive(caller, caller.member_id));
  CPTS_ASSIGN_OR_RETURN(
      std::vector<JoinRequest> pending,
      d_.groups.ListJoinRequests(caller.tenant_id, group_id, JoinRequestState::kPending,
                                 std::nullopt, kMaxPendingScan));
  const bool has_pending = std::any_of(pending.begin(), pending.end(), [&](const JoinRequest& r) {
    return r.member_id == caller.member_id;
  });
  const absl::Time now = d_.clock.Now();
  JoinRequest out;
  if (absl::Status step_status =
          ApplyStep(
              caller, group_id, "",
              [&](const std::vector<GroupParticipant>& ps,
                  const std::optional<JoinRequest>&) -> absl::StatusOr<GroupRepository::Step> {
                CPTS_ASSIGN_OR_RETURN(
                    JoinRequest r, projects::RequestToJoin(ActorFor(caller, ps), group_id, active,
                                                           has_pending, message, now));
                r.id = d_.ids.NewId();
                out = r;
                GroupRepository::Step step;
                step.join_request = r;
                step.audit = Audit(caller, "join_request", r.id, "JOIN_REQUESTED", now);
                return step;
              })
              .status();
      !step_status.ok()) {
    return step_status;
  }
  return out;
}

absl::StatusOr<std::pair<JoinRequest, GroupParticipant>> Projects::AcceptJoin(
    const Caller& caller, absl::string_view join_request_id, absl::string_view reason) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(join_request_id, "join_request_id"));
  CPTS_ASSIGN_OR_RETURN(JoinRequest request,
                        d_.groups.GetJoinRequest(caller.tenant_id, join_request_id));
  CPTS_ASSIGN_OR_RETURN(bool active, MemberActive(caller, request.member_id));
  const absl::Time now = d_.clock.Now();
  JoinRequest decided;
  CPTS_ASSIGN_OR_RETURN(
      std::vector<GroupParticipant> written,
      ApplyStep(caller, request.group_id, join_request_id,
                [&](const std::vector<GroupParticipant>& ps,
                    const std::optional<JoinRequest>& r) -> absl::StatusOr<GroupRepository::Step> {
                  decided = *r;
                  CPTS_ASSIGN_OR_RETURN(
                      GroupParticipant p,
                      projects::AcceptJoin(ActorFor(caller, ps), active,
                                           CurrentOf(ps, decided.member_id), reason, now, decided));
                  GroupRepository::Step step;
                  step.upserts.push_back(p);
                  step.join_request = decided;
                  step.audit =
                      Audit(caller, "join_request", decided.id, "JOIN_ACCEPTED", now, reason);
                  return step;
                }));
  if (written.empty()) return absl::InternalError("participant not written");
  return std::make_pair(decided, written.front());
}

absl::StatusOr<JoinRequest> Projects::RefuseJoin(const Caller& caller,
                                                 absl::string_view join_request_id,
                                                 absl::string_view reason) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(join_request_id, "join_request_id"));
  CPTS_ASSIGN_OR_RETURN(JoinRequest request,
                        d_.groups.GetJoinRequest(caller.tenant_id, join_request_id));
  const absl::Time now = d_.clock.Now();
  JoinRequest decided;
  if (absl::Status step_status =
          ApplyStep(
              caller, request.group_id, join_request_id,
              [&](const std::vector<GroupParticipant>& ps,
                  const std::optional<JoinRequest>& r) -> absl::StatusOr<GroupRepository::Step> {
                decided = *r;
                CPTS_RETURN_IF_ERROR(
                    projects::RefuseJoin(ActorFor(caller, ps), reason, now, decided));
                GroupRepository::Step step;
                step.join_request = decided;
                step.audit = Audit(caller, "join_request", decided.id, "JOIN_REFUSED", now, reason);
                return step;
              })
              .status();
      !step_status.ok()) {
    return step_status;
  }
  return decided;
}

absl::StatusOr<Page<JoinRequest>> Projects::ListJoinRequests(const Caller& caller,
                                                             absl::string_view group_id,
                                                             JoinRequestState state, int page_size,
                                                             absl::string_view page_token) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group_id));
  const bool leader = IsLeader(ActorFor(caller, v.participants));
  CPTS_ASSIGN_OR_RETURN(TimeIdCursor before, DecodeTimeIdToken(page_token));
  Page<JoinRequest> page;
  // A member who is not a leader sees their own requests only (filtered page by page).
  while (true) {
    CPTS_ASSIGN_OR_RETURN(
        std::vector<JoinRequest> rows,
        d_.groups.ListJoinRequests(caller.tenant_id, group_id, state, before, size + 1));
    const bool more = static_cast<int>(rows.size()) > size;
    if (more) rows.resize(size);
    for (JoinRequest& r : rows) {
      if (leader || (!caller.member_id.empty() && r.member_id == caller.member_id)) {
        page.items.push_back(std::move(r));
      }
    }
    if (!more) break;
    before = std::make_pair(rows.back().create_time, rows.back().id);
    if (static_cast<int>(page.items.size()) >= size || leader) {
      page.next_page_token = EncodeToken({TimeToken(before->first), before->second});
      break;
    }
  }
  return page;
}

absl::StatusOr<GroupParticipant> Projects::LeaveGroup(const Caller& caller,
                                                      absl::string_view group_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  const absl::Time now = d_.clock.Now();
  return WriteParticipant(caller, group_id, "PARTICIPANT_LEFT", now,
                          [&](const std::vector<GroupParticipant>& ps) {
                            return projects::LeaveGroup(ActorFor(caller, ps), now);
                          });
}

absl::StatusOr<GroupParticipant> Projects::AppointReferent(const Caller& caller,
                                                           absl::string_view group_id,
                                                           absl::string_view participant_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(participant_id, "participant_id"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group_id));
  const GroupParticipant* target = FindParticipant(v.participants, participant_id);
  if (target == nullptr) {
    return absl::NotFoundError(absl::StrCat("participant ", participant_id, " not found"));
  }
  bool active = false;
  if (!target->member_id.empty()) {
    CPTS_ASSIGN_OR_RETURN(active, MemberActive(caller, target->member_id));
  }
  const absl::Time now = d_.clock.Now();
  return WriteParticipant(
      caller, group_id, "REFERENT_APPOINTED", now,
      [&](const std::vector<GroupParticipant>& ps) -> absl::StatusOr<GroupParticipant> {
        const GroupParticipant* t = FindParticipant(ps, participant_id);
        if (t == nullptr) return absl::NotFoundError("participant not found");
        GroupParticipant p = *t;
        CPTS_RETURN_IF_ERROR(projects::AppointReferent(ActorFor(caller, ps), active, p));
        return p;
      });
}

absl::StatusOr<GroupParticipant> Projects::StepDown(const Caller& caller,
                                                    absl::string_view group_id,
                                                    absl::string_view participant_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(group_id, "group_id"));
  const absl::Time now = d_.clock.Now();
  return WriteParticipant(
      caller, group_id, "REFERENT_STEPPED_DOWN", now,
      [&](const std::vector<GroupParticipant>& ps) -> absl::StatusOr<GroupParticipant> {
        const GroupActor actor = ActorFor(caller, ps);
        std::string id(participant_id);
        if (id.empty()) {
          if (!actor.participation.has_value()) {
            return absl::FailedPreconditionError("caller is not a participant of the group");
          }
          id = actor.participation->id;
        }
        const GroupParticipant* t = FindParticipant(ps, id);
        if (t == nullptr) return absl::NotFoundError("participant not found");
        GroupParticipant p = *t;
        CPTS_RETURN_IF_ERROR(projects::StepDown(actor, p));
        return p;
      });
}

// =========================================================================================
// Tasks and documents
// =========================================================================================

absl::StatusOr<Task> Projects::CreateTask(const Caller& caller, Task task, const RequestKey& key) {
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  if (task.status == TaskStatus::kUnspecified) task.status = TaskStatus::kTodo;
  CPTS_RETURN_IF_ERROR(NormalizeTask(task, "task"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, task.group_id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kManageTasks));
  for (size_t i = 0; i < task.assignee_participant_ids.size(); ++i) {
    const GroupParticipant* p = FindParticipant(v.participants, task.assignee_participant_ids[i]);
    if (p == nullptr || p->state != ParticipantState::kActive) {
      return FieldError(absl::StrCat("task.assignee_participant_ids[", i, "]"),
                        "not a current participant of the group");
    }
  }
  const absl::Time now = d_.clock.Now();
  task.id = d_.ids.NewId();
  task.created_by = caller.subject;
  task.create_time = now;
  task.update_time = now;
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(CreateResult<Task> r,
                        d_.tasks.CreateTask(caller.tenant_id, task, KeyOf(key, "CreateTask", k)));
  return r.value;
}

absl::StatusOr<Task> Projects::UpdateTask(const Caller& caller, const Task& task,
                                          const std::vector<std::string>& mask,
                                          absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(task.id, "task.id"));
  CPTS_RETURN_IF_ERROR(
      CheckMask(mask, {"title", "description", "assignee_participant_ids", "due_date", "status"}));
  const absl::Time now = d_.clock.Now();
  return d_.tasks.UpdateTask(caller.tenant_id, task.id, [&](Task& t) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, t.version));
    CPTS_ASSIGN_OR_RETURN(std::vector<GroupParticipant> ps,
                          d_.groups.ListParticipants(caller.tenant_id, t.group_id));
    const GroupActor actor = ActorFor(caller, ps);
    if (!IsLeader(actor)) {
      const bool assignee =
          actor.participation.has_value() &&
          std::find(t.assignee_participant_ids.begin(), t.assignee_participant_ids.end(),
                    actor.participation->id) != t.assignee_participant_ids.end();
      if (!assignee || mask.size() != 1 || mask.front() != "status") {
        return absl::PermissionDeniedError(
            "UpdateTask needs the coordinator or a référent of the group; an assignee may "
            "change the status only");
      }
    }
    if (Has(mask, "title")) t.title = task.title;
    if (Has(mask, "description")) t.description = task.description;
    if (Has(mask, "assignee_participant_ids")) {
      t.assignee_participant_ids = task.assignee_participant_ids;
    }
    if (Has(mask, "due_date")) t.due_date = task.due_date;
    if (Has(mask, "status")) t.status = task.status;
    CPTS_RETURN_IF_ERROR(NormalizeTask(t, "task"));
    t.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Page<Task>> Projects::ListTasks(const Caller& caller, const TaskQuery& query) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(query.page_size, kDefaultPage, kMaxPage, "page_size"));
  if (query.group_id.empty() && query.assignee_participant_id.empty() &&
      query.assignee_member_id.empty()) {
    return FieldError("group_id", "required unless an assignee is given");
  }
  if (!query.assignee_member_id.empty() && query.assignee_member_id != caller.member_id &&
      !IsCoordinatorRole(caller)) {
    return absl::PermissionDeniedError("a member lists their own tasks only");
  }
  std::string after;
  if (!query.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(query.page_token, 1));
    after = parts[0];
  }
  TaskRepository::Filter f;
  f.group_id = query.group_id;
  f.assignee_participant_id = query.assignee_participant_id;
  f.assignee_member_id = query.assignee_member_id;
  f.status = query.status;
  CPTS_ASSIGN_OR_RETURN(std::vector<Task> rows,
                        d_.tasks.ListTasks(caller.tenant_id, f, after, size + 1));
  Page<Task> page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    page.next_page_token = EncodeToken({rows.back().id});
  }
  page.items = std::move(rows);
  return page;
}

absl::StatusOr<Document> Projects::CreateDocument(const Caller& caller, Document document,
                                                  const RequestKey& key) {
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_RETURN_IF_ERROR(NormalizeDocument(document, "document"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, document.group_id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kAddDocument));
  document.id = d_.ids.NewId();
  document.author_member_id = caller.member_id;
  document.author_subject = caller.subject;
  document.create_time = d_.clock.Now();
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(
      CreateResult<Document> r,
      d_.documents.CreateDocument(caller.tenant_id, document, KeyOf(key, "CreateDocument", k)));
  return r.value;
}

absl::StatusOr<Page<Document>> Projects::ListDocuments(const Caller& caller,
                                                       absl::string_view group_id, int page_size,
                                                       absl::string_view page_token) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group_id));
  CPTS_RETURN_IF_ERROR(RequireGroupReader(caller, v.participants));
  CPTS_ASSIGN_OR_RETURN(TimeIdCursor before, DecodeTimeIdToken(page_token));
  CPTS_ASSIGN_OR_RETURN(std::vector<Document> rows,
                        d_.documents.ListDocuments(caller.tenant_id, group_id, before, size + 1));
  Page<Document> page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    page.next_page_token = EncodeToken({TimeToken(rows.back().create_time), rows.back().id});
  }
  page.items = std::move(rows);
  return page;
}

// =========================================================================================
// Meetings
// =========================================================================================

absl::StatusOr<Meeting> Projects::ScheduleMeeting(const Caller& caller, Meeting meeting,
                                                  const RequestKey& key) {
  if (!key.request_id.empty())
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, meeting.group_id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kManageMeetings));
  const absl::Time now = d_.clock.Now();
  CPTS_ASSIGN_OR_RETURN(Meeting m, NewMeeting(std::move(meeting), v.group, now));
  StampNew(m, caller, d_.ids, now);
  m.group_id = v.group.id;
  IdempotencyKey k;
  CPTS_ASSIGN_OR_RETURN(CreateResult<Meeting> r,
                        d_.meetings.CreateMeeting(m, KeyOf(key, "ScheduleMeeting", k)));
  return r.value;
}

absl::StatusOr<Meeting> Projects::GetMeeting(const Caller& caller, absl::string_view meeting_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(meeting_id, "meeting_id"));
  return d_.meetings.GetMeeting(caller.tenant_id, meeting_id);
}

absl::StatusOr<Page<Meeting>> Projects::ListMeetings(const Caller& caller,
                                                     const MeetingQuery& query) {
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(query.page_size, kDefaultPage, kMaxPage, "page_size"));
  CPTS_ASSIGN_OR_RETURN(TimeIdCursor after, DecodeTimeIdToken(query.page_token));
  MeetingRepository::Filter f;
  f.group_id = query.group_id;
  f.start_after = query.start_after;
  f.start_before = query.start_before;
  f.state = query.state;
  CPTS_ASSIGN_OR_RETURN(std::vector<Meeting> rows,
                        d_.meetings.ListMeetings(caller.tenant_id, f, after, size + 1));
  Page<Meeting> page;
  if (static_cast<int>(rows.size()) > size) {
    rows.resize(size);
    page.next_page_token = EncodeToken({TimeToken(rows.back().start_time), rows.back().id});
  }
  page.items = std::move(rows);
  return page;
}

absl::StatusOr<Meeting> Projects::ManageMeeting(
    const Caller& caller, absl::string_view meeting_id,
    absl::FunctionRef<absl::Status(Meeting&, absl::Time)> change) {
  CPTS_ASSIGN_OR_RETURN(Meeting m, GetMeeting(caller, meeting_id));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, m.group_id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kManageMeetings));
  const absl::Time now = d_.clock.Now();
  return d_.meetings.UpdateMeeting(caller.tenant_id, meeting_id, [&](Meeting& x) -> absl::Status {
    CPTS_RETURN_IF_ERROR(change(x, now));
    x.update_time = now;
    return absl::OkStatus();
  });
}

absl::StatusOr<Meeting> Projects::RescheduleMeeting(const Caller& caller,
                                                    absl::string_view meeting_id, absl::Time start,
                                                    absl::Time end,
                                                    const std::optional<MeetingLocation>& location,
                                                    absl::string_view etag) {
  return ManageMeeting(caller, meeting_id, [&](Meeting& x, absl::Time now) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, x.version));
    return Reschedule(start, end, location, now, x);
  });
}

absl::StatusOr<Meeting> Projects::CancelMeeting(const Caller& caller, absl::string_view meeting_id,
                                                absl::string_view reason, absl::string_view etag) {
  return ManageMeeting(caller, meeting_id, [&](Meeting& x, absl::Time now) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckEtag(etag, x.version));
    return Cancel(reason, now, x);
  });
}

absl::StatusOr<Meeting> Projects::AttachMinutes(const Caller& caller, absl::string_view meeting_id,
                                                Minutes minutes) {
  return ManageMeeting(caller, meeting_id, [&](Meeting& x, absl::Time now) {
    return projects::AttachMinutes(minutes, caller.subject, now, x);
  });
}

absl::StatusOr<MeetingReply> Projects::ReplyToMeeting(const Caller& caller,
                                                      absl::string_view meeting_id, ReplyKind kind,
                                                      absl::string_view reason) {
  CPTS_ASSIGN_OR_RETURN(Meeting m, GetMeeting(caller, meeting_id));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, m.group_id));
  const GroupActor actor = ActorFor(caller, v.participants);
  CPTS_RETURN_IF_ERROR(CheckGroupPermission(actor, GroupStep::kReplyToMeeting));
  const absl::Time now = d_.clock.Now();
  CPTS_ASSIGN_OR_RETURN(MeetingReply reply, Reply(m, *actor.participation, kind, reason, now));
  CPTS_RETURN_IF_ERROR(d_.meetings.PutReply(caller.tenant_id, reply));
  return reply;
}

absl::StatusOr<std::vector<MeetingReply>> Projects::ListMeetingReplies(
    const Caller& caller, absl::string_view meeting_id) {
  CPTS_ASSIGN_OR_RETURN(Meeting m, GetMeeting(caller, meeting_id));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, m.group_id));
  CPTS_RETURN_IF_ERROR(RequireGroupReader(caller, v.participants));
  return d_.meetings.ListReplies(caller.tenant_id, meeting_id);
}

// =========================================================================================
// Attendance
// =========================================================================================

absl::StatusOr<AttendanceSheet> Projects::GetAttendanceSheet(const Caller& caller,
                                                             absl::string_view meeting_id) {
  CPTS_ASSIGN_OR_RETURN(Meeting m, GetMeeting(caller, meeting_id));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, m.group_id));
  CPTS_RETURN_IF_ERROR(RequireGroupReader(caller, v.participants));
  CPTS_ASSIGN_OR_RETURN(std::optional<AttendanceSheet> sheet,
                        d_.attendance.GetSheet(caller.tenant_id, meeting_id));
  if (sheet.has_value()) return *std::move(sheet);
  CPTS_ASSIGN_OR_RETURN(std::vector<MeetingReply> replies,
                        d_.meetings.ListReplies(caller.tenant_id, meeting_id));
  std::vector<GroupParticipant> current;
  for (const GroupParticipant& p : v.participants) {
    if (p.state == ParticipantState::kActive) current.push_back(p);
  }
  CPTS_ASSIGN_OR_RETURN(TenantRules rules, RulesFor(caller));
  AttendanceSheet s = NewSheet(m, current, replies, rules.hourly);
  s.tenant_id = caller.tenant_id;
  return s;
}

absl::StatusOr<AttendanceSheet> Projects::MutateSheet(
    const Caller& caller, absl::string_view meeting_id, absl::string_view audit_action,
    absl::string_view reason,
    absl::FunctionRef<absl::StatusOr<std::vector<EntitlementEvent>>(
        const Meeting&, const std::vector<GroupParticipant>&, const TenantRules&, AttendanceSheet&)>
        mutate,
    const IdempotencyKey* key) {
  CPTS_ASSIGN_OR_RETURN(Meeting m, GetMeeting(caller, meeting_id));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, m.group_id));
  CPTS_RETURN_IF_ERROR(
      CheckGroupPermission(ActorFor(caller, v.participants), GroupStep::kManageAttendance));
  CPTS_ASSIGN_OR_RETURN(std::vector<MeetingReply> replies,
                        d_.meetings.ListReplies(caller.tenant_id, meeting_id));
  std::vector<GroupParticipant> current;
  for (const GroupParticipant& p : v.participants) {
    if (p.state == ParticipantState::kActive) current.push_back(p);
  }
  // The payment in force now applies to a sheet recorded for the first time; a stored
  // sheet keeps its own.
  CPTS_ASSIGN_OR_RETURN(TenantRules rules, RulesFor(caller));
  const AttendanceSheet initial = NewSheet(m, current, replies, rules.hourly);
  const absl::Time now = d_.clock.Now();
  return d_.attendance.MutateSheet(
      caller.tenant_id, meeting_id, initial,
      [&](AttendanceSheet& sheet) { return mutate(m, v.participants, rules, sheet); },
      Audit(caller, "meeting", meeting_id, audit_action, now, reason), key);
}

absl::StatusOr<AttendanceSheet> Projects::RecordAttendance(const Caller& caller,
                                                           absl::string_view meeting_id,
                                                           const std::vector<AttendanceLine>& lines,
                                                           absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(meeting_id, "meeting_id"));
  if (lines.empty() || lines.size() > kMaxLines) return FieldError("lines", "1 to 200 lines");
  const absl::Time now = d_.clock.Now();
  return MutateSheet(
      caller, meeting_id, "ATTENDANCE_RECORDED", "",
      [&](const Meeting& m, const std::vector<GroupParticipant>& roster, const TenantRules&,
          AttendanceSheet& sheet) -> absl::StatusOr<std::vector<EntitlementEvent>> {
        CPTS_RETURN_IF_ERROR(CheckEtag(etag, sheet.revision));
        CPTS_RETURN_IF_ERROR(RecordLines(m, roster, lines, now, sheet));
        return std::vector<EntitlementEvent>();
      });
}

absl::StatusOr<AttendanceSheet> Projects::CloseAttendance(const Caller& caller,
                                                          absl::string_view meeting_id,
                                                          absl::string_view etag,
                                                          const RequestKey& key) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(meeting_id, "meeting_id"));
  if (!key.request_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  }
  const absl::Time now = d_.clock.Now();
  IdempotencyKey k;
  return MutateSheet(
      caller, meeting_id, "ATTENDANCE_CLOSED", "",
      [&](const Meeting& m, const std::vector<GroupParticipant>&, const TenantRules& rules,
          AttendanceSheet& sheet) -> absl::StatusOr<std::vector<EntitlementEvent>> {
        CPTS_RETURN_IF_ERROR(CheckEtag(etag, sheet.revision));
        const EntitlementContext context{.tenant_id = caller.tenant_id,
                                         .meeting_id = m.id,
                                         .group_id = m.group_id,
                                         .action_id = m.action_id,
                                         .meeting_date = MeetingDate(m, rules.zone)};
        return CloseSheet(context, caller.subject, now, sheet);
      },
      KeyOf(key, "CloseAttendance", k));
}

absl::StatusOr<AttendanceSheet> Projects::AmendAttendance(
    const Caller& caller, absl::string_view meeting_id, const std::vector<AttendanceLine>& lines,
    absl::string_view reason, absl::string_view etag, const RequestKey& key) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(meeting_id, "meeting_id"));
  if (!key.request_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateRequestId(key.request_id, "request_id"));
  }
  IdempotencyKey k;
  if (etag.empty()) return FieldError("etag", "required to amend a closed sheet");
  if (lines.empty() || lines.size() > kMaxLines) return FieldError("lines", "1 to 200 lines");
  const absl::Time now = d_.clock.Now();
  return MutateSheet(
      caller, meeting_id, "ATTENDANCE_AMENDED", reason,
      [&](const Meeting& m, const std::vector<GroupParticipant>& roster, const TenantRules& rules,
          AttendanceSheet& sheet) -> absl::StatusOr<std::vector<EntitlementEvent>> {
        CPTS_RETURN_IF_ERROR(CheckEtag(etag, sheet.revision));
        const EntitlementContext context{.tenant_id = caller.tenant_id,
                                         .meeting_id = m.id,
                                         .group_id = m.group_id,
                                         .action_id = m.action_id,
                                         .meeting_date = MeetingDate(m, rules.zone)};
        return AmendSheet(context, roster, lines, reason, caller.subject, now, sheet);
      },
      KeyOf(key, "AmendAttendance", k));
}

// =========================================================================================
// Reports
// =========================================================================================

absl::StatusOr<Page<ParticipationEntry>> Projects::ListParticipationHistory(
    const Caller& caller, absl::string_view member_id, std::optional<absl::Time> start_after,
    int page_size, absl::string_view page_token) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(member_id, "member_id"));
  if (member_id != caller.member_id && !IsCoordinatorRole(caller)) {
    return absl::PermissionDeniedError(
        "ListParticipationHistory needs the member themselves or the coordinator");
  }
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  CPTS_ASSIGN_OR_RETURN(TimeIdCursor before, DecodeTimeIdToken(page_token));
  CPTS_ASSIGN_OR_RETURN(
      std::vector<AttendanceRepository::HeldSheet> rows,
      d_.attendance.ListSheetsOfMember(caller.tenant_id, member_id, before, size + 1));
  Page<ParticipationEntry> page;
  bool more = static_cast<int>(rows.size()) > size;
  if (more) rows.resize(size);
  for (const auto& held : rows) {
    if (start_after.has_value() && held.meeting.start_time < *start_after) {
      more = false;
      break;
    }
    CPTS_ASSIGN_OR_RETURN(std::vector<MeetingReply> replies,
                          d_.meetings.ListReplies(caller.tenant_id, held.meeting.id));
    for (const AttendanceLine& line : held.sheet.lines) {
      if (line.member_id != member_id) continue;
      ParticipationEntry e;
      e.meeting_id = held.meeting.id;
      e.group_id = held.meeting.group_id;
      e.start_time = held.meeting.start_time;
      e.attendance = line.status;
      e.minutes_worked = line.minutes_worked;
      for (const MeetingReply& r : replies) {
        if (r.participant_id == line.participant_id) e.reply = r.kind;
      }
      page.items.push_back(std::move(e));
    }
  }
  if (more && !rows.empty()) {
    page.next_page_token =
        EncodeToken({TimeToken(rows.back().meeting.start_time), rows.back().meeting.id});
  }
  return page;
}

absl::StatusOr<AttendanceStats> Projects::GetGroupAttendanceStats(const Caller& caller,
                                                                  absl::string_view group_id,
                                                                  int year) {
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(GroupView v, LoadGroup(caller, group_id));
  CPTS_RETURN_IF_ERROR(RequireGroupReader(caller, v.participants));
  CPTS_ASSIGN_OR_RETURN(TenantRules rules, RulesFor(caller));
  const auto [from, to] = YearBounds(year, rules.zone);
  CPTS_ASSIGN_OR_RETURN(std::vector<AttendanceRepository::HeldSheet> held,
                        d_.attendance.ListFinalSheets(caller.tenant_id, group_id, from, to));
  std::vector<AttendanceSheet> sheets;
  for (auto& h : held) {
    if (h.meeting.state != MeetingState::kCancelled) sheets.push_back(std::move(h.sheet));
  }
  return ComputeStats(sheets);
}

absl::StatusOr<ProjectReport> Projects::GetProjectReport(const Caller& caller, int year) {
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(std::vector<Mission> missions, ListMissions(caller));
  CPTS_ASSIGN_OR_RETURN(std::vector<Action> actions, d_.actions.ListAllActions(caller.tenant_id));
  CPTS_ASSIGN_OR_RETURN(std::vector<IndicatorValue> values,
                        d_.actions.ListAllValues(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(TenantRules rules, RulesFor(caller));
  const auto [from, to] = YearBounds(year, rules.zone);
  CPTS_ASSIGN_OR_RETURN(std::vector<AttendanceRepository::HeldSheet> held,
                        d_.attendance.ListFinalSheets(caller.tenant_id, "", from, to));
  std::vector<HeldMeeting> meetings;
  meetings.reserve(held.size());
  for (auto& h : held) {
    meetings.push_back({.meeting = std::move(h.meeting), .sheet = std::move(h.sheet)});
  }
  return BuildProjectReport(year, rules.zone, missions, actions, values, meetings);
}

// =========================================================================================
// Outbox repairs
// =========================================================================================

absl::StatusOr<Page<DeadEvent>> Projects::ListDeadOutboxEvents(const Caller& caller, int page_size,
                                                               absl::string_view page_token) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "ListDeadOutboxEvents"));
  CPTS_ASSIGN_OR_RETURN(int size,
                        EffectivePageSize(page_size, kDefaultPage, kMaxPage, "page_size"));
  int64_t after_id = 0;
  if (!page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> parts, DecodeToken(page_token, 1));
    if (!absl::SimpleAtoi(parts[0], &after_id) || after_id <= 0) {
      return FieldError("page_token", "malformed");
    }
  }
  CPTS_ASSIGN_OR_RETURN(DeadEventPage dead,
                        d_.outbox.ListDeadEvents(caller.tenant_id, size, after_id));
  Page<DeadEvent> page;
  page.items = std::move(dead.events);
  for (DeadEvent& e : page.items) e.last_error = ScrubUtf8(e.last_error);
  if (dead.next_after_id != 0)
    page.next_page_token = EncodeToken({absl::StrCat(dead.next_after_id)});
  return page;
}

absl::StatusOr<RequeueOutcome> Projects::RequeueOutboxEvents(const Caller& caller,
                                                             const std::vector<int64_t>& ids,
                                                             absl::string_view topic,
                                                             absl::string_view reason) {
  CPTS_RETURN_IF_ERROR(RequireCoordinator(caller, "RequeueOutboxEvents"));
  CPTS_RETURN_IF_ERROR(ValidateRequeueTarget(ids, topic));
  CPTS_ASSIGN_OR_RETURN(std::string why, NormalizeText(reason, "reason", 500, true));
  const absl::Time now = d_.clock.Now();
  return d_.outbox.RequeueEvents(caller.tenant_id, ids, topic, now,
                                 Audit(caller, "outbox", caller.tenant_id, "OUTBOX_REQUEUED", now,
                                       why, ids.empty() ? absl::StrCat("topic=", topic) : ""));
}

}  // namespace cpts::projects
