#include "services/membership/lifecycle.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cpts::membership {
namespace {

struct Rule {
  Transition transition;
  std::array<MemberStatus, 3> from;  // kUnspecified pads unused slots
};

// The table. Statuses are as reported by StatusOn (so LAPSED appears, although it is never
// stored).
constexpr std::array<Rule, 6> kRules = {{
    {Transition::kApprove,
     {MemberStatus::kPending, MemberStatus::kUnspecified, MemberStatus::kUnspecified}},
    {Transition::kReject,
     {MemberStatus::kPending, MemberStatus::kUnspecified, MemberStatus::kUnspecified}},
    {Transition::kRenew, {MemberStatus::kActive, MemberStatus::kLapsed, MemberStatus::kResigned}},
    {Transition::kSuspend,
     {MemberStatus::kActive, MemberStatus::kLapsed, MemberStatus::kUnspecified}},
    {Transition::kReinstate,
     {MemberStatus::kSuspended, MemberStatus::kUnspecified, MemberStatus::kUnspecified}},
    {Transition::kResign, {MemberStatus::kActive, MemberStatus::kLapsed, MemberStatus::kSuspended}},
}};

const Rule& RuleFor(Transition transition) {
  for (const Rule& rule : kRules) {
    if (rule.transition == transition) return rule;
  }
  return kRules[0];  // unreachable: every Transition has a rule
}

bool HasYear(const Member& member, int year) {
  return std::binary_search(member.membership_years.begin(), member.membership_years.end(), year);
}

void AddYear(Member& member, int year) {
  auto& years = member.membership_years;
  years.insert(std::upper_bound(years.begin(), years.end(), year), year);
}

// Moves the stored status to `to` from `since` on, keeping the old one as previous.
void SetStatus(Member& member, MemberStatus to, absl::CivilDay since, std::string reason) {
  member.previous_status = member.status;
  member.status = to;
  member.status_since = since;
  member.status_reason = std::move(reason);
}

}  // namespace

absl::string_view TransitionName(Transition transition) {
  switch (transition) {
    case Transition::kApprove:
      return "APPROVE";
    case Transition::kReject:
      return "REJECT";
    case Transition::kRenew:
      return "RENEW";
    case Transition::kSuspend:
      return "SUSPEND";
    case Transition::kReinstate:
      return "REINSTATE";
    case Transition::kResign:
      return "RESIGN";
  }
  return "UNKNOWN";
}

int MembershipYearOf(const Tenant& tenant, absl::CivilDay day) {
  switch (tenant.year_model) {
    case MembershipYearModel::kCalendar:
      return static_cast<int>(day.year());
  }
  return static_cast<int>(day.year());
}

MemberStatus StatusOn(const Member& member, const Tenant& tenant, absl::CivilDay day) {
  MemberStatus status = day >= member.status_since ? member.status : member.previous_status;
  if (status == MemberStatus::kUnspecified) status = MemberStatus::kPending;
  if (status == MemberStatus::kActive && !HasYear(member, MembershipYearOf(tenant, day))) {
    status = MemberStatus::kLapsed;
  }
  return status;
}

bool IsTransitionAllowed(MemberStatus from, Transition transition) {
  if (from == MemberStatus::kUnspecified) return false;
  const Rule& rule = RuleFor(transition);
  return std::find(rule.from.begin(), rule.from.end(), from) != rule.from.end();
}

absl::Status CheckTransition(MemberStatus from, Transition transition) {
  if (IsTransitionAllowed(from, transition)) return absl::OkStatus();
  std::vector<absl::string_view> allowed;
  for (MemberStatus s : RuleFor(transition).from) {
    if (s != MemberStatus::kUnspecified) allowed.push_back(MemberStatusName(s));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("member is ", MemberStatusName(from), "; ", TransitionName(transition),
                   allowed.size() == 1 ? " is allowed only from " : " is allowed only from one of ",
                   absl::StrJoin(allowed, ", ")));
}

absl::Status ApplyTransition(const Tenant& tenant, const TransitionInput& input, Member& member) {
  const MemberStatus from = StatusOn(member, tenant, input.today);
  if (absl::Status s = CheckTransition(from, input.transition); !s.ok()) return s;
  switch (input.transition) {
    case Transition::kApprove:
      AddYear(member, input.year);
      SetStatus(member, MemberStatus::kActive, input.today, "");
      return absl::OkStatus();
    case Transition::kReject:
      SetStatus(member, MemberStatus::kRejected, input.today, input.reason);
      return absl::OkStatus();
    case Transition::kRenew:
      if (HasYear(member, input.year)) {
        return absl::FailedPreconditionError(
            absl::StrCat("member is already a member for ", input.year));
      }
      AddYear(member, input.year);
      // An ACTIVE (or LAPSED, stored ACTIVE) member keeps its status and history; a resigned
      // member comes back.
      if (member.status != MemberStatus::kActive) {
        SetStatus(member, MemberStatus::kActive, input.today, "");
      }
      return absl::OkStatus();
    case Transition::kSuspend:
      SetStatus(member, MemberStatus::kSuspended, input.today, input.reason);
      return absl::OkStatus();
    case Transition::kReinstate:
      SetStatus(member, MemberStatus::kActive, input.today, input.reason);
      return absl::OkStatus();
    case Transition::kResign: {
      const absl::CivilDay effective = input.effective_date.value_or(input.today);
      if (effective < member.status_since) {
        return absl::FailedPreconditionError(absl::StrCat(
            "effective_date: the resignation cannot take effect before the member's current "
            "status began (",
            absl::FormatCivilTime(member.status_since), ")"));
      }
      SetStatus(member, MemberStatus::kResigned, effective, input.reason);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown transition");
}

bool IsUpToDate(const Member& member, const Tenant& tenant, absl::CivilDay day) {
  const int year = MembershipYearOf(tenant, day);
  if (StatusOn(member, tenant, day) != MemberStatus::kActive || !HasYear(member, year)) {
    return false;
  }
  if (tenant.annual_fee_cents <= 0) return true;
  const auto it = member.paid_cents_by_year.find(year);
  return it != member.paid_cents_by_year.end() && it->second >= tenant.annual_fee_cents;
}

const EmployerConvention* ConventionValidOn(const std::vector<EmployerConvention>& conventions,
                                            absl::string_view member_id, absl::CivilDay day) {
  for (const EmployerConvention& c : conventions) {
    if (c.member_id == member_id && c.ValidOn(day)) return &c;
  }
  return nullptr;
}

Payee PayeeOn(const Member& member, const Tenant& tenant, absl::CivilDay day,
              const std::vector<EmployerConvention>& conventions) {
  Payee none;
  none.kind = PayeeKind::kNone;
  if (member.kind != MemberKind::kPerson) {
    none.none_reason = PayeeNoneReason::kLegalEntity;
    return none;
  }
  if (StatusOn(member, tenant, day) != MemberStatus::kActive) {
    none.none_reason = PayeeNoneReason::kMemberNotActive;
    return none;
  }
  Payee self;
  self.kind = PayeeKind::kSelf;
  const EmployerConvention* convention = nullptr;
  switch (member.exercise_mode) {
    case ExerciseMode::kLiberal:
      return self;
    case ExerciseMode::kSalaried:
    case ExerciseMode::kMixed:
      convention = ConventionValidOn(conventions, member.id, day);
      if (convention != nullptr) {
        Payee employer;
        employer.kind = PayeeKind::kEmployer;
        employer.employer_member_id = convention->employer_member_id;
        employer.convention_id = convention->id;
        return employer;
      }
      if (member.exercise_mode == ExerciseMode::kMixed) return self;
      none.none_reason = PayeeNoneReason::kNoValidConvention;
      return none;
    case ExerciseMode::kUnspecified:
      break;
  }
  none.none_reason = PayeeNoneReason::kNoExerciseMode;
  return none;
}

}  // namespace cpts::membership
