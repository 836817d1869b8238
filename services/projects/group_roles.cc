#include "services/projects/group_roles.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

bool IsCoordinator(const GroupActor& actor) {
  return actor.tenant_coordinator || RoleOf(actor) == GroupRole::kCoordinator;
}

absl::Status Denied(GroupStep step, absl::string_view who) {
  return absl::PermissionDeniedError(absl::StrCat(GroupStepName(step), " needs ", who));
}

}  // namespace

GroupActor ActorFor(const platform::auth::Principal& caller,
                    const std::vector<GroupParticipant>& participants) {
  GroupActor actor;
  actor.subject = caller.subject;
  actor.member_id = caller.member_id;
  actor.tenant_coordinator = caller.HasRole(platform::auth::roles::kCoordinator);
  if (!caller.member_id.empty()) {
    for (const GroupParticipant& p : participants) {
      if (p.state == ParticipantState::kActive && p.member_id == caller.member_id) {
        actor.participation = p;
        break;
      }
    }
  }
  return actor;
}

GroupRole RoleOf(const GroupActor& actor) {
  return actor.participation.has_value() ? actor.participation->role : GroupRole::kUnspecified;
}

bool IsLeader(const GroupActor& actor) {
  return IsCoordinator(actor) || RoleOf(actor) == GroupRole::kReferent;
}

absl::string_view GroupStepName(GroupStep step) {
  switch (step) {
    case GroupStep::kRequestToJoin:
      return "REQUEST_TO_JOIN";
    case GroupStep::kDecideJoin:
      return "DECIDE_JOIN";
    case GroupStep::kAppointReferent:
      return "APPOINT_REFERENT";
    case GroupStep::kInviteGuest:
      return "INVITE_GUEST";
    case GroupStep::kAddCoordinator:
      return "ADD_COORDINATOR";
    case GroupStep::kManageMeetings:
      return "MANAGE_MEETINGS";
    case GroupStep::kManageTasks:
      return "MANAGE_TASKS";
    case GroupStep::kManageAttendance:
      return "MANAGE_ATTENDANCE";
    case GroupStep::kUpdateGroup:
      return "UPDATE_GROUP";
    case GroupStep::kAddDocument:
      return "ADD_DOCUMENT";
    case GroupStep::kReplyToMeeting:
      return "REPLY_TO_MEETING";
    case GroupStep::kLeave:
      return "LEAVE";
  }
  return "UNKNOWN";
}

absl::Status CheckGroupPermission(const GroupActor& actor, GroupStep step) {
  switch (step) {
    case GroupStep::kRequestToJoin:
      if (actor.member_id.empty()) return Denied(step, "a member of the CPTS");
      return absl::OkStatus();
    case GroupStep::kDecideJoin:
    case GroupStep::kAppointReferent:
    case GroupStep::kInviteGuest:
    case GroupStep::kManageMeetings:
    case GroupStep::kManageTasks:
    case GroupStep::kManageAttendance:
    case GroupStep::kUpdateGroup:
      if (!IsLeader(actor)) return Denied(step, "the coordinator or a référent of the group");
      return absl::OkStatus();
    case GroupStep::kAddCoordinator:
      if (!actor.tenant_coordinator) return Denied(step, "the coordinator of the CPTS");
      return absl::OkStatus();
    case GroupStep::kAddDocument:
      if (!IsLeader(actor) && RoleOf(actor) != GroupRole::kActiveMember) {
        return Denied(step, "the coordinator, a référent or an active member of the group");
      }
      return absl::OkStatus();
    case GroupStep::kReplyToMeeting:
    case GroupStep::kLeave:
      if (!actor.participation.has_value()) return Denied(step, "a participant of the group");
      return absl::OkStatus();
  }
  return absl::PermissionDeniedError("unknown step");
}

absl::Status CheckMemberActive(bool member_active, absl::string_view member_id) {
  if (!member_active) {
    return absl::FailedPreconditionError(
        absl::StrCat("member ", member_id, " is not an active member of the CPTS"));
  }
  return absl::OkStatus();
}

absl::StatusOr<JoinRequest> RequestToJoin(const GroupActor& actor, absl::string_view group_id,
                                          bool member_active, bool has_pending_request,
                                          absl::string_view message, absl::Time now) {
  if (absl::Status s = CheckGroupPermission(actor, GroupStep::kRequestToJoin); !s.ok()) return s;
  if (absl::Status s = CheckMemberActive(member_active, actor.member_id); !s.ok()) return s;
  if (actor.participation.has_value() && actor.participation->role != GroupRole::kGuest) {
    return absl::FailedPreconditionError(absl::StrCat("member already takes part in the group as ",
                                                      GroupRoleName(actor.participation->role)));
  }
  if (has_pending_request) {
    return absl::FailedPreconditionError("member already has a pending request for the group");
  }
  auto text = NormalizeText(message, "message", 1000, false, true);
  if (!text.ok()) return text.status();
  JoinRequest request;
  request.group_id = std::string(group_id);
  request.member_id = actor.member_id;
  request.message = *std::move(text);
  request.state = JoinRequestState::kPending;
  request.create_time = now;
  return request;
}

namespace {

absl::Status CheckPending(const JoinRequest& request) {
  if (request.state != JoinRequestState::kPending) {
    return absl::FailedPreconditionError(absl::StrCat("join request is ",
                                                      JoinRequestStateName(request.state),
                                                      "; only a PENDING request can be decided"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GroupParticipant> AcceptJoin(
    const GroupActor& decider, bool applicant_active,
    const std::optional<GroupParticipant>& applicant_current, absl::string_view reason,
    absl::Time now, JoinRequest& request) {
  if (absl::Status s = CheckGroupPermission(decider, GroupStep::kDecideJoin); !s.ok()) return s;
  if (absl::Status s = CheckPending(request); !s.ok()) return s;
  auto text = NormalizeText(reason, "reason", 500, false);
  if (!text.ok()) return text.status();
  if (absl::Status s = CheckMemberActive(applicant_active, request.member_id); !s.ok()) return s;
  GroupParticipant participant;
  if (applicant_current.has_value() && applicant_current->state == ParticipantState::kActive) {
    if (applicant_current->role != GroupRole::kGuest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "member already takes part in the group as ", GroupRoleName(applicant_current->role)));
    }
    participant = *applicant_current;
    participant.guest_name.clear();
    participant.guest_organization.clear();
  } else {
    participant.group_id = request.group_id;
    participant.member_id = request.member_id;
    participant.join_time = now;
  }
  participant.role = GroupRole::kActiveMember;
  participant.state = ParticipantState::kActive;

  request.state = JoinRequestState::kAccepted;
  request.decided_by = decider.subject;
  request.decision_reason = *std::move(text);
  request.decide_time = now;
  return participant;
}

absl::Status RefuseJoin(const GroupActor& decider, absl::string_view reason, absl::Time now,
                        JoinRequest& request) {
  if (absl::Status s = CheckGroupPermission(decider, GroupStep::kDecideJoin); !s.ok()) return s;
  if (absl::Status s = CheckPending(request); !s.ok()) return s;
  auto text = NormalizeText(reason, "reason", 500, true);
  if (!text.ok()) return text.status();
  request.state = JoinRequestState::kRefused;
  request.decided_by = decider.subject;
  request.decision_reason = *std::move(text);
  request.decide_time = now;
  return absl::OkStatus();
}

absl::StatusOr<GroupParticipant> LeaveGroup(const GroupActor& actor, absl::Time now) {
  if (!actor.participation.has_value()) {
    return absl::FailedPreconditionError("caller is not a participant of the group");
  }
  GroupParticipant left = *actor.participation;
  left.state = ParticipantState::kLeft;
  left.leave_time = now;
  return left;
}

absl::Status AppointReferent(const GroupActor& actor, bool target_member_active,
                             GroupParticipant& target) {
  if (absl::Status s = CheckGroupPermission(actor, GroupStep::kAppointReferent); !s.ok()) {
    return s;
  }
  if (target.state != ParticipantState::kActive || target.role != GroupRole::kActiveMember) {
    return absl::FailedPreconditionError(
        absl::StrCat("participant is ", GroupRoleName(target.role),
                     target.state == ParticipantState::kLeft ? " (left)" : "",
                     "; only a current ACTIVE_MEMBER of the group can become référent"));
  }
  if (absl::Status s = CheckMemberActive(target_member_active, target.member_id); !s.ok()) {
    return s;
  }
  target.role = GroupRole::kReferent;
  return absl::OkStatus();
}

absl::Status StepDown(const GroupActor& actor, GroupParticipant& target) {
  const bool self = actor.participation.has_value() && actor.participation->id == target.id;
  if (!self && !IsCoordinator(actor)) {
    return absl::PermissionDeniedError(
        "STEP_DOWN needs the référent themselves or the coordinator");
  }
  if (target.state != ParticipantState::kActive || target.role != GroupRole::kReferent) {
    return absl::FailedPreconditionError(absl::StrCat("participant is ", GroupRoleName(target.role),
                                                      "; only a référent steps down"));
  }
  target.role = GroupRole::kActiveMember;
  return absl::OkStatus();
}

absl::StatusOr<GroupParticipant> NewParticipant(const GroupActor& actor, absl::string_view group_id,
                                                GroupRole role, GroupParticipant participant,
                                                absl::Time now) {
  if (role == GroupRole::kCoordinator) {
    if (absl::Status s = CheckGroupPermission(actor, GroupStep::kAddCoordinator); !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateResourceId(participant.member_id, "participant.member_id");
        !s.ok()) {
      return s;
    }
    participant.guest_name.clear();
    participant.guest_organization.clear();
  } else if (role == GroupRole::kGuest) {
    if (absl::Status s = CheckGroupPermission(actor, GroupStep::kInviteGuest); !s.ok()) return s;
    const bool has_member = !participant.member_id.empty();
    const bool has_name = !participant.guest_name.empty();
    if (has_member == has_name) {
      return FieldError("participant", "a guest has exactly one of member_id and guest_name");
    }
    if (has_member) {
      if (absl::Status s = ValidateResourceId(participant.member_id, "participant.member_id");
          !s.ok()) {
        return s;
      }
    } else {
      auto name = NormalizeText(participant.guest_name, "participant.guest_name", 200, true);
      if (!name.ok()) return name.status();
      participant.guest_name = *std::move(name);
    }
    auto org =
        NormalizeText(participant.guest_organization, "participant.guest_organization", 200, false);
    if (!org.ok()) return org.status();
    participant.guest_organization = *std::move(org);
  } else {
    return FieldError("role", "must be COORDINATOR or GUEST; members join through RequestToJoin");
  }
  participant.id.clear();
  participant.group_id = std::string(group_id);
  participant.role = role;
  participant.state = ParticipantState::kActive;
  participant.join_time = now;
  participant.leave_time.reset();
  return participant;
}

}  // namespace cpts::projects
