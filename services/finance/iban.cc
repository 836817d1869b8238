#include "services/finance/iban.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/finance/validators.h"

namespace cpts::finance {
namespace {

struct CountryLength {
  const char* code;
  int length;
};

// ECBS / SWIFT IBAN registry lengths.
constexpr CountryLength kLengths[] = {
    {"AD", 24}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"CH", 21}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DK", 18}, {"EE", 20}, {"ES", 24}, {"FI", 18}, {"FR", 27}, {"GB", 22}, {"GI", 23}, {"GR", 27},
    {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IS", 26}, {"IT", 27}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"MC", 27}, {"MT", 31}, {"NL", 18}, {"NO", 15}, {"PL", 28}, {"PT", 25}, {"RO", 24},
    {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"VA", 22},
};

bool IsUpperAlnum(char c) { return absl::ascii_isdigit(c) || absl::ascii_isupper(c); }

// Folds the characters of `s` into a running mod-97 remainder.
int Fold(int rem, absl::string_view s) {
  for (char c : s) {
    if (absl::ascii_isdigit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (absl::ascii_isupper(c)) {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    } else {
      return -1;
    }
  }
  return rem;
}

}  // namespace

int IbanLengthForCountry(absl::string_view country_code) {
  for (const CountryLength& cl : kLengths) {
    if (country_code == cl.code) return cl.length;
  }
  return 0;
}

int IbanMod97(absl::string_view iban) {
  if (iban.size() < 4) return -1;
  const int rem = Fold(0, iban.substr(4));
  if (rem < 0) return -1;
  return Fold(rem, iban.substr(0, 4));
}

std::string IbanCheckDigits(absl::string_view country_code, absl::string_view bban) {
  const int rem = IbanMod97(absl::StrCat(country_code, "00", bban));
  if (rem < 0) return "";
  const int check = 98 - rem;
  return absl::StrCat(check / 10, check % 10);
}

absl::StatusOr<std::string> NormalizeIban(absl::string_view input, absl::string_view field) {
  std::string iban;
  iban.reserve(input.size());
  for (char c : input) {
    if (c == ' ') continue;
    iban.push_back(absl::ascii_toupper(c));
  }
  if (iban.size() < 5) return FieldError(field, "too short for an IBAN");
  const absl::string_view country = absl::string_view(iban).substr(0, 2);
  if (!absl::ascii_isupper(country[0]) || !absl::ascii_isupper(country[1])) {
    return FieldError(field, "must start with a two-letter country code");
  }
  const int expected = IbanLengthForCountry(country);
  if (expected == 0) return FieldError(field, absl::StrCat("unknown IBAN country ", country));
  if (static_cast<int>(iban.size()) != expected) {
    return FieldError(field, absl::StrCat("a ", country, " IBAN has ", expected,
                                          " characters, not ", iban.size()));
  }
  if (!absl::ascii_isdigit(iban[2]) || !absl::ascii_isdigit(iban[3])) {
    return FieldError(field, "check digits must be digits");
  }
  const int check = (iban[2] - '0') * 10 + (iban[3] - '0');
  if (check < 2 || check > 98) return FieldError(field, "check digits must be 02 to 98");
  for (std::size_t i = 4; i < iban.size(); ++i) {
    if (!IsUpperAlnum(iban[i])) return FieldError(field, "must be letters and digits only");
  }
  if (IbanMod97(iban) != 1) return FieldError(field, "checksum does not match");
  return iban;
}

absl::StatusOr<std::string> NormalizeBic(absl::string_view input, absl::string_view field) {
  std::string bic = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(input));
  if (bic.size() != 8 && bic.size() != 11) {
    return FieldError(field, "a BIC has 8 or 11 characters");
  }
  for (std::size_t i = 0; i < bic.size(); ++i) {
    const char c = bic[i];
    const bool ok = i < 6 ? absl::ascii_isupper(c) : IsUpperAlnum(c);
    if (!ok) {
      return FieldError(field, i < 6 ? "institution and country codes are letters"
                                     : "location and branch codes are letters and digits");
    }
  }
  if (IbanLengthForCountry(absl::string_view(bic).substr(4, 2)) == 0) {
    return FieldError(field, absl::StrCat("unknown country ", bic.substr(4, 2)));
  }
  return bic;
}

}  // namespace cpts::finance
