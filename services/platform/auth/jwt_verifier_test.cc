#include "services/platform/auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/platform/auth/jwt_internal.h"
#include "services/platform/auth/verified_token_cache.h"
#include "services/platform/core/clock.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::auth {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using internal::EvpPkeyPtr;
using internal::KeyType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://idp.test";
constexpr char kAudience[] = "cpts";
constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::string MakeTempDir() {
  std::string pattern = absl::StrCat(::testing::TempDir(), "/jwt_test_XXXXXX");
  const char* dir = ::mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr);
  return pattern;
}

void WriteText(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadText(const std::string& path) {
  absl::StatusOr<std::string> contents = internal::ReadFile(path);
  EXPECT_THAT(contents, IsOk()) << path;
  return contents.ok() ? *contents : std::string();
}

EvpPkeyPtr NewKey(KeyType type) {
  absl::StatusOr<EvpPkeyPtr> key = internal::GenerateKey(type);
  EXPECT_THAT(key, IsOk());
  return key.ok() ? std::move(*key) : nullptr;
}

std::string PrivatePem(EVP_PKEY* key) { return internal::PrivateKeyToPem(key).value_or(""); }
std::string PublicPem(EVP_PKEY* key) { return internal::PublicKeyToPem(key).value_or(""); }

// A token with arbitrary header and payload JSON, signed as RS256/ES256 with `key`.
std::string SignedToken(EVP_PKEY* key, const std::string& header, const std::string& payload) {
  const KeyType type = internal::KeyTypeOf(key).value();
  std::string input =
      absl::StrCat(internal::Base64UrlEncode(header), ".", internal::Base64UrlEncode(payload));
  const std::string signature = internal::Sign(key, type, input).value();
  return absl::StrCat(input, ".", internal::Base64UrlEncode(signature));
}

std::string Header(const std::string& alg, const std::string& kid = "") {
  std::string header = absl::StrCat("{\"alg\":\"", alg, "\",\"typ\":\"JWT\"");
  if (!kid.empty()) {
    absl::StrAppend(&header, ",\"kid\":\"", kid, "\"");
  }
  return header + "}";
}

// A JSON object from its members; StandardClaims() are those of a valid token at kNow.
std::string Claims(const std::string& members) { return absl::StrCat("{", members, "}"); }
std::string StandardClaims() {
  return absl::StrCat("\"iss\":\"", kIssuer, "\",\"aud\":\"", kAudience,
                      "\",\"sub\":\"user-1\",\"tenant_id\":\"cpts-lyon\",\"roles\":[\"member\"],"
                      "\"iat\":",
                      absl::ToUnixSeconds(kNow), ",\"exp\":", absl::ToUnixSeconds(kNow) + 3600);
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec_key_ = NewKey(KeyType::kEcP256).release();
    other_ec_key_ = NewKey(KeyType::kEcP256).release();
    rsa_key_ = NewKey(KeyType::kRsa).release();
    dir_ = new std::string(MakeTempDir());
    WriteText(Path("ec.pem"), PublicPem(ec_key_));
    WriteText(Path("rsa.pem"), PublicPem(rsa_key_));
    const std::string jwks = absl::StrCat(
        "{\"keys\": [", internal::PublicKeyToJwk(ec_key_, "ec-1").value(), ", ",
        internal::PublicKeyToJwk(rsa_key_, "rsa-1").value(), ", ",
        internal::PublicKeyToJwk(other_ec_key_, "ec-2").value(),
        // Skipped, not fatal: an HMAC key and an encryption key, as an IdP's JWKS may hold.
        ", {\"kty\": \"oct\", \"kid\": \"hmac\", \"k\": \"c2VjcmV0\"}",
        ", {\"kty\": \"EC\", \"crv\": \"P-384\", \"kid\": \"p384\", \"x\": \"AA\", \"y\": \"AA\"}"
        "]}");
    WriteText(Path("jwks.json"), jwks);
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(ec_key_);
    EVP_PKEY_free(other_ec_key_);
    EVP_PKEY_free(rsa_key_);
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }
  static std::string Path(const std::string& file) { return absl::StrCat(*dir_, "/", file); }

  JwtConfig Config() const {
    JwtConfig config;
    config.issuer = kIssuer;
    config.audience = kAudience;
    return config;
  }
  std::unique_ptr<JwtVerifier> MakeVerifier(const JwtConfig& config) {
    absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier = JwtVerifier::Create(config, clock_);
    EXPECT_THAT(verifier, IsOk());
    return verifier.ok() ? std::move(*verifier) : nullptr;
  }
  std::unique_ptr<JwtVerifier> PemVerifier(const std::string& file) {
    JwtConfig config = Config();
    config.public_key_file = Path(file);
    return MakeVerifier(config);
  }
  std::unique_ptr<JwtVerifier> JwksVerifier() {
    JwtConfig config = Config();
    config.jwks_file = Path("jwks.json");
    return MakeVerifier(config);
  }

  static MintOptions Options() {
    MintOptions options;
    options.issuer = kIssuer;
    options.audience = kAudience;
    options.subject = "user-1";
    options.tenant_id = "cpts-lyon";
    options.member_id = "m-42";
    options.roles = {"coordinator", "member"};
    options.issued_at = kNow;
    return options;
  }
  static std::string Mint(const MintOptions& options, EVP_PKEY* key) {
    absl::StatusOr<std::string> token = MintToken(options, PrivatePem(key));
    EXPECT_THAT(token, IsOk());
    return token.value_or("");
  }

  static EVP_PKEY* ec_key_;
  static EVP_PKEY* other_ec_key_;
  static EVP_PKEY* rsa_key_;
  static std::string* dir_;
  FakeClock clock_{kNow};
};

EVP_PKEY* JwtVerifierTest::ec_key_ = nullptr;
EVP_PKEY* JwtVerifierTest::other_ec_key_ = nullptr;
EVP_PKEY* JwtVerifierTest::rsa_key_ = nullptr;
std::string* JwtVerifierTest::dir_ = nullptr;

void ExpectPrincipal(const absl::StatusOr<Principal>& principal) {
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->tenant_id, "cpts-lyon");
  EXPECT_EQ(principal->subject, "user-1");
  EXPECT_EQ(principal->member_id, "m-42");
  EXPECT_THAT(principal->roles, ElementsAre("coordinator", "member"));
}

TEST_F(JwtVerifierTest, AcceptsEs256WithPemKey) {
  ExpectPrincipal(PemVerifier("ec.pem")->Verify(Mint(Options(), ec_key_)));
}

TEST_F(JwtVerifierTest, AcceptsRs256WithPemKey) {
  ExpectPrincipal(PemVerifier("rsa.pem")->Verify(Mint(Options(), rsa_key_)));
}

TEST_F(JwtVerifierTest, PemKeyMatchesAnyKid) {
  MintOptions options = Options();
  options.kid = "whatever";
  ExpectPrincipal(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)));
}

TEST_F(JwtVerifierTest, AcceptsEs256AndRs256WithJwksSelectedByKid) {
  auto verifier = JwksVerifier();
  MintOptions options = Options();
  options.kid = "ec-1";
  ExpectPrincipal(verifier->Verify(Mint(options, ec_key_)));
  options.kid = "ec-2";
  ExpectPrincipal(verifier->Verify(Mint(options, other_ec_key_)));
  options.kid = "rsa-1";
  ExpectPrincipal(verifier->Verify(Mint(options, rsa_key_)));
  // No kid: every key of the right type is tried.
  options.kid = "";
  ExpectPrincipal(verifier->Verify(Mint(options, other_ec_key_)));
}

TEST_F(JwtVerifierTest, KidSelectsTheKeyThatMustHaveSigned) {
  MintOptions options = Options();
  options.kid = "ec-1";
  EXPECT_THAT(JwksVerifier()->Verify(Mint(options, other_ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "bad signature"));
}

TEST_F(JwtVerifierTest, PemAndJwksTogether) {
  JwtConfig config = Config();
  config.public_key_file = Path("rsa.pem");
  config.jwks_file = Path("jwks.json");
  auto verifier = MakeVerifier(config);
  ExpectPrincipal(verifier->Verify(Mint(Options(), rsa_key_)));
  MintOptions options = Options();
  options.kid = "ec-1";
  ExpectPrincipal(verifier->Verify(Mint(options, ec_key_)));
}

TEST_F(JwtVerifierTest, RejectsUnknownKid) {
  MintOptions options = Options();
  options.kid = "retired";
  EXPECT_THAT(JwksVerifier()->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "unknown kid"));
}

TEST_F(JwtVerifierTest, RejectsExpiredToken) {
  MintOptions options = Options();
  options.issued_at = kNow - absl::Hours(2);
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST_F(JwtVerifierTest, LeewayToleratesSmallSkewOnExp) {
  MintOptions options = Options();
  options.issued_at = kNow - absl::Hours(1) - absl::Seconds(29);  // expired 29 s ago
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)), IsOk());
  options.issued_at = kNow - absl::Hours(1) - absl::Seconds(30);
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST_F(JwtVerifierTest, CacheHitStillExpiresTheToken) {
  auto verifier = PemVerifier("ec.pem");
  const std::string token = Mint(Options(), ec_key_);
  ASSERT_THAT(verifier->Verify(token), IsOk());
  clock_.Advance(absl::Hours(1) + absl::Seconds(29));
  ExpectPrincipal(verifier->Verify(token));  // served from the cache, still within leeway
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated, "token expired"));
}

TEST_F(JwtVerifierTest, RejectsTokenNotYetValid) {
  auto verifier = PemVerifier("ec.pem");
  const std::string token = SignedToken(
      ec_key_, Header("ES256"),
      Claims(absl::StrCat(StandardClaims(), ",\"nbf\":", absl::ToUnixSeconds(kNow) + 60)));
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated, "token not yet valid"));
  clock_.Advance(absl::Seconds(30));  // nbf is now within the leeway
  EXPECT_THAT(verifier->Verify(token), IsOk());
  clock_.Set(kNow);  // and a cache hit re-checks nbf too
  EXPECT_THAT(verifier->Verify(token),
              StatusIs(absl::StatusCode::kUnauthenticated, "token not yet valid"));
}

TEST_F(JwtVerifierTest, RejectsTokenIssuedInTheFuture) {
  MintOptions options = Options();
  options.issued_at = kNow + absl::Minutes(5);
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "token issued in the future"));
}

TEST_F(JwtVerifierTest, RejectsWrongIssuer) {
  MintOptions options = Options();
  options.issuer = "https://evil.test";
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong issuer"));
}

TEST_F(JwtVerifierTest, RejectsWrongAudience) {
  MintOptions options = Options();
  options.audience = "someone-else";
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(options, ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong audience"));
}

TEST_F(JwtVerifierTest, AudienceMayBeAnArray) {
  auto verifier = PemVerifier("ec.pem");
  const std::string rest =
      absl::StrCat("\"iss\":\"", kIssuer, "\",\"sub\":\"user-1\",\"tenant_id\":\"cpts-lyon\",",
                   "\"roles\":[\"member\"],\"exp\":", absl::ToUnixSeconds(kNow) + 3600);
  EXPECT_THAT(
      verifier->Verify(SignedToken(ec_key_, Header("ES256"),
                                   Claims(absl::StrCat("\"aud\":[\"other\",\"cpts\"],", rest)))),
      IsOk());
  EXPECT_THAT(verifier->Verify(SignedToken(ec_key_, Header("ES256"),
                                           Claims(absl::StrCat("\"aud\":[\"other\"],", rest)))),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong audience"));
  EXPECT_THAT(verifier->Verify(SignedToken(ec_key_, Header("ES256"), Claims(rest))),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong audience"));
}

TEST_F(JwtVerifierTest, RejectsMissingRequiredClaims) {
  auto verifier = PemVerifier("ec.pem");
  const std::string base = absl::StrCat("\"iss\":\"", kIssuer, "\",\"aud\":\"", kAudience,
                                        "\",\"exp\":", absl::ToUnixSeconds(kNow) + 3600);
  const auto verify = [&](const std::string& members) {
    return verifier->Verify(
        SignedToken(ec_key_, Header("ES256"), Claims(absl::StrCat(base, ",", members))));
  };
  EXPECT_THAT(verify(R"("tenant_id":"t","roles":["member"])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing sub"));
  EXPECT_THAT(verify(R"("sub":"","tenant_id":"t","roles":["member"])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing sub"));
  EXPECT_THAT(verify(R"("sub":"u","tenant_id":"t")"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing roles"));
  EXPECT_THAT(verify(R"("sub":"u","tenant_id":"t","roles":[])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing roles"));
  EXPECT_THAT(verify(R"("sub":"u","tenant_id":"t","roles":"member")"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing roles"));
  EXPECT_THAT(verify(R"("sub":"u","tenant_id":"t","roles":["member",7])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "malformed roles"));
  EXPECT_THAT(verify(R"("sub":"u","roles":["member"])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing tenant_id"));
  EXPECT_THAT(verify(R"("sub":"u","tenant_id":42,"roles":["member"])"),
              StatusIs(absl::StatusCode::kUnauthenticated, "malformed tenant_id"));
  EXPECT_THAT(verifier->Verify(SignedToken(
                  ec_key_, Header("ES256"),
                  Claims(absl::StrCat("\"iss\":\"", kIssuer, "\",\"aud\":\"", kAudience,
                                      R"(","sub":"u","tenant_id":"t","roles":["member"])")))),
              StatusIs(absl::StatusCode::kUnauthenticated, "missing exp"));
  EXPECT_THAT(verifier->Verify(
                  SignedToken(ec_key_, Header("ES256"),
                              Claims(absl::StrCat("\"iss\":\"", kIssuer, "\",\"aud\":\"", kAudience,
                                                  R"(","exp":"soon","sub":"u","tenant_id":"t",)",
                                                  R"("roles":["member"])")))),
              StatusIs(absl::StatusCode::kUnauthenticated, "malformed exp"));
}

TEST_F(JwtVerifierTest, PlatformAdminNeedsNoTenant) {
  MintOptions options = Options();
  options.tenant_id = "";
  options.member_id = "";
  options.roles = {"platform_admin"};
  absl::StatusOr<Principal> principal = PemVerifier("ec.pem")->Verify(Mint(options, ec_key_));
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->tenant_id, "");
  EXPECT_EQ(principal->member_id, "");
  EXPECT_TRUE(principal->HasRole(roles::kPlatformAdmin));
}

TEST_F(JwtVerifierTest, RejectsTamperedPayload) {
  const std::string token = Mint(Options(), ec_key_);
  const size_t first = token.find('.');
  const size_t second = token.rfind('.');
  MintOptions forged = Options();
  forged.roles = {"platform_admin"};
  const std::string forged_token = Mint(forged, ec_key_);
  const std::string forged_payload =
      forged_token.substr(forged_token.find('.'), forged_token.rfind('.') - forged_token.find('.'));
  const std::string tampered =
      absl::StrCat(token.substr(0, first), forged_payload, token.substr(second));
  ASSERT_NE(tampered, token);
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(tampered),
              StatusIs(absl::StatusCode::kUnauthenticated, "bad signature"));
}

TEST_F(JwtVerifierTest, RejectsSignatureByAnotherKey) {
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(Options(), other_ec_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "bad signature"));
}

TEST_F(JwtVerifierTest, RejectsAlgNone) {
  const std::string unsigned_token =
      absl::StrCat(internal::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})"), ".",
                   internal::Base64UrlEncode(Claims(StandardClaims())), ".");
  auto verifier = PemVerifier("ec.pem");
  EXPECT_THAT(verifier->Verify(unsigned_token),
              StatusIs(absl::StatusCode::kUnauthenticated, "unsupported algorithm"));
  EXPECT_THAT(verifier->Verify(unsigned_token.substr(0, unsigned_token.size() - 1)),
              StatusIs(absl::StatusCode::kUnauthenticated, "malformed token"));
}

TEST_F(JwtVerifierTest, RejectsHs256SignedWithThePublicKeyAsSecret) {
  // The classic algorithm confusion: a verifier that hands "the key" to whatever alg the
  // header names would accept this, since the public PEM is no secret.
  for (const char* file : {"ec.pem", "rsa.pem"}) {
    const std::string secret = ReadText(Path(file));
    const std::string input =
        absl::StrCat(internal::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"), ".",
                     internal::Base64UrlEncode(Claims(StandardClaims())));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    ASSERT_NE(
        HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len),
        nullptr);
    const std::string token = absl::StrCat(
        input, ".",
        internal::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len)));
    EXPECT_THAT(PemVerifier(file)->Verify(token),
                StatusIs(absl::StatusCode::kUnauthenticated, "unsupported algorithm"))
        << file;
  }
}

TEST_F(JwtVerifierTest, RejectsAlgorithmThatDoesNotMatchTheKey) {
  // An RS256 token, validly signed by an RSA key, against a verifier that only has an EC key.
  EXPECT_THAT(PemVerifier("ec.pem")->Verify(Mint(Options(), rsa_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "algorithm does not match key"));
  // Same through the JWKS: the kid names the EC key, the header says RS256.
  MintOptions options = Options();
  options.kid = "ec-1";
  EXPECT_THAT(JwksVerifier()->Verify(Mint(options, rsa_key_)),
              StatusIs(absl::StatusCode::kUnauthenticated, "algorithm does not match key"));
  // And an ES256 header over an RSA signature, against an RSA-only verifier.
  const std::string rs256 = Mint(Options(), rsa_key_);
  const std::string relabelled =
      absl::StrCat(internal::Base64UrlEncode(Header("ES256")), rs256.substr(rs256.find('.')));
  EXPECT_THAT(PemVerifier("rsa.pem")->Verify(relabelled),
              StatusIs(absl::StatusCode::kUnauthenticated, "algorithm does not match key"));
}

TEST_F(JwtVerifierTest, RejectsDerEncodedEcdsaSignature) {
  // RFC 7518 wants r||s; OpenSSL's native DER form must not be accepted in its place.
  const std::string input = absl::StrCat(internal::Base64UrlEncode(Header("ES256")), ".",
                                         internal::Base64UrlEncode(Claims(StandardClaims())));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, ec_key_), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()),
            1);
  std::string der(len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  der.resize(len);
  EXPECT_THAT(
      PemVerifier("ec.pem")->Verify(absl::StrCat(input, ".", internal::Base64UrlEncode(der))),
      StatusIs(absl::StatusCode::kUnauthenticated, "bad signature"));
}

TEST_F(JwtVerifierTest, RejectsMalformedTokens) {
  auto verifier = PemVerifier("ec.pem");
  const std::string good = Mint(Options(), ec_key_);
  for (const std::string& token :
       {std::string(), std::string("abc"), std::string("a.b"), absl::StrCat(good, ".x"),
        absl::StrCat("!", good), absl::StrCat(good, "=="), std::string(9000, 'a'),
        absl::StrCat(internal::Base64UrlEncode("[1,2]"), good.substr(good.find('.'))),
        absl::StrCat(internal::Base64UrlEncode(R"({"alg":7})"), good.substr(good.find('.')))}) {
    EXPECT_THAT(verifier->Verify(token),
                StatusIs(absl::StatusCode::kUnauthenticated, "malformed token"))
        << token;
  }
  EXPECT_THAT(verifier->Verify(SignedToken(ec_key_, R"({"alg":"ES256","crit":["exp"]})",
                                           Claims(StandardClaims()))),
              StatusIs(absl::StatusCode::kUnauthenticated, "unsupported critical header"));
}

TEST_F(JwtVerifierTest, ConcurrentVerificationsAgree) {
  auto verifier = JwksVerifier();
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    MintOptions options = Options();
    options.kid = i % 2 == 0 ? "ec-1" : "rsa-1";
    options.subject = absl::StrCat("user-", i);
    tokens.push_back(Mint(options, i % 2 == 0 ? ec_key_ : rsa_key_));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 200; ++n) {
        const int i = (t + n) % 8;
        absl::StatusOr<Principal> principal = verifier->Verify(tokens[i]);
        if (!principal.ok() || principal->subject != absl::StrCat("user-", i)) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(JwtVerifierTest, CreateRejectsBadConfig) {
  const auto create = [this](const JwtConfig& config) {
    return JwtVerifier::Create(config, clock_);
  };
  JwtConfig config = Config();
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "jwks_file"));
  config.issuer = "";
  config.public_key_file = Path("ec.pem");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "issuer"));
  config = Config();
  config.audience = "";
  config.public_key_file = Path("ec.pem");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "audience"));
  config = Config();
  config.public_key_file = Path("ec.pem");
  config.leeway = absl::Hours(1);
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "leeway"));

  config = Config();
  config.public_key_file = Path("missing.pem");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "missing.pem"));
  config.public_key_file = Path("jwks.json");  // not a PEM
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "public_key_file"));

  WriteText(Path("private.pem"), PrivatePem(ec_key_));
  config.public_key_file = Path("private.pem");  // a private key is not accepted as public
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "private.pem"));

  absl::StatusOr<EvpPkeyPtr> small(
      EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024})));
  ASSERT_NE(small->get(), nullptr);
  WriteText(Path("rsa1024.pem"), PublicPem(small->get()));
  config.public_key_file = Path("rsa1024.pem");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "1024 bits"));

  config = Config();
  WriteText(Path("empty-jwks.json"), R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})");
  config.jwks_file = Path("empty-jwks.json");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "no RS256 or ES256"));
  WriteText(Path("bad-jwks.json"), R"({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
                                        "x": "AAAA", "y": "AAAA"}]})");
  config.jwks_file = Path("bad-jwks.json");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "kid \"k1\""));
  WriteText(Path("not-json.json"), "keys:");
  config.jwks_file = Path("not-json.json");
  EXPECT_THAT(create(config), StatusIs(absl::StatusCode::kInvalidArgument, "not-json.json"));
}

TEST_F(JwtVerifierTest, EcPointOffTheCurveIsRejected) {
  std::string x(32, '\0');
  std::string y(32, '\0');
  x[31] = 1;
  y[31] = 1;
  WriteText(Path("off-curve.json"),
            absl::StrCat(R"({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": ")",
                         internal::Base64UrlEncode(x), R"(", "y": ")", internal::Base64UrlEncode(y),
                         R"("}]})"));
  JwtConfig config = Config();
  config.jwks_file = Path("off-curve.json");
  EXPECT_THAT(JwtVerifier::Create(config, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, "not a valid key"));
}

TEST_F(JwtVerifierTest, MintTokenValidatesOptions) {
  const std::string pem = PrivatePem(ec_key_);
  MintOptions options = Options();
  options.subject = "";
  EXPECT_THAT(MintToken(options, pem), StatusIs(absl::StatusCode::kInvalidArgument, "subject"));
  options = Options();
  options.roles.clear();
  EXPECT_THAT(MintToken(options, pem), StatusIs(absl::StatusCode::kInvalidArgument, "role"));
  options = Options();
  options.tenant_id = "";
  EXPECT_THAT(MintToken(options, pem), StatusIs(absl::StatusCode::kInvalidArgument, "tenant_id"));
  options = Options();
  options.issued_at = absl::Time();
  EXPECT_THAT(MintToken(options, pem), StatusIs(absl::StatusCode::kInvalidArgument, "issued_at"));
  EXPECT_THAT(MintToken(Options(), PublicPem(ec_key_)),
              StatusIs(absl::StatusCode::kInvalidArgument, "private key"));
}

TEST_F(JwtVerifierTest, MintedClaimsAreEscaped) {
  MintOptions options = Options();
  options.subject = "o\"brien\\\n";
  options.roles = {"member", "r\u00f4le"};
  absl::StatusOr<Principal> principal = PemVerifier("ec.pem")->Verify(Mint(options, ec_key_));
  ASSERT_THAT(principal, IsOk());
  EXPECT_EQ(principal->subject, "o\"brien\\\n");
  EXPECT_THAT(principal->roles, ElementsAre("member", "r\u00f4le"));
}

// Interoperability with an independent implementation (libjwt, RS256 only: its ES256 is
// checked below for what it is).
TEST_F(JwtVerifierTest, InteroperatesWithLibjwtRs256) {
  const std::string private_pem = PrivatePem(rsa_key_);
  const std::string public_pem = PublicPem(rsa_key_);

  jwt_t* made = nullptr;
  ASSERT_EQ(jwt_new(&made), 0);
  jwt_add_grant(made, "iss", kIssuer);
  jwt_add_grant(made, "aud", kAudience);
  jwt_add_grant(made, "sub", "user-1");
  jwt_add_grant(made, "tenant_id", "cpts-lyon");
  jwt_add_grant(made, "member_id", "m-42");
  jwt_add_grants_json(made, R"({"roles":["coordinator","member"]})");
  jwt_add_grant_int(made, "exp", absl::ToUnixSeconds(kNow) + 60);
  ASSERT_EQ(
      jwt_set_alg(made, JWT_ALG_RS256, reinterpret_cast<const unsigned char*>(private_pem.data()),
                  static_cast<int>(private_pem.size())),
      0);
  char* encoded = jwt_encode_str(made);
  ASSERT_NE(encoded, nullptr);
  const std::string libjwt_token = encoded;
  free(encoded);  // NOLINT(cppcoreguidelines-no-malloc): libjwt 1.10 allocates with malloc
  jwt_free(made);
  ExpectPrincipal(PemVerifier("rsa.pem")->Verify(libjwt_token));

  jwt_t* decoded = nullptr;
  const std::string ours = Mint(Options(), rsa_key_);
  ASSERT_EQ(
      jwt_decode(&decoded, ours.c_str(), reinterpret_cast<const unsigned char*>(public_pem.data()),
                 static_cast<int>(public_pem.size())),
      0);
  EXPECT_EQ(jwt_get_alg(decoded), JWT_ALG_RS256);
  EXPECT_STREQ(jwt_get_grant(decoded, "sub"), "user-1");
  jwt_free(decoded);
}

TEST_F(JwtVerifierTest, InteroperatesWithLibjwtEs256) {
  const std::string private_pem = PrivatePem(ec_key_);
  const std::string public_pem = PublicPem(ec_key_);
  jwt_t* made = nullptr;
  ASSERT_EQ(jwt_new(&made), 0);
  jwt_add_grant(made, "iss", kIssuer);
  jwt_add_grant(made, "aud", kAudience);
  jwt_add_grant(made, "sub", "user-1");
  jwt_add_grant(made, "tenant_id", "cpts-lyon");
  jwt_add_grant(made, "member_id", "m-42");
  jwt_add_grants_json(made, R"({"roles":["coordinator","member"]})");
  jwt_add_grant_int(made, "exp", absl::ToUnixSeconds(kNow) + 60);
  ASSERT_EQ(
      jwt_set_alg(made, JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(private_pem.data()),
                  static_cast<int>(private_pem.size())),
      0);
  char* encoded = jwt_encode_str(made);
  ASSERT_NE(encoded, nullptr);
  const std::string libjwt_token = encoded;
  free(encoded);  // NOLINT(cppcoreguidelines-no-malloc)
  jwt_free(made);
  std::string signature;
  ASSERT_TRUE(
      internal::Base64UrlDecode(libjwt_token.substr(libjwt_token.rfind('.') + 1), &signature));
  EXPECT_EQ(signature.size(), 64u) << "libjwt ES256 signature is not raw r||s";
  ExpectPrincipal(PemVerifier("ec.pem")->Verify(libjwt_token));

  jwt_t* decoded = nullptr;
  const std::string ours = Mint(Options(), ec_key_);
  EXPECT_EQ(
      jwt_decode(&decoded, ours.c_str(), reinterpret_cast<const unsigned char*>(public_pem.data()),
                 static_cast<int>(public_pem.size())),
      0);
  jwt_free(decoded);
}

TEST(BearerTokenTest, ExtractsTheToken) {
  EXPECT_EQ(BearerToken("Bearer abc.def.ghi").value_or(""), "abc.def.ghi");
}

TEST(BearerTokenTest, SchemeIsCaseInsensitiveAndWhitespaceTolerated) {
  EXPECT_EQ(BearerToken("bearer abc").value_or(""), "abc");
  EXPECT_EQ(BearerToken("BEARER \t abc  ").value_or(""), "abc");
  EXPECT_EQ(BearerToken("  Bearer abc").value_or(""), "abc");
}

TEST(BearerTokenTest, RejectsOtherForms) {
  for (std::string_view header : {"", "   ", "Bearer", "Bearer ", "Bearerabc",
                                  "Basic dXNlcjpwdw==", "abc", "Bearer a b", "Token abc"}) {
    EXPECT_THAT(BearerToken(header), StatusIs(absl::StatusCode::kUnauthenticated)) << header;
  }
}

TEST(VerifiedTokenCacheTest, StaysBounded) {
  internal::VerifiedTokenCache cache;
  internal::VerifiedToken verified;
  verified.principal.subject = "s";
  verified.times.expires_at = kNow + absl::Hours(1);
  constexpr size_t kCapacity =
      internal::VerifiedTokenCache::kShards * internal::VerifiedTokenCache::kEntriesPerShard;
  for (size_t i = 0; i < 2 * kCapacity; ++i) {
    cache.Insert(absl::StrCat("token-", i), verified, kNow);
  }
  EXPECT_LE(cache.Size(), kCapacity);
  EXPECT_GT(cache.Size(), kCapacity / 2);
  EXPECT_TRUE(cache.Find(absl::StrCat("token-", 2 * kCapacity - 1)).has_value());
  EXPECT_FALSE(cache.Find("never-inserted").has_value());
}

TEST(VerifiedTokenCacheTest, FullShardDropsExpiredEntriesFirst) {
  internal::VerifiedTokenCache cache;
  internal::VerifiedToken stale;
  stale.times.expires_at = kNow - absl::Minutes(1);
  for (size_t i = 0; i < 20 * internal::VerifiedTokenCache::kEntriesPerShard; ++i) {
    cache.Insert(absl::StrCat("stale-", i), stale, kNow - absl::Hours(1));
  }
  internal::VerifiedToken fresh;
  fresh.times.expires_at = kNow + absl::Hours(1);
  for (int i = 0; i < 64; ++i) {
    cache.Insert(absl::StrCat("fresh-", i), fresh, kNow);
  }
  for (int i = 0; i < 64; ++i) {
    EXPECT_TRUE(cache.Find(absl::StrCat("fresh-", i)).has_value());
  }
}

TEST(GenerateDevKeysTest, CreatesAVerifiableKeyPairIdempotently) {
  const std::string dir = absl::StrCat(MakeTempDir(), "/keys");
  ASSERT_THAT(GenerateDevKeys(dir), IsOk());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string private_path = absl::StrCat(dir, "/", kDevPrivateKeyFile);
  ASSERT_EQ(::stat(private_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string private_pem = ReadText(private_path);
  const std::string jwks = ReadText(absl::StrCat(dir, "/", kDevJwksFile));
  ASSERT_THAT(GenerateDevKeys(dir), IsOk());
  EXPECT_EQ(ReadText(private_path), private_pem);
  EXPECT_EQ(ReadText(absl::StrCat(dir, "/", kDevJwksFile)), jwks);

  // A missing public file is derived again from the kept private key.
  ASSERT_EQ(std::remove(absl::StrCat(dir, "/", kDevPublicKeyFile).c_str()), 0);
  ASSERT_THAT(GenerateDevKeys(dir), IsOk());

  FakeClock clock(kNow);
  JwtConfig config;
  config.issuer = "cpts-dev";
  config.audience = "cpts";
  config.jwks_file = absl::StrCat(dir, "/", kDevJwksFile);
  absl::StatusOr<std::unique_ptr<JwtVerifier>> by_jwks = JwtVerifier::Create(config, clock);
  ASSERT_THAT(by_jwks, IsOk());
  config.jwks_file = "";
  config.public_key_file = absl::StrCat(dir, "/", kDevPublicKeyFile);
  absl::StatusOr<std::unique_ptr<JwtVerifier>> by_pem = JwtVerifier::Create(config, clock);
  ASSERT_THAT(by_pem, IsOk());

  MintOptions options;
  options.issuer = "cpts-dev";
  options.audience = "cpts";
  options.subject = "service:projects";
  options.tenant_id = "cpts-lyon";
  options.roles = {"service"};
  options.kid = kDevKid;
  options.issued_at = kNow;
  absl::StatusOr<std::string> token = MintToken(options, private_pem);
  ASSERT_THAT(token, IsOk());
  EXPECT_THAT((*by_jwks)->Verify(*token), IsOk());
  EXPECT_THAT((*by_pem)->Verify(*token), IsOk());

  EXPECT_THAT(GenerateDevKeys(dir, "RS256"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(GenerateDevKeys(dir, "HS256"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GenerateDevKeysTest, Rs256) {
  const std::string dir = MakeTempDir();
  ASSERT_THAT(GenerateDevKeys(dir, "RS256"), IsOk());
  EXPECT_THAT(ReadText(absl::StrCat(dir, "/", kDevJwksFile)), HasSubstr("\"RS256\""));
  MintOptions options;
  options.issuer = "i";
  options.audience = "a";
  options.subject = "s";
  options.tenant_id = "t";
  options.roles = {"member"};
  options.issued_at = kNow;
  absl::StatusOr<std::string> token =
      MintToken(options, ReadText(absl::StrCat(dir, "/", kDevPrivateKeyFile)));
  ASSERT_THAT(token, IsOk());
  FakeClock clock(kNow);
  JwtConfig config;
  config.issuer = "i";
  config.audience = "a";
  config.jwks_file = absl::StrCat(dir, "/", kDevJwksFile);
  absl::StatusOr<std::unique_ptr<JwtVerifier>> verifier = JwtVerifier::Create(config, clock);
  ASSERT_THAT(verifier, IsOk());
  EXPECT_THAT((*verifier)->Verify(*token), IsOk());
}

}  // namespace
}  // namespace cpts::platform::auth
