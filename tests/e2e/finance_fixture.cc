#include "tests/e2e/finance_fixture.h"

#include <array>
#include <atomic>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/finance/iban.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::e2e {
namespace {

namespace fv1 = ::cpts::finance::v1;
namespace mv1 = ::cpts::membership::v1;

struct Suite {
  std::unique_ptr<testing::TestTokens> tokens;
  std::unique_ptr<testing::ServiceProcess> membership;
  std::unique_ptr<testing::ServiceProcess> finance;
};
Suite* suite = nullptr;
std::atomic<int> seq{1};

constexpr std::array<const char*, 2> kCommunes = {"33529", "33051"};

std::vector<std::string> DbArgs(const platform::db::DbConfig& c) {
  return {"--db_host=" + c.host, absl::StrCat("--db_port=", c.port), "--db_user=" + c.user,
          "--db_schema=" + c.schema};
}

// The calendar membership dates adhesions and statuses in (Europe/Paris, as its
// FrenchTimeZone, with the same fallback): a meeting dated "today" in UTC would precede an
// adhesion approved after 23:00 UTC, and the member would not be active on it yet.
absl::TimeZone Paris() {
  absl::TimeZone tz;
  if (absl::LoadTimeZone("Europe/Paris", &tz)) return tz;
  return absl::FixedTimeZone(3600);
}

absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), Paris()); }

void SetDate(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

}  // namespace

std::unique_ptr<fv1::FinanceService::Stub> FinanceE2e::finance_;
std::unique_ptr<mv1::MembershipService::Stub> FinanceE2e::membership_;

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartFinance(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, testing::TestSchema* schema_out,
    const std::vector<std::string>& extra_args) {
  auto schema = testing::CreateTestSchema(db, "e2e_finance");
  if (!schema.ok()) return schema.status();
  if (schema_out != nullptr) *schema_out = *schema;
  std::vector<std::string> migrate = DbArgs(schema->migrator);
  migrate.push_back("--migrate_only");
  auto migrated = testing::RunCommand(FINANCE_SERVER, migrate,
                                      {{"CPTS_DB_PASSWORD", schema->migrator.password}});
  if (!migrated.ok()) return migrated.status();
  if (migrated->exit_code != 0) {
    return absl::InternalError(absl::StrCat("finance migrations failed:\n", migrated->output));
  }
  return StartFinanceOn(*schema, tokens, membership_target, extra_args);
}

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartFinanceOn(
    const testing::TestSchema& schema, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = DbArgs(schema.app);
  for (auto& a : tokens.ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=8");
  args.push_back("--membership_address=" + membership_target);
  args.push_back("--service_key_file=" + tokens.private_key_file());
  for (const auto& a : extra_args) args.push_back(a);
  return testing::ServiceProcess::Start(FINANCE_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", schema.app.password}});
}

int FinanceE2e::year() { return static_cast<int>(Today().year()); }

void FinanceE2e::SetUpTestSuite() {
  auto s = std::make_unique<Suite>();
  auto tokens = testing::TestTokens::Create();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  s->tokens = std::make_unique<testing::TestTokens>(*std::move(tokens));
  auto membership = StartMembership(testing::SharedMariaDb(), *s->tokens, "e2e_fin_members");
  ASSERT_TRUE(membership.ok()) << membership.status();
  s->membership = *std::move(membership);
  auto finance = StartFinance(testing::SharedMariaDb(), *s->tokens, s->membership->grpc_target());
  ASSERT_TRUE(finance.ok()) << finance.status();
  s->finance = *std::move(finance);
  finance_ = fv1::FinanceService::NewStub(
      grpc::CreateChannel(s->finance->grpc_target(), grpc::InsecureChannelCredentials()));
  membership_ = mv1::MembershipService::NewStub(
      grpc::CreateChannel(s->membership->grpc_target(), grpc::InsecureChannelCredentials()));
  // The PASS of the year (synthetic figure), set by a platform admin; the next year's too, for
  // a run that goes past midnight on 31 December.
  const std::string admin = s->tokens->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  for (const int y : {year(), year() + 1}) {
    fv1::SetAnnualCeilingRequest ceiling;
    ceiling.mutable_ceiling()->set_year(y);
    ceiling.mutable_ceiling()->set_ceiling_cents(4'710'000);
    fv1::SetAnnualCeilingResponse set;
    const grpc::Status st = finance_->SetAnnualCeiling(Ctx(admin).get(), ceiling, &set);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  suite = s.release();
}

void FinanceE2e::TearDownTestSuite() {
  finance_.reset();
  membership_.reset();
  delete suite;
  suite = nullptr;
}

void FinanceE2e::SetUp() {
  ASSERT_NE(suite, nullptr) << "the servers did not start";
  mv1::CreateTenantRequest req;
  req.mutable_tenant()->set_name(absl::StrCat("CPTS Fictive ", seq.fetch_add(1)));
  req.mutable_tenant()->set_size(2);
  for (const auto& c : kCommunes) req.mutable_tenant()->add_territory_communes(c);
  mv1::CreateTenantResponse resp;
  const std::string admin =
      suite->tokens->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  const grpc::Status st = membership_->CreateTenant(Ctx(admin).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  tenant_ = resp.tenant().id();
}

std::unique_ptr<grpc::ClientContext> FinanceE2e::Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string FinanceE2e::Token(std::vector<std::string> roles, const std::string& member_id) const {
  const std::string sub = "user-" + (member_id.empty() ? roles.front() : member_id);
  return suite->tokens->Mint(
      {.roles = std::move(roles), .tenant_id = tenant_, .subject = sub, .member_id = member_id});
}

std::string CreateApprovedMember(mv1::MembershipService::Stub& stub, const std::string& token,
                                 mv1::Member m, const std::string& request_id) {
  for (const auto& c : kCommunes) m.add_practice_places()->set_commune_insee(c);
  mv1::CreateMemberRequest create;
  *create.mutable_member() = std::move(m);
  create.set_request_id(request_id);
  mv1::CreateMemberResponse created;
  grpc::Status st = stub.CreateMember(FinanceE2e::Ctx(token).get(), create, &created);
  EXPECT_TRUE(st.ok()) << st.error_message();
  mv1::ApproveAdhesionRequest approve;
  approve.set_member_id(created.member().id());
  mv1::ApproveAdhesionResponse approved;
  st = stub.ApproveAdhesion(FinanceE2e::Ctx(token).get(), approve, &approved);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return approved.member().id();
}

mv1::Member SyntheticPerson(int n, mv1::ExerciseMode mode) {
  mv1::Member m;
  m.set_kind(mv1::MEMBER_KIND_PERSON);
  m.set_given_name(absl::StrCat("Prénom", n));
  m.set_family_name(absl::StrCat("Soignant-", 2000 + n));
  m.set_profession_code("MEDECIN_GENERALISTE");
  m.set_rpps(ValidRpps(700000 + n));
  m.set_exercise_mode(mode);
  m.mutable_contact()->set_email(absl::StrCat("soignant", n, "@example.org"));
  return m;
}

std::string SyntheticIban(const std::string& bban) {
  return absl::StrCat("FR", cpts::finance::IbanCheckDigits("FR", bban), bban);
}

int64_t SumOf(const std::vector<fv1::AccountBalance>& balances, fv1::AccountKind kind) {
  int64_t sum = 0;
  for (const auto& b : balances) {
    if (b.account().kind() == kind) sum += b.balance_cents();
  }
  return sum;
}

int64_t BalanceOf(const std::vector<fv1::AccountBalance>& balances, fv1::AccountKind kind,
                  const std::string& key) {
  for (const auto& b : balances) {
    if (b.account().kind() == kind && b.account().key() == key) return b.balance_cents();
  }
  return 0;
}

int64_t CtrlSumCents(const std::string& xml) {
  const size_t begin = xml.find("<CtrlSum>");
  const size_t end = xml.find("</CtrlSum>");
  if (begin == std::string::npos || end == std::string::npos) return -1;
  std::string text = xml.substr(begin + 9, end - begin - 9);
  const size_t dot = text.find('.');
  if (dot == std::string::npos || text.size() != dot + 3) return -1;
  text.erase(dot, 1);
  int64_t cents = 0;
  return absl::SimpleAtoi(text, &cents) ? cents : -1;
}

std::string FinanceE2e::LiberalMember() {
  const int n = seq.fetch_add(1);
  return CreateApprovedMember(*membership_, Token({"coordinator"}),
                              SyntheticPerson(n, mv1::EXERCISE_MODE_LIBERAL),
                              absl::StrCat("fin-", n));
}

std::string FinanceE2e::LegalEntityMember() {
  const int n = seq.fetch_add(1);
  mv1::Member m;
  m.set_kind(mv1::MEMBER_KIND_LEGAL_ENTITY);
  m.set_organization_name(absl::StrCat("Centre de Santé Fictif ", n));
  m.mutable_contact()->set_email(absl::StrCat("centre", n, "@example.org"));
  return CreateApprovedMember(*membership_, Token({"coordinator"}), m, absl::StrCat("fin-", n));
}

std::string FinanceE2e::SalariedMember(const std::string& employer) {
  const int n = seq.fetch_add(1);
  const std::string coordinator = Token({"coordinator"});
  std::string id = CreateApprovedMember(*membership_, coordinator,
                                        SyntheticPerson(n, mv1::EXERCISE_MODE_SALARIED),
                                        absl::StrCat("fin-", n));
  if (employer.empty()) return id;
  mv1::CreateEmployerConventionRequest req;
  req.mutable_convention()->set_member_id(id);
  req.mutable_convention()->set_employer_member_id(employer);
  SetDate(absl::CivilDay(year(), 1, 1), req.mutable_convention()->mutable_valid_from());
  req.mutable_convention()->set_reference(absl::StrCat("CONV-", n));
  req.set_request_id(absl::StrCat("fin-conv-", n));
  mv1::CreateEmployerConventionResponse resp;
  const grpc::Status st = membership_->CreateEmployerConvention(Ctx(coordinator).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return id;
}

void FinanceE2e::GiveMandate(const std::string& member_id, mv1::MandateBody body) {
  const int n = seq.fetch_add(1);
  mv1::CreateMandateRequest req;
  req.mutable_mandate()->set_member_id(member_id);
  req.mutable_mandate()->set_body(body);
  req.mutable_mandate()->set_role(body == mv1::MANDATE_BODY_BUREAU
                                      ? mv1::MANDATE_ROLE_VICE_PRESIDENT
                                      : mv1::MANDATE_ROLE_BOARD_MEMBER);
  SetDate(absl::CivilDay(year(), 1, 1), req.mutable_mandate()->mutable_start_date());
  req.set_request_id(absl::StrCat("fin-mandate-", n));
  mv1::CreateMandateResponse resp;
  const grpc::Status st =
      membership_->CreateMandate(Ctx(Token({"bureau_member"})).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

fv1::RecordAttendanceRequest FinanceE2e::Event(const std::string& member_id,
                                               projects::v1::EntitlementRole role, int minutes,
                                               const std::string& meeting_id) {
  const int n = seq.fetch_add(1);
  fv1::RecordAttendanceRequest req;
  auto* e = req.mutable_event();
  e->set_tenant_id(tenant_);
  e->set_meeting_id(meeting_id.empty() ? absl::StrCat("meeting-", n) : meeting_id);
  e->set_group_id("group-1");
  e->set_action_id("action-1");
  e->set_participant_id(absl::StrCat("participant-", n));
  e->set_member_id(member_id);
  e->set_role(role);
  e->set_present(true);
  e->set_minutes_worked(minutes);
  SetDate(Today(), e->mutable_meeting_date());
  e->set_sheet_version(1);
  e->set_indemnifiable(true);
  e->set_idempotency_key(absl::StrCat(e->meeting_id(), "/", e->participant_id(), "/v1"));
  return req;
}

void FinanceE2e::CreatePerMeetingPolicy(int64_t member_cents, int64_t referent_cents) {
  fv1::CreateIndemnityPolicyRequest req;
  req.mutable_policy()->set_year(year());
  req.mutable_policy()->set_kind(fv1::POLICY_KIND_PER_MEETING);
  req.mutable_policy()->set_member_amount_cents(member_cents);
  req.mutable_policy()->set_referent_amount_cents(referent_cents);
  req.mutable_policy()->set_decision_reference("Délibération du bureau n°1");
  fv1::CreateIndemnityPolicyResponse resp;
  const grpc::Status st =
      finance_->CreateIndemnityPolicy(Ctx(Token({"treasurer"})).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

void FinanceE2e::CreatePerHourPolicy(int64_t member_millipoints, int64_t referent_millipoints,
                                     int64_t point_value_cents) {
  fv1::CreateIndemnityPolicyRequest req;
  req.mutable_policy()->set_year(year());
  req.mutable_policy()->set_kind(fv1::POLICY_KIND_PER_HOUR_POINTS);
  req.mutable_policy()->set_member_millipoints_per_hour(member_millipoints);
  req.mutable_policy()->set_referent_millipoints_per_hour(referent_millipoints);
  req.mutable_policy()->set_point_value_cents(point_value_cents);
  fv1::CreateIndemnityPolicyResponse resp;
  const grpc::Status st =
      finance_->CreateIndemnityPolicy(Ctx(Token({"coordinator"})).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

fv1::RecordAttendanceResponse FinanceE2e::Record(const fv1::RecordAttendanceRequest& req) {
  fv1::RecordAttendanceResponse resp;
  const grpc::Status st = finance_->RecordAttendance(
      Ctx(suite->tokens->Mint(
              {.roles = {"service"}, .tenant_id = tenant_, .subject = "service:projects"}))
          .get(),
      req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp;
}

std::vector<fv1::LedgerTransaction> FinanceE2e::Journal() {
  fv1::ListLedgerTransactionsRequest req;
  req.set_page_size(1000);
  fv1::ListLedgerTransactionsResponse resp;
  const grpc::Status st =
      finance_->ListLedgerTransactions(Ctx(Token({"treasurer"})).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return {resp.transactions().begin(), resp.transactions().end()};
}

std::vector<fv1::AccountBalance> FinanceE2e::Balances() {
  fv1::GetLedgerBalancesResponse resp;
  const grpc::Status st = finance_->GetLedgerBalances(Ctx(Token({"treasurer"})).get(),
                                                      fv1::GetLedgerBalancesRequest(), &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return {resp.balances().begin(), resp.balances().end()};
}

std::string FinanceE2e::Iban(const std::string& bban) { return SyntheticIban(bban); }

void FinanceE2e::SetDebtorAccount() {
  fv1::SetDebtorAccountRequest req;
  req.mutable_account()->set_holder_name("CPTS Fictive");
  req.mutable_account()->set_iban(Iban("10278000011234567890159"));
  fv1::SetDebtorAccountResponse resp;
  const grpc::Status st = finance_->SetDebtorAccount(Ctx(Token({"treasurer"})).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

void FinanceE2e::SetPayeeAccount(const std::string& member_id, const std::string& bban) {
  fv1::SetPayeeBankAccountRequest req;
  req.mutable_account()->set_member_id(member_id);
  req.mutable_account()->set_holder_name(absl::StrCat("Titulaire ", member_id));
  req.mutable_account()->set_iban(Iban(bban));
  fv1::SetPayeeBankAccountResponse resp;
  const grpc::Status st =
      finance_->SetPayeeBankAccount(Ctx(Token({"treasurer"})).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
}

std::vector<fv1::Entitlement> FinanceE2e::Approve(const std::vector<std::string>& ids,
                                                  const std::string& request_id) {
  fv1::ApproveEntitlementsRequest req;
  for (const auto& id : ids) req.add_entitlement_ids(id);
  req.set_request_id(request_id);
  fv1::ApproveEntitlementsResponse resp;
  const grpc::Status st =
      finance_->ApproveEntitlements(Ctx(Token({"bureau_member"})).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return {resp.entitlements().begin(), resp.entitlements().end()};
}

fv1::PaymentBatch FinanceE2e::PayBatch(const fv1::PaymentBatch& draft,
                                       const std::string& request_id, std::string* pain001) {
  const std::string treasurer = Token({"treasurer"});
  fv1::ApprovePaymentBatchRequest approve;
  approve.set_id(draft.id());
  approve.set_etag(draft.etag());
  fv1::ApprovePaymentBatchResponse approved;
  grpc::Status st = finance_->ApprovePaymentBatch(Ctx(treasurer).get(), approve, &approved);
  EXPECT_TRUE(st.ok()) << st.error_message();
  fv1::ExportPaymentBatchRequest xreq;
  xreq.set_id(draft.id());
  xreq.set_format(fv1::EXPORT_FORMAT_SEPA_PAIN_001_001_03);
  fv1::ExportPaymentBatchResponse xml;
  st = finance_->ExportPaymentBatch(Ctx(treasurer).get(), xreq, &xml);
  EXPECT_TRUE(st.ok()) << st.error_message();
  if (pain001 != nullptr) *pain001 = xml.content();
  fv1::MarkPaymentBatchPaidRequest paid;
  paid.set_id(draft.id());
  *paid.mutable_paid_date() = draft.execution_date();
  paid.set_request_id(request_id);
  fv1::MarkPaymentBatchPaidResponse resp;
  st = finance_->MarkPaymentBatchPaid(Ctx(treasurer).get(), paid, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.batch();
}

}  // namespace cpts::e2e
