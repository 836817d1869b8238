#include "services/platform/crypto/field_cipher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::platform::crypto {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Bytes 0..31, 32..63 and 64..95 in base64url: fixed keys make the known-answer test possible.
constexpr char kKeyA[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
constexpr char kKeyB[] = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";
constexpr char kHashKey[] = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8";

std::string OneKeyFile() {
  return std::string("# test keys\n") + "aead k1 " + kKeyA + "\n" + "hash h1 " + kHashKey + "\n";
}

std::string TwoKeyFile() {
  return std::string("aead k1 ") + kKeyA + "\n" + "aead k2 " + kKeyB + " current\n" + "hash h1 " +
         kHashKey + "\n";
}

FieldCipher MustLoad(const std::string& contents) {
  absl::StatusOr<FieldCipher> cipher = FieldCipher::FromKeyFileContents(contents);
  EXPECT_THAT(cipher, IsOk());
  if (!cipher.ok()) std::abort();
  return std::move(*cipher);
}

// --- round trip ------------------------------------------------------------------------

TEST(FieldCipherTest, RoundTripsValuesOfEveryShape) {
  const FieldCipher cipher = MustLoad(OneKeyFile());
  const std::vector<std::string> values = {
      "",
      "Dupont",
      "Éloïse Ñúñez-Œuvray 🩺",
      std::string("\0binary\xff\x01", 9),
      std::string(10000, 'x'),
  };
  for (const std::string& value : values) {
    absl::StatusOr<std::string> sealed = cipher.Encrypt(value, "access.booking:t1:b1");
    ASSERT_THAT(sealed, IsOk());
    EXPECT_THAT(*sealed, StartsWith("cpts1:k1:"));
    EXPECT_EQ(sealed->find(value.empty() ? std::string("\x01") : value), std::string::npos);
    absl::StatusOr<std::string> opened = cipher.Decrypt(*sealed, "access.booking:t1:b1");
    ASSERT_THAT(opened, IsOk());
    EXPECT_EQ(*opened, value);
  }
}

TEST(FieldCipherTest, SameValueEncryptsDifferentlyEachTime) {
  const FieldCipher cipher = MustLoad(OneKeyFile());
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::string> sealed = cipher.Encrypt("Martin", "ctx");
    ASSERT_THAT(sealed, IsOk());
    seen.insert(*sealed);
  }
  EXPECT_EQ(seen.size(), 20U);
}

TEST(FieldCipherTest, CiphertextIsPrintableAscii) {
  const FieldCipher cipher = MustLoad(OneKeyFile());
  absl::StatusOr<std::string> sealed = cipher.Encrypt(std::string("\0\n\"'", 4), "ctx");
  ASSERT_THAT(sealed, IsOk());
  for (const char c : *sealed) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == ':')
        << static_cast<int>(c);
  }
}

// --- tampering -------------------------------------------------------------------------

TEST(FieldCipherTest, EveryAlteredCharacterIsDetected) {
  const FieldCipher cipher = MustLoad(OneKeyFile());
  absl::StatusOr<std::string> sealed = cipher.Encrypt("Durand", "ctx");
  ASSERT_THAT(sealed, IsOk());
  const std::size_t body = std::string("cpts1:k1:").size();
  for (std::size_t i = body; i < sealed->size(); ++i) {
    std::string altered = *sealed;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_THAT(cipher.Decrypt(altered, "ctx"), StatusIs(absl::StatusCode::kDataLoss))
        << "position " << i;
  }
}

TEST(FieldCipherTest, RefusesOtherAssociatedDataTruncationAndGarbage) {
  const FieldCipher cipher = MustLoad(TwoKeyFile());
  absl::StatusOr<std::string> sealed = cipher.Encrypt("Durand", "booking:b1");
  ASSERT_THAT(sealed, IsOk());

  struct Case {
    std::string name;
    std::string ciphertext;
    std::string associated_data;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"other row", *sealed, "booking:b2", absl::StatusCode::kDataLoss},
      {"no context", *sealed, "", absl::StatusCode::kDataLoss},
      {"truncated", sealed->substr(0, sealed->size() - 4), "booking:b1",
       absl::StatusCode::kDataLoss},
      {"body only", "cpts1:k2:", "booking:b1", absl::StatusCode::kDataLoss},
      {"header swapped to another loaded key", "cpts1:k1:" + sealed->substr(9), "booking:b1",
       absl::StatusCode::kDataLoss},
      {"plaintext", "Durand", "booking:b1", absl::StatusCode::kDataLoss},
      {"other version", "cpts2:k2:" + sealed->substr(9), "booking:b1", absl::StatusCode::kDataLoss},
      {"bad key id", "cpts1:K2:" + sealed->substr(9), "booking:b1", absl::StatusCode::kDataLoss},
      {"not base64", "cpts1:k2:!!!!", "booking:b1", absl::StatusCode::kDataLoss},
      {"unknown key", "cpts1:k9:" + sealed->substr(9), "booking:b1", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> opened = cipher.Decrypt(c.ciphertext, c.associated_data);
    EXPECT_THAT(opened, StatusIs(c.code)) << c.name;
    if (!opened.ok()) {
      EXPECT_THAT(std::string(opened.status().message()), Not(HasSubstr("Durand"))) << c.name;
    }
  }
}

// --- rotation --------------------------------------------------------------------------

TEST(FieldCipherTest, RotationKeepsOldDataReadable) {
  const FieldCipher before = MustLoad(OneKeyFile());
  absl::StatusOr<std::string> old_value = before.Encrypt("Petit", "ctx");
  ASSERT_THAT(old_value, IsOk());

  absl::StatusOr<std::string> rotated = RotateKeyFileContents(OneKeyFile(), "k2");
  ASSERT_THAT(rotated, IsOk());
  EXPECT_THAT(*rotated, HasSubstr("# test keys\n"));  // comments survive
  const FieldCipher after = MustLoad(*rotated);
  EXPECT_EQ(after.current_key_id(), "k2");

  absl::StatusOr<std::string> opened = after.Decrypt(*old_value, "ctx");
  ASSERT_THAT(opened, IsOk());
  EXPECT_EQ(*opened, "Petit");
  EXPECT_TRUE(after.NeedsReencryption(*old_value));
  EXPECT_FALSE(before.NeedsReencryption(*old_value));

  absl::StatusOr<std::string> new_value = after.Encrypt("Petit", "ctx");
  ASSERT_THAT(new_value, IsOk());
  EXPECT_THAT(*new_value, StartsWith("cpts1:k2:"));
  EXPECT_FALSE(after.NeedsReencryption(*new_value));
  EXPECT_EQ(CiphertextKeyId(*new_value).value_or(""), "k2");
  // The old key alone cannot read data written after the rotation.
  EXPECT_THAT(before.Decrypt(*new_value, "ctx"), StatusIs(absl::StatusCode::kInternal));

  // A second rotation keeps one current key.
  absl::StatusOr<std::string> twice = RotateKeyFileContents(*rotated, "k3");
  ASSERT_THAT(twice, IsOk());
  const FieldCipher third = MustLoad(*twice);
  EXPECT_EQ(third.current_key_id(), "k3");
  EXPECT_EQ(third.Decrypt(*old_value, "ctx").value_or(""), "Petit");
  EXPECT_EQ(third.Decrypt(*new_value, "ctx").value_or(""), "Petit");
  // The hash key does not change with a rotation.
  EXPECT_EQ(third.KeyedHash("x"), before.KeyedHash("x"));
}

TEST(FieldCipherTest, RotationRefusesAReusedOrBadId) {
  EXPECT_THAT(RotateKeyFileContents(TwoKeyFile(), "k1"),
              StatusIs(absl::StatusCode::kInvalidArgument, "already in the key file"));
  EXPECT_THAT(RotateKeyFileContents(TwoKeyFile(), "h1"),
              StatusIs(absl::StatusCode::kInvalidArgument, "hash key"));
  EXPECT_THAT(RotateKeyFileContents(TwoKeyFile(), "Bad Id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "key id"));
  EXPECT_THAT(RotateKeyFileContents("garbage", "k3"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- keyed hash ------------------------------------------------------------------------

TEST(KeyedHashTest, IsStableAcrossLoadsAndMatchesBlake2b) {
  const FieldCipher one = MustLoad(OneKeyFile());
  const FieldCipher two = MustLoad(TwoKeyFile());
  // Known answer: BLAKE2b-256 keyed with bytes 64..95 (Python hashlib.blake2b).
  EXPECT_EQ(one.KeyedHash("dupont|marie|1950-01-01|77288"),
            "h1:b76kCDe43YKMeJ78-LbYdA806lhs5Acv6Jr5RvgEMIg");
  EXPECT_EQ(one.KeyedHash(""), "h1:Z9ECtTnof1vrtFA8h-vJk2guocW7MxKf-efzvmeZPKE");
  EXPECT_EQ(one.KeyedHash("dupont|marie|1950-01-01|77288"),
            two.KeyedHash("dupont|marie|1950-01-01|77288"));
  EXPECT_NE(one.KeyedHash("dupont|marie|1950-01-01|77288"),
            one.KeyedHash("dupont|marie|1950-01-02|77288"));
}

TEST(KeyedHashTest, DependsOnTheKey) {
  const FieldCipher one = MustLoad(OneKeyFile());
  const FieldCipher other = MustLoad(std::string("aead k1 ") + kKeyA + "\nhash h1 " + kKeyB + "\n");
  EXPECT_NE(one.KeyedHash("dupont"), other.KeyedHash("dupont"));
}

// --- key files -------------------------------------------------------------------------

TEST(KeyFileTest, ParsesCommentsBlankLinesAndCrLf) {
  const std::string contents = std::string("\r\n# keys\r\n  aead   k1 ") + kKeyA +
                               "   # the old one\r\n\r\naead k-2_b " + kKeyB +
                               " current\r\nhash h1 " + kHashKey + "\r\n";
  const FieldCipher cipher = MustLoad(contents);
  EXPECT_EQ(cipher.current_key_id(), "k-2_b");
  EXPECT_EQ(cipher.hash_key_id(), "h1");
}

TEST(KeyFileTest, RefusesMalformedFilesNamingTheLine) {
  const std::string hash = std::string("hash h1 ") + kHashKey + "\n";
  const std::string aead = std::string("aead k1 ") + kKeyA + "\n";
  struct Case {
    std::string contents;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "no aead key"},
      {hash, "no aead key"},
      {aead, "no hash key"},
      {aead + hash + hash, "line 3: a second hash key"},
      {aead + aead + hash, "line 2: duplicate aead key id 'k1'"},
      {aead + "aead k2 " + kKeyB + "\n" + hash, "none is marked 'current'"},
      {std::string("aead k1 ") + kKeyA + " current\naead k2 " + kKeyB + " current\n" + hash,
       "line 2: a second current aead key (the first is on line 1)"},
      {"aead K1 " + std::string(kKeyA) + "\n" + hash, "line 1: key id"},
      {"aead k1\n" + hash, "line 1: expected 'aead"},
      {"aead k1 " + std::string(kKeyA) + " now\n" + hash, "line 1: expected 'aead"},
      {"aead k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\n" + hash, "line 1: key must be 32"},
      {"aead k1 " + std::string(kKeyA) + "=\n" + hash, "line 1: key must be 32"},
      {aead + "hash h1\n", "line 2: expected 'hash"},
      {aead + "rsa r1 x\n" + hash, "line 2: unknown entry"},
      {"aead abcdefghijklmnopq " + std::string(kKeyA) + "\n" + hash, "line 1: key id"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<FieldCipher> cipher = FieldCipher::FromKeyFileContents(c.contents);
    EXPECT_THAT(cipher, StatusIs(absl::StatusCode::kInvalidArgument, c.message)) << c.contents;
    if (!cipher.ok()) {
      EXPECT_THAT(std::string(cipher.status().message()), Not(HasSubstr(kKeyA)));
    }
  }
}

TEST(KeyFileTest, GeneratedFileIsPrivateLoadsAndIsNeverOverwritten) {
  const std::string path = ::testing::TempDir() + "/field_keys_" + std::to_string(::getpid());
  ::unlink(path.c_str());
  ASSERT_THAT(GenerateKeyFile(path), IsOk());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);

  absl::StatusOr<FieldCipher> cipher = FieldCipher::LoadFromFile(path);
  ASSERT_THAT(cipher, IsOk());
  EXPECT_EQ(cipher->current_key_id(), "k1");
  absl::StatusOr<std::string> sealed = cipher->Encrypt("Moreau", "ctx");
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(cipher->Decrypt(*sealed, "ctx").value_or(""), "Moreau");

  EXPECT_THAT(GenerateKeyFile(path), StatusIs(absl::StatusCode::kAlreadyExists));
  absl::StatusOr<FieldCipher> again = FieldCipher::LoadFromFile(path);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->Decrypt(*sealed, "ctx").value_or(""), "Moreau");
  ::unlink(path.c_str());
}

TEST(KeyFileTest, TwoGeneratedFilesHaveDifferentKeys) {
  absl::StatusOr<std::string> a = GenerateKeyFileContents();
  absl::StatusOr<std::string> b = GenerateKeyFileContents();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(*a, *b);
  EXPECT_NE(MustLoad(*a).KeyedHash("x"), MustLoad(*b).KeyedHash("x"));
  EXPECT_THAT(GenerateKeyFileContents("K", "h"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyFileTest, MissingFileNamesThePath) {
  EXPECT_THAT(FieldCipher::LoadFromFile("/nonexistent/keys"),
              StatusIs(absl::StatusCode::kInvalidArgument, "/nonexistent/keys"));
}

}  // namespace
}  // namespace cpts::platform::crypto
