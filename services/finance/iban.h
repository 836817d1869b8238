#pragma once

// IBAN (ISO 13616) and BIC (ISO 9362) checks for payees' bank accounts.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cpts::finance {

// The IBAN length of a country (SEPA countries and a few neighbours), 0 when unknown.
int IbanLengthForCountry(absl::string_view country_code);

// The remainder modulo 97 of an IBAN's number (the first four characters moved to the end,
// letters as 10..35), computed piecewise so any length works. `iban` is upper-case
// alphanumeric; -1 otherwise.
int IbanMod97(absl::string_view iban);

// The two check digits of an IBAN of `country_code` (two upper-case letters) and `bban`
// (upper-case alphanumeric), e.g. ("FR", "30006000011234567890189") -> "76". Used to build
// synthetic IBANs in tests and fixtures.
std::string IbanCheckDigits(absl::string_view country_code, absl::string_view bban);

// Removes spaces, upper-cases, and checks: country code of two letters with a known length,
// that length, check digits 02..98, alphanumeric BBAN, mod-97 remainder 1. InvalidArgument
// ("<field>: ...") otherwise. Returns the electronic form (no spaces).
absl::StatusOr<std::string> NormalizeIban(absl::string_view input, absl::string_view field);

// Upper-cases and checks a BIC: 4 letters (institution), 2 letters (country), 2 alphanumeric
// characters (location), optionally 3 alphanumeric characters (branch); the country must be
// one of IbanLengthForCountry's (SEPA transfers only). InvalidArgument otherwise.
absl::StatusOr<std::string> NormalizeBic(absl::string_view input, absl::string_view field);

}  // namespace cpts::finance
