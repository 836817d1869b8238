#include "services/platform/testing/galera_cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/testing/service_process.h"

namespace cpts::testing {
namespace {

namespace fs = std::filesystem;

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A base port whose 12 derived ports are free now.
absl::StatusOr<int> PickBasePort() {
  absl::BitGen gen;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int base = absl::Uniform(gen, 200, 600) * 100;  // 20000..59900
    bool free = true;
    for (int offset : {0, 10, 20, 30}) {
      for (int n = 1; n <= GaleraCluster::kNodes; ++n) free = free && PortFree(base + offset + n);
    }
    if (free) return base;
  }
  return absl::InternalError("no free range of ports for a Galera cluster");
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Alive and not a zombie: a killed node is reparented (galera.sh's shell is gone), and whether
// it is reaped at once depends on the init process of the machine or container.
bool Alive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  const std::string stat = Slurp(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

}  // namespace

absl::StatusOr<std::unique_ptr<GaleraCluster>> GaleraCluster::Start(const std::string& script) {
  if (::access("/usr/lib/galera/libgalera_smm.so", R_OK) != 0) {
    return absl::FailedPreconditionError(
        "/usr/lib/galera/libgalera_smm.so missing (install galera-4: scripts/install-deps.sh)");
  }
  std::unique_ptr<GaleraCluster> cluster(new GaleraCluster());
  cluster->script_ = script;
  char tmpl[] = "/tmp/cpts-galera.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  cluster->dir_ = tmpl;
  absl::StatusOr<int> base = PickBasePort();
  if (!base.ok()) return base.status();
  cluster->base_port_ = *base;
  // The nodes run in their own sessions: if this process dies without its destructor (a crash,
  // ctest's timeout), a watchdog kills them and removes the directory.
  const std::string watchdog =
      absl::StrCat("setsid /bin/bash -c 'while kill -0 ", ::getpid(),
                   " 2>/dev/null; do sleep 1; done; ", "for f in ", cluster->dir_,
                   "/n*/mysqld.pid; do kill -9 \"$(cat \"$f\")\" 2>/dev/null; done; ",
                   "sleep 1; rm -rf ", cluster->dir_, "' </dev/null >/dev/null 2>&1 &");
  if (absl::StatusOr<CommandResult> spawned = RunCommand("/bin/bash", {"-c", watchdog});
      !spawned.ok()) {
    return spawned.status();
  }
  if (absl::Status started = cluster->Run({"start", cluster->dir_, absl::StrCat(*base)});
      !started.ok()) {
    return started;
  }
  std::string password = Slurp(cluster->dir_ + "/admin_password");
  absl::StripTrailingAsciiWhitespace(&password);
  if (password.empty()) return absl::InternalError("galera.sh wrote no admin password");
  cluster->admin_password_ = password;
  return cluster;
}

GaleraCluster::~GaleraCluster() {
  for (int n = 1; n <= kNodes; ++n) {
    if (const int pid = Pid(n); pid > 0) ::kill(pid, SIGKILL);
  }
  // Wait for the processes to go before removing their files.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (int n = 1; n <= kNodes; ++n) {
    while (running(n) && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  }
  if (!dir_.empty() && std::getenv("CPTS_KEEP_GALERA") == nullptr) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

absl::Status GaleraCluster::Run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {script_};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> result = RunCommand("/bin/bash", argv);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat("galera.sh ", args.front(), " failed (exit ",
                                            result->exit_code, "):\n", result->output));
  }
  return absl::OkStatus();
}

int GaleraCluster::Pid(int node) const {
  const std::string text = Slurp(absl::StrCat(dir_, "/n", node, "/mysqld.pid"));
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return -1;
  return pid;
}

bool GaleraCluster::running(int node) const { return Alive(Pid(node)); }

std::string GaleraCluster::HostList() const {
  std::string hosts;
  for (int n = 1; n <= kNodes; ++n) {
    absl::StrAppend(&hosts, n > 1 ? "," : "", "127.0.0.1:", port(n));
  }
  return hosts;
}

std::unique_ptr<MariaDbServer> GaleraCluster::Admin(int node) const {
  return MariaDbServer::Attach(node == 0 ? HostList() : "127.0.0.1",
                               node == 0 ? port(1) : port(node),
                               std::string(MariaDbServer::kAdminUser), admin_password_);
}

absl::Status GaleraCluster::Kill(int node) {
  const int pid = Pid(node);
  if (pid <= 0 || ::kill(pid, SIGKILL) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("node ", node, " is not running"));
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (Alive(pid)) {
    if (absl::Now() > give_up) return absl::InternalError("killed node still alive after 10 s");
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

absl::Status GaleraCluster::Restart(int node) { return Run({"restart", dir_, absl::StrCat(node)}); }

std::string GaleraCluster::Status(int node, const std::string& variable) const {
  platform::db::DbConfig config = Admin(node)->AdminConfig();
  config.pool_size = 1;
  config.connect_timeout = absl::Seconds(1);
  std::unique_ptr<platform::db::ConnectionPool> pool = platform::db::ConnectionPool::Create(config);
  absl::StatusOr<platform::db::ConnectionPool::Lease> lease = pool->Acquire();
  if (!lease.ok()) return "";
  try {
    std::unique_ptr<sql::Statement> st((*lease)->raw().createStatement());
    std::unique_ptr<sql::ResultSet> rs(
        st->executeQuery(absl::StrCat("SHOW GLOBAL STATUS LIKE '", variable, "'")));
    return rs->next() ? std::string(rs->getString(2)) : "";
  } catch (const sql::SQLException&) {
    return "";
  }
}

}  // namespace cpts::testing
