#include "services/platform/server/logging.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/platform/core/json.h"

namespace cpts::platform {

void Log(Severity severity, std::string_view message, const LogFields& fields) {
  std::string line;
  line.reserve(256);
  line += "{\"ts\":";
  AppendJsonString(line,
                   absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  line += ",\"level\":";
  switch (severity) {
    case Severity::kInfo:
      line += "\"info\"";
      break;
    case Severity::kWarning:
      line += "\"warning\"";
      break;
    case Severity::kError:
      line += "\"error\"";
      break;
  }
  line += ",\"msg\":";
  AppendJsonString(line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    AppendJsonString(line, key);
    line.push_back(':');
    AppendJsonString(line, value);
  }
  line += "}\n";
  // One write per line under a lock keeps lines whole when many threads log at once.
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace cpts::platform
