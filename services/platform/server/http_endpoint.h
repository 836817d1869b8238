#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace httplib {
class Server;
}

namespace cpts::platform {

// The small plain-HTTP port beside gRPC: /healthz for probes and /metrics for Prometheus.
class HttpEndpoint {
 public:
  struct Handlers {
    std::function<absl::Status()> health;  // OK -> 200, else 503 with the reason
    std::function<std::string()> metrics;  // Prometheus text
  };
  explicit HttpEndpoint(Handlers handlers);
  ~HttpEndpoint();

  // Binds `address:port` (0 = a free port) and serves on a background thread.
  absl::Status Start(const std::string& address, int port);
  int port() const { return port_; }
  void Stop();

 private:
  Handlers handlers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cpts::platform
