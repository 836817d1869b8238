#include "services/platform/auth/jwt_internal.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "services/platform/core/json.h"

namespace cpts::platform::auth::internal {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr size_t kP256CoordinateBytes = 32;

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter>;
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamDeleter>;

// The oldest error on this thread's OpenSSL queue, and the queue emptied: errors left behind
// would be misreported by whichever OpenSSL user (gRPC's TLS, say) runs next on the thread.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

// Never prompt on the terminal for a passphrase: an encrypted key simply fails to load.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return 0; }

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  if (len < 0 || data == nullptr) {
    return absl::InternalError("cannot read memory BIO");
  }
  return std::string(data, static_cast<size_t>(len));
}

std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

BnPtr BytesToBn(std::string_view bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

absl::StatusOr<std::string> JwkString(const google::protobuf::Struct& jwk,
                                      const std::string& name) {
  const auto it = jwk.fields().find(name);
  if (it == jwk.fields().end() || !it->second.has_string_value() ||
      it->second.string_value().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("missing \"", name, "\""));
  }
  return it->second.string_value();
}

absl::StatusOr<std::string> JwkBytes(const google::protobuf::Struct& jwk, const std::string& name) {
  absl::StatusOr<std::string> encoded = JwkString(jwk, name);
  if (!encoded.ok()) {
    return encoded.status();
  }
  std::string bytes;
  if (!Base64UrlDecode(*encoded, &bytes) || bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not base64url"));
  }
  return bytes;
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromParams(const char* key_type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid key: ", TakeOpenSslError()));
  }
  EvpPkeyPtr key(raw);
  // fromdata does not promise to validate: an EC point off the curve must never be used.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid key: ", TakeOpenSslError()));
  }
  return key;
}

absl::StatusOr<BnPtr> GetBnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot read key parameter ", name, ": ", TakeOpenSslError()));
  }
  return BnPtr(bn);
}

}  // namespace

std::string_view AlgorithmFor(KeyType type) {
  switch (type) {
    case KeyType::kRsa:
      return "RS256";
    case KeyType::kEcP256:
      return "ES256";
  }
  return "";
}

std::string Base64UrlEncode(std::string_view data) {
  return absl::WebSafeBase64Escape(ToAbsl(data));
}

bool Base64UrlDecode(std::string_view encoded, std::string* out) {
  for (const char c : encoded) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  // A length of 1 mod 4 cannot come from any byte string.
  if (encoded.size() % 4 == 1) {
    return false;
  }
  return absl::WebSafeBase64Unescape(ToAbsl(encoded), out);
}

absl::StatusOr<google::protobuf::Struct> ParseJsonObject(std::string_view json) {
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return object;
}

absl::StatusOr<KeyType> KeyTypeOf(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("RSA key has ", EVP_PKEY_get_bits(key), " bits, fewer than ", kMinRsaBits));
    }
    return KeyType::kRsa;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError("EC key without a named curve");
    }
    const std::string_view name(group, len);
    if (name != "prime256v1" && name != "P-256" && name != "secp256r1") {
      return absl::InvalidArgumentError(
          absl::StrCat("EC key on curve ", ToAbsl(name), ", only P-256 is supported"));
    }
    return KeyType::kEcP256;
  }
  return absl::InvalidArgumentError("key is neither RSA nor EC P-256");
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("no \"BEGIN PUBLIC KEY\" PEM block");
  }
  absl::StatusOr<KeyType> type = KeyTypeOf(key.get());
  if (!type.ok()) {
    return type.status();
  }
  return key;
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not an unencrypted PEM private key");
  }
  absl::StatusOr<KeyType> type = KeyTypeOf(key.get());
  if (!type.ok()) {
    return type.status();
  }
  return key;
}

absl::StatusOr<std::string> PublicKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError(absl::StrCat("cannot write public key: ", TakeOpenSslError()));
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("cannot write private key: ", TakeOpenSslError()));
  }
  return BioContents(bio.get());
}

absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type) {
  // EVP_PKEY_Q_keygen directly: the EVP_RSA_gen/EVP_EC_gen macros use C casts.
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kRsa:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{kMinRsaBits});
      break;
    case KeyType::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
  }
  if (key == nullptr) {
    return absl::InternalError(absl::StrCat("key generation failed: ", TakeOpenSslError()));
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromJwk(const google::protobuf::Struct& jwk) {
  absl::StatusOr<std::string> kty = JwkString(jwk, "kty");
  if (!kty.ok()) {
    return kty.status();
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr) {
    return absl::InternalError("out of memory");
  }
  if (*kty == "RSA") {
    absl::StatusOr<std::string> n = JwkBytes(jwk, "n");
    if (!n.ok()) {
      return n.status();
    }
    absl::StatusOr<std::string> e = JwkBytes(jwk, "e");
    if (!e.ok()) {
      return e.status();
    }
    BnPtr n_bn = BytesToBn(*n);
    BnPtr e_bn = BytesToBn(*e);
    if (n_bn == nullptr || e_bn == nullptr ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
      return absl::InternalError(absl::StrCat("cannot build RSA key: ", TakeOpenSslError()));
    }
    // The BIGNUMs must stay alive until OSSL_PARAM_BLD_to_param has copied them.
    absl::StatusOr<EvpPkeyPtr> key = PublicKeyFromParams("RSA", bld.get());
    if (!key.ok()) {
      return key.status();
    }
    absl::StatusOr<KeyType> type = KeyTypeOf(key->get());
    if (!type.ok()) {
      return type.status();
    }
    return key;
  }
  if (*kty == "EC") {
    absl::StatusOr<std::string> crv = JwkString(jwk, "crv");
    if (!crv.ok()) {
      return crv.status();
    }
    if (*crv != "P-256") {
      return absl::UnimplementedError(absl::StrCat("EC curve ", *crv, " is not supported"));
    }
    absl::StatusOr<std::string> x = JwkBytes(jwk, "x");
    if (!x.ok()) {
      return x.status();
    }
    absl::StatusOr<std::string> y = JwkBytes(jwk, "y");
    if (!y.ok()) {
      return y.status();
    }
    if (x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
      return absl::InvalidArgumentError("\"x\" and \"y\" must be 32 bytes each");
    }
    // SEC1 uncompressed point: 0x04 || X || Y.
    std::string point = absl::StrCat("\x04", *x, *y);
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return absl::InternalError(absl::StrCat("cannot build EC key: ", TakeOpenSslError()));
    }
    return PublicKeyFromParams("EC", bld.get());
  }
  return absl::UnimplementedError(absl::StrCat("key type ", *kty, " is not supported"));
}

absl::StatusOr<std::string> PublicKeyToJwk(EVP_PKEY* key, std::string_view kid) {
  absl::StatusOr<KeyType> type = KeyTypeOf(key);
  if (!type.ok()) {
    return type.status();
  }
  std::string members;
  switch (*type) {
    case KeyType::kRsa: {
      absl::StatusOr<BnPtr> n = GetBnParam(key, OSSL_PKEY_PARAM_RSA_N);
      if (!n.ok()) {
        return n.status();
      }
      absl::StatusOr<BnPtr> e = GetBnParam(key, OSSL_PKEY_PARAM_RSA_E);
      if (!e.ok()) {
        return e.status();
      }
      members =
          absl::StrCat("\"kty\": \"RSA\", \"n\": ", JsonQuote(Base64UrlEncode(BnToBytes(n->get()))),
                       ", \"e\": ", JsonQuote(Base64UrlEncode(BnToBytes(e->get()))));
      break;
    }
    case KeyType::kEcP256: {
      absl::StatusOr<BnPtr> x = GetBnParam(key, OSSL_PKEY_PARAM_EC_PUB_X);
      if (!x.ok()) {
        return x.status();
      }
      absl::StatusOr<BnPtr> y = GetBnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!y.ok()) {
        return y.status();
      }
      // RFC 7518 section 6.2.1.2: coordinates are full length, leading zeros kept.
      std::string xb(kP256CoordinateBytes, '\0');
      std::string yb(kP256CoordinateBytes, '\0');
      if (BN_bn2binpad(x->get(), reinterpret_cast<unsigned char*>(xb.data()),
                       static_cast<int>(xb.size())) < 0 ||
          BN_bn2binpad(y->get(), reinterpret_cast<unsigned char*>(yb.data()),
                       static_cast<int>(yb.size())) < 0) {
        return absl::InternalError("EC coordinate too long");
      }
      members = absl::StrCat(
          "\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": ", JsonQuote(Base64UrlEncode(xb)),
          ", \"y\": ", JsonQuote(Base64UrlEncode(yb)));
      break;
    }
  }
  return absl::StrCat("{", members, ", \"kid\": ", JsonQuote(kid), ", \"alg\": \"",
                      ToAbsl(AlgorithmFor(*type)), "\", \"use\": \"sig\"}");
}

absl::StatusOr<std::string> Sign(EVP_PKEY* key, KeyType type, std::string_view signing_input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", TakeOpenSslError()));
  }
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing failed: ", TakeOpenSslError()));
  }
  der.resize(len);
  if (type == KeyType::kRsa) {
    return der;
  }

  // OpenSSL produces a DER SEQUENCE { r, s }; JWS wants r and s as two 32-byte big-endian
  // integers side by side.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (sig == nullptr) {
    return absl::InternalError(absl::StrCat("bad ECDSA signature: ", TakeOpenSslError()));
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kP256CoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256CoordinateBytes) < 0 ||
      BN_bn2binpad(s, out + kP256CoordinateBytes, kP256CoordinateBytes) < 0) {
    return absl::InternalError("ECDSA signature component too long");
  }
  return raw;
}

bool VerifySignature(EVP_PKEY* key, KeyType type, const EVP_MD* sha256,
                     std::string_view signing_input, std::string_view signature) {
  std::string der_storage;
  std::string_view to_verify = signature;
  if (type == KeyType::kEcP256) {
    // Anything but exactly r||s (say a DER signature some libraries emit) is rejected.
    if (signature.size() != 2 * kP256CoordinateBytes) {
      return false;
    }
    EcdsaSigPtr sig(ECDSA_SIG_new());
    BnPtr r = BytesToBn(signature.substr(0, kP256CoordinateBytes));
    BnPtr s = BytesToBn(signature.substr(kP256CoordinateBytes));
    if (sig == nullptr || r == nullptr || s == nullptr) {
      ERR_clear_error();
      return false;
    }
    // With both non-null, set0 cannot fail and takes ownership.
    ECDSA_SIG_set0(sig.get(), r.release(), s.release());
    unsigned char* der = nullptr;
    const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0) {
      ERR_clear_error();
      return false;
    }
    der_storage.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
    OPENSSL_free(der);
    to_verify = der_storage;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, sha256, nullptr, key) == 1 &&
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(to_verify.data()), to_verify.size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  if (!ok) {
    ERR_clear_error();
  }
  return ok;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open: ", std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError("read error");
  }
  return std::move(contents).str();
}

absl::Status WriteNewFile(const std::string& path, std::string_view contents, int mode) {
  // O_EXCL: never clobber a key someone else just wrote.
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) {
    const int err = errno;
    const std::string message = absl::StrCat(path, ": ", std::strerror(err));
    return err == EEXIST ? absl::AlreadyExistsError(message) : absl::InternalError(message);
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const std::string message = absl::StrCat(path, ": ", std::strerror(errno));
      ::close(fd);
      return absl::InternalError(message);
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace cpts::platform::auth::internal
