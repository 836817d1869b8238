#include "services/membership/service.h"

#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "services/membership/convert.h"
#include "services/platform/core/status_macros.h"

namespace cpts::membership {
namespace {

namespace roles = platform::auth::roles;
using platform::AllowRoles;
using platform::CallContext;
using Svc = v1::MembershipService::AsyncService;

std::vector<std::string> MaskPaths(const google::protobuf::FieldMask& mask) {
  return {mask.paths().begin(), mask.paths().end()};
}

// Every member-returning method answers with one member; this keeps each handler one line.
template <typename Response>
absl::Status Answer(const absl::StatusOr<MemberView>& view, Response* response) {
  if (!view.ok()) return view.status();
  ToProto(*view, response->mutable_member());
  return absl::OkStatus();
}

}  // namespace

void RegisterMembershipService(platform::RpcServer& server, Membership& m) {
  auto* svc = server.AddService<v1::MembershipService>();
  // The coarse gate per method; it mirrors the domain's rules (members.cc), which also decide
  // what depends on the data (e.g. a member acting on their own record).
  const auto staff = AllowRoles({roles::kCoordinator, roles::kBureauMember});
  const auto coordinator = AllowRoles({roles::kCoordinator});
  const auto staff_or_self =
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember});

  // ---- Tenants: platform administration; a coordinator may read and configure their own.
  server.AddUnary(
      svc, &Svc::RequestCreateTenant, "CreateTenant",
      AllowRoles({roles::kPlatformAdmin}, /*require_tenant=*/false),
      [&m](const CallContext& c, const v1::CreateTenantRequest& req,
           v1::CreateTenantResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(Tenant t, FromProto(req.tenant()));
        CPTS_ASSIGN_OR_RETURN(Tenant created, m.CreateTenant(c.principal, {t, req.request_id()}));
        ToProto(created, resp->mutable_tenant());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestGetTenant, "GetTenant",
                  AllowRoles({roles::kPlatformAdmin, roles::kCoordinator, roles::kBureauMember,
                              roles::kMember, roles::kService},
                             false),
                  [&m](const CallContext& c, const v1::GetTenantRequest& req,
                       v1::GetTenantResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Tenant t, m.GetTenant(c.principal, req.tenant_id()));
                    ToProto(t, resp->mutable_tenant());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListTenants, "ListTenants", AllowRoles({roles::kPlatformAdmin}, false),
      [&m](const CallContext& c, const v1::ListTenantsRequest& req,
           v1::ListTenantsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(TenantPage page,
                              m.ListTenants(c.principal, {.page_size = req.page_size(),
                                                          .page_token = req.page_token()}));
        for (const auto& t : page.tenants) ToProto(t, resp->add_tenants());
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestUpdateTenant, "UpdateTenant",
                  AllowRoles({roles::kPlatformAdmin, roles::kCoordinator}, false),
                  [&m](const CallContext& c, const v1::UpdateTenantRequest& req,
                       v1::UpdateTenantResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Tenant t, FromProto(req.tenant()));
                    CPTS_ASSIGN_OR_RETURN(
                        Tenant updated,
                        m.UpdateTenant(c.principal, {.tenant = t,
                                                     .update_mask = MaskPaths(req.update_mask()),
                                                     .etag = req.tenant().etag()}));
                    ToProto(updated, resp->mutable_tenant());
                    return absl::OkStatus();
                  });

  // ---- Reference lists: readable by every role of the tenant, the public form included.
  const auto tenant_readers = AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember,
                                          roles::kPublicForm, roles::kService});
  server.AddUnary(svc, &Svc::RequestListProfessions, "ListProfessions", tenant_readers,
                  [&m](const CallContext& c, const v1::ListProfessionsRequest&,
                       v1::ListProfessionsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto list, m.ListProfessions(c.principal));
                    for (const auto& p : list) ToProto(p, resp->add_professions());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCreateProfession, "CreateProfession",
                  AllowRoles({roles::kCoordinator}),
                  [&m](const CallContext& c, const v1::CreateProfessionRequest& req,
                       v1::CreateProfessionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        Profession p, m.CreateProfession(c.principal, FromProto(req.profession())));
                    ToProto(p, resp->mutable_profession());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestCreateCollege, "CreateCollege", AllowRoles({roles::kCoordinator}),
      [&m](const CallContext& c, const v1::CreateCollegeRequest& req,
           v1::CreateCollegeResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(College col, m.CreateCollege(c.principal, {FromProto(req.college()),
                                                                         req.request_id()}));
        ToProto(col, resp->mutable_college());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestListColleges, "ListColleges", tenant_readers,
                  [&m](const CallContext& c, const v1::ListCollegesRequest&,
                       v1::ListCollegesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto list, m.ListColleges(c.principal));
                    for (const auto& col : list) ToProto(col, resp->add_colleges());
                    return absl::OkStatus();
                  });

  // ---- Members.
  server.AddUnary(
      svc, &Svc::RequestCreateMember, "CreateMember", AllowRoles({roles::kCoordinator}),
      [&m](const CallContext& c, const v1::CreateMemberRequest& req,
           v1::CreateMemberResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(Member member, FromProto(req.member(), "member"));
        return Answer(
            m.CreateMember(c.principal, {member, req.request_id(), req.activate_for_year()}), resp);
      });
  server.AddUnary(
      svc, &Svc::RequestGetMember, "GetMember",
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember, roles::kService}),
      [&m](const CallContext& c, const v1::GetMemberRequest& req, v1::GetMemberResponse* resp) {
        return Answer(m.GetMember(c.principal, req.member_id()), resp);
      });
  server.AddUnary(svc, &Svc::RequestBatchGetMembers, "BatchGetMembers",
                  AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kService}),
                  [&m](const CallContext& c, const v1::BatchGetMembersRequest& req,
                       v1::BatchGetMembersResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto views,
                                          m.BatchGetMembers(c.principal, {req.member_ids().begin(),
                                                                          req.member_ids().end()}));
                    for (const auto& v : views) ToProto(v, resp->add_members());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListMembers, "ListMembers",
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kService}),
      [&m](const CallContext& c, const v1::ListMembersRequest& req,
           v1::ListMembersResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(MemberStatus status, StatusFromProto(req.status(), "status"));
        CPTS_ASSIGN_OR_RETURN(MemberPage page,
                              m.ListMembers(c.principal, {.page_size = req.page_size(),
                                                          .page_token = req.page_token(),
                                                          .status = status,
                                                          .profession_code = req.profession_code(),
                                                          .commune_insee = req.commune_insee(),
                                                          .college_id = req.college_id(),
                                                          .name_prefix = req.name_prefix()}));
        for (const auto& v : page.members) ToProto(v, resp->add_members());
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestUpdateMember, "UpdateMember",
                  AllowRoles({roles::kCoordinator, roles::kMember}),
                  [&m](const CallContext& c, const v1::UpdateMemberRequest& req,
                       v1::UpdateMemberResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Member member, FromProto(req.member(), "member"));
                    return Answer(
                        m.UpdateMember(c.principal, {.member = member,
                                                     .update_mask = MaskPaths(req.update_mask()),
                                                     .etag = req.member().etag()}),
                        resp);
                  });

  // ---- Lifecycle.
  server.AddUnary(svc, &Svc::RequestSubmitAdhesion, "SubmitAdhesion",
                  AllowRoles({roles::kPublicForm, roles::kCoordinator}),
                  [&m](const CallContext& c, const v1::SubmitAdhesionRequest& req,
                       v1::SubmitAdhesionResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Member member, FromProto(req.member(), "member"));
                    return Answer(
                        m.SubmitAdhesion(c.principal, {member, req.message(), req.request_id()}),
                        resp);
                  });
  server.AddUnary(
      svc, &Svc::RequestApproveAdhesion, "ApproveAdhesion", staff,
      [&m](const CallContext& c, const v1::ApproveAdhesionRequest& req,
           v1::ApproveAdhesionResponse* resp) {
        return Answer(m.ApproveAdhesion(c.principal,
                                        {req.member_id(), req.membership_year(), req.college_id()}),
                      resp);
      });
  server.AddUnary(
      svc, &Svc::RequestRejectAdhesion, "RejectAdhesion", staff,
      [&m](const CallContext& c, const v1::RejectAdhesionRequest& req,
           v1::RejectAdhesionResponse* resp) {
        return Answer(m.RejectAdhesion(c.principal, {req.member_id(), req.reason()}), resp);
      });
  server.AddUnary(
      svc, &Svc::RequestRenewMembership, "RenewMembership", coordinator,
      [&m](const CallContext& c, const v1::RenewMembershipRequest& req,
           v1::RenewMembershipResponse* resp) {
        return Answer(m.RenewMembership(c.principal, {req.member_id(), req.year()}), resp);
      });
  server.AddUnary(
      svc, &Svc::RequestSuspendMember, "SuspendMember", coordinator,
      [&m](const CallContext& c, const v1::SuspendMemberRequest& req,
           v1::SuspendMemberResponse* resp) {
        return Answer(m.SuspendMember(c.principal, {req.member_id(), req.reason()}), resp);
      });
  server.AddUnary(
      svc, &Svc::RequestReinstateMember, "ReinstateMember", coordinator,
      [&m](const CallContext& c, const v1::ReinstateMemberRequest& req,
           v1::ReinstateMemberResponse* resp) {
        return Answer(m.ReinstateMember(c.principal, {req.member_id(), req.reason()}), resp);
      });
  server.AddUnary(
      svc, &Svc::RequestResignMember, "ResignMember",
      AllowRoles({roles::kCoordinator, roles::kMember}),
      [&m](const CallContext& c, const v1::ResignMemberRequest& req,
           v1::ResignMemberResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(auto effective, OptionalDay(req.effective_date(), "effective_date"));
        return Answer(m.ResignMember(c.principal, {req.member_id(), req.reason(), effective}),
                      resp);
      });

  // ---- Cotisations.
  server.AddUnary(svc, &Svc::RequestRecordCotisation, "RecordCotisation", staff,
                  [&m](const CallContext& c, const v1::RecordCotisationRequest& req,
                       v1::RecordCotisationResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Cotisation in, FromProto(req.cotisation()));
                    CPTS_ASSIGN_OR_RETURN(Cotisation out,
                                          m.RecordCotisation(c.principal, {in, req.request_id()}));
                    ToProto(out, resp->mutable_cotisation());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListCotisations, "ListCotisations", staff_or_self,
                  [&m](const CallContext& c, const v1::ListCotisationsRequest& req,
                       v1::ListCotisationsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto list,
                                          m.ListCotisations(c.principal, req.member_id()));
                    for (const auto& x : list) ToProto(x, resp->add_cotisations());
                    return absl::OkStatus();
                  });

  // ---- Employer conventions.
  server.AddUnary(
      svc, &Svc::RequestCreateEmployerConvention, "CreateEmployerConvention", coordinator,
      [&m](const CallContext& c, const v1::CreateEmployerConventionRequest& req,
           v1::CreateEmployerConventionResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(EmployerConvention in, FromProto(req.convention()));
        CPTS_ASSIGN_OR_RETURN(EmployerConvention out,
                              m.CreateEmployerConvention(c.principal, {in, req.request_id()}));
        ToProto(out, resp->mutable_convention());
        return absl::OkStatus();
      });
  server.AddUnary(
      svc, &Svc::RequestListEmployerConventions, "ListEmployerConventions",
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember, roles::kService}),
      [&m](const CallContext& c, const v1::ListEmployerConventionsRequest& req,
           v1::ListEmployerConventionsResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(auto list, m.ListEmployerConventions(c.principal, req.member_id()));
        for (const auto& x : list) ToProto(x, resp->add_conventions());
        return absl::OkStatus();
      });
  server.AddUnary(
      svc, &Svc::RequestEndEmployerConvention, "EndEmployerConvention", coordinator,
      [&m](const CallContext& c, const v1::EndEmployerConventionRequest& req,
           v1::EndEmployerConventionResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(auto end, OptionalDay(req.end_date(), "end_date"));
        CPTS_ASSIGN_OR_RETURN(
            EmployerConvention out,
            m.EndEmployerConvention(c.principal, {req.convention_id(), end, req.reason()}));
        ToProto(out, resp->mutable_convention());
        return absl::OkStatus();
      });

  // ---- Mandates.
  server.AddUnary(
      svc, &Svc::RequestCreateMandate, "CreateMandate", staff,
      [&m](const CallContext& c, const v1::CreateMandateRequest& req,
           v1::CreateMandateResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(Mandate in, FromProto(req.mandate()));
        CPTS_ASSIGN_OR_RETURN(Mandate out, m.CreateMandate(c.principal, {in, req.request_id()}));
        ToProto(out, resp->mutable_mandate());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestEndMandate, "EndMandate", staff,
                  [&m](const CallContext& c, const v1::EndMandateRequest& req,
                       v1::EndMandateResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto end, OptionalDay(req.end_date(), "end_date"));
                    CPTS_ASSIGN_OR_RETURN(
                        Mandate out,
                        m.EndMandate(c.principal, {req.mandate_id(), end, req.reason()}));
                    ToProto(out, resp->mutable_mandate());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListCurrentMandates, "ListCurrentMandates",
      AllowRoles({roles::kCoordinator, roles::kBureauMember, roles::kMember, roles::kService}),
      [&m](const CallContext& c, const v1::ListCurrentMandatesRequest& req,
           v1::ListCurrentMandatesResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(auto on, OptionalDay(req.on_date(), "on_date"));
        CPTS_ASSIGN_OR_RETURN(MandateBody body, BodyFromProto(req.body(), "body"));
        CPTS_ASSIGN_OR_RETURN(auto list, m.ListCurrentMandates(c.principal, {on, body}));
        for (const auto& x : list) ToProto(x, resp->add_mandates());
        return absl::OkStatus();
      });

  // ---- Directory for other services, and history.
  server.AddUnary(svc, &Svc::RequestGetMemberProfile, "GetMemberProfile",
                  AllowRoles({roles::kService, roles::kCoordinator, roles::kBureauMember}),
                  [&m](const CallContext& c, const v1::GetMemberProfileRequest& req,
                       v1::GetMemberProfileResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(auto on, OptionalDay(req.on_date(), "on_date"));
                    CPTS_ASSIGN_OR_RETURN(MemberProfile p,
                                          m.GetMemberProfile(c.principal, {req.member_id(), on}));
                    ToProto(p, resp->mutable_profile());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListMemberHistory, "ListMemberHistory", staff,
      [&m](const CallContext& c, const v1::ListMemberHistoryRequest& req,
           v1::ListMemberHistoryResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(
            HistoryPage page,
            m.ListMemberHistory(c.principal, {req.member_id(), req.page_size(), req.page_token()}));
        for (const auto& e : page.entries) ToProto(e, resp->add_entries());
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
}

}  // namespace cpts::membership
