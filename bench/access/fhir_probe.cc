// cpts-bench-fhir-probe: latency of the SAS FHIR slot search of the access server (GET
// /fhir/Slot), one request at a time over one keep-alive connection: `requests` searches of
// 25 professionals (RPPS of the data generator's GPs, groups of 25 in turn) over a window of
// `hours` from `from`. Prints one JSON line: count, statuses, p50/p90/p99/max in ms, and the
// bytes and entries of the first answer.
//
//   cpts-bench-fhir-probe --port=8054 --bearer_token_file=sas.jwt --from=1796083200

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Host of the FHIR endpoint.");
ABSL_FLAG(int, port, 8054, "Port of the FHIR endpoint.");
ABSL_FLAG(std::string, bearer_token_file, "", "JWT of a sas_regulator or service caller.");
ABSL_FLAG(int, requests, 500, "Measured requests.");
ABSL_FLAG(int, warmup, 20, "Requests before the measured ones, not counted.");
ABSL_FLAG(int, gps, 200, "GPs of the data generator (RPPS numbers 0..gps-1).");
ABSL_FLAG(int, per_request, 25, "Professionals per request.");
ABSL_FLAG(int64_t, from, 0, "Required. Window start, Unix seconds.");
ABSL_FLAG(int, hours, 72, "Window length.");

namespace {

// The data generator's RPPS numbers (bench/access/data_gen.cc: Rpps(700000 + gp)).
std::string Rpps(int seed) {
  const std::string digits = absl::StrCat(1000000000 + seed);
  int sum = 0;
  for (int i = static_cast<int>(digits.size()) - 1, k = 0; i >= 0; --i, ++k) {
    int d = digits[static_cast<size_t>(i)] - '0';
    if (k % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string token;
  {
    std::ifstream in(absl::GetFlag(FLAGS_bearer_token_file));
    std::stringstream buffer;
    buffer << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(buffer.str()));
  }
  const int64_t from = absl::GetFlag(FLAGS_from);
  const int gps = absl::GetFlag(FLAGS_gps);
  const int per = absl::GetFlag(FLAGS_per_request);
  if (from <= 0 || gps < per || per < 1) {
    std::fprintf(stderr, "cpts-bench-fhir-probe: --from required, gps >= per_request >= 1\n");
    return 2;
  }
  const absl::Time t0 = absl::FromUnixSeconds(from);
  const absl::Time t1 = t0 + absl::Hours(absl::GetFlag(FLAGS_hours));
  const auto fmt = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
  };
  // One path per group of `per` GPs, in turn.
  std::vector<std::string> paths;
  for (int g = 0; g + per <= gps; g += per) {
    std::vector<std::string> ids;
    for (int i = g; i < g + per; ++i) {
      ids.push_back(absl::StrCat("urn:oid:1.2.250.1.71.4.2.1%7C8", Rpps(700000 + i)));
    }
    paths.push_back(absl::StrCat("/fhir/Slot?start=ge", fmt(t0), "&start=le", fmt(t1),
                                 "&schedule.actor:Practitioner.identifier=",
                                 absl::StrJoin(ids, ","), "&status=free&_count=1000"));
  }
  httplib::Client client(absl::GetFlag(FLAGS_host), absl::GetFlag(FLAGS_port));
  client.set_keep_alive(true);
  client.set_read_timeout(30, 0);
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  std::map<int, int> statuses;
  std::vector<double> ms;
  size_t first_bytes = 0;
  size_t first_entries = 0;
  const int warmup = absl::GetFlag(FLAGS_warmup);
  const int total = warmup + absl::GetFlag(FLAGS_requests);
  for (int i = 0; i < total; ++i) {
    const std::string& path = paths[static_cast<size_t>(i) % paths.size()];
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Get(path, headers);
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const int status = res ? res->status : -1;
    if (i == 0 && res) {
      first_bytes = res->body.size();
      size_t pos = 0;
      while ((pos = res->body.find("\"resourceType\":\"Slot\"", pos)) != std::string::npos) {
        ++first_entries;
        ++pos;
      }
      if (status != 200) std::fprintf(stderr, "%s\n", res->body.substr(0, 2000).c_str());
    }
    if (i < warmup) continue;
    ++statuses[status];
    ms.push_back(elapsed);
  }
  std::vector<std::string> st;
  st.reserve(statuses.size());
  for (const auto& [k, v] : statuses) st.push_back(absl::StrCat("\"", k, "\":", v));
  double sum = 0;
  for (const double m : ms) sum += m;
  std::printf(
      "{\"scenario\":\"fhir.slot_search\",\"professionals\":%d,\"hours\":%d,\"requests\":%zu,"
      "\"statuses\":{%s},\"mean_ms\":%.2f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
      "\"max_ms\":%.2f,\"first_response_bytes\":%zu,\"first_response_slots\":%zu}\n",
      per, absl::GetFlag(FLAGS_hours), ms.size(), absl::StrJoin(st, ",").c_str(),
      ms.empty() ? 0 : sum / static_cast<double>(ms.size()), Percentile(ms, 0.5),
      Percentile(ms, 0.9), Percentile(ms, 0.99), Percentile(ms, 1.0), first_bytes, first_entries);
  return statuses[200] == static_cast<int>(ms.size()) ? 0 : 1;
}
