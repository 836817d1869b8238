#include "services/membership/validators.h"

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace cpts::membership {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Decodes one UTF-8 code point at `i`, advancing `i`. Rejects overlong forms, surrogates and
// values above U+10FFFF.
bool DecodeUtf8(absl::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (i + len > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// C0 and C1 controls, DEL, line/paragraph separators and the bidirectional overrides and
// isolates (which can make a name display differently from what is stored).
bool IsControl(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool IsSpace(char32_t cp) { return cp == ' ' || cp == 0xA0 || cp == 0x202F; }

// Common to NormalizeName and NormalizeText.
absl::StatusOr<std::string> CleanText(absl::string_view input, absl::string_view field,
                                      std::size_t max_chars, bool required, bool multiline,
                                      bool collapse_spaces) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(input);
  if (trimmed.empty()) {
    if (required) return FieldError(field, "must not be empty");
    return std::string();
  }
  std::string out;
  out.reserve(trimmed.size());
  std::size_t chars = 0;
  bool pending_space = false;
  for (std::size_t i = 0; i < trimmed.size();) {
    char32_t cp = 0;
    if (!DecodeUtf8(trimmed, i, cp)) return FieldError(field, "is not valid UTF-8");
    const bool allowed_control = multiline && (cp == '\n' || cp == '\t' || cp == '\r');
    if (IsControl(cp) && !allowed_control) {
      return FieldError(field, "must not contain control characters");
    }
    if (collapse_spaces && IsSpace(cp)) {
      pending_space = true;
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      ++chars;
      pending_space = false;
    }
    AppendUtf8(out, cp);
    ++chars;
  }
  if (chars > max_chars) {
    return FieldError(field, absl::StrCat("must be at most ", max_chars, " characters"));
  }
  return out;
}

// Overseas departments keep their own country codes in E.164 even though their national
// numbers look French ("0690 ..." is Guadeloupe, +590 690 ...). Keyed by the three digits
// after the national 0.
absl::string_view OverseasCountryCode(absl::string_view three) {
  struct Prefix {
    absl::string_view national;
    absl::string_view country;
  };
  static constexpr std::array<Prefix, 14> kPrefixes = {{
      {"590", "590"},
      {"690", "590"},
      {"691", "590"},  // Guadeloupe, St-Martin, St-Barth
      {"594", "594"},
      {"694", "594"},  // Guyane
      {"596", "596"},
      {"696", "596"},
      {"697", "596"},  // Martinique
      {"262", "262"},
      {"263", "262"},
      {"692", "262"},  // La Réunion
      {"693", "262"},
      {"269", "262"},
      {"639", "262"},  // La Réunion, Mayotte
  }};
  for (const auto& p : kPrefixes) {
    if (p.national == three) return p.country;
  }
  if (three == "508") return "508";  // Saint-Pierre-et-Miquelon
  return {};
}

bool IsLocalPartChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  static constexpr absl::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-.";
  return kSpecials.find(c) != absl::string_view::npos;
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

int LuhnCheckDigit(absl::string_view digits) {
  // Double every second digit starting with the rightmost one of `digits` (it sits left of
  // the check digit).
  int sum = 0;
  bool dbl = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return (10 - sum % 10) % 10;
}

absl::Status ValidateRpps(absl::string_view rpps, absl::string_view field) {
  if (rpps.size() != 11 || !AllDigits(rpps)) {
    return FieldError(field, "must be exactly 11 digits");
  }
  if (LuhnCheckDigit(rpps.substr(0, 10)) != rpps[10] - '0') {
    return FieldError(field, "check digit does not match");
  }
  return absl::OkStatus();
}

absl::Status ValidateInseeCommune(absl::string_view code, absl::string_view field) {
  if (code.size() != 5) return FieldError(field, "must be 5 characters (INSEE commune code)");
  absl::string_view commune;
  if (code.substr(0, 2) == "2A" || code.substr(0, 2) == "2B") {
    commune = code.substr(2);
  } else {
    if (!IsDigit(code[0]) || !IsDigit(code[1])) {
      return FieldError(field, "must start with a department: 2 digits, 2A or 2B");
    }
    const int dept = (code[0] - '0') * 10 + (code[1] - '0');
    if (dept == 97) {
      if (code[2] < '1' || code[2] > '6') {
        return FieldError(field, "overseas departments are 971 to 976");
      }
      commune = code.substr(3);
    } else if (dept == 0 || dept == 20 || dept > 95) {
      return FieldError(field, absl::StrCat("department ", code.substr(0, 2), " does not exist"));
    } else {
      commune = code.substr(2);
    }
  }
  if (!AllDigits(commune)) return FieldError(field, "commune number must be digits");
  if (commune.find_first_not_of('0') == absl::string_view::npos) {
    return FieldError(field, "commune number must not be zero (is this a postcode?)");
  }
  return absl::OkStatus();
}

absl::Status ValidateFiness(absl::string_view finess, absl::string_view field) {
  if (finess.size() != 9) return FieldError(field, "must be 9 characters (FINESS number)");
  absl::string_view rest = finess;
  if (finess.substr(0, 2) == "2A" || finess.substr(0, 2) == "2B") rest = finess.substr(2);
  if (!AllDigits(rest)) return FieldError(field, "must be digits, or 2A/2B followed by digits");
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizePhone(absl::string_view input, absl::string_view field) {
  std::string s(absl::StripAsciiWhitespace(input));
  if (s.empty()) return FieldError(field, "must not be empty");
  // "+33 (0)6 ..." : the (0) is the national prefix written for readers, not dialled.
  for (std::size_t pos; (pos = s.find("(0)")) != std::string::npos;) s.erase(pos, 3);
  bool plus = false;
  std::string digits;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && i == 0) {
      plus = true;
    } else if (IsDigit(c)) {
      digits.push_back(c);
    } else if (c == ' ' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')') {
      continue;
    } else {
      return FieldError(field, "is not a phone number (unexpected character)");
    }
  }
  if (digits.size() > 20) return FieldError(field, "is not a phone number (too long)");
  std::string international;
  if (plus) {
    international = digits;
  } else if (absl::StartsWith(digits, "00")) {
    international = digits.substr(2);
  } else if (absl::StartsWith(digits, "0")) {
    if (digits.size() != 10 || digits[1] == '0') {
      return FieldError(field, "a French number has 10 digits starting with 0 (0X XX XX XX XX)");
    }
    const absl::string_view overseas = OverseasCountryCode(absl::string_view(digits).substr(1, 3));
    if (!overseas.empty()) return absl::StrCat("+", overseas, digits.substr(1));
    return absl::StrCat("+33", digits.substr(1));
  } else {
    return FieldError(field, "must be a French number (0X XX XX XX XX) or start with + or 00");
  }
  if (absl::StartsWith(international, "33")) {
    const std::string national = international.substr(2);
    if (national.size() != 9 || national[0] == '0') {
      return FieldError(field, "+33 must be followed by 9 digits not starting with 0");
    }
    return absl::StrCat("+33", national);
  }
  if (international.size() < 8 || international.size() > 15 || international[0] == '0') {
    return FieldError(field, "an international number has 8 to 15 digits after the +");
  }
  return absl::StrCat("+", international);
}

absl::StatusOr<std::string> NormalizeEmail(absl::string_view input, absl::string_view field) {
  const absl::string_view s = absl::StripAsciiWhitespace(input);
  if (s.empty()) return FieldError(field, "must not be empty");
  if (s.size() > 254) return FieldError(field, "must be at most 254 characters");
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E) {
      return FieldError(field, "must contain only printable ASCII characters, no spaces");
    }
  }
  const std::size_t at = s.find('@');
  if (at == absl::string_view::npos || s.find('@', at + 1) != absl::string_view::npos) {
    return FieldError(field, "must contain exactly one '@'");
  }
  const absl::string_view local = s.substr(0, at);
  const std::string domain = absl::AsciiStrToLower(s.substr(at + 1));
  if (local.empty() || local.size() > 64) {
    return FieldError(field, "the part before '@' must be 1 to 64 characters");
  }
  for (char c : local) {
    if (!IsLocalPartChar(c)) {
      return FieldError(field, "the part before '@' contains a character that is not allowed");
    }
  }
  if (local.front() == '.' || local.back() == '.' || absl::StrContains(local, "..")) {
    return FieldError(field, "the part before '@' has a misplaced dot");
  }
  if (domain.empty() || domain.size() > 253) {
    return FieldError(field, "the domain must be 1 to 253 characters");
  }
  const std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) return FieldError(field, "the domain must contain a dot");
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63) {
      return FieldError(field, "each part of the domain must be 1 to 63 characters");
    }
    if (label.front() == '-' || label.back() == '-') {
      return FieldError(field, "a part of the domain starts or ends with '-'");
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return FieldError(field, "the domain may contain only letters, digits, '-' and '.'");
      }
    }
  }
  const absl::string_view tld = labels.back();
  bool alphabetic = true;
  for (char c : tld) alphabetic = alphabetic && absl::ascii_isalpha(static_cast<unsigned char>(c));
  if (!absl::StartsWith(tld, "xn--") && (tld.size() < 2 || !alphabetic)) {
    return FieldError(field, "the domain must end with a top-level domain such as .fr");
  }
  return absl::StrCat(local, "@", domain);
}

absl::StatusOr<std::string> NormalizeName(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars) {
  return CleanText(input, field, max_chars, /*required=*/true, /*multiline=*/false,
                   /*collapse_spaces=*/true);
}

absl::StatusOr<std::string> NormalizeText(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars, bool required, bool multiline) {
  return CleanText(input, field, max_chars, required, multiline, /*collapse_spaces=*/false);
}

absl::Status ValidateProfessionCode(absl::string_view code, absl::string_view field) {
  if (code.size() < 2 || code.size() > 64) return FieldError(field, "must be 2 to 64 characters");
  if (code[0] < 'A' || code[0] > 'Z') return FieldError(field, "must start with a letter A-Z");
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_')) {
      return FieldError(field, "may contain only A-Z, 0-9 and '_'");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.empty() || request_id.size() > 128) {
    return FieldError(field, "must be 1 to 128 characters");
  }
  for (char c : request_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E) return FieldError(field, "must be printable ASCII, no spaces");
  }
  return absl::OkStatus();
}

absl::Status ValidateResourceId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return FieldError(field, "must not be empty");
  if (id.size() > 64) return FieldError(field, "must be at most 64 characters");
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return FieldError(field, "is not a valid id");
    }
  }
  return absl::OkStatus();
}

std::string FoldForSearch(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    if (!DecodeUtf8(text, i, cp)) {
      ++i;  // invalid input never reaches storage; be total anyway
      continue;
    }
    if (IsSpace(cp) || cp == '\t' || cp == '\n' || cp == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    if (cp < 0x80) {
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(cp)));
      continue;
    }
    // Latin-1 supplement and the French letters of Latin Extended-A.
    static constexpr absl::string_view kLatin1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};
    if (cp >= 0xC0 && cp <= 0xFF && !kLatin1[cp - 0xC0].empty()) {
      absl::StrAppend(&out, kLatin1[cp - 0xC0]);
    } else if (cp == 0x152 || cp == 0x153) {
      out.append("oe");
    } else if (cp == 0x178) {
      out.append("y");
    } else if (cp == 0x2019 || cp == 0x2018 || cp == 0x2BC) {
      out.push_back('\'');
    } else {
      AppendUtf8(out, cp);
    }
  }
  return out;
}

std::size_t Utf8Length(absl::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    if (!DecodeUtf8(text, i, cp)) ++i;
    ++n;
  }
  return n;
}

}  // namespace cpts::membership
