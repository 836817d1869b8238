#include "services/platform/server/http_endpoint.h"

#include <httplib.h>

#include "absl/strings/str_format.h"

namespace cpts::platform {

HttpEndpoint::HttpEndpoint(Handlers handlers)
    : handlers_(std::move(handlers)), server_(std::make_unique<httplib::Server>()) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

absl::Status HttpEndpoint::Start(const std::string& address, int port) {
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const absl::Status health = handlers_.health();
    res.status = health.ok() ? 200 : 503;
    res.set_content(health.ok() ? "ok\n" : std::string(health.message()) + "\n", "text/plain");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(handlers_.metrics(), "text/plain; version=0.0.4");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(address);
  } else {
    port_ = server_->bind_to_port(address, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrFormat("cannot listen on http %s:%d", address, port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpEndpoint::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace cpts::platform
