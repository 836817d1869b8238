#include "services/projects/service.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cpts/projects/v1/projects_service.grpc.pb.h"
#include "services/platform/core/status_macros.h"
#include "services/projects/convert.h"

namespace cpts::projects {
namespace {

namespace roles = platform::auth::roles;
using platform::AllowRoles;
using platform::CallContext;
using Svc = v1::ProjectsService::AsyncService;

// A fingerprint of a request for its idempotency key: FNV-1a 64 of the serialized request
// without its request_id (no map fields: the serialization is deterministic).
template <typename Req>
RequestKey KeyOf(const Req& req) {
  RequestKey key;
  key.request_id = req.request_id();
  if (key.request_id.empty()) return key;
  Req copy = req;
  copy.clear_request_id();
  const std::string bytes = copy.SerializeAsString();
  uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  key.fingerprint = absl::StrFormat("%016x", h);
  return key;
}

std::vector<std::string> Mask(const google::protobuf::FieldMask& mask) {
  return std::vector<std::string>(mask.paths().begin(), mask.paths().end());
}

absl::StatusOr<std::vector<AttendanceLine>> Lines(
    const google::protobuf::RepeatedPtrField<v1::AttendanceLine>& in) {
  std::vector<AttendanceLine> out;
  for (int i = 0; i < in.size(); ++i) {
    CPTS_ASSIGN_OR_RETURN(AttendanceLine l, FromProto(in.Get(i), absl::StrCat("lines[", i, "]")));
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

void RegisterProjectsService(platform::RpcServer& server, Projects& p) {
  auto* svc = server.AddService<v1::ProjectsService>();
  const auto readers =
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember, roles::kReporting});
  const auto coordinator = AllowRoles({roles::kCoordinator});
  const auto workers = AllowRoles({roles::kCoordinator, roles::kMember});
  const auto recorders = AllowRoles({roles::kCoordinator, roles::kMember, roles::kService});
  const auto reporters = AllowRoles({roles::kCoordinator, roles::kReporting});
  const auto stats_readers =
      AllowRoles({roles::kCoordinator, roles::kReporting, roles::kBureauMember, roles::kMember});

  // --- settings --------------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestGetProjectSettings, "GetProjectSettings", readers,
                  [&p](const CallContext& c, const v1::GetProjectSettingsRequest&,
                       v1::GetProjectSettingsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(ProjectSettings out, p.GetProjectSettings(c.principal));
                    ToProto(out, resp->mutable_settings());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestUpdateProjectSettings, "UpdateProjectSettings", coordinator,
      [&p](const CallContext& c, const v1::UpdateProjectSettingsRequest& req,
           v1::UpdateProjectSettingsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(ProjectSettings in, FromProto(req.settings(), "settings"));
        CPTS_ASSIGN_OR_RETURN(ProjectSettings out,
                              p.UpdateProjectSettings(c.principal, in, Mask(req.update_mask()),
                                                      req.settings().etag()));
        ToProto(out, resp->mutable_settings());
        return absl::OkStatus();
      });

  // --- missions --------------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestListMissions, "ListMissions", readers,
                  [&p](const CallContext& c, const v1::ListMissionsRequest&,
                       v1::ListMissionsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<Mission> out, p.ListMissions(c.principal));
                    for (const Mission& m : out) ToProto(m, resp->add_missions());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCreateMission, "CreateMission", coordinator,
                  [&p](const CallContext& c, const v1::CreateMissionRequest& req,
                       v1::CreateMissionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Mission in, FromProto(req.mission(), "mission"));
                    CPTS_ASSIGN_OR_RETURN(Mission out,
                                          p.CreateMission(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_mission());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateMission, "UpdateMission", coordinator,
                  [&p](const CallContext& c, const v1::UpdateMissionRequest& req,
                       v1::UpdateMissionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Mission in, FromProto(req.mission(), "mission"));
                    CPTS_ASSIGN_OR_RETURN(Mission out,
                                          p.UpdateMission(c.principal, in, Mask(req.update_mask()),
                                                          req.mission().etag()));
                    ToProto(out, resp->mutable_mission());
                    return absl::OkStatus();
                  });

  // --- actions and indicators -------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestCreateAction, "CreateAction", coordinator,
                  [&p](const CallContext& c, const v1::CreateActionRequest& req,
                       v1::CreateActionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Action in, FromProto(req.action(), "action"));
                    CPTS_ASSIGN_OR_RETURN(Action out, p.CreateAction(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_action());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetAction, "GetAction", readers,
                  [&p](const CallContext& c, const v1::GetActionRequest& req,
                       v1::GetActionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Action out, p.GetAction(c.principal, req.action_id()));
                    ToProto(out, resp->mutable_action());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListActions, "ListActions", readers,
                  [&p](const CallContext& c, const v1::ListActionsRequest& req,
                       v1::ListActionsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(ActionStatus status,
                                          ActionStatusFromProto(req.status(), "status"));
                    CPTS_ASSIGN_OR_RETURN(Page<Action> page,
                                          p.ListActions(c.principal, req.mission_id(), status,
                                                        req.page_size(), req.page_token()));
                    for (const Action& a : page.items) ToProto(a, resp->add_actions());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateAction, "UpdateAction", workers,
                  [&p](const CallContext& c, const v1::UpdateActionRequest& req,
                       v1::UpdateActionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Action in, FromProto(req.action(), "action"));
                    CPTS_ASSIGN_OR_RETURN(Action out,
                                          p.UpdateAction(c.principal, in, Mask(req.update_mask()),
                                                         req.action().etag()));
                    ToProto(out, resp->mutable_action());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestChangeActionStatus, "ChangeActionStatus", coordinator,
      [&p](const CallContext& c, const v1::ChangeActionStatusRequest& req,
           v1::ChangeActionStatusResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(ActionStatus status, ActionStatusFromProto(req.status(), "status"));
        CPTS_ASSIGN_OR_RETURN(Action out, p.ChangeActionStatus(c.principal, req.action_id(), status,
                                                               req.reason(), req.etag()));
        ToProto(out, resp->mutable_action());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestCreateIndicator, "CreateIndicator", coordinator,
                  [&p](const CallContext& c, const v1::CreateIndicatorRequest& req,
                       v1::CreateIndicatorResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Indicator in, FromProto(req.indicator(), "indicator"));
                    CPTS_ASSIGN_OR_RETURN(Action out,
                                          p.CreateIndicator(c.principal, req.action_id(), in));
                    ToProto(out, resp->mutable_action());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateIndicator, "UpdateIndicator", coordinator,
                  [&p](const CallContext& c, const v1::UpdateIndicatorRequest& req,
                       v1::UpdateIndicatorResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Indicator in, FromProto(req.indicator(), "indicator"));
                    CPTS_ASSIGN_OR_RETURN(Action out,
                                          p.UpdateIndicator(c.principal, req.action_id(), in,
                                                            Mask(req.update_mask()), req.etag()));
                    ToProto(out, resp->mutable_action());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCopyIndicatorTargets, "CopyIndicatorTargets", coordinator,
                  [&p](const CallContext& c, const v1::CopyIndicatorTargetsRequest& req,
                       v1::CopyIndicatorTargetsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto out,
                                          p.CopyIndicatorTargets(c.principal, req.action_id(),
                                                                 req.from_year(), req.to_year()));
                    ToProto(out.first, resp->mutable_action());
                    resp->set_copied(out.second);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRecordIndicatorValue, "RecordIndicatorValue", recorders,
                  [&p](const CallContext& c, const v1::RecordIndicatorValueRequest& req,
                       v1::RecordIndicatorValueResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(IndicatorValue in, FromProto(req.value(), "value"));
                    CPTS_ASSIGN_OR_RETURN(IndicatorValue out,
                                          p.RecordIndicatorValue(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_value());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListIndicatorValues, "ListIndicatorValues", readers,
                  [&p](const CallContext& c, const v1::ListIndicatorValuesRequest& req,
                       v1::ListIndicatorValuesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<IndicatorValue> out,
                        p.ListIndicatorValues(c.principal, req.action_id(), req.year()));
                    for (const IndicatorValue& v : out) ToProto(v, resp->add_values());
                    return absl::OkStatus();
                  });

  // --- working groups ----------------------------------------------------------------------
  server.AddUnary(
      svc, &Svc::RequestCreateWorkingGroup, "CreateWorkingGroup", coordinator,
      [&p](const CallContext& c, const v1::CreateWorkingGroupRequest& req,
           v1::CreateWorkingGroupResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(WorkingGroup in, FromProto(req.working_group(), "working_group"));
        CPTS_ASSIGN_OR_RETURN(WorkingGroup out, p.CreateWorkingGroup(c.principal, in, KeyOf(req)));
        ToProto(out, resp->mutable_working_group());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestGetWorkingGroup, "GetWorkingGroup", readers,
                  [&p](const CallContext& c, const v1::GetWorkingGroupRequest& req,
                       v1::GetWorkingGroupResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(WorkingGroup out,
                                          p.GetWorkingGroup(c.principal, req.group_id()));
                    ToProto(out, resp->mutable_working_group());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListWorkingGroups, "ListWorkingGroups", readers,
                  [&p](const CallContext& c, const v1::ListWorkingGroupsRequest& req,
                       v1::ListWorkingGroupsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Page<WorkingGroup> page,
                        p.ListWorkingGroups(c.principal, req.action_id(), req.member_id(),
                                            req.page_size(), req.page_token()));
                    for (const WorkingGroup& g : page.items) ToProto(g, resp->add_working_groups());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestUpdateWorkingGroup, "UpdateWorkingGroup", workers,
      [&p](const CallContext& c, const v1::UpdateWorkingGroupRequest& req,
           v1::UpdateWorkingGroupResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(WorkingGroup in, FromProto(req.working_group(), "working_group"));
        CPTS_ASSIGN_OR_RETURN(WorkingGroup out,
                              p.UpdateWorkingGroup(c.principal, in, Mask(req.update_mask()),
                                                   req.working_group().etag()));
        ToProto(out, resp->mutable_working_group());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestListGroupParticipants, "ListGroupParticipants", readers,
                  [&p](const CallContext& c, const v1::ListGroupParticipantsRequest& req,
                       v1::ListGroupParticipantsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(ParticipantState state,
                                          ParticipantStateFromProto(req.state(), "state"));
                    CPTS_ASSIGN_OR_RETURN(
                        Page<GroupParticipant> page,
                        p.ListGroupParticipants(c.principal, req.group_id(), state, req.page_size(),
                                                req.page_token()));
                    for (const auto& x : page.items) ToProto(x, resp->add_participants());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestAddGroupParticipant, "AddGroupParticipant", workers,
      [&p](const CallContext& c, const v1::AddGroupParticipantRequest& req,
           v1::AddGroupParticipantResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(GroupParticipant in, FromProto(req.participant(), "participant"));
        CPTS_ASSIGN_OR_RETURN(GroupRole role, GroupRoleFromProto(req.role(), "role"));
        CPTS_ASSIGN_OR_RETURN(GroupParticipant out,
                              p.AddGroupParticipant(c.principal, req.group_id(), in, role));
        ToProto(out, resp->mutable_participant());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestRequestToJoin, "RequestToJoin", AllowRoles({roles::kMember}),
                  [&p](const CallContext& c, const v1::RequestToJoinRequest& req,
                       v1::RequestToJoinResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        JoinRequest out,
                        p.RequestToJoin(c.principal, req.group_id(), req.message()));
                    ToProto(out, resp->mutable_join_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAcceptJoin, "AcceptJoin", workers,
                  [&p](const CallContext& c, const v1::AcceptJoinRequest& req,
                       v1::AcceptJoinResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        auto out, p.AcceptJoin(c.principal, req.join_request_id(), req.reason()));
                    ToProto(out.first, resp->mutable_join_request());
                    ToProto(out.second, resp->mutable_participant());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRefuseJoin, "RefuseJoin", workers,
                  [&p](const CallContext& c, const v1::RefuseJoinRequest& req,
                       v1::RefuseJoinResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        JoinRequest out,
                        p.RefuseJoin(c.principal, req.join_request_id(), req.reason()));
                    ToProto(out, resp->mutable_join_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListJoinRequests, "ListJoinRequests", workers,
                  [&p](const CallContext& c, const v1::ListJoinRequestsRequest& req,
                       v1::ListJoinRequestsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(JoinRequestState state,
                                          JoinRequestStateFromProto(req.state(), "state"));
                    CPTS_ASSIGN_OR_RETURN(Page<JoinRequest> page,
                                          p.ListJoinRequests(c.principal, req.group_id(), state,
                                                             req.page_size(), req.page_token()));
                    for (const auto& x : page.items) ToProto(x, resp->add_join_requests());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestLeaveGroup, "LeaveGroup", workers,
                  [&p](const CallContext& c, const v1::LeaveGroupRequest& req,
                       v1::LeaveGroupResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(GroupParticipant out,
                                          p.LeaveGroup(c.principal, req.group_id()));
                    ToProto(out, resp->mutable_participant());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAppointReferent, "AppointReferent", workers,
                  [&p](const CallContext& c, const v1::AppointReferentRequest& req,
                       v1::AppointReferentResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        GroupParticipant out,
                        p.AppointReferent(c.principal, req.group_id(), req.participant_id()));
                    ToProto(out, resp->mutable_participant());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestStepDown, "StepDown", workers,
                  [&p](const CallContext& c, const v1::StepDownRequest& req,
                       v1::StepDownResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        GroupParticipant out,
                        p.StepDown(c.principal, req.group_id(), req.participant_id()));
                    ToProto(out, resp->mutable_participant());
                    return absl::OkStatus();
                  });

  // --- tasks and documents ------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestCreateTask, "CreateTask", workers,
                  [&p](const CallContext& c, const v1::CreateTaskRequest& req,
                       v1::CreateTaskResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Task in, FromProto(req.task(), "task"));
                    CPTS_ASSIGN_OR_RETURN(Task out, p.CreateTask(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_task());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateTask, "UpdateTask", workers,
                  [&p](const CallContext& c, const v1::UpdateTaskRequest& req,
                       v1::UpdateTaskResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Task in, FromProto(req.task(), "task"));
                    CPTS_ASSIGN_OR_RETURN(
                        Task out,
                        p.UpdateTask(c.principal, in, Mask(req.update_mask()), req.task().etag()));
                    ToProto(out, resp->mutable_task());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListTasks, "ListTasks", readers,
                  [&p](const CallContext& c, const v1::ListTasksRequest& req,
                       v1::ListTasksResponse* resp) -> absl::Status {
                    TaskQuery q;
                    q.group_id = req.group_id();
                    q.assignee_participant_id = req.assignee_participant_id();
                    q.assignee_member_id = req.assignee_member_id();
                    CPTS_ASSIGN_OR_RETURN(q.status, TaskStatusFromProto(req.status(), "status"));
                    q.page_size = req.page_size();
                    q.page_token = req.page_token();
                    CPTS_ASSIGN_OR_RETURN(Page<Task> page, p.ListTasks(c.principal, q));
                    for (const Task& t : page.items) ToProto(t, resp->add_tasks());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCreateDocument, "CreateDocument", workers,
                  [&p](const CallContext& c, const v1::CreateDocumentRequest& req,
                       v1::CreateDocumentResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Document in, FromProto(req.document(), "document"));
                    CPTS_ASSIGN_OR_RETURN(Document out,
                                          p.CreateDocument(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_document());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListDocuments, "ListDocuments", readers,
                  [&p](const CallContext& c, const v1::ListDocumentsRequest& req,
                       v1::ListDocumentsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Page<Document> page,
                                          p.ListDocuments(c.principal, req.group_id(),
                                                          req.page_size(), req.page_token()));
                    for (const Document& d : page.items) ToProto(d, resp->add_documents());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });

  // --- meetings -------------------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestScheduleMeeting, "ScheduleMeeting", workers,
                  [&p](const CallContext& c, const v1::ScheduleMeetingRequest& req,
                       v1::ScheduleMeetingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Meeting in, FromProto(req.meeting(), "meeting"));
                    CPTS_ASSIGN_OR_RETURN(Meeting out,
                                          p.ScheduleMeeting(c.principal, in, KeyOf(req)));
                    ToProto(out, resp->mutable_meeting());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetMeeting, "GetMeeting", readers,
                  [&p](const CallContext& c, const v1::GetMeetingRequest& req,
                       v1::GetMeetingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Meeting out, p.GetMeeting(c.principal, req.meeting_id()));
                    ToProto(out, resp->mutable_meeting());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListMeetings, "ListMeetings", readers,
                  [&p](const CallContext& c, const v1::ListMeetingsRequest& req,
                       v1::ListMeetingsResponse* resp) -> absl::Status {
                    MeetingQuery q;
                    q.group_id = req.group_id();
                    if (req.has_start_after()) q.start_after = FromProto(req.start_after());
                    if (req.has_start_before()) q.start_before = FromProto(req.start_before());
                    CPTS_ASSIGN_OR_RETURN(q.state, MeetingStateFromProto(req.state(), "state"));
                    q.page_size = req.page_size();
                    q.page_token = req.page_token();
                    CPTS_ASSIGN_OR_RETURN(Page<Meeting> page, p.ListMeetings(c.principal, q));
                    for (const Meeting& m : page.items) ToProto(m, resp->add_meetings());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRescheduleMeeting, "RescheduleMeeting", workers,
                  [&p](const CallContext& c, const v1::RescheduleMeetingRequest& req,
                       v1::RescheduleMeetingResponse* resp) -> absl::Status {
                    std::optional<MeetingLocation> location;
                    if (req.has_place()) location = MeetingLocation{.place = req.place()};
                    if (req.has_video_link()) {
                      location = MeetingLocation{.video_link = req.video_link()};
                    }
                    CPTS_ASSIGN_OR_RETURN(
                        Meeting out, p.RescheduleMeeting(
                                         c.principal, req.meeting_id(), FromProto(req.start_time()),
                                         FromProto(req.end_time()), location, req.etag()));
                    ToProto(out, resp->mutable_meeting());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCancelMeeting, "CancelMeeting", workers,
                  [&p](const CallContext& c, const v1::CancelMeetingRequest& req,
                       v1::CancelMeetingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Meeting out,
                        p.CancelMeeting(c.principal, req.meeting_id(), req.reason(), req.etag()));
                    ToProto(out, resp->mutable_meeting());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAttachMinutes, "AttachMinutes", workers,
                  [&p](const CallContext& c, const v1::AttachMinutesRequest& req,
                       v1::AttachMinutesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Meeting out,
                        p.AttachMinutes(c.principal, req.meeting_id(), FromProto(req.minutes())));
                    ToProto(out, resp->mutable_meeting());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestReplyToMeeting, "ReplyToMeeting", workers,
                  [&p](const CallContext& c, const v1::ReplyToMeetingRequest& req,
                       v1::ReplyToMeetingResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(ReplyKind kind, ReplyKindFromProto(req.kind(), "kind"));
                    CPTS_ASSIGN_OR_RETURN(
                        MeetingReply out,
                        p.ReplyToMeeting(c.principal, req.meeting_id(), kind, req.reason()));
                    ToProto(out, resp->mutable_reply());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListMeetingReplies, "ListMeetingReplies", readers,
                  [&p](const CallContext& c, const v1::ListMeetingRepliesRequest& req,
                       v1::ListMeetingRepliesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<MeetingReply> out,
                                          p.ListMeetingReplies(c.principal, req.meeting_id()));
                    for (const MeetingReply& r : out) ToProto(r, resp->add_replies());
                    return absl::OkStatus();
                  });

  // --- attendance ---------------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestGetAttendanceSheet, "GetAttendanceSheet", readers,
                  [&p](const CallContext& c, const v1::GetAttendanceSheetRequest& req,
                       v1::GetAttendanceSheetResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AttendanceSheet out,
                                          p.GetAttendanceSheet(c.principal, req.meeting_id()));
                    ToProto(out, resp->mutable_sheet());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRecordAttendance, "RecordAttendance", workers,
                  [&p](const CallContext& c, const v1::RecordAttendanceRequest& req,
                       v1::RecordAttendanceResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<AttendanceLine> lines, Lines(req.lines()));
                    CPTS_ASSIGN_OR_RETURN(
                        AttendanceSheet out,
                        p.RecordAttendance(c.principal, req.meeting_id(), lines, req.etag()));
                    ToProto(out, resp->mutable_sheet());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCloseAttendance, "CloseAttendance", workers,
                  [&p](const CallContext& c, const v1::CloseAttendanceRequest& req,
                       v1::CloseAttendanceResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        AttendanceSheet out,
                        p.CloseAttendance(c.principal, req.meeting_id(), req.etag(), KeyOf(req)));
                    ToProto(out, resp->mutable_sheet());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAmendAttendance, "AmendAttendance", workers,
                  [&p](const CallContext& c, const v1::AmendAttendanceRequest& req,
                       v1::AmendAttendanceResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<AttendanceLine> lines, Lines(req.lines()));
                    CPTS_ASSIGN_OR_RETURN(AttendanceSheet out,
                                          p.AmendAttendance(c.principal, req.meeting_id(), lines,
                                                            req.reason(), req.etag(), KeyOf(req)));
                    ToProto(out, resp->mutable_sheet());
                    return absl::OkStatus();
                  });

  // --- reports --------------------------------------------------------------------------------
  server.AddUnary(
      svc, &Svc::RequestListParticipationHistory, "ListParticipationHistory", workers,
      [&p](const CallContext& c, const v1::ListParticipationHistoryRequest& req,
           v1::ListParticipationHistoryResponse* resp) -> absl::Status {
        std::optional<absl::Time> after;
        if (req.has_start_after()) after = FromProto(req.start_after());
        CPTS_ASSIGN_OR_RETURN(Page<ParticipationEntry> page,
                              p.ListParticipationHistory(c.principal, req.member_id(), after,
                                                         req.page_size(), req.page_token()));
        for (const ParticipationEntry& e : page.items) {
          auto* out = resp->add_entries();
          out->set_meeting_id(e.meeting_id);
          out->set_group_id(e.group_id);
          ToProto(e.start_time, out->mutable_start_time());
          out->set_reply(static_cast<v1::ReplyKind>(static_cast<int>(e.reply)));
          out->set_attendance(static_cast<v1::AttendanceStatus>(static_cast<int>(e.attendance)));
          out->set_minutes_worked(e.minutes_worked);
        }
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(
      svc, &Svc::RequestGetGroupAttendanceStats, "GetGroupAttendanceStats", stats_readers,
      [&p](const CallContext& c, const v1::GetGroupAttendanceStatsRequest& req,
           v1::GetGroupAttendanceStatsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(AttendanceStats out,
                              p.GetGroupAttendanceStats(c.principal, req.group_id(), req.year()));
        ToProto(out, resp->mutable_stats());
        resp->mutable_stats()->set_group_id(req.group_id());
        resp->mutable_stats()->set_year(req.year());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestGetProjectReport, "GetProjectReport", reporters,
                  [&p](const CallContext& c, const v1::GetProjectReportRequest& req,
                       v1::GetProjectReportResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(ProjectReport out,
                                          p.GetProjectReport(c.principal, req.year()));
                    ToProto(out, resp->mutable_report());
                    return absl::OkStatus();
                  });

  // --- outbox repairs ------------------------------------------------------------------------
  server.AddUnary(svc, &Svc::RequestListDeadOutboxEvents, "ListDeadOutboxEvents", coordinator,
                  [&p](const CallContext& c, const v1::ListDeadOutboxEventsRequest& req,
                       v1::ListDeadOutboxEventsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Page<DeadEvent> page,
                        p.ListDeadOutboxEvents(c.principal, req.page_size(), req.page_token()));
                    for (const DeadEvent& e : page.items) ToProto(e, resp->add_events());
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRequeueOutboxEvents, "RequeueOutboxEvents", coordinator,
                  [&p](const CallContext& c, const v1::RequeueOutboxEventsRequest& req,
                       v1::RequeueOutboxEventsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        RequeueOutcome out,
                        p.RequeueOutboxEvents(c.principal, {req.ids().begin(), req.ids().end()},
                                              req.topic(), req.reason()));
                    resp->mutable_requeued_ids()->Add(out.requeued.begin(), out.requeued.end());
                    resp->mutable_not_dead_ids()->Add(out.not_dead.begin(), out.not_dead.end());
                    return absl::OkStatus();
                  });
}

}  // namespace cpts::projects
