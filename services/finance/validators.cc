#include "services/finance/validators.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace cpts::finance {
namespace {

// Counts UTF-8 code points; -1 when `text` is not valid UTF-8 or holds a control character.
int CountCodePoints(absl::string_view text) {
  int count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return -1;
    }
    if (i + len > text.size()) return -1;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return -1;
    i += len;
    ++count;
  }
  return count;
}

bool IsAsciiPrintable(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

absl::Status RequireId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return FieldError(field, "required");
  if (id.size() > 64 || !IsAsciiPrintable(id)) {
    return FieldError(field, "must be 1 to 64 printable ASCII characters");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status ValidateYear(int year, absl::string_view field) {
  if (year < kMinYear || year > kMaxYear) {
    return FieldError(field, absl::StrCat("must be between ", kMinYear, " and ", kMaxYear));
  }
  return absl::OkStatus();
}

absl::Status ValidateAmount(Cents cents, absl::string_view field, bool positive) {
  const Cents min = positive ? 1 : 0;
  if (cents < min || cents > kMaxAmountCents) {
    return FieldError(field,
                      absl::StrCat("must be between ", min, " and ", kMaxAmountCents, " cents"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id, bool required,
                               absl::string_view field) {
  if (request_id.empty()) {
    return required ? FieldError(field, "required") : absl::OkStatus();
  }
  if (request_id.size() > 128 || !IsAsciiPrintable(request_id)) {
    return FieldError(field, "must be 1 to 128 printable ASCII characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view text, absl::string_view field, int max_chars,
                          bool required) {
  if (text.empty()) return required ? FieldError(field, "required") : absl::OkStatus();
  const int n = CountCodePoints(text);
  if (n < 0) return FieldError(field, "must be valid UTF-8 without control characters");
  if (n > max_chars) return FieldError(field, absl::StrCat("at most ", max_chars, " characters"));
  return absl::OkStatus();
}

absl::Status ValidatePolicy(const IndemnityPolicy& p) {
  if (auto s = ValidateYear(p.year, "policy.year"); !s.ok()) return s;
  if (auto s = ValidateText(p.decision_reference, "policy.decision_reference", 200, false);
      !s.ok()) {
    return s;
  }
  switch (p.kind) {
    case PolicyKind::kPerMeeting:
      if (auto s = ValidateAmount(p.member_amount_cents, "policy.member_amount_cents"); !s.ok()) {
        return s;
      }
      if (auto s = ValidateAmount(p.referent_amount_cents, "policy.referent_amount_cents");
          !s.ok()) {
        return s;
      }
      if (p.referent_amount_cents < p.member_amount_cents) {
        return FieldError("policy.referent_amount_cents", "must be at least member_amount_cents");
      }
      if (p.member_millipoints_per_hour != 0 || p.referent_millipoints_per_hour != 0 ||
          p.point_value_cents != 0) {
        return FieldError("policy", "a per-meeting policy has no points");
      }
      return absl::OkStatus();
    case PolicyKind::kPerHourPoints:
      if (p.member_millipoints_per_hour < 1 || p.member_millipoints_per_hour > 1'000'000) {
        return FieldError("policy.member_millipoints_per_hour", "must be between 1 and 1000000");
      }
      if (p.referent_millipoints_per_hour < p.member_millipoints_per_hour ||
          p.referent_millipoints_per_hour > 1'000'000) {
        return FieldError("policy.referent_millipoints_per_hour",
                          "must be between member_millipoints_per_hour and 1000000");
      }
      if (p.point_value_cents < 1 || p.point_value_cents > 100'000'000) {
        return FieldError("policy.point_value_cents", "must be between 1 and 100000000");
      }
      if (p.member_amount_cents != 0 || p.referent_amount_cents != 0) {
        return FieldError("policy", "a per-hour policy has no per-meeting amounts");
      }
      return absl::OkStatus();
    case PolicyKind::kUnspecified:
      break;
  }
  return FieldError("policy.kind", "required");
}

absl::Status ValidateAttendanceLine(const AttendanceLine& l) {
  if (auto s = RequireId(l.tenant_id, "event.tenant_id"); !s.ok()) return s;
  if (auto s = ValidateRequestId(l.idempotency_key, true, "event.idempotency_key"); !s.ok()) {
    return s;
  }
  if (auto s = RequireId(l.meeting_id, "event.meeting_id"); !s.ok()) return s;
  if (auto s = RequireId(l.group_id, "event.group_id"); !s.ok()) return s;
  if (auto s = RequireId(l.action_id, "event.action_id"); !s.ok()) return s;
  if (auto s = RequireId(l.participant_id, "event.participant_id"); !s.ok()) return s;
  if (!l.member_id.empty()) {
    if (auto s = RequireId(l.member_id, "event.member_id"); !s.ok()) return s;
  }
  if (l.role == AttendanceRole::kUnspecified) return FieldError("event.role", "required");
  if (auto s = ValidateYear(static_cast<int>(l.meeting_date.year()), "event.meeting_date");
      !s.ok()) {
    return s;
  }
  if (l.sheet_version < 1) return FieldError("event.sheet_version", "must be at least 1");
  if (l.minutes_worked < 0 || l.minutes_worked > 24 * 60) {
    return FieldError("event.minutes_worked", "must be between 0 and 1440");
  }
  return absl::OkStatus();
}

absl::Status ValidateGovernanceClaim(const GovernanceClaim& c) {
  if (auto s = RequireId(c.member_id, "member_id"); !s.ok()) return s;
  if (auto s = ValidateYear(static_cast<int>(c.work_date.year()), "work_date"); !s.ok()) return s;
  if (auto s = ValidateAmount(c.amount_cents, "amount_cents", true); !s.ok()) return s;
  if (c.body != GovernanceBody::kBureau && c.body != GovernanceBody::kBoard) {
    return FieldError("governance_body", "required: GOVERNANCE_BODY_BUREAU or _BOARD");
  }
  if (auto s = ValidateText(c.reason, "reason", 500, true); !s.ok()) return s;
  return ValidateRequestId(c.request_id, true);
}

absl::Status ValidateExpense(const Expense& e) {
  if (auto s = RequireId(e.action_id, "expense.action_id"); !s.ok()) return s;
  if (e.category == ExpenseCategory::kUnspecified) {
    return FieldError("expense.category", "required");
  }
  if (auto s = ValidateAmount(e.amount_cents, "expense.amount_cents", true); !s.ok()) return s;
  if (auto s = ValidateYear(static_cast<int>(e.expense_date.year()), "expense.expense_date");
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateText(e.supplier, "expense.supplier", 140, true); !s.ok()) return s;
  return ValidateText(e.reference, "expense.reference", 100, false);
}

absl::Status ValidateContract(const AciContract& c) {
  if (auto s = ValidateYear(static_cast<int>(c.signature_date.year()), "contract.signature_date");
      !s.ok()) {
    return s;
  }
  if (c.duration_years < 1 || c.duration_years > 10) {
    return FieldError("contract.duration_years", "must be between 1 and 10");
  }
  if (c.size < 1 || c.size > 4) return FieldError("contract.size", "must be between 1 and 4");
  return ValidateText(c.reference, "contract.reference", 100, false);
}

absl::Status ValidateEnvelope(const AciEnvelope& e) {
  if (auto s = ValidateYear(e.year, "envelope.year"); !s.ok()) return s;
  if (auto s = ValidateAmount(e.fixed_cents, "envelope.fixed_cents"); !s.ok()) return s;
  if (auto s = ValidateAmount(e.variable_cents, "envelope.variable_cents"); !s.ok()) return s;
  if (e.advance_basis_points < 0 || e.advance_basis_points > 10000) {
    return FieldError("envelope.advance_basis_points", "must be between 0 and 10000");
  }
  switch (e.kind) {
    case EnvelopeKind::kFunctioning:
      if (!e.mission_id.empty()) {
        return FieldError("envelope.mission_id", "must be empty for the functioning envelope");
      }
      if (e.variable_cents != 0) {
        return FieldError("envelope.variable_cents",
                          "the functioning envelope is not subject to attainment");
      }
      return absl::OkStatus();
    case EnvelopeKind::kMission:
      return RequireId(e.mission_id, "envelope.mission_id");
    case EnvelopeKind::kUnspecified:
      break;
  }
  return FieldError("envelope.kind", "required");
}

absl::Status ValidateAttainment(const IndicatorAttainment& a) {
  if (auto s = ValidateYear(a.year, "attainment.year"); !s.ok()) return s;
  if (auto s = RequireId(a.mission_id, "attainment.mission_id"); !s.ok()) return s;
  if (auto s = RequireId(a.indicator_id, "attainment.indicator_id"); !s.ok()) return s;
  if (auto s = ValidateText(a.label, "attainment.label", 200, false); !s.ok()) return s;
  if (a.weight_basis_points < 1 || a.weight_basis_points > 10000) {
    return FieldError("attainment.weight_basis_points", "must be between 1 and 10000");
  }
  if (a.target_milli <= 0 || a.target_milli > 1'000'000'000'000) {
    return FieldError("attainment.target_milli", "must be between 1 and 10^12");
  }
  if (a.achieved_milli < 0 || a.achieved_milli > 1'000'000'000'000) {
    return FieldError("attainment.achieved_milli", "must be between 0 and 10^12");
  }
  return absl::OkStatus();
}

}  // namespace cpts::finance
