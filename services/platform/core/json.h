#pragma once

#include <string>
#include <string_view>

namespace cpts::platform {

// Appends `value` to `out` as a JSON string literal, quotes included. The one JSON escaper of
// the code base (logs, tokens, audit details).
void AppendJsonString(std::string& out, std::string_view value);

inline std::string JsonQuote(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  AppendJsonString(out, value);
  return out;
}

}  // namespace cpts::platform
