#include "services/finance/annual_cap.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/finance/validators.h"

namespace cpts::finance {

absl::Status AnnualCeilingTable::Set(int year, Cents ceiling_cents) {
  if (auto s = ValidateYear(year, "ceiling.year"); !s.ok()) return s;
  if (auto s = ValidateAmount(ceiling_cents, "ceiling.ceiling_cents", true); !s.ok()) return s;
  by_year_[year] = ceiling_cents;
  return absl::OkStatus();
}

absl::StatusOr<Cents> AnnualCeilingTable::CeilingFor(int year) const {
  auto it = by_year_.find(year);
  if (it == by_year_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("no annual ceiling recorded for ", year));
  }
  return it->second;
}

absl::StatusOr<CapResult> ApplyAnnualCap(int year, Cents rated_cents, Cents year_total_cents,
                                         Cents ceiling_cents) {
  if (rated_cents < 0) return FieldError("rated_cents", "must not be negative");
  if (year_total_cents < 0) return FieldError("year_total_cents", "must not be negative");
  if (ceiling_cents <= 0) return FieldError("ceiling_cents", "must be positive");
  const Cents room = std::max<Cents>(0, ceiling_cents - year_total_cents);
  CapResult r;
  r.allowed_cents = std::min(rated_cents, room);
  r.capped_cents = rated_cents - r.allowed_cents;
  if (r.capped_cents > 0) {
    r.reason = absl::StrCat("annual ceiling (PASS) ", year, " of ", ceiling_cents,
                            " cents reached: ", year_total_cents, " cents already due, ",
                            r.capped_cents, " of ", rated_cents, " cents capped");
  }
  return r;
}

}  // namespace cpts::finance
