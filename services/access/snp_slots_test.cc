#include "services/access/snp_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::platform::auth::Principal;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;

// 2025-03-10T08:00:00Z.
constexpr absl::Time kNow = absl::FromUnixSeconds(1741593600);

absl::Time At(int hour, int minute, int day = 11) {
  return absl::FromCivil(absl::CivilMinute(2025, 3, day, hour, minute), absl::UTCTimeZone());
}

Slot Draft(const std::string& professional, absl::Time start, int minutes,
           ConsultationMode mode = ConsultationMode::kOffice) {
  Slot s;
  s.professional_member_id = professional;
  s.profession_code = "MEDECIN_GENERALISTE";
  s.start = start;
  s.duration = absl::Minutes(minutes);
  s.mode = mode;
  if (mode == ConsultationMode::kOffice) s.place = {"77288", "2 rue de la Gare"};
  if (mode == ConsultationMode::kHome) s.place = {"77288", ""};
  s.visibility = Visibility::kPro;
  s.kind = SlotKind::kBookable;
  return s;
}

Slot Stored(const std::string& id, const std::string& professional, absl::Time start, int minutes,
            SlotStatus status = SlotStatus::kFree) {
  Slot s = Draft(professional, start, minutes);
  s.id = id;
  s.tenant_id = "t1";
  s.status = status;
  return s;
}

Principal Caller(std::vector<std::string> roles, std::string member_id = "",
                 std::string tenant = "t1") {
  Principal p;
  p.tenant_id = std::move(tenant);
  p.subject = "user:caller";
  p.member_id = std::move(member_id);
  p.roles = std::move(roles);
  return p;
}

// --- overlap ---------------------------------------------------------------------------

TEST(OverlapTest, HalfOpenIntervals) {
  struct Case {
    const char* name;
    absl::Time a_start;
    int a_minutes;
    absl::Time b_start;
    int b_minutes;
    bool overlaps;
  };
  const Case cases[] = {
      {"b right after a", At(9, 0), 30, At(9, 30), 30, false},
      {"b right before a", At(9, 30), 30, At(9, 0), 30, false},
      {"same slot", At(9, 0), 30, At(9, 0), 30, true},
      {"b inside a", At(9, 0), 60, At(9, 15), 15, true},
      {"a inside b", At(9, 15), 15, At(9, 0), 60, true},
      {"b starts one minute before a ends", At(9, 0), 30, At(9, 29), 30, true},
      {"b ends one minute after a starts", At(9, 0), 30, At(8, 31), 30, true},
      {"far apart", At(9, 0), 30, At(14, 0), 30, false},
      {"same start, different lengths", At(9, 0), 10, At(9, 0), 60, true},
  };
  for (const Case& c : cases) {
    const Slot a = Draft("m1", c.a_start, c.a_minutes);
    const Slot b = Draft("m1", c.b_start, c.b_minutes);
    EXPECT_EQ(Overlaps(a, b), c.overlaps) << c.name;
    EXPECT_EQ(Overlaps(b, a), c.overlaps) << c.name << " (swapped)";
  }
}

TEST(CheckNoOverlapTest, WithinTheRequest) {
  struct Case {
    const char* name;
    std::vector<Slot> drafts;
    std::string error;  // empty = OK
  };
  const std::vector<Case> cases = {
      {"back to back",
       {Draft("m1", At(9, 0), 15), Draft("m1", At(9, 15), 15), Draft("m1", At(9, 30), 15)},
       ""},
      {"unsorted back to back",
       {Draft("m1", At(9, 30), 15), Draft("m1", At(9, 0), 15), Draft("m1", At(9, 15), 15)},
       ""},
      {"two professionals at the same time",
       {Draft("m1", At(9, 0), 30), Draft("m2", At(9, 0), 30)},
       ""},
      {"same professional, different modes still overlap",
       {Draft("m1", At(9, 0), 30), Draft("m1", At(9, 10), 30, ConsultationMode::kVideo)},
       "slots[1]: overlaps slots[0] (same professional)"},
      {"later index reported against its first conflict",
       {Draft("m1", At(9, 0), 15), Draft("m1", At(10, 0), 15), Draft("m1", At(9, 5), 60)},
       "slots[2]: overlaps slots[0] (same professional)"},
      {"earliest conflict in request order wins",
       {Draft("m1", At(12, 0), 30), Draft("m2", At(9, 0), 30), Draft("m2", At(9, 20), 30),
        Draft("m1", At(12, 10), 5)},
       "slots[2]: overlaps slots[1] (same professional)"},
      {"a long slot covering several",
       {Draft("m1", At(9, 0), 15), Draft("m1", At(9, 30), 15), Draft("m1", At(8, 0), 240)},
       "slots[2]: overlaps slots[0] (same professional)"},
      {"duplicate",
       {Draft("m1", At(9, 0), 15), Draft("m1", At(9, 0), 15)},
       "slots[1]: overlaps slots[0] (same professional)"},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckNoOverlap(c.drafts, {});
    if (c.error.empty()) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, c.error)) << c.name;
    }
  }
}

TEST(CheckNoOverlapTest, AgainstStoredSlots) {
  const std::vector<Slot> existing = {
      Stored("s-a", "m1", At(9, 0), 30),
      Stored("s-w", "m1", At(10, 0), 30, SlotStatus::kWithdrawn),
      Stored("s-b", "m1", At(11, 0), 30, SlotStatus::kBooked),
      Stored("s-o", "m2", At(12, 0), 30),
  };
  struct Case {
    const char* name;
    Slot draft;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"adjacent after a free slot", Draft("m1", At(9, 30), 30), ""},
      {"adjacent before a free slot", Draft("m1", At(8, 30), 30), ""},
      {"over a withdrawn slot", Draft("m1", At(10, 0), 30), ""},
      {"over another professional's slot", Draft("m1", At(12, 0), 30), ""},
      {"over a free slot", Draft("m1", At(9, 15), 30),
       "slots[0]: overlaps the existing slot s-a of the same professional "
       "(2025-03-11T09:00:00Z to 2025-03-11T09:30:00Z)"},
      {"over a booked slot", Draft("m1", At(11, 29), 5), "existing slot s-b"},
  };
  for (const Case& c : cases) {
    const absl::Status s = CheckNoOverlap({c.draft}, existing);
    if (c.error.empty()) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, c.error)) << c.name;
    }
  }
}

TEST(OverlapWindowsTest, OneRangePerProfessional) {
  const std::vector<OverlapWindow> windows = OverlapWindows(
      {Draft("m2", At(9, 0), 30), Draft("m1", At(14, 0), 15), Draft("m1", At(8, 0), 20)});
  ASSERT_EQ(windows.size(), 2U);
  EXPECT_EQ(windows[0].professional_member_id, "m1");
  EXPECT_EQ(windows[0].from, At(8, 0));
  EXPECT_EQ(windows[0].to, At(14, 15));
  EXPECT_EQ(windows[1].professional_member_id, "m2");
  EXPECT_EQ(windows[1].from, At(9, 0));
  EXPECT_EQ(windows[1].to, At(9, 30));
}

// --- one draft -------------------------------------------------------------------------

TEST(NormalizeSlotDraftTest, RefusesBadFieldsNamingThem) {
  struct Case {
    const char* name;
    void (*edit)(Slot&);
    std::string error;
  };
  const std::vector<Case> cases = {
      {"no start", [](Slot& s) { s.start = absl::InfinitePast(); },
       "slots[3].start_time: required"},
      {"in the past", [](Slot& s) { s.start = kNow - absl::Minutes(1); },
       "slots[3].start_time: must not be in the past"},
      {"seconds", [](Slot& s) { s.start += absl::Seconds(30); },
       "slots[3].start_time: must be on a whole minute"},
      {"too far ahead", [](Slot& s) { s.start = kNow + absl::Hours(24 * 367); },
       "slots[3].start_time: must be at most 366 days ahead"},
      {"no duration", [](Slot& s) { s.duration = absl::ZeroDuration(); },
       "slots[3].duration: required"},
      {"part of a minute", [](Slot& s) { s.duration = absl::Seconds(90); },
       "slots[3].duration: must be whole minutes"},
      {"too short", [](Slot& s) { s.duration = absl::Minutes(4); },
       "slots[3].duration: must be between 5m and 12h"},
      {"too long", [](Slot& s) { s.duration = absl::Minutes(12 * 60 + 1); },
       "slots[3].duration: must be between 5m and 12h"},
      {"no mode", [](Slot& s) { s.mode = ConsultationMode::kUnspecified; },
       "slots[3].mode: required"},
      {"no visibility", [](Slot& s) { s.visibility = Visibility::kUnspecified; },
       "slots[3].visibility: required"},
      {"no kind", [](Slot& s) { s.kind = SlotKind::kUnspecified; }, "slots[3].kind: required"},
      {"office without commune", [](Slot& s) { s.place.commune_insee.clear(); },
       "slots[3].place.commune_insee: required for an OFFICE slot"},
      {"office with a postcode", [](Slot& s) { s.place.commune_insee = "77000"; },
       "slots[3].place.commune_insee"},
      {"office without address", [](Slot& s) { s.place.address = "   "; },
       "slots[3].place.address: required for an OFFICE slot"},
      {"address too long", [](Slot& s) { s.place.address = std::string(201, 'a'); },
       "slots[3].place.address"},
      {"address with a control character", [](Slot& s) { s.place.address = "2 rue\x01"; },
       "slots[3].place.address"},
      {"home with an address",
       [](Slot& s) {
         s.mode = ConsultationMode::kHome;
         s.place.address = "1 rue X";
       },
       "slots[3].place.address: must be empty for a HOME slot"},
      {"home without commune",
       [](Slot& s) {
         s.mode = ConsultationMode::kHome;
         s.place = {};
       },
       "slots[3].place.commune_insee: required for a HOME slot"},
      {"video with a place", [](Slot& s) { s.mode = ConsultationMode::kVideo; },
       "slots[3].place: must be unset for a VIDEO slot"},
  };
  for (const Case& c : cases) {
    Slot draft = Draft("m1", At(9, 0), 15);
    c.edit(draft);
    EXPECT_THAT(NormalizeSlotDraft(draft, kNow, "slots[3]"),
                StatusIs(absl::StatusCode::kInvalidArgument, c.error))
        << c.name;
  }
}

TEST(NormalizeSlotDraftTest, AcceptsEachModeAndNormalises) {
  Slot office = Draft("m1", kNow, 5);  // starting right now is not in the past
  office.place = {" 2a004 ", "  2  rue   de la Gare\t"};
  ASSERT_THAT(NormalizeSlotDraft(office, kNow, "slots[0]"), IsOk());
  EXPECT_EQ(office.place.commune_insee, "2A004");
  EXPECT_EQ(office.place.address, "2 rue de la Gare");

  Slot home = Draft("m1", At(9, 0), 12 * 60, ConsultationMode::kHome);
  EXPECT_THAT(NormalizeSlotDraft(home, kNow, "slots[0]"), IsOk());
  Slot video = Draft("m1", kNow + absl::Hours(24 * 366), 20, ConsultationMode::kVideo);
  EXPECT_THAT(NormalizeSlotDraft(video, kNow, "slots[0]"), IsOk());
}

// --- who publishes ---------------------------------------------------------------------

TEST(ResolveProfessionalTest, Matrix) {
  struct Case {
    const char* name;
    Principal caller;
    std::string requested;
    absl::StatusCode code;
    std::string resolved;
  };
  const std::vector<Case> cases = {
      {"member for themselves, implicit", Caller({"member"}, "m1"), "", absl::StatusCode::kOk,
       "m1"},
      {"member for themselves, explicit", Caller({"member"}, "m1"), "m1", absl::StatusCode::kOk,
       "m1"},
      {"member for another", Caller({"member"}, "m1"), "m2", absl::StatusCode::kPermissionDenied,
       ""},
      {"coordinator for anyone", Caller({"coordinator"}), "m2", absl::StatusCode::kOk, "m2"},
      {"secretary for anyone", Caller({"secretary"}), "m2", absl::StatusCode::kOk, "m2"},
      {"coordinator, nobody named", Caller({"coordinator"}), "", absl::StatusCode::kInvalidArgument,
       ""},
      {"sas regulator", Caller({"sas_regulator"}), "m2", absl::StatusCode::kPermissionDenied, ""},
      {"member role without a member id", Caller({"member"}), "",
       absl::StatusCode::kInvalidArgument, ""},
      {"no tenant", Caller({"coordinator"}, "", ""), "m2", absl::StatusCode::kPermissionDenied, ""},
      {"malformed id", Caller({"coordinator"}), "m 2", absl::StatusCode::kInvalidArgument, ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> got =
        ResolveProfessional(c.caller, c.requested, "slots[0].professional_member_id");
    EXPECT_EQ(got.status().code(), c.code) << c.name << ": " << got.status();
    if (got.ok()) {
      EXPECT_EQ(*got, c.resolved) << c.name;
    }
  }
}

// --- the whole publication -------------------------------------------------------------

TEST(PreparePublishTest, FillsServerFieldsInRequestOrder) {
  platform::SequentialIdGenerator ids("slot-");
  const PublishContext context{"t1", "user:dr-a", kNow + absl::Nanoseconds(1500)};
  absl::StatusOr<std::vector<Slot>> slots = PreparePublish(
      {Draft("m1", At(9, 30), 15), Draft("m1", At(9, 0), 30, ConsultationMode::kVideo)},
      {Stored("s-old", "m1", At(10, 0), 30)}, context, ids);
  ASSERT_THAT(slots, IsOk());
  ASSERT_EQ(slots->size(), 2U);
  const Slot& first = (*slots)[0];
  EXPECT_EQ(first.id, "slot-00000001");
  EXPECT_EQ(first.tenant_id, "t1");
  EXPECT_EQ(first.status, SlotStatus::kFree);
  EXPECT_EQ(first.published_by, "user:dr-a");
  EXPECT_EQ(first.create_time, kNow + absl::Microseconds(1));  // truncated to microseconds
  EXPECT_EQ(first.update_time, first.create_time);
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.start, At(9, 30));
  EXPECT_EQ((*slots)[1].id, "slot-00000002");
  EXPECT_EQ((*slots)[1].mode, ConsultationMode::kVideo);
}

TEST(PreparePublishTest, AllOrNothing) {
  platform::SequentialIdGenerator ids("slot-");
  const PublishContext context{"t1", "user:x", kNow};
  Slot bad = Draft("m1", At(11, 0), 15);
  bad.kind = SlotKind::kUnspecified;
  EXPECT_THAT(PreparePublish({Draft("m1", At(9, 0), 15), bad}, {}, context, ids),
              StatusIs(absl::StatusCode::kInvalidArgument, "slots[1].kind: required"));
  EXPECT_THAT(
      PreparePublish({Draft("m1", At(9, 0), 15)}, {Stored("s1", "m1", At(9, 5), 5)}, context, ids),
      StatusIs(absl::StatusCode::kFailedPrecondition, "slots[0]: overlaps"));
  EXPECT_THAT(PreparePublish({}, {}, context, ids),
              StatusIs(absl::StatusCode::kInvalidArgument, "slots: required"));
  std::vector<Slot> many;
  many.reserve(501);
  for (int i = 0; i < 501; ++i) many.push_back(Draft("m1", At(0, 0, 12) + absl::Minutes(5 * i), 5));
  EXPECT_THAT(PreparePublish(many, {}, context, ids),
              StatusIs(absl::StatusCode::kInvalidArgument, "at most 500 slots"));
  many.pop_back();
  EXPECT_THAT(PreparePublish(many, {}, context, ids), IsOk());

  Slot unresolved = Draft("m1", At(9, 0), 15);
  unresolved.profession_code.clear();
  EXPECT_THAT(PreparePublish({unresolved}, {}, context, ids),
              StatusIs(absl::StatusCode::kInternal));
  Slot nobody = Draft("", At(9, 0), 15);
  EXPECT_THAT(PreparePublish({nobody}, {}, context, ids),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "slots[0].professional_member_id: must not be empty"));
}

// --- withdrawing -----------------------------------------------------------------------

TEST(WithdrawTest, OnlyAFreeFutureSlot) {
  struct Case {
    const char* name;
    SlotStatus status;
    absl::Time start;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"free", SlotStatus::kFree, At(9, 0), absl::StatusCode::kOk, ""},
      {"booked", SlotStatus::kBooked, At(9, 0), absl::StatusCode::kFailedPrecondition,
       "slot is BOOKED; WITHDRAW is allowed only from FREE: cancel the booking first"},
      {"withdrawn", SlotStatus::kWithdrawn, At(9, 0), absl::StatusCode::kFailedPrecondition,
       "already WITHDRAWN"},
      {"started", SlotStatus::kFree, kNow, absl::StatusCode::kFailedPrecondition,
       "only a future slot can be withdrawn"},
  };
  for (const Case& c : cases) {
    Slot slot = Stored("s1", "m1", c.start, 15, c.status);
    const Slot before = slot;
    const absl::Status s = ApplyWithdraw(slot, " holiday ", kNow);
    EXPECT_THAT(s, StatusIs(c.code, c.message)) << c.name;
    if (s.ok()) {
      EXPECT_EQ(slot.status, SlotStatus::kWithdrawn);
      EXPECT_EQ(slot.withdraw_reason, "holiday");
      EXPECT_EQ(slot.update_time, kNow);
    } else {
      EXPECT_EQ(slot.status, before.status) << c.name;
    }
  }
  Slot slot = Stored("s1", "m1", At(9, 0), 15);
  EXPECT_THAT(ApplyWithdraw(slot, std::string(501, 'x'), kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason"));
  EXPECT_EQ(slot.status, SlotStatus::kFree);
}

TEST(WithdrawTest, WhoMayWithdraw) {
  const Slot slot = Stored("s1", "m1", At(9, 0), 15);
  struct Case {
    const char* name;
    Principal caller;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"its professional", Caller({"member"}, "m1"), absl::StatusCode::kOk},
      {"another professional", Caller({"member"}, "m2"), absl::StatusCode::kPermissionDenied},
      {"coordinator", Caller({"coordinator"}), absl::StatusCode::kOk},
      {"secretary", Caller({"secretary"}), absl::StatusCode::kOk},
      {"sas regulator", Caller({"sas_regulator"}), absl::StatusCode::kPermissionDenied},
      {"coordinator of another CPTS", Caller({"coordinator"}, "", "t2"),
       absl::StatusCode::kNotFound},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(CheckCanWithdraw(c.caller, slot), StatusIs(c.code)) << c.name;
  }
}

TEST(SnpStoreTimeTest, TruncatesToMicroseconds) {
  EXPECT_EQ(SnpStoreTime(kNow + absl::Nanoseconds(999)), kNow);
  EXPECT_EQ(SnpStoreTime(kNow + absl::Nanoseconds(1001)), kNow + absl::Microseconds(1));
  EXPECT_EQ(SnpStoreTime(kNow - absl::Nanoseconds(1)), kNow - absl::Microseconds(1));
  EXPECT_THAT(std::vector<absl::Time>{SnpStoreTime(absl::InfinitePast())},
              ElementsAre(absl::InfinitePast()));
}

}  // namespace
}  // namespace cpts::access
