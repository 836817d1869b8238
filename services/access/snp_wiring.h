#pragma once

// Builds the SNP half of the access service (store, agenda, gRPC handlers, SAS FHIR endpoint)
// for main.cc.

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/access/access_deps.h"
#include "services/access/fhir_http.h"  // HttpAuthenticator
#include "services/access/snp_migrations.h"
#include "services/access/territory_communes.h"
#include "services/platform/auth/principal.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::access {

// Builds the SNP half on `deps`, registers its RPCs on `svc` and starts the FHIR endpoint on
// deps.fhir_address:deps.fhir_port (-1: none), its Locations' addresses completed from
// `communes` (the MT half's territory, MtCommunes; may be null); the returned object owns
// what it built (and stops the endpoint when destroyed) and must outlive the server and be
// destroyed before `communes`. It also runs the hourly retention of past bookings
// (SnpAgenda::PurgeExpired, after deps.retention).
absl::StatusOr<std::shared_ptr<void>> WireSnp(const AccessDeps& deps, platform::RpcServer& server,
                                              v1::AccessService::AsyncService* svc,
                                              HttpAuthenticator fhir_auth,
                                              CommuneDirectory* communes);

// The port the FHIR endpoint of a wired SNP half listens on (for the ready file / tests);
// -1 when it has none.
int FhirPort(const std::shared_ptr<void>& wired_snp);

}  // namespace cpts::access
