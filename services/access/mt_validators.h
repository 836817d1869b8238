#pragma once

// Validation and normalisation of the inputs of the MT RPCs. Each check names the field as
// in the proto request ("mt_request.patient.birth_date", "gp_capacity.communes[2]") and
// returns InvalidArgument("<field>: <what is wrong>"); the one exception is the missing
// consent of SubmitMtRequest, FailedPrecondition("mt_request.consent: ..."). Pure functions:
// "now" and "today" are parameters.
//
// The generic validators (names, free text, INSEE communes, phone, email, request ids, ids)
// are membership's (services/membership/validators.h); they belong in a shared place.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/mt_model.h"
#include "services/access/territory_communes.h"

namespace cpts::access {

inline constexpr std::size_t kMaxPatientNameChars = 100;
inline constexpr std::size_t kMaxNotesChars = 2000;
inline constexpr std::size_t kMaxOriginDetailChars = 200;
inline constexpr std::size_t kMaxSynthesisChars = 2000;
inline constexpr std::size_t kMaxReasonChars = 500;
inline constexpr int kMaxPatientAgeYears = 120;
// How far in the future a consent time may be, for clocks that disagree a little.
inline constexpr absl::Duration kConsentClockSkew = absl::Minutes(5);

inline constexpr int kMaxGpDeclaredCount = 500;
inline constexpr std::size_t kMaxGpCommunes = 50;
// A declaration is valid at most this many days ahead.
inline constexpr int kMaxGpValidityDays = 366;

inline constexpr int kDefaultMtPageSize = 50;
inline constexpr int kMaxMtPageSize = 500;
inline constexpr int kDefaultMaxSuggestions = 5;
inline constexpr int kMaxMaxSuggestions = 50;
inline constexpr int kMaxPeriodDays = 366;

// A calendar date from its proto fields (cpts.common.v1.Date): InvalidArgument when unset
// (0-0-0), out of range or impossible (2025-02-30).
absl::StatusOr<absl::CivilDay> ParseDate(int64_t year, int month, int day, absl::string_view field);

// A birth date: a date that is not after `today` and not more than 120 years before it.
absl::Status ValidateBirthDate(absl::CivilDay birth_date, absl::CivilDay today,
                               absl::string_view field);

// Validates and normalises, in place, the submitted fields of `request` (SubmitMtRequest),
// named under "mt_request.":
//   patient.given_name, patient.family_name   trimmed, white space collapsed, 1 to 100
//                                             characters, valid UTF-8, no control characters
//   patient.birth_date                        ValidateBirthDate
//   commune_insee                             trimmed, upper-cased ("2a004" -> "2A004"), an
//                                             INSEE commune code
//   contact.phone                             optional; normalised to E.164
//   contact.email                             optional; trimmed, domain in lower case
//   contact                                   at least one of phone and email
//   fragility.notes                           optional; trimmed, at most 2000 characters,
//                                             newlines and tabs allowed, no other control
//   origin                                    set
//   origin_detail                             optional; at most 200 characters, one line
//   consent.consent_time                      optional (InfinitePast() = unset); from 2000
//                                             on, at most 5 minutes after `now`
//   consent.granted                           true, else FailedPrecondition, checked last
// Output-only fields are left alone (the workflow sets them). On error `request` may be
// partly normalised; the caller discards it.
absl::Status NormalizeMtSubmission(MtRequest& request, absl::Time now, absl::CivilDay today);

// The idempotency key, when given: 1 to 128 printable ASCII characters.
absl::Status ValidateOptionalRequestId(absl::string_view request_id, absl::string_view field);

// A resource id sent by a client (MT request, GP member): 1 to 64 characters of A-Z, a-z,
// 0-9, '-' and '_'.
absl::Status ValidateId(absl::string_view id, absl::string_view field);

// TriageMtRequest.synthesis: trimmed, 1 to 2000 characters, newlines allowed.
absl::StatusOr<std::string> NormalizeSynthesis(absl::string_view synthesis,
                                               absl::string_view field);

// A reason or note of a workflow step: trimmed, at most 500 characters, one line; empty is
// refused when `required` (DeclineMatch, CloseMtRequest).
absl::StatusOr<std::string> NormalizeReason(absl::string_view reason, absl::string_view field,
                                            bool required);

// Validates and normalises, in place, a GP capacity declaration (DeclareGpCapacity), fields
// named under "gp_capacity.":
//   gp_member_id       an id (the service fills in the caller's when empty)
//   declared_count     0 to 500
//   valid_until        from `today` to `today` + 366 days
//   communes           1 to 50 INSEE codes, trimmed and upper-cased, no duplicates
//   priority_classes   1 to 4, none unspecified, no duplicates; sorted P1..P4
// Output-only fields are left alone.
absl::Status NormalizeGpCapacity(GpCapacity& capacity, absl::CivilDay today);

// An optional commune filter (ListMtQueue.commune_insee, ListGpCapacities.commune_insee):
// empty stays empty; otherwise trimmed, upper-cased and validated as an INSEE commune code.
absl::StatusOr<std::string> NormalizeCommuneFilter(absl::string_view input,
                                                   absl::string_view field);

// UpdateTerritory's communes, fields named "territory.communes[i].<field>":
//   insee_code    trimmed, upper-cased, an INSEE commune code; no two the same
//   name          as NormalizeName: trimmed, white space collapsed, 1 to 100 characters
//   postal_code   trimmed, 5 ASCII digits
// and at most kMaxTerritoryCommunes of them ("territory.communes"). Returns them sorted by
// INSEE code.
absl::StatusOr<std::vector<TerritoryCommune>> NormalizeTerritoryCommunes(
    std::vector<TerritoryCommune> communes);

// Page size of ListMtQueue and ListGpCapacities: negative refused, 0 = 50, larger than 500
// = 500.
absl::StatusOr<int> MtPageSize(int requested, absl::string_view field);

// ProposeMatch.max_suggestions: negative refused, 0 = 5, larger than 50 = 50.
absl::StatusOr<int> MaxSuggestions(int requested, absl::string_view field);

// An indicators period: `end` not before `start`, at most 366 days in all. `field` names the
// period ("period"); the errors name "period.end_date".
absl::Status ValidatePeriod(absl::CivilDay start, absl::CivilDay end, absl::string_view field);

// The text whose keyed hash finds likely duplicates: the same patient (family and given
// names folded for search: case, accents and spacing ignored), the same birth date and the
// same commune. The store keys it with a secret (HMAC) and indexes the hash; the plaintext
// never leaves the process.
std::string MtDuplicateKeyMaterial(const MtRequest& request);

}  // namespace cpts::access
