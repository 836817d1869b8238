#include "services/finance/service.h"

#include <optional>
#include <string>
#include <vector>

#include "cpts/finance/v1/finance_service.grpc.pb.h"
#include "services/finance/convert.h"
#include "services/platform/core/status_macros.h"

namespace cpts::finance {
namespace {

namespace roles = platform::auth::roles;
using platform::AllowRoles;
using platform::CallContext;
using Svc = v1::FinanceService::AsyncService;

Page PageOf(int32_t page_size, const std::string& token) {
  return Page{.page_size = page_size, .page_token = token};
}

}  // namespace

void RegisterFinanceService(platform::RpcServer& server, Finance& finance) {
  auto* svc = server.AddService<v1::FinanceService>();
  Finance& f = finance;
  const auto managers = AllowRoles({roles::kCoordinator, kTreasurerRole});
  const auto treasurer = AllowRoles({kTreasurerRole});
  const auto readers =
      AllowRoles({roles::kCoordinator, kTreasurerRole, roles::kBureauMember, roles::kReporting});
  const auto entitlement_readers =
      AllowRoles({roles::kCoordinator, kTreasurerRole, roles::kBureauMember});
  const auto bureau = AllowRoles({roles::kBureauMember});
  const auto relay = AllowRoles({roles::kService});
  const auto member = AllowRoles({roles::kMember});
  const auto admin = AllowRoles({roles::kPlatformAdmin}, /*require_tenant=*/false);
  const auto any_role = AllowRoles({roles::kPlatformAdmin, roles::kCoordinator, kTreasurerRole,
                                    roles::kBureauMember, roles::kReporting},
                                   /*require_tenant=*/false);
  const auto coordinator = AllowRoles({roles::kCoordinator});

  // --- policies and ceilings ---
  server.AddUnary(svc, &Svc::RequestCreateIndemnityPolicy, "CreateIndemnityPolicy", managers,
                  [&f](const CallContext& c, const v1::CreateIndemnityPolicyRequest& req,
                       v1::CreateIndemnityPolicyResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy in, FromProto(req.policy()));
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy out,
                                          f.CreatePolicy(c.principal, in, req.request_id()));
                    ToProto(out, resp->mutable_policy());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetIndemnityPolicy, "GetIndemnityPolicy", readers,
                  [&f](const CallContext& c, const v1::GetIndemnityPolicyRequest& req,
                       v1::GetIndemnityPolicyResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy out, f.GetPolicy(c.principal, req.id()));
                    ToProto(out, resp->mutable_policy());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListIndemnityPolicies, "ListIndemnityPolicies", readers,
                  [&f](const CallContext& c, const v1::ListIndemnityPoliciesRequest& req,
                       v1::ListIndemnityPoliciesResponse* resp) -> absl::Status {
                    std::string next;
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<IndemnityPolicy> out,
                        f.ListPolicies(c.principal, req.year(),
                                       PageOf(req.page_size(), req.page_token()), &next));
                    for (const IndemnityPolicy& p : out) ToProto(p, resp->add_policies());
                    resp->set_next_page_token(next);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestUpdateIndemnityPolicy, "UpdateIndemnityPolicy", managers,
                  [&f](const CallContext& c, const v1::UpdateIndemnityPolicyRequest& req,
                       v1::UpdateIndemnityPolicyResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PolicyMask mask, PolicyMaskFromProto(req.update_mask()));
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy in, FromProto(req.policy()));
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy out, f.UpdatePolicy(c.principal, in, mask,
                                                                              req.policy().etag()));
                    ToProto(out, resp->mutable_policy());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestReviseIndemnityPolicy, "ReviseIndemnityPolicy", managers,
                  [&f](const CallContext& c, const v1::ReviseIndemnityPolicyRequest& req,
                       v1::ReviseIndemnityPolicyResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy in, FromProto(req.policy()));
                    CPTS_ASSIGN_OR_RETURN(
                        RevisedPolicy out,
                        f.RevisePolicy(c.principal, in, req.current_etag(), req.request_id()));
                    ToProto(out.policy, resp->mutable_policy());
                    resp->set_rerated_count(out.rerated_count);
                    resp->set_paid_skipped_count(out.paid_skipped_count);
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestSetAnnualCeiling, "SetAnnualCeiling", admin,
      [&f](const CallContext&, const v1::SetAnnualCeilingRequest& req,
           v1::SetAnnualCeilingResponse* resp) -> absl::Status {
        CPTS_RETURN_IF_ERROR(f.SetCeiling(req.ceiling().year(), req.ceiling().ceiling_cents()));
        resp->mutable_ceiling()->set_year(req.ceiling().year());
        resp->mutable_ceiling()->set_ceiling_cents(req.ceiling().ceiling_cents());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestListAnnualCeilings, "ListAnnualCeilings", any_role,
                  [&f](const CallContext&, const v1::ListAnnualCeilingsRequest&,
                       v1::ListAnnualCeilingsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AnnualCeilingTable table, f.ListCeilings());
                    for (const auto& [year, cents] : table.by_year()) {
                      v1::AnnualCeiling* c = resp->add_ceilings();
                      c->set_year(year);
                      c->set_ceiling_cents(cents);
                    }
                    return absl::OkStatus();
                  });

  // --- attendance and entitlements ---
  server.AddUnary(svc, &Svc::RequestRecordAttendance, "RecordAttendance", relay,
                  [&f](const CallContext& c, const v1::RecordAttendanceRequest& req,
                       v1::RecordAttendanceResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AttendanceLine line, FromProto(req.event()));
                    CPTS_ASSIGN_OR_RETURN(Finance::Recorded out,
                                          f.RecordAttendance(c.principal, line));
                    ToProto(out.entitlement, resp->mutable_entitlement());
                    resp->set_replayed(out.replayed);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetMyStatement, "GetMyStatement", member,
                  [&f](const CallContext& c, const v1::GetMyStatementRequest& req,
                       v1::GetMyStatementResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Statement out, f.GetMyStatement(c.principal, req.year()));
                    ToProto(out, resp->mutable_statement());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListEntitlements, "ListEntitlements", entitlement_readers,
      [&f](const CallContext& c, const v1::ListEntitlementsRequest& req,
           v1::ListEntitlementsResponse* resp) -> absl::Status {
        EntitlementFilter filter{
            .year = req.year(), .group_id = req.group_id(), .member_id = req.member_id()};
        CPTS_ASSIGN_OR_RETURN(filter.status, StatusFromProto(req.status()));
        CPTS_ASSIGN_OR_RETURN(filter.category, CategoryFromProto(req.category()));
        CPTS_ASSIGN_OR_RETURN(
            EntitlementPage out,
            f.ListEntitlements(c.principal, filter, PageOf(req.page_size(), req.page_token())));
        for (const Entitlement& e : out.entitlements) {
          ToProto(e, resp->add_entitlements());
        }
        resp->set_next_page_token(out.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestRecordGovernanceIndemnity, "RecordGovernanceIndemnity",
                  treasurer,
                  [&f](const CallContext& c, const v1::RecordGovernanceIndemnityRequest& req,
                       v1::RecordGovernanceIndemnityResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(GovernanceClaim claim, FromProto(req));
                    CPTS_ASSIGN_OR_RETURN(Finance::Recorded out,
                                          f.RecordGovernanceIndemnity(c.principal, claim));
                    ToProto(out.entitlement, resp->mutable_entitlement());
                    resp->set_replayed(out.replayed);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestApproveEntitlements, "ApproveEntitlements", bureau,
                  [&f](const CallContext& c, const v1::ApproveEntitlementsRequest& req,
                       v1::ApproveEntitlementsResponse* resp) -> absl::Status {
                    const std::vector<std::string> ids(req.entitlement_ids().begin(),
                                                       req.entitlement_ids().end());
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<Entitlement> out,
                        f.ApproveEntitlements(c.principal, ids, req.request_id()));
                    for (const Entitlement& e : out) ToProto(e, resp->add_entitlements());
                    return absl::OkStatus();
                  });

  // --- ledger ---
  server.AddUnary(svc, &Svc::RequestListLedgerTransactions, "ListLedgerTransactions", managers,
                  [&f](const CallContext& c, const v1::ListLedgerTransactionsRequest& req,
                       v1::ListLedgerTransactionsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::optional<Account> account,
                                          AccountFromProto(req.account(), req.has_account()));
                    CPTS_ASSIGN_OR_RETURN(
                        TransactionPage out,
                        f.ListTransactions(c.principal, req.year(), account,
                                           PageOf(req.page_size(), req.page_token())));
                    for (const LedgerTransaction& t : out.transactions) {
                      ToProto(t, resp->add_transactions());
                    }
                    resp->set_next_page_token(out.next_page_token);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetLedgerBalances, "GetLedgerBalances", managers,
                  [&f](const CallContext& c, const v1::GetLedgerBalancesRequest& req,
                       v1::GetLedgerBalancesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> as_of,
                                          OptionalDay(req.as_of(), "as_of"));
                    CPTS_ASSIGN_OR_RETURN(AccountKind kind,
                                          AccountKindFromProto(req.kind(), "kind"));
                    CPTS_ASSIGN_OR_RETURN(Balances out, f.GetBalances(c.principal, as_of, kind));
                    for (const auto& [account, cents] : out) {
                      v1::AccountBalance* b = resp->add_balances();
                      ToProto(account, b->mutable_account());
                      b->set_balance_cents(cents);
                    }
                    return absl::OkStatus();
                  });

  // --- bank accounts and batches ---
  server.AddUnary(svc, &Svc::RequestSetPayeeBankAccount, "SetPayeeBankAccount", treasurer,
                  [&f](const CallContext& c, const v1::SetPayeeBankAccountRequest& req,
                       v1::SetPayeeBankAccountResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PayeeBankAccount out,
                                          f.SetBankAccount(c.principal, FromProto(req.account())));
                    ToProto(out, resp->mutable_account());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetPayeeBankAccount, "GetPayeeBankAccount", treasurer,
                  [&f](const CallContext& c, const v1::GetPayeeBankAccountRequest& req,
                       v1::GetPayeeBankAccountResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PayeeBankAccount out,
                                          f.GetBankAccount(c.principal, req.member_id()));
                    ToProto(out, resp->mutable_account());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestSetDebtorAccount, "SetDebtorAccount", treasurer,
                  [&f](const CallContext& c, const v1::SetDebtorAccountRequest& req,
                       v1::SetDebtorAccountResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        DebtorAccount out,
                        f.SetDebtorAccount(c.principal, FromProto(req.account())));
                    ToProto(out, resp->mutable_account());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetDebtorAccount, "GetDebtorAccount", treasurer,
                  [&f](const CallContext& c, const v1::GetDebtorAccountRequest&,
                       v1::GetDebtorAccountResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(DebtorAccount out, f.GetDebtorAccount(c.principal));
                    ToProto(out, resp->mutable_account());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCreatePaymentBatch, "CreatePaymentBatch", treasurer,
                  [&f](const CallContext& c, const v1::CreatePaymentBatchRequest& req,
                       v1::CreatePaymentBatchResponse* resp) -> absl::Status {
                    PaymentBatch in;
                    in.label = req.batch().label();
                    CPTS_ASSIGN_OR_RETURN(
                        in.execution_date,
                        RequiredDay(req.batch().execution_date(), "batch.execution_date"));
                    CPTS_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> until,
                                          OptionalDay(req.meetings_until(), "meetings_until"));
                    CPTS_ASSIGN_OR_RETURN(PaymentBatch out,
                                          f.CreateBatch(c.principal, in, until, req.request_id()));
                    ToProto(out, resp->mutable_batch());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetPaymentBatch, "GetPaymentBatch", entitlement_readers,
                  [&f](const CallContext& c, const v1::GetPaymentBatchRequest& req,
                       v1::GetPaymentBatchResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PaymentBatch out, f.GetBatch(c.principal, req.id()));
                    ToProto(out, resp->mutable_batch());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestListPaymentBatches, "ListPaymentBatches", entitlement_readers,
      [&f](const CallContext& c, const v1::ListPaymentBatchesRequest& req,
           v1::ListPaymentBatchesResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<BatchState> state, BatchStateFromProto(req.state()));
        CPTS_ASSIGN_OR_RETURN(
            BatchPage out,
            f.ListBatches(c.principal, state, PageOf(req.page_size(), req.page_token())));
        for (const PaymentBatch& b : out.batches) ToProto(b, resp->add_batches());
        resp->set_next_page_token(out.next_page_token);
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestApprovePaymentBatch, "ApprovePaymentBatch", treasurer,
                  [&f](const CallContext& c, const v1::ApprovePaymentBatchRequest& req,
                       v1::ApprovePaymentBatchResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PaymentBatch out,
                                          f.ApproveBatch(c.principal, req.id(), req.etag()));
                    ToProto(out, resp->mutable_batch());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestCancelPaymentBatch, "CancelPaymentBatch", treasurer,
                  [&f](const CallContext& c, const v1::CancelPaymentBatchRequest& req,
                       v1::CancelPaymentBatchResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(PaymentBatch out,
                                          f.CancelBatch(c.principal, req.id(), req.etag()));
                    ToProto(out, resp->mutable_batch());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestExportPaymentBatch, "ExportPaymentBatch", treasurer,
                  [&f](const CallContext& c, const v1::ExportPaymentBatchRequest& req,
                       v1::ExportPaymentBatchResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        ExportedFile out,
                        f.ExportBatch(c.principal, req.id(), FormatFromProto(req.format())));
                    resp->set_file_name(out.file_name);
                    resp->set_content_type(out.content_type);
                    resp->set_content(out.content);
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestMarkPaymentBatchPaid, "MarkPaymentBatchPaid", treasurer,
      [&f](const CallContext& c, const v1::MarkPaymentBatchPaidRequest& req,
           v1::MarkPaymentBatchPaidResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay paid, RequiredDay(req.paid_date(), "paid_date"));
        CPTS_ASSIGN_OR_RETURN(PaymentBatch out,
                              f.MarkBatchPaid(c.principal, req.id(), paid, req.request_id()));
        ToProto(out, resp->mutable_batch());
        return absl::OkStatus();
      });

  // --- ACI ---
  server.AddUnary(svc, &Svc::RequestCreateAciContract, "CreateAciContract", managers,
                  [&f](const CallContext& c, const v1::CreateAciContractRequest& req,
                       v1::CreateAciContractResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AciContract in, FromProto(req.contract()));
                    CPTS_ASSIGN_OR_RETURN(AciContract out,
                                          f.CreateContract(c.principal, in, req.request_id()));
                    ToProto(out, resp->mutable_contract());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetAciContract, "GetAciContract", readers,
                  [&f](const CallContext& c, const v1::GetAciContractRequest&,
                       v1::GetAciContractResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AciContract out, f.GetContract(c.principal));
                    ToProto(out, resp->mutable_contract());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestSetAciEnvelope, "SetAciEnvelope", managers,
                  [&f](const CallContext& c, const v1::SetAciEnvelopeRequest& req,
                       v1::SetAciEnvelopeResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AciEnvelope in, FromProto(req.envelope()));
                    CPTS_ASSIGN_OR_RETURN(EnvelopeResult out, f.SetEnvelope(c.principal, in));
                    ToProto(out, resp->mutable_envelope());
                    for (const AciInstalment& i : out.instalments) {
                      ToProto(i, resp->add_instalments());
                    }
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListAciEnvelopes, "ListAciEnvelopes", readers,
                  [&f](const CallContext& c, const v1::ListAciEnvelopesRequest& req,
                       v1::ListAciEnvelopesResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<EnvelopeResult> out,
                                          f.ListEnvelopes(c.principal, req.year()));
                    for (const EnvelopeResult& e : out) ToProto(e, resp->add_envelopes());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestSetIndicatorAttainment, "SetIndicatorAttainment", coordinator,
                  [&f](const CallContext& c, const v1::SetIndicatorAttainmentRequest& req,
                       v1::SetIndicatorAttainmentResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        IndicatorAttainment out,
                        f.SetAttainment(c.principal, FromProto(req.attainment())));
                    ToProto(out, resp->mutable_attainment());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListAciInstalments, "ListAciInstalments", readers,
                  [&f](const CallContext& c, const v1::ListAciInstalmentsRequest& req,
                       v1::ListAciInstalmentsResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(std::vector<AciInstalment> out,
                                          f.ListInstalments(c.principal, req.year()));
                    for (const AciInstalment& i : out) ToProto(i, resp->add_instalments());
                    return absl::OkStatus();
                  });
  server.AddUnary(
      svc, &Svc::RequestRecordAciInstalmentReceived, "RecordAciInstalmentReceived", treasurer,
      [&f](const CallContext& c, const v1::RecordAciInstalmentReceivedRequest& req,
           v1::RecordAciInstalmentReceivedResponse* resp) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(absl::CivilDay day,
                              RequiredDay(req.received_date(), "received_date"));
        CPTS_ASSIGN_OR_RETURN(AciInstalment out, f.RecordInstalmentReceived(c.principal, req.id(),
                                                                            req.received_cents(),
                                                                            day, req.request_id()));
        ToProto(out, resp->mutable_instalment());
        return absl::OkStatus();
      });
  server.AddUnary(svc, &Svc::RequestUpdateActionBudget, "UpdateActionBudget", managers,
                  [&f](const CallContext& c, const v1::UpdateActionBudgetRequest& req,
                       v1::UpdateActionBudgetResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(BudgetMask mask, BudgetMaskFromProto(req.update_mask()));
                    CPTS_ASSIGN_OR_RETURN(BudgetView out,
                                          f.UpdateBudget(c.principal, FromProto(req.budget()), mask,
                                                         req.budget().etag()));
                    ToProto(out, resp->mutable_budget());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListActionBudgets, "ListActionBudgets", readers,
                  [&f](const CallContext& c, const v1::ListActionBudgetsRequest& req,
                       v1::ListActionBudgetsResponse* resp) -> absl::Status {
                    std::string next;
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<BudgetView> out,
                        f.ListBudgets(c.principal, req.year(), req.mission_id(),
                                      PageOf(req.page_size(), req.page_token()), &next));
                    for (const BudgetView& b : out) ToProto(b, resp->add_budgets());
                    resp->set_next_page_token(next);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestRecordExpense, "RecordExpense", managers,
                  [&f](const CallContext& c, const v1::RecordExpenseRequest& req,
                       v1::RecordExpenseResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(Expense in, FromProto(req.expense()));
                    CPTS_ASSIGN_OR_RETURN(Expense out,
                                          f.RecordExpense(c.principal, in, req.request_id()));
                    ToProto(out, resp->mutable_expense());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestListExpenses, "ListExpenses", readers,
                  [&f](const CallContext& c, const v1::ListExpensesRequest& req,
                       v1::ListExpensesResponse* resp) -> absl::Status {
                    std::string next;
                    CPTS_ASSIGN_OR_RETURN(
                        std::vector<Expense> out,
                        f.ListExpenses(c.principal, req.year(), req.action_id(),
                                       PageOf(req.page_size(), req.page_token()), &next));
                    for (const Expense& x : out) ToProto(x, resp->add_expenses());
                    resp->set_next_page_token(next);
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestGetAciReport, "GetAciReport", readers,
                  [&f](const CallContext& c, const v1::GetAciReportRequest& req,
                       v1::GetAciReportResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(AciReport out, f.GetAciReport(c.principal, req.year()));
                    ToProto(out, resp->mutable_report());
                    return absl::OkStatus();
                  });
  server.AddUnary(svc, &Svc::RequestExportAciReport, "ExportAciReport", readers,
                  [&f](const CallContext& c, const v1::ExportAciReportRequest& req,
                       v1::ExportAciReportResponse* resp) -> absl::Status {
                    CPTS_ASSIGN_OR_RETURN(
                        ExportedFile out,
                        f.ExportAciReport(c.principal, req.year(), FormatFromProto(req.format())));
                    resp->set_file_name(out.file_name);
                    resp->set_content_type(out.content_type);
                    resp->set_content(out.content);
                    return absl::OkStatus();
                  });
}

}  // namespace cpts::finance
