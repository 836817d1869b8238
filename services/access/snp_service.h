#pragma once

// The gRPC handlers of the SNP agenda (PublishSlots ... GetSnpIndicators of
// cpts.access.v1.AccessService): validate and convert, call SnpAgenda once, convert back.

#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/access/snp_agenda.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::access {

// Registers every SNP method on `svc` (obtained once from server.AddService). `agenda` must
// outlive the server.
void RegisterSnpService(platform::RpcServer& server, v1::AccessService::AsyncService* svc,
                        SnpAgenda& agenda);

}  // namespace cpts::access
