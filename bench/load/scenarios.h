#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/load_generator.h"

namespace cpts::bench {

// Parameters of a scenario, from `cpts-load --param key=value,...`.
using ScenarioParams = std::map<std::string, std::string, std::less<>>;

// Builds a scenario from its parameters: prepares (serializes) its requests up front.
// InvalidArgument for a missing or bad parameter.
using ScenarioFactory = std::function<absl::StatusOr<Scenario>(const ScenarioParams& params)>;

// The named scenarios cpts-load knows. A service makes its RPCs loadable by writing a
// `void Register<Svc>Scenarios(ScenarioRegistry&)` beside its bench code and calling it from
// bench/load/main.cc; registration is explicit (no static initializers, which a static library
// would drop).
class ScenarioRegistry {
 public:
  // `help` lists the parameters. Replaces an existing entry of the same name.
  void Add(std::string name, std::string help, ScenarioFactory factory);
  // NotFound for an unknown name; else what the factory returns.
  absl::StatusOr<Scenario> Make(std::string_view name, const ScenarioParams& params) const;
  // One line per scenario: "name: help".
  std::string Help() const;

 private:
  struct Entry {
    std::string help;
    ScenarioFactory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// Parameter helpers for factories: the value, or `fallback` when absent; InvalidArgument when
// present but malformed.
absl::StatusOr<int64_t> IntParam(const ScenarioParams& params, std::string_view key,
                                 int64_t fallback);
std::string StringParam(const ScenarioParams& params, std::string_view key,
                        std::string_view fallback = "");

// Built in: "raw" calls any unary method with one request read from a file of serialized
// bytes (e.g. `protoc --encode=pkg.Req file.proto < req.txt > req.bin`), no message type needed.
void RegisterRawScenario(ScenarioRegistry& registry);

}  // namespace cpts::bench
