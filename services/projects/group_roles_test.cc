#include "services/projects/group_roles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

constexpr absl::Time kNow = absl::FromUnixSeconds(1747000000);

GroupParticipant Participant(const std::string& id, const std::string& member_id, GroupRole role,
                             ParticipantState state = ParticipantState::kActive) {
  GroupParticipant p;
  p.id = id;
  p.group_id = "g1";
  p.member_id = member_id;
  p.role = role;
  p.state = state;
  return p;
}

GroupActor Actor(const std::string& member_id, std::optional<GroupRole> role,
                 bool tenant_coordinator = false) {
  GroupActor a;
  a.subject = "sub-" + member_id;
  a.member_id = member_id;
  a.tenant_coordinator = tenant_coordinator;
  if (role.has_value()) a.participation = Participant("p-" + member_id, member_id, *role);
  return a;
}

JoinRequest Pending(const std::string& member_id = "m9") {
  JoinRequest r;
  r.id = "j1";
  r.group_id = "g1";
  r.member_id = member_id;
  r.state = JoinRequestState::kPending;
  return r;
}

// --- who may do what -------------------------------------------------------------------

TEST(GroupPermissionTest, EveryActorAndStepIsAllowedOrRefusedAsSpecified) {
  const std::map<std::string, GroupActor> actors = {
      {"tenant_coordinator", Actor("", std::nullopt, true)},
      {"group_coordinator", Actor("m1", GroupRole::kCoordinator)},
      {"referent", Actor("m2", GroupRole::kReferent)},
      {"active_member", Actor("m3", GroupRole::kActiveMember)},
      {"guest", Actor("m4", GroupRole::kGuest)},
      {"outsider_member", Actor("m5", std::nullopt)},
      {"no_member", Actor("", std::nullopt)},
  };
  const std::set<std::string> leaders = {"tenant_coordinator", "group_coordinator", "referent"};
  const std::set<std::string> participants = {"group_coordinator", "referent", "active_member",
                                              "guest"};
  const std::map<GroupStep, std::set<std::string>> allowed = {
      {GroupStep::kRequestToJoin,
       {"group_coordinator", "referent", "active_member", "guest", "outsider_member"}},
      {GroupStep::kDecideJoin, leaders},
      {GroupStep::kAppointReferent, leaders},
      {GroupStep::kInviteGuest, leaders},
      {GroupStep::kAddCoordinator, {"tenant_coordinator"}},
      {GroupStep::kManageMeetings, leaders},
      {GroupStep::kManageTasks, leaders},
      {GroupStep::kManageAttendance, leaders},
      {GroupStep::kUpdateGroup, leaders},
      {GroupStep::kAddDocument,
       {"tenant_coordinator", "group_coordinator", "referent", "active_member"}},
      {GroupStep::kReplyToMeeting, participants},
      {GroupStep::kLeave, participants},
  };
  for (const auto& [step, who] : allowed) {
    for (const auto& [name, actor] : actors) {
      const absl::Status s = CheckGroupPermission(actor, step);
      if (who.count(name) > 0) {
        EXPECT_THAT(s, IsOk()) << GroupStepName(step) << " " << name;
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied,
                                std::string(GroupStepName(step)) + " needs"))
            << GroupStepName(step) << " " << name;
      }
    }
  }
}

TEST(ActorForTest, FindsTheCurrentParticipationAndTheTokenRole) {
  platform::auth::Principal caller;
  caller.subject = "s";
  caller.member_id = "m2";
  caller.roles = {"member"};
  const std::vector<GroupParticipant> participants = {
      Participant("p1", "m2", GroupRole::kReferent, ParticipantState::kLeft),
      Participant("p2", "m2", GroupRole::kActiveMember),
      Participant("p3", "m3", GroupRole::kReferent),
  };
  const GroupActor actor = ActorFor(caller, participants);
  ASSERT_TRUE(actor.participation.has_value());
  EXPECT_EQ(actor.participation->id, "p2");
  EXPECT_EQ(RoleOf(actor), GroupRole::kActiveMember);
  EXPECT_FALSE(actor.tenant_coordinator);
  EXPECT_FALSE(IsLeader(actor));

  caller.roles.push_back("coordinator");
  EXPECT_TRUE(IsLeader(ActorFor(caller, participants)));
}

TEST(ActorForTest, ALeftParticipationDoesNotCount) {
  platform::auth::Principal caller;
  caller.member_id = "m2";
  const GroupActor actor =
      ActorFor(caller, {Participant("p1", "m2", GroupRole::kReferent, ParticipantState::kLeft)});
  EXPECT_FALSE(actor.participation.has_value());
  EXPECT_EQ(RoleOf(actor), GroupRole::kUnspecified);
}

// --- joining ---------------------------------------------------------------------------

TEST(RequestToJoinTest, AnActiveMemberOutsideTheGroupAsks) {
  auto request =
      RequestToJoin(Actor("m5", std::nullopt), "g1", true, false, "  Je suis kiné  ", kNow);
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->member_id, "m5");
  EXPECT_EQ(request->group_id, "g1");
  EXPECT_EQ(request->state, JoinRequestState::kPending);
  EXPECT_EQ(request->message, "Je suis kiné");
  EXPECT_EQ(request->create_time, kNow);
}

TEST(RequestToJoinTest, AGuestMayAskToBecomeAnActiveMember) {
  EXPECT_THAT(RequestToJoin(Actor("m4", GroupRole::kGuest), "g1", true, false, "", kNow), IsOk());
}

TEST(RequestToJoinTest, Refusals) {
  EXPECT_THAT(RequestToJoin(Actor("", std::nullopt), "g1", true, false, "", kNow),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(RequestToJoin(Actor("m5", std::nullopt), "g1", false, false, "", kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not an active member"));
  EXPECT_THAT(RequestToJoin(Actor("m3", GroupRole::kActiveMember), "g1", true, false, "", kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, "as ACTIVE_MEMBER"));
  EXPECT_THAT(RequestToJoin(Actor("m5", std::nullopt), "g1", true, true, "", kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition, "pending request"));
  EXPECT_THAT(
      RequestToJoin(Actor("m5", std::nullopt), "g1", true, false, std::string(1001, 'x'), kNow),
      StatusIs(absl::StatusCode::kInvalidArgument, "message:"));
}

TEST(AcceptJoinTest, AReferentAcceptsAndTheMemberBecomesActiveMember) {
  JoinRequest request = Pending();
  auto participant =
      AcceptJoin(Actor("m2", GroupRole::kReferent), true, std::nullopt, "Bienvenue", kNow, request);
  ASSERT_THAT(participant, IsOk());
  EXPECT_EQ(participant->member_id, "m9");
  EXPECT_EQ(participant->group_id, "g1");
  EXPECT_EQ(participant->role, GroupRole::kActiveMember);
  EXPECT_EQ(participant->state, ParticipantState::kActive);
  EXPECT_EQ(participant->join_time, kNow);
  EXPECT_EQ(request.state, JoinRequestState::kAccepted);
  EXPECT_EQ(request.decided_by, "sub-m2");
  EXPECT_EQ(request.decision_reason, "Bienvenue");
  EXPECT_EQ(request.decide_time, kNow);
}

TEST(AcceptJoinTest, AGuestParticipationIsPromotedInPlace) {
  JoinRequest request = Pending("m4");
  GroupParticipant guest = Participant("p-guest", "m4", GroupRole::kGuest);
  guest.guest_organization = "Hôpital";
  auto participant = AcceptJoin(Actor("", std::nullopt, true), true, guest, "", kNow, request);
  ASSERT_THAT(participant, IsOk());
  EXPECT_EQ(participant->id, "p-guest");
  EXPECT_EQ(participant->role, GroupRole::kActiveMember);
  EXPECT_TRUE(participant->guest_organization.empty());
}

TEST(AcceptJoinTest, RefusalsLeaveTheRequestUnchanged) {
  struct Case {
    std::string name;
    GroupActor decider;
    bool applicant_active;
    JoinRequestState state;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"active member decides", Actor("m3", GroupRole::kActiveMember), true,
       JoinRequestState::kPending, absl::StatusCode::kPermissionDenied},
      {"guest decides", Actor("m4", GroupRole::kGuest), true, JoinRequestState::kPending,
       absl::StatusCode::kPermissionDenied},
      {"already refused", Actor("m2", GroupRole::kReferent), true, JoinRequestState::kRefused,
       absl::StatusCode::kFailedPrecondition},
      {"already accepted", Actor("m1", GroupRole::kCoordinator), true, JoinRequestState::kAccepted,
       absl::StatusCode::kFailedPrecondition},
      {"applicant no longer active", Actor("m2", GroupRole::kReferent), false,
       JoinRequestState::kPending, absl::StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    JoinRequest request = Pending();
    request.state = c.state;
    auto result = AcceptJoin(c.decider, c.applicant_active, std::nullopt, "", kNow, request);
    EXPECT_THAT(result, StatusIs(c.code)) << c.name;
    EXPECT_EQ(request.state, c.state) << c.name;
    EXPECT_TRUE(request.decided_by.empty()) << c.name;
  }
}

TEST(AcceptJoinTest, AnApplicantAlreadyActiveMemberIsRefused) {
  JoinRequest request = Pending();
  auto result = AcceptJoin(Actor("m2", GroupRole::kReferent), true,
                           Participant("p9", "m9", GroupRole::kActiveMember), "", kNow, request);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition, "already takes part"));
  EXPECT_EQ(request.state, JoinRequestState::kPending);
}

TEST(RefuseJoinTest, NeedsAReason) {
  JoinRequest request = Pending();
  EXPECT_THAT(RefuseJoin(Actor("m2", GroupRole::kReferent), "   ", kNow, request),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));
  EXPECT_EQ(request.state, JoinRequestState::kPending);
  ASSERT_THAT(RefuseJoin(Actor("m2", GroupRole::kReferent), "Groupe complet", kNow, request),
              IsOk());
  EXPECT_EQ(request.state, JoinRequestState::kRefused);
  EXPECT_EQ(request.decision_reason, "Groupe complet");
  EXPECT_THAT(RefuseJoin(Actor("m2", GroupRole::kReferent), "encore", kNow, request),
              StatusIs(absl::StatusCode::kFailedPrecondition, "REFUSED"));
}

TEST(RefuseJoinTest, AnActiveMemberMayNotRefuse) {
  JoinRequest request = Pending();
  EXPECT_THAT(RefuseJoin(Actor("m3", GroupRole::kActiveMember), "non", kNow, request),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// --- leaving, référents ----------------------------------------------------------------

TEST(LeaveGroupTest, AReferentMayLeaveAtAnyTime) {
  auto left = LeaveGroup(Actor("m2", GroupRole::kReferent), kNow);
  ASSERT_THAT(left, IsOk());
  EXPECT_EQ(left->state, ParticipantState::kLeft);
  EXPECT_EQ(left->leave_time, kNow);
  EXPECT_THAT(LeaveGroup(Actor("m5", std::nullopt), kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(AppointReferentTest, ALeaderAppointsAnActiveMember) {
  GroupParticipant target = Participant("p3", "m3", GroupRole::kActiveMember);
  EXPECT_THAT(AppointReferent(Actor("m3x", GroupRole::kActiveMember), true, target),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(AppointReferent(Actor("m2", GroupRole::kReferent), false, target),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not an active member"));
  EXPECT_EQ(target.role, GroupRole::kActiveMember);
  ASSERT_THAT(AppointReferent(Actor("m2", GroupRole::kReferent), true, target), IsOk());
  EXPECT_EQ(target.role, GroupRole::kReferent);
}

TEST(AppointReferentTest, GuestsAndFormerParticipantsCannotBecomeReferents) {
  GroupParticipant guest = Participant("p4", "m4", GroupRole::kGuest);
  EXPECT_THAT(AppointReferent(Actor("", std::nullopt, true), true, guest),
              StatusIs(absl::StatusCode::kFailedPrecondition, "participant is GUEST"));
  GroupParticipant left =
      Participant("p6", "m6", GroupRole::kActiveMember, ParticipantState::kLeft);
  EXPECT_THAT(AppointReferent(Actor("", std::nullopt, true), true, left),
              StatusIs(absl::StatusCode::kFailedPrecondition, "(left)"));
}

TEST(StepDownTest, TheReferentThemselvesOrACoordinator) {
  GroupActor self = Actor("m2", GroupRole::kReferent);
  GroupParticipant target = *self.participation;
  ASSERT_THAT(StepDown(self, target), IsOk());
  EXPECT_EQ(target.role, GroupRole::kActiveMember);
  EXPECT_THAT(StepDown(self, target),
              StatusIs(absl::StatusCode::kFailedPrecondition, "only a référent steps down"));

  GroupParticipant other = Participant("p7", "m7", GroupRole::kReferent);
  EXPECT_THAT(StepDown(Actor("m2", GroupRole::kReferent), other),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(other.role, GroupRole::kReferent);
  EXPECT_THAT(StepDown(Actor("m1", GroupRole::kCoordinator), other), IsOk());
  EXPECT_EQ(other.role, GroupRole::kActiveMember);
}

// --- adding staff and guests -----------------------------------------------------------

TEST(NewParticipantTest, GuestsByName) {
  GroupParticipant guest;
  guest.guest_name = "  Invitée Exemple ";
  guest.guest_organization = "Association Alpha";
  auto added =
      NewParticipant(Actor("m2", GroupRole::kReferent), "g1", GroupRole::kGuest, guest, kNow);
  ASSERT_THAT(added, IsOk());
  EXPECT_EQ(added->guest_name, "Invitée Exemple");
  EXPECT_EQ(added->role, GroupRole::kGuest);
  EXPECT_EQ(added->group_id, "g1");
  EXPECT_EQ(added->join_time, kNow);
  EXPECT_TRUE(added->member_id.empty());
}

TEST(NewParticipantTest, Refusals) {
  GroupParticipant both;
  both.member_id = "m8";
  both.guest_name = "X";
  EXPECT_THAT(
      NewParticipant(Actor("m2", GroupRole::kReferent), "g1", GroupRole::kGuest, both, kNow),
      StatusIs(absl::StatusCode::kInvalidArgument, "exactly one of"));
  EXPECT_THAT(NewParticipant(Actor("m2", GroupRole::kReferent), "g1", GroupRole::kGuest,
                             GroupParticipant{}, kNow),
              StatusIs(absl::StatusCode::kInvalidArgument, "exactly one of"));
  GroupParticipant staff;
  staff.member_id = "m8";
  EXPECT_THAT(
      NewParticipant(Actor("m2", GroupRole::kReferent), "g1", GroupRole::kCoordinator, staff, kNow),
      StatusIs(absl::StatusCode::kPermissionDenied, "ADD_COORDINATOR"));
  EXPECT_THAT(
      NewParticipant(Actor("", std::nullopt, true), "g1", GroupRole::kCoordinator, staff, kNow),
      IsOk());
  EXPECT_THAT(
      NewParticipant(Actor("m3", GroupRole::kActiveMember), "g1", GroupRole::kGuest, staff, kNow),
      StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(
      NewParticipant(Actor("", std::nullopt, true), "g1", GroupRole::kActiveMember, staff, kNow),
      StatusIs(absl::StatusCode::kInvalidArgument, "role:"));
}

}  // namespace
}  // namespace cpts::projects
