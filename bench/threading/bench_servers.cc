#include "bench/threading/bench_servers.h"

#include <grpcpp/resource_quota.h>

#include "absl/strings/str_cat.h"
#include "services/platform/core/grpc_status.h"

namespace cpts::bench {
namespace {

using v1::BenchService;
using v1::PointReadRequest;
using v1::PointReadResponse;

class RawSyncService final : public BenchService::Service {
 public:
  RawSyncService(const MysqlPointReader& reader, std::string tenant_id)
      : reader_(reader), tenant_id_(std::move(tenant_id)) {}

  grpc::Status PointRead(grpc::ServerContext* /*context*/, const PointReadRequest* request,
                         PointReadResponse* response) override {
    return platform::ToGrpcStatus(HandlePointRead(reader_, tenant_id_, *request, response));
  }

 private:
  const MysqlPointReader& reader_;
  const std::string tenant_id_;
};

class CallbackInlineService final : public BenchService::CallbackService {
 public:
  CallbackInlineService(const MysqlPointReader& reader, std::string tenant_id)
      : reader_(reader), tenant_id_(std::move(tenant_id)) {}

  grpc::ServerUnaryReactor* PointRead(grpc::CallbackServerContext* context,
                                      const PointReadRequest* request,
                                      PointReadResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(
        platform::ToGrpcStatus(HandlePointRead(reader_, tenant_id_, *request, response)));
    return reactor;
  }

 private:
  const MysqlPointReader& reader_;
  const std::string tenant_id_;
};

class GrpcBareServer final : public BareServer {
 public:
  GrpcBareServer(std::unique_ptr<grpc::Service> service, std::unique_ptr<grpc::Server> server,
                 int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}
  ~GrpcBareServer() override { Shutdown(); }

  int port() const override { return port_; }
  void Shutdown() override {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
  }

 private:
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
};

absl::StatusOr<std::unique_ptr<BareServer>> BuildAndStart(const BareServerOptions& options,
                                                          std::unique_ptr<grpc::Service> service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::StrCat(options.address, ":", options.port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  if (options.sync_num_cqs > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::NUM_CQS, options.sync_num_cqs);
  }
  if (options.sync_min_pollers > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::MIN_POLLERS, options.sync_min_pollers);
  }
  if (options.sync_max_pollers > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::MAX_POLLERS, options.sync_max_pollers);
  }
  if (options.max_threads > 0) {
    grpc::ResourceQuota quota("bench");
    quota.SetMaxThreads(options.max_threads);
    builder.SetResourceQuota(quota);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address, ":", options.port));
  }
  return std::make_unique<GrpcBareServer>(std::move(service), std::move(server), port);
}

}  // namespace

absl::Status HandlePointRead(const MysqlPointReader& reader, std::string_view tenant_id,
                             const PointReadRequest& request, PointReadResponse* response) {
  if (request.id() <= 0) return absl::InvalidArgumentError("id must be positive");
  absl::StatusOr<Item> item = reader.Read(tenant_id, request.id());
  if (!item.ok()) return item.status();
  response->set_id(item->id);
  response->set_name(std::move(item->name));
  response->set_amount_cents(item->amount_cents);
  response->set_version(item->version);
  return absl::OkStatus();
}

platform::ServiceDefinition PlatformBenchService(bool open, std::string tenant_id,
                                                 absl::Duration db_delay) {
  platform::ServiceDefinition definition;
  definition.name = "bench";
  definition.wire =
      [open, tenant_id = std::move(tenant_id),
       db_delay](platform::ServiceEnvironment& env) -> absl::StatusOr<std::shared_ptr<void>> {
    auto reader = std::make_shared<MysqlPointReader>(env.pool, db_delay);
    platform::MethodPolicy policy = platform::AllowRoles({"bench"});
    policy.open = open;
    auto* service = env.server.AddService<BenchService>();
    env.server.AddUnary(
        service, &BenchService::AsyncService::RequestPointRead, "PointRead", std::move(policy),
        platform::RpcServer::Handler<PointReadRequest, PointReadResponse>(
            [reader, open, tenant_id](const platform::CallContext& call,
                                      const PointReadRequest& request,
                                      PointReadResponse* response) {
              return HandlePointRead(*reader, open ? tenant_id : call.principal.tenant_id, request,
                                     response);
            }));
    return std::shared_ptr<void>(reader);
  };
  return definition;
}

absl::StatusOr<std::unique_ptr<BareServer>> StartRawSyncServer(const BareServerOptions& options,
                                                               const MysqlPointReader& reader) {
  return BuildAndStart(options, std::make_unique<RawSyncService>(reader, options.tenant_id));
}

absl::StatusOr<std::unique_ptr<BareServer>> StartCallbackInlineServer(
    const BareServerOptions& options, const MysqlPointReader& reader) {
  return BuildAndStart(options, std::make_unique<CallbackInlineService>(reader, options.tenant_id));
}

}  // namespace cpts::bench
