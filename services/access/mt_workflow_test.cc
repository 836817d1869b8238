#include "services/access/mt_workflow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;

constexpr MtState kAllStates[] = {
    MtState::kUnspecified, MtState::kReceived,  MtState::kTriaged,
    MtState::kProposed,    MtState::kAccepted,  MtState::kPlaced,
    MtState::kUnreachable, MtState::kWithdrawn, MtState::kClosedOther,
};
constexpr MtAction kAllActions[] = {
    MtAction::kSubmit,          MtAction::kTriage,   MtAction::kAssign,
    MtAction::kAccept,          MtAction::kDecline,  MtAction::kMarkPlaced,
    MtAction::kMarkUnreachable, MtAction::kWithdraw, MtAction::kClose,
};

const absl::CivilDay kToday(2025, 6, 15);
constexpr absl::Time kNow = absl::FromUnixSeconds(1749981600);  // 2025-06-15T10:00:00Z

TEST(ConstantsTest, NowIsPlainUtc) {
  EXPECT_EQ(kNow, absl::FromCivil(absl::CivilSecond(2025, 6, 15, 10, 0, 0), absl::UTCTimeZone()));
}

// --- the table -------------------------------------------------------------------------

TEST(MtTransitionTableTest, EveryPairIsAllowedOrRefusedAsSpecified) {
  using S = MtState;
  using A = MtAction;
  const std::map<std::pair<S, A>, S> allowed = {
      {{S::kUnspecified, A::kSubmit}, S::kReceived},
      {{S::kReceived, A::kTriage}, S::kTriaged},
      {{S::kTriaged, A::kTriage}, S::kTriaged},
      {{S::kTriaged, A::kAssign}, S::kProposed},
      {{S::kProposed, A::kAccept}, S::kAccepted},
      {{S::kProposed, A::kDecline}, S::kTriaged},
      {{S::kAccepted, A::kDecline}, S::kTriaged},
      {{S::kAccepted, A::kMarkPlaced}, S::kPlaced},
      {{S::kReceived, A::kMarkUnreachable}, S::kUnreachable},
      {{S::kTriaged, A::kMarkUnreachable}, S::kUnreachable},
      {{S::kProposed, A::kMarkUnreachable}, S::kUnreachable},
      {{S::kAccepted, A::kMarkUnreachable}, S::kUnreachable},
      {{S::kReceived, A::kWithdraw}, S::kWithdrawn},
      {{S::kTriaged, A::kWithdraw}, S::kWithdrawn},
      {{S::kProposed, A::kWithdraw}, S::kWithdrawn},
      {{S::kAccepted, A::kWithdraw}, S::kWithdrawn},
      {{S::kReceived, A::kClose}, S::kClosedOther},
      {{S::kTriaged, A::kClose}, S::kClosedOther},
      {{S::kProposed, A::kClose}, S::kClosedOther},
      {{S::kAccepted, A::kClose}, S::kClosedOther},
  };
  for (MtState from : kAllStates) {
    for (MtAction action : kAllActions) {
      const auto it = allowed.find({from, action});
      const std::string what =
          std::string(MtStateName(from)) + " " + std::string(MtActionName(action));
      if (it != allowed.end()) {
        EXPECT_EQ(MtTargetState(from, action), it->second) << what;
        EXPECT_THAT(CheckMtAction(from, action), IsOk()) << what;
      } else {
        EXPECT_EQ(MtTargetState(from, action), std::nullopt) << what;
        EXPECT_FALSE(IsMtActionAllowed(from, action)) << what;
        // The message names the current state and the action.
        EXPECT_THAT(CheckMtAction(from, action),
                    StatusIs(absl::StatusCode::kFailedPrecondition,
                             std::string(MtActionName(action)) + " is allowed only from"))
            << what;
      }
    }
  }
}

TEST(MtTransitionTableTest, RefusalNamesTheStateAndTheAction) {
  EXPECT_THAT(CheckMtAction(MtState::kPlaced, MtAction::kTriage),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "MT request is PLACED; TRIAGE is allowed only from one of RECEIVED, "
                       "TRIAGED"));
  EXPECT_THAT(CheckMtAction(MtState::kTriaged, MtAction::kAccept),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "MT request is TRIAGED; ACCEPT is allowed only from PROPOSED"));
  EXPECT_THAT(CheckMtAction(MtState::kReceived, MtAction::kSubmit),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "MT request is RECEIVED; SUBMIT is allowed only from a new request"));
}

TEST(MtStatesTest, OpenAndFinal) {
  for (MtState s : kAllStates) {
    const bool open = s == MtState::kReceived || s == MtState::kTriaged ||
                      s == MtState::kProposed || s == MtState::kAccepted;
    const bool final = s == MtState::kPlaced || s == MtState::kUnreachable ||
                       s == MtState::kWithdrawn || s == MtState::kClosedOther;
    EXPECT_EQ(IsOpen(s), open) << MtStateName(s);
    EXPECT_EQ(IsFinal(s), final) << MtStateName(s);
    // A final state allows nothing.
    if (final) {
      for (MtAction a : kAllActions) EXPECT_FALSE(IsMtActionAllowed(s, a));
    }
  }
}

// --- steps -----------------------------------------------------------------------------

MtStep Step(MtAction action, absl::Duration after = absl::ZeroDuration(),
            std::string subject = "nurse-1") {
  MtStep step;
  step.action = action;
  step.actor = MtActor{std::move(subject), "m-nurse"};
  step.now = kNow + after;
  step.today = kToday;
  return step;
}

MtRequest NewRequest() {
  MtRequest r;
  r.id = "r1";
  r.patient = PatientIdentity{"Jeanne", "Martin", absl::CivilDay(1950, 2, 1), Sex::kFemale};
  r.commune_insee = "77288";
  r.contact.phone = "+33612345678";
  r.origin = MtOrigin::kPublicForm;
  r.consent.granted = true;
  return r;
}

// Applies the steps in order, each required to succeed.
MtRequest RunSteps(const std::vector<MtStep>& steps) {
  MtRequest r = NewRequest();
  for (const MtStep& step : steps) {
    const auto result = ApplyMtStep(step, r);
    EXPECT_THAT(result, IsOk()) << MtActionName(step.action);
  }
  return r;
}

MtStep Assign(const std::string& gp, absl::Duration after = absl::Hours(3)) {
  MtStep s = Step(MtAction::kAssign, after, "coord-1");
  s.gp_member_id = gp;
  return s;
}

MtStep Triage(PriorityClass c = PriorityClass::kUnspecified,
              absl::Duration after = absl::Hours(1)) {
  MtStep s = Step(MtAction::kTriage, after);
  s.synthesis = "Patiente seule, diabète";
  s.priority_class = c;
  return s;
}

MtStep Answer(MtAction action, const std::string& gp, absl::Duration after,
              std::string reason = "") {
  MtStep s = Step(action, after, "gp-account");
  s.gp_member_id = gp;
  s.reason = std::move(reason);
  return s;
}

TEST(ApplyMtStepTest, SubmitReceivesAndComputesThePriority) {
  MtRequest r = NewRequest();
  MtStep submit = Step(MtAction::kSubmit, absl::Nanoseconds(1234567), "form");
  const auto result = ApplyMtStep(submit, r);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(r.state, MtState::kReceived);
  EXPECT_EQ(r.submitted_by, "form");
  // Times keep whole microseconds only (the store's precision).
  EXPECT_EQ(r.create_time, kNow + absl::Microseconds(1234));
  EXPECT_EQ(r.state_time, r.create_time);
  EXPECT_EQ(r.update_time, r.create_time);
  EXPECT_EQ(r.consent.consent_time, r.create_time);
  EXPECT_TRUE(r.fragility.over_70);
  EXPECT_EQ(r.computed_priority_class, PriorityClass::kP2Age);
  EXPECT_EQ(r.priority_class, PriorityClass::kP2Age);
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_EQ(r.history[0], result->transition);
  EXPECT_EQ(r.history[0].action, MtAction::kSubmit);
  EXPECT_EQ(r.history[0].from_state, MtState::kUnspecified);
  EXPECT_EQ(r.history[0].to_state, MtState::kReceived);
  EXPECT_EQ(r.history[0].actor, "form");
  EXPECT_EQ(r.history[0].priority_class, PriorityClass::kP2Age);
  EXPECT_EQ(result->capacity_effect, CapacityEffect::kNone);
}

TEST(ApplyMtStepTest, SubmitKeepsAGivenConsentTime) {
  MtRequest r = NewRequest();
  r.consent.consent_time = kNow - absl::Hours(2);
  ASSERT_THAT(ApplyMtStep(Step(MtAction::kSubmit), r), IsOk());
  EXPECT_EQ(r.consent.consent_time, kNow - absl::Hours(2));
}

TEST(ApplyMtStepTest, HappyPathRecordsWhoWhenWhy) {
  MtStep placed = Step(MtAction::kMarkPlaced, absl::Hours(48), "coord-1");
  placed.reason = "premier rendez-vous le 20/06";
  const MtRequest r = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1"),
                                Answer(MtAction::kAccept, "gp-1", absl::Hours(24)), placed});
  EXPECT_EQ(r.state, MtState::kPlaced);
  EXPECT_EQ(r.gp_member_id, "gp-1");
  EXPECT_EQ(r.state_time, kNow + absl::Hours(48));
  EXPECT_EQ(r.state_reason, "premier rendez-vous le 20/06");
  std::vector<std::pair<MtState, MtState>> moves;
  for (const MtTransition& t : r.history) moves.emplace_back(t.from_state, t.to_state);
  EXPECT_THAT(moves, ElementsAre(std::pair(MtState::kUnspecified, MtState::kReceived),
                                 std::pair(MtState::kReceived, MtState::kTriaged),
                                 std::pair(MtState::kTriaged, MtState::kProposed),
                                 std::pair(MtState::kProposed, MtState::kAccepted),
                                 std::pair(MtState::kAccepted, MtState::kPlaced)));
  EXPECT_EQ(r.history[2].actor, "coord-1");
  EXPECT_EQ(r.history[2].gp_member_id, "gp-1");
  EXPECT_EQ(r.history[3].actor, "gp-account");
  EXPECT_EQ(r.history[3].time, kNow + absl::Hours(24));
  EXPECT_EQ(r.history[4].reason, "premier rendez-vous le 20/06");
  EXPECT_EQ(r.history[4].gp_member_id, "gp-1");
}

TEST(ApplyMtStepTest, TriageOverrideIsRecorded) {
  const MtRequest kept = RunSteps({Step(MtAction::kSubmit), Triage()});
  ASSERT_TRUE(kept.triage.has_value());
  EXPECT_EQ(kept.triage->priority_class, PriorityClass::kP2Age);
  EXPECT_FALSE(kept.triage->priority_overridden);
  EXPECT_EQ(kept.triage->synthesis, "Patiente seule, diabète");
  EXPECT_EQ(kept.triage->triaged_by, "nurse-1");
  EXPECT_EQ(kept.triage->triage_time, kNow + absl::Hours(1));

  const MtRequest overridden = RunSteps({Step(MtAction::kSubmit), Triage(PriorityClass::kP1Ald)});
  EXPECT_EQ(overridden.priority_class, PriorityClass::kP1Ald);
  EXPECT_EQ(overridden.computed_priority_class, PriorityClass::kP2Age);
  EXPECT_TRUE(overridden.triage->priority_overridden);
  EXPECT_EQ(overridden.history.back().priority_class, PriorityClass::kP1Ald);

  // Setting the computed class explicitly is not an override.
  const MtRequest same = RunSteps({Step(MtAction::kSubmit), Triage(PriorityClass::kP2Age)});
  EXPECT_FALSE(same.triage->priority_overridden);

  // Re-triage replaces the triage and keeps the state time.
  const MtRequest again = RunSteps({Step(MtAction::kSubmit), Triage(PriorityClass::kP1Ald),
                                    Triage(PriorityClass::kUnspecified, absl::Hours(2))});
  EXPECT_EQ(again.priority_class, PriorityClass::kP2Age);
  EXPECT_FALSE(again.triage->priority_overridden);
  EXPECT_EQ(again.state_time, kNow + absl::Hours(1));
  EXPECT_EQ(again.update_time, kNow + absl::Hours(2));
}

TEST(ApplyMtStepTest, DeclineGoesBackToTriagedAndExcludesTheGp) {
  MtRequest r = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1")});
  const auto declined = ApplyMtStep(Answer(MtAction::kDecline, "gp-1", absl::Hours(5), "full"), r);
  ASSERT_THAT(declined, IsOk());
  EXPECT_EQ(declined->capacity_effect, CapacityEffect::kNone);  // nothing was taken
  EXPECT_EQ(r.state, MtState::kTriaged);
  EXPECT_EQ(r.gp_member_id, "");
  EXPECT_THAT(r.declined_gp_member_ids, ElementsAre("gp-1"));
  EXPECT_EQ(r.state_reason, "full");
  EXPECT_EQ(r.history.back().gp_member_id, "gp-1");

  // The GP cannot be proposed this request again; another GP can.
  const MtRequest before = r;
  EXPECT_THAT(
      ApplyMtStep(Assign("gp-1", absl::Hours(6)), r),
      StatusIs(absl::StatusCode::kFailedPrecondition, "gp_member_id: GP gp-1 already declined"));
  EXPECT_EQ(r.history.size(), before.history.size());
  ASSERT_THAT(ApplyMtStep(Assign("gp-2", absl::Hours(6)), r), IsOk());
  EXPECT_EQ(r.state, MtState::kProposed);
  EXPECT_EQ(r.gp_member_id, "gp-2");
}

TEST(ApplyMtStepTest, CapacityIsTakenOnAcceptAndGivenBackWhenLeavingAccepted) {
  struct Case {
    MtAction exit;
    CapacityEffect effect;
  };
  const Case cases[] = {
      {MtAction::kMarkPlaced, CapacityEffect::kNone},
      {MtAction::kDecline, CapacityEffect::kGiveBack},
      {MtAction::kMarkUnreachable, CapacityEffect::kGiveBack},
      {MtAction::kWithdraw, CapacityEffect::kGiveBack},
      {MtAction::kClose, CapacityEffect::kGiveBack},
  };
  for (const Case& c : cases) {
    MtRequest r = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1")});
    const auto accepted = ApplyMtStep(Answer(MtAction::kAccept, "gp-1", absl::Hours(4)), r);
    ASSERT_THAT(accepted, IsOk());
    EXPECT_EQ(accepted->capacity_effect, CapacityEffect::kTake);
    EXPECT_EQ(accepted->capacity_gp_member_id, "gp-1");

    MtStep exit = Step(c.exit, absl::Hours(5), "coord-1");
    exit.reason = "why";
    const auto left = ApplyMtStep(exit, r);
    ASSERT_THAT(left, IsOk()) << MtActionName(c.exit);
    EXPECT_EQ(left->capacity_effect, c.effect) << MtActionName(c.exit);
    if (c.effect == CapacityEffect::kGiveBack) {
      EXPECT_EQ(left->capacity_gp_member_id, "gp-1");
      EXPECT_EQ(r.gp_member_id, "");
    }
    EXPECT_EQ(left->transition.gp_member_id, "gp-1");
  }
}

TEST(ApplyMtStepTest, ExitsFromProposedGiveNothingBack) {
  for (MtAction exit : {MtAction::kMarkUnreachable, MtAction::kWithdraw, MtAction::kClose}) {
    MtRequest r = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1")});
    MtStep step = Step(exit, absl::Hours(5));
    step.reason = "why";
    const auto result = ApplyMtStep(step, r);
    ASSERT_THAT(result, IsOk());
    EXPECT_EQ(result->capacity_effect, CapacityEffect::kNone);
    EXPECT_TRUE(IsFinal(r.state));
    EXPECT_EQ(r.gp_member_id, "");
    EXPECT_EQ(result->transition.gp_member_id, "gp-1");
  }
}

TEST(ApplyMtStepTest, OnlyTheProposedGpAnswers) {
  MtRequest r = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1")});
  const MtRequest before = r;
  EXPECT_THAT(ApplyMtStep(Answer(MtAction::kAccept, "gp-2", absl::Hours(4)), r),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(ApplyMtStep(Answer(MtAction::kDecline, "gp-2", absl::Hours(4), "no"), r),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(r.history, before.history);
  EXPECT_EQ(r.state, MtState::kProposed);
  // A coordinator answers on the GP's behalf without naming them.
  ASSERT_THAT(ApplyMtStep(Answer(MtAction::kAccept, "", absl::Hours(4)), r), IsOk());
  EXPECT_EQ(r.history.back().gp_member_id, "gp-1");
}

TEST(ApplyMtStepTest, RequiredInputs) {
  MtRequest received = RunSteps({Step(MtAction::kSubmit)});
  MtStep triage = Step(MtAction::kTriage);
  EXPECT_THAT(ApplyMtStep(triage, received),
              StatusIs(absl::StatusCode::kInvalidArgument, "synthesis: must not be empty"));
  MtStep close = Step(MtAction::kClose);
  EXPECT_THAT(ApplyMtStep(close, received),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));

  MtRequest triaged = RunSteps({Step(MtAction::kSubmit), Triage()});
  EXPECT_THAT(ApplyMtStep(Assign(""), triaged),
              StatusIs(absl::StatusCode::kInvalidArgument, "gp_member_id: must not be empty"));

  MtRequest proposed = RunSteps({Step(MtAction::kSubmit), Triage(), Assign("gp-1")});
  EXPECT_THAT(ApplyMtStep(Answer(MtAction::kDecline, "gp-1", absl::Hours(4)), proposed),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));
  EXPECT_EQ(proposed.state, MtState::kProposed);
}

TEST(ApplyMtStepTest, IllegalStepLeavesTheRequestUnchanged) {
  MtRequest r = RunSteps({Step(MtAction::kSubmit)});
  const MtRequest before = r;
  EXPECT_THAT(ApplyMtStep(Answer(MtAction::kAccept, "gp-1", absl::Hours(1)), r),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "MT request is RECEIVED; ACCEPT is allowed only from PROPOSED"));
  EXPECT_EQ(r.state, before.state);
  EXPECT_EQ(r.update_time, before.update_time);
  EXPECT_EQ(r.history, before.history);

  MtStep withdraw = Step(MtAction::kWithdraw, absl::Hours(1));
  ASSERT_THAT(ApplyMtStep(withdraw, r), IsOk());
  for (MtAction a : kAllActions) {
    MtStep s = Step(a, absl::Hours(2));
    s.reason = "x";
    s.synthesis = "x";
    s.gp_member_id = "gp-9";
    EXPECT_THAT(ApplyMtStep(s, r),
                StatusIs(absl::StatusCode::kFailedPrecondition, "MT request is WITHDRAWN"));
  }
  EXPECT_EQ(r.history.size(), 2u);
}

}  // namespace
}  // namespace cpts::access
