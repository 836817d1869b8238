#include "services/platform/testing/mariadb_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "services/platform/core/status_macros.h"

namespace cpts::testing {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kInstallTimeout = absl::Seconds(120);
constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(60);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// mariadbd lives in /usr/sbin, which a non-root PATH often lacks.
absl::StatusOr<std::string> FindExecutable(absl::string_view name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    dirs = absl::StrSplit(path, ':', absl::SkipEmpty());
  }
  for (const char* extra : {"/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"}) {
    dirs.emplace_back(extra);
  }
  for (const std::string& dir : dirs) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(name, " not found (install mariadb-server: scripts/install-deps.sh)"));
}

// Binding port 0 lets the kernel choose a free port; the small window before mariadbd binds it
// is covered by retrying Start() with another port.
absl::StatusOr<int> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(ErrnoMessage("socket"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    absl::Status status = absl::InternalError(ErrnoMessage("bind 127.0.0.1:0"));
    ::close(fd);
    return status;
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<std::string> MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') {
    base = std::getenv("TMPDIR");
  }
  if (base == nullptr || *base == '\0') {
    base = "/tmp";
  }
  std::string templ = absl::StrCat(base, "/cpts-mariadb-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(ErrnoMessage(absl::StrCat("mkdtemp ", templ)));
  }
  // The Unix socket lives in it, and sun_path holds 108 bytes.
  if (templ.size() + sizeof("/mysqld.sock") > 100) {
    std::error_code ignored;
    fs::remove_all(templ, ignored);
    return absl::FailedPreconditionError(
        absl::StrCat("temporary directory path too long for a Unix socket: ", templ));
  }
  return templ;
}

absl::Status WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::string ReadTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) {
    text = text.substr(text.size() - max_bytes);
  }
  return text;
}

std::string RandomHex(int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  absl::BitGen gen;
  std::string out(static_cast<size_t>(length), '0');
  for (char& c : out) {
    c = kHex[absl::Uniform(gen, 0, 16)];
  }
  return out;
}

// Everything a child needs is prepared before fork(): between fork and exec only
// async-signal-safe calls are allowed in a multi-threaded process.
struct ExecArgs {
  explicit ExecArgs(std::vector<std::string> args, std::string log)
      : storage(std::move(args)), log_path(std::move(log)) {
    for (std::string& arg : storage) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
  }
  std::vector<std::string> storage;
  std::vector<char*> argv;
  std::string log_path;
};

// In the child: output to the log file, no stdin, none of the parent's descriptors (a test's
// listening sockets must not outlive the test in mariadbd), then exec.
[[noreturn]] void ExecChild(const ExecArgs& args, bool die_with_parent) {
  if (die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died between fork() and prctl().
    if (::getppid() == 1) {
      ::_exit(126);
    }
  }
  const int null_fd = ::open("/dev/null", O_RDONLY);
  const int log_fd = ::open(args.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (null_fd < 0 || log_fd < 0) {
    ::_exit(125);
  }
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 4096; ++fd) {
      ::close(fd);
    }
  }
  ::execv(args.argv[0], args.argv.data());
  ::_exit(127);
}

absl::StatusOr<pid_t> ForkExec(const ExecArgs& args, bool die_with_parent) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::InternalError(ErrnoMessage("fork"));
  }
  if (pid == 0) {
    ExecChild(args, die_with_parent);
  }
  return pid;
}

// PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the process. Servers are
// therefore forked by one thread that lives as long as the process, whichever test thread asks:
// if the test process dies, mariadbd dies with it instead of lingering.
class Launcher {
 public:
  static Launcher& Get() {
    static Launcher* const launcher = new Launcher();  // never destroyed: its thread never ends
    return *launcher;
  }

  absl::StatusOr<pid_t> Spawn(const ExecArgs& args) {
    std::promise<absl::StatusOr<pid_t>> promise;
    std::future<absl::StatusOr<pid_t>> future = promise.get_future();
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back([&args, &promise] { promise.set_value(ForkExec(args, true)); });
    }
    cv_.notify_one();
    return future.get();
  }

 private:
  Launcher() {
    std::thread([this] { Loop(); }).detach();
  }

  [[noreturn]] void Loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

// Waits for a child; kills it when the timeout passes. Returns its exit status.
absl::StatusOr<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      return status;
    }
    if (done < 0 && errno != EINTR) {
      return absl::InternalError(ErrnoMessage("waitpid"));
    }
    if (absl::Now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

bool IsValidPrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 40 || !absl::ascii_islower(prefix[0])) {
    return false;
  }
  for (char c : prefix) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MariaDbServer>> MariaDbServer::Start() {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  server->owned_ = true;
  server->admin_user_ = std::string(kAdminUser);
  server->admin_password_ = RandomHex(24);
  CPTS_ASSIGN_OR_RETURN(server->dir_, MakeTempDir());
  server->config_path_ = server->dir_ + "/my.cnf";
  absl::Status status;
  // Another process may grab the chosen port before mariadbd binds it: try a few ports.
  for (int attempt = 0; attempt < 3; ++attempt) {
    CPTS_ASSIGN_OR_RETURN(server->port_, PickFreePort());
    status = server->Initialize();
    if (!status.ok()) {
      return status;  // the destructor removes the directory
    }
    status = server->Launch();
    if (status.ok()) {
      return server;
    }
    if (server->ErrorLogTail().find("Address already in use") == std::string::npos) {
      break;
    }
  }
  return status;
}

std::unique_ptr<MariaDbServer> MariaDbServer::Attach(std::string host, int port,
                                                     std::string admin_user,
                                                     std::string admin_password) {
  std::unique_ptr<MariaDbServer> server(new MariaDbServer());
  server->host_ = std::move(host);
  server->port_ = port;
  server->admin_user_ = std::move(admin_user);
  server->admin_password_ = std::move(admin_password);
  return server;
}

MariaDbServer::~MariaDbServer() {
  if (!owned_) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    admin_pool_.reset();
    if (pid_ > 0) {
      // The data is thrown away: no need for a clean shutdown.
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

absl::Status MariaDbServer::Initialize() {
  CPTS_ASSIGN_OR_RETURN(const std::string install_db, FindExecutable("mariadb-install-db"));
  const std::string& d = dir_;
  // --defaults-file keeps /etc/mysql out. Durability is traded for speed (tests throw the data
  // away); native AIO is off because many servers at once exhaust the kernel's aio contexts.
  // A private tmpdir: at start-up mariadbd deletes every #sql* file of its tmpdir, which with a
  // shared /tmp destroys the temporary tables of another server being bootstrapped meanwhile.
  std::string cnf = absl::StrCat(               //
      "[client]\n",                             //
      "port=", port_, "\n",                     //
      "socket=", d, "/mysqld.sock\n",           //
      "default-character-set=utf8mb4\n",        //
      "[mariadbd]\n",                           //
      ::geteuid() == 0 ? "user=root\n" : "",    // else mariadbd refuses
      "datadir=", d, "/data\n",                 //
      "socket=", d, "/mysqld.sock\n",           //
      "pid-file=", d, "/mysqld.pid\n",          //
      "log-error=", d, "/error.log\n",          //
      "tmpdir=", d, "/tmp\n",                   //
      "port=", port_, "\n",                     //
      "bind-address=127.0.0.1\n",               //
      "skip-name-resolve\n",                    //
      "character-set-server=utf8mb4\n",         //
      "collation-server=utf8mb4_unicode_ci\n",  //
      "innodb_buffer_pool_size=32M\n",          //
      "innodb_log_file_size=8M\n",              //
      "innodb_flush_log_at_trx_commit=2\n",     //
      "innodb_doublewrite=0\n",                 //
      "innodb_use_native_aio=0\n",              //
      "skip-log-bin\n",                         //
      "max_connections=500\n");
  CPTS_RETURN_IF_ERROR(WriteFile(config_path_, cnf));
  std::error_code mkdir_error;
  fs::create_directories(d + "/tmp", mkdir_error);
  if (mkdir_error) {
    return absl::InternalError(absl::StrCat("cannot create ", d, "/tmp: ", mkdir_error.message()));
  }
  if (fs::exists(d + "/data/mysql")) {
    return absl::OkStatus();  // a retry on another port
  }
  // Bootstrap runs without grant tables loaded; FLUSH PRIVILEGES loads them so that CREATE USER
  // works. The administrator connects over TCP with a password, whoever runs the tests.
  const std::string init_sql = absl::StrCat("FLUSH PRIVILEGES;\n", "CREATE USER '", admin_user_,
                                            "'@'127.0.0.1' IDENTIFIED BY '", admin_password_,
                                            "';\n", "GRANT ALL PRIVILEGES ON *.* TO '", admin_user_,
                                            "'@'127.0.0.1' WITH GRANT OPTION;\n");
  CPTS_RETURN_IF_ERROR(WriteFile(d + "/init.sql", init_sql));
  const ExecArgs args({install_db, "--defaults-file=" + config_path_, "--skip-test-db",
                       "--extra-file=" + d + "/init.sql"},
                      d + "/install.log");
  CPTS_ASSIGN_OR_RETURN(const pid_t pid, ForkExec(args, /*die_with_parent=*/false));
  CPTS_ASSIGN_OR_RETURN(const int status, WaitForExit(pid, kInstallTimeout));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("mariadb-install-db failed:\n",
                                            ReadTail(d + "/install.log", 1500), "\n",
                                            ReadTail(d + "/error.log", 1500)));
  }
  return absl::OkStatus();
}

absl::Status MariaDbServer::Launch() {
  CPTS_ASSIGN_OR_RETURN(const std::string mariadbd, FindExecutable("mariadbd"));
  // --defaults-file must be the first argument.
  const ExecArgs args({mariadbd, "--defaults-file=" + config_path_}, dir_ + "/mariadbd.out");
  {
    std::lock_guard lock(mu_);
    if (pid_ > 0) {
      return absl::FailedPreconditionError("mariadbd is already running");
    }
    CPTS_ASSIGN_OR_RETURN(pid_, Launcher::Get().Spawn(args));
  }
  return WaitUntilReady();
}

absl::Status MariaDbServer::WaitUntilReady() {
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  platform::db::DbConfig config = AdminConfig();
  config.pool_size = 1;
  config.connect_timeout = absl::Seconds(1);
  std::unique_ptr<platform::db::ConnectionPool> probe =
      platform::db::ConnectionPool::Create(config);
  absl::Status last;
  while (true) {
    {
      std::lock_guard lock(mu_);
      int status = 0;
      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::InternalError(
            absl::StrCat("mariadbd exited during start-up; error log:\n", ErrorLogTail()));
      }
    }
    last = probe->Ping();
    if (last.ok()) {
      return absl::OkStatus();
    }
    if (absl::Now() >= deadline) {
      return absl::InternalError(absl::StrCat("mariadbd not answering after ",
                                              absl::FormatDuration(kReadyTimeout), ": ",
                                              last.message(), "\n", ErrorLogTail()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

std::string MariaDbServer::ErrorLogTail() const {
  if (dir_.empty()) {
    return "";
  }
  return ReadTail(dir_ + "/error.log", 2000);
}

absl::Status MariaDbServer::Stop() {
  if (!owned_) {
    return absl::FailedPreconditionError("cannot stop an attached MariaDB server");
  }
  std::lock_guard lock(mu_);
  admin_pool_.reset();
  if (pid_ <= 0) {
    return absl::FailedPreconditionError("mariadbd is not running");
  }
  ::kill(pid_, SIGTERM);  // clean shutdown: the data stays consistent for StartAgain()
  absl::StatusOr<int> exited = WaitForExit(pid_, kStopTimeout);
  pid_ = -1;
  return exited.status();
}

absl::Status MariaDbServer::StartAgain() {
  if (!owned_) {
    return absl::FailedPreconditionError("cannot start an attached MariaDB server");
  }
  return Launch();
}

bool MariaDbServer::running() const {
  std::lock_guard lock(mu_);
  return !owned_ || pid_ > 0;
}

platform::db::DbConfig MariaDbServer::AdminConfig() const {
  platform::db::DbConfig config;
  config.host = host_;
  config.port = port_;
  config.user = admin_user_;
  config.password = admin_password_;
  config.pool_size = 4;
  return config;
}

absl::Status MariaDbServer::Exec(std::string_view sql) {
  std::shared_ptr<platform::db::ConnectionPool> pool;
  {
    std::lock_guard lock(mu_);
    if (admin_pool_ == nullptr) {
      admin_pool_ = platform::db::ConnectionPool::Create(AdminConfig());
    }
    pool = admin_pool_;
  }
  for (int attempt = 0;; ++attempt) {
    CPTS_ASSIGN_OR_RETURN(platform::db::ConnectionPool::Lease lease,
                          pool->Acquire(absl::Now() + absl::Seconds(30)));
    absl::Status status = lease->Execute(sql);
    // A pooled connection may predate a server restart: one retry on a fresh one.
    if (status.ok() || !absl::IsUnavailable(status) || lease.fresh() || attempt > 0) {
      return status;
    }
  }
}

MariaDbServer& SharedMariaDb() {
  static const std::unique_ptr<MariaDbServer> server = []() -> std::unique_ptr<MariaDbServer> {
    const char* env = std::getenv("CPTS_TEST_MARIADB");
    if (env != nullptr && *env != '\0') {
      // host:port:user:password; the password may itself contain ':'.
      std::vector<std::string> parts = absl::StrSplit(env, absl::MaxSplits(':', 3));
      int port = 0;
      if (parts.size() != 4 || !absl::SimpleAtoi(parts[1], &port)) {
        std::fprintf(stderr, "CPTS_TEST_MARIADB must be host:port:admin_user:admin_password\n");
        std::abort();
      }
      return MariaDbServer::Attach(parts[0], port, parts[2], parts[3]);
    }
    absl::StatusOr<std::unique_ptr<MariaDbServer>> started = MariaDbServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start a private MariaDB for the tests: %s\n",
                   std::string(started.status().message()).c_str());
      std::abort();
    }
    return *std::move(started);
  }();
  return *server;
}

absl::StatusOr<TestSchema> CreateTestSchema(MariaDbServer& server, std::string_view prefix) {
  if (!IsValidPrefix(prefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema prefix '", std::string(prefix), "' must match [a-z][a-z0-9_]{0,39}"));
  }
  TestSchema schema;
  schema.name = absl::StrCat(std::string(prefix), "_", RandomHex(8));
  const std::string migrator_user = schema.name + "_migrator";
  const std::string migrator_password = RandomHex(24);
  const std::string app_password = RandomHex(24);
  // In a GRANT's database name `_` is a wildcard: escape it, or `a_b` would also grant `axb`.
  std::string grant_db;
  for (char c : schema.name) {
    if (c == '_') {
      grant_db.push_back('\\');
    }
    grant_db.push_back(c);
  }
  // Identifiers and passwords are generated here from [a-z0-9_]: nothing to inject, and DDL
  // cannot bind identifiers anyway.
  for (const std::string& sql : {
           absl::StrCat("CREATE DATABASE `", schema.name,
                        "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
           absl::StrCat("CREATE USER '", migrator_user, "'@'127.0.0.1' IDENTIFIED BY '",
                        migrator_password, "'"),
           absl::StrCat("GRANT ALL PRIVILEGES ON `", grant_db, "`.* TO '", migrator_user,
                        "'@'127.0.0.1'"),
           absl::StrCat("CREATE USER '", schema.name, "'@'127.0.0.1' IDENTIFIED BY '", app_password,
                        "'"),
           absl::StrCat("GRANT SELECT, INSERT, UPDATE, DELETE ON `", grant_db, "`.* TO '",
                        schema.name, "'@'127.0.0.1'"),
       }) {
    CPTS_RETURN_IF_ERROR(server.Exec(sql));
  }
  schema.app.host = server.host();
  schema.app.port = server.port();
  schema.app.schema = schema.name;
  schema.app.user = schema.name;
  schema.app.password = app_password;
  schema.migrator = schema.app;
  schema.migrator.user = migrator_user;
  schema.migrator.password = migrator_password;
  schema.migrator.pool_size = 2;
  // DDL on a large table can take minutes.
  schema.migrator.io_timeout = absl::Minutes(10);
  return schema;
}

}  // namespace cpts::testing
