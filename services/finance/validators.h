#pragma once

// Field validators of the finance domain. Each takes the field path the caller wants named in
// the error and returns InvalidArgument("<field>: <what is wrong>"). Pure functions: no I/O,
// no clock.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/finance/model.h"

namespace cpts::finance {

// InvalidArgument("<field>: <problem>"): the one shape of every validation error.
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// Largest amount accepted anywhere (10 million euros), so sums of a year's amounts cannot
// overflow int64 and SEPA's 999999999.99 limit is never reached.
inline constexpr Cents kMaxAmountCents = 1'000'000'000;

// Calendar years the service deals with.
inline constexpr int kMinYear = 2000;
inline constexpr int kMaxYear = 2100;

absl::Status ValidateYear(int year, absl::string_view field);

// 0 <= cents <= kMaxAmountCents (or 1 <= cents when `positive`).
absl::Status ValidateAmount(Cents cents, absl::string_view field, bool positive = false);

// Idempotency key: 1 to 128 printable ASCII characters. Empty is accepted when !required.
absl::Status ValidateRequestId(absl::string_view request_id, bool required,
                               absl::string_view field = "request_id");

// Free text: valid UTF-8, at most `max_chars` code points, no control characters; empty is
// refused when `required`.
absl::Status ValidateText(absl::string_view text, absl::string_view field, int max_chars,
                          bool required);

// A policy version as given by a client (field prefix "policy"): year, kind, and the amounts
// of its kind (référent amounts at least the member amounts); the other kind's amounts must
// be zero so a policy never carries two meanings.
absl::Status ValidatePolicy(const IndemnityPolicy& policy);

// An attendance line as received from projects (field prefix "event"): tenant, key, meeting,
// group, action and participant ids, role, date, sheet version >= 1, minutes 0..1440.
absl::Status ValidateAttendanceLine(const AttendanceLine& line);

// A governance indemnity as requested (the request's field names): member id, work date in
// 2000..2100, amount 1..kMaxAmountCents, a body, a reason of 1..500 characters and a request
// id. The tenant is the caller's and is not checked here.
absl::Status ValidateGovernanceClaim(const GovernanceClaim& claim);

// An expense (field prefix "expense").
absl::Status ValidateExpense(const Expense& expense);

// An ACI contract (field prefix "contract"): duration 1..10 years, size 1..4.
absl::Status ValidateContract(const AciContract& contract);

// An envelope (field prefix "envelope"): functioning has no mission and no variable part, a
// mission envelope names its mission; advance 0..10000 basis points.
absl::Status ValidateEnvelope(const AciEnvelope& envelope);

// An attainment (field prefix "attainment"): weight 1..10000, target > 0, achieved >= 0.
absl::Status ValidateAttainment(const IndicatorAttainment& attainment);

}  // namespace cpts::finance
