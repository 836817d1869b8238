#pragma once

// The gRPC handlers of the MT RPCs of cpts.access.v1.AccessService: thin, each converts the
// request, calls one MtDesk method and converts the answer back. The role gate per method is
// here (MethodPolicy); what depends on the data (a GP acting on their own request) is in
// MtDesk.

#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/access/mt_desk.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::access {

// Registers every MT RPC of `svc` on `server`, served by `desk` (which must outlive the
// server).
void RegisterMtService(platform::RpcServer& server, v1::AccessService::AsyncService* svc,
                       MtDesk& desk, const platform::Clock& clock);

}  // namespace cpts::access
