#include "services/projects/validators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

TEST(NormalizeTextTest, TrimsAndChecks) {
  EXPECT_EQ(*NormalizeText("  Réunion de lancement ", "f", 100, true), "Réunion de lancement");
  EXPECT_EQ(*NormalizeText("", "f", 10, false), "");
  EXPECT_THAT(NormalizeText(" ", "task.title", 10, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "task.title: must not be empty"));
  // Ten code points of two bytes each fit in ten characters.
  EXPECT_THAT(NormalizeText("éééééééééé", "f", 10, true), IsOk());
  EXPECT_THAT(NormalizeText("ééééééééééé", "f", 10, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "f: must be at most 10 characters"));
  EXPECT_THAT(NormalizeText("a\nb", "f", 10, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "control characters"));
  EXPECT_THAT(NormalizeText("a\nb", "f", 10, true, true), IsOk());
  EXPECT_THAT(NormalizeText("a\xC3", "f", 10, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "f: is not valid UTF-8"));
  EXPECT_THAT(NormalizeText("\xC0\xAF", "f", 10, true),  // overlong '/'
              StatusIs(absl::StatusCode::kInvalidArgument, "UTF-8"));
  EXPECT_THAT(NormalizeText("a\u202Eb", "f", 10, true),  // right-to-left override
              StatusIs(absl::StatusCode::kInvalidArgument, "control characters"));
}

TEST(ValidateHttpsUrlTest, AcceptsHttpsWithAHost) {
  for (const std::string url :
       {"https://visio.example.org/room/42", "HTTPS://example.org", "https://example.org?x=1"}) {
    EXPECT_THAT(ValidateHttpsUrl(url, "f"), IsOk()) << url;
  }
}

TEST(ValidateHttpsUrlTest, Refusals) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://example.org", "must be an https URL"},
      {"ftp://example.org", "must be an https URL"},
      {"example.org", "must be an https URL"},
      {"https://", "must name a host"},
      {"https:///path", "must name a host"},
      {"https://user@example.org", "must name a host (and no user information)"},
      {"https://exa mple.org", "must not contain spaces"},
      {absl::StrCat("https://example.org/", std::string(2000, 'a')),
       "must be at most 2000 characters"},
  };
  for (const auto& [url, message] : cases) {
    EXPECT_THAT(ValidateHttpsUrl(url, "document.url"),
                StatusIs(absl::StatusCode::kInvalidArgument, "document.url: " + message))
        << url;
  }
}

TEST(IdsTest, ResourceIdsAndRequestIds) {
  EXPECT_THAT(ValidateResourceId("g-1_A", "f"), IsOk());
  EXPECT_THAT(ValidateResourceId("", "group_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "group_id: must not be empty"));
  EXPECT_THAT(ValidateResourceId("g/1", "f"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateResourceId(std::string(65, 'a'), "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, "64"));
  EXPECT_THAT(ValidateRequestId("req-1:2", "request_id"), IsOk());
  EXPECT_THAT(ValidateRequestId("", "request_id"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateRequestId("a b", "request_id"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateRequestId(std::string(129, 'a'), "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PageSizeTest, DefaultClampAndRefuseNegative) {
  EXPECT_EQ(*EffectivePageSize(0, 50, 200, "page_size"), 50);
  EXPECT_EQ(*EffectivePageSize(10, 50, 200, "page_size"), 10);
  EXPECT_EQ(*EffectivePageSize(1000, 50, 200, "page_size"), 200);
  EXPECT_THAT(EffectivePageSize(-1, 50, 200, "page_size"),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_size"));
}

TEST(YearTest, Range) {
  EXPECT_THAT(ValidateYear(2000, "year"), IsOk());
  EXPECT_THAT(ValidateYear(2100, "year"), IsOk());
  EXPECT_THAT(ValidateYear(1999, "year"), StatusIs(absl::StatusCode::kInvalidArgument, "year:"));
  EXPECT_THAT(ValidateYear(2101, "year"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NormalizeMissionTest, NamesTheField) {
  Mission m;
  m.number = 0;
  m.label = "X";
  m.kind = MissionKind::kCore;
  EXPECT_THAT(NormalizeMission(m, "mission"),
              StatusIs(absl::StatusCode::kInvalidArgument, "mission.number"));
  m.number = 7;
  m.label = "";
  EXPECT_THAT(NormalizeMission(m, "mission"),
              StatusIs(absl::StatusCode::kInvalidArgument, "mission.label"));
  m.label = "Santé mentale";
  m.kind = MissionKind::kUnspecified;
  EXPECT_THAT(NormalizeMission(m, "mission"),
              StatusIs(absl::StatusCode::kInvalidArgument, "mission.kind"));
}

Action ValidAction() {
  Action a;
  a.mission_id = "ms1";
  a.title = " Ateliers prévention chutes ";
  a.specific_objectives = {"Réduire les chutes"};
  a.partners = {"Association Alpha"};
  a.calendar = {Milestone{.label = "Lancement", .date = absl::CivilDay(2025, 5, 6)}};
  return a;
}

TEST(NormalizeActionTest, TrimsAndNamesNestedFields) {
  Action a = ValidAction();
  ASSERT_THAT(NormalizeAction(a, "action"), IsOk());
  EXPECT_EQ(a.title, "Ateliers prévention chutes");

  Action bad_objective = ValidAction();
  bad_objective.specific_objectives.push_back("  ");
  EXPECT_THAT(NormalizeAction(bad_objective, "action"),
              StatusIs(absl::StatusCode::kInvalidArgument, "action.specific_objectives[1]"));
  Action bad_milestone = ValidAction();
  bad_milestone.calendar[0].label = "";
  EXPECT_THAT(NormalizeAction(bad_milestone, "action"),
              StatusIs(absl::StatusCode::kInvalidArgument, "action.calendar[0].label"));
  Action no_mission = ValidAction();
  no_mission.mission_id = "";
  EXPECT_THAT(NormalizeAction(no_mission, "action"),
              StatusIs(absl::StatusCode::kInvalidArgument, "action.mission_id"));
  Action many_partners = ValidAction();
  many_partners.partners.assign(51, "P");
  EXPECT_THAT(NormalizeAction(many_partners, "action"),
              StatusIs(absl::StatusCode::kInvalidArgument, "action.partners: must have at most"));
}

TEST(NormalizeWorkingGroupTest, NeedsDistinctActions) {
  WorkingGroup g;
  g.name = "Prévention";
  g.action_ids = {};
  EXPECT_THAT(NormalizeWorkingGroup(g, "working_group"),
              StatusIs(absl::StatusCode::kInvalidArgument, "working_group.action_ids"));
  g.action_ids = {"a1", "a2", "a1"};
  EXPECT_THAT(
      NormalizeWorkingGroup(g, "working_group"),
      StatusIs(absl::StatusCode::kInvalidArgument, "working_group.action_ids[2]: is listed twice"));
  g.action_ids = {"a1", "a2"};
  EXPECT_THAT(NormalizeWorkingGroup(g, "working_group"), IsOk());
}

TEST(NormalizeTaskTest, Checks) {
  Task t;
  t.group_id = "g1";
  t.title = "Préparer l'atelier";
  t.assignee_participant_ids = {"p1", "p2"};
  EXPECT_THAT(NormalizeTask(t, "task"), IsOk());
  t.assignee_participant_ids = {"p1", "p1"};
  EXPECT_THAT(NormalizeTask(t, "task"),
              StatusIs(absl::StatusCode::kInvalidArgument, "task.assignee_participant_ids[1]"));
  t.assignee_participant_ids = {};
  t.status = TaskStatus::kUnspecified;
  EXPECT_THAT(NormalizeTask(t, "task"),
              StatusIs(absl::StatusCode::kInvalidArgument, "task.status"));
}

TEST(NormalizeDocumentTest, ExactlyOneLocation) {
  Document d;
  d.group_id = "g1";
  d.title = "Compte rendu";
  EXPECT_THAT(NormalizeDocument(d, "document"),
              StatusIs(absl::StatusCode::kInvalidArgument, "document.location"));
  d.url = "https://docs.example.org/cr.pdf";
  d.storage_key = "groups/g1/cr.pdf";
  EXPECT_THAT(NormalizeDocument(d, "document"),
              StatusIs(absl::StatusCode::kInvalidArgument, "document.location"));
  d.url.clear();
  EXPECT_THAT(NormalizeDocument(d, "document"), IsOk());
  d.storage_key = "a key";
  EXPECT_THAT(NormalizeDocument(d, "document"),
              StatusIs(absl::StatusCode::kInvalidArgument, "document.storage_key"));
  d.storage_key.clear();
  d.url = "http://docs.example.org/cr.pdf";
  EXPECT_THAT(NormalizeDocument(d, "document"),
              StatusIs(absl::StatusCode::kInvalidArgument, "document.url"));
}

TEST(ValidateRequeueTargetTest, ExactlyOneOfIdsAndTopic) {
  EXPECT_THAT(ValidateRequeueTarget({1, 7}, ""), IsOk());
  EXPECT_THAT(ValidateRequeueTarget({}, "finance.attendance"), IsOk());
  EXPECT_THAT(ValidateRequeueTarget({}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "ids: exactly one"));
  EXPECT_THAT(ValidateRequeueTarget({1}, "finance.attendance"),
              StatusIs(absl::StatusCode::kInvalidArgument, "topic: exactly one"));
  EXPECT_THAT(ValidateRequeueTarget({3, 0}, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "ids: 0 is not an event id"));
  EXPECT_THAT(ValidateRequeueTarget(std::vector<int64_t>(101, 1), ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "ids: at most 100"));
  EXPECT_THAT(ValidateRequeueTarget({}, "Finance attendance"),
              StatusIs(absl::StatusCode::kInvalidArgument, "topic: must contain only"));
  EXPECT_THAT(ValidateRequeueTarget({}, std::string(65, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, "topic: must be at most 64"));
}

TEST(ScrubUtf8Test, ReplacesOnlyInvalidBytes) {
  EXPECT_EQ(ScrubUtf8("tarif inconnu: réunion"), "tarif inconnu: réunion");
  EXPECT_EQ(ScrubUtf8("cut \xC3"), "cut ?");
  EXPECT_EQ(ScrubUtf8("a\xFF\xC3\xA9"
                      "b"),
            "a?éb");
}

}  // namespace
}  // namespace cpts::projects
