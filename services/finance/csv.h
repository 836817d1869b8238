#pragma once

// CSV for the accountant and the ACI report (RFC 4180: comma-separated, CRLF line ends,
// fields quoted when needed).

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cpts::finance {

// One field: quoted (inner quotes doubled) when it holds a comma, a quote, CR or LF. A field
// starting with '=', '+', '-', '@', TAB or CR that is not a number is prefixed with a quote
// character so a spreadsheet does not run it as a formula.
std::string CsvField(absl::string_view value);

// One line of fields, ending with CRLF.
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace cpts::finance
