#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::testing {

// A MariaDB server for integration tests: either a private mariadbd owned by the test process
// (own data directory under a temporary directory, a free TCP port on 127.0.0.1, run as the
// current user, durability traded for speed), or an already running one it attaches to.
// Thread-safe.
class MariaDbServer {
 public:
  // The administrator account created in a private server; it connects over TCP.
  static constexpr std::string_view kAdminUser = "cpts_admin";

  // Initialises a data directory and starts mariadbd; returns once it answers a ping.
  // FailedPrecondition when mariadbd or mariadb-install-db is not installed, Internal with the
  // tail of the server's error log when it does not come up.
  static absl::StatusOr<std::unique_ptr<MariaDbServer>> Start();

  // An already running server, not owned: Stop/StartAgain are refused, nothing is removed.
  static std::unique_ptr<MariaDbServer> Attach(std::string host, int port, std::string admin_user,
                                               std::string admin_password);

  // Stops an owned server and removes its temporary directory.
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  // Clean shutdown of an owned server (SIGTERM, then SIGKILL after 60 s); the data stays.
  absl::Status Stop();
  // Starts a stopped owned server again on the same port with the same data.
  absl::Status StartAgain();
  bool running() const;

  int port() const { return port_; }
  std::string host() const { return host_; }
  const std::string& admin_user() const { return admin_user_; }
  const std::string& admin_password() const { return admin_password_; }
  // Connection settings of the administrator (no schema selected).
  platform::db::DbConfig AdminConfig() const;

  // Runs one statement as the administrator (no parameters: test setup only).
  absl::Status Exec(std::string_view sql);

 private:
  MariaDbServer() = default;

  absl::Status Initialize();
  absl::Status Launch();
  absl::Status WaitUntilReady();
  std::string ErrorLogTail() const;

  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string admin_user_;
  std::string admin_password_;
  bool owned_ = false;
  std::string dir_;  // temporary directory of an owned server
  std::string config_path_;

  mutable std::mutex mu_;
  pid_t pid_ = -1;
  std::shared_ptr<platform::db::ConnectionPool> admin_pool_;  // shared: Exec runs outside mu_
};

// The server shared by a test process: if CPTS_TEST_MARIADB="host:port:admin_user:admin_password"
// is set, attach to it (scripts/test starts one for the whole run); otherwise start a private one
// (stopped at exit). Aborts the process with a message when neither works: in our CI a missing
// database fails the run, it never skips tests.
MariaDbServer& SharedMariaDb();

struct TestSchema {
  std::string name;
  platform::db::DbConfig app;       // user `<name>`: SELECT, INSERT, UPDATE, DELETE on <name>.*
  platform::db::DbConfig migrator;  // user `<name>_migrator`: ALL PRIVILEGES on <name>.*
};

// Creates a fresh schema named <prefix>_<random suffix> with its migrator and app users, as
// dev-up does for a service schema. prefix: [a-z][a-z0-9_]*, at most 40 characters.
absl::StatusOr<TestSchema> CreateTestSchema(MariaDbServer& server, std::string_view prefix);

}  // namespace cpts::testing
