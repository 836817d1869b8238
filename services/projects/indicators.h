#pragma once

// Indicators of actions: yearly targets, the yearly cycle (copying targets to the next
// year), yearly values and attainment; and the status workflow of an action. Pure
// functions: no I/O, no clock.
//
// Action status:  DRAFT --> ACTIVE <--> SUSPENDED;  ACTIVE, SUSPENDED --> DONE (final).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/projects/model.h"

namespace cpts::projects {

inline constexpr int32_t kMaxAttainmentBp = 100000;  // 1000%

// OK, or FailedPrecondition "action is DONE; ACTIVE is allowed only from DRAFT or SUSPENDED".
// Setting the current status again is FailedPrecondition too; kUnspecified is
// InvalidArgument ("status: ...").
absl::Status CheckActionStatusChange(ActionStatus from, ActionStatus to);

// Normalises an indicator: name 1..200, unit 1..50, kind set, source (unspecified becomes
// MANUAL), targets with years 2000..2100, at most one per year, values >= 0; sorts the
// targets by year. `prefix` names the message, e.g. "indicator".
absl::Status NormalizeIndicator(Indicator& indicator, absl::string_view prefix);

// Adds `indicator` to `action` (without id; the store assigns it). InvalidArgument when
// another indicator of the action has the same name (case-sensitive after trimming);
// FailedPrecondition when the action is DONE.
absl::Status AddIndicator(Indicator indicator, Action& action);

// The target of `indicator` for `year`, if any.
std::optional<int64_t> TargetFor(const Indicator& indicator, int year);

// Sets (adds or replaces) the target of `year`. InvalidArgument for a year outside
// 2000..2100 or a negative target.
absl::Status SetTarget(int year, int64_t target, Indicator& indicator);

// Copies every indicator's target of `from_year` to `to_year` when it has none for
// `to_year`, and returns how many were copied. InvalidArgument for bad or equal years;
// FailedPrecondition when the action is DONE.
absl::StatusOr<int> CopyTargets(int from_year, int to_year, Action& action);

// Checks a value to record for `indicator` of `action`: year 2000..2100, month 0..12,
// value >= 0; NotFound when the indicator is not one of the action's.
absl::Status ValidateIndicatorValue(const Action& action, const IndicatorValue& value);

// The yearly value of an indicator: its whole-year value (month 0) when one is among
// `values`, else the sum of its monthly values of that year (0 when none).
int64_t YearlyValue(const std::vector<IndicatorValue>& values, absl::string_view indicator_id,
                    int year);

// `value` / `target` in basis points (10000 = 100%), rounded down, capped at
// kMaxAttainmentBp; 0 when target <= 0.
int32_t AttainmentBp(int64_t value, int64_t target);

}  // namespace cpts::projects
