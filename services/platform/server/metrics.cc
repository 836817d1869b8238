#include "services/platform/server/metrics.h"

#include <grpcpp/support/status_code_enum.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cpts::platform {
namespace {

constexpr std::array<const char*, MethodMetrics::kCodes> kCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

}  // namespace

const char* StatusCodeName(int code) {
  return code >= 0 && code < MethodMetrics::kCodes ? kCodeNames[code] : "UNKNOWN";
}

void MethodMetrics::Record(int code, absl::Duration latency) {
  if (code < 0 || code >= kCodes) code = grpc::StatusCode::UNKNOWN;
  Cell& cell = cells_[code];
  cell.count.fetch_add(1, std::memory_order_relaxed);
  cell.sum_micros.fetch_add(static_cast<uint64_t>(absl::ToInt64Microseconds(latency)),
                            std::memory_order_relaxed);
  const double seconds = absl::ToDoubleSeconds(latency);
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (seconds <= kBucketsSeconds[i]) {
      // Buckets are stored non-cumulative; rendering accumulates them.
      cell.buckets[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

MethodMetrics* MetricsRegistry::RegisterMethod(const std::string& method) {
  std::lock_guard lock(mu_);
  methods_.push_back(std::make_unique<MethodMetrics>(method));
  return methods_.back().get();
}

void MetricsRegistry::RegisterGauge(std::string name, std::string help, GaugeFn fn) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(fn)});
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP grpc_server_handled_total RPCs completed, by method and status code.\n";
  out += "# TYPE grpc_server_handled_total counter\n";
  for (const auto& m : methods_) {
    for (int code = 0; code < MethodMetrics::kCodes; ++code) {
      const uint64_t n = m->cells_[code].count.load(std::memory_order_relaxed);
      if (n == 0 && code != 0) continue;
      absl::StrAppend(&out, "grpc_server_handled_total{grpc_method=\"", m->method(),
                      "\",grpc_code=\"", kCodeNames[code], "\"} ", n, "\n");
    }
  }
  out += "# HELP grpc_server_handling_seconds Latency of completed RPCs.\n";
  out += "# TYPE grpc_server_handling_seconds histogram\n";
  for (const auto& m : methods_) {
    for (int code = 0; code < MethodMetrics::kCodes; ++code) {
      const auto& cell = m->cells_[code];
      const uint64_t n = cell.count.load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string labels =
          absl::StrCat("grpc_method=\"", m->method(), "\",grpc_code=\"", kCodeNames[code], "\"");
      uint64_t cumulative = 0;
      for (size_t i = 0; i < MethodMetrics::kBucketsSeconds.size(); ++i) {
        cumulative += cell.buckets[i].load(std::memory_order_relaxed);
        absl::StrAppend(&out, "grpc_server_handling_seconds_bucket{", labels, ",le=\"",
                        absl::StrFormat("%g", MethodMetrics::kBucketsSeconds[i]), "\"} ",
                        cumulative, "\n");
      }
      absl::StrAppend(&out, "grpc_server_handling_seconds_bucket{", labels, ",le=\"+Inf\"} ", n,
                      "\n");
      absl::StrAppend(&out, "grpc_server_handling_seconds_sum{", labels, "} ",
                      absl::StrFormat("%.6f", static_cast<double>(cell.sum_micros.load()) / 1e6),
                      "\n");
      absl::StrAppend(&out, "grpc_server_handling_seconds_count{", labels, "} ", n, "\n");
    }
  }
  for (const auto& g : gauges_) {
    absl::StrAppend(&out, "# HELP ", g.name, " ", g.help, "\n# TYPE ", g.name, " gauge\n");
    for (const auto& sample : g.fn()) {
      absl::StrAppend(&out, g.name);
      if (!sample.labels.empty()) absl::StrAppend(&out, "{", sample.labels, "}");
      absl::StrAppend(&out, " ", absl::StrFormat("%g", sample.value), "\n");
    }
  }
  return out;
}

}  // namespace cpts::platform
