#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cpts::testing {

// A real service binary started for an end-to-end test, on free ports, with its output in a
// log file. Stopped with SIGTERM (graceful drain) when destroyed.
class ServiceProcess {
 public:
  // Starts `binary` with `args` plus --grpc_port=0 (unless `args` has a --grpc_port=, e.g. to
  // restart a server on the port its clients know) --http_port=0 --ready_file=..., and waits
  // until the server has written its ready file. `env` entries are added to the environment.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, std::vector<std::string> args,
      const std::map<std::string, std::string>& env = {},
      absl::Duration timeout = absl::Seconds(30));
  ~ServiceProcess();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  std::string grpc_target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  pid_t pid() const { return pid_; }
  // Another port the server wrote to its ready file (e.g. "fhir_port"); 0 when absent.
  int ready_port(const std::string& name) const;
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;

  // Sends SIGTERM and waits for the exit status (-1 on timeout, after SIGKILL).
  int Stop(absl::Duration timeout = absl::Seconds(20));

 private:
  ServiceProcess() = default;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int http_port_ = 0;
  std::string dir_;
  std::string log_path_;
  std::string ready_text_;
};

// Runs a command to completion; returns its exit status and captured stderr+stdout.
struct CommandResult {
  int exit_code;
  std::string output;
};
absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         const std::vector<std::string>& args,
                                         const std::map<std::string, std::string>& env = {});

}  // namespace cpts::testing
