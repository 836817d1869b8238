// Attendance to finance, across services: the real membership, projects and finance servers on
// one MariaDB, with real tokens. Projects closes attendance sheets and appends one outbox event
// per (meeting, participant, sheet version); its relay (--finance_address) delivers them to
// finance's idempotent RecordAttendance. Proves: each closed sheet's entitlements arrive
// exactly once, a treasurer goes from them to a paid pain.001 batch, an amendment is reversal
// + new entry, and a crash of projects or an outage of finance loses and duplicates nothing.
#include <gmock/gmock.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "tests/e2e/finance_fixture.h"
#include "tests/e2e/membership_fixture.h"
#include "tests/e2e/projects_fixture.h"

namespace cpts::e2e {
namespace {

namespace fv1 = ::cpts::finance::v1;
namespace mv1 = ::cpts::membership::v1;
namespace pv1 = ::cpts::projects::v1;
using ::testing::HasSubstr;

constexpr absl::Duration kDeliveryDeadline = absl::Seconds(30);

// The three servers, started once for the suite. Projects and finance can be killed or
// stopped and started again on the same schema (finance on the same port, which projects'
// relay dials).
struct Servers {
  std::unique_ptr<testing::TestTokens> tokens;
  std::unique_ptr<testing::ServiceProcess> membership;
  testing::TestSchema finance_schema;
  std::unique_ptr<testing::ServiceProcess> finance;
  int finance_port = 0;
  testing::TestSchema projects_schema;
  std::unique_ptr<testing::ServiceProcess> projects;
  std::unique_ptr<platform::db::ConnectionPool> projects_admin;  // reads/requeues the outbox
};
Servers* servers = nullptr;
int seq = 1;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  return FinanceE2e::Ctx(token);
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

void SetDate(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

absl::CivilDay Today() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }
int Year() { return static_cast<int>(Today().year()); }

// Polls `done` until it holds or `deadline` passes; returns whether it held.
bool PollUntil(const std::function<bool()>& done, absl::Duration deadline = kDeliveryDeadline) {
  const absl::Time give_up = absl::Now() + deadline;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return done();
}

class AttendanceToFinanceE2e : public ::testing::Test {
 protected:
  static std::vector<std::string> ProjectsArgs() {
    return {"--finance_address=127.0.0.1:" + std::to_string(servers->finance_port)};
  }

  static void SetUpTestSuite() {
    auto s = std::make_unique<Servers>();
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    s->tokens = std::make_unique<testing::TestTokens>(*std::move(tokens));
    auto membership = StartMembership(testing::SharedMariaDb(), *s->tokens, "e2e_x_members");
    ASSERT_TRUE(membership.ok()) << membership.status();
    s->membership = *std::move(membership);
    auto finance = StartFinance(testing::SharedMariaDb(), *s->tokens, s->membership->grpc_target(),
                                &s->finance_schema);
    ASSERT_TRUE(finance.ok()) << finance.status();
    s->finance = *std::move(finance);
    s->finance_port = s->finance->grpc_port();
    servers = s.release();
    auto projects = StartProjects(testing::SharedMariaDb(), *servers->tokens,
                                  servers->membership->grpc_target(), &servers->projects_schema,
                                  ProjectsArgs());
    ASSERT_TRUE(projects.ok()) << projects.status();
    servers->projects = *std::move(projects);
    platform::db::DbConfig admin = servers->projects_schema.migrator;
    admin.pool_size = 2;
    servers->projects_admin = platform::db::ConnectionPool::Create(admin);
    Connect();
    // The PASS of the year (synthetic figure), set by a platform admin.
    fv1::SetAnnualCeilingRequest ceiling;
    ceiling.mutable_ceiling()->set_year(Year());
    ceiling.mutable_ceiling()->set_ceiling_cents(4'710'000);
    fv1::SetAnnualCeilingResponse set;
    const grpc::Status st = finance_->SetAnnualCeiling(Ctx(AdminToken()).get(), ceiling, &set);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  static void TearDownTestSuite() {
    projects_.reset();
    finance_.reset();
    membership_.reset();
    delete servers;
    servers = nullptr;
  }

  static void Connect() {
    projects_ = pv1::ProjectsService::NewStub(
        grpc::CreateChannel(servers->projects->grpc_target(), grpc::InsecureChannelCredentials()));
    finance_ = fv1::FinanceService::NewStub(
        grpc::CreateChannel(servers->finance->grpc_target(), grpc::InsecureChannelCredentials()));
    membership_ = mv1::MembershipService::NewStub(grpc::CreateChannel(
        servers->membership->grpc_target(), grpc::InsecureChannelCredentials()));
  }

  static std::string AdminToken() {
    return servers->tokens->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  }

  void SetUp() override {
    ASSERT_NE(servers, nullptr) << "the servers did not start";
    ASSERT_NE(servers->projects, nullptr);
    ASSERT_NE(servers->finance, nullptr);
    mv1::CreateTenantRequest req;
    req.mutable_tenant()->set_name(absl::StrCat("CPTS Croisée Fictive ", seq++));
    req.mutable_tenant()->set_size(2);
    req.mutable_tenant()->add_territory_communes("33529");
    req.mutable_tenant()->add_territory_communes("33051");
    mv1::CreateTenantResponse resp;
    const grpc::Status st = membership_->CreateTenant(Ctx(AdminToken()).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    tenant_ = resp.tenant().id();
    coordinator_ = Token({"coordinator"});
    treasurer_ = Token({"treasurer"});
    // Every CPTS of this suite pays attendance by the hour: its sheets carry minutes.
    pv1::UpdateProjectSettingsRequest settings;
    settings.mutable_settings()->set_attendance_payment(pv1::ATTENDANCE_PAYMENT_PER_HOUR);
    settings.mutable_update_mask()->add_paths("attendance_payment");
    pv1::UpdateProjectSettingsResponse updated;
    const grpc::Status set =
        projects_->UpdateProjectSettings(Ctx(coordinator_).get(), settings, &updated);
    ASSERT_TRUE(set.ok()) << set.error_message();
  }

  std::string Token(std::vector<std::string> roles, const std::string& member_id = "") const {
    const std::string sub = "user-" + (member_id.empty() ? roles.front() : member_id);
    return servers->tokens->Mint(
        {.roles = std::move(roles), .tenant_id = tenant_, .subject = sub, .member_id = member_id});
  }

  std::string LiberalMember() {
    const int n = 500 + seq++;
    return CreateApprovedMember(*membership_, coordinator_,
                                SyntheticPerson(n, mv1::EXERCISE_MODE_LIBERAL),
                                absl::StrCat("x-", tenant_, "-", n));
  }

  // ---- Finance set-up and reads ----

  void PerMeetingPolicy(int64_t member_cents, int64_t referent_cents) {
    fv1::CreateIndemnityPolicyRequest req;
    req.mutable_policy()->set_year(Year());
    req.mutable_policy()->set_kind(fv1::POLICY_KIND_PER_MEETING);
    req.mutable_policy()->set_member_amount_cents(member_cents);
    req.mutable_policy()->set_referent_amount_cents(referent_cents);
    req.mutable_policy()->set_decision_reference("Délibération fictive n°1");
    fv1::CreateIndemnityPolicyResponse resp;
    const grpc::Status st = finance_->CreateIndemnityPolicy(Ctx(treasurer_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  void PerHourPolicy(int64_t member_millipoints, int64_t referent_millipoints,
                     int64_t point_value_cents) {
    fv1::CreateIndemnityPolicyRequest req;
    req.mutable_policy()->set_year(Year());
    req.mutable_policy()->set_kind(fv1::POLICY_KIND_PER_HOUR_POINTS);
    req.mutable_policy()->set_member_millipoints_per_hour(member_millipoints);
    req.mutable_policy()->set_referent_millipoints_per_hour(referent_millipoints);
    req.mutable_policy()->set_point_value_cents(point_value_cents);
    fv1::CreateIndemnityPolicyResponse resp;
    const grpc::Status st = finance_->CreateIndemnityPolicy(Ctx(treasurer_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  // The entitlements of the test's tenant (of one meeting unless `meeting_id` is empty).
  std::vector<fv1::Entitlement> Entitlements(const std::string& meeting_id = "") {
    fv1::ListEntitlementsRequest req;
    req.set_page_size(1000);
    fv1::ListEntitlementsResponse resp;
    const grpc::Status st = finance_->ListEntitlements(Ctx(treasurer_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::vector<fv1::Entitlement> out;
    for (const auto& e : resp.entitlements()) {
      if (meeting_id.empty() || e.meeting_id() == meeting_id) out.push_back(e);
    }
    return out;
  }

  std::vector<fv1::LedgerTransaction> Journal() {
    fv1::ListLedgerTransactionsRequest req;
    req.set_page_size(1000);
    fv1::ListLedgerTransactionsResponse resp;
    const grpc::Status st = finance_->ListLedgerTransactions(Ctx(treasurer_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.transactions().begin(), resp.transactions().end()};
  }

  std::vector<fv1::AccountBalance> Balances() {
    fv1::GetLedgerBalancesResponse resp;
    const grpc::Status st =
        finance_->GetLedgerBalances(Ctx(treasurer_).get(), fv1::GetLedgerBalancesRequest(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.balances().begin(), resp.balances().end()};
  }

  // ---- The outbox of the test's tenant, in the projects schema ----

  // Events of the tenant in `state` ('pending', 'delivered', 'dead'), or all with "".
  int64_t OutboxCount(const std::string& state, const std::string& extra = "") const {
    return platform::db::test_util::QueryInt(
        *servers->projects_admin,
        absl::StrCat("SELECT COUNT(*) FROM outbox_event WHERE tenant_id = '", tenant_, "'",
                     state.empty() ? "" : absl::StrCat(" AND state = '", state, "'"), extra));
  }

  // Waits until every outbox event of the tenant is delivered and finance lists `count`
  // entitlements for `meeting_id`; fails the test otherwise.
  void AwaitDelivery(const std::string& meeting_id, size_t count) {
    const bool done = PollUntil(
        [&] { return OutboxCount("pending") == 0 && Entitlements(meeting_id).size() >= count; });
    EXPECT_TRUE(done) << "pending: " << OutboxCount("pending") << ", dead: " << OutboxCount("dead")
                      << ", entitlements: " << Entitlements(meeting_id).size() << " of " << count
                      << "\nprojects log:\n"
                      << servers->projects->ReadLog();
    EXPECT_EQ(OutboxCount("dead"), 0);
  }

  // ---- Projects: a working group and its meetings ----

  std::string CreateAction() {
    pv1::ListMissionsResponse missions;
    grpc::Status st = projects_->ListMissions(Ctx(coordinator_).get(), {}, &missions);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (missions.missions().empty()) return "";
    pv1::CreateActionRequest req;
    req.mutable_action()->set_mission_id(missions.missions(0).id());
    req.mutable_action()->set_title("Parcours fictif de soins");
    req.set_request_id(absl::StrCat("x-action-", seq++));
    pv1::CreateActionResponse resp;
    st = projects_->CreateAction(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.action().id();
  }

  std::string CreateGroup(const std::string& action_id) {
    pv1::CreateWorkingGroupRequest req;
    req.mutable_working_group()->set_name("Groupe fictif");
    req.mutable_working_group()->add_action_ids(action_id);
    pv1::CreateWorkingGroupResponse resp;
    const grpc::Status st = projects_->CreateWorkingGroup(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.working_group().id();
  }

  // The member asks to join and `decider` accepts; returns the participant id.
  std::string Join(const std::string& group_id, const std::string& member,
                   const std::string& decider) {
    pv1::RequestToJoinRequest req;
    req.set_group_id(group_id);
    pv1::RequestToJoinResponse resp;
    grpc::Status st = projects_->RequestToJoin(Ctx(Token({"member"}, member)).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    pv1::AcceptJoinRequest accept;
    accept.set_join_request_id(resp.join_request().id());
    pv1::AcceptJoinResponse accepted;
    st = projects_->AcceptJoin(Ctx(decider).get(), accept, &accepted);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return accepted.participant().id();
  }

  std::string Appoint(const std::string& group_id, const std::string& participant_id) {
    pv1::AppointReferentRequest req;
    req.set_group_id(group_id);
    req.set_participant_id(participant_id);
    pv1::AppointReferentResponse resp;
    const grpc::Status st = projects_->AppointReferent(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.participant().role(), pv1::GROUP_ROLE_REFERENT);
    return resp.participant().id();
  }

  // Adds a guest who is not a member (empty `member_id`) or the coordinator (staff).
  std::string Add(const std::string& group_id, pv1::GroupRole role, const std::string& member_id) {
    pv1::AddGroupParticipantRequest req;
    req.set_group_id(group_id);
    req.set_role(role);
    if (member_id.empty()) {
      req.mutable_participant()->set_guest_name("Invitée Fictive");
      req.mutable_participant()->set_guest_organization("Hôpital Fictif");
    } else {
      req.mutable_participant()->set_member_id(member_id);
    }
    pv1::AddGroupParticipantResponse resp;
    const grpc::Status st = projects_->AddGroupParticipant(Ctx(coordinator_).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.participant().id();
  }

  std::string Schedule(const std::string& group_id, absl::Time start, const std::string& by) {
    pv1::ScheduleMeetingRequest req;
    req.mutable_meeting()->set_group_id(group_id);
    SetTime(start, req.mutable_meeting()->mutable_start_time());
    SetTime(start + absl::Hours(2), req.mutable_meeting()->mutable_end_time());
    req.mutable_meeting()->set_place("Salle fictive de la maison de santé");
    pv1::ScheduleMeetingResponse resp;
    const grpc::Status st = projects_->ScheduleMeeting(Ctx(by).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.meeting().id();
  }

  // A meeting can only be recorded once it has started: waits for its start time.
  static void WaitForStart(absl::Time start) {
    PollUntil([&] { return absl::Now() > start + absl::Milliseconds(100); }, absl::Seconds(30));
  }

  struct Line {
    std::string participant;
    pv1::AttendanceStatus status;
    int minutes;
  };

  grpc::Status Record(const std::string& meeting_id, const std::string& token,
                      const std::vector<Line>& lines) {
    pv1::RecordAttendanceRequest req;
    req.set_meeting_id(meeting_id);
    for (const Line& line : lines) {
      auto* l = req.add_lines();
      l->set_participant_id(line.participant);
      l->set_status(line.status);
      l->set_minutes_worked(line.minutes);
    }
    pv1::RecordAttendanceResponse resp;
    return projects_->RecordAttendance(Ctx(token).get(), req, &resp);
  }

  pv1::AttendanceSheet Close(const std::string& meeting_id, const std::string& token) {
    pv1::CloseAttendanceRequest req;
    req.set_meeting_id(meeting_id);
    pv1::CloseAttendanceResponse resp;
    const grpc::Status st = projects_->CloseAttendance(Ctx(token).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.sheet().state(), pv1::ATTENDANCE_SHEET_STATE_CLOSED);
    return resp.sheet();
  }

  // A group of one référent and two active members (members of the CPTS, liberal).
  struct Group {
    std::string referent_member, member_a, member_b;
    std::string group;
    std::string referent, a, b;  // participant ids
    std::string referent_token;
  };
  Group MakeGroup() {
    Group g;
    g.referent_member = LiberalMember();
    g.member_a = LiberalMember();
    g.member_b = LiberalMember();
    g.group = CreateGroup(CreateAction());
    g.referent = Appoint(g.group, Join(g.group, g.referent_member, coordinator_));
    g.referent_token = Token({"member"}, g.referent_member);
    g.a = Join(g.group, g.member_a, g.referent_token);
    g.b = Join(g.group, g.member_b, g.referent_token);
    return g;
  }

  // Each member is listed once for the meeting (a guest, who has none, is not counted).
  static std::map<std::string, int> PerMember(const std::vector<fv1::Entitlement>& es) {
    std::map<std::string, int> out;
    for (const auto& e : es) ++out[e.member_id()];
    return out;
  }

  static std::unique_ptr<pv1::ProjectsService::Stub> projects_;
  static std::unique_ptr<fv1::FinanceService::Stub> finance_;
  static std::unique_ptr<mv1::MembershipService::Stub> membership_;
  std::string tenant_;
  std::string coordinator_;
  std::string treasurer_;
};

std::unique_ptr<pv1::ProjectsService::Stub> AttendanceToFinanceE2e::projects_;
std::unique_ptr<fv1::FinanceService::Stub> AttendanceToFinanceE2e::finance_;
std::unique_ptr<mv1::MembershipService::Stub> AttendanceToFinanceE2e::membership_;

TEST_F(AttendanceToFinanceE2e, ClosedSheetIsDeliveredOnceAndPaidThroughAPain001) {
  PerMeetingPolicy(5000, 8000);
  const Group g = MakeGroup();
  const std::string late_member = LiberalMember();
  const std::string staff_member = LiberalMember();
  const std::string late = Join(g.group, late_member, g.referent_token);
  const std::string guest = Add(g.group, pv1::GROUP_ROLE_GUEST, "");
  const std::string staff = Add(g.group, pv1::GROUP_ROLE_COORDINATOR, staff_member);

  const absl::Time start = absl::Now() + absl::Seconds(3);
  const std::string meeting = Schedule(g.group, start, g.referent_token);
  pv1::ReplyToMeetingRequest reply;
  reply.set_meeting_id(meeting);
  reply.set_kind(pv1::REPLY_KIND_EXCUSED);
  reply.set_reason("Garde fictive");
  pv1::ReplyToMeetingResponse replied;
  grpc::Status st =
      projects_->ReplyToMeeting(Ctx(Token({"member"}, late_member)).get(), reply, &replied);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(replied.reply().late());
  WaitForStart(start);

  st = Record(meeting, g.referent_token,
              {{g.referent, pv1::ATTENDANCE_STATUS_PRESENT, 120},
               {g.a, pv1::ATTENDANCE_STATUS_PRESENT, 120},
               {g.b, pv1::ATTENDANCE_STATUS_ABSENT, 0},
               {late, pv1::ATTENDANCE_STATUS_EXCUSED_LATE, 0},
               {guest, pv1::ATTENDANCE_STATUS_PRESENT, 120},
               {staff, pv1::ATTENDANCE_STATUS_PRESENT, 120}});
  ASSERT_TRUE(st.ok()) << st.error_message();
  Close(meeting, g.referent_token);
  // Present: référent, member, guest, staff. Absent and late-excused lines send nothing.
  EXPECT_EQ(OutboxCount(""), 4);
  AwaitDelivery(meeting, 4);

  const std::vector<fv1::Entitlement> got = Entitlements();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(PerMember(got),
            (std::map<std::string, int>{
                {"", 1}, {g.referent_member, 1}, {g.member_a, 1}, {staff_member, 1}}));
  std::vector<std::string> payable;
  int64_t expected_total = 0;
  for (const auto& e : got) {
    EXPECT_EQ(e.meeting_id(), meeting);
    EXPECT_EQ(e.group_id(), g.group);
    EXPECT_EQ(e.sheet_version(), 1);
    EXPECT_EQ(e.minutes_worked(), 120);
    if (e.member_id() == g.referent_member) {
      EXPECT_EQ(e.role(), fv1::ATTENDANCE_ROLE_REFERENT);
      EXPECT_EQ(e.amount_cents(), 8000);
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_PENDING);
      EXPECT_EQ(e.payee().member_id(), g.referent_member);
    } else if (e.member_id() == g.member_a) {
      EXPECT_EQ(e.role(), fv1::ATTENDANCE_ROLE_MEMBER);
      EXPECT_EQ(e.amount_cents(), 5000);
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_PENDING);
    } else if (e.member_id() == staff_member) {
      EXPECT_EQ(e.role(), fv1::ATTENDANCE_ROLE_STAFF);
      EXPECT_EQ(e.amount_cents(), 0);
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_INELIGIBLE);
      EXPECT_EQ(e.ineligible_reason(), fv1::INELIGIBLE_REASON_STAFF);
    } else {
      EXPECT_EQ(e.role(), fv1::ATTENDANCE_ROLE_GUEST);
      EXPECT_EQ(e.amount_cents(), 0);
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_INELIGIBLE);
      EXPECT_EQ(e.ineligible_reason(), fv1::INELIGIBLE_REASON_GUEST);
    }
    if (e.status() == fv1::ENTITLEMENT_STATUS_PENDING) {
      payable.push_back(e.id());
      expected_total += e.amount_cents();
    }
  }
  ASSERT_EQ(expected_total, 13000);
  EXPECT_EQ(SumOf(Balances(), fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE), 13000);

  // The treasurer's side: bank accounts, the bureau's approval, a batch, pain.001, payment.
  for (const auto& [member, bban, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {g.referent_member, "30006000011234567890189", "Dr Référente Fictive"},
           {g.member_a, "30004000031234567890143", "Dr Membre Fictif"}}) {
    fv1::SetPayeeBankAccountRequest req;
    req.mutable_account()->set_member_id(member);
    req.mutable_account()->set_holder_name(name);
    req.mutable_account()->set_iban(SyntheticIban(bban));
    fv1::SetPayeeBankAccountResponse resp;
    st = finance_->SetPayeeBankAccount(Ctx(treasurer_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  {
    fv1::SetDebtorAccountRequest req;  // the CPTS's own account, debtor of the pain.001
    req.mutable_account()->set_holder_name("CPTS Croisée Fictive");
    req.mutable_account()->set_iban(SyntheticIban("10278000011234567890159"));
    fv1::SetDebtorAccountResponse resp;
    st = finance_->SetDebtorAccount(Ctx(treasurer_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  fv1::ApproveEntitlementsRequest approve;
  for (const auto& id : payable) approve.add_entitlement_ids(id);
  approve.set_request_id("x-approve-1");
  fv1::ApproveEntitlementsResponse approved;
  st = finance_->ApproveEntitlements(Ctx(Token({"bureau_member"})).get(), approve, &approved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(approved.entitlements_size(), 2);

  fv1::CreatePaymentBatchRequest create;
  create.mutable_batch()->set_label("Indemnités fictives");
  SetDate(absl::CivilDay(Year(), 12, 31), create.mutable_batch()->mutable_execution_date());
  create.set_request_id("x-batch-1");
  fv1::CreatePaymentBatchResponse batch;
  st = finance_->CreatePaymentBatch(Ctx(treasurer_).get(), create, &batch);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(batch.batch().total_cents(), expected_total);
  EXPECT_EQ(batch.batch().payable_line_count(), 2);
  fv1::ApprovePaymentBatchRequest ok;
  ok.set_id(batch.batch().id());
  ok.set_etag(batch.batch().etag());
  fv1::ApprovePaymentBatchResponse ok_resp;
  st = finance_->ApprovePaymentBatch(Ctx(treasurer_).get(), ok, &ok_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ok_resp.batch().state(), fv1::BATCH_STATE_APPROVED);

  fv1::ExportPaymentBatchRequest xreq;
  xreq.set_id(batch.batch().id());
  xreq.set_format(fv1::EXPORT_FORMAT_SEPA_PAIN_001_001_03);
  fv1::ExportPaymentBatchResponse xml;
  st = finance_->ExportPaymentBatch(Ctx(treasurer_).get(), xreq, &xml);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_THAT(xml.content(), HasSubstr("pain.001.001.03"));
  EXPECT_EQ(CtrlSumCents(xml.content()), expected_total);
  EXPECT_THAT(xml.content(), HasSubstr("<NbOfTxs>2</NbOfTxs>"));
  EXPECT_THAT(xml.content(), HasSubstr(SyntheticIban("30006000011234567890189")));
  EXPECT_THAT(xml.content(), HasSubstr(SyntheticIban("30004000031234567890143")));

  fv1::MarkPaymentBatchPaidRequest paid;
  paid.set_id(batch.batch().id());
  *paid.mutable_paid_date() = create.batch().execution_date();
  paid.set_request_id("x-paid-1");
  fv1::MarkPaymentBatchPaidResponse paid_resp;
  st = finance_->MarkPaymentBatchPaid(Ctx(treasurer_).get(), paid, &paid_resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(paid_resp.batch().state(), fv1::BATCH_STATE_PAID);
  for (const auto& e : Entitlements()) {
    if (e.amount_cents() > 0) {
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_PAID) << e.id();
    }
  }
  const auto balances = Balances();
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_PAYABLE), 0);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_BANK, ""), -expected_total);
}

TEST_F(AttendanceToFinanceE2e, AmendmentIsAReversalAndANewEntryNeverAnEdit) {
  // 2 points/h for a member, 3 for a référent; a point is worth 25 EUR.
  PerHourPolicy(2000, 3000, 2500);
  const Group g = MakeGroup();
  const absl::Time start = absl::Now() + absl::Seconds(3);
  const std::string meeting = Schedule(g.group, start, g.referent_token);
  WaitForStart(start);
  ASSERT_TRUE(Record(meeting, g.referent_token,
                     {{g.referent, pv1::ATTENDANCE_STATUS_PRESENT, 120},
                      {g.a, pv1::ATTENDANCE_STATUS_PRESENT, 120},
                      {g.b, pv1::ATTENDANCE_STATUS_ABSENT, 0}})
                  .ok());
  const pv1::AttendanceSheet closed = Close(meeting, g.referent_token);
  AwaitDelivery(meeting, 2);
  const std::vector<fv1::Entitlement> before = Entitlements();
  ASSERT_EQ(before.size(), 2u);
  const std::vector<fv1::LedgerTransaction> journal_before = Journal();
  ASSERT_EQ(journal_before.size(), 2u);
  std::string a_v1;
  for (const auto& e : before) {
    if (e.member_id() == g.member_a) a_v1 = e.id();
    EXPECT_EQ(e.amount_cents(), e.member_id() == g.referent_member ? 15000 : 10000);
  }
  ASSERT_FALSE(a_v1.empty());

  // Member A stayed one hour only; member B was there after all, for an hour and a half.
  pv1::AmendAttendanceRequest amend;
  amend.set_meeting_id(meeting);
  for (const Line& line : std::vector<Line>{{g.a, pv1::ATTENDANCE_STATUS_PRESENT, 60},
                                            {g.b, pv1::ATTENDANCE_STATUS_PRESENT, 90}}) {
    auto* l = amend.add_lines();
    l->set_participant_id(line.participant);
    l->set_status(line.status);
    l->set_minutes_worked(line.minutes);
  }
  amend.set_reason("Feuille corrigée après vérification");
  amend.set_etag(closed.etag());
  amend.set_request_id("x-amend-1");
  pv1::AmendAttendanceResponse amended;
  const grpc::Status st = projects_->AmendAttendance(Ctx(g.referent_token).get(), amend, &amended);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(amended.sheet().version(), 2);
  // v1 (2) + A's reversal, A's v2 and B's v2.
  EXPECT_EQ(OutboxCount(""), 5);
  AwaitDelivery(meeting, 4);

  const std::vector<fv1::Entitlement> after = Entitlements();
  ASSERT_EQ(after.size(), 4u);
  int64_t net = 0;
  std::map<std::string, int64_t> due;  // member -> amount of its live entitlement
  for (const auto& e : after) {
    if (e.id() == a_v1) {
      // The original is kept as it was, only marked reversed.
      EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_REVERSED);
      EXPECT_EQ(e.amount_cents(), 10000);
      EXPECT_EQ(e.sheet_version(), 1);
      continue;
    }
    EXPECT_EQ(e.status(), fv1::ENTITLEMENT_STATUS_PENDING) << e.id();
    EXPECT_EQ(due.count(e.member_id()), 0u) << "two live entitlements for " << e.member_id();
    due[e.member_id()] = e.amount_cents();
    net += e.amount_cents();
    EXPECT_EQ(e.sheet_version(), e.member_id() == g.referent_member ? 1 : 2) << e.id();
  }
  EXPECT_EQ(due, (std::map<std::string, int64_t>{
                     {g.referent_member, 15000}, {g.member_a, 5000}, {g.member_b, 7500}}));
  EXPECT_EQ(net, 27500);

  // The journal only grew: the old transactions are unchanged, one reversal cancels A's.
  const std::vector<fv1::LedgerTransaction> journal = Journal();
  ASSERT_EQ(journal.size(), 5u);
  std::string a_v1_txn;
  for (const auto& old : journal_before) {
    bool kept = false;
    for (const auto& t : journal) {
      kept = kept || google::protobuf::util::MessageDifferencer::Equals(old, t);
    }
    EXPECT_TRUE(kept) << "edited or lost: " << old.ShortDebugString();
    if (old.source_id() == a_v1) a_v1_txn = old.id();
  }
  int reversals = 0;
  for (const auto& t : journal) {
    if (t.kind() != fv1::TRANSACTION_KIND_REVERSAL) continue;
    ++reversals;
    EXPECT_EQ(t.reverses_id(), a_v1_txn);
    int64_t expense = 0;
    for (const auto& entry : t.entries()) {
      if (entry.account().kind() == fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE) {
        expense += entry.amount_cents();
      }
    }
    EXPECT_EQ(expense, -10000);
  }
  EXPECT_EQ(reversals, 1);
  const auto balances = Balances();
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, g.member_a), -5000);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, g.member_b), -7500);
  EXPECT_EQ(BalanceOf(balances, fv1::ACCOUNT_KIND_PAYABLE, g.referent_member), -15000);
  EXPECT_EQ(SumOf(balances, fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE), 27500);
}

TEST_F(AttendanceToFinanceE2e, CrashOfProjectsOrOutageOfFinanceLosesAndDuplicatesNothing) {
  PerMeetingPolicy(5000, 8000);
  const Group g = MakeGroup();
  const absl::Time start = absl::Now() + absl::Seconds(3);
  const std::string first = Schedule(g.group, start, g.referent_token);
  const std::string second = Schedule(g.group, start, g.referent_token);
  WaitForStart(start);
  const std::vector<Line> all_present = {{g.referent, pv1::ATTENDANCE_STATUS_PRESENT, 60},
                                         {g.a, pv1::ATTENDANCE_STATUS_PRESENT, 60},
                                         {g.b, pv1::ATTENDANCE_STATUS_PRESENT, 60}};
  const std::map<std::string, int> once = {
      {g.referent_member, 1}, {g.member_a, 1}, {g.member_b, 1}};

  // 1. kill -9 of projects right after the commit, before (or while) the relay delivers.
  ASSERT_TRUE(Record(first, g.referent_token, all_present).ok());
  Close(first, g.referent_token);
  ASSERT_EQ(kill(servers->projects->pid(), SIGKILL), 0);
  servers->projects.reset();  // reaps the killed process
  EXPECT_EQ(OutboxCount(""), 3);
  // Usually 0 (the relay polls every second); any value must end the same way.
  RecordProperty("delivered_before_kill", std::to_string(OutboxCount("delivered")));
  auto restarted = StartProjectsOn(servers->projects_schema, *servers->tokens,
                                   servers->membership->grpc_target(), ProjectsArgs());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  servers->projects = *std::move(restarted);
  Connect();
  AwaitDelivery(first, 3);
  EXPECT_EQ(PerMember(Entitlements(first)), once);

  // 2. Finance committed but projects never recorded the delivery (a crash between the two):
  // the events are due again, finance answers them as replays.
  ASSERT_TRUE(platform::db::test_util::Exec(
                  *servers->projects_admin,
                  absl::StrCat("UPDATE outbox_event SET state = 'pending', attempts = 0, "
                               "next_attempt_at = UTC_TIMESTAMP(6) WHERE tenant_id = '",
                               tenant_, "'"))
                  .ok());
  AwaitDelivery(first, 3);
  EXPECT_EQ(PerMember(Entitlements(first)), once);
  EXPECT_EQ(Journal().size(), 3u);

  // 3. Finance is down while a sheet closes: the relay retries; once finance is back on its
  // address, the events are delivered, once.
  EXPECT_EQ(servers->finance->Stop(), 0);
  servers->finance.reset();
  ASSERT_TRUE(Record(second, g.referent_token, all_present).ok());
  Close(second, g.referent_token);
  EXPECT_TRUE(PollUntil([&] { return OutboxCount("pending", " AND attempts > 0") == 3; }))
      << "the relay did not try to deliver while finance was down";
  EXPECT_EQ(OutboxCount("delivered"), 3);
  auto back =
      StartFinanceOn(servers->finance_schema, *servers->tokens, servers->membership->grpc_target(),
                     {absl::StrCat("--grpc_port=", servers->finance_port)});
  ASSERT_TRUE(back.ok()) << back.status();
  servers->finance = *std::move(back);
  Connect();
  AwaitDelivery(second, 3);
  EXPECT_EQ(PerMember(Entitlements(second)), once);
  EXPECT_EQ(PerMember(Entitlements(first)), once);
  EXPECT_EQ(OutboxCount("delivered"), 6);
  const std::vector<fv1::LedgerTransaction> journal = Journal();
  EXPECT_EQ(journal.size(), 6u);
  for (const auto& e : Entitlements()) {
    EXPECT_EQ(e.amount_cents(), e.member_id() == g.referent_member ? 8000 : 5000);
  }
  EXPECT_EQ(SumOf(Balances(), fv1::ACCOUNT_KIND_INDEMNITY_EXPENSE), 2 * 18000);
}

}  // namespace
}  // namespace cpts::e2e
