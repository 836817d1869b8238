#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace cpts::platform {

// "OK", "NOT_FOUND", ... for a gRPC status code number.
const char* StatusCodeName(int code);

// Request counters and latency histograms per (method, status code), lock-free on the hot
// path: every method gets its cells when it is registered, before the server starts.
class MethodMetrics {
 public:
  static constexpr int kCodes = 17;  // gRPC status codes 0..16
  static constexpr std::array<double, 13> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  explicit MethodMetrics(std::string method) : method_(std::move(method)) {}
  void Record(int code, absl::Duration latency);
  const std::string& method() const { return method_; }

 private:
  friend class MetricsRegistry;
  struct Cell {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micros{0};
    std::array<std::atomic<uint64_t>, kBucketsSeconds.size()> buckets{};
  };
  std::string method_;
  std::array<Cell, kCodes> cells_;
};

// Renders everything in the Prometheus text exposition format (version 0.0.4).
class MetricsRegistry {
 public:
  struct GaugeSample {
    std::string labels;  // already formatted, e.g. `state="idle"`; may be empty
    double value;
  };
  using GaugeFn = std::function<std::vector<GaugeSample>()>;

  // The returned pointer lives as long as the registry.
  MethodMetrics* RegisterMethod(const std::string& method);
  void RegisterGauge(std::string name, std::string help, GaugeFn fn);
  std::string RenderPrometheus() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MethodMetrics>> methods_;
  struct Gauge {
    std::string name, help;
    GaugeFn fn;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace cpts::platform
