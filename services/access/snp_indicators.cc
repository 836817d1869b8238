#include "services/access/snp_indicators.h"

#include <map>

#include "absl/container/flat_hash_map.h"

namespace cpts::access {

SnpSlotFacts SnpSlotFactsOf(const Slot& slot) {
  SnpSlotFacts facts;
  facts.id = slot.id;
  facts.start = slot.start;
  facts.kind = slot.kind;
  facts.status = slot.status;
  return facts;
}

SnpBookingFacts SnpBookingFactsOf(const Booking& booking) {
  SnpBookingFacts facts;
  facts.slot_id = booking.slot_id;
  facts.state = booking.state;
  facts.origin = booking.origin;
  facts.booker_profession_code = booking.booker_profession_code;
  return facts;
}

double SnpBookingRate(int64_t slots_booked, int64_t slots_published) {
  if (slots_published <= 0) return 0;
  return static_cast<double>(slots_booked) / static_cast<double>(slots_published);
}

SnpIndicators ComputeSnpIndicators(const std::vector<SnpSlotFacts>& slots,
                                   const std::vector<SnpBookingFacts>& bookings,
                                   const TimeRange& period) {
  SnpIndicators out;
  // The slots of the period, by id, and whether each is a published bookable slot.
  absl::flat_hash_map<std::string, bool> in_period;
  for (const SnpSlotFacts& slot : slots) {
    if (slot.start < period.start || slot.start >= period.end) continue;
    const bool published = slot.status != SlotStatus::kWithdrawn;
    const bool bookable = published && slot.kind == SlotKind::kBookable;
    if (bookable) ++out.slots_published;
    if (published && slot.kind == SlotKind::kWalkIn) ++out.walk_in_slots;
    in_period.emplace(slot.id, bookable);
  }

  absl::flat_hash_map<std::string, bool> booked_slot;
  std::map<std::string, int64_t> by_profession;
  std::map<BookingOrigin, int64_t> by_origin;
  for (const SnpBookingFacts& booking : bookings) {
    const auto it = in_period.find(booking.slot_id);
    if (it == in_period.end()) continue;
    switch (booking.state) {
      case BookingState::kCancelled:
        ++out.cancelled;
        continue;
      case BookingState::kFulfilled:
        ++out.fulfilled;
        break;
      case BookingState::kNoShow:
        ++out.no_shows;
        break;
      case BookingState::kBooked:
        break;
      case BookingState::kUnspecified:
        continue;
    }
    if (it->second) booked_slot[booking.slot_id] = true;
    ++by_profession[booking.booker_profession_code];
    ++by_origin[booking.origin];
  }
  out.slots_booked = static_cast<int64_t>(booked_slot.size());
  out.booking_rate = SnpBookingRate(out.slots_booked, out.slots_published);
  out.bookings_by_booker_profession.assign(by_profession.begin(), by_profession.end());
  out.bookings_by_origin.assign(by_origin.begin(), by_origin.end());
  return out;
}

}  // namespace cpts::access
