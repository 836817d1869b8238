#include "services/platform/server/rpc_server.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "cpts/testing/v1/echo.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/auth/jwt_verifier.h"

namespace cpts::platform {
namespace {

using ::cpts::testing::v1::EchoRequest;
using ::cpts::testing::v1::EchoResponse;
using ::cpts::testing::v1::EchoService;
using ::testing::HasSubstr;

// Set by the handler when a slow call is inside it, so tests need not guess with sleeps.
std::atomic<bool> g_slow_call_started{false};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_dir_ =
        std::filesystem::temp_directory_path() / ("rpc_server_test_" + std::to_string(::getpid()));
    ASSERT_TRUE(auth::GenerateDevKeys(key_dir_.string()).ok());
    private_key_ = ReadAll(key_dir_ / "dev-jwt-private.pem");
    auto verifier = auth::JwtVerifier::Create(
        {.issuer = "test", .audience = "cpts", .public_key_file = key_dir_ / "dev-jwt-public.pem"},
        clock_);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *std::move(verifier);

    server_ = std::make_unique<RpcServer>(RpcServerOptions{.address = "127.0.0.1", .threads = 4},
                                          verifier_.get(), metrics_);
    auto* svc = server_->AddService<EchoService>();
    server_->AddUnary(
        svc, &EchoService::AsyncService::RequestEcho, "Echo", AllowRoles({"coordinator"}),
        RpcServer::Handler<EchoRequest, EchoResponse>(
            [](const CallContext& call, const EchoRequest& req, EchoResponse* resp) {
              if (req.delay_ms() > 0) {
                g_slow_call_started = true;
                std::this_thread::sleep_for(std::chrono::milliseconds(req.delay_ms()));
              }
              if (req.fail_with_code() != 0) {
                return absl::Status(static_cast<absl::StatusCode>(req.fail_with_code()),
                                    "field message: bad");
              }
              resp->set_message(req.message());
              resp->set_tenant_id(call.principal.tenant_id);
              resp->set_subject(call.principal.subject);
              return absl::OkStatus();
            }));
    ASSERT_TRUE(server_->Start().ok());
    server_->SetServing(true);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = EchoService::NewStub(channel_);
  }

  void TearDown() override {
    server_->Shutdown(absl::Seconds(1));
    std::filesystem::remove_all(key_dir_);
  }

  std::string Token(std::vector<std::string> roles, std::string tenant = "t1",
                    absl::Time issued_at = absl::Now()) {
    auto token = auth::MintToken({.issuer = "test",
                                  .audience = "cpts",
                                  .subject = "user-1",
                                  .tenant_id = std::move(tenant),
                                  .roles = std::move(roles),
                                  .issued_at = issued_at,
                                  .ttl = absl::Hours(1)},
                                 private_key_);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  grpc::Status Call(const std::string& token, const EchoRequest& req, EchoResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    return stub_->Echo(&ctx, req, resp);
  }

  SystemClock clock_;
  std::filesystem::path key_dir_;
  std::string private_key_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
  MetricsRegistry metrics_;
  std::unique_ptr<RpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(RpcServerTest, VerifiedCallerReachesTheHandler) {
  EchoRequest req;
  req.set_message("bonjour");
  EchoResponse resp;
  const grpc::Status st = Call(Token({"coordinator"}), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.message(), "bonjour");
  EXPECT_EQ(resp.tenant_id(), "t1");
  EXPECT_EQ(resp.subject(), "user-1");
}

TEST_F(RpcServerTest, NoTokenIsUnauthenticated) {
  EchoResponse resp;
  EXPECT_EQ(Call("", EchoRequest(), &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RpcServerTest, GarbageTokenIsUnauthenticated) {
  EchoResponse resp;
  EXPECT_EQ(Call("not.a.token", EchoRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RpcServerTest, ExpiredTokenIsUnauthenticated) {
  EchoResponse resp;
  EXPECT_EQ(Call(Token({"coordinator"}, "t1", absl::Now() - absl::Hours(2)), EchoRequest(), &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RpcServerTest, WrongRoleIsPermissionDenied) {
  EchoResponse resp;
  EXPECT_EQ(Call(Token({"member"}), EchoRequest(), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RpcServerTest, TokenWithoutTenantIsPermissionDenied) {
  EchoResponse resp;
  EXPECT_EQ(Call(Token({"coordinator", "platform_admin"}, ""), EchoRequest(), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RpcServerTest, HandlerErrorsKeepCodeAndMessage) {
  EchoRequest req;
  req.set_fail_with_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
  EchoResponse resp;
  const grpc::Status st = Call(Token({"coordinator"}), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "field message: bad");
}

TEST_F(RpcServerTest, MetricsCountCallsByCode) {
  EchoResponse resp;
  ASSERT_TRUE(Call(Token({"coordinator"}), EchoRequest(), &resp).ok());
  (void)Call("", EchoRequest(), &resp);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_THAT(text,
              HasSubstr("grpc_method=\"/cpts.testing.v1.EchoService/Echo\",grpc_code=\"OK\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_code=\"UNAUTHENTICATED\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_workers{state=\"busy\"} 0"));
  EXPECT_THAT(text, HasSubstr("grpc_workers{state=\"idle\"} 4"));
}

TEST_F(RpcServerTest, HealthAndConcurrentCalls) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest hreq;
  hreq.set_service("cpts.testing.v1.EchoService");
  grpc::health::v1::HealthCheckResponse hresp;
  ASSERT_TRUE(health->Check(&ctx, hreq, &hresp).ok());
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  const std::string token = Token({"coordinator"});
  std::vector<std::thread> clients;
  clients.reserve(8);
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < 25; ++j) {
        EchoRequest req;
        req.set_message("x");
        EchoResponse resp;
        if (Call(token, req, &resp).ok() && resp.message() == "x") ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(RpcServerTest, ShutdownLetsInFlightCallsFinish) {
  const std::string token = Token({"coordinator"});
  g_slow_call_started = false;
  grpc::Status slow_status;
  EchoResponse slow_resp;
  std::thread slow([&] {
    EchoRequest req;
    req.set_message("slow");
    req.set_delay_ms(300);
    slow_status = Call(token, req, &slow_resp);
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!g_slow_call_started && absl::Now() < give_up) std::this_thread::yield();
  ASSERT_TRUE(g_slow_call_started);
  server_->Shutdown(absl::Seconds(5));
  slow.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(slow_resp.message(), "slow");
  EchoResponse resp;
  EXPECT_FALSE(Call(token, EchoRequest(), &resp).ok());
}

TEST_F(RpcServerTest, LameDuckReportsNotServingAndStillServes) {
  server_->EnterLameDuck();
  server_->SetServing(true);  // what the database watch may do meanwhile
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest hreq;
  hreq.set_service("cpts.testing.v1.EchoService");
  grpc::health::v1::HealthCheckResponse hresp;
  ASSERT_TRUE(health->Check(&ctx, hreq, &hresp).ok());
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EchoRequest req;
  req.set_message("still here");
  EchoResponse resp;
  const grpc::Status st = Call(Token({"coordinator"}), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.message(), "still here");
}

TEST_F(RpcServerTest, RefusedNewCallIsUnavailableWhileInFlightCallFinishes) {
  const std::string token = Token({"coordinator"});
  g_slow_call_started = false;
  grpc::Status slow_status;
  EchoResponse slow_resp;
  std::thread slow([&] {
    EchoRequest req;
    req.set_message("slow");
    req.set_delay_ms(300);
    slow_status = Call(token, req, &slow_resp);
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (!g_slow_call_started && absl::Now() < give_up) std::this_thread::yield();
  ASSERT_TRUE(g_slow_call_started);

  server_->RefuseNewCalls();
  EchoRequest req;
  req.set_message("new");
  EchoResponse resp;
  const grpc::Status refused = Call(token, req, &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(refused.error_message(), "server is shutting down");
  EXPECT_FALSE(server_->WaitForCallsInFlight(absl::Now())) << "the slow call is in flight";

  EXPECT_TRUE(server_->WaitForCallsInFlight(absl::Now() + absl::Seconds(5)));
  slow.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(slow_resp.message(), "slow");
  EXPECT_THAT(metrics_.RenderPrometheus(), HasSubstr("grpc_code=\"UNAVAILABLE\"} 1"));
  server_->Shutdown(absl::Seconds(1));
  EXPECT_EQ(Call(token, req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace cpts::platform
