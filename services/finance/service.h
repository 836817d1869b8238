#pragma once

#include <string_view>

#include "services/finance/finance.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::finance {

// The role of the treasurer (a service-specific role, beside the shared ones of principal.h).
inline constexpr std::string_view kTreasurerRole = "treasurer";

// Registers every method of cpts.finance.v1.FinanceService on `server`: per method the roles
// that may call it (coarse; Finance applies the data-dependent rules) and a thin handler that
// converts the request, calls `finance` and converts the answer. `finance` must outlive the
// server.
void RegisterFinanceService(platform::RpcServer& server, Finance& finance);

}  // namespace cpts::finance
