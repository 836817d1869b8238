// cpts-bench-threading-server: serves cpts.bench.v1.BenchService/PointRead through one of the
// threading models compared in docs/threading.md (bench/run_threading.sh drives it).
//
//   --mode=platform          RunService + RpcServer, everything on (JWT, roles, metrics, log)
//   --mode=platform_noauth   the same with an open method (no token check)
//   --mode=raw_sync          bare synchronous gRPC server, handler takes a pool connection
//   --mode=callback_inline   bare callback-API server, blocking database call in the callback
//
// Every mode takes the platform's flags (--grpc_port, --db_host, --db_port, --db_user,
// --db_schema, --db_password_file or CPTS_DB_PASSWORD, --db_pool_size, --ready_file, ...);
// the platform modes also --grpc_threads, --grpc_completion_queues, --log_requests, --jwt_*.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bench/threading/bench_servers.h"
#include "bench/threading/mysql_point_reader.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/server/logging.h"
#include "services/platform/server/service_main.h"
#include "services/platform/server/signals.h"

ABSL_FLAG(std::string, mode, "platform",
          "platform | platform_noauth | raw_sync | callback_inline (see docs/threading.md).");
ABSL_FLAG(std::string, tenant, "bench-tenant",
          "Tenant read by the modes without a token (the platform mode uses the token's).");
ABSL_FLAG(absl::Duration, db_delay, absl::ZeroDuration(),
          "Every query also waits this long inside MariaDB (SLEEP, no CPU): stands for a "
          "database on another machine or a slower query.");
ABSL_FLAG(int, sync_num_cqs, 0, "raw_sync: SyncServerOption NUM_CQS (0 = gRPC default, 1).");
ABSL_FLAG(int, sync_min_pollers, 0, "raw_sync: SyncServerOption MIN_POLLERS (0 = default, 1).");
ABSL_FLAG(int, sync_max_pollers, 0, "raw_sync: SyncServerOption MAX_POLLERS (0 = default, 2).");
ABSL_FLAG(int, max_threads, 0,
          "raw_sync, callback_inline: ResourceQuota::SetMaxThreads (0 = no limit).");

// Defined by the platform's RunService (services/platform/server/service_main.cc); the bare
// modes read the same flags so that every mode is configured alike.
ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(int, grpc_port);
ABSL_DECLARE_FLAG(int, grpc_threads);
ABSL_DECLARE_FLAG(std::string, ready_file);
ABSL_DECLARE_FLAG(std::string, db_host);
ABSL_DECLARE_FLAG(int, db_port);
ABSL_DECLARE_FLAG(std::string, db_user);
ABSL_DECLARE_FLAG(std::string, db_password_file);
ABSL_DECLARE_FLAG(std::string, db_schema);
ABSL_DECLARE_FLAG(int, db_pool_size);

namespace {

using cpts::platform::Log;
using cpts::platform::Severity;

constexpr int kExitBadConfig = 2;
constexpr char kServiceName[] = "bench";

int Fail(int code, std::string_view message) {
  Log(Severity::kError, message);
  return code;
}

absl::StatusOr<cpts::platform::db::DbConfig> DbConfigFromFlags() {
  cpts::platform::db::DbConfig config;
  config.host = absl::GetFlag(FLAGS_db_host);
  config.port = absl::GetFlag(FLAGS_db_port);
  config.user = absl::GetFlag(FLAGS_db_user).empty() ? kServiceName : absl::GetFlag(FLAGS_db_user);
  config.schema =
      absl::GetFlag(FLAGS_db_schema).empty() ? kServiceName : absl::GetFlag(FLAGS_db_schema);
  const int pool = absl::GetFlag(FLAGS_db_pool_size);
  config.pool_size = pool > 0 ? pool : std::max(1, absl::GetFlag(FLAGS_grpc_threads));
  if (const std::string file = absl::GetFlag(FLAGS_db_password_file); !file.empty()) {
    std::ifstream in(file);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    config.password = std::string(absl::StripAsciiWhitespace(buffer.str()));
  } else if (const char* env = std::getenv("CPTS_DB_PASSWORD"); env != nullptr) {
    config.password = env;
  } else {
    return absl::InvalidArgumentError("--db_password_file or CPTS_DB_PASSWORD is required");
  }
  return config;
}

// The bare modes: our own pool and server, none of the platform's pipeline.
int RunBare(const std::string& mode) {
  auto db_config = DbConfigFromFlags();
  if (!db_config.ok()) return Fail(kExitBadConfig, db_config.status().ToString());
  auto pool = cpts::platform::db::ConnectionPool::Create(*db_config);
  if (const absl::Status ping = pool->Ping(); !ping.ok()) return Fail(1, ping.ToString());
  cpts::bench::MysqlPointReader reader(*pool, absl::GetFlag(FLAGS_db_delay));

  cpts::bench::BareServerOptions options;
  options.address = absl::GetFlag(FLAGS_grpc_address);
  options.port = std::max(0, absl::GetFlag(FLAGS_grpc_port));
  options.tenant_id = absl::GetFlag(FLAGS_tenant);
  options.sync_num_cqs = absl::GetFlag(FLAGS_sync_num_cqs);
  options.sync_min_pollers = absl::GetFlag(FLAGS_sync_min_pollers);
  options.sync_max_pollers = absl::GetFlag(FLAGS_sync_max_pollers);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  auto server = mode == "raw_sync" ? cpts::bench::StartRawSyncServer(options, reader)
                                   : cpts::bench::StartCallbackInlineServer(options, reader);
  if (!server.ok()) return Fail(1, server.status().ToString());

  Log(Severity::kInfo, "serving",
      {{"mode", mode},
       {"grpc_port", absl::StrCat((*server)->port())},
       {"db_pool_size", absl::StrCat(db_config->pool_size)}});
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    const std::string tmp = ready + ".tmp";
    {
      std::ofstream out(tmp);
      out << absl::StrFormat("{\"grpc_port\":%d,\"http_port\":0}\n", (*server)->port());
    }
    std::rename(tmp.c_str(), ready.c_str());
  }
  cpts::platform::WaitForTerminationSignal();
  (*server)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cpts::platform::BlockTerminationSignals();
  // Parsed here to read --mode; RunService parses the same command line again (and sets the
  // usage message, which may be set only once).
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "platform" || mode == "platform_noauth") {
    return cpts::platform::RunService(
        argc, argv,
        cpts::bench::PlatformBenchService(mode == "platform_noauth", absl::GetFlag(FLAGS_tenant),
                                          absl::GetFlag(FLAGS_db_delay)));
  }
  if (mode == "raw_sync" || mode == "callback_inline") return RunBare(mode);
  return Fail(kExitBadConfig, absl::StrCat("unknown --mode ", mode));
}
