#include "services/projects/indicators.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

absl::Status CheckNotDone(const Action& action) {
  if (action.status == ActionStatus::kDone) {
    return absl::FailedPreconditionError("action is DONE; its indicators are frozen");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckActionStatusChange(ActionStatus from, ActionStatus to) {
  absl::string_view allowed_from;
  bool allowed = false;
  switch (to) {
    case ActionStatus::kUnspecified:
    case ActionStatus::kDraft:
      return FieldError("status", "must be ACTIVE, SUSPENDED or DONE");
    case ActionStatus::kActive:
      allowed = from == ActionStatus::kDraft || from == ActionStatus::kSuspended;
      allowed_from = "DRAFT or SUSPENDED";
      break;
    case ActionStatus::kSuspended:
      allowed = from == ActionStatus::kActive;
      allowed_from = "ACTIVE";
      break;
    case ActionStatus::kDone:
      allowed = from == ActionStatus::kActive || from == ActionStatus::kSuspended;
      allowed_from = "ACTIVE or SUSPENDED";
      break;
  }
  if (!allowed) {
    return absl::FailedPreconditionError(absl::StrCat("action is ", ActionStatusName(from), "; ",
                                                      ActionStatusName(to),
                                                      " is allowed only from ", allowed_from));
  }
  return absl::OkStatus();
}

absl::Status NormalizeIndicator(Indicator& indicator, absl::string_view prefix) {
  auto name = NormalizeText(indicator.name, absl::StrCat(prefix, ".name"), 200, true);
  if (!name.ok()) return name.status();
  auto unit = NormalizeText(indicator.unit, absl::StrCat(prefix, ".unit"), 50, true);
  if (!unit.ok()) return unit.status();
  if (indicator.kind == IndicatorKind::kUnspecified) {
    return FieldError(absl::StrCat(prefix, ".kind"), "must be set");
  }
  std::set<int> years;
  for (std::size_t i = 0; i < indicator.targets.size(); ++i) {
    const YearlyTarget& t = indicator.targets[i];
    const std::string field = absl::StrCat(prefix, ".targets[", i, "]");
    if (absl::Status s = ValidateYear(t.year, absl::StrCat(field, ".year")); !s.ok()) return s;
    if (t.target < 0) return FieldError(absl::StrCat(field, ".target"), "must not be negative");
    if (!years.insert(t.year).second) {
      return FieldError(absl::StrCat(field, ".year"), "has a target already");
    }
  }
  indicator.name = *std::move(name);
  indicator.unit = *std::move(unit);
  if (indicator.source == IndicatorSource::kUnspecified) {
    indicator.source = IndicatorSource::kManual;
  }
  std::sort(indicator.targets.begin(), indicator.targets.end(),
            [](const YearlyTarget& a, const YearlyTarget& b) { return a.year < b.year; });
  return absl::OkStatus();
}

absl::Status AddIndicator(Indicator indicator, Action& action) {
  if (absl::Status s = CheckNotDone(action); !s.ok()) return s;
  if (absl::Status s = NormalizeIndicator(indicator, "indicator"); !s.ok()) return s;
  for (const Indicator& other : action.indicators) {
    if (other.name == indicator.name) {
      return FieldError("indicator.name", "another indicator of the action has this name");
    }
  }
  indicator.id.clear();
  action.indicators.push_back(std::move(indicator));
  return absl::OkStatus();
}

std::optional<int64_t> TargetFor(const Indicator& indicator, int year) {
  for (const YearlyTarget& t : indicator.targets) {
    if (t.year == year) return t.target;
  }
  return std::nullopt;
}

absl::Status SetTarget(int year, int64_t target, Indicator& indicator) {
  if (absl::Status s = ValidateYear(year, "year"); !s.ok()) return s;
  if (target < 0) return FieldError("target", "must not be negative");
  for (YearlyTarget& t : indicator.targets) {
    if (t.year == year) {
      t.target = target;
      return absl::OkStatus();
    }
  }
  const auto pos = std::find_if(indicator.targets.begin(), indicator.targets.end(),
                                [year](const YearlyTarget& t) { return t.year > year; });
  indicator.targets.insert(pos, YearlyTarget{.year = year, .target = target});
  return absl::OkStatus();
}

absl::StatusOr<int> CopyTargets(int from_year, int to_year, Action& action) {
  if (absl::Status s = ValidateYear(from_year, "from_year"); !s.ok()) return s;
  if (absl::Status s = ValidateYear(to_year, "to_year"); !s.ok()) return s;
  if (from_year == to_year) return FieldError("to_year", "must differ from from_year");
  if (absl::Status s = CheckNotDone(action); !s.ok()) return s;
  int copied = 0;
  for (Indicator& indicator : action.indicators) {
    const std::optional<int64_t> from = TargetFor(indicator, from_year);
    if (!from.has_value() || TargetFor(indicator, to_year).has_value()) continue;
    if (absl::Status s = SetTarget(to_year, *from, indicator); !s.ok()) return s;
    ++copied;
  }
  return copied;
}

absl::Status ValidateIndicatorValue(const Action& action, const IndicatorValue& value) {
  if (absl::Status s = ValidateYear(value.year, "value.year"); !s.ok()) return s;
  if (value.month < 0 || value.month > 12) {
    return FieldError("value.month", "must be between 0 (whole year) and 12");
  }
  if (value.value < 0) return FieldError("value.value", "must not be negative");
  const bool known = std::any_of(action.indicators.begin(), action.indicators.end(),
                                 [&](const Indicator& i) { return i.id == value.indicator_id; });
  if (!known) {
    return absl::NotFoundError(
        absl::StrCat("indicator ", value.indicator_id, " is not an indicator of the action"));
  }
  return absl::OkStatus();
}

int64_t YearlyValue(const std::vector<IndicatorValue>& values, absl::string_view indicator_id,
                    int year) {
  int64_t monthly = 0;
  for (const IndicatorValue& v : values) {
    if (v.indicator_id != indicator_id || v.year != year) continue;
    if (v.month == 0) return v.value;
    monthly += v.value;
  }
  return monthly;
}

int32_t AttainmentBp(int64_t value, int64_t target) {
  if (target <= 0 || value <= 0) return 0;
  // value / target >= 10 means the cap. Below it, split value = q * target + r so that no
  // product overflows: q * 10000 < 100000, and r * 10000 fits while target is small enough
  // (beyond that, long double's 64-bit mantissa is precise enough for figures that large).
  const int64_t q = value / target;
  if (q >= kMaxAttainmentBp / 10000) return kMaxAttainmentBp;
  const int64_t r = value % target;
  const int64_t fraction = target <= std::numeric_limits<int64_t>::max() / 10000
                               ? r * 10000 / target
                               : static_cast<int64_t>(static_cast<long double>(r) * 10000 / target);
  return static_cast<int32_t>(q * 10000 + fraction);
}

}  // namespace cpts::projects
