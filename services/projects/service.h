#pragma once

#include "services/platform/server/rpc_server.h"
#include "services/projects/projects.h"

namespace cpts::projects {

// Registers every method of cpts.projects.v1.ProjectsService on `server`: per method the
// roles that may call it (coarse; Projects applies the data-dependent rules: référent of this
// group, the member themselves...) and a thin handler that converts the request, calls
// `projects` once and converts the answer. `projects` must outlive the server.
void RegisterProjectsService(platform::RpcServer& server, Projects& projects);

}  // namespace cpts::projects
