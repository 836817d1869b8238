#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/auth/principal.h"
#include "services/platform/server/metrics.h"

namespace cpts::platform {

// What a handler sees of the call besides its request.
struct CallContext {
  const auth::Principal& principal;
  grpc::ServerContext& grpc_context;
};

// Who may call a method. The auth stage refuses everything else before the handler runs.
struct MethodPolicy {
  // No token needed (reserved for what must stay open; health and reflection are separate).
  bool open = false;
  // The caller needs at least one of these roles; empty means any verified caller.
  std::vector<std::string> roles;
  // Most methods act inside the caller's tenant; platform-admin methods may not need one.
  bool require_tenant = true;
};

inline MethodPolicy AllowRoles(std::initializer_list<std::string_view> roles,
                               bool require_tenant = true) {
  MethodPolicy p;
  for (auto r : roles) p.roles.emplace_back(r);
  p.require_tenant = require_tenant;
  return p;
}

struct RpcServerOptions {
  std::string address = "0.0.0.0";
  int port = 0;  // 0 picks a free port (tests)
  // Threading: `threads` workers share `completion_queues` queues. A worker takes a call from its
  // queue and runs the handler to completion on the same thread, database call included: no
  // hand-off between a polling thread and a handler pool (see docs/threading.md).
  int completion_queues = 2;
  int threads = 16;
  bool enable_reflection = true;
  bool log_requests = true;
  // TLS: serve plaintext when cert_file is empty; require client certificates when
  // client_ca_file is set and require_client_cert is true (mTLS).
  std::string tls_cert_file{}, tls_key_file{}, tls_client_ca_file{};
  bool require_client_cert = false;
};

namespace internal {
class CallTag {
 public:
  virtual ~CallTag() = default;
  virtual void Proceed(bool ok) = 0;
};
struct MethodEntry;
}  // namespace internal

// A gRPC server over the async completion-queue API, with our per-call pipeline:
// authenticate (bearer JWT) -> authorize (MethodPolicy) -> handler -> status mapping ->
// metrics and one log line. Handlers are plain functions returning absl::Status.
class RpcServer {
 public:
  template <class Req, class Resp>
  using Handler = std::function<absl::Status(const CallContext&, const Req&, Resp*)>;

  // `verifier` may be null only when every method is open (tests of the server itself).
  // Registers the `grpc_workers` gauge in `metrics`, which must not be rendered after this
  // server is destroyed.
  RpcServer(RpcServerOptions options, const auth::JwtVerifier* verifier, MetricsRegistry& metrics);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers the async flavour of a generated service, e.g.
  //   auto* svc = server.AddService<v1::MembershipService>();
  template <class GeneratedService>
  typename GeneratedService::AsyncService* AddService() {
    auto service = std::make_unique<typename GeneratedService::AsyncService>();
    auto* raw = service.get();
    services_.push_back(std::move(service));
    service_names_.emplace_back(GeneratedService::service_full_name());
    return raw;
  }

  // Registers one unary method of a service returned by AddService, e.g.
  //   server.AddUnary(svc, &Svc::AsyncService::RequestGetMember, "GetMember", policy, handler);
  // `Base` is the generated WithAsyncMethod_X layer that declares RequestX.
  template <class AsyncService, class Base, class Req, class Resp>
  void AddUnary(AsyncService* service,
                void (Base::*request)(grpc::ServerContext*, Req*,
                                      grpc::ServerAsyncResponseWriter<Resp>*,
                                      grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*),
                std::string_view method_name, MethodPolicy policy,
                std::type_identity_t<Handler<Req, Resp>> handler);

  // Binds, starts the workers and marks the services SERVING in the health service.
  absl::Status Start();
  int port() const { return port_; }
  // Health status of every registered service (and the overall "" service). Ignored once the
  // server is stopping: it stays NOT_SERVING.
  void SetServing(bool serving);

  // A graceful stop has three phases (docs/availability.md, "Rolling restart"):
  // 1. EnterLameDuck(), then wait: health NOT_SERVING for good while calls are still served, so
  //    that load balancers and clients stop sending calls here before any is refused;
  // 2. RefuseNewCalls(), then WaitForCallsInFlight(deadline): a new call is answered UNAVAILABLE
  //    ("server is shutting down") without running its handler, so a client that retries
  //    UNAVAILABLE retries it elsewhere, while the admitted calls run until their response is
  //    sent;
  // 3. Shutdown(what is left of the drain).
  void EnterLameDuck();
  void RefuseNewCalls();
  // True once no admitted call is in flight, false at `deadline`.
  bool WaitForCallsInFlight(absl::Time deadline);
  // True from EnterLameDuck on.
  bool stopping() const { return stopping_.load(); }
  // Stops accepting calls, lets in-flight calls finish until `drain` has passed (then cancels
  // them), and joins the workers. Idempotent.
  void Shutdown(absl::Duration drain);

  // For the call objects only. AdmitCall: whether a new call may run its handler (not once new
  // calls are refused); an admitted call is in flight until EndCall, once its response is sent.
  bool AdmitCall();
  void EndCall();
  // Runs the auth/metrics/logging pipeline around `body`, or answers UNAVAILABLE when the call
  // was not admitted.
  grpc::Status Dispatch(grpc::ServerContext& context, const internal::MethodEntry& method,
                        bool admitted, const std::function<absl::Status(const CallContext&)>& body);

 private:
  void WorkerLoop(grpc::ServerCompletionQueue* cq);

  RpcServerOptions options_;
  const auth::JwtVerifier* verifier_;
  MetricsRegistry& metrics_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::vector<std::string> service_names_;
  std::vector<std::unique_ptr<internal::MethodEntry>> methods_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<std::thread> workers_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
  // Serialises health updates, so that the database watch cannot undo the lame duck.
  std::mutex serving_mu_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_new_calls_{false};
  std::atomic<int> calls_in_flight_{0};  // admitted, response not sent yet
  // Set when WaitForCallsInFlight saw the last admitted call end after RefuseNewCalls: from
  // then on the connections carry only refused calls.
  std::atomic<bool> drained_{false};
  // Workers inside a call: running out of them is this model's one failure mode
  // (docs/threading.md), so it is exported as a gauge.
  std::atomic<int> busy_workers_{0};
  std::atomic<int> worker_count_{0};
};

namespace internal {

struct MethodEntry {
  std::string full_name;  // "/cpts.membership.v1.MembershipService/GetMember"
  MethodPolicy policy;
  MethodMetrics* metrics = nullptr;
  // Posts one request for this method on a queue; called at start and after every accepted call.
  std::function<void(grpc::ServerCompletionQueue*)> arm;
};

template <class AsyncService, class Req, class Resp>
class UnaryCall final : public CallTag {
 public:
  using RequestFn = void (AsyncService::*)(grpc::ServerContext*, Req*,
                                           grpc::ServerAsyncResponseWriter<Resp>*,
                                           grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                           void*);
  struct Binding {
    AsyncService* service;
    RequestFn request;
    RpcServer::Handler<Req, Resp> handler;
    const MethodEntry* entry;
    RpcServer* server;
  };

  UnaryCall(const Binding& binding, grpc::ServerCompletionQueue* cq)
      : binding_(binding), cq_(cq), writer_(&context_) {
    (binding_.service->*binding_.request)(&context_, &request_, &writer_, cq_, cq_, this);
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {  // response sent, or the server is shutting down
      if (admitted_) binding_.server->EndCall();
      delete this;
      return;
    }
    finishing_ = true;
    binding_.entry->arm(cq_);
    admitted_ = binding_.server->AdmitCall();
    Resp response;
    const grpc::Status status = binding_.server->Dispatch(
        context_, *binding_.entry, admitted_,
        [&](const CallContext& call) { return binding_.handler(call, request_, &response); });
    if (status.ok()) {
      writer_.Finish(response, status, this);
    } else {
      writer_.FinishWithError(status, this);
    }
  }

 private:
  Binding binding_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  Req request_;
  grpc::ServerAsyncResponseWriter<Resp> writer_;
  bool finishing_ = false;
  bool admitted_ = false;
};

}  // namespace internal

template <class AsyncService, class Base, class Req, class Resp>
void RpcServer::AddUnary(AsyncService* service,
                         void (Base::*request)(grpc::ServerContext*, Req*,
                                               grpc::ServerAsyncResponseWriter<Resp>*,
                                               grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                               void*),
                         std::string_view method_name, MethodPolicy policy,
                         std::type_identity_t<Handler<Req, Resp>> handler) {
  static_assert(std::is_base_of_v<Base, AsyncService>, "request method of another service");
  auto entry = std::make_unique<internal::MethodEntry>();
  std::string service_name;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (services_[i].get() == service) service_name = service_names_[i];
  }
  entry->full_name = "/" + service_name + "/" + std::string(method_name);
  entry->policy = std::move(policy);
  entry->metrics = metrics_.RegisterMethod(entry->full_name);
  using Call = internal::UnaryCall<Base, Req, Resp>;
  typename Call::Binding binding{static_cast<Base*>(service), request, std::move(handler),
                                 entry.get(), this};
  entry->arm = [binding](grpc::ServerCompletionQueue* cq) { new Call(binding, cq); };
  methods_.push_back(std::move(entry));
}

}  // namespace cpts::platform
