#include "tests/e2e/membership_fixture.h"

#include "absl/strings/str_cat.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::e2e {

std::string ValidRpps(int seed) {
  std::string digits = absl::StrCat(1000000000 + seed);  // 10 digits
  // Luhn: double every second digit from the right, starting with the digit left of the check.
  int sum = 0;
  for (int i = static_cast<int>(digits.size()) - 1, k = 0; i >= 0; --i, ++k) {
    int d = digits[i] - '0';
    if (k % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartMembership(
    testing::MariaDbServer& db, const testing::TestTokens& tokens, std::string_view prefix) {
  auto schema = testing::CreateTestSchema(db, prefix);
  if (!schema.ok()) return schema.status();
  const auto db_args = [&](const platform::db::DbConfig& c) {
    return std::vector<std::string>{"--db_host=" + c.host, absl::StrCat("--db_port=", c.port),
                                    "--db_user=" + c.user, "--db_schema=" + c.schema};
  };
  auto migrated = testing::RunCommand(MEMBERSHIP_SERVER,
                                      [&] {
                                        auto a = db_args(schema->migrator);
                                        a.push_back("--migrate_only");
                                        return a;
                                      }(),
                                      {{"CPTS_DB_PASSWORD", schema->migrator.password}});
  if (!migrated.ok()) return migrated.status();
  if (migrated->exit_code != 0) {
    return absl::InternalError(absl::StrCat("migrations failed:\n", migrated->output));
  }
  std::vector<std::string> args = db_args(schema->app);
  for (auto& a : tokens.ServerArgs()) args.push_back(a);
  args.push_back("--grpc_threads=4");
  return testing::ServiceProcess::Start(MEMBERSHIP_SERVER, args,
                                        {{"CPTS_DB_PASSWORD", schema->app.password}});
}

void MembershipE2e::SetUp() {
  auto tokens = testing::TestTokens::Create();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  tokens_ = std::make_unique<testing::TestTokens>(*std::move(tokens));
  auto server = StartMembership(testing::SharedMariaDb(), *tokens_, "e2e_membership");
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  channel_ = grpc::CreateChannel(server_->grpc_target(), grpc::InsecureChannelCredentials());
  stub_ = v1::MembershipService::NewStub(channel_);
  auto tenant = CreateTenant("CPTS du Val Fictif");
  ASSERT_TRUE(tenant.ok()) << tenant.status();
  tenant_ = tenant->id();
}

std::unique_ptr<grpc::ClientContext> MembershipE2e::Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::string MembershipE2e::AdminToken() const {
  return tokens_->Mint({.roles = {"platform_admin"}, .subject = "admin-1"});
}

std::string MembershipE2e::Token(const std::string& tenant, std::vector<std::string> roles,
                                 const std::string& member_id) const {
  return tokens_->Mint({.roles = std::move(roles),
                        .tenant_id = tenant,
                        .subject = "user-" + (member_id.empty() ? tenant : member_id),
                        .member_id = member_id});
}

absl::StatusOr<v1::Tenant> MembershipE2e::CreateTenant(const std::string& name) {
  v1::CreateTenantRequest req;
  req.mutable_tenant()->set_name(name);
  req.mutable_tenant()->set_size(2);
  req.mutable_tenant()->add_territory_communes("33529");
  req.mutable_tenant()->add_territory_communes("33051");
  v1::CreateTenantResponse resp;
  const grpc::Status st = stub_->CreateTenant(Ctx(AdminToken()).get(), req, &resp);
  if (!st.ok()) return absl::InternalError(st.error_message());
  return resp.tenant();
}

v1::Member MembershipE2e::ValidPerson(int n) {
  v1::Member m;
  m.set_kind(v1::MEMBER_KIND_PERSON);
  m.set_given_name(absl::StrCat("Prénom", n));
  m.set_family_name(absl::StrCat("Testeur-", 1000 + n));
  m.set_profession_code("MEDECIN_GENERALISTE");
  m.set_rpps(ValidRpps(n));
  m.set_exercise_mode(v1::EXERCISE_MODE_LIBERAL);
  m.add_practice_places()->set_commune_insee("33529");
  m.mutable_contact()->set_email(absl::StrCat("pro", n, "@example.org"));
  m.mutable_contact()->set_phone("06 12 34 56 78");
  return m;
}

v1::Member MembershipE2e::CreateActiveMember(const std::string& tenant, int n) {
  const std::string coordinator = Token(tenant, {"coordinator"});
  v1::CreateMemberRequest create;
  *create.mutable_member() = ValidPerson(n);
  create.set_request_id(absl::StrCat("create-", tenant, "-", n));
  v1::CreateMemberResponse created;
  grpc::Status st = stub_->CreateMember(Ctx(coordinator).get(), create, &created);
  EXPECT_TRUE(st.ok()) << st.error_message();
  v1::ApproveAdhesionRequest approve;
  approve.set_member_id(created.member().id());
  v1::ApproveAdhesionResponse approved;
  st = stub_->ApproveAdhesion(Ctx(coordinator).get(), approve, &approved);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return approved.member();
}

}  // namespace cpts::e2e
