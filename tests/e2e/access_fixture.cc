#include "tests/e2e/access_fixture.h"

#include <atomic>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "tests/e2e/membership_fixture.h"

namespace cpts::e2e {
namespace {

struct Suite {
  std::unique_ptr<testing::TestTokens> tokens;
  std::unique_ptr<testing::ServiceProcess> membership;
  std::unique_ptr<testing::ServiceProcess> access;
  std::unique_ptr<platform::db::ConnectionPool> access_admin;  // the schema's migrator
  std::string key_dir;
};
Suite* suite = nullptr;
std::atomic<int> member_seq{1};

std::vector<std::string> DbArgs(const platform::db::DbConfig& c) {
  return {"--db_host=" + c.host, absl::StrCat("--db_port=", c.port), "--db_user=" + c.user,
          "--db_schema=" + c.schema};
}

}  // namespace

std::unique_ptr<access::v1::AccessService::Stub> AccessE2e::access_;
std::unique_ptr<membership::v1::MembershipService::Stub> AccessE2e::membership_;

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartAccess(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::string& field_key_file,
    testing::TestSchema* schema_out) {
  auto schema = testing::CreateTestSchema(db, "e2e_access");
  if (!schema.ok()) return schema.status();
  if (schema_out != nullptr) *schema_out = *schema;
  std::vector<std::string> migrate = DbArgs(schema->migrator);
  migrate.push_back("--migrate_only");
  auto migrated = testing::RunCommand(ACCESS_SERVER, migrate,
                                      {{"CPTS_DB_PASSWORD", schema->migrator.password}});
  if (!migrated.ok()) return migrated.status();
  if (migrated->exit_code != 0) {
    return absl::InternalError(absl::StrCat("access migrations failed:\n", migrated->output));
  }
  std::vector<std::string> args = DbArgs(schema->app);
  for (auto& a : tokens.ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=8");
  args.push_back("--membership_address=" + membership_target);
  args.push_back("--service_key_file=" + tokens.private_key_file());
  args.push_back("--field_key_file=" + field_key_file);
  args.push_back("--fhir_address=127.0.0.1");
  args.push_back("--fhir_port=0");
  return testing::ServiceProcess::Start(ACCESS_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", schema->app.password}});
}

void AccessE2e::SetUpTestSuite() {
  auto s = std::make_unique<Suite>();
  auto tokens = testing::TestTokens::Create();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  s->tokens = std::make_unique<testing::TestTokens>(*std::move(tokens));
  auto membership = StartMembership(testing::SharedMariaDb(), *s->tokens, "e2e_acc_members");
  ASSERT_TRUE(membership.ok()) << membership.status();
  s->membership = *std::move(membership);

  char tmpl[] = "/tmp/cpts-access-keys.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  s->key_dir = tmpl;
  const std::string key_file = s->key_dir + "/field-keys.txt";
  auto generated = testing::RunCommand(FIELD_KEYS_TOOL, {"generate", key_file});
  ASSERT_TRUE(generated.ok() && generated->exit_code == 0)
      << (generated.ok() ? generated->output : generated.status().ToString());

  testing::TestSchema schema;
  auto access = StartAccess(testing::SharedMariaDb(), *s->tokens, s->membership->grpc_target(),
                            key_file, &schema);
  ASSERT_TRUE(access.ok()) << access.status();
  s->access = *std::move(access);
  platform::db::DbConfig admin = schema.migrator;
  admin.pool_size = 2;
  s->access_admin = platform::db::ConnectionPool::Create(admin);

  access_ = access::v1::AccessService::NewStub(
      grpc::CreateChannel(s->access->grpc_target(), grpc::InsecureChannelCredentials()));
  membership_ = membership::v1::MembershipService::NewStub(
      grpc::CreateChannel(s->membership->grpc_target(), grpc::InsecureChannelCredentials()));
  suite = s.release();
}

void AccessE2e::TearDownTestSuite() {
  access_.reset();
  membership_.reset();
  if (suite == nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(suite->key_dir, ignored);
  delete suite;
  suite = nullptr;
}

void AccessE2e::SetUp() {
  ASSERT_NE(suite, nullptr) << "the servers did not start";
  tenant_ = NewTenant("CPTS du Bassin Fictif");
  ASSERT_FALSE(tenant_.empty());
}

std::unique_ptr<grpc::ClientContext> AccessE2e::Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string AccessE2e::Token(std::vector<std::string> roles, const std::string& member_id,
                             const std::string& subject) const {
  return TokenFor(tenant_, std::move(roles), member_id, subject);
}

std::string AccessE2e::TokenFor(const std::string& tenant, std::vector<std::string> roles,
                                const std::string& member_id, const std::string& subject) const {
  std::string sub = subject;
  if (sub.empty()) sub = "user-" + (member_id.empty() ? roles.front() : member_id);
  return suite->tokens->Mint(
      {.roles = std::move(roles), .tenant_id = tenant, .subject = sub, .member_id = member_id});
}

std::string AccessE2e::Mint(const testing::TestTokens::Claims& claims) {
  return suite->tokens->Mint(claims);
}

std::string AccessE2e::NewTenant(const std::string& name, const std::string& finess) {
  membership::v1::CreateTenantRequest req;
  req.mutable_tenant()->set_name(name);
  req.mutable_tenant()->set_finess(finess);
  req.mutable_tenant()->set_size(2);
  for (const auto& c : kCommunes) req.mutable_tenant()->add_territory_communes(c);
  membership::v1::CreateTenantResponse resp;
  const std::string admin =
      suite->tokens->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
  const grpc::Status st = membership_->CreateTenant(Ctx(admin).get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp.tenant().id();
}

std::string AccessE2e::CreateActiveMember(const std::string& profession_code,
                                          const std::vector<std::string>& communes,
                                          const std::string& tenant) {
  const std::string t = tenant.empty() ? tenant_ : tenant;
  const int n = member_seq.fetch_add(1);
  const std::string coordinator = TokenFor(t, {"coordinator"});
  membership::v1::CreateMemberRequest create;
  auto* m = create.mutable_member();
  m->set_kind(membership::v1::MEMBER_KIND_PERSON);
  m->set_given_name(absl::StrCat("Prénom", n));
  m->set_family_name(absl::StrCat("Soignant-", 1000 + n));
  m->set_profession_code(profession_code);
  m->set_rpps(ValidRpps(500000 + n));
  m->set_exercise_mode(membership::v1::EXERCISE_MODE_LIBERAL);
  for (const auto& c : communes) m->add_practice_places()->set_commune_insee(c);
  m->mutable_contact()->set_email(absl::StrCat("soignant", n, "@example.org"));
  create.set_request_id(absl::StrCat("access-e2e-", t, "-", n));
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

std::vector<platform::db::AuditRecord> AccessE2e::AuditRows(const std::string& resource_type,
                                                            const std::string& resource_id) const {
  auto lease = suite->access_admin->Acquire();
  EXPECT_TRUE(lease.ok()) << lease.status();
  if (!lease.ok()) return {};
  auto rows = platform::db::ListAudit(**lease, tenant_, resource_type, resource_id, 1000);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<platform::db::AuditRecord>{};
}

std::vector<std::string> AccessE2e::QueryColumn(const std::string& sql) const {
  return platform::db::test_util::QueryColumn(*suite->access_admin, sql);
}

int AccessE2e::fhir_port() { return suite->access->ready_port("fhir_port"); }

testing::ServiceProcess& AccessE2e::access_server() { return *suite->access; }

}  // namespace cpts::e2e
