#pragma once

#include "services/membership/members.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::membership {

// Registers every method of cpts.membership.v1.MembershipService on `server`: per method the
// roles that may call it (coarse; the domain applies the data-dependent rules) and a thin
// handler that converts the request, calls `membership` once and converts the answer.
// `membership` must outlive the server.
void RegisterMembershipService(platform::RpcServer& server, Membership& membership);

}  // namespace cpts::membership
