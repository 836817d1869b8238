#include "services/platform/server/rpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <exception>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "services/platform/core/grpc_status.h"
#include "services/platform/server/logging.h"

namespace cpts::platform {
namespace {

// Calls queued per method and queue: one is re-armed as soon as a call is taken, the spare
// covers the moment between the two.
constexpr int kArmedCallsPerQueue = 2;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrFormat("cannot read %s", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const RpcServerOptions& options) {
  if (options.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      options.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  auto cert = ReadFile(options.tls_cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(options.tls_key_file);
  if (!key.ok()) return key.status();
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca_file.empty()) {
    auto ca = ReadFile(options.tls_client_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  } else if (options.require_client_cert) {
    return absl::InvalidArgumentError("require_client_cert needs tls_client_ca_file");
  }
  return grpc::SslServerCredentials(ssl);
}

std::string_view MetadataValue(const grpc::ServerContext& context, std::string_view key) {
  const auto& md = context.client_metadata();
  const auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return {it->second.data(), it->second.size()};
}

absl::Status Authorize(const MethodPolicy& policy, const auth::Principal& principal) {
  if (policy.require_tenant && principal.tenant_id.empty()) {
    return absl::PermissionDeniedError("this method acts inside a tenant; the token names none");
  }
  if (policy.roles.empty()) return absl::OkStatus();
  for (const auto& role : policy.roles) {
    if (principal.HasRole(role)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError("the caller's roles do not allow this method");
}

}  // namespace

RpcServer::RpcServer(RpcServerOptions options, const auth::JwtVerifier* verifier,
                     MetricsRegistry& metrics)
    : options_(std::move(options)), verifier_(verifier), metrics_(metrics) {
  metrics_.RegisterGauge("grpc_workers", "Worker threads by state.", [this] {
    const int busy = busy_workers_.load(std::memory_order_relaxed);
    const int total = worker_count_.load(std::memory_order_relaxed);
    return std::vector<MetricsRegistry::GaugeSample>{
        {"state=\"busy\"", static_cast<double>(busy)},
        {"state=\"idle\"", static_cast<double>(std::max(0, total - busy))}};
  });
}

RpcServer::~RpcServer() { Shutdown(absl::ZeroDuration()); }

absl::Status RpcServer::Start() {
  auto credentials = MakeCredentials(options_);
  if (!credentials.ok()) return credentials.status();
  // Reflection clients need the health descriptor in the pool (see TOOLCHAIN.md).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  if (options_.enable_reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrFormat("%s:%d", options_.address, options_.port), *credentials,
                           &port_);
  for (auto& service : services_) builder.RegisterService(service.get());
  for (int i = 0; i < std::max(1, options_.completion_queues); ++i) {
    cqs_.push_back(builder.AddCompletionQueue());
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrFormat("cannot listen on %s:%d", options_.address, options_.port));
  }
  for (auto& cq : cqs_) {
    for (const auto& method : methods_) {
      for (int i = 0; i < kArmedCallsPerQueue; ++i) method->arm(cq.get());
    }
  }
  const int threads = std::max(options_.threads, static_cast<int>(cqs_.size()));
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back(&RpcServer::WorkerLoop, this, cqs_[i % cqs_.size()].get());
  }
  worker_count_ = threads;
  return absl::OkStatus();
}

void RpcServer::SetServing(bool serving) {
  std::lock_guard lock(serving_mu_);
  if (server_ == nullptr || (serving && stopping_)) return;
  auto* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  for (const auto& name : service_names_) health->SetServingStatus(name, serving);
}

void RpcServer::EnterLameDuck() {
  stopping_ = true;
  SetServing(false);
}

void RpcServer::RefuseNewCalls() {
  EnterLameDuck();
  refusing_new_calls_ = true;
}

bool RpcServer::WaitForCallsInFlight(absl::Time deadline) {
  // AdmitCall counts a call in flight before it reads refusing_new_calls_, so once new calls
  // are refused and the count is seen at zero, no admitted call is left and none will be.
  while (calls_in_flight_.load() > 0) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (refusing_new_calls_) drained_ = true;
  return true;
}

bool RpcServer::AdmitCall() {
  calls_in_flight_.fetch_add(1);
  if (!refusing_new_calls_.load()) return true;
  calls_in_flight_.fetch_sub(1);
  return false;
}

void RpcServer::EndCall() { calls_in_flight_.fetch_sub(1); }

void RpcServer::WorkerLoop(grpc::ServerCompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<internal::CallTag*>(tag)->Proceed(ok);
}

void RpcServer::Shutdown(absl::Duration drain) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  EnterLameDuck();
  if (drained_) {
    // gRPC's Shutdown answers CANCELLED, which clients do not retry, to a call that reaches
    // the server after it has begun (grpc/grpc#41785); calls keep arriving until each client
    // has read the GOAWAY. After the drain the connections carry only refused calls, so they
    // are closed first: a client sees UNAVAILABLE and reconnects, into refusals again, then
    // into a closed port.
    grpc_server_cancel_all_calls(server_->c_server());
  }
  // Stops accepting new calls at once; in-flight calls get until the deadline, then are cancelled.
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(drain));
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  worker_count_ = 0;
}

grpc::Status RpcServer::Dispatch(grpc::ServerContext& context, const internal::MethodEntry& method,
                                 bool admitted,
                                 const std::function<absl::Status(const CallContext&)>& body) {
  const absl::Time start = absl::Now();
  busy_workers_.fetch_add(1);
  absl::Cleanup not_busy = [this] { busy_workers_.fetch_sub(1); };
  auth::Principal principal;
  absl::Status status;
  if (!admitted) {
    status = absl::UnavailableError("server is shutting down");
  } else if (!method.policy.open) {
    if (verifier_ == nullptr) {
      status = absl::UnauthenticatedError("no token verifier configured");
    } else {
      auto token = auth::BearerToken(MetadataValue(context, "authorization"));
      if (!token.ok()) {
        status = token.status();
      } else {
        auto verified = verifier_->Verify(*token);
        if (verified.ok()) {
          principal = *std::move(verified);
          status = Authorize(method.policy, principal);
        } else {
          status = verified.status();
        }
      }
    }
  }
  if (status.ok() && absl::FromChrono(context.deadline()) < start) {
    status = absl::DeadlineExceededError("deadline passed before the call started");
  }
  if (status.ok()) {
    try {
      status = body(CallContext{principal, context});
    } catch (const std::exception& e) {
      // Last-resort boundary: a handler must not throw, but a throw must not kill the server.
      Log(Severity::kError, "handler threw", {{"method", method.full_name}, {"what", e.what()}});
      status = absl::InternalError("handler threw");
    }
  }
  grpc::Status result = ToGrpcStatus(status);
  const absl::Duration latency = absl::Now() - start;
  method.metrics->Record(result.error_code(), latency);
  if (options_.log_requests) {
    LogFields fields = {
        {"method", method.full_name},
        {"code", StatusCodeName(result.error_code())},
        {"latency_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(latency))},
        {"tenant", principal.tenant_id},
        {"caller", principal.subject}};
    // Server-side failures carry their detail in the log, never to the caller.
    if (result.error_code() == grpc::StatusCode::INTERNAL) {
      fields.emplace_back("error", std::string(status.message()));
    }
    Log(result.error_code() == grpc::StatusCode::INTERNAL ? Severity::kError : Severity::kInfo,
        "rpc", fields);
  }
  return result;
}

}  // namespace cpts::platform
