#pragma once

// The ACI default missions every tenant starts with: the four core missions (socles) and the
// two optional ones. Tenants renumber and relabel them freely; this is only the seed.

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/projects/model.h"

namespace cpts::projects {

// The seed, by number: 1 to 4 core, 5 and 6 optional. Ids, tenant and times are unset.
std::vector<Mission> DefaultMissions();

// Whether adding or renumbering `candidate` keeps the numbers of `missions` unique (the
// mission with the candidate's id is ignored): AlreadyExists naming the number otherwise.
absl::Status CheckMissionNumberFree(const std::vector<Mission>& missions, const Mission& candidate);

}  // namespace cpts::projects
