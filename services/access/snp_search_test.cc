#include "services/access/snp_search.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilMinute(2025, 3, day, hour, minute), absl::UTCTimeZone());
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

SlotSearchQuery Window(absl::Time from, absl::Time to) {
  SlotSearchQuery q;
  q.start_time = from;
  q.end_time = to;
  return q;
}

// --- the visibility matrix -------------------------------------------------------------

TEST(VisibilityTest, Matrix) {
  struct Row {
    std::vector<std::string> roles;
    Visibility max;
  };
  const std::vector<Row> rows = {
      {{"public_form"}, Visibility::kPublic},
      {{"partner"}, Visibility::kPublic},
      {{"service"}, Visibility::kPublic},
      {{"reporting"}, Visibility::kPublic},
      {{"member"}, Visibility::kPro},
      {{"triage_nurse"}, Visibility::kPro},
      {{"sas_regulator"}, Visibility::kSnp},
      {{"secretary"}, Visibility::kCpts},
      {{"coordinator"}, Visibility::kCpts},
      {{"member", "sas_regulator"}, Visibility::kSnp},  // the highest role counts
      {{"public_form", "coordinator"}, Visibility::kCpts},
  };
  const Visibility levels[] = {Visibility::kPublic, Visibility::kPro, Visibility::kSnp,
                               Visibility::kCpts};
  for (const Row& row : rows) {
    const Principal caller = Caller(row.roles);
    EXPECT_EQ(MaxVisibilityFor(caller), row.max) << row.roles[0];
    std::vector<Visibility> expected;
    for (const Visibility v : levels) {
      EXPECT_EQ(CanSee(caller, v), v <= row.max) << row.roles[0] << " " << VisibilityName(v);
      if (v <= row.max) expected.push_back(v);
    }
    EXPECT_EQ(AllowedVisibilities(caller), expected) << row.roles[0];
    EXPECT_FALSE(CanSee(caller, Visibility::kUnspecified));
  }
  const Principal no_tenant = Caller({"coordinator"}, "", "");
  EXPECT_EQ(MaxVisibilityFor(no_tenant), Visibility::kUnspecified);
  EXPECT_THAT(AllowedVisibilities(no_tenant), IsEmpty());
  EXPECT_FALSE(CanSee(no_tenant, Visibility::kPublic));
}

// --- planning --------------------------------------------------------------------------

TEST(PlanSlotSearchTest, NormalisesFilters) {
  SlotSearchQuery q = Window(At(10, 8), At(13, 8));
  q.communes = {"77288", " 2a004", "77288"};
  q.profession_codes = {"PHARMACIEN", "MEDECIN_GENERALISTE"};
  q.modes = {ConsultationMode::kVideo, ConsultationMode::kOffice};
  q.professional_member_ids = {"m2", "m1", "m2"};
  q.kind = SlotKind::kBookable;
  absl::StatusOr<SlotSearchPlan> plan = PlanSlotSearch(Caller({"member"}, "m9"), q);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->tenant_id, "t1");
  EXPECT_EQ(plan->start_from, At(10, 8));
  EXPECT_EQ(plan->start_before, At(13, 8));
  EXPECT_THAT(plan->communes, ElementsAre("2A004", "77288"));
  EXPECT_THAT(plan->profession_codes, ElementsAre("MEDECIN_GENERALISTE", "PHARMACIEN"));
  EXPECT_THAT(plan->modes, ElementsAre(ConsultationMode::kOffice, ConsultationMode::kVideo));
  EXPECT_THAT(plan->professional_member_ids, ElementsAre("m1", "m2"));
  EXPECT_THAT(plan->visibilities, ElementsAre(Visibility::kPublic, Visibility::kPro));
  EXPECT_EQ(plan->page_size, kDefaultSlotPageSize);
  EXPECT_FALSE(plan->after.has_value());
}

TEST(PlanSlotSearchTest, RefusesBadQueriesNamingTheField) {
  struct Case {
    const char* name;
    void (*edit)(SlotSearchQuery&);
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no start", [](SlotSearchQuery& q) { q.start_time = absl::InfinitePast(); },
       absl::StatusCode::kInvalidArgument, "start_time: required"},
      {"no end", [](SlotSearchQuery& q) { q.end_time = absl::InfinitePast(); },
       absl::StatusCode::kInvalidArgument, "end_time: required"},
      {"end before start", [](SlotSearchQuery& q) { q.end_time = q.start_time; },
       absl::StatusCode::kInvalidArgument, "end_time: must be after start_time"},
      {"window too long",
       [](SlotSearchQuery& q) { q.end_time = q.start_time + absl::Hours(24 * 31 + 1); },
       absl::StatusCode::kInvalidArgument, "end_time: must be at most 31 days"},
      {"bad commune",
       [](SlotSearchQuery& q) {
         q.communes = {"77288", "7728"};
       },
       absl::StatusCode::kInvalidArgument, "communes[1]"},
      {"too many communes",
       [](SlotSearchQuery& q) { q.communes = std::vector<std::string>(51, "77288"); },
       absl::StatusCode::kInvalidArgument, "communes: at most 50"},
      {"bad profession", [](SlotSearchQuery& q) { q.profession_codes = {"pharmacien"}; },
       absl::StatusCode::kInvalidArgument, "profession_codes[0]"},
      {"bad professional id", [](SlotSearchQuery& q) { q.professional_member_ids = {"a b"}; },
       absl::StatusCode::kInvalidArgument, "professional_member_ids[0]"},
      {"unspecified mode",
       [](SlotSearchQuery& q) {
         q.modes = {ConsultationMode::kHome, ConsultationMode::kUnspecified};
       },
       absl::StatusCode::kInvalidArgument, "modes[1]"},
      {"unspecified visibility",
       [](SlotSearchQuery& q) { q.visibilities = {Visibility::kUnspecified}; },
       absl::StatusCode::kInvalidArgument, "visibilities[0]"},
      {"visibility above the caller's",
       [](SlotSearchQuery& q) {
         q.visibilities = {Visibility::kPublic, Visibility::kSnp};
       },
       absl::StatusCode::kPermissionDenied, "visibilities[1]: the caller's role may not see SNP"},
      {"negative page size", [](SlotSearchQuery& q) { q.page_size = -1; },
       absl::StatusCode::kInvalidArgument, "page_size"},
      {"garbage token", [](SlotSearchQuery& q) { q.page_token = "%%%"; },
       absl::StatusCode::kInvalidArgument, "page_token: is not a valid page token"},
  };
  for (const Case& c : cases) {
    SlotSearchQuery q = Window(At(10, 8), At(13, 8));
    c.edit(q);
    EXPECT_THAT(PlanSlotSearch(Caller({"member"}, "m9"), q), StatusIs(c.code, c.message)) << c.name;
  }
  EXPECT_THAT(PlanSlotSearch(Caller({"coordinator"}, "", ""), Window(At(10, 8), At(13, 8))),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(PlanSlotSearchTest, PageSizeDefaultsAndClamps) {
  SlotSearchQuery q = Window(At(10, 8), At(13, 8));
  q.page_size = 5000;
  EXPECT_EQ(PlanSlotSearch(Caller({"member"}, "m9"), q)->page_size, kMaxSlotPageSize);
  q.page_size = 7;
  EXPECT_EQ(PlanSlotSearch(Caller({"member"}, "m9"), q)->page_size, 7);
}

// --- matching, order and pages ---------------------------------------------------------

Slot FreeSlot(const std::string& id, absl::Time start, Visibility visibility,
              const std::string& commune = "77288",
              ConsultationMode mode = ConsultationMode::kOffice) {
  Slot s;
  s.id = id;
  s.tenant_id = "t1";
  s.professional_member_id = "m1";
  s.profession_code = "MEDECIN_GENERALISTE";
  s.start = start;
  s.duration = absl::Minutes(15);
  s.mode = mode;
  if (mode != ConsultationMode::kVideo) s.place = {commune, "1 rue A"};
  s.visibility = visibility;
  s.kind = SlotKind::kBookable;
  s.status = SlotStatus::kFree;
  return s;
}

// What a store does with a plan: filter, order, take page_size + 1.
std::vector<Slot> RunStore(const SlotSearchPlan& plan, const std::vector<Slot>& table) {
  std::vector<Slot> rows;
  for (const Slot& s : table) {
    if (SlotMatches(plan, s)) rows.push_back(s);
  }
  std::sort(rows.begin(), rows.end(), SlotSearchOrder);
  if (rows.size() > static_cast<std::size_t>(plan.page_size) + 1) rows.resize(plan.page_size + 1);
  return rows;
}

std::vector<std::string> Ids(const std::vector<Slot>& slots) {
  std::vector<std::string> ids;
  ids.reserve(slots.size());
  for (const Slot& s : slots) ids.push_back(s.id);
  return ids;
}

TEST(SlotMatchesTest, EachFilter) {
  std::vector<Slot> table = {
      FreeSlot("pub", At(11, 9), Visibility::kPublic),
      FreeSlot("pro", At(11, 10), Visibility::kPro),
      FreeSlot("snp", At(11, 11), Visibility::kSnp),
      FreeSlot("cpts", At(11, 12), Visibility::kCpts),
      FreeSlot("other-commune", At(11, 13), Visibility::kPublic, "77001"),
      FreeSlot("video", At(11, 14), Visibility::kPublic, "", ConsultationMode::kVideo),
      FreeSlot("before-window", At(10, 7, 59), Visibility::kPublic),
      FreeSlot("at-window-end", At(13, 8), Visibility::kPublic),
  };
  Slot booked = FreeSlot("booked", At(11, 15), Visibility::kPublic);
  booked.status = SlotStatus::kBooked;
  Slot withdrawn = FreeSlot("withdrawn", At(11, 16), Visibility::kPublic);
  withdrawn.status = SlotStatus::kWithdrawn;
  Slot foreign = FreeSlot("other-tenant", At(11, 17), Visibility::kPublic);
  foreign.tenant_id = "t2";
  Slot walk_in = FreeSlot("walk-in", At(11, 18), Visibility::kPublic);
  walk_in.kind = SlotKind::kWalkIn;
  Slot nurse = FreeSlot("nurse", At(11, 19), Visibility::kPublic);
  nurse.profession_code = "INFIRMIER";
  nurse.professional_member_id = "m2";
  table.insert(table.end(), {booked, withdrawn, foreign, walk_in, nurse});

  struct Case {
    const char* name;
    Principal caller;
    void (*edit)(SlotSearchQuery&);
    std::vector<std::string> ids;
  };
  const auto none = [](SlotSearchQuery&) {};
  const std::vector<Case> cases = {
      {"public form sees public slots",
       Caller({"public_form"}),
       none,
       {"pub", "other-commune", "video", "walk-in", "nurse"}},
      {"member adds PRO",
       Caller({"member"}, "m9"),
       none,
       {"pub", "pro", "other-commune", "video", "walk-in", "nurse"}},
      {"regulator adds SNP",
       Caller({"sas_regulator"}),
       none,
       {"pub", "pro", "snp", "other-commune", "video", "walk-in", "nurse"}},
      {"coordinator sees all",
       Caller({"coordinator"}),
       none,
       {"pub", "pro", "snp", "cpts", "other-commune", "video", "walk-in", "nurse"}},
      {"only SNP, asked by the coordinator",
       Caller({"coordinator"}),
       [](SlotSearchQuery& q) { q.visibilities = {Visibility::kSnp}; },
       {"snp"}},
      {"commune filter drops video",
       Caller({"public_form"}),
       [](SlotSearchQuery& q) { q.communes = {"77001"}; },
       {"other-commune"}},
      {"mode",
       Caller({"public_form"}),
       [](SlotSearchQuery& q) { q.modes = {ConsultationMode::kVideo}; },
       {"video"}},
      {"kind",
       Caller({"public_form"}),
       [](SlotSearchQuery& q) { q.kind = SlotKind::kWalkIn; },
       {"walk-in"}},
      {"profession",
       Caller({"public_form"}),
       [](SlotSearchQuery& q) { q.profession_codes = {"INFIRMIER"}; },
       {"nurse"}},
      {"professional",
       Caller({"public_form"}),
       [](SlotSearchQuery& q) { q.professional_member_ids = {"m2"}; },
       {"nurse"}},
  };
  for (const Case& c : cases) {
    SlotSearchQuery q = Window(At(10, 8), At(13, 8));
    c.edit(q);
    absl::StatusOr<SlotSearchPlan> plan = PlanSlotSearch(c.caller, q);
    ASSERT_THAT(plan, IsOk()) << c.name;
    EXPECT_THAT(Ids(FinishSlotSearch(*plan, RunStore(*plan, table)).slots), ElementsAreArray(c.ids))
        << c.name;
  }
}

TEST(SlotSearchPagingTest, KeysetPagesAreStableAndComplete) {
  // 7 slots, three sharing a start time (ordered by id), inserted out of order.
  std::vector<Slot> table = {
      FreeSlot("s5", At(11, 10), Visibility::kPublic),
      FreeSlot("s1", At(11, 9), Visibility::kPublic),
      FreeSlot("s3", At(11, 9, 30), Visibility::kPublic),
      FreeSlot("s2b", At(11, 9, 15), Visibility::kPublic),
      FreeSlot("s2a", At(11, 9, 15), Visibility::kPublic),
      FreeSlot("s2c", At(11, 9, 15), Visibility::kPublic),
      FreeSlot("s6", At(11, 11), Visibility::kPublic),
  };
  SlotSearchQuery q = Window(At(10, 8), At(13, 8));
  q.page_size = 3;
  std::vector<std::string> seen;
  std::vector<std::vector<std::string>> pages;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<SlotSearchPlan> plan = PlanSlotSearch(Caller({"member"}, "m9"), q);
    ASSERT_THAT(plan, IsOk());
    const SlotSearchPage page = FinishSlotSearch(*plan, RunStore(*plan, table));
    pages.push_back(Ids(page.slots));
    if (i == 0) {
      // A slot published before the first page's cursor does not shift later pages.
      table.push_back(FreeSlot("s0", At(11, 8), Visibility::kPublic));
    }
    if (page.next_page_token.empty()) break;
    q.page_token = page.next_page_token;
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre("s1", "s2a", "s2b"), ElementsAre("s2c", "s3", "s5"),
                                 ElementsAre("s6")));
}

TEST(SlotSearchPagingTest, LastFullPageHasNoToken) {
  const std::vector<Slot> table = {FreeSlot("a", At(11, 9), Visibility::kPublic),
                                   FreeSlot("b", At(11, 10), Visibility::kPublic)};
  SlotSearchQuery q = Window(At(10, 8), At(13, 8));
  q.page_size = 2;
  absl::StatusOr<SlotSearchPlan> plan = PlanSlotSearch(Caller({"member"}, "m9"), q);
  ASSERT_THAT(plan, IsOk());
  const SlotSearchPage page = FinishSlotSearch(*plan, RunStore(*plan, table));
  EXPECT_THAT(Ids(page.slots), ElementsAre("a", "b"));
  EXPECT_TRUE(page.next_page_token.empty());
}

TEST(SlotSearchPagingTest, TokenIsBoundToTheFilters) {
  const std::vector<Slot> table = {FreeSlot("a", At(11, 9), Visibility::kPublic),
                                   FreeSlot("b", At(11, 10), Visibility::kPublic)};
  SlotSearchQuery q = Window(At(10, 8), At(13, 8));
  q.page_size = 1;
  absl::StatusOr<SlotSearchPlan> plan = PlanSlotSearch(Caller({"member"}, "m9"), q);
  ASSERT_THAT(plan, IsOk());
  const std::string token = FinishSlotSearch(*plan, RunStore(*plan, table)).next_page_token;
  ASSERT_FALSE(token.empty());

  q.page_token = token;
  q.page_size = 50;  // the page size may change between pages
  EXPECT_THAT(PlanSlotSearch(Caller({"member"}, "m9"), q), IsOk());
  q.communes = {"77288"};
  EXPECT_THAT(PlanSlotSearch(Caller({"member"}, "m9"), q),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "page_token: was issued for a request with different filters"));
  q.communes.clear();
  // Another caller level means other visibilities, hence other filters.
  EXPECT_THAT(PlanSlotSearch(Caller({"coordinator"}), q),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_token"));
}

}  // namespace
}  // namespace cpts::access
