#include "services/access/mt_matching.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace cpts::access {

absl::StatusOr<Territory> Territory::Create(std::vector<std::string> communes,
                                            const std::vector<CommuneLink>& links) {
  Territory territory;
  for (std::string& commune : communes) territory.communes_.insert(std::move(commune));
  for (std::size_t i = 0; i < links.size(); ++i) {
    const CommuneLink& link = links[i];
    const std::string field = absl::StrCat("links[", i, "]");
    if (link.a.empty() || link.b.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": both communes are required"));
    }
    if (link.a == link.b) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": links a commune to itself"));
    }
    if (!std::isfinite(link.distance) || link.distance < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": distance must be a finite number >= 0"));
    }
    // Parallel links are harmless for Dijkstra (the shortest one wins).
    territory.neighbours_[link.a].emplace_back(link.b, link.distance);
    territory.neighbours_[link.b].emplace_back(link.a, link.distance);
  }
  return territory;
}

bool Territory::Contains(absl::string_view commune) const { return communes_.contains(commune); }

absl::flat_hash_map<std::string, double> Territory::DistancesFrom(absl::string_view origin) const {
  absl::flat_hash_map<std::string, double> best;
  using Entry = std::pair<double, std::string>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> frontier;
  best[std::string(origin)] = 0;
  frontier.emplace(0, std::string(origin));
  while (!frontier.empty()) {
    auto [distance, commune] = frontier.top();
    frontier.pop();
    if (distance > best.find(commune)->second) continue;  // stale entry
    const auto it = neighbours_.find(commune);
    if (it == neighbours_.end()) continue;
    for (const auto& [next, length] : it->second) {
      const double candidate = distance + length;
      const auto known = best.find(next);
      if (known == best.end() || candidate < known->second) {
        best[next] = candidate;
        frontier.emplace(candidate, next);
      }
    }
  }
  return best;
}

std::optional<double> Territory::Distance(absl::string_view a, absl::string_view b) const {
  const auto distances = DistancesFrom(a);
  const auto it = distances.find(b);
  if (it == distances.end()) return std::nullopt;
  return it->second;
}

Ineligibility WhyIneligible(const MtRequest& request, const GpCapacity& capacity,
                            absl::CivilDay today) {
  if (capacity.remaining_count <= 0) return Ineligibility::kNoCapacityLeft;
  if (!capacity.ValidOn(today)) return Ineligibility::kExpired;
  const auto& classes = capacity.priority_classes;
  if (std::find(classes.begin(), classes.end(), request.priority_class) == classes.end()) {
    return Ineligibility::kPriorityNotAccepted;
  }
  const auto& declined = request.declined_gp_member_ids;
  if (std::find(declined.begin(), declined.end(), capacity.gp_member_id) != declined.end()) {
    return Ineligibility::kDeclinedBefore;
  }
  return Ineligibility::kNone;
}

absl::Status CheckGpEligible(const MtRequest& request, const GpCapacity& capacity,
                             absl::CivilDay today) {
  const std::string who = absl::StrCat("gp_member_id: GP ", capacity.gp_member_id);
  switch (WhyIneligible(request, capacity, today)) {
    case Ineligibility::kNone:
      return absl::OkStatus();
    case Ineligibility::kNoCapacityLeft:
      return absl::FailedPreconditionError(absl::StrCat(who, " has no capacity left"));
    case Ineligibility::kExpired:
      return absl::FailedPreconditionError(absl::StrCat(
          who, "'s capacity declaration expired on ", absl::FormatCivilTime(capacity.valid_until)));
    case Ineligibility::kPriorityNotAccepted:
      return absl::FailedPreconditionError(absl::StrCat(who, " does not accept priority class ",
                                                        PriorityClassName(request.priority_class)));
    case Ineligibility::kDeclinedBefore:
      return absl::FailedPreconditionError(absl::StrCat(who, " already declined this MT request"));
  }
  return absl::InternalError("unknown ineligibility");
}

std::vector<GpSuggestion> RankGps(const MtRequest& request,
                                  const std::vector<GpCapacity>& capacities,
                                  const Territory& territory, absl::CivilDay today,
                                  int max_suggestions) {
  const absl::flat_hash_map<std::string, double> distances =
      territory.DistancesFrom(request.commune_insee);
  absl::flat_hash_set<absl::string_view> seen;
  std::vector<GpSuggestion> suggestions;
  for (const GpCapacity& capacity : capacities) {
    if (!seen.insert(capacity.gp_member_id).second) continue;
    if (WhyIneligible(request, capacity, today) != Ineligibility::kNone) continue;
    GpSuggestion s;
    s.gp_member_id = capacity.gp_member_id;
    s.remaining_count = capacity.remaining_count;
    s.valid_until = capacity.valid_until;
    for (const std::string& commune : capacity.communes) {
      if (commune == request.commune_insee) {
        s.commune_match = true;
        s.nearest_commune_insee = commune;
        s.distance = 0;
        break;
      }
      const auto it = distances.find(commune);
      if (it == distances.end()) continue;
      // Ties between communes at the same distance go to the smaller code: deterministic.
      if (!s.distance.has_value() || it->second < *s.distance ||
          (it->second == *s.distance && commune < s.nearest_commune_insee)) {
        s.distance = it->second;
        s.nearest_commune_insee = commune;
      }
    }
    suggestions.push_back(std::move(s));
  }
  // Smaller tuple = better: match first, known distance first, nearest, most capacity, id.
  const auto key = [](const GpSuggestion& s) {
    return std::make_tuple(!s.commune_match, !s.distance.has_value(), s.distance.value_or(0),
                           -s.remaining_count, std::cref(s.gp_member_id));
  };
  std::sort(suggestions.begin(), suggestions.end(),
            [&key](const GpSuggestion& x, const GpSuggestion& y) { return key(x) < key(y); });
  if (max_suggestions > 0 && suggestions.size() > static_cast<std::size_t>(max_suggestions)) {
    suggestions.resize(static_cast<std::size_t>(max_suggestions));
  }
  for (std::size_t i = 0; i < suggestions.size(); ++i) {
    suggestions[i].rank = static_cast<int>(i) + 1;
  }
  return suggestions;
}

}  // namespace cpts::access
