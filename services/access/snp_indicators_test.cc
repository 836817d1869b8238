#include "services/access/snp_indicators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace cpts::access {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

absl::Time At(int month, int day, int hour = 10) {
  return absl::FromCivil(absl::CivilHour(2025, month, day, hour), absl::UTCTimeZone());
}

TimeRange March() { return {At(3, 1, 0), At(4, 1, 0)}; }

SnpSlotFacts S(const std::string& id, absl::Time start, SlotKind kind = SlotKind::kBookable,
               SlotStatus status = SlotStatus::kFree) {
  return SnpSlotFacts{id, start, kind, status};
}

SnpBookingFacts B(const std::string& slot_id, BookingState state,
                  BookingOrigin origin = BookingOrigin::kProfessional,
                  const std::string& profession = "PHARMACIEN") {
  return SnpBookingFacts{slot_id, state, origin, profession};
}

TEST(SnpIndicatorsTest, NothingPublished) {
  const SnpIndicators out = ComputeSnpIndicators({}, {}, March());
  EXPECT_EQ(out.slots_published, 0);
  EXPECT_EQ(out.slots_booked, 0);
  EXPECT_EQ(out.booking_rate, 0);
  EXPECT_THAT(out.bookings_by_booker_profession, IsEmpty());
  EXPECT_THAT(out.bookings_by_origin, IsEmpty());
}

TEST(SnpIndicatorsTest, CountsAsDefined) {
  const std::vector<SnpSlotFacts> slots = {
      S("free", At(3, 2)),
      S("booked", At(3, 3), SlotKind::kBookable, SlotStatus::kBooked),
      S("fulfilled", At(3, 4), SlotKind::kBookable, SlotStatus::kBooked),
      S("no-show", At(3, 5), SlotKind::kBookable, SlotStatus::kBooked),
      S("rebooked", At(3, 6), SlotKind::kBookable, SlotStatus::kBooked),
      S("cancelled", At(3, 7)),
      S("withdrawn", At(3, 8), SlotKind::kBookable, SlotStatus::kWithdrawn),
      S("walk-in", At(3, 9), SlotKind::kWalkIn),
      S("walk-in-withdrawn", At(3, 10), SlotKind::kWalkIn, SlotStatus::kWithdrawn),
      S("february", At(2, 28, 23)),
      S("april", At(4, 1, 0), SlotKind::kBookable, SlotStatus::kBooked),
      S("last-minute-of-march", At(3, 31, 23)),
  };
  const std::vector<SnpBookingFacts> bookings = {
      B("booked", BookingState::kBooked, BookingOrigin::kSas, ""),
      B("fulfilled", BookingState::kFulfilled, BookingOrigin::kProfessional, "INFIRMIER"),
      B("no-show", BookingState::kNoShow),
      B("rebooked", BookingState::kCancelled),
      B("rebooked", BookingState::kBooked, BookingOrigin::kCpts, ""),
      B("cancelled", BookingState::kCancelled),
      B("april", BookingState::kBooked),  // outside the period
      B("unknown-slot", BookingState::kBooked),
  };
  const SnpIndicators out = ComputeSnpIndicators(slots, bookings, March());
  // free, booked, fulfilled, no-show, rebooked, cancelled, last-minute-of-march
  EXPECT_EQ(out.slots_published, 7);
  EXPECT_EQ(out.slots_booked, 4);  // booked, fulfilled, no-show, rebooked
  EXPECT_THAT(out.booking_rate, DoubleEq(4.0 / 7.0));
  EXPECT_EQ(out.fulfilled, 1);
  EXPECT_EQ(out.no_shows, 1);
  EXPECT_EQ(out.cancelled, 2);
  EXPECT_EQ(out.walk_in_slots, 1);
  EXPECT_THAT(out.bookings_by_booker_profession,
              ElementsAre(Pair("", 2), Pair("INFIRMIER", 1), Pair("PHARMACIEN", 1)));
  EXPECT_THAT(out.bookings_by_origin,
              ElementsAre(Pair(BookingOrigin::kProfessional, 2), Pair(BookingOrigin::kCpts, 1),
                          Pair(BookingOrigin::kSas, 1)));
}

TEST(SnpIndicatorsTest, FactsCarryNoPatientData) {
  Slot slot;
  slot.id = "s1";
  slot.start = At(3, 2);
  slot.kind = SlotKind::kBookable;
  slot.status = SlotStatus::kBooked;
  Booking booking;
  booking.slot_id = "s1";
  booking.state = BookingState::kBooked;
  booking.origin = BookingOrigin::kSas;
  booking.booker_profession_code = "";
  booking.patient.family_name = "Durand";
  booking.reason = "fièvre";
  const SnpBookingFacts facts = SnpBookingFactsOf(booking);
  EXPECT_EQ(facts.slot_id, "s1");
  EXPECT_EQ(facts.origin, BookingOrigin::kSas);
  const SnpIndicators out = ComputeSnpIndicators({SnpSlotFactsOf(slot)}, {facts}, March());
  EXPECT_EQ(out.slots_booked, 1);
  EXPECT_THAT(out.booking_rate, DoubleEq(1.0));
}

TEST(SnpIndicatorsTest, RateHelper) {
  EXPECT_EQ(SnpBookingRate(0, 0), 0);
  EXPECT_EQ(SnpBookingRate(3, 0), 0);
  EXPECT_THAT(SnpBookingRate(1, 4), DoubleEq(0.25));
}

TEST(SnpIndicatorsTest, PeriodOfLocalDays) {
  // A period of local days (Europe/Paris) is what the service passes: a slot at 23:30 UTC on
  // the 31st of March is on the 1st of April in Paris.
  absl::TimeZone paris;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Paris", &paris));
  const TimeRange march = DayRange(absl::CivilDay(2025, 3, 1), absl::CivilDay(2025, 3, 31), paris);
  const absl::Time late =
      absl::FromCivil(absl::CivilMinute(2025, 3, 31, 23, 30), absl::UTCTimeZone());
  const absl::Time early =
      absl::FromCivil(absl::CivilMinute(2025, 2, 28, 23, 30), absl::UTCTimeZone());
  const SnpIndicators out = ComputeSnpIndicators({S("late", late), S("early", early)}, {}, march);
  EXPECT_EQ(out.slots_published, 1);  // "early" is 1 March 00:30 in Paris; "late" is April
}

}  // namespace
}  // namespace cpts::access
