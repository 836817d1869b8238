#include "services/finance/csv.h"

#include "absl/strings/ascii.h"

namespace cpts::finance {
namespace {

bool LooksNumeric(absl::string_view v) {
  if (v.empty()) return false;
  std::size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
  if (i == v.size()) return false;
  bool digit = false;
  for (; i < v.size(); ++i) {
    if (absl::ascii_isdigit(v[i])) {
      digit = true;
    } else if (v[i] != '.') {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::string CsvField(absl::string_view value) {
  std::string v;
  if (!value.empty() &&
      (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
       value[0] == '\t' || value[0] == '\r') &&
      !LooksNumeric(value)) {
    v.push_back('\'');
  }
  v.append(value.data(), value.size());
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += CsvField(fields[i]);
  }
  out += "\r\n";
  return out;
}

}  // namespace cpts::finance
