#pragma once

// The MT half of the access service, as main.cc builds it: the store, the desk, the handlers
// and the hourly retention job.

#include <memory>

#include "absl/status/statusor.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/access/access_deps.h"
#include "services/access/mt_migrations.h"
#include "services/access/territory_communes.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::access {

// Builds the MT half on a copy of `deps` (whose references must outlive the server) and
// registers its RPCs on `svc`; the returned object owns
// what it built and must outlive the server. It also runs, on a background thread, the
// retention purge (MtDesk::PurgeExpired) at once and then every hour; destroying the object
// stops it.
absl::StatusOr<std::shared_ptr<void>> WireMt(const AccessDeps& deps, platform::RpcServer& server,
                                             v1::AccessService::AsyncService* svc);

// The territory's communes of a wired MT half, for the SNP half's FHIR answer (WireSnp);
// valid as long as `wired_mt` lives.
CommuneDirectory* MtCommunes(const std::shared_ptr<void>& wired_mt);

}  // namespace cpts::access
