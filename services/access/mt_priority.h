#pragma once

// The priority of MT requests: which class a request falls in, and the one ordering of the
// waiting list. Pure functions; "today" is a parameter (the CPTS's local day).
//
// THE RULE (DOMAIN.md §4, issue 3):
//   1. ALD patients first                                   -> PriorityClass::kP1Ald
//   2. then children under 6 and adults of 70 or more       -> PriorityClass::kP2Age
//   3. then other fragility: precarity (C2S), disability,
//      pregnancy                                            -> PriorityClass::kP3Fragile
//   4. then everyone else                                   -> PriorityClass::kP4Other
//   Within a class, the longest wait first (earliest create_time), then the id, so the order
//   is total and stable.
// Triage may set another class; the queue then uses the triage's class (the override is
// recorded on the request, see mt_workflow.h).
//
// Age in completed years on `today`: a person born on 29 February has their birthday on 1
// March in common years. "Under 6" = age < 6; "70 or more" = age >= 70.
//
// The queue order is exactly the order of MtQueueKey = (class rank, create_time, id), so a
// SQL store can persist `priority_rank` (1..4), `create_time` (DATETIME(6), microseconds) and
// `id`, index (tenant_id, priority_rank, create_time, id), and page with
//   WHERE tenant_id = ? AND (priority_rank > ? OR (priority_rank = ? AND (create_time > ?
//         OR (create_time = ? AND id > ?))))
//   ORDER BY priority_rank, create_time, id LIMIT n + 1
// create_time is truncated to microseconds when a request is received (mt_workflow.h), so the
// key read back from MariaDB equals the key in memory.

#include <optional>
#include <string>
#include <tuple>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/mt_model.h"

namespace cpts::access {

// Completed years between `birth_date` and `today`; 0 when `today` is before the birth date.
int AgeInYears(absl::CivilDay birth_date, absl::CivilDay today);

// Not yet 6 years old on `today`.
bool IsUnder6(absl::CivilDay birth_date, absl::CivilDay today);

// 70 years old or more on `today`.
bool IsOver70(absl::CivilDay birth_date, absl::CivilDay today);

// What the priority class is computed from.
struct PriorityFacts {
  bool ald = false;
  absl::CivilDay birth_date;
  bool precarity = false;
  bool disability = false;
  bool pregnancy = false;
};

PriorityFacts PriorityFactsOf(const MtRequest& request);

// The class THE RULE above gives on `today`. Never kUnspecified.
PriorityClass ComputePriorityClass(const PriorityFacts& facts, absl::CivilDay today);

// Recomputes, on `today`, the derived fields of `request`: fragility.over_70,
// fragility.under_6 and computed_priority_class; and priority_class, unless a triage set it
// (request.triage->priority_class is then kept). Returns true when priority_class changed.
// A store calls this when a request is received, at triage, and for open requests on the day
// returned by NextPriorityReviewDay (a child turning 6 moves down, an adult turning 70 up).
bool RefreshPriority(MtRequest& request, absl::CivilDay today);

// The next day after `today` on which the age-derived part of the class can change: the 6th
// birthday of a child under 6, else the 70th birthday of a person under 70; nullopt for a
// person of 70 or more (nothing changes any more).
std::optional<absl::CivilDay> NextPriorityReviewDay(absl::CivilDay birth_date,
                                                    absl::CivilDay today);

// 1 for kP1Ald ... 4 for kP4Other; 5 for kUnspecified (sorts last).
int PriorityRank(PriorityClass priority_class);

// The inverse of PriorityRank for 1..4; kUnspecified for anything else.
PriorityClass PriorityClassFromRank(int rank);

// The sort key of the waiting list. Smaller comes first.
struct MtQueueKey {
  int priority_rank = 5;
  absl::Time create_time = absl::InfinitePast();
  std::string id;

  bool operator<(const MtQueueKey& other) const {
    return std::tie(priority_rank, create_time, id) <
           std::tie(other.priority_rank, other.create_time, other.id);
  }
  bool operator==(const MtQueueKey& other) const {
    return std::tie(priority_rank, create_time, id) ==
           std::tie(other.priority_rank, other.create_time, other.id);
  }
};

// The key of `request`, from its (effective) priority_class, create_time and id.
MtQueueKey MtQueueKeyOf(const MtRequest& request);

// THE ordering of the waiting list: true when `a` comes before `b`.
bool MtQueueBefore(const MtRequest& a, const MtRequest& b);

}  // namespace cpts::access
