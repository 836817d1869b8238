#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/platform/testing/mariadb_server.h"

namespace cpts::testing {

// A 3-node MariaDB Galera cluster on loopback for availability tests, driven by
// scripts/galera.sh (one implementation of the node settings for tests and manual trials):
// a temporary directory, ports derived from a free base port (client BASE+n, gcomm BASE+10+n,
// IST BASE+20+n, SST BASE+30+n). The nodes run in their own sessions: the destructor kills them,
// and a watchdog process does if the test process dies first.
class GaleraCluster {
 public:
  static constexpr int kNodes = 3;

  // Starts the three nodes (node 1 bootstraps, 2 and 3 join by state transfer) and returns
  // once all are Synced. `script` is the path of scripts/galera.sh. FailedPrecondition when
  // Galera is not installed.
  static absl::StatusOr<std::unique_ptr<GaleraCluster>> Start(const std::string& script);
  ~GaleraCluster();  // SIGKILL of every node, then the directory is removed
  GaleraCluster(const GaleraCluster&) = delete;
  GaleraCluster& operator=(const GaleraCluster&) = delete;

  // Node n in 1..3.
  int port(int node) const { return base_port_ + node; }
  // "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3": the failover list of --db_host.
  std::string HostList() const;
  // The administrator on node n only, or (node 0) on the whole failover list: schemas and users
  // created through it replicate to every node.
  std::unique_ptr<MariaDbServer> Admin(int node) const;

  // SIGKILL of node n (a crash). Returns once the process is gone.
  absl::Status Kill(int node);
  // Starts a killed or stopped node again; returns once it is Synced.
  absl::Status Restart(int node);
  bool running(int node) const;
  // wsrep_cluster_size / wsrep_local_state_comment as seen by node n ("" when unreachable).
  std::string Status(int node, const std::string& variable) const;

 private:
  GaleraCluster() = default;
  absl::Status Run(const std::vector<std::string>& args) const;
  int Pid(int node) const;

  std::string script_;
  std::string dir_;
  int base_port_ = 0;
  std::string admin_password_;
};

}  // namespace cpts::testing
