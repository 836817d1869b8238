#pragma once

// Matching MT requests with GPs: which GPs may take a request, and in which order the
// coordinator should consider them. Pure functions over plain data: the service loads the
// request, the GP capacities and the tenant's territory, and passes them in. It recommends;
// the coordinator confirms with AssignMatch.
//
// A GP is ELIGIBLE for a request on `today` when their declaration
//   - has capacity left (remaining_count > 0),
//   - is valid on `today` (today <= valid_until),
//   - accepts the request's (effective) priority class,
//   - and the GP has not declined this request before.
// Eligible GPs are RANKED by
//   1. commune match: the patient's commune is one of the GP's communes;
//   2. then the distance from the patient's commune to the nearest of the GP's communes,
//      nearest first; GPs with no known distance come after every GP with one;
//   3. then the most capacity left;
//   4. then the GP member id (a total, stable order).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/access/mt_model.h"

namespace cpts::access {

// A link between two communes: adjacent communes (distance 1, a "step"), or a distance
// table entry (kilometres, or minutes: any unit, as long as a territory uses one).
struct CommuneLink {
  std::string a;
  std::string b;
  double distance = 1.0;
};

// The tenant's territory: its communes and a distance graph over them (and, if useful, over
// neighbouring communes where GPs practise). The distance between two communes is the
// shortest path in the graph, so both an adjacency list (all links 1: distance = number of
// steps) and a full distance table (shortest path = the table entry when it satisfies the
// triangle inequality, e.g. straight-line distances) work.
class Territory final {
 public:
  // An empty territory: every distance is unknown except a commune to itself (0).
  Territory() = default;

  // InvalidArgument when a link has an empty end, the same commune at both ends, or a
  // distance that is negative or not finite. Duplicate links keep the shortest distance.
  static absl::StatusOr<Territory> Create(std::vector<std::string> communes,
                                          const std::vector<CommuneLink>& links);

  // Whether `commune` is one of the territory's communes.
  bool Contains(absl::string_view commune) const;

  // Shortest distances from `origin` to every commune reachable from it, `origin` included
  // (distance 0). Dijkstra over the links.
  absl::flat_hash_map<std::string, double> DistancesFrom(absl::string_view origin) const;

  // Shortest distance between two communes, nullopt when not connected.
  std::optional<double> Distance(absl::string_view a, absl::string_view b) const;

 private:
  absl::flat_hash_set<std::string> communes_;
  absl::flat_hash_map<std::string, std::vector<std::pair<std::string, double>>> neighbours_;
};

// Why a GP is not eligible for a request.
enum class Ineligibility {
  kNone,  // eligible
  kNoCapacityLeft,
  kExpired,
  kPriorityNotAccepted,
  kDeclinedBefore,
};

Ineligibility WhyIneligible(const MtRequest& request, const GpCapacity& capacity,
                            absl::CivilDay today);

// OK, or FailedPrecondition("gp_member_id: ...") saying why the GP cannot be proposed this
// request. For AssignMatch, which accepts any eligible GP, not only the suggested ones.
absl::Status CheckGpEligible(const MtRequest& request, const GpCapacity& capacity,
                             absl::CivilDay today);

struct GpSuggestion {
  std::string gp_member_id;
  int rank = 0;  // 1 = best
  int remaining_count = 0;
  bool commune_match = false;
  std::string nearest_commune_insee;  // empty when no distance is known
  std::optional<double> distance;     // 0 when commune_match; nullopt when unknown
  absl::CivilDay valid_until;
  bool operator==(const GpSuggestion&) const = default;
};

// The eligible GPs among `capacities`, ranked as described above; at most `max_suggestions`
// of them (all when `max_suggestions` <= 0). When a GP appears more than once in
// `capacities`, only the first entry counts.
std::vector<GpSuggestion> RankGps(const MtRequest& request,
                                  const std::vector<GpCapacity>& capacities,
                                  const Territory& territory, absl::CivilDay today,
                                  int max_suggestions);

}  // namespace cpts::access
