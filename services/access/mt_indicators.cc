#include "services/access/mt_indicators.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "services/access/mt_priority.h"
#include "services/access/mt_workflow.h"

namespace cpts::access {
namespace {

bool InRange(absl::Time t, const TimeRange& range) { return range.start <= t && t < range.end; }

}  // namespace

MtFacts MtFactsOf(const MtRequest& request) {
  MtFacts facts;
  facts.id = request.id;
  facts.state = request.state;
  facts.priority_class = request.priority_class;
  facts.ald = request.ald;
  facts.create_time = request.create_time;
  facts.state_time = request.state_time;
  for (const MtTransition& t : request.history) {
    if (t.action == MtAction::kDecline) facts.decline_times.push_back(t.time);
  }
  return facts;
}

TimeRange DayRange(absl::CivilDay first, absl::CivilDay last, absl::TimeZone zone) {
  return TimeRange{absl::FromCivil(first, zone), absl::FromCivil(last + 1, zone)};
}

MtIndicators ComputeMtIndicators(const std::vector<MtFacts>& facts, const TimeRange& period) {
  MtIndicators out;
  std::vector<absl::Duration> waits;
  for (const MtFacts& f : facts) {
    if (IsOpen(f.state)) {
      ++out.waiting;
      ++(f.ald ? out.waiting_ald : out.waiting_without_ald);
      const int rank = std::min(PriorityRank(f.priority_class), 4);
      ++out.waiting_by_class[static_cast<std::size_t>(rank - 1)];
    }
    if (InRange(f.create_time, period)) ++out.received;
    if (InRange(f.state_time, period)) {
      switch (f.state) {
        case MtState::kPlaced:
          ++out.placed;
          waits.push_back(f.state_time - f.create_time);
          break;
        case MtState::kUnreachable:
          ++out.unreachable;
          break;
        case MtState::kWithdrawn:
          ++out.withdrawn;
          break;
        case MtState::kClosedOther:
          ++out.closed_other;
          break;
        default:
          break;
      }
    }
    const auto declines = std::count_if(f.decline_times.begin(), f.decline_times.end(),
                                        [&period](absl::Time t) { return InRange(t, period); });
    out.declines += declines;
    if (declines > 0) ++out.declined_requests;
  }
  out.wait_count = static_cast<int64_t>(waits.size());
  out.median_wait = NearestRankPercentile(waits, 50);
  out.p90_wait = NearestRankPercentile(std::move(waits), 90);
  return out;
}

std::optional<absl::Duration> NearestRankPercentile(std::vector<absl::Duration> values,
                                                    double percent) {
  if (values.empty()) return std::nullopt;
  percent = std::clamp(percent, 0.0, 100.0);
  const auto n = static_cast<double>(values.size());
  // The epsilon keeps e.g. 0.9 * 10 from rounding up to 10 when it is 9.000000000000002.
  auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank - 1),
                   values.end());
  return values[rank - 1];
}

}  // namespace cpts::access
