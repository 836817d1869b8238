#include "services/access/snp_booking.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::platform::auth::Principal;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

// 2025-03-10T08:00:00Z.
constexpr absl::Time kNow = absl::FromUnixSeconds(1741593600);
const absl::CivilDay kToday(2025, 3, 10);

Principal Caller(std::vector<std::string> roles, std::string member_id = "",
                 std::string subject = "user:caller", std::string tenant = "t1") {
  Principal p;
  p.tenant_id = std::move(tenant);
  p.subject = std::move(subject);
  p.member_id = std::move(member_id);
  p.roles = std::move(roles);
  return p;
}

Slot FreeSlot(absl::Time start = kNow + absl::Hours(2), Visibility visibility = Visibility::kPro) {
  Slot s;
  s.id = "slot-1";
  s.tenant_id = "t1";
  s.professional_member_id = "dr-a";
  s.profession_code = "MEDECIN_GENERALISTE";
  s.start = start;
  s.duration = absl::Minutes(15);
  s.mode = ConsultationMode::kOffice;
  s.place = {"77288", "1 rue A"};
  s.visibility = visibility;
  s.kind = SlotKind::kBookable;
  s.status = SlotStatus::kFree;
  s.version = 1;
  return s;
}

BookingDraft Draft() {
  BookingDraft d;
  d.slot_id = "slot-1";
  d.patient.given_name = "Marie";
  d.patient.family_name = "Durand";
  d.patient.birth_date = absl::CivilDay(1950, 1, 1);
  d.contact.phone = "06 12 34 56 78";
  d.reason = "Fièvre depuis 3 jours";
  d.request_id = "req-1";
  return d;
}

Principal Pharmacist() { return Caller({"member"}, "ph-1", "user:pharmacist"); }

// Books a free slot for the pharmacist; the test fails if that does not work.
Booking BookedBy(const Principal& caller, Slot& slot, absl::string_view profession = "PHARMACIEN") {
  platform::SequentialIdGenerator ids("bk-");
  absl::StatusOr<Booking> b =
      BookSlot(caller, BookerFor(caller, profession), Draft(), slot, kNow, ids);
  EXPECT_THAT(b, IsOk());
  return b.ok() ? *b : Booking{};
}

// --- the table -------------------------------------------------------------------------

TEST(BookingTableTest, EveryPairIsAllowedOrRefusedAsSpecified) {
  const BookingState states[] = {BookingState::kUnspecified, BookingState::kBooked,
                                 BookingState::kCancelled, BookingState::kFulfilled,
                                 BookingState::kNoShow};
  const BookingAction actions[] = {BookingAction::kCancel, BookingAction::kRecordFulfilled,
                                   BookingAction::kRecordNoShow};
  const std::set<std::pair<BookingState, BookingAction>> allowed = {
      {BookingState::kBooked, BookingAction::kCancel},
      {BookingState::kBooked, BookingAction::kRecordFulfilled},
      {BookingState::kBooked, BookingAction::kRecordNoShow},
  };
  for (const BookingState from : states) {
    for (const BookingAction action : actions) {
      const bool ok = allowed.count({from, action}) > 0;
      if (ok) {
        EXPECT_THAT(CheckBookingAction(from, action), IsOk());
      } else {
        EXPECT_THAT(
            CheckBookingAction(from, action),
            StatusIs(absl::StatusCode::kFailedPrecondition,
                     absl::StrCat("booking is ", BookingStateName(from), "; ",
                                  BookingActionName(action), " is allowed only from BOOKED")));
        EXPECT_EQ(BookingTargetState(from, action), BookingState::kUnspecified);
      }
    }
  }
  EXPECT_EQ(BookingTargetState(BookingState::kBooked, BookingAction::kCancel),
            BookingState::kCancelled);
  EXPECT_EQ(BookingTargetState(BookingState::kBooked, BookingAction::kRecordFulfilled),
            BookingState::kFulfilled);
  EXPECT_EQ(BookingTargetState(BookingState::kBooked, BookingAction::kRecordNoShow),
            BookingState::kNoShow);
}

// --- who -------------------------------------------------------------------------------

TEST(BookerTest, RolesAndOrigins) {
  struct Case {
    const char* name;
    Principal caller;
    absl::StatusCode can_book;
    BookingOrigin origin;
  };
  const std::vector<Case> cases = {
      {"pharmacist (member)", Caller({"member"}, "ph-1"), absl::StatusCode::kOk,
       BookingOrigin::kProfessional},
      {"member without member id", Caller({"member"}), absl::StatusCode::kPermissionDenied,
       BookingOrigin::kProfessional},
      {"secretary", Caller({"secretary"}), absl::StatusCode::kOk, BookingOrigin::kCpts},
      {"coordinator", Caller({"coordinator"}), absl::StatusCode::kOk, BookingOrigin::kCpts},
      {"sas regulator", Caller({"sas_regulator"}), absl::StatusCode::kOk, BookingOrigin::kSas},
      {"regulator who is also a member", Caller({"member", "sas_regulator"}, "m1"),
       absl::StatusCode::kOk, BookingOrigin::kSas},
      {"public form", Caller({"public_form"}), absl::StatusCode::kPermissionDenied,
       BookingOrigin::kUnspecified},
      {"service", Caller({"service"}), absl::StatusCode::kPermissionDenied,
       BookingOrigin::kPartner},
      {"triage nurse", Caller({"triage_nurse"}), absl::StatusCode::kPermissionDenied,
       BookingOrigin::kUnspecified},
      {"no tenant", Caller({"coordinator"}, "", "user:x", ""), absl::StatusCode::kPermissionDenied,
       BookingOrigin::kCpts},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(CheckCanBook(c.caller), StatusIs(c.can_book)) << c.name;
    EXPECT_EQ(BookingOriginFor(c.caller), c.origin) << c.name;
  }
  const Booker booker = BookerFor(Pharmacist(), "PHARMACIEN");
  EXPECT_EQ(booker.subject, "user:pharmacist");
  EXPECT_EQ(booker.member_id, "ph-1");
  EXPECT_EQ(booker.profession_code, "PHARMACIEN");
  EXPECT_EQ(booker.origin, BookingOrigin::kProfessional);
}

TEST(BookingAccessTest, Matrix) {
  Slot slot = FreeSlot();
  const Booking booking = BookedBy(Pharmacist(), slot);
  struct Case {
    const char* name;
    Principal caller;
    absl::StatusCode read;
    absl::StatusCode cancel;
    absl::StatusCode outcome;
  };
  constexpr auto kOk = absl::StatusCode::kOk;
  constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
  const std::vector<Case> cases = {
      {"the booker", Pharmacist(), kOk, kOk, kDenied},
      {"the slot's professional", Caller({"member"}, "dr-a"), kOk, kOk, kOk},
      {"coordinator", Caller({"coordinator"}), kOk, kOk, kOk},
      {"secretary", Caller({"secretary"}), kOk, kOk, kOk},
      {"another pharmacist", Caller({"member"}, "ph-2", "user:other"), kDenied, kDenied, kDenied},
      {"a regulator who did not book", Caller({"sas_regulator"}, "", "user:reg"), kDenied, kDenied,
       kDenied},
      {"coordinator of another CPTS", Caller({"coordinator"}, "", "user:c", "t2"),
       absl::StatusCode::kNotFound, absl::StatusCode::kNotFound, absl::StatusCode::kNotFound},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(CheckBookingAccess(c.caller, booking, slot, BookingAccess::kRead), StatusIs(c.read))
        << c.name;
    EXPECT_THAT(CheckBookingAccess(c.caller, booking, slot, BookingAccess::kCancel),
                StatusIs(c.cancel))
        << c.name;
    EXPECT_THAT(CheckBookingAccess(c.caller, booking, slot, BookingAccess::kRecordOutcome),
                StatusIs(c.outcome))
        << c.name;
  }
  Slot other = FreeSlot();
  other.id = "slot-2";
  EXPECT_THAT(CheckBookingAccess(Caller({"coordinator"}), booking, other, BookingAccess::kRead),
              StatusIs(absl::StatusCode::kInternal));
}

// --- the draft -------------------------------------------------------------------------

TEST(NormalizeBookingDraftTest, NormalisesAValidDraft) {
  BookingDraft d = Draft();
  d.patient.given_name = "  Marie   Claire ";
  d.contact.email = "Marie@Example.FR";
  ASSERT_THAT(NormalizeBookingDraft(d, kToday), IsOk());
  EXPECT_EQ(d.patient.given_name, "Marie Claire");
  EXPECT_EQ(d.contact.phone, "+33612345678");
  EXPECT_EQ(d.contact.email, "Marie@example.fr");

  BookingDraft no_contact = Draft();
  no_contact.contact = {};
  no_contact.request_id.clear();
  EXPECT_THAT(NormalizeBookingDraft(no_contact, kToday), IsOk());
}

TEST(NormalizeBookingDraftTest, RefusesBadFieldsNamingThem) {
  struct Case {
    const char* name;
    void (*edit)(BookingDraft&);
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no slot", [](BookingDraft& d) { d.slot_id.clear(); }, "slot_id"},
      {"no given name", [](BookingDraft& d) { d.patient.given_name = " "; }, "patient.given_name"},
      {"no family name", [](BookingDraft& d) { d.patient.family_name.clear(); },
       "patient.family_name"},
      {"long family name", [](BookingDraft& d) { d.patient.family_name = std::string(101, 'a'); },
       "patient.family_name"},
      {"born tomorrow", [](BookingDraft& d) { d.patient.birth_date = kToday + 1; },
       "patient.birth_date"},
      {"born 121 years ago",
       [](BookingDraft& d) { d.patient.birth_date = absl::CivilDay(1904, 1, 1); },
       "patient.birth_date"},
      {"bad phone", [](BookingDraft& d) { d.contact.phone = "12"; }, "contact.phone"},
      {"bad email", [](BookingDraft& d) { d.contact.email = "nope"; }, "contact.email"},
      {"no reason", [](BookingDraft& d) { d.reason = "  "; }, "reason"},
      {"long reason", [](BookingDraft& d) { d.reason = std::string(501, 'x'); }, "reason"},
      {"bad request id", [](BookingDraft& d) { d.request_id = std::string(129, 'r'); },
       "request_id"},
  };
  for (const Case& c : cases) {
    BookingDraft d = Draft();
    c.edit(d);
    const absl::Status s = NormalizeBookingDraft(d, kToday);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, c.field + ":")) << c.name;
    // Errors name the field, never echo the patient's data.
    EXPECT_EQ(s.message().find("Durand"), absl::string_view::npos) << c.name;
  }
}

// --- booking ---------------------------------------------------------------------------

TEST(BookSlotTest, BooksAFreeSlot) {
  Slot slot = FreeSlot();
  platform::SequentialIdGenerator ids("bk-");
  BookingDraft draft = Draft();
  ASSERT_THAT(NormalizeBookingDraft(draft, kToday), IsOk());
  absl::StatusOr<Booking> booking = BookSlot(Pharmacist(), BookerFor(Pharmacist(), "PHARMACIEN"),
                                             draft, slot, kNow + absl::Nanoseconds(10), ids);
  ASSERT_THAT(booking, IsOk());
  EXPECT_EQ(booking->id, "bk-00000001");
  EXPECT_EQ(booking->tenant_id, "t1");
  EXPECT_EQ(booking->slot_id, "slot-1");
  EXPECT_EQ(booking->state, BookingState::kBooked);
  EXPECT_EQ(booking->origin, BookingOrigin::kProfessional);
  EXPECT_EQ(booking->booked_by, "user:pharmacist");
  EXPECT_EQ(booking->booker_member_id, "ph-1");
  EXPECT_EQ(booking->booker_profession_code, "PHARMACIEN");
  EXPECT_EQ(booking->patient.family_name, "Durand");
  EXPECT_EQ(booking->contact.phone, "+33612345678");
  EXPECT_EQ(booking->reason, "Fièvre depuis 3 jours");
  EXPECT_EQ(booking->request_id, "req-1");
  EXPECT_EQ(booking->create_time, kNow);
  EXPECT_EQ(booking->version, 1);
  EXPECT_EQ(slot.status, SlotStatus::kBooked);
  EXPECT_EQ(slot.booking_id, "bk-00000001");
  EXPECT_EQ(slot.update_time, kNow);
}

TEST(BookSlotTest, NeverTwiceAtTheDomainLevel) {
  // Two bookers read the same free slot; the first booking wins, the second is refused and
  // changes nothing. (Under real concurrency each request reads its own copy of the slot: the
  // store's conditional update is what refuses the loser, see snp_booking.h.)
  Slot slot = FreeSlot();
  platform::SequentialIdGenerator ids("bk-");
  const Principal regulator = Caller({"sas_regulator"}, "", "user:regulator");
  ASSERT_THAT(
      BookSlot(Pharmacist(), BookerFor(Pharmacist(), "PHARMACIEN"), Draft(), slot, kNow, ids),
      IsOk());
  const Slot after_first = slot;
  EXPECT_THAT(BookSlot(regulator, BookerFor(regulator, ""), Draft(), slot, kNow, ids),
              StatusIs(absl::StatusCode::kFailedPrecondition, "slot slot-1 is already booked"));
  EXPECT_EQ(slot.booking_id, after_first.booking_id);
  EXPECT_EQ(slot.status, SlotStatus::kBooked);
  // The same booker retrying is refused the same way: idempotent retries are the store's
  // business (request_id), not a second booking.
  EXPECT_THAT(
      BookSlot(Pharmacist(), BookerFor(Pharmacist(), "PHARMACIEN"), Draft(), slot, kNow, ids),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(BookSlotTest, RefusesWhatCannotBeBooked) {
  struct Case {
    const char* name;
    Principal caller;
    void (*edit)(Slot&);
    absl::StatusCode code;
    std::string message;
  };
  const auto none = [](Slot&) {};
  const std::vector<Case> cases = {
      {"past slot", Pharmacist(), [](Slot& s) { s.start = kNow - absl::Minutes(15); },
       absl::StatusCode::kFailedPrecondition, "a past slot cannot be booked"},
      {"starting now", Pharmacist(), [](Slot& s) { s.start = kNow; },
       absl::StatusCode::kFailedPrecondition, "a past slot cannot be booked"},
      {"walk-in", Pharmacist(), [](Slot& s) { s.kind = SlotKind::kWalkIn; },
       absl::StatusCode::kFailedPrecondition, "walk-in"},
      {"withdrawn", Pharmacist(), [](Slot& s) { s.status = SlotStatus::kWithdrawn; },
       absl::StatusCode::kFailedPrecondition, "WITHDRAWN"},
      {"above the caller's visibility", Pharmacist(),
       [](Slot& s) { s.visibility = Visibility::kSnp; }, absl::StatusCode::kNotFound,
       "slot slot-1 not found"},
      {"another tenant's slot", Pharmacist(), [](Slot& s) { s.tenant_id = "t2"; },
       absl::StatusCode::kNotFound, ""},
      {"public form", Caller({"public_form"}), [](Slot& s) { s.visibility = Visibility::kPublic; },
       absl::StatusCode::kPermissionDenied, ""},
      {"regulator on an SNP slot", Caller({"sas_regulator"}),
       [](Slot& s) { s.visibility = Visibility::kSnp; }, absl::StatusCode::kOk, ""},
      {"secretary on a CPTS slot", Caller({"secretary"}),
       [](Slot& s) { s.visibility = Visibility::kCpts; }, absl::StatusCode::kOk, ""},
      {"regulator on a CPTS slot", Caller({"sas_regulator"}),
       [](Slot& s) { s.visibility = Visibility::kCpts; }, absl::StatusCode::kNotFound, ""},
      {"pharmacist on a PRO slot", Pharmacist(), none, absl::StatusCode::kOk, ""},
  };
  for (const Case& c : cases) {
    Slot slot = FreeSlot();
    c.edit(slot);
    const Slot before = slot;
    platform::SequentialIdGenerator ids("bk-");
    absl::StatusOr<Booking> b =
        BookSlot(c.caller, BookerFor(c.caller, ""), Draft(), slot, kNow, ids);
    EXPECT_THAT(b, StatusIs(c.code, c.message)) << c.name;
    if (!b.ok()) {
      EXPECT_EQ(slot.status, before.status) << c.name;
      EXPECT_EQ(slot.booking_id, before.booking_id) << c.name;
    }
  }
}

// --- cancelling and outcomes -----------------------------------------------------------

TEST(CancelBookingTest, FreesTheSlotBeforeItStarts) {
  Slot slot = FreeSlot();
  Booking booking = BookedBy(Pharmacist(), slot);
  ASSERT_THAT(
      CancelBooking(Pharmacist(), " patient better ", kNow + absl::Minutes(5), booking, slot),
      IsOk());
  EXPECT_EQ(booking.state, BookingState::kCancelled);
  EXPECT_EQ(booking.cancel_reason, "patient better");
  EXPECT_EQ(booking.cancel_time, kNow + absl::Minutes(5));
  EXPECT_EQ(slot.status, SlotStatus::kFree);
  EXPECT_TRUE(slot.booking_id.empty());

  // The freed slot can be booked again, by someone else.
  const Principal secretary = Caller({"secretary"}, "", "user:secretary");
  Booking second = BookedBy(secretary, slot, "");
  EXPECT_EQ(second.state, BookingState::kBooked);
  EXPECT_EQ(second.origin, BookingOrigin::kCpts);
  // The cancelled booking stays cancelled.
  EXPECT_THAT(CancelBooking(Pharmacist(), "again", kNow, booking, slot),
              StatusIs(absl::StatusCode::kFailedPrecondition, "booking is CANCELLED"));
}

TEST(CancelBookingTest, Refusals) {
  Slot slot = FreeSlot();
  Booking booking = BookedBy(Pharmacist(), slot);
  const Booking before = booking;
  EXPECT_THAT(CancelBooking(Pharmacist(), "", kNow, booking, slot),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason:"));
  EXPECT_THAT(CancelBooking(Pharmacist(), "late", slot.start, booking, slot),
              StatusIs(absl::StatusCode::kFailedPrecondition, "record an outcome instead"));
  EXPECT_THAT(CancelBooking(Caller({"member"}, "ph-2", "user:other"), "x", kNow, booking, slot),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(booking.state, before.state);
  EXPECT_EQ(slot.status, SlotStatus::kBooked);
}

TEST(RecordOutcomeTest, OnlyOnceTheSlotHasStarted) {
  const Principal doctor = Caller({"member"}, "dr-a", "user:dr-a");
  struct Case {
    const char* name;
    BookingOutcome outcome;
    absl::Time now;
    absl::StatusCode code;
    BookingState state;
  };
  const absl::Time start = kNow + absl::Hours(2);
  const std::vector<Case> cases = {
      {"fulfilled at the start", BookingOutcome::kFulfilled, start, absl::StatusCode::kOk,
       BookingState::kFulfilled},
      {"no-show the next day", BookingOutcome::kNoShow, start + absl::Hours(24),
       absl::StatusCode::kOk, BookingState::kNoShow},
      {"before the start", BookingOutcome::kFulfilled, start - absl::Minutes(1),
       absl::StatusCode::kFailedPrecondition, BookingState::kBooked},
      {"unspecified", BookingOutcome::kUnspecified, start, absl::StatusCode::kInvalidArgument,
       BookingState::kBooked},
  };
  for (const Case& c : cases) {
    Slot slot = FreeSlot(start);
    Booking booking = BookedBy(Pharmacist(), slot);
    EXPECT_THAT(RecordOutcome(doctor, c.outcome, c.now, booking, slot), StatusIs(c.code)) << c.name;
    EXPECT_EQ(booking.state, c.state) << c.name;
    EXPECT_EQ(slot.status, SlotStatus::kBooked) << c.name;  // an outcome never frees a slot
    if (c.code == absl::StatusCode::kOk) {
      EXPECT_EQ(booking.outcome_time, c.now);
    }
  }
}

TEST(RecordOutcomeTest, FinalStatesStayFinal) {
  Slot slot = FreeSlot();
  Booking booking = BookedBy(Pharmacist(), slot);
  const Principal coordinator = Caller({"coordinator"});
  const absl::Time later = slot.start + absl::Minutes(20);
  ASSERT_THAT(RecordOutcome(coordinator, BookingOutcome::kNoShow, later, booking, slot), IsOk());
  EXPECT_THAT(RecordOutcome(coordinator, BookingOutcome::kFulfilled, later, booking, slot),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "booking is NO_SHOW; RECORD_FULFILLED is allowed only from BOOKED"));
  EXPECT_THAT(CancelBooking(coordinator, "x", kNow, booking, slot),
              StatusIs(absl::StatusCode::kFailedPrecondition, "booking is NO_SHOW"));
  // The booker may not record outcomes.
  Slot slot2 = FreeSlot();
  Booking booking2 = BookedBy(Pharmacist(), slot2);
  EXPECT_THAT(RecordOutcome(Pharmacist(), BookingOutcome::kFulfilled, later, booking2, slot2),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cpts::access
