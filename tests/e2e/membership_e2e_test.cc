// The membership service end to end: the real binary, a real MariaDB, real tokens over gRPC.
#include <httplib.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

cpts::common::v1::Date Date(int year, int month, int day) {
  cpts::common::v1::Date out;
  out.set_year(year);
  out.set_month(month);
  out.set_day(day);
  return out;
}

// ---- Authentication and authorization --------------------------------------------------

TEST_F(MembershipE2e, NoTokenIsUnauthenticated) {
  v1::ListMembersResponse resp;
  EXPECT_EQ(stub_->ListMembers(Ctx("").get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MembershipE2e, ExpiredTokenIsUnauthenticated) {
  const std::string expired = tokens_->Mint({.roles = {"coordinator"},
                                             .tenant_id = tenant_,
                                             .ttl = absl::Minutes(5),
                                             .issued_at = absl::Now() - absl::Hours(1)});
  v1::ListMembersResponse resp;
  EXPECT_EQ(stub_->ListMembers(Ctx(expired).get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MembershipE2e, WrongAudienceIsUnauthenticated) {
  const std::string other =
      tokens_->Mint({.roles = {"coordinator"}, .tenant_id = tenant_, .audience = "finance"});
  v1::ListMembersResponse resp;
  EXPECT_EQ(stub_->ListMembers(Ctx(other).get(), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MembershipE2e, HealthAndReflectionNeedNoToken) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("cpts.membership.v1.MembershipService");
  grpc::health::v1::HealthCheckResponse resp;
  // SERVING once the service has seen its database answer.
  for (int i = 0; i < 100 && resp.status() != grpc::health::v1::HealthCheckResponse::SERVING; ++i) {
    ASSERT_TRUE(health->Check(Ctx("").get(), req, &resp).ok());
    if (resp.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(MembershipE2e, MemberSeesOnlyTheirOwnRecord) {
  const v1::Member alice = CreateActiveMember(tenant_, 1);
  const v1::Member bob = CreateActiveMember(tenant_, 2);
  const std::string alice_token = Token(tenant_, {"member"}, alice.id());

  v1::GetMemberRequest get;
  get.set_member_id(alice.id());
  v1::GetMemberResponse got;
  ASSERT_TRUE(stub_->GetMember(Ctx(alice_token).get(), get, &got).ok());
  EXPECT_EQ(got.member().family_name(), alice.family_name());

  get.set_member_id(bob.id());
  got.Clear();
  EXPECT_EQ(stub_->GetMember(Ctx(alice_token).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(got.member().family_name().empty());

  v1::ListMembersResponse listed;
  EXPECT_EQ(stub_->ListMembers(Ctx(alice_token).get(), {}, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MembershipE2e, MemberMayOnlyChangeTheirContactAndConsents) {
  const v1::Member alice = CreateActiveMember(tenant_, 3);
  const std::string alice_token = Token(tenant_, {"member"}, alice.id());
  v1::UpdateMemberRequest req;
  *req.mutable_member() = alice;
  req.mutable_member()->mutable_contact()->set_email("nouvelle@example.org");
  req.mutable_update_mask()->add_paths("contact.email");
  v1::UpdateMemberResponse resp;
  grpc::Status st = stub_->UpdateMember(Ctx(alice_token).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.member().contact().email(), "nouvelle@example.org");

  req.mutable_member()->set_etag(resp.member().etag());
  req.mutable_member()->set_rpps(ValidRpps(999));
  req.mutable_update_mask()->clear_paths();
  req.mutable_update_mask()->add_paths("rpps");
  EXPECT_EQ(stub_->UpdateMember(Ctx(alice_token).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MembershipE2e, OtherTenantNeverSeesTheData) {
  const v1::Member alice = CreateActiveMember(tenant_, 4);
  auto other = CreateTenant("CPTS Voisine");
  ASSERT_TRUE(other.ok());
  const std::string foreign = Token(other->id(), {"coordinator"});

  v1::GetMemberRequest get;
  get.set_member_id(alice.id());
  v1::GetMemberResponse got;
  const grpc::Status st = stub_->GetMember(Ctx(foreign).get(), get, &got);
  EXPECT_TRUE(st.error_code() == grpc::StatusCode::NOT_FOUND ||
              st.error_code() == grpc::StatusCode::PERMISSION_DENIED)
      << st.error_code();
  EXPECT_THAT(st.error_message(), Not(HasSubstr(alice.family_name())));
  EXPECT_FALSE(got.has_member());

  v1::ListMembersResponse listed;
  ASSERT_TRUE(stub_->ListMembers(Ctx(foreign).get(), {}, &listed).ok());
  EXPECT_EQ(listed.members_size(), 0);

  v1::ApproveAdhesionRequest approve;
  approve.set_member_id(alice.id());
  v1::ApproveAdhesionResponse approved;
  EXPECT_EQ(stub_->ApproveAdhesion(Ctx(foreign).get(), approve, &approved).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(MembershipE2e, TenantComesFromTheTokenNotTheBody) {
  auto other = CreateTenant("CPTS Autre");
  ASSERT_TRUE(other.ok());
  // A coordinator of tenant_ cannot update the other tenant by naming it in the body.
  v1::UpdateTenantRequest req;
  *req.mutable_tenant() = *other;
  req.mutable_tenant()->set_name("Renamed");
  req.mutable_update_mask()->add_paths("name");
  v1::UpdateTenantResponse resp;
  EXPECT_EQ(
      stub_->UpdateTenant(Ctx(Token(tenant_, {"coordinator"})).get(), req, &resp).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MembershipE2e, PublicFormMaySubmitButNotRead) {
  const std::string form = Token(tenant_, {"public_form"});
  v1::SubmitAdhesionRequest req;
  *req.mutable_member() = ValidPerson(5);
  req.set_message("Je souhaite adhérer.");
  req.set_request_id("form-5");
  v1::SubmitAdhesionResponse resp;
  const grpc::Status st = stub_->SubmitAdhesion(Ctx(form).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.member().status(), v1::MEMBER_STATUS_PENDING);

  v1::GetMemberRequest get;
  get.set_member_id(resp.member().id());
  v1::GetMemberResponse got;
  EXPECT_EQ(stub_->GetMember(Ctx(form).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListProfessionsResponse professions;
  ASSERT_TRUE(stub_->ListProfessions(Ctx(form).get(), {}, &professions).ok());
  EXPECT_GT(professions.professions_size(), 10);
}

// ---- Lifecycle ---------------------------------------------------------------------------

TEST_F(MembershipE2e, AdhesionApprovedByTheBureauThenListedAsActive) {
  v1::SubmitAdhesionRequest submit;
  *submit.mutable_member() = ValidPerson(6);
  submit.set_request_id("form-6");
  v1::SubmitAdhesionResponse submitted;
  ASSERT_TRUE(
      stub_->SubmitAdhesion(Ctx(Token(tenant_, {"public_form"})).get(), submit, &submitted).ok());

  const std::string bureau = Token(tenant_, {"bureau_member"});
  v1::ApproveAdhesionRequest approve;
  approve.set_member_id(submitted.member().id());
  v1::ApproveAdhesionResponse approved;
  const grpc::Status st = stub_->ApproveAdhesion(Ctx(bureau).get(), approve, &approved);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(approved.member().status(), v1::MEMBER_STATUS_ACTIVE);
  EXPECT_EQ(approved.member().membership_years_size(), 1);

  // Approving twice is a state error, not a silent success.
  EXPECT_EQ(stub_->ApproveAdhesion(Ctx(bureau).get(), approve, &approved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListMembersRequest list;
  list.set_status(v1::MEMBER_STATUS_ACTIVE);
  v1::ListMembersResponse listed;
  ASSERT_TRUE(stub_->ListMembers(Ctx(bureau).get(), list, &listed).ok());
  ASSERT_EQ(listed.members_size(), 1);
  EXPECT_EQ(listed.members(0).id(), submitted.member().id());

  v1::SuspendMemberRequest suspend;
  suspend.set_member_id(submitted.member().id());
  suspend.set_reason("cotisation impayée");
  v1::SuspendMemberResponse suspended;
  // Suspension is the coordinator's act, not the bureau's.
  EXPECT_EQ(stub_->SuspendMember(Ctx(bureau).get(), suspend, &suspended).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status suspend_status =
      stub_->SuspendMember(Ctx(Token(tenant_, {"coordinator"})).get(), suspend, &suspended);
  ASSERT_TRUE(suspend_status.ok()) << suspend_status.error_message();
  EXPECT_EQ(suspended.member().status(), v1::MEMBER_STATUS_SUSPENDED);

  v1::ListMemberHistoryRequest history;
  history.set_member_id(submitted.member().id());
  v1::ListMemberHistoryResponse entries;
  ASSERT_TRUE(stub_->ListMemberHistory(Ctx(bureau).get(), history, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 3);
  EXPECT_EQ(entries.entries(0).action(), v1::MEMBER_ACTION_ADHESION_SUBMITTED);
  EXPECT_EQ(entries.entries(1).action(), v1::MEMBER_ACTION_ADHESION_APPROVED);
  EXPECT_EQ(entries.entries(2).action(), v1::MEMBER_ACTION_SUSPENDED);
  EXPECT_EQ(entries.entries(2).reason(), "cotisation impayée");
}

TEST_F(MembershipE2e, DirectoryProfileForServices) {
  const v1::Member alice = CreateActiveMember(tenant_, 7);
  v1::GetMemberProfileRequest req;
  req.set_member_id(alice.id());
  v1::GetMemberProfileResponse resp;
  const grpc::Status st = stub_->GetMemberProfile(
      Ctx(tokens_->Mint({.roles = {"service"}, .tenant_id = tenant_, .subject = "service:finance"}))
          .get(),
      req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.profile().status(), v1::MEMBER_STATUS_ACTIVE);
  EXPECT_EQ(resp.profile().profession_code(), "MEDECIN_GENERALISTE");
  EXPECT_TRUE(resp.profile().up_to_date());
  EXPECT_EQ(resp.profile().payee().kind(), v1::PAYEE_KIND_SELF);
  EXPECT_THAT(resp.profile().commune_insee_codes(), ::testing::ElementsAre("33529"));
  EXPECT_THAT(resp.profile().mandate_bodies(), ::testing::IsEmpty());

  // A board mandate for 2024 shows on a day inside it, not on the day after it ends.
  v1::CreateMandateRequest mandate;
  mandate.mutable_mandate()->set_member_id(alice.id());
  mandate.mutable_mandate()->set_body(v1::MANDATE_BODY_BOARD);
  mandate.mutable_mandate()->set_role(v1::MANDATE_ROLE_BOARD_MEMBER);
  *mandate.mutable_mandate()->mutable_start_date() = Date(2024, 1, 1);
  *mandate.mutable_mandate()->mutable_end_date() = Date(2024, 12, 31);
  v1::CreateMandateResponse created;
  const grpc::Status made =
      stub_->CreateMandate(Ctx(Token(tenant_, {"bureau_member"})).get(), mandate, &created);
  ASSERT_TRUE(made.ok()) << made.error_message();
  auto bodies_on = [&](const cpts::common::v1::Date& day) {
    v1::GetMemberProfileRequest on_day;
    on_day.set_member_id(alice.id());
    *on_day.mutable_on_date() = day;
    v1::GetMemberProfileResponse got;
    const grpc::Status status = stub_->GetMemberProfile(
        Ctx(tokens_->Mint(
                {.roles = {"service"}, .tenant_id = tenant_, .subject = "service:finance"}))
            .get(),
        on_day, &got);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return std::vector<int>(got.profile().mandate_bodies().begin(),
                            got.profile().mandate_bodies().end());
  };
  EXPECT_THAT(bodies_on(Date(2024, 12, 31)), ::testing::ElementsAre(v1::MANDATE_BODY_BOARD));
  EXPECT_THAT(bodies_on(Date(2025, 1, 1)), ::testing::IsEmpty());
}

// ---- Idempotency, uniqueness, concurrency -------------------------------------------------

TEST_F(MembershipE2e, CreateIsIdempotentWithRequestId) {
  const std::string coordinator = Token(tenant_, {"coordinator"});
  v1::CreateMemberRequest req;
  *req.mutable_member() = ValidPerson(8);
  req.set_request_id("retry-me");
  v1::CreateMemberResponse first, second;
  ASSERT_TRUE(stub_->CreateMember(Ctx(coordinator).get(), req, &first).ok());
  ASSERT_TRUE(stub_->CreateMember(Ctx(coordinator).get(), req, &second).ok());
  EXPECT_EQ(first.member().id(), second.member().id());

  req.mutable_member()->set_given_name("Autre");
  v1::CreateMemberResponse third;
  EXPECT_EQ(stub_->CreateMember(Ctx(coordinator).get(), req, &third).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListMembersResponse listed;
  ASSERT_TRUE(stub_->ListMembers(Ctx(coordinator).get(), {}, &listed).ok());
  EXPECT_EQ(listed.members_size(), 1);
}

TEST_F(MembershipE2e, DuplicateRppsInATenantIsAlreadyExists) {
  const std::string coordinator = Token(tenant_, {"coordinator"});
  v1::CreateMemberRequest req;
  *req.mutable_member() = ValidPerson(9);
  req.set_request_id("a");
  v1::CreateMemberResponse resp;
  ASSERT_TRUE(stub_->CreateMember(Ctx(coordinator).get(), req, &resp).ok());
  req.set_request_id("b");
  req.mutable_member()->set_family_name("Homonyme");
  EXPECT_EQ(stub_->CreateMember(Ctx(coordinator).get(), req, &resp).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(MembershipE2e, StaleEtagIsAborted) {
  const v1::Member alice = CreateActiveMember(tenant_, 10);
  const std::string coordinator = Token(tenant_, {"coordinator"});
  v1::UpdateMemberRequest req;
  *req.mutable_member() = alice;
  req.mutable_member()->mutable_contact()->set_phone("+33 5 56 00 00 01");
  req.mutable_update_mask()->add_paths("contact.phone");
  v1::UpdateMemberResponse resp;
  ASSERT_TRUE(stub_->UpdateMember(Ctx(coordinator).get(), req, &resp).ok());
  EXPECT_EQ(resp.member().contact().phone(), "+33556000001");
  EXPECT_NE(resp.member().etag(), alice.etag());
  // Same (now stale) etag again.
  EXPECT_EQ(stub_->UpdateMember(Ctx(coordinator).get(), req, &resp).error_code(),
            grpc::StatusCode::ABORTED);
}

TEST_F(MembershipE2e, PaginationHasNoGapsOrRepeatsAcrossInserts) {
  const std::string coordinator = Token(tenant_, {"coordinator"});
  std::set<std::string> originals;
  for (int i = 0; i < 23; ++i) {
    v1::CreateMemberRequest req;
    *req.mutable_member() = ValidPerson(100 + i);
    req.set_request_id(absl::StrCat("p", i));
    v1::CreateMemberResponse resp;
    ASSERT_TRUE(stub_->CreateMember(Ctx(coordinator).get(), req, &resp).ok());
    originals.insert(resp.member().id());
  }
  std::set<std::string> seen;
  std::string token;
  int inserted = 0;
  do {
    v1::ListMembersRequest req;
    req.set_page_size(5);
    req.set_page_token(token);
    v1::ListMembersResponse resp;
    const grpc::Status st = stub_->ListMembers(Ctx(coordinator).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_LE(resp.members_size(), 5);
    for (const auto& m : resp.members()) {
      EXPECT_TRUE(seen.insert(m.id()).second) << "repeated " << m.id();
    }
    // Insert members that sort before, between and after the pages already read.
    v1::CreateMemberRequest extra;
    *extra.mutable_member() = ValidPerson(500 + inserted);
    extra.mutable_member()->set_family_name(inserted % 2 == 0 ? "Aaaa" : "Zzzz");
    extra.set_request_id(absl::StrCat("extra", inserted++));
    v1::CreateMemberResponse created;
    ASSERT_TRUE(stub_->CreateMember(Ctx(coordinator).get(), extra, &created).ok());
    token = resp.next_page_token();
  } while (!token.empty());
  for (const auto& id : originals) EXPECT_TRUE(seen.count(id)) << "skipped " << id;
}

// ---- Bad input: every field named, nothing changed -----------------------------------------

struct BadField {
  std::string name;
  std::function<void(v1::Member&)> spoil;
  std::string field_in_message;
};

TEST_F(MembershipE2e, BadInputOnEveryFieldIsNamedAndChangesNothing) {
  const std::string coordinator = Token(tenant_, {"coordinator"});
  const std::vector<BadField> cases = {
      {"kind unset", [](v1::Member& m) { m.set_kind(v1::MEMBER_KIND_UNSPECIFIED); }, "kind"},
      {"kind unknown", [](v1::Member& m) { m.set_kind(static_cast<v1::MemberKind>(42)); }, "kind"},
      {"given name empty", [](v1::Member& m) { m.set_given_name("  "); }, "given_name"},
      {"family name control char", [](v1::Member& m) { m.set_family_name("Bad\x01Name"); },
       "family_name"},
      {"family name too long", [](v1::Member& m) { m.set_family_name(std::string(300, 'x')); },
       "family_name"},
      {"rpps check digit",
       [](v1::Member& m) {
         std::string r = m.rpps();
         r.back() = r.back() == '9' ? '0' : static_cast<char>(r.back() + 1);
         m.set_rpps(r);
       },
       "rpps"},
      {"rpps length", [](v1::Member& m) { m.set_rpps("123"); }, "rpps"},
      {"rpps letters", [](v1::Member& m) { m.set_rpps("1000000000A"); }, "rpps"},
      {"profession unknown", [](v1::Member& m) { m.set_profession_code("ASTRONAUTE"); },
       "profession_code"},
      {"exercise mode unknown",
       [](v1::Member& m) { m.set_exercise_mode(static_cast<v1::ExerciseMode>(9)); },
       "exercise_mode"},
      {"commune not INSEE",
       [](v1::Member& m) { m.mutable_practice_places(0)->set_commune_insee("2000"); },
       "commune_insee"},
      {"commune 20xxx",
       [](v1::Member& m) { m.mutable_practice_places(0)->set_commune_insee("20004"); },
       "commune_insee"},
      {"email", [](v1::Member& m) { m.mutable_contact()->set_email("pas-un-email"); }, "email"},
      {"phone", [](v1::Member& m) { m.mutable_contact()->set_phone("12"); }, "phone"},
      {"college unknown", [](v1::Member& m) { m.set_college_id("nope"); }, "college_id"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadField& c = cases[i];
    SCOPED_TRACE(c.name);
    v1::CreateMemberRequest req;
    *req.mutable_member() = ValidPerson(42);
    c.spoil(*req.mutable_member());
    req.set_request_id(absl::StrCat("bad-", i));
    v1::CreateMemberResponse resp;
    const grpc::Status st = stub_->CreateMember(Ctx(coordinator).get(), req, &resp);
    EXPECT_THAT(st.error_code(),
                ::testing::AnyOf(grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND));
    EXPECT_THAT(st.error_message(), HasSubstr(c.field_in_message));
  }
  v1::ListMembersResponse listed;
  ASSERT_TRUE(stub_->ListMembers(Ctx(coordinator).get(), {}, &listed).ok());
  EXPECT_EQ(listed.members_size(), 0);

  v1::RecordCotisationRequest cot;
  cot.mutable_cotisation()->set_member_id("whatever");
  cot.mutable_cotisation()->set_year(2026);
  cot.mutable_cotisation()->set_amount_cents(-5);
  cot.set_request_id("c1");
  v1::RecordCotisationResponse cot_resp;
  const grpc::Status st = stub_->RecordCotisation(Ctx(coordinator).get(), cot, &cot_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// ---- Observability --------------------------------------------------------------------------

TEST_F(MembershipE2e, HealthzMetricsAndLogsWithoutPersonalData) {
  CreateActiveMember(tenant_, 11);
  httplib::Client http("127.0.0.1", server_->http_port());
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("grpc_server_handled_total{grpc_method=\"/cpts.membership.v1."
                        "MembershipService/CreateMember\",grpc_code=\"OK\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("db_pool_connections{state=\"idle\"}"));

  const std::string log = server_->ReadLog();
  EXPECT_THAT(log, HasSubstr("\"method\":\"/cpts.membership.v1.MembershipService/CreateMember\""));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("\"tenant\":\"", tenant_, "\"")));
  EXPECT_THAT(log, Not(HasSubstr(ValidPerson(11).family_name())));
  EXPECT_THAT(log, Not(HasSubstr(ValidPerson(11).rpps())));
}

TEST_F(MembershipE2e, SigtermDrainsAndExitsCleanly) {
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_THAT(server_->ReadLog(), HasSubstr("\"msg\":\"stopped\""));
}

}  // namespace
}  // namespace cpts::e2e
