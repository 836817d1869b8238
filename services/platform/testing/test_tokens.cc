#include "services/platform/testing/test_tokens.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "services/platform/auth/jwt_verifier.h"

namespace cpts::testing {

absl::StatusOr<TestTokens> TestTokens::Create() {
  TestTokens t;
  char tmpl[] = "/tmp/cpts-keys.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  t.dir_ = tmpl;
  if (auto s = platform::auth::GenerateDevKeys(t.dir_); !s.ok()) return s;
  t.public_key_file_ = t.dir_ + "/dev-jwt-public.pem";
  std::ifstream in(t.dir_ + "/dev-jwt-private.pem");
  std::stringstream s;
  s << in.rdbuf();
  t.private_key_pem_ = s.str();
  return t;
}

TestTokens::TestTokens(TestTokens&& other) noexcept
    : dir_(std::move(other.dir_)),
      public_key_file_(std::move(other.public_key_file_)),
      private_key_pem_(std::move(other.private_key_pem_)) {
  other.dir_.clear();
}

TestTokens::~TestTokens() {
  if (dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestTokens::Mint(const Claims& claims) const {
  auto token = platform::auth::MintToken({.issuer = kIssuer,
                                          .audience = claims.audience,
                                          .subject = claims.subject,
                                          .tenant_id = claims.tenant_id,
                                          .member_id = claims.member_id,
                                          .roles = claims.roles,
                                          .issued_at = claims.issued_at,
                                          .ttl = claims.ttl},
                                         private_key_pem_);
  // A test that cannot mint cannot run: make that loud.
  if (!token.ok()) std::abort();
  return *token;
}

std::vector<std::string> TestTokens::ServerArgs() const {
  return {std::string("--jwt_issuer=") + kIssuer, std::string("--jwt_audience=") + kAudience,
          "--jwt_public_key_file=" + public_key_file_};
}

}  // namespace cpts::testing
