// The finance service end to end: the real finance and membership servers, real tokens, real
// MariaDB. Attendance comes in as the projects relay would send it (role service).
#include <gmock/gmock.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  // The payees' bank accounts. The CPTS's own is not a payee's.
  for (const auto& [member, bban, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {a, "30006000011234567890189", "Dr Alpha Fictif"},
           {b, "30004000031234567890143", "Béta Exemple"}}) {
    fv1::SetPayeeBankAccountRequest req;
    req.mutable_account()->set_member_id(member);
    req.mutable_account()->set_holder_name(name);
    req.mutable_account()->set_iban(Iban(bban));
    fv1::SetPayeeBankAccountResponse resp;
    const grpc::Status st = finance_->SetPayeeBankAccount(Ctx(treasurer).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  {
    fv1::SetPayeeBankAccountRequest req;
    req.mutable_account()->set_member_id(tenant_);
    req.mutable_account()->set_holder_name("CPTS Fictive");
    req.mutable_account()->set_iban(Iban("10278000011234567890159"));
    fv1::SetPayeeBankAccountResponse resp;
    const grpc::Status st = finance_->SetPayeeBankAccount(Ctx(treasurer).get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(st.error_message(), HasSubstr("account.member_id"));
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
  // No SEPA file until the CPTS's own (debtor) account is set.
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &xml);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("debtor account"));
  fv1::GetDebtorAccountResponse debtor;
  st = finance_->GetDebtorAccount(Ctx(treasurer).get(), fv1::GetDebtorAccountRequest(), &debtor);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  fv1::SetDebtorAccountRequest set_debtor;
  set_debtor.mutable_account()->set_holder_name("CPTS Fictive");
  set_debtor.mutable_account()->set_iban(Iban("10278000011234567890159"));
  set_debtor.mutable_account()->set_bic("CMCIFR2A");
  fv1::SetDebtorAccountResponse set_resp;
  // Only the treasurer sets it.
  for (const char* role : {"coordinator", "bureau_member"}) {
    st = finance_->SetDebtorAccount(Ctx(Token({role})).get(), set_debtor, &set_resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
  }
  // Bad input names the field.
  for (const auto& [field, mutate] :
       std::vector<std::pair<std::string, std::function<void(fv1::DebtorAccount*)>>>{
           {"account.holder_name", [](fv1::DebtorAccount* d) { d->clear_holder_name(); }},
           {"account.iban",
            [](fv1::DebtorAccount* d) { d->set_iban("FR7610278000011234567890150"); }},
           {"account.bic", [](fv1::DebtorAccount* d) { d->set_bic("CMCI"); }}}) {
    fv1::SetDebtorAccountRequest bad = set_debtor;
    mutate(bad.mutable_account());
    st = finance_->SetDebtorAccount(Ctx(treasurer).get(), bad, &set_resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(st.error_message(), HasSubstr(field));
  }
  st = finance_->SetDebtorAccount(Ctx(treasurer).get(), set_debtor, &set_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(set_resp.account().updated_by(), "user-treasurer");
  st = finance_->GetDebtorAccount(Ctx(treasurer).get(), fv1::GetDebtorAccountRequest(), &debtor);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(debtor.account().iban(), Iban("10278000011234567890159"));
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &xml);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_THAT(xml.content(), HasSubstr(Iban("10278000011234567890159")));
  EXPECT_THAT(xml.content(), HasSubstr("<BIC>CMCIFR2A</BIC>"));
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

  // Indemnities of the same action, and a governance indemnity (functioning), paid.
  CreatePerMeetingPolicy(5000, 8000);
  const std::string member = LiberalMember();
  GiveMandate(member, membership::v1::MANDATE_BODY_BOARD);
  const auto e = Record(Event(member, ENTITLEMENT_ROLE_REFERENT, 60));
  fv1::RecordGovernanceIndemnityRequest governance;
  governance.set_member_id(member);
  *governance.mutable_work_date() = e.entitlement().meeting_date();
  governance.set_amount_cents(12'000);
  governance.set_governance_body(fv1::GOVERNANCE_BODY_BOARD);
  governance.set_reason("Conseil d'administration");
  governance.set_request_id("aci-governance");
  fv1::RecordGovernanceIndemnityResponse governance_resp;
  st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), governance, &governance_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  fv1::ApproveEntitlementsRequest approve;
  approve.add_entitlement_ids(e.entitlement().id());
  approve.add_entitlement_ids(governance_resp.entitlement().id());
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
  EXPECT_EQ(total.spent_cents(), 33'333 + 8000 + 12'000);
  EXPECT_EQ(total.remaining_cents(), total.received_cents() - total.spent_cents());
  // Governance work is the CPTS's functioning.
  EXPECT_EQ(report.report().functioning().spent_cents(), 12'000);
  // The bank: received minus expenses minus indemnities paid.
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""),
            advance.expected_cents() - 33'333 - 8000 - 12'000);

  fv1::ExportAciReportRequest export_req;
  export_req.set_year(year());
  export_req.set_format(fv1::EXPORT_FORMAT_CSV);
  fv1::ExportAciReportResponse exported;
  st = finance_->ExportAciReport(Ctx(coordinator).get(), export_req, &exported);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_THAT(exported.content(), HasSubstr("mission-1"));
}

TEST_F(FinanceE2eTest, GovernanceIndemnityIsCappedWithRemunerationsAndPaid) {
  CreatePerMeetingPolicy(5000, 8000);
  const std::string treasurer = Token({"treasurer"});
  const std::string member = LiberalMember();
  GiveMandate(member, membership::v1::MANDATE_BODY_BUREAU);
  const auto meeting = Record(Event(member, ENTITLEMENT_ROLE_MEMBER, 60));
  ASSERT_EQ(meeting.entitlement().amount_cents(), 5000);

  // A whole PASS claimed for bureau work: the 50 EUR of remuneration already count.
  fv1::RecordGovernanceIndemnityRequest req;
  req.set_member_id(member);
  *req.mutable_work_date() = meeting.entitlement().meeting_date();
  req.set_amount_cents(4'710'000);
  req.set_governance_body(fv1::GOVERNANCE_BODY_BUREAU);
  req.set_reason("Bureau : préparation de l'assemblée générale");
  req.set_request_id("gov-1");
  fv1::RecordGovernanceIndemnityResponse first;
  grpc::Status st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), req, &first);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const fv1::Entitlement& g = first.entitlement();
  EXPECT_FALSE(first.replayed());
  EXPECT_EQ(g.category(), fv1::ENTITLEMENT_CATEGORY_INDEMNITY);
  EXPECT_EQ(g.governance_body(), fv1::GOVERNANCE_BODY_BUREAU);
  EXPECT_EQ(g.action_id(), "governance");
  EXPECT_EQ(g.rated_cents(), 4'710'000);
  EXPECT_EQ(g.amount_cents(), 4'705'000);
  EXPECT_EQ(g.capped_cents(), 5000);
  EXPECT_FALSE(g.cap_reason().empty());
  EXPECT_EQ(g.status(), fv1::ENTITLEMENT_STATUS_PENDING);
  EXPECT_EQ(g.payee().member_id(), member);

  // A retry replays; the same request_id for another claim is refused.
  fv1::RecordGovernanceIndemnityResponse again;
  st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), req, &again);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.entitlement().id(), g.id());
  fv1::RecordGovernanceIndemnityRequest other = req;
  other.set_amount_cents(10'000);
  st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), other, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("request_id"));
  // The cap is reached: the next claim is recorded fully capped, with nothing due.
  other.set_request_id("gov-2");
  fv1::RecordGovernanceIndemnityResponse capped;
  st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), other, &capped);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(capped.entitlement().amount_cents(), 0);
  EXPECT_EQ(capped.entitlement().capped_cents(), 10'000);
  EXPECT_EQ(capped.entitlement().status(), fv1::ENTITLEMENT_STATUS_INELIGIBLE);
  EXPECT_EQ(capped.entitlement().ineligible_reason(), fv1::INELIGIBLE_REASON_ANNUAL_CAP_REACHED);

  // Bad input names the field and records nothing.
  for (const auto& [field, mutate] : std::vector<
           std::pair<std::string, std::function<void(fv1::RecordGovernanceIndemnityRequest*)>>>{
           {"member_id", [](auto* r) { r->clear_member_id(); }},
           {"work_date", [](auto* r) { r->clear_work_date(); }},
           {"work_date", [](auto* r) { r->mutable_work_date()->set_day(31 + 1); }},
           {"amount_cents", [](auto* r) { r->set_amount_cents(0); }},
           {"amount_cents", [](auto* r) { r->set_amount_cents(-100); }},
           {"governance_body", [](auto* r) { r->clear_governance_body(); }},
           {"reason", [](auto* r) { r->clear_reason(); }},
           {"request_id", [](auto* r) { r->clear_request_id(); }}}) {
    fv1::RecordGovernanceIndemnityRequest bad = req;
    bad.set_request_id("gov-bad");
    mutate(&bad);
    fv1::RecordGovernanceIndemnityResponse resp;
    st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), bad, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_THAT(st.error_message(), HasSubstr(field));
  }
  // Only the treasurer records them: not a member (even for themself), not the coordinator.
  for (const auto& token : {Token({"member"}, member), Token({"coordinator"})}) {
    fv1::RecordGovernanceIndemnityRequest mine = req;
    mine.set_request_id("gov-mine");
    fv1::RecordGovernanceIndemnityResponse resp;
    st = finance_->RecordGovernanceIndemnity(Ctx(token).get(), mine, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // A legal entity is not indemnified: refused, naming why.
  fv1::RecordGovernanceIndemnityRequest entity = req;
  entity.set_member_id(LegalEntityMember());
  entity.set_request_id("gov-entity");
  st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), entity, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("member_id"));
  // Only for work in a body the member sits in that day: a member with no mandate, or with a
  // board mandate claiming bureau work, is refused, naming the body and the date.
  const std::string work_date = absl::StrFormat("%04d-%02d-%02d", req.work_date().year(),
                                                req.work_date().month(), req.work_date().day());
  const std::string no_mandate = LiberalMember();
  const std::string on_board = LiberalMember();
  GiveMandate(on_board, membership::v1::MANDATE_BODY_BOARD);
  for (const std::string& outsider : {no_mandate, on_board}) {
    fv1::RecordGovernanceIndemnityRequest claim = req;
    claim.set_member_id(outsider);
    claim.set_amount_cents(10'000);
    claim.set_request_id(absl::StrCat("gov-outsider-", outsider));
    st = finance_->RecordGovernanceIndemnity(Ctx(treasurer).get(), claim, &again);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << outsider;
    EXPECT_THAT(st.error_message(), HasSubstr(absl::StrCat("no BUREAU mandate on ", work_date)));
  }

  fv1::ListEntitlementsRequest list;
  list.set_year(year());
  list.set_category(fv1::ENTITLEMENT_CATEGORY_INDEMNITY);
  fv1::ListEntitlementsResponse governance;
  st = finance_->ListEntitlements(Ctx(treasurer).get(), list, &governance);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(governance.entitlements_size(), 2);

  // Approved by the bureau and paid in the same batch as the remuneration.
  Approve({meeting.entitlement().id(), g.id()}, "gov-approve");
  SetPayeeAccount(member, "30006000011234567890189");
  SetDebtorAccount();
  fv1::CreatePaymentBatchRequest create;
  create.mutable_batch()->set_label("Indemnités de gouvernance");
  *create.mutable_batch()->mutable_execution_date() = meeting.entitlement().meeting_date();
  create.set_request_id("gov-batch");
  fv1::CreatePaymentBatchResponse batch;
  st = finance_->CreatePaymentBatch(Ctx(treasurer).get(), create, &batch);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(batch.batch().lines_size(), 1);
  EXPECT_EQ(batch.batch().total_cents(), 4'710'000);
  std::string xml;
  const fv1::PaymentBatch paid = PayBatch(batch.batch(), "gov-paid", &xml);
  EXPECT_EQ(paid.state(), fv1::BATCH_STATE_PAID);
  EXPECT_EQ(CtrlSumCents(xml), 4'710'000);

  const auto balances = Balances();
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_PAYABLE), 0);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""), -4'710'000);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE, "governance"), 4'705'000);
  fv1::GetMyStatementRequest mine;
  mine.set_year(year());
  fv1::GetMyStatementResponse statement;
  st = finance_->GetMyStatement(Ctx(Token({"member"}, member)).get(), mine, &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(statement.statement().total_due_cents(), 4'710'000);  // the PASS, not more
  EXPECT_EQ(statement.statement().total_paid_cents(), 4'710'000);
  EXPECT_EQ(statement.statement().total_capped_cents(), 15'000);
  int indemnity_lines = 0;
  for (const auto& line : statement.statement().lines()) {
    indemnity_lines += line.category() == fv1::ENTITLEMENT_CATEGORY_INDEMNITY ? 1 : 0;
  }
  EXPECT_EQ(indemnity_lines, 2);
}

TEST_F(FinanceE2eTest, APaidThenReversedEntitlementIsNettedInTheNextBatch) {
  CreatePerMeetingPolicy(5000, 8000);
  SetDebtorAccount();
  const std::string treasurer = Token({"treasurer"});
  const std::string a = LiberalMember();
  const std::string b = LiberalMember();
  SetPayeeAccount(a, "30006000011234567890189");
  SetPayeeAccount(b, "30004000031234567890143");
  // Builds a draft batch of everything approved.
  auto create = [&](const std::string& request_id) {
    fv1::CreatePaymentBatchRequest req;
    req.mutable_batch()->mutable_execution_date()->set_year(year());
    req.mutable_batch()->mutable_execution_date()->set_month(12);
    req.mutable_batch()->mutable_execution_date()->set_day(31);
    req.set_request_id(request_id);
    fv1::CreatePaymentBatchResponse resp;
    const grpc::Status st = finance_->CreatePaymentBatch(Ctx(treasurer).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.batch();
  };

  // 50 EUR paid to A.
  const auto event = Event(a, ENTITLEMENT_ROLE_MEMBER, 60);
  const auto e1 = Record(event);
  Approve({e1.entitlement().id()}, "n-approve-1");
  PayBatch(create("n-batch-1"), "n-paid-1", nullptr);

  // The sheet is amended: A's paid line is reversed, A owes 50 EUR back.
  auto reversal = event;
  reversal.mutable_event()->set_reversal(true);
  reversal.mutable_event()->set_correction(true);
  reversal.mutable_event()->set_idempotency_key(event.event().idempotency_key() + "/reversal");
  EXPECT_EQ(Record(reversal).entitlement().status(), fv1::ENTITLEMENT_STATUS_REVERSED);
  EXPECT_EQ(BalanceOf(Balances(), fv1::ACCOUNT_KIND_PAYABLE, a), 5000);  // A's debt
  fv1::ListEntitlementsRequest list;
  list.set_member_id(a);
  list.set_status(fv1::ENTITLEMENT_STATUS_APPROVED);
  fv1::ListEntitlementsResponse approved;
  grpc::Status st = finance_->ListEntitlements(Ctx(treasurer).get(), list, &approved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(approved.entitlements_size(), 1);
  const fv1::Entitlement recovery = approved.entitlements(0);
  EXPECT_TRUE(recovery.recovery());
  EXPECT_EQ(recovery.amount_cents(), -5000);
  EXPECT_EQ(recovery.supersedes_id(), e1.entitlement().id());
  fv1::GetMyStatementRequest mine;
  mine.set_year(year());
  fv1::GetMyStatementResponse statement;
  st = finance_->GetMyStatement(Ctx(Token({"member"}, a)).get(), mine, &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(statement.statement().total_to_recover_cents(), 5000);

  // 50 EUR due to A leaves nothing once the 50 owed are withheld: A's line is carried, with
  // the reason; B is paid.
  const auto e2 = Record(Event(a, ENTITLEMENT_ROLE_MEMBER, 60));
  const auto e3 = Record(Event(b, ENTITLEMENT_ROLE_MEMBER, 60));
  Approve({e2.entitlement().id(), e3.entitlement().id()}, "n-approve-2");
  const fv1::PaymentBatch second = create("n-batch-2");
  ASSERT_EQ(second.lines_size(), 2);
  for (const auto& line : second.lines()) {
    if (line.payee_member_id() == a) {
      EXPECT_TRUE(line.blocked());
      EXPECT_THAT(line.blocked_reason(), HasSubstr("carried to a later batch"));
      EXPECT_EQ(line.amount_cents(), 0);
      EXPECT_EQ(line.recovered_cents(), 5000);
    } else {
      EXPECT_FALSE(line.blocked());
      EXPECT_EQ(line.amount_cents(), 5000);
    }
  }
  std::string xml;
  PayBatch(second, "n-paid-2", &xml);
  EXPECT_EQ(CtrlSumCents(xml), 5000);
  EXPECT_THAT(xml, HasSubstr("<NbOfTxs>1</NbOfTxs>"));

  // A référent meeting: 50 + 80 - 50 = 80 EUR transferred, the recovery settled.
  const auto e4 = Record(Event(a, ENTITLEMENT_ROLE_REFERENT, 60));
  Approve({e4.entitlement().id()}, "n-approve-3");
  const fv1::PaymentBatch third = create("n-batch-3");
  ASSERT_EQ(third.lines_size(), 1);
  EXPECT_FALSE(third.lines(0).blocked());
  EXPECT_EQ(third.lines(0).amount_cents(), 8000);
  EXPECT_EQ(third.lines(0).recovered_cents(), 5000);
  EXPECT_EQ(third.lines(0).entitlement_ids_size(), 3);
  PayBatch(third, "n-paid-3", &xml);
  EXPECT_EQ(CtrlSumCents(xml), 8000);

  const auto balances = Balances();
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_PAYABLE), 0);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""), -(5000 + 5000 + 8000));
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE), 5000 + 5000 + 8000);
  int64_t sum = 0;
  for (const auto& balance : balances) sum += balance.balance_cents();
  EXPECT_EQ(sum, 0);
  for (const auto& t : Journal()) {
    int64_t entries = 0;
    for (const auto& e : t.entries()) entries += e.amount_cents();
    EXPECT_EQ(entries, 0) << t.id();
  }
  st = finance_->GetMyStatement(Ctx(Token({"member"}, a)).get(), mine, &statement);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(statement.statement().total_to_recover_cents(), 0);
  EXPECT_EQ(statement.statement().total_paid_cents(), 5000 + 8000 - 5000);
}

}  // namespace
}  // namespace cpts::e2e
