#pragma once

// Indicators of the MT requests of a tenant (GetMtIndicators). Aggregates only: the input is
// a narrow projection of the requests (MtFacts) that carries no patient data, so a store can
// build it from non-encrypted columns. Pure functions.
//
// Definitions, for a period [start, end) of instants:
//   waiting            requests in an open state now (RECEIVED, TRIAGED, PROPOSED, ACCEPTED),
//                      split with/without ALD and by (effective) priority class
//   received           create_time in the period
//   placed, unreachable, withdrawn, closed_other
//                      requests whose current (final) state was entered in the period
//   declines           DECLINE steps in the period (a request declined twice counts twice)
//   declined_requests  distinct requests with at least one DECLINE step in the period
//   waits              state_time - create_time of the requests placed in the period
//   median_wait, p90_wait
//                      nearest-rank percentiles of the waits (see NearestRankPercentile);
//                      nullopt when nothing was placed in the period

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/mt_model.h"

namespace cpts::access {

// What the indicators need to know about one request.
struct MtFacts {
  std::string id;
  MtState state = MtState::kUnspecified;
  PriorityClass priority_class = PriorityClass::kUnspecified;
  bool ald = false;
  absl::Time create_time = absl::InfinitePast();
  absl::Time state_time = absl::InfinitePast();  // when the current state was entered
  std::vector<absl::Time> decline_times;         // times of the DECLINE steps
};

// The facts of a request, from its fields and history.
MtFacts MtFactsOf(const MtRequest& request);

// Half-open range of instants [start, end).
struct TimeRange {
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfinitePast();
};

// The instants of the local days `first` to `last` (both included) in `zone`: from the
// start of `first` to the start of the day after `last`.
TimeRange DayRange(absl::CivilDay first, absl::CivilDay last, absl::TimeZone zone);

struct MtIndicators {
  int64_t waiting = 0;
  int64_t waiting_ald = 0;
  int64_t waiting_without_ald = 0;
  // Index 0..3 = kP1Ald..kP4Other. A request without a class (never the case after
  // submission) counts as kP4Other, so the four add up to `waiting`.
  std::array<int64_t, 4> waiting_by_class = {0, 0, 0, 0};
  int64_t received = 0;
  int64_t placed = 0;
  int64_t declines = 0;
  int64_t declined_requests = 0;
  int64_t unreachable = 0;
  int64_t withdrawn = 0;
  int64_t closed_other = 0;
  int64_t wait_count = 0;  // number of waits: equals `placed`
  std::optional<absl::Duration> median_wait;
  std::optional<absl::Duration> p90_wait;
};

MtIndicators ComputeMtIndicators(const std::vector<MtFacts>& facts, const TimeRange& period);

// The nearest-rank percentile: the smallest value v of `values` such that at least
// `percent`% of the values are <= v, i.e. the value of rank ceil(percent / 100 * n) (1-based)
// in ascending order; rank 1 when that is 0. nullopt when `values` is empty. `percent` is
// clamped to [0, 100]. The 50th percentile of an even count is the lower of the two middle
// values (no interpolation: every answer is an observed wait).
std::optional<absl::Duration> NearestRankPercentile(std::vector<absl::Duration> values,
                                                    double percent);

}  // namespace cpts::access
