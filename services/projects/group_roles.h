#pragma once

// Who may do what in a working group, and the membership steps of a group (join, accept,
// refuse, leave, appoint, step down). Pure functions: no I/O, no clock ("now" is a
// parameter); whether a member is ACTIVE comes from the membership service and is passed in.
//
// The caller's standing in a group (GroupActor) combines the token's tenant role
// (coordinator) with the caller's current participation in the group, if any:
//
//   step                                   allowed to
//   -------------------------------------  ---------------------------------------------
//   request to join                         a member (with a member id), for themselves
//   accept / refuse a join request          a leader: tenant coordinator, the group's
//   appoint a référent, invite a guest      coordinator or one of its référents
//   schedule / reschedule / cancel meeting
//   attach minutes, create tasks
//   record / close / amend attendance
//   update the group
//   add a staff coordinator                 the tenant coordinator only
//   add a document                          leaders and active members (not guests)
//   reply to a meeting, leave the group     any current participant, for themselves
//   step down                               the référent themselves, or a coordinator
//
// Refusals are PermissionDenied naming the step and who may do it. A step the caller may do
// but the state does not allow is FailedPrecondition; a bad argument is InvalidArgument.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/platform/auth/principal.h"
#include "services/projects/model.h"

namespace cpts::projects {

// The caller as a group sees them.
struct GroupActor {
  std::string subject{};
  std::string member_id{};                          // empty: the caller is not a member
  bool tenant_coordinator = false;                  // token role "coordinator"
  std::optional<GroupParticipant> participation{};  // current (ACTIVE) participation
};

// Builds the actor of `caller` for the group whose participants are `participants` (any
// state; only an ACTIVE participation with the caller's member id counts).
GroupActor ActorFor(const platform::auth::Principal& caller,
                    const std::vector<GroupParticipant>& participants);

// The caller's role in the group, or kUnspecified when not a current participant.
GroupRole RoleOf(const GroupActor& actor);

// Tenant coordinator, the group's coordinator, or one of its référents.
bool IsLeader(const GroupActor& actor);

enum class GroupStep {
  kRequestToJoin,
  kDecideJoin,
  kAppointReferent,
  kInviteGuest,
  kAddCoordinator,
  kManageMeetings,
  kManageTasks,
  kManageAttendance,
  kUpdateGroup,
  kAddDocument,
  kReplyToMeeting,
  kLeave,
};

absl::string_view GroupStepName(GroupStep step);

// OK, or PermissionDenied "<STEP> needs <who>". Checks who the caller is only; the state
// checks of each step are in the functions below.
absl::Status CheckGroupPermission(const GroupActor& actor, GroupStep step);

// Only ACTIVE members (per membership) may become référents or active members:
// FailedPrecondition otherwise.
absl::Status CheckMemberActive(bool member_active, absl::string_view member_id);

// A new pending join request of the caller. PermissionDenied when the caller is not a member;
// FailedPrecondition when the member is not active, is already a participant other than a
// guest, or already has a pending request for the group.
absl::StatusOr<JoinRequest> RequestToJoin(const GroupActor& actor, absl::string_view group_id,
                                          bool member_active, bool has_pending_request,
                                          absl::string_view message, absl::Time now);

// Accepts a pending request and returns the participation to store: the applicant's guest
// participation promoted to ACTIVE_MEMBER when `applicant_current` is a guest one, else a new
// ACTIVE_MEMBER participation (without id; the store assigns it). PermissionDenied unless a
// leader; FailedPrecondition when the request is not PENDING, the applicant is no longer an
// active member, or already takes part other than as a guest. On error `request` is unchanged.
absl::StatusOr<GroupParticipant> AcceptJoin(
    const GroupActor& decider, bool applicant_active,
    const std::optional<GroupParticipant>& applicant_current, absl::string_view reason,
    absl::Time now, JoinRequest& request);

// Refuses a pending request; the reason is required (InvalidArgument "reason: ...").
absl::Status RefuseJoin(const GroupActor& decider, absl::string_view reason, absl::Time now,
                        JoinRequest& request);

// The caller leaves: their participation becomes LEFT. FailedPrecondition when the caller
// is not a current participant. A référent may leave at any time, even the last one.
absl::StatusOr<GroupParticipant> LeaveGroup(const GroupActor& actor, absl::Time now);

// Makes an ACTIVE_MEMBER of the group a référent. PermissionDenied unless a leader;
// FailedPrecondition when the target is not a current ACTIVE_MEMBER or not an active member
// of the CPTS any more.
absl::Status AppointReferent(const GroupActor& actor, bool target_member_active,
                             GroupParticipant& target);

// A référent steps down to ACTIVE_MEMBER: the référent themselves, at any time, or a
// coordinator (tenant or group). PermissionDenied for anyone else; FailedPrecondition when
// the target is not a current référent.
absl::Status StepDown(const GroupActor& actor, GroupParticipant& target);

// Checks a participant added by AddGroupParticipant and returns it ready to store:
// kCoordinator needs the tenant coordinator and a member id; kGuest needs a leader and
// exactly one of a member id and a guest name (1..200 characters). Other roles are
// InvalidArgument ("role: ..."): they join through RequestToJoin or AppointReferent.
absl::StatusOr<GroupParticipant> NewParticipant(const GroupActor& actor, absl::string_view group_id,
                                                GroupRole role, GroupParticipant participant,
                                                absl::Time now);

}  // namespace cpts::projects
