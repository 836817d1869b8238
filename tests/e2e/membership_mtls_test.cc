// The membership server with mutual TLS, as production runs it (deploy/overlays/prod): the real
// binary with --tls_cert_file/--tls_key_file/--tls_client_ca_file/--tls_require_client_cert and
// certificates made by scripts/make-dev-certs.sh. Only a client presenting a certificate of the
// local CA gets through the handshake; the bearer token is still checked after it.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::membership::v1;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs scripts/make-dev-certs.sh DIR; fails the test on error.
void MakeCerts(const std::filesystem::path& dir) {
  auto made = testing::RunCommand(
      "/bin/bash", {std::string(CPTS_SOURCE_DIR) + "/scripts/make-dev-certs.sh", dir.string()});
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->exit_code, 0) << made->output;
}

class MembershipMtls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cpts-mtls.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::filesystem::path(tmpl);
    MakeCerts(*dir_ / "pki");
    MakeCerts(*dir_ / "other-pki");  // a second, unrelated CA

    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = new testing::TestTokens(*std::move(tokens));

    testing::MariaDbServer& db = testing::SharedMariaDb();
    auto schema = testing::CreateTestSchema(db, "e2e_mtls");
    ASSERT_TRUE(schema.ok()) << schema.status();
    const auto db_args = [](const platform::db::DbConfig& c) {
      return std::vector<std::string>{"--db_host=" + c.host, absl::StrCat("--db_port=", c.port),
                                      "--db_user=" + c.user, "--db_schema=" + c.schema};
    };
    std::vector<std::string> migrate = db_args(schema->migrator);
    migrate.push_back("--migrate_only");
    auto migrated = testing::RunCommand(MEMBERSHIP_SERVER, migrate,
                                        {{"CPTS_DB_PASSWORD", schema->migrator.password}});
    ASSERT_TRUE(migrated.ok()) << migrated.status();
    ASSERT_EQ(migrated->exit_code, 0) << migrated->output;

    const std::filesystem::path pki = *dir_ / "pki";
    std::vector<std::string> args = db_args(schema->app);
    for (auto& a : tokens_->ServerArgs()) args.push_back(a);
    args.push_back("--grpc_threads=4");
    args.push_back("--tls_cert_file=" + (pki / "server.crt").string());
    args.push_back("--tls_key_file=" + (pki / "server.key").string());
    args.push_back("--tls_client_ca_file=" + (pki / "ca.crt").string());
    args.push_back("--tls_require_client_cert");
    args.push_back("--enable_reflection=false");
    auto server = testing::ServiceProcess::Start(MEMBERSHIP_SERVER, args,
                                                 {{"CPTS_DB_PASSWORD", schema->app.password}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }

  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0) << server_->ReadLog();
    }
    delete server_;
    server_ = nullptr;
    delete tokens_;
    tokens_ = nullptr;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the server did not start (see the suite's set-up)";
  }

  // TLS credentials trusting the local CA, presenting `client` (DIR/<client>.crt/.key) unless
  // empty; `pki` selects which CA issued the client certificate.
  static std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& client,
                                                       const std::string& pki = "pki") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(*dir_ / "pki" / "ca.crt");
    if (!client.empty()) {
      options.pem_cert_chain = ReadFile(*dir_ / pki / (client + ".crt"));
      options.pem_private_key = ReadFile(*dir_ / pki / (client + ".key"));
    }
    return grpc::SslCredentials(options);
  }

  // ListTenants as a platform admin over a fresh channel with `credentials`.
  static grpc::Status ListTenants(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                                  bool with_token = true) {
    auto stub =
        v1::MembershipService::NewStub(grpc::CreateChannel(server_->grpc_target(), credentials));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (with_token) {
      ctx.AddMetadata("authorization",
                      "Bearer " + tokens_->Mint({.roles = {"platform_admin"}, .subject = "admin"}));
    }
    v1::ListTenantsResponse response;
    return stub->ListTenants(&ctx, v1::ListTenantsRequest(), &response);
  }

  static std::filesystem::path* dir_;
  static testing::TestTokens* tokens_;
  static testing::ServiceProcess* server_;
};

std::filesystem::path* MembershipMtls::dir_ = nullptr;
testing::TestTokens* MembershipMtls::tokens_ = nullptr;
testing::ServiceProcess* MembershipMtls::server_ = nullptr;

TEST_F(MembershipMtls, ServiceClientWithCertificateAndTokenSucceeds) {
  const grpc::Status st = ListTenants(Tls("client-projects"));
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
}

TEST_F(MembershipMtls, PartnerClientWithCertificateAndTokenSucceeds) {
  const grpc::Status st = ListTenants(Tls("client-partner"));
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
}

TEST_F(MembershipMtls, HealthIsServedOverMtls) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server_->grpc_target(), Tls("client-access")));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status st = stub->Check(&ctx, {}, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// mTLS authenticates the caller's machine identity; the bearer token is still required.
TEST_F(MembershipMtls, CertificateWithoutTokenIsUnauthenticated) {
  const grpc::Status st = ListTenants(Tls("client-finance"), /*with_token=*/false);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
}

TEST_F(MembershipMtls, ClientWithoutCertificateIsRefusedAtHandshake) {
  const grpc::Status st = ListTenants(Tls(""));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

TEST_F(MembershipMtls, ClientCertificateFromAnotherCaIsRefused) {
  const grpc::Status st = ListTenants(Tls("client-projects", "other-pki"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

TEST_F(MembershipMtls, PlaintextClientIsRefused) {
  const grpc::Status st = ListTenants(grpc::InsecureChannelCredentials());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

// A client that does not trust the server's CA refuses the server, too.
TEST_F(MembershipMtls, ServerCertificateIsVerifiedByTheClient) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(*dir_ / "other-pki" / "ca.crt");
  options.pem_cert_chain = ReadFile(*dir_ / "pki" / "client-projects.crt");
  options.pem_private_key = ReadFile(*dir_ / "pki" / "client-projects.key");
  const grpc::Status st = ListTenants(grpc::SslCredentials(options));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
}

}  // namespace
}  // namespace cpts::e2e
