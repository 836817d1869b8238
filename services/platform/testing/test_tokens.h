#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cpts::testing {

// A signing key pair in a temp folder and a minting helper, for tests that call real servers
// with real tokens. The issuer and audience match what StandardServerArgs passes.
class TestTokens {
 public:
  static constexpr char kIssuer[] = "cpts-test";
  static constexpr char kAudience[] = "cpts";

  static absl::StatusOr<TestTokens> Create();
  ~TestTokens();
  TestTokens(TestTokens&&) noexcept;
  TestTokens& operator=(TestTokens&&) = delete;
  TestTokens(const TestTokens&) = delete;

  struct Claims {
    std::vector<std::string> roles{};
    std::string tenant_id{};
    std::string subject = "test-user";
    std::string member_id{};
    absl::Duration ttl = absl::Hours(1);
    std::string audience = kAudience;
    absl::Time issued_at = absl::Now();
  };
  std::string Mint(const Claims& claims) const;

  const std::string& public_key_file() const { return public_key_file_; }
  // The signing key, for a server that calls its peers (--service_key_file).
  std::string private_key_file() const { return dir_ + "/dev-jwt-private.pem"; }
  // --jwt_* flags for a server that must accept these tokens.
  std::vector<std::string> ServerArgs() const;

 private:
  TestTokens() = default;
  std::string dir_;
  std::string public_key_file_;
  std::string private_key_pem_;
};

}  // namespace cpts::testing
