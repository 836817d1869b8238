#include "services/platform/crypto/field_cipher.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <utility>

namespace cpts::platform::crypto {
namespace {

constexpr std::string_view kCiphertextPrefix = "cpts1:";
constexpr std::size_t kMaxKeyIdLength = 16;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kHashBytes = 32;
constexpr int kBase64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kFieldKeyBytes);
static_assert(crypto_generichash_KEYBYTES_MIN <= kFieldKeyBytes &&
              kFieldKeyBytes <= crypto_generichash_KEYBYTES_MAX);

absl::Status InitSodium() {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not be initialised");
  return absl::OkStatus();
}

bool IsValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdLength) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ToBase64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, kBase64Variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, kBase64Variant);
  out.resize(std::strlen(out.c_str()));  // drop the terminating NUL the length includes
  return out;
}

// Decodes the whole of `text` (URL-safe alphabet, no padding) or returns nullopt.
std::optional<std::string> FromBase64(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t size = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &size, &end, kBase64Variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string Header(std::string_view key_id) {
  std::string header(kCiphertextPrefix);
  header.append(key_id);
  header.push_back(':');
  return header;
}

struct ParsedCiphertext {
  std::string_view key_id;
  std::string_view header;  // "cpts1:<key-id>:"
  std::string_view body;    // base64url
};

std::optional<ParsedCiphertext> ParseCiphertext(std::string_view text) {
  if (text.substr(0, kCiphertextPrefix.size()) != kCiphertextPrefix) return std::nullopt;
  const std::size_t colon = text.find(':', kCiphertextPrefix.size());
  if (colon == std::string_view::npos) return std::nullopt;
  ParsedCiphertext parsed;
  parsed.key_id = text.substr(kCiphertextPrefix.size(), colon - kCiphertextPrefix.size());
  if (!IsValidKeyId(parsed.key_id)) return std::nullopt;
  parsed.header = text.substr(0, colon + 1);
  parsed.body = text.substr(colon + 1);
  return parsed;
}

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// One meaningful line of a key file.
struct KeyLine {
  enum class Kind { kAead, kHash } kind = Kind::kAead;
  std::string id;
  std::string key;  // the raw 32 bytes
  bool current = false;
};

absl::Status LineError(std::size_t line_number, std::string_view problem) {
  std::string message = "key file line ";
  message += std::to_string(line_number);
  message += ": ";
  message.append(problem);
  return absl::InvalidArgumentError(message);
}

// nullopt for a blank or comment line.
absl::StatusOr<std::optional<KeyLine>> ParseKeyLine(std::string_view line,
                                                    std::size_t line_number) {
  const std::size_t hash = line.find('#');
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  const std::vector<std::string_view> words = SplitWords(line);
  if (words.empty()) return std::optional<KeyLine>();
  KeyLine parsed;
  if (words[0] == "aead") {
    parsed.kind = KeyLine::Kind::kAead;
    if (words.size() != 3 && !(words.size() == 4 && words[3] == "current")) {
      return LineError(line_number, "expected 'aead <key-id> <base64url key> [current]'");
    }
    parsed.current = words.size() == 4;
  } else if (words[0] == "hash") {
    parsed.kind = KeyLine::Kind::kHash;
    if (words.size() != 3)
      return LineError(line_number, "expected 'hash <key-id> <base64url key>'");
  } else {
    return LineError(line_number, "unknown entry (expected 'aead' or 'hash')");
  }
  if (!IsValidKeyId(words[1])) {
    return LineError(line_number, "key id must be 1 to 16 characters of a-z, 0-9, '_' and '-'");
  }
  parsed.id = std::string(words[1]);
  std::optional<std::string> key = FromBase64(words[2]);
  if (!key.has_value() || key->size() != kFieldKeyBytes) {
    if (key.has_value()) sodium_memzero(key->data(), key->size());
    return LineError(line_number, "key must be 32 bytes in base64url without padding");
  }
  parsed.key = std::move(*key);
  return std::optional<KeyLine>(std::move(parsed));
}

void Wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

std::string RandomKeyBase64() {
  std::array<unsigned char, kFieldKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  std::string encoded = ToBase64(key.data(), key.size());
  sodium_memzero(key.data(), key.size());
  return encoded;
}

}  // namespace

FieldCipher::Key::Key(Key&& other) noexcept : id(std::move(other.id)), bytes(other.bytes) {
  sodium_memzero(other.bytes.data(), other.bytes.size());
}

FieldCipher::Key& FieldCipher::Key::operator=(Key&& other) noexcept {
  if (this != &other) {
    id = std::move(other.id);
    bytes = other.bytes;
    sodium_memzero(other.bytes.data(), other.bytes.size());
  }
  return *this;
}

FieldCipher::Key::~Key() { sodium_memzero(bytes.data(), bytes.size()); }

absl::StatusOr<FieldCipher> FieldCipher::LoadFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0) return absl::InvalidArgumentError("cannot read the field key file " + path);
  // Read in place: no stream buffer keeps a copy of the keys.
  std::string contents(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(contents.data(), size)) {
    Wipe(contents);
    return absl::InvalidArgumentError("cannot read the field key file " + path);
  }
  absl::StatusOr<FieldCipher> cipher = FromKeyFileContents(contents);
  Wipe(contents);
  if (!cipher.ok()) {
    return absl::Status(cipher.status().code(),
                        path + ": " + std::string(cipher.status().message()));
  }
  return cipher;
}

absl::StatusOr<FieldCipher> FieldCipher::FromKeyFileContents(std::string_view contents) {
  if (absl::Status s = InitSodium(); !s.ok()) return s;
  FieldCipher cipher;
  std::optional<std::size_t> current;
  std::size_t current_line = 0;
  bool have_hash = false;
  const std::vector<std::string_view> lines = SplitLines(contents);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t line_number = i + 1;
    absl::StatusOr<std::optional<KeyLine>> parsed = ParseKeyLine(lines[i], line_number);
    if (!parsed.ok()) return parsed.status();
    if (!parsed->has_value()) continue;
    KeyLine& line = **parsed;
    Key key;
    key.id = line.id;
    std::memcpy(key.bytes.data(), line.key.data(), kFieldKeyBytes);
    Wipe(line.key);
    if (line.kind == KeyLine::Kind::kHash) {
      if (have_hash) return LineError(line_number, "a second hash key (exactly one is allowed)");
      have_hash = true;
      cipher.hash_key_ = std::move(key);
      continue;
    }
    if (cipher.FindAeadKey(key.id) != nullptr) {
      return LineError(line_number, "duplicate aead key id '" + key.id + "'");
    }
    if (line.current) {
      if (current.has_value()) {
        return LineError(line_number, "a second current aead key (the first is on line " +
                                          std::to_string(current_line) + ")");
      }
      current = cipher.keys_.size();
      current_line = line_number;
    }
    cipher.keys_.push_back(std::move(key));
  }
  if (cipher.keys_.empty()) return absl::InvalidArgumentError("key file has no aead key");
  if (!current.has_value()) {
    if (cipher.keys_.size() > 1) {
      return absl::InvalidArgumentError(
          "key file has several aead keys and none is marked 'current'");
    }
    current = 0;
  }
  if (!have_hash) return absl::InvalidArgumentError("key file has no hash key");
  cipher.current_ = *current;
  return cipher;
}

const FieldCipher::Key* FieldCipher::FindAeadKey(std::string_view id) const {
  for (const Key& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

absl::StatusOr<std::string> FieldCipher::Encrypt(std::string_view plaintext,
                                                 std::string_view associated_data) const {
  const Key& key = keys_[current_];
  const std::string header = Header(key.id);
  std::string ad = header;
  ad.append(associated_data);

  std::string sealed(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long sealed_size = 0;  // NOLINT(google-runtime-int): libsodium's type
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(
          nonce + kNonceBytes, &sealed_size,
          reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce,
          key.bytes.data()) != 0) {
    return absl::InternalError("field encryption failed");
  }
  sealed.resize(kNonceBytes + static_cast<std::size_t>(sealed_size));
  std::string out = header;
  out += ToBase64(reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size());
  return out;
}

absl::StatusOr<std::string> FieldCipher::Decrypt(std::string_view ciphertext,
                                                 std::string_view associated_data) const {
  const std::optional<ParsedCiphertext> parsed = ParseCiphertext(ciphertext);
  if (!parsed.has_value()) return absl::DataLossError("not a cpts1 field ciphertext");
  const Key* key = FindAeadKey(parsed->key_id);
  if (key == nullptr) {
    return absl::InternalError("field ciphertext uses key '" + std::string(parsed->key_id) +
                               "', which is not in the key file");
  }
  const std::optional<std::string> sealed = FromBase64(parsed->body);
  if (!sealed.has_value() || sealed->size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("field ciphertext is malformed or truncated");
  }
  std::string ad(parsed->header);
  ad.append(associated_data);
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed->data());
  std::string plaintext(sealed->size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long plaintext_size = 0;  // NOLINT(google-runtime-int): libsodium's type
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()),
                                                 &plaintext_size, nullptr, nonce + kNonceBytes,
                                                 sealed->size() - kNonceBytes,
                                                 reinterpret_cast<const unsigned char*>(ad.data()),
                                                 ad.size(), nonce, key->bytes.data()) != 0) {
    return absl::DataLossError(
        "field ciphertext failed authentication (altered, or other associated data)");
  }
  plaintext.resize(static_cast<std::size_t>(plaintext_size));
  return plaintext;
}

bool FieldCipher::NeedsReencryption(std::string_view ciphertext) const {
  const std::optional<ParsedCiphertext> parsed = ParseCiphertext(ciphertext);
  return !parsed.has_value() || parsed->key_id != keys_[current_].id;
}

std::string FieldCipher::KeyedHash(std::string_view normalised_value) const {
  std::array<unsigned char, kHashBytes> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(normalised_value.data()),
                     normalised_value.size(), hash_key_.bytes.data(), hash_key_.bytes.size());
  std::string out = hash_key_.id;
  out.push_back(':');
  out += ToBase64(digest.data(), digest.size());
  return out;
}

absl::StatusOr<std::string> CiphertextKeyId(std::string_view ciphertext) {
  const std::optional<ParsedCiphertext> parsed = ParseCiphertext(ciphertext);
  if (!parsed.has_value()) return absl::DataLossError("not a cpts1 field ciphertext");
  return std::string(parsed->key_id);
}

absl::StatusOr<std::string> GenerateKeyFileContents(std::string_view aead_key_id,
                                                    std::string_view hash_key_id) {
  if (absl::Status s = InitSodium(); !s.ok()) return s;
  if (!IsValidKeyId(aead_key_id) || !IsValidKeyId(hash_key_id)) {
    return absl::InvalidArgumentError(
        "key ids must be 1 to 16 characters of a-z, 0-9, '_' and '-'");
  }
  std::string contents =
      "# CPTS field-encryption keys. Secret: never commit, never log, keep a backup.\n"
      "# aead <id> <key> [current]: XChaCha20-Poly1305; hash <id> <key>: BLAKE2b keyed hash.\n";
  contents += "aead ";
  contents.append(aead_key_id);
  contents += " " + RandomKeyBase64() + " current\n";
  contents += "hash ";
  contents.append(hash_key_id);
  contents += " " + RandomKeyBase64() + "\n";
  return contents;
}

absl::Status GenerateKeyFile(const std::string& path) {
  absl::StatusOr<std::string> contents = GenerateKeyFileContents();
  if (!contents.ok()) return contents.status();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    Wipe(*contents);
    if (error == EEXIST) {
      return absl::AlreadyExistsError(path + " already exists; not overwriting a key file");
    }
    return absl::InvalidArgumentError("cannot create " + path + ": " + std::strerror(error));
  }
  std::size_t written = 0;
  while (written < contents->size()) {
    const ssize_t n = ::write(fd, contents->data() + written, contents->size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      ::unlink(path.c_str());
      Wipe(*contents);
      return absl::InternalError("cannot write " + path + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  Wipe(*contents);
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    ::unlink(path.c_str());
    return absl::InternalError("cannot write " + path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RotateKeyFileContents(std::string_view contents,
                                                  std::string_view new_key_id) {
  absl::StatusOr<FieldCipher> cipher = FieldCipher::FromKeyFileContents(contents);
  if (!cipher.ok()) return cipher.status();
  if (!IsValidKeyId(new_key_id)) {
    return absl::InvalidArgumentError("key id must be 1 to 16 characters of a-z, 0-9, '_' and '-'");
  }
  if (new_key_id == cipher->hash_key_id()) {
    return absl::InvalidArgumentError("key id '" + std::string(new_key_id) +
                                      "' is already the hash key's id");
  }
  std::string out;
  const std::vector<std::string_view> lines = SplitLines(contents);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    const std::string_view code = line.substr(0, line.find('#'));
    const std::vector<std::string_view> words = SplitWords(code);
    if (words.size() >= 2 && words[0] == "aead" && words[1] == new_key_id) {
      return absl::InvalidArgumentError("key id '" + std::string(new_key_id) +
                                        "' is already in the key file");
    }
    if (words.size() == 4 && words[0] == "aead") {
      // Same line without its `current` mark.
      out.append(words[0]).append(" ").append(words[1]).append(" ").append(words[2]);
      if (code.size() < line.size()) out.append(" ").append(line.substr(code.size()));
    } else {
      out.append(line);
    }
    if (i + 1 < lines.size()) out.push_back('\n');
  }
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  out += "aead ";
  out.append(new_key_id);
  out += " " + RandomKeyBase64() + " current\n";
  return out;
}

}  // namespace cpts::platform::crypto
