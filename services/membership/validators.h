#pragma once

// Field validators and normalisers of the membership domain. Each takes the field path the
// caller wants named in the error (e.g. "member.practice_places[1].commune_insee") and returns
// InvalidArgument("<field>: <what is wrong>"). Pure functions: no I/O, no clock.

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cpts::membership {

// InvalidArgument("<field>: <problem>"): the one shape of every validation error.
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// The Luhn check digit (0..9) that completes `digits` (all characters '0'..'9'). Used for RPPS
// numbers: the 11th digit is LuhnCheckDigit(first 10 digits).
int LuhnCheckDigit(absl::string_view digits);

// RPPS: exactly 11 ASCII digits whose Luhn checksum over all 11 digits is valid.
absl::Status ValidateRpps(absl::string_view rpps, absl::string_view field);

// INSEE commune code: 5 characters. Metropolitan departments 01-19 and 21-95, or "2A"/"2B"
// (Corsica), followed by a 3-digit commune number; or an overseas department 971-976
// followed by 2 digits. The commune number is never all zeros ("75000" is a postcode, not a
// commune). "00xxx", "20xxx" (pre-1976 Corsica) and 96-99 are refused.
absl::Status ValidateInseeCommune(absl::string_view code, absl::string_view field);

// FINESS number: 9 characters, all digits, or "2A"/"2B" followed by 7 digits.
absl::Status ValidateFiness(absl::string_view finess, absl::string_view field);

// Normalises a phone number to E.164.
// Accepted: French national numbers ("06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78")
// -> "+33612345678" (overseas departments' national numbers get their own country code, e.g.
// "0690 12 34 56" -> "+590690123456"); "+33 6 12 34 56 78", "0033 6 12 34 56 78",
// "+33 (0)6 12 34 56 78"; any other country when written "+<8 to 15 digits>" or
// "00<8 to 15 digits>". A French number is +33 followed by 9 digits not starting with 0.
// Separators allowed: spaces, dots, dashes, slashes, parentheses.
absl::StatusOr<std::string> NormalizePhone(absl::string_view input, absl::string_view field);

// Validates an email address (a pragmatic subset of RFC 5322: dot-atom local part of at most
// 64 characters, a domain of at least two DNS labels with an alphabetic top-level label,
// at most 254 characters in all; ASCII only) and returns it trimmed, with the domain in lower
// case.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view input, absl::string_view field);

// A person's or organisation's name: trimmed, runs of white space collapsed to one space,
// non-empty, at most `max_chars` characters (code points), valid UTF-8, no control
// characters.
absl::StatusOr<std::string> NormalizeName(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars = 100);

// Free text (reasons, labels, references, messages): trimmed, valid UTF-8, at most
// `max_chars` characters, no control characters except (when `multiline`) newlines and tabs.
// Empty is refused when `required`.
absl::StatusOr<std::string> NormalizeText(absl::string_view input, absl::string_view field,
                                          std::size_t max_chars, bool required,
                                          bool multiline = false);

// Profession code: 2 to 64 characters of A-Z, 0-9 and '_', starting with a letter.
absl::Status ValidateProfessionCode(absl::string_view code, absl::string_view field);

// Idempotency key: 1 to 128 printable ASCII characters.
absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field);

// Resource id sent by a client: 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'. Anything
// else cannot name a resource, so it is refused before any lookup.
absl::Status ValidateResourceId(absl::string_view id, absl::string_view field);

// Folds a name for sorting and prefix search: lower case, common Latin accents removed
// ("É" -> "e", "Œ" -> "oe", "ß" -> "ss"), white space collapsed. Characters it does not
// know are kept as they are.
std::string FoldForSearch(absl::string_view text);

// Number of code points of valid UTF-8 `text`.
std::size_t Utf8Length(absl::string_view text);

}  // namespace cpts::membership
