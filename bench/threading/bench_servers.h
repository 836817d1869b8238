#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/threading/mysql_point_reader.h"
#include "cpts/bench/v1/bench.grpc.pb.h"
#include "services/platform/server/service_main.h"

namespace cpts::bench {

// What every mode runs for PointRead: validate, read, convert. `tenant_id` comes from the
// token in the platform mode and from the server's configuration in the others.
absl::Status HandlePointRead(const MysqlPointReader& reader, std::string_view tenant_id,
                             const v1::PointReadRequest& request, v1::PointReadResponse* response);

// The platform mode: the whole RunService (flags --grpc_threads, --grpc_completion_queues,
// --db_pool_size, JWT verification, metrics, request log, health, HTTP port) with PointRead
// registered for the role "bench"; `open` makes the method need no token (the tenant is then
// `tenant_id`). `db_delay`: see MysqlPointReader.
platform::ServiceDefinition PlatformBenchService(bool open, std::string tenant_id,
                                                 absl::Duration db_delay);

// Settings of the bare servers (the modes that do not go through RpcServer).
struct BareServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;
  std::string tenant_id;
  // ServerBuilder::SetSyncServerOption values; 0 keeps gRPC's default (1 queue, 1..2 pollers).
  int sync_num_cqs = 0;
  int sync_min_pollers = 0;
  int sync_max_pollers = 0;
  // ResourceQuota::SetMaxThreads; 0 keeps gRPC's default (no limit).
  int max_threads = 0;
};

// A bare gRPC server around the point read, without auth, metrics or logs.
class BareServer {
 public:
  virtual ~BareServer() = default;
  virtual int port() const = 0;
  virtual void Shutdown() = 0;
};

// raw_sync: the "raw stack" of the access issue: a synchronous `Service` whose handler runs
// on gRPC's sync-server thread manager and takes a pool connection.
absl::StatusOr<std::unique_ptr<BareServer>> StartRawSyncServer(const BareServerOptions& options,
                                                               const MysqlPointReader& reader);

// callback_inline: the callback API with the blocking database call made inside the callback,
// i.e. on gRPC's own event threads.
absl::StatusOr<std::unique_ptr<BareServer>> StartCallbackInlineServer(
    const BareServerOptions& options, const MysqlPointReader& reader);

}  // namespace cpts::bench
