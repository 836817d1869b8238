#include "tests/e2e/projects_fixture.h"

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::e2e {
namespace {

struct Suite {
  std::unique_ptr<testing::TestTokens> tokens;
  std::unique_ptr<testing::ServiceProcess> membership;
  std::unique_ptr<testing::ServiceProcess> projects;
  std::unique_ptr<platform::db::ConnectionPool> projects_admin;  // the schema's migrator
};
Suite* suite = nullptr;
std::atomic<int> member_seq{1};

std::vector<std::string> DbArgs(const platform::db::DbConfig& c) {
  return {"--db_host=" + c.host, absl::StrCat("--db_port=", c.port), "--db_user=" + c.user,
          "--db_schema=" + c.schema};
}

}  // namespace

std::unique_ptr<projects::v1::ProjectsService::Stub> ProjectsE2e::projects_;
std::unique_ptr<membership::v1::MembershipService::Stub> ProjectsE2e::membership_;

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartProjects(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, testing::TestSchema* schema_out,
    const std::vector<std::string>& extra_args) {
  auto schema = testing::CreateTestSchema(db, "e2e_projects");
  if (!schema.ok()) return schema.status();
  if (schema_out != nullptr) *schema_out = *schema;
  std::vector<std::string> migrate = DbArgs(schema->migrator);
  migrate.push_back("--migrate_only");
  auto migrated = testing::RunCommand(PROJECTS_SERVER, migrate,
                                      {{"CPTS_DB_PASSWORD", schema->migrator.password}});
  if (!migrated.ok()) return migrated.status();
  if (migrated->exit_code != 0) {
    return absl::InternalError(absl::StrCat("projects migrations failed:\n", migrated->output));
  }
  return StartProjectsOn(*schema, tokens, membership_target, extra_args);
}

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartProjectsOn(
    const testing::TestSchema& schema, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = DbArgs(schema.app);
  for (auto& a : tokens.ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=8");
  args.push_back("--membership_address=" + membership_target);
  args.push_back("--service_key_file=" + tokens.private_key_file());
  for (const auto& a : extra_args) args.push_back(a);
  return testing::ServiceProcess::Start(PROJECTS_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", schema.app.password}});
}

void ProjectsE2e::SetUpTestSuite() {
  auto s = std::make_unique<Suite>();
  auto tokens = testing::TestTokens::Create();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  s->tokens = std::make_unique<testing::TestTokens>(*std::move(tokens));
  auto membership = StartMembership(testing::SharedMariaDb(), *s->tokens, "e2e_prj_members");
  ASSERT_TRUE(membership.ok()) << membership.status();
  s->membership = *std::move(membership);
  testing::TestSchema schema;
  auto projects =
      StartProjects(testing::SharedMariaDb(), *s->tokens, s->membership->grpc_target(), &schema);
  ASSERT_TRUE(projects.ok()) << projects.status();
  s->projects = *std::move(projects);
  platform::db::DbConfig admin = schema.migrator;
  admin.pool_size = 2;
  s->projects_admin = platform::db::ConnectionPool::Create(admin);
  projects_ = projects::v1::ProjectsService::NewStub(
      grpc::CreateChannel(s->projects->grpc_target(), grpc::InsecureChannelCredentials()));
  membership_ = membership::v1::MembershipService::NewStub(
      grpc::CreateChannel(s->membership->grpc_target(), grpc::InsecureChannelCredentials()));
  suite = s.release();
}

void ProjectsE2e::TearDownTestSuite() {
  projects_.reset();
  membership_.reset();
  delete suite;
  suite = nullptr;
}

void ProjectsE2e::SetUp() {
  ASSERT_NE(suite, nullptr) << "the servers did not start";
  tenant_ = NewTenant("CPTS du Val Fictif");
  ASSERT_FALSE(tenant_.empty());
}

std::unique_ptr<grpc::ClientContext> ProjectsE2e::Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string ProjectsE2e::Token(std::vector<std::string> roles, const std::string& member_id) const {
  return TokenFor(tenant_, std::move(roles), member_id);
}

std::string ProjectsE2e::TokenFor(const std::string& tenant, std::vector<std::string> roles,
                                  const std::string& member_id) const {
  const std::string sub = "user-" + (member_id.empty() ? roles.front() : member_id);
  return suite->tokens->Mint(
      {.roles = std::move(roles), .tenant_id = tenant, .subject = sub, .member_id = member_id});
}

std::string ProjectsE2e::NewTenant(const std::string& name) {
  membership::v1::CreateTenantRequest req;
  req.mutable_tenant()->set_name(name);
  req.mutable_tenant()->set_size(2);
  req.mutable_tenant()->add_territory_communes("33529");
  membership::v1::CreateTenantResponse resp;
  const std::string admin =
      suite->tokens->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  const grpc::Status st = membership_->CreateTenant(Ctx(admin).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.tenant().id();
}

std::string ProjectsE2e::CreateActiveMember() {
  const int n = member_seq.fetch_add(1);
  const std::string coordinator = Token({"coordinator"});
  membership::v1::CreateMemberRequest create;
  auto* m = create.mutable_member();
  m->set_kind(membership::v1::MEMBER_KIND_PERSON);
  m->set_given_name(absl::StrCat("Prénom", n));
  m->set_family_name(absl::StrCat("Soignant-", 2000 + n));
  m->set_profession_code("MEDECIN_GENERALISTE");
  m->set_rpps(ValidRpps(700000 + n));
  m->set_exercise_mode(membership::v1::EXERCISE_MODE_LIBERAL);
  m->add_practice_places()->set_commune_insee("33529");
  m->mutable_contact()->set_email(absl::StrCat("projets", n, "@example.org"));
  create.set_request_id(absl::StrCat("projects-e2e-", tenant_, "-", n));
  membership::v1::CreateMemberResponse created;
  grpc::Status st = membership_->CreateMember(Ctx(coordinator).get(), create, &created);
  EXPECT_TRUE(st.ok()) << st.error_message();
  membership::v1::ApproveAdhesionRequest approve;
  approve.set_member_id(created.member().id());
  membership::v1::ApproveAdhesionResponse approved;
  st = membership_->ApproveAdhesion(Ctx(coordinator).get(), approve, &approved);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return approved.member().id();
}

void ProjectsE2e::SuspendMember(const std::string& member_id) {
  membership::v1::SuspendMemberRequest req;
  req.set_member_id(member_id);
  req.set_reason("Suspension de test");
  membership::v1::SuspendMemberResponse resp;
  const grpc::Status st = membership_->SuspendMember(Ctx(Token({"coordinator"})).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

std::vector<projects::v1::AttendanceEntitlementEvent> ProjectsE2e::OutboxEvents() const {
  std::vector<projects::v1::AttendanceEntitlementEvent> out;
  for (const std::string& payload : platform::db::test_util::QueryColumn(
           *suite->projects_admin,
           absl::StrCat("SELECT payload FROM outbox_event WHERE tenant_id = '", tenant_,
                        "' AND topic = 'finance.attendance' ORDER BY seq"))) {
    projects::v1::AttendanceEntitlementEvent e;
    EXPECT_TRUE(e.ParseFromString(payload));
    out.push_back(e);
  }
  return out;
}

int64_t ProjectsE2e::ParkDeadOutboxEvent(const std::string& event_key, const std::string& error,
                                         const std::string& tenant) const {
  const std::string owner = tenant.empty() ? tenant_ : tenant;
  EXPECT_TRUE(
      platform::db::test_util::Exec(
          *suite->projects_admin,
          absl::StrCat("INSERT INTO outbox_event (tenant_id, topic, event_key, payload, "
                       "created_at, state, attempts, next_attempt_at, last_error) VALUES "
                       "('",
                       owner, "', 'finance.attendance', '", event_key,
                       "', '', UTC_TIMESTAMP(6), 'dead', 1, UTC_TIMESTAMP(6), '", error, "')"))
          .ok());
  return platform::db::test_util::QueryInt(
      *suite->projects_admin,
      absl::StrCat("SELECT seq FROM outbox_event WHERE tenant_id = '", owner,
                   "' AND topic = 'finance.attendance' AND event_key = '", event_key, "'"));
}

std::string ProjectsE2e::OutboxState(int64_t id) const {
  return platform::db::test_util::QueryString(
      *suite->projects_admin,
      absl::StrCat("SELECT CONCAT(state, ':', attempts) FROM outbox_event WHERE seq = ", id));
}

std::vector<platform::db::AuditRecord> ProjectsE2e::AuditRows(
    const std::string& resource_type, const std::string& resource_id) const {
  auto lease = suite->projects_admin->Acquire();
  EXPECT_TRUE(lease.ok()) << lease.status();
  if (!lease.ok()) return {};
  auto rows = platform::db::ListAudit(**lease, tenant_, resource_type, resource_id, 1000);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<platform::db::AuditRecord>{};
}

}  // namespace cpts::e2e
