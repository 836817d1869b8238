#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpts::platform {

enum class Severity { kInfo, kWarning, kError };

// One structured JSON line per event on stderr, which is what the container runtime collects.
// Fields are written in order; values are escaped. Callers must never pass patient data.
using LogFields = std::vector<std::pair<std::string_view, std::string>>;

void Log(Severity severity, std::string_view message, const LogFields& fields = {});

}  // namespace cpts::platform
