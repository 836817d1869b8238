#include "services/platform/server/service_main.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/server/http_endpoint.h"
#include "services/platform/server/logging.h"
#include "services/platform/server/signals.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0", "Address the gRPC server listens on.");
ABSL_FLAG(int, grpc_port, -1, "gRPC port; -1 = the service's default, 0 = any free port.");
ABSL_FLAG(std::string, http_address, "0.0.0.0", "Address of the /healthz and /metrics port.");
ABSL_FLAG(int, http_port, -1, "HTTP port; -1 = the service's default, 0 = any free port.");
ABSL_FLAG(int, grpc_threads, 16, "Worker threads; each runs a call to completion.");
ABSL_FLAG(int, grpc_completion_queues, 2, "Completion queues shared by the workers.");
ABSL_FLAG(absl::Duration, lame_duck, absl::Seconds(2),
          "On SIGTERM, how long the server goes on serving while its health says NOT_SERVING, "
          "before it refuses new calls: the time for clients and load balancers to stop "
          "sending here (in Kubernetes, for the pod's removal from the Service endpoints to "
          "reach every node and client, usually 1-2 s).");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "After the lame duck, how long in-flight calls may run (new ones are refused with "
          "UNAVAILABLE, which clients retry elsewhere) before they are cancelled.");
ABSL_FLAG(bool, enable_reflection, true, "Serve gRPC server reflection.");
ABSL_FLAG(bool, log_requests, true, "One structured log line per call.");
ABSL_FLAG(std::string, ready_file, "",
          "Once serving, write {\"grpc_port\":N,\"http_port\":M} to this file (tests).");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain; empty = plaintext gRPC.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of the certificate.");
ABSL_FLAG(std::string, tls_client_ca_file, "", "PEM CA bundle that signs client certificates.");
ABSL_FLAG(bool, tls_require_client_cert, false, "Require and verify client certificates (mTLS).");

ABSL_FLAG(std::string, db_host, "127.0.0.1",
          "MariaDB host, or an ordered failover list h1:p1,h2:p2,h3 (entries without a port use "
          "--db_port): every connection goes to the first host that answers and is ready, the "
          "next ones only when it fails (one writer; docs/availability.md).");
ABSL_FLAG(int, db_port, 3307, "MariaDB port (of --db_host entries without one).");
ABSL_FLAG(std::string, db_user, "", "Database user; default = the service name.");
ABSL_FLAG(std::string, db_password_file, "",
          "File holding the database password; else the CPTS_DB_PASSWORD environment variable.");
ABSL_FLAG(std::string, db_schema, "", "Schema; default = the service name.");
ABSL_FLAG(int, db_pool_size, 0, "Connections; 0 = one per worker thread.");
ABSL_FLAG(bool, migrate_only, false,
          "Apply pending schema migrations (serialised by a database lock) and exit.");

ABSL_FLAG(std::string, jwt_issuer, "", "Required `iss` of bearer tokens.");
ABSL_FLAG(std::string, jwt_audience, "", "Required `aud` of bearer tokens.");
ABSL_FLAG(std::string, jwt_public_key_file, "", "PEM public key that verifies tokens.");
ABSL_FLAG(std::string, jwt_jwks_file, "", "JWKS file with the keys that verify tokens.");
ABSL_FLAG(std::string, service_key_file, "",
          "PEM private key that signs this service's tokens for calls to other services; its "
          "public key must be trusted by them. Empty = this service calls no other.");
ABSL_FLAG(std::string, service_key_kid, "", "The kid of --service_key_file in the peers' JWKS.");
ABSL_FLAG(std::string, peer_tls_ca_file, "",
          "PEM CA bundle that signs the other services' certificates; empty = plaintext calls. "
          "--tls_cert_file/--tls_key_file are presented as the client certificate (mTLS).");
ABSL_FLAG(std::string, peer_tls_server_name, "",
          "Name the peers' certificates must carry, when it is not the target's host.");

namespace cpts::platform {
namespace {

constexpr int kExitBadConfig = 2;

int Fail(int code, absl::string_view message) {
  Log(Severity::kError, std::string(message));
  return code;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  absl::StripTrailingAsciiWhitespace(&value);
  return value;
}

absl::StatusOr<db::DbConfig> DbConfigFromFlags(const ServiceDefinition& def, int threads) {
  db::DbConfig config;
  config.host = absl::GetFlag(FLAGS_db_host);
  config.port = absl::GetFlag(FLAGS_db_port);
  config.user = absl::GetFlag(FLAGS_db_user).empty() ? def.name : absl::GetFlag(FLAGS_db_user);
  config.schema =
      absl::GetFlag(FLAGS_db_schema).empty() ? def.name : absl::GetFlag(FLAGS_db_schema);
  const int pool = absl::GetFlag(FLAGS_db_pool_size);
  config.pool_size = pool > 0 ? pool : threads;
  const std::string file = absl::GetFlag(FLAGS_db_password_file);
  if (!file.empty()) {
    auto password = ReadSecretFile(file);
    if (!password.ok()) return password.status();
    config.password = *password;
  } else if (const char* env = std::getenv("CPTS_DB_PASSWORD"); env != nullptr) {
    config.password = env;
  } else {
    return absl::InvalidArgumentError("--db_password_file or CPTS_DB_PASSWORD is required");
  }
  if (config.port <= 0 || config.port > 65535) {
    return absl::InvalidArgumentError("--db_port must be a TCP port");
  }
  if (auto hosts = db::ParseDbHosts(config.host, config.port); !hosts.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--db_host: ", hosts.status().message()));
  }
  return config;
}

void WriteReadyFile(const std::string& path, int grpc_port, int http_port,
                    const std::map<std::string, int>& extra) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << absl::StrFormat("{\"grpc_port\":%d,\"http_port\":%d", grpc_port, http_port);
    for (const auto& [name, port] : extra) out << absl::StrFormat(",\"%s\":%d", name, port);
    out << "}\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

// Tracks whether the database answers, for the gRPC health service: NOT_SERVING until the
// first successful ping, and whenever the database stops answering.
class DatabaseHealthWatch {
 public:
  DatabaseHealthWatch(db::ConnectionPool& pool, RpcServer& server) : pool_(pool), server_(server) {
    thread_ = std::thread([this] { Run(); });
  }
  ~DatabaseHealthWatch() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    bool last = false;
    bool first = true;
    while (!stop_) {
      lock.unlock();
      const absl::Status ping = pool_.Ping();
      lock.lock();
      if (stop_) break;
      if (first || ping.ok() != last) {
        server_.SetServing(ping.ok());
        if (!ping.ok()) {
          Log(Severity::kWarning, "database not answering", {{"error", ping.ToString()}});
        } else if (!first) {
          Log(Severity::kInfo, "database answering again");
        }
        last = ping.ok();
        first = false;
      }
      cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stop_; });
    }
  }

  db::ConnectionPool& pool_;
  RpcServer& server_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int RunService(int argc, char** argv, const ServiceDefinition& definition) {
  BlockTerminationSignals();
  absl::SetProgramUsageMessage(absl::StrCat("The CPTS ", definition.name, " gRPC service."));
  absl::ParseCommandLine(argc, argv);

  const int threads = std::max(1, absl::GetFlag(FLAGS_grpc_threads));
  auto db_config = DbConfigFromFlags(definition, threads);
  if (!db_config.ok()) return Fail(kExitBadConfig, db_config.status().message());
  if (db_config->pool_size < threads) {
    Log(Severity::kWarning, "fewer database connections than workers: workers will wait",
        {{"db_pool_size", absl::StrCat(db_config->pool_size)},
         {"grpc_threads", absl::StrCat(threads)}});
  }
  auto pool = db::ConnectionPool::Create(*db_config);

  if (absl::GetFlag(FLAGS_migrate_only)) {
    const absl::Status migrated = db::RunMigrations(*pool, definition.migrations);
    if (!migrated.ok()) return Fail(1, absl::StrCat("migrations failed: ", migrated.ToString()));
    Log(Severity::kInfo, "migrations applied", {{"schema", db_config->schema}});
    return 0;
  }

  auth::JwtConfig jwt;
  jwt.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  jwt.audience = absl::GetFlag(FLAGS_jwt_audience);
  jwt.public_key_file = absl::GetFlag(FLAGS_jwt_public_key_file);
  jwt.jwks_file = absl::GetFlag(FLAGS_jwt_jwks_file);
  if (jwt.issuer.empty() || jwt.audience.empty()) {
    return Fail(kExitBadConfig, "--jwt_issuer and --jwt_audience are required");
  }
  if (jwt.public_key_file.empty() && jwt.jwks_file.empty()) {
    return Fail(kExitBadConfig, "--jwt_public_key_file or --jwt_jwks_file is required");
  }
  SystemClock clock;
  auto verifier = auth::JwtVerifier::Create(jwt, clock);
  if (!verifier.ok()) return Fail(kExitBadConfig, verifier.status().message());

  RpcServerOptions options;
  options.address = absl::GetFlag(FLAGS_grpc_address);
  const int grpc_port = absl::GetFlag(FLAGS_grpc_port);
  options.port = grpc_port < 0 ? definition.default_grpc_port : grpc_port;
  options.threads = threads;
  options.completion_queues = std::max(1, absl::GetFlag(FLAGS_grpc_completion_queues));
  options.enable_reflection = absl::GetFlag(FLAGS_enable_reflection);
  options.log_requests = absl::GetFlag(FLAGS_log_requests);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.require_client_cert = absl::GetFlag(FLAGS_tls_require_client_cert);
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Fail(kExitBadConfig, "--tls_cert_file and --tls_key_file go together");
  }

  MetricsRegistry metrics;
  db::ConnectionPool* raw_pool = pool.get();
  metrics.RegisterGauge("db_pool_connections", "Database connections by state.", [raw_pool] {
    const auto s = raw_pool->GetStats();
    return std::vector<MetricsRegistry::GaugeSample>{
        {"state=\"in_use\"", static_cast<double>(s.in_use)},
        {"state=\"idle\"", static_cast<double>(s.idle)},
        {"state=\"max\"", static_cast<double>(s.max)}};
  });
  metrics.RegisterGauge("db_pool_events", "Database pool events since start.", [raw_pool] {
    const auto s = raw_pool->GetStats();
    return std::vector<MetricsRegistry::GaugeSample>{
        {"event=\"wait\"", static_cast<double>(s.waits)},
        {"event=\"connect_failure\"", static_cast<double>(s.connect_failures)},
        {"event=\"discarded\"", static_cast<double>(s.discarded)}};
  });

  std::unique_ptr<client::ServiceIdentity> identity;
  if (const std::string key = absl::GetFlag(FLAGS_service_key_file); !key.empty()) {
    auto created = client::ServiceIdentity::Create(
        {.service_name = definition.name,
         .issuer = jwt.issuer,
         .audience = jwt.audience,
         .private_key_file = key,
         .kid = absl::GetFlag(FLAGS_service_key_kid),
         .tls_ca_file = absl::GetFlag(FLAGS_peer_tls_ca_file),
         .tls_cert_file = options.tls_cert_file,
         .tls_key_file = options.tls_key_file,
         .tls_server_name = absl::GetFlag(FLAGS_peer_tls_server_name)},
        clock);
    if (!created.ok()) return Fail(kExitBadConfig, created.status().message());
    identity = *std::move(created);
  }

  RandomIdGenerator ids(clock);
  RpcServer server(options, verifier->get(), metrics);
  ServiceEnvironment env{*pool, server, clock, ids, metrics, **verifier, identity.get()};
  auto wired = definition.wire(env);
  if (!wired.ok()) return Fail(kExitBadConfig, wired.status().message());

  if (const absl::Status started = server.Start(); !started.ok()) {
    return Fail(1, started.message());
  }
  server.SetServing(false);
  HttpEndpoint http({.health =
                         [raw_pool, &server] {
                           if (server.stopping()) {
                             return absl::UnavailableError("shutting down");
                           }
                           return raw_pool->Ping();
                         },
                     .metrics = [&metrics] { return metrics.RenderPrometheus(); }});
  const int http_flag = absl::GetFlag(FLAGS_http_port);
  if (const absl::Status started =
          http.Start(absl::GetFlag(FLAGS_http_address),
                     http_flag < 0 ? definition.default_http_port : http_flag);
      !started.ok()) {
    server.Shutdown(absl::ZeroDuration());
    return Fail(1, started.message());
  }
  auto health_watch = std::make_unique<DatabaseHealthWatch>(*pool, server);
  Log(Severity::kInfo, "serving",
      {{"service", definition.name},
       {"grpc_port", absl::StrCat(server.port())},
       {"http_port", absl::StrCat(http.port())},
       {"tls", options.tls_cert_file.empty() ? "off" : "on"}});
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    WriteReadyFile(ready, server.port(), http.port(), env.ready_ports);
  }

  // Graceful stop (docs/availability.md, "Rolling restart"): lame duck, then new calls refused
  // while in-flight ones finish, then Shutdown.
  const int signal = WaitForTerminationSignal();
  const absl::Time refuse_at = absl::Now() + absl::GetFlag(FLAGS_lame_duck);
  server.EnterLameDuck();
  Log(Severity::kInfo, "lame duck: NOT_SERVING, still serving",
      {{"signal", absl::StrCat(signal)},
       {"lame_duck", absl::FormatDuration(absl::GetFlag(FLAGS_lame_duck))}});
  health_watch.reset();
  absl::SleepFor(refuse_at - absl::Now());
  const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_drain_timeout);
  server.RefuseNewCalls();
  Log(Severity::kInfo, "draining: new calls refused");
  if (!server.WaitForCallsInFlight(deadline)) {
    Log(Severity::kWarning, "drain timeout: cancelling the calls still running");
  }
  server.Shutdown(std::max(absl::ZeroDuration(), deadline - absl::Now()));
  http.Stop();
  Log(Severity::kInfo, "stopped");
  return 0;
}

}  // namespace cpts::platform
