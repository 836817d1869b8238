#pragma once

// The annual cap of decree 2022-375: per professional and calendar year, indemnities and
// remunerations together may not exceed the year's social-security ceiling (PASS). The
// ceilings are data (one row per year, set by a platform admin), never constants in code.

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/finance/model.h"

namespace cpts::finance {

// The PASS per calendar year.
class AnnualCeilingTable {
 public:
  // Records the ceiling of `year`. InvalidArgument for a year outside 2000..2100 or a ceiling
  // outside 1..kMaxAmountCents.
  absl::Status Set(int year, Cents ceiling_cents);

  // The ceiling of `year`; FailedPrecondition("no annual ceiling recorded for <year>") when
  // missing: nothing is rated above a cap nobody knows, the admin records it first.
  absl::StatusOr<Cents> CeilingFor(int year) const;

  const std::map<int, Cents>& by_year() const { return by_year_; }

 private:
  std::map<int, Cents> by_year_;
};

struct CapResult {
  Cents allowed_cents = 0;  // what may be paid
  Cents capped_cents = 0;   // what the cap refuses
  std::string reason{};     // empty when nothing is capped
};

// Applies the cap to `rated_cents` for a professional who already has `year_total_cents`
// counted in `year` (amounts due of their current entitlements of both categories, excluding
// the one being replaced). A total already above the ceiling (e.g. after a revision) caps
// everything. InvalidArgument for negative amounts.
absl::StatusOr<CapResult> ApplyAnnualCap(int year, Cents rated_cents, Cents year_total_cents,
                                         Cents ceiling_cents);

}  // namespace cpts::finance
