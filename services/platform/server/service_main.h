#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/client/service_identity.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/migrations.h"
#include "services/platform/server/metrics.h"
#include "services/platform/server/rpc_server.h"

namespace cpts::platform {

// What a service's wiring function gets to build its domain and register its handlers.
struct ServiceEnvironment {
  db::ConnectionPool& pool;
  RpcServer& server;
  const Clock& clock;
  IdGenerator& ids;
  MetricsRegistry& metrics;
  // Verifies bearer tokens, for a service that serves more than gRPC (e.g. access's FHIR port).
  const auth::JwtVerifier& verifier;
  // How this service calls its peers (service tokens, TLS); null without --service_key_file.
  client::ServiceIdentity* identity = nullptr;
  // Extra ports the wiring opened (e.g. "fhir_port"), written to the ready file beside
  // grpc_port and http_port.
  std::map<std::string, int> ready_ports{};
};

struct ServiceDefinition {
  std::string name;  // default schema and database user
  int default_grpc_port = 0;
  int default_http_port = 0;
  std::vector<db::MigrationSet> migrations;
  // Builds the service's objects and registers its methods; what it returns is kept alive
  // until the server has stopped.
  std::function<absl::StatusOr<std::shared_ptr<void>>(ServiceEnvironment&)> wire;
};

// The whole life of a service process: flags, config checks (bad config exits 2 with a
// message), `--migrate_only`, the gRPC and HTTP servers, health tracking of the database, and
// a graceful drain on SIGTERM/SIGINT. main() is one call to this.
int RunService(int argc, char** argv, const ServiceDefinition& definition);

}  // namespace cpts::platform
