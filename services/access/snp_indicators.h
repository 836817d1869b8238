#pragma once

// Indicators of the SNP shared agenda of a tenant (GetSnpIndicators). Aggregates only: the
// input is a narrow projection of slots and bookings (SnpSlotFacts, SnpBookingFacts) with no
// patient data, so a store can build it from non-encrypted columns, or compute the same
// counts in SQL. Pure functions.
//
// Definitions, for the slots starting in a period [start, end) of instants (the local days of
// the request, mt_indicators.h DayRange):
//   slots_published  BOOKABLE slots not withdrawn
//   slots_booked     of those, slots with a BOOKED, FULFILLED or NO_SHOW booking
//   booking_rate     slots_booked / slots_published; 0 when nothing was published
//   fulfilled, no_shows, cancelled
//                    bookings of those slots in that state (a slot booked, cancelled and
//                    booked again counts one cancellation)
//   walk_in_slots    WALK_IN slots not withdrawn
//   bookings_by_booker_profession, bookings_by_origin
//                    bookings not cancelled, by the booker's profession code (empty for
//                    bookers who are not members) sorted by code, and by origin in the enum's
//                    order; only the values that occur

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "services/access/mt_indicators.h"
#include "services/access/snp_model.h"

namespace cpts::access {

struct SnpSlotFacts {
  std::string id;
  absl::Time start = absl::InfinitePast();
  SlotKind kind = SlotKind::kUnspecified;
  SlotStatus status = SlotStatus::kUnspecified;
};

struct SnpBookingFacts {
  std::string slot_id;
  BookingState state = BookingState::kUnspecified;
  BookingOrigin origin = BookingOrigin::kUnspecified;
  std::string booker_profession_code;
};

SnpSlotFacts SnpSlotFactsOf(const Slot& slot);
SnpBookingFacts SnpBookingFactsOf(const Booking& booking);

struct SnpIndicators {
  int64_t slots_published = 0;
  int64_t slots_booked = 0;
  double booking_rate = 0;
  int64_t fulfilled = 0;
  int64_t no_shows = 0;
  int64_t cancelled = 0;
  int64_t walk_in_slots = 0;
  std::vector<std::pair<std::string, int64_t>> bookings_by_booker_profession;
  std::vector<std::pair<BookingOrigin, int64_t>> bookings_by_origin;
};

// `slots`: the tenant's slots (any may be outside the period: they are skipped). `bookings`:
// bookings of those slots (bookings of other slots are skipped).
SnpIndicators ComputeSnpIndicators(const std::vector<SnpSlotFacts>& slots,
                                   const std::vector<SnpBookingFacts>& bookings,
                                   const TimeRange& period);

// slots_booked / slots_published, 0 when nothing was published (for a store that counts in
// SQL).
double SnpBookingRate(int64_t slots_booked, int64_t slots_published);

}  // namespace cpts::access
