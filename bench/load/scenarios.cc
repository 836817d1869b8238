#include "bench/load/scenarios.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cpts::bench {

void ScenarioRegistry::Add(std::string name, std::string help, ScenarioFactory factory) {
  entries_[std::move(name)] = Entry{std::move(help), std::move(factory)};
}

absl::StatusOr<Scenario> ScenarioRegistry::Make(std::string_view name,
                                                const ScenarioParams& params) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(
        absl::StrCat("unknown scenario '", std::string(name), "'; known:\n", Help()));
  }
  absl::StatusOr<Scenario> scenario = it->second.factory(params);
  if (scenario.ok() && scenario->name.empty()) scenario->name = std::string(name);
  return scenario;
}

std::string ScenarioRegistry::Help() const {
  std::string out;
  for (const auto& [name, entry] : entries_)
    absl::StrAppend(&out, "  ", name, ": ", entry.help, "\n");
  return out;
}

absl::StatusOr<int64_t> IntParam(const ScenarioParams& params, std::string_view key,
                                 int64_t fallback) {
  const auto it = params.find(key);
  if (it == params.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter ", std::string(key), " must be an integer"));
  }
  return value;
}

std::string StringParam(const ScenarioParams& params, std::string_view key,
                        std::string_view fallback) {
  const auto it = params.find(key);
  return it == params.end() ? std::string(fallback) : it->second;
}

void RegisterRawScenario(ScenarioRegistry& registry) {
  registry.Add(
      "raw",
      "method=/pkg.Service/Method (required), request_file=<serialized request> (default: empty "
      "request)",
      [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
        Scenario scenario;
        scenario.method = StringParam(params, "method");
        if (scenario.method.empty() || scenario.method[0] != '/') {
          return absl::InvalidArgumentError("raw: method=/package.Service/Method is required");
        }
        std::string bytes;
        if (const std::string file = StringParam(params, "request_file"); !file.empty()) {
          std::ifstream in(file, std::ios::binary);
          if (!in) return absl::InvalidArgumentError(absl::StrCat("raw: cannot read ", file));
          std::stringstream buffer;
          buffer << in.rdbuf();
          bytes = buffer.str();
        }
        grpc::Slice slice(bytes);
        scenario.request = RoundRobin({grpc::ByteBuffer(&slice, 1)});
        return scenario;
      });
}

}  // namespace cpts::bench
