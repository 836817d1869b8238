// cpts-load: closed-loop gRPC load generator. Prints a summary on stderr and one JSON line on
// stdout (see ToJson in load_generator.h).
//
//   cpts-load --target=127.0.0.1:50051 --scenario=bench.point_read --concurrency=32
//       --channels=4 --warmup=3s --duration=10s --bearer_token_file=token.jwt
//   cpts-load --target=... --scenario=raw
//       --param=method=/cpts.bench.v1.BenchService/PointRead,request_file=req.bin

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "bench/access/access_scenarios.h"
#include "bench/load/bench_scenarios.h"
#include "bench/load/load_generator.h"
#include "bench/load/scenarios.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Server address host:port.");
ABSL_FLAG(std::string, scenario, "", "Scenario name (--scenario=list shows them).");
ABSL_FLAG(std::vector<std::string>, param, {}, "Scenario parameters key=value,key=value.");
ABSL_FLAG(int, concurrency, 8, "Outstanding calls (closed loop).");
ABSL_FLAG(int, channels, 4, "HTTP/2 connections.");
ABSL_FLAG(int, threads, 1, "Generator threads, each with its own completion queue.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(3), "Warm-up, not counted.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured window.");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(5), "Deadline of each call.");
ABSL_FLAG(std::string, bearer_token_file, "",
          "File holding a JWT sent as `authorization: Bearer <jwt>` on every call.");
ABSL_FLAG(std::vector<std::string>, metadata, {}, "Extra metadata key=value,key=value.");
ABSL_FLAG(std::vector<std::string>, watch_pid, {},
          "label=pid,...: report these local processes' CPU time over the measured window.");
ABSL_FLAG(std::vector<std::string>, tag, {},
          "key=value,...: copied into the JSON line as string fields (e.g. mode=raw_sync).");

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

int Usage(const std::string& message) {
  std::fprintf(stderr, "cpts-load: %s\n", message.c_str());
  return kExitUsage;
}

// "key=value" pairs; false on an item without '='.
bool SplitPairs(const std::vector<std::string>& items,
                std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    out->emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return true;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Closed-loop gRPC load generator (see bench/load/main.cc).");
  absl::ParseCommandLine(argc, argv);

  cpts::bench::ScenarioRegistry registry;
  cpts::bench::RegisterRawScenario(registry);
  cpts::bench::RegisterBenchScenarios(registry);
  // Services register their scenarios here.
  cpts::bench::RegisterAccessScenarios(registry);

  const std::string name = absl::GetFlag(FLAGS_scenario);
  if (name.empty() || name == "list") {
    std::fprintf(stderr, "scenarios:\n%s", registry.Help().c_str());
    return name.empty() ? kExitUsage : 0;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!SplitPairs(absl::GetFlag(FLAGS_param), &pairs)) return Usage("--param takes key=value");
  cpts::bench::ScenarioParams params(pairs.begin(), pairs.end());
  absl::StatusOr<cpts::bench::Scenario> scenario = registry.Make(name, params);
  if (!scenario.ok()) return Usage(std::string(scenario.status().message()));

  pairs.clear();
  if (!SplitPairs(absl::GetFlag(FLAGS_metadata), &pairs))
    return Usage("--metadata takes key=value");
  for (auto& p : pairs) scenario->metadata.push_back(std::move(p));
  if (const std::string file = absl::GetFlag(FLAGS_bearer_token_file); !file.empty()) {
    std::ifstream in(file);
    if (!in) return Usage(absl::StrCat("cannot read ", file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    scenario->metadata.push_back(
        cpts::bench::BearerAuthorization(std::string(absl::StripAsciiWhitespace(buffer.str()))));
  }

  cpts::bench::LoadOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.call_timeout = absl::GetFlag(FLAGS_call_timeout);
  pairs.clear();
  if (!SplitPairs(absl::GetFlag(FLAGS_watch_pid), &pairs)) return Usage("--watch_pid: label=pid");
  for (const auto& [label, pid_text] : pairs) {
    int pid = 0;
    if (!absl::SimpleAtoi(pid_text, &pid) || pid <= 0) return Usage("--watch_pid: bad pid");
    options.watch_pids.emplace_back(label, pid);
  }
  std::vector<std::pair<std::string, std::string>> tags;
  if (!SplitPairs(absl::GetFlag(FLAGS_tag), &tags)) return Usage("--tag takes key=value");
  for (auto& [key, value] : tags) value = JsonString(value);

  absl::StatusOr<cpts::bench::LoadResult> result = cpts::bench::RunLoad(options, *scenario);
  if (!result.ok()) {
    std::fprintf(stderr, "cpts-load: %s\n", result.status().ToString().c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "%s", cpts::bench::ToText(*result).c_str());
  std::printf("%s\n", cpts::bench::ToJson(*result, tags).c_str());
  return result->ok > 0 ? 0 : kExitFailed;
}
