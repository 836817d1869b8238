// The finance service end to end: the real finance and membership servers, real tokens, real
// MariaDB. Attendance comes in as the projects relay would send it (role service).
#include <gmock/gmock.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/finance_fixture.h"

namespace cpts::e2e {
namespace {

namespace fv1 = ::cpts::finance::v1;
using projects::v1::ENTITLEMENT_ROLE_MEMBER;
using projects::v1::ENTITLEMENT_ROLE_REFERENT;
using ::testing::HasSubstr;

class FinanceE2eTest : public FinanceE2e {};

TEST_F(FinanceE2eTest, PerMeetingPolicyPaysEachMemberTheExpectedCents) {
  CreatePerMeetingPolicy(5000, 8000);
  const std::string liberal = LiberalMember();
  const std::string referent = LiberalMember();
  const std::string employer = LegalEntityMember();
  const std::string with_convention = SalariedMember(employer);
  const std::string without_convention = SalariedMember("");

  const auto a = Record(Event(liberal, ENTITLEMENT_ROLE_MEMBER, 120));
  EXPECT_EQ(a.entitlement().amount_cents(), 5000);
  EXPECT_EQ(a.entitlement().status(), fv1::ENTITLEMENT_STATUS_PENDING);
  EXPECT_EQ(a.entitlement().payee().type(), fv1::PAYEE_TYPE_SELF);
  EXPECT_EQ(a.entitlement().payee().member_id(), liberal);
  EXPECT_EQ(Record(Event(referent, ENTITLEMENT_ROLE_REFERENT, 120)).entitlement().amount_cents(),
            8000);
  const auto salaried = Record(Event(with_convention, ENTITLEMENT_ROLE_MEMBER, 120));
  EXPECT_EQ(salaried.entitlement().amount_cents(), 5000);
  EXPECT_EQ(salaried.entitlement().payee().type(), fv1::PAYEE_TYPE_EMPLOYER);
  EXPECT_EQ(salaried.entitlement().payee().member_id(), employer);
  const auto none = Record(Event(without_convention, ENTITLEMENT_ROLE_MEMBER, 120));
  EXPECT_EQ(none.entitlement().amount_cents(), 0);
  EXPECT_EQ(none.entitlement().status(), fv1::ENTITLEMENT_STATUS_INELIGIBLE);
  EXPECT_EQ(none.entitlement().ineligible_reason(), fv1::INELIGIBLE_REASON_NO_EMPLOYER_CONVENTION);

  const auto balances = Balances();
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, liberal), -5000);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, referent), -8000);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, employer), -5000);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, without_convention), 0);
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE), 18000);
}

TEST_F(FinanceE2eTest, PerHourPolicyPaysByPoints) {
  // 2 points/h (member), 3 points/h (référent), a point is worth 25 EUR.
  CreatePerHourPolicy(2000, 3000, 2500);
  const std::string member = LiberalMember();
  const std::string referent = LiberalMember();
  EXPECT_EQ(Record(Event(member, ENTITLEMENT_ROLE_MEMBER, 90)).entitlement().amount_cents(), 7500);
  EXPECT_EQ(Record(Event(referent, ENTITLEMENT_ROLE_REFERENT, 100)).entitlement().amount_cents(),
            12500);
  // 2 x 25 EUR x 7/60 h = 5.8333 EUR: rounded to the cent.
  EXPECT_EQ(Record(Event(member, ENTITLEMENT_ROLE_MEMBER, 7)).entitlement().amount_cents(), 583);
}

TEST_F(FinanceE2eTest, AReplayedEventPaysNothingTwice) {
  CreatePerMeetingPolicy(5000, 8000);
  const std::string member = LiberalMember();
  const auto event = Event(member, ENTITLEMENT_ROLE_MEMBER, 60);
  const auto first = Record(event);
  EXPECT_FALSE(first.replayed());
  // The relay crashed after finance committed and before it saw the reply: it sends again.
  const auto second = Record(event);
  EXPECT_TRUE(second.replayed());
  EXPECT_EQ(second.entitlement().id(), first.entitlement().id());
  EXPECT_EQ(Journal().size(), 1u);
  EXPECT_EQ(BalanceOf(Balances(), fv1::ACCOUNT_KIND_PAYABLE, member), -5000);
}

TEST_F(FinanceE2eTest, AMemberReadsOnlyTheirOwnStatement) {
  CreatePerMeetingPolicy(5000, 8000);
  const std::string alice = LiberalMember();
  const std::string bob = LiberalMember();
  Record(Event(alice, ENTITLEMENT_ROLE_MEMBER, 60));
  Record(Event(bob, ENTITLEMENT_ROLE_REFERENT, 60));

  fv1::GetMyStatementRequest mine;
  mine.set_year(year());
  fv1::GetMyStatementResponse statement;
  grpc::Status st = finance_->GetMyStatement(Ctx(Token({"member"}, alice)).get(), mine, &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(statement.statement().member_id(), alice);
  ASSERT_EQ(statement.statement().lines_size(), 1);
  EXPECT_EQ(statement.statement().total_due_cents(), 5000);

  // Bob's entitlements are not Alice's to read.
  fv1::ListEntitlementsRequest others;
  others.set_member_id(bob);
  fv1::ListEntitlementsResponse listed;
  st = finance_->ListEntitlements(Ctx(Token({"member"}, alice)).get(), others, &listed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Nor may a member record attendance.
  fv1::RecordAttendanceResponse recorded;
  st = finance_->RecordAttendance(Ctx(Token({"member"}, alice)).get(),
                                  Event(alice, ENTITLEMENT_ROLE_MEMBER, 60), &recorded);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // An event of another tenant is refused even from the relay of this one.
  auto foreign = Event(alice, ENTITLEMENT_ROLE_MEMBER, 60);
  foreign.mutable_event()->set_tenant_id("another-tenant");
  st = finance_->RecordAttendance(Ctx(Token({"service"})).get(), foreign, &recorded);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(FinanceE2eTest, TreasurerGoesFromEntitlementsToAPain001AndPayment) {
  CreatePerMeetingPolicy(5000, 8000);
  const std::string a = LiberalMember();
  const std::string b = LiberalMember();
  std::vector<std::string> ids;
  int64_t expected_total = 0;
  for (const auto& [member, role] :
       std::vector<std::pair<std::string, projects::v1::EntitlementRole>>{
           {a, ENTITLEMENT_ROLE_MEMBER},
           {a, ENTITLEMENT_ROLE_REFERENT},
           {b, ENTITLEMENT_ROLE_MEMBER}}) {
    const auto r = Record(Event(member, role, 60));
    ids.push_back(r.entitlement().id());
    expected_total += r.entitlement().amount_cents();
  }
  ASSERT_EQ(expected_total, 18000);
  const std::string treasurer = Token({"treasurer"});
  // Bank accounts: both payees and the CPTS's own (recorded under the tenant id).
  for (const auto& [member, bban, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {a, "30006000011234567890189", "Dr Alpha Fictif"},
           {b, "30004000031234567890143", "Béta Exemple"},
           {tenant_, "10278000011234567890159", "CPTS Fictive"}}) {
    fv1::SetPayeeBankAccountRequest req;
    req.mutable_account()->set_member_id(member);
    req.mutable_account()->set_holder_name(name);
    req.mutable_account()->set_iban(Iban(bban));
    fv1::SetPayeeBankAccountResponse resp;
    const grpc::Status st = finance_->SetPayeeBankAccount(Ctx(treasurer).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  // The treasurer may not approve entitlements; the bureau does.
  fv1::ApproveEntitlementsRequest approve;
  for (const auto& id : ids) approve.add_entitlement_ids(id);
  approve.set_request_id("approve-1");
  fv1::ApproveEntitlementsResponse approved;
  grpc::Status st = finance_->ApproveEntitlements(Ctx(treasurer).get(), approve, &approved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  st = finance_->ApproveEntitlements(Ctx(Token({"bureau_member"})).get(), approve, &approved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(approved.entitlements_size(), 3);

  fv1::CreatePaymentBatchRequest create;
  create.mutable_batch()->set_label("Indemnités du mois");
  const absl::CivilDay exec = absl::CivilDay(year(), 12, 31);
  create.mutable_batch()->mutable_execution_date()->set_year(static_cast<int32_t>(exec.year()));
  create.mutable_batch()->mutable_execution_date()->set_month(exec.month());
  create.mutable_batch()->mutable_execution_date()->set_day(exec.day());
  create.set_request_id("batch-1");
  fv1::CreatePaymentBatchResponse batch;
  st = finance_->CreatePaymentBatch(Ctx(treasurer).get(), create, &batch);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(batch.batch().state(), fv1::BATCH_STATE_DRAFT);
  EXPECT_EQ(batch.batch().total_cents(), expected_total);
  EXPECT_EQ(batch.batch().payable_line_count(), 2);
  // A retry after a lost reply gets the same batch.
  fv1::CreatePaymentBatchResponse again;
  st = finance_->CreatePaymentBatch(Ctx(treasurer).get(), create, &again);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(again.batch().id(), batch.batch().id());

  fv1::ApprovePaymentBatchRequest ok;
  ok.set_id(batch.batch().id());
  ok.set_etag(batch.batch().etag());
  fv1::ApprovePaymentBatchResponse ok_resp;
  st = finance_->ApprovePaymentBatch(Ctx(treasurer).get(), ok, &ok_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ok_resp.batch().state(), fv1::BATCH_STATE_APPROVED);

  fv1::ExportPaymentBatchRequest xreq;
  xreq.set_id(batch.batch().id());
  xreq.set_format(fv1::EXPORT_FORMAT_SEPA_PAIN_001_001_03);
  fv1::ExportPaymentBatchResponse xml;
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &xml);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(xml.content_type(), "application/xml");
  EXPECT_THAT(xml.content(), HasSubstr("pain.001.001.03"));
  EXPECT_EQ(CtrlSumCents(xml.content()), expected_total);
  EXPECT_THAT(xml.content(), HasSubstr("<NbOfTxs>2</NbOfTxs>"));
  xreq.set_format(fv1::EXPORT_FORMAT_CSV);
  fv1::ExportPaymentBatchResponse csv;
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &csv);
  ASSERT_TRUE(st.ok()) << st.error_message();
  for (const auto& id : ids) EXPECT_THAT(csv.content(), HasSubstr(id));

  // Marked paid twice with the same request_id (the reply was lost): one payment.
  fv1::MarkPaymentBatchPaidRequest paid;
  paid.set_id(batch.batch().id());
  *paid.mutable_paid_date() = create.batch().execution_date();
  paid.set_request_id("paid-1");
  for (int i = 0; i < 2; ++i) {
    fv1::MarkPaymentBatchPaidResponse resp;
    st = finance_->MarkPaymentBatchPaid(Ctx(treasurer).get(), paid, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.batch().state(), fv1::BATCH_STATE_PAID);
  }
  int payments = 0;
  for (const auto& t : Journal()) payments += t.kind() == fv1::TRANSACTION_KIND_PAYMENT ? 1 : 0;
  EXPECT_EQ(payments, 1);
  const auto balances = Balances();
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_PAYABLE), 0);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""), -expected_total);

  fv1::GetMyStatementRequest mine;
  mine.set_year(year());
  fv1::GetMyStatementResponse statement;
  st = finance_->GetMyStatement(Ctx(Token({"member"}, a)).get(), mine, &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(statement.statement().total_paid_cents(), 13000);
}

TEST_F(FinanceE2eTest, RetriedApprovalWithTheSameRequestIdYieldsOneResult) {
  CreatePerMeetingPolicy(5000, 8000);
  const auto e = Record(Event(LiberalMember(), ENTITLEMENT_ROLE_MEMBER, 60));
  fv1::ApproveEntitlementsRequest approve;
  approve.add_entitlement_ids(e.entitlement().id());
  approve.set_request_id("approve-same");
  const std::string bureau = Token({"bureau_member"});
  for (int i = 0; i < 2; ++i) {
    fv1::ApproveEntitlementsResponse resp;
    const grpc::Status st = finance_->ApproveEntitlements(Ctx(bureau).get(), approve, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.entitlements(0).status(), fv1::ENTITLEMENT_STATUS_APPROVED);
  }
  // The same key for another request is refused.
  const auto other = Record(Event(LiberalMember(), ENTITLEMENT_ROLE_MEMBER, 60));
  approve.set_entitlement_ids(0, other.entitlement().id());
  fv1::ApproveEntitlementsResponse resp;
  const grpc::Status st = finance_->ApproveEntitlements(Ctx(bureau).get(), approve, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Journal().size(), 2u);
}

TEST_F(FinanceE2eTest, AciReportAddsUpToTheLedger) {
  const std::string coordinator = Token({"coordinator"});
  const std::string treasurer = Token({"treasurer"});
  fv1::CreateAciContractRequest contract;
  contract.mutable_contract()->mutable_signature_date()->set_year(year());
  contract.mutable_contract()->mutable_signature_date()->set_month(1);
  contract.mutable_contract()->mutable_signature_date()->set_day(15);
  contract.mutable_contract()->set_duration_years(5);
  contract.mutable_contract()->set_size(2);
  contract.mutable_contract()->set_reference("ACI-FICTIF-1");
  fv1::CreateAciContractResponse created;
  grpc::Status st = finance_->CreateAciContract(Ctx(coordinator).get(), contract, &created);
  ASSERT_TRUE(st.ok()) << st.error_message();
  for (const auto& [kind, mission, fixed] :
       std::vector<std::tuple<fv1::EnvelopeKind, std::string, int64_t>>{
           {fv1::ENVELOPE_KIND_FUNCTIONING, "", 5'000'001},
           {fv1::ENVELOPE_KIND_MISSION, "mission-1", 2'000'000}}) {
    fv1::SetAciEnvelopeRequest env;
    env.mutable_envelope()->set_year(year());
    env.mutable_envelope()->set_kind(kind);
    env.mutable_envelope()->set_mission_id(mission);
    env.mutable_envelope()->set_fixed_cents(fixed);
    env.mutable_envelope()->set_advance_basis_points(7500);
    fv1::SetAciEnvelopeResponse resp;
    st = finance_->SetAciEnvelope(Ctx(coordinator).get(), env, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  // The functioning advance is received.
  fv1::ListAciInstalmentsRequest list;
  list.set_year(year());
  fv1::ListAciInstalmentsResponse instalments;
  st = finance_->ListAciInstalments(Ctx(treasurer).get(), list, &instalments);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_GE(instalments.instalments_size(), 4);
  const auto& advance = instalments.instalments(0);
  fv1::RecordAciInstalmentReceivedRequest received;
  received.set_id(advance.id());
  received.set_received_cents(advance.expected_cents());
  *received.mutable_received_date() = advance.due_date();
  received.set_request_id("aci-received-1");
  fv1::RecordAciInstalmentReceivedResponse received_resp;
  st = finance_->RecordAciInstalmentReceived(Ctx(treasurer).get(), received, &received_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();

  // An action of the mission with a budget and an expense.
  fv1::UpdateActionBudgetRequest budget;
  budget.mutable_budget()->set_action_id("action-1");
  budget.mutable_budget()->set_mission_id("mission-1");
  budget.mutable_budget()->set_year(year());
  budget.mutable_budget()->set_allocated_cents(500'000);
  budget.mutable_update_mask()->add_paths("mission_id");
  budget.mutable_update_mask()->add_paths("allocated_cents");
  fv1::UpdateActionBudgetResponse budget_resp;
  st = finance_->UpdateActionBudget(Ctx(coordinator).get(), budget, &budget_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::RecordExpenseRequest expense;
  expense.mutable_expense()->set_action_id("action-1");
  expense.mutable_expense()->set_category(fv1::EXPENSE_CATEGORY_SERVICES);
  expense.mutable_expense()->set_amount_cents(33'333);
  *expense.mutable_expense()->mutable_expense_date() = advance.due_date();
  expense.mutable_expense()->set_supplier("Traiteur Fictif");
  expense.set_request_id("expense-1");
  fv1::RecordExpenseResponse expense_resp;
  st = finance_->RecordExpense(Ctx(treasurer).get(), expense, &expense_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();

  // Indemnities of the same action, paid.
  CreatePerMeetingPolicy(5000, 8000);
  const std::string member = LiberalMember();
  const auto e = Record(Event(member, ENTITLEMENT_ROLE_REFERENT, 60));
  fv1::ApproveEntitlementsRequest approve;
  approve.add_entitlement_ids(e.entitlement().id());
  approve.set_request_id("aci-approve");
  fv1::ApproveEntitlementsResponse approved;
  st = finance_->ApproveEntitlements(Ctx(Token({"bureau_member"})).get(), approve, &approved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::SetPayeeBankAccountRequest account;
  account.mutable_account()->set_member_id(member);
  account.mutable_account()->set_holder_name("Dr Gamma Fictif");
  account.mutable_account()->set_iban(Iban("30006000011234567890189"));
  fv1::SetPayeeBankAccountResponse account_resp;
  st = finance_->SetPayeeBankAccount(Ctx(treasurer).get(), account, &account_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::CreatePaymentBatchRequest create;
  *create.mutable_batch()->mutable_execution_date() = advance.due_date();
  create.set_request_id("aci-batch");
  fv1::CreatePaymentBatchResponse batch;
  st = finance_->CreatePaymentBatch(Ctx(treasurer).get(), create, &batch);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::ApprovePaymentBatchRequest ok;
  ok.set_id(batch.batch().id());
  fv1::ApprovePaymentBatchResponse ok_resp;
  st = finance_->ApprovePaymentBatch(Ctx(treasurer).get(), ok, &ok_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::ExportPaymentBatchRequest xreq;
  xreq.set_id(batch.batch().id());
  xreq.set_format(fv1::EXPORT_FORMAT_CSV);
  fv1::ExportPaymentBatchResponse x;
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &x);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::MarkPaymentBatchPaidRequest paid;
  paid.set_id(batch.batch().id());
  *paid.mutable_paid_date() = advance.due_date();
  paid.set_request_id("aci-paid");
  fv1::MarkPaymentBatchPaidResponse paid_resp;
  st = finance_->MarkPaymentBatchPaid(Ctx(treasurer).get(), paid, &paid_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();

  fv1::GetAciReportRequest req;
  req.set_year(year());
  fv1::GetAciReportResponse report;
  st = finance_->GetAciReport(Ctx(coordinator).get(), req, &report);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto& total = report.report().total();
  const auto balances = Balances();
  // Expected: what the journal says is owed by the ACI, before anything is received.
  EXPECT_EQ(total.expected_cents(), -SumOf(balances, fv1::ACCOUNT_KIND_ACI_INCOME));
  EXPECT_EQ(total.expected_cents(), 7'000'001);
  // Received: the receivable that was settled.
  EXPECT_EQ(total.received_cents(), -SumOf(balances, fv1::ACCOUNT_KIND_ACI_INCOME) -
                                        SumOf(balances, fv1::ACCOUNT_KIND_ACI_RECEIVABLE));
  EXPECT_EQ(total.received_cents(), advance.expected_cents());
  // Spent: expenses and paid indemnities, as the journal's expense accounts hold them.
  EXPECT_EQ(total.spent_cents(), SumOf(balances, fv1::ACCOUNT_KIND_OPERATING_EXPENSE) +
                                     SumOf(balances, fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE));
  EXPECT_EQ(total.spent_cents(), 33'333 + 8000);
  EXPECT_EQ(total.remaining_cents(), total.received_cents() - total.spent_cents());
  // The bank: received minus expenses minus indemnities paid.
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""),
            advance.expected_cents() - 33'333 - 8000);

  fv1::ExportAciReportRequest export_req;
  export_req.set_year(year());
  export_req.set_format(fv1::EXPORT_FORMAT_CSV);
  fv1::ExportAciReportResponse exported;
  st = finance_->ExportAciReport(Ctx(coordinator).get(), export_req, &exported);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_THAT(exported.content(), HasSubstr("mission-1"));
}

}  // namespace
}  // namespace cpts::e2e
