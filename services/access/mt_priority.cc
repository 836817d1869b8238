#include "services/access/mt_priority.h"

namespace cpts::access {
namespace {

// The day `birth_date` turns `years` years old: the same month and day `years` later, or 1
// March when the birth date is 29 February and that year is a common year (CivilDay
// normalises 29 February of a common year to 1 March).
absl::CivilDay Anniversary(absl::CivilDay birth_date, int years) {
  return absl::CivilDay(birth_date.year() + years, birth_date.month(), birth_date.day());
}

constexpr int kYoungChildAge = 6;
constexpr int kSeniorAge = 70;

}  // namespace

int AgeInYears(absl::CivilDay birth_date, absl::CivilDay today) {
  if (today < birth_date) return 0;
  int age = static_cast<int>(today.year() - birth_date.year());
  if (Anniversary(birth_date, age) > today) --age;
  return age;
}

bool IsUnder6(absl::CivilDay birth_date, absl::CivilDay today) {
  return AgeInYears(birth_date, today) < kYoungChildAge;
}

bool IsOver70(absl::CivilDay birth_date, absl::CivilDay today) {
  return AgeInYears(birth_date, today) >= kSeniorAge;
}

PriorityFacts PriorityFactsOf(const MtRequest& request) {
  PriorityFacts facts;
  facts.ald = request.ald;
  facts.birth_date = request.patient.birth_date;
  facts.precarity = request.fragility.precarity;
  facts.disability = request.fragility.disability;
  facts.pregnancy = request.fragility.pregnancy;
  return facts;
}

PriorityClass ComputePriorityClass(const PriorityFacts& facts, absl::CivilDay today) {
  if (facts.ald) return PriorityClass::kP1Ald;
  if (IsUnder6(facts.birth_date, today) || IsOver70(facts.birth_date, today)) {
    return PriorityClass::kP2Age;
  }
  if (facts.precarity || facts.disability || facts.pregnancy) return PriorityClass::kP3Fragile;
  return PriorityClass::kP4Other;
}

bool RefreshPriority(MtRequest& request, absl::CivilDay today) {
  const PriorityClass before = request.priority_class;
  request.fragility.under_6 = IsUnder6(request.patient.birth_date, today);
  request.fragility.over_70 = IsOver70(request.patient.birth_date, today);
  request.computed_priority_class = ComputePriorityClass(PriorityFactsOf(request), today);
  const bool triaged =
      request.triage.has_value() && request.triage->priority_class != PriorityClass::kUnspecified;
  request.priority_class =
      triaged ? request.triage->priority_class : request.computed_priority_class;
  return request.priority_class != before;
}

std::optional<absl::CivilDay> NextPriorityReviewDay(absl::CivilDay birth_date,
                                                    absl::CivilDay today) {
  const int age = AgeInYears(birth_date, today);
  if (age < kYoungChildAge) return Anniversary(birth_date, kYoungChildAge);
  if (age < kSeniorAge) return Anniversary(birth_date, kSeniorAge);
  return std::nullopt;
}

int PriorityRank(PriorityClass priority_class) {
  switch (priority_class) {
    case PriorityClass::kP1Ald:
      return 1;
    case PriorityClass::kP2Age:
      return 2;
    case PriorityClass::kP3Fragile:
      return 3;
    case PriorityClass::kP4Other:
      return 4;
    case PriorityClass::kUnspecified:
      break;
  }
  return 5;
}

PriorityClass PriorityClassFromRank(int rank) {
  switch (rank) {
    case 1:
      return PriorityClass::kP1Ald;
    case 2:
      return PriorityClass::kP2Age;
    case 3:
      return PriorityClass::kP3Fragile;
    case 4:
      return PriorityClass::kP4Other;
    default:
      return PriorityClass::kUnspecified;
  }
}

MtQueueKey MtQueueKeyOf(const MtRequest& request) {
  return MtQueueKey{PriorityRank(request.priority_class), request.create_time, request.id};
}

bool MtQueueBefore(const MtRequest& a, const MtRequest& b) {
  return MtQueueKeyOf(a) < MtQueueKeyOf(b);
}

}  // namespace cpts::access
