#include "services/access/mt_service.h"

#include <string>
#include <utility>
#include <vector>

#include "services/access/mt_convert.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using platform::AllowRoles;
using platform::CallContext;
using Svc = v1::AccessService::AsyncService;

constexpr std::string_view kTriageNurse = kTriageNurseRole;

template <typename Req>
MtStepInput StepInput(const Req& req) {
  MtStepInput in;
  in.mt_request_id = req.mt_request_id();
  in.reason = req.reason();
  in.etag = req.etag();
  return in;
}

}  // namespace

void RegisterMtService(platform::RpcServer& server, Svc* svc, MtDesk& desk,
                       const platform::Clock& clock) {
  const auto staff = AllowRoles({roles::kCoordinator, kTriageNurse});
  const auto coordinator = AllowRoles({roles::kCoordinator});
  const auto staff_or_gp = AllowRoles({roles::kCoordinator, kTriageNurse, roles::kMember});
  const auto gp_or_coordinator = AllowRoles({roles::kCoordinator, roles::kMember});
  const auto submitters = AllowRoles({roles::kCoordinator, kTriageNurse, roles::kMember, "partner",
                                      roles::kPublicForm, roles::kService});
  const auto reporters = AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kReporting});

  server.AddUnary(svc, &Svc::RequestSubmitMtRequest, "SubmitMtRequest", submitters,
                  [&desk](const CallContext& c, const v1::SubmitMtRequestRequest& req,
                          v1::SubmitMtRequestResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(MtRequest in, FromProto(req.mt_request()));
                    CPTS_ASSIGN_OR_RETURN(MtRequest out,
                                          desk.Submit(c.principal, in, req.request_id()));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  // Any verified caller of the tenant: the desk decides who reads patient data, and audits
  // the denials, which a refusal by the method policy would not.
  server.AddUnary(svc, &Svc::RequestGetMtRequest, "GetMtRequest", platform::MethodPolicy{},
                  [&desk](const CallContext& c, const v1::GetMtRequestRequest& req,
                          v1::GetMtRequestResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(MtView view, MtViewFromProto(req.view(), MtView::kFull));
                    CPTS_ASSIGN_OR_RETURN(MtRequest out,
                                          desk.Get(c.principal, req.mt_request_id(), view));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListMtQueue, "ListMtQueue", staff,
      [&desk](const CallContext& c, const v1::ListMtQueueRequest& req,
              v1::ListMtQueueResponse* resp) -> absl::Status {
        MtQueueQuery q;
        q.page_size = req.page_size();
        q.page_token = req.page_token();
        for (int i = 0; i < req.states_size(); ++i) {
          CPTS_ASSIGN_OR_RETURN(MtState s,
                                MtStateFromProto(req.states(i), absl::StrCat("states[", i, "]")));
          q.states.push_back(s);
        }
        for (int i = 0; i < req.priority_classes_size(); ++i) {
          CPTS_ASSIGN_OR_RETURN(PriorityClass pc,
                                PriorityClassFromProto(req.priority_classes(i),
                                                       absl::StrCat("priority_classes[", i, "]")));
          q.priority_classes.push_back(pc);
        }
        q.commune_insee = req.commune_insee();
        CPTS_ASSIGN_OR_RETURN(q.view, MtViewFromProto(req.view(), MtView::kBasic));
        CPTS_ASSIGN_OR_RETURN(MtQueuePage page, desk.ListQueue(c.principal, q));
        for (const MtRequest& r : page.requests) ToProto(r, resp->add_mt_requests());
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestTriageMtRequest, "TriageMtRequest", staff,
                  [&desk](const CallContext& c, const v1::TriageMtRequestRequest& req,
                          v1::TriageMtRequestResponse* resp) -> absl::Status {
                    MtStepInput in;
                    in.mt_request_id = req.mt_request_id();
                    in.synthesis = req.synthesis();
                    in.etag = req.etag();
                    CPTS_ASSIGN_OR_RETURN(
                        in.priority_class,
                        PriorityClassFromProto(req.priority_class(), "priority_class"));
                    CPTS_ASSIGN_OR_RETURN(MtRequest out, desk.Triage(c.principal, in));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestProposeMatch, "ProposeMatch", staff,
                  [&desk](const CallContext& c, const v1::ProposeMatchRequest& req,
                          v1::ProposeMatchResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<GpSuggestion> out,
                        desk.ProposeMatch(c.principal, req.mt_request_id(), req.max_suggestions()));
                    for (const GpSuggestion& s : out) ToProto(s, resp->add_suggestions());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAssignMatch, "AssignMatch", coordinator,
                  [&desk](const CallContext& c, const v1::AssignMatchRequest& req,
                          v1::AssignMatchResponse* resp) -> absl::Status {
                    MtStepInput in = StepInput(req);
                    in.gp_member_id = req.gp_member_id();
                    CPTS_ASSIGN_OR_RETURN(MtRequest out, desk.Assign(c.principal, in));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestAcceptMatch, "AcceptMatch", gp_or_coordinator,
                  [&desk](const CallContext& c, const v1::AcceptMatchRequest& req,
                          v1::AcceptMatchResponse* resp) -> absl::Status {
                    MtStepInput in = StepInput(req);
                    in.gp_member_id = req.gp_member_id();
                    CPTS_ASSIGN_OR_RETURN(MtAcceptResult out, desk.Accept(c.principal, in));
                    ToProto(out.request, resp->mutable_mt_request());
                    ToProto(out.capacity, resp->mutable_gp_capacity());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestDeclineMatch, "DeclineMatch", gp_or_coordinator,
                  [&desk](const CallContext& c, const v1::DeclineMatchRequest& req,
                          v1::DeclineMatchResponse* resp) -> absl::Status {
                    MtStepInput in = StepInput(req);
                    in.gp_member_id = req.gp_member_id();
                    CPTS_ASSIGN_OR_RETURN(MtRequest out, desk.Decline(c.principal, in));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestMarkPlaced, "MarkPlaced", staff,
                  [&desk](const CallContext& c, const v1::MarkPlacedRequest& req,
                          v1::MarkPlacedResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        MtRequest out,
                        desk.Close(c.principal, MtAction::kMarkPlaced, StepInput(req)));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestMarkUnreachable, "MarkUnreachable", staff,
                  [&desk](const CallContext& c, const v1::MarkUnreachableRequest& req,
                          v1::MarkUnreachableResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        MtRequest out,
                        desk.Close(c.principal, MtAction::kMarkUnreachable, StepInput(req)));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestWithdrawMtRequest, "WithdrawMtRequest", staff,
                  [&desk](const CallContext& c, const v1::WithdrawMtRequestRequest& req,
                          v1::WithdrawMtRequestResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        MtRequest out,
                        desk.Close(c.principal, MtAction::kWithdraw, StepInput(req)));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCloseMtRequest, "CloseMtRequest", coordinator,
                  [&desk](const CallContext& c, const v1::CloseMtRequestRequest& req,
                          v1::CloseMtRequestResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        MtRequest out, desk.Close(c.principal, MtAction::kClose, StepInput(req)));
                    ToProto(out, resp->mutable_mt_request());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestDeclareGpCapacity, "DeclareGpCapacity", gp_or_coordinator,
                  [&desk](const CallContext& c, const v1::DeclareGpCapacityRequest& req,
                          v1::DeclareGpCapacityResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(GpCapacity in, FromProto(req.gp_capacity()));
                    CPTS_ASSIGN_OR_RETURN(
                        GpCapacity out,
                        desk.DeclareCapacity(c.principal, in, req.gp_capacity().etag()));
                    ToProto(out, resp->mutable_gp_capacity());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetGpCapacity, "GetGpCapacity", staff_or_gp,
                  [&desk](const CallContext& c, const v1::GetGpCapacityRequest& req,
                          v1::GetGpCapacityResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(GpCapacity out,
                                          desk.GetCapacity(c.principal, req.gp_member_id()));
                    ToProto(out, resp->mutable_gp_capacity());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListGpCapacities, "ListGpCapacities", staff,
                  [&desk](const CallContext& c, const v1::ListGpCapacitiesRequest& req,
                          v1::ListGpCapacitiesResponse* resp) -> absl::Status {
                    GpCapacityQuery q;
                    q.page_size = req.page_size();
                    q.page_token = req.page_token();
                    q.commune_insee = req.commune_insee();
                    CPTS_ASSIGN_OR_RETURN(
                        q.priority_class,
                        PriorityClassFromProto(req.priority_class(), "priority_class"));
                    q.available_only = req.available_only();
                    CPTS_ASSIGN_OR_RETURN(GpCapacityPage page, desk.ListCapacities(c.principal, q));
                    for (const GpCapacity& g : page.capacities) {
                      ToProto(g, resp->add_gp_capacities());
                    }
                    resp->set_next_page_token(page.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateTerritory, "UpdateTerritory", coordinator,
                  [&desk](const CallContext& c, const v1::UpdateTerritoryRequest& req,
                          v1::UpdateTerritoryResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(TerritoryUpdate update, TerritoryUpdateFromProto(req));
                    CPTS_ASSIGN_OR_RETURN(TerritoryRecord out,
                                          desk.UpdateTerritory(c.principal, std::move(update)));
                    ToProto(out, resp->mutable_territory());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetTerritory, "GetTerritory", staff,
                  [&desk](const CallContext& c, const v1::GetTerritoryRequest& /*req*/,
                          v1::GetTerritoryResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(TerritoryRecord out, desk.GetTerritory(c.principal));
                    ToProto(out, resp->mutable_territory());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestGetMtIndicators, "GetMtIndicators", reporters,
      [&desk, &clock](const CallContext& c, const v1::GetMtIndicatorsRequest& req,
                      v1::GetMtIndicatorsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay start,
                              DayFromProto(req.period().start_date(), "period.start_date"));
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay end,
                              DayFromProto(req.period().end_date(), "period.end_date"));
        const absl::Time now = clock.Now();
        CPTS_ASSIGN_OR_RETURN(MtIndicators out, desk.Indicators(c.principal, start, end));
        ToProto(out, start, end, now, resp->mutable_indicators());
        return absl::OkStatus();
      });
}

}  // namespace cpts::access
