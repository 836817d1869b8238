#pragma once

// Field encryption at rest (libsodium), for the few columns that hold personal data (patient
// names, contact, free notes). The database sees ciphertext only; equality lookups (duplicate
// detection) use KeyedHash, never plaintext.
//
// Key file: UTF-8 text, one entry per line, `#` starts a comment, blank lines ignored:
//
//   aead <key-id> <base64url, 32 bytes> [current]   an XChaCha20-Poly1305 key; several may be
//                                                    listed, exactly one is `current` (a lone
//                                                    aead key is current without saying so)
//   hash <key-id> <base64url, 32 bytes>              the BLAKE2b key of KeyedHash; exactly one
//
// A key id is 1 to 16 characters of [a-z0-9_-]. Rotation: add a new aead key marked current
// and drop the old mark (RotateKeyFileContents does both); data encrypted under the old key
// stays readable as long as its line stays in the file, and NeedsReencryption tells a store
// which values to rewrite lazily. The hash key cannot rotate that way (equal values must keep
// equal hashes): changing it means recomputing every stored hash.
//
// Ciphertext, self-describing and ASCII (fits a VARCHAR/TEXT column):
//
//   cpts1:<key-id>:<base64url without padding of nonce (24 bytes) || ciphertext || tag (16)>
//
// The header "cpts1:<key-id>:" is authenticated together with the caller's associated data,
// so neither the key id nor the context can be swapped without Decrypt failing.
//
// Errors never contain plaintext, key material or ciphertext.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cpts::platform::crypto {

inline constexpr std::size_t kFieldKeyBytes = 32;

class FieldCipher final {
 public:
  // Reads and parses a key file. InvalidArgument naming the path (unreadable) or the line
  // (malformed entry, bad key id, wrong key length, duplicate id, no or several current aead
  // keys, no or several hash keys). Internal when libsodium cannot initialise.
  static absl::StatusOr<FieldCipher> LoadFromFile(const std::string& path);

  // Same, from the contents of a key file (a mounted secret already read, tests).
  static absl::StatusOr<FieldCipher> FromKeyFileContents(std::string_view contents);

  FieldCipher(FieldCipher&&) noexcept = default;
  FieldCipher& operator=(FieldCipher&&) noexcept = default;
  FieldCipher(const FieldCipher&) = delete;
  FieldCipher& operator=(const FieldCipher&) = delete;
  ~FieldCipher() = default;

  // Encrypts `plaintext` under the current key with a fresh random nonce. `associated_data`
  // is authenticated but not stored: give the context the value belongs to (e.g.
  // "access.booking.patient_family_name:<tenant>:<booking id>") and the same string to
  // Decrypt, so that a ciphertext copied to another row or column does not decrypt. Two
  // encryptions of the same value differ. Never fails in practice; Internal if libsodium does.
  absl::StatusOr<std::string> Encrypt(std::string_view plaintext,
                                      std::string_view associated_data) const;

  // The plaintext, or:
  //   DataLoss  the value is not a cpts1 ciphertext, or it was altered, truncated, or encrypted
  //             with other associated data (authentication failed);
  //   Internal  the key id it names is not in the key file (a deployment error: an old key
  //             was removed while data still uses it).
  // Never returns unauthenticated bytes.
  absl::StatusOr<std::string> Decrypt(std::string_view ciphertext,
                                      std::string_view associated_data) const;

  // True when `ciphertext` was not encrypted under the current key (or is not a cpts1
  // ciphertext): a store rewriting such values completes a key rotation.
  bool NeedsReencryption(std::string_view ciphertext) const;

  // BLAKE2b-256 keyed with the hash key, of a value the caller has normalised (e.g. folded
  // names + birth date + commune): "<hash-key-id>:<base64url without padding, 43 chars>".
  // Deterministic for a given key file, so equal inputs give equal strings that a store can
  // index; without the key it reveals nothing about the value.
  std::string KeyedHash(std::string_view normalised_value) const;

  const std::string& current_key_id() const { return keys_[current_].id; }
  const std::string& hash_key_id() const { return hash_key_.id; }

 private:
  struct Key {
    std::string id;
    std::array<unsigned char, kFieldKeyBytes> bytes{};
    Key() = default;
    Key(Key&& other) noexcept;
    Key& operator=(Key&& other) noexcept;
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    ~Key();
  };

  FieldCipher() = default;
  const Key* FindAeadKey(std::string_view id) const;

  std::vector<Key> keys_;
  std::size_t current_ = 0;
  Key hash_key_;
};

// The key id a cpts1 ciphertext names, or DataLoss if it is not one.
absl::StatusOr<std::string> CiphertextKeyId(std::string_view ciphertext);

// Contents of a fresh key file: one current aead key with id `aead_key_id` and one hash key
// with id `hash_key_id`, from the system's CSPRNG. InvalidArgument on a bad id.
absl::StatusOr<std::string> GenerateKeyFileContents(std::string_view aead_key_id = "k1",
                                                    std::string_view hash_key_id = "h1");

// Writes GenerateKeyFileContents() to `path`, created with mode 0600. Refuses to overwrite an
// existing file (AlreadyExists): losing a key loses the data encrypted with it. For the local
// stack; production keys come from the secret store.
absl::Status GenerateKeyFile(const std::string& path);

// `contents` with a new random aead key `new_key_id` appended and made current (the previous
// current key loses its mark and stays for decryption). InvalidArgument if `contents` is not
// a valid key file or the id is bad or already used.
absl::StatusOr<std::string> RotateKeyFileContents(std::string_view contents,
                                                  std::string_view new_key_id);

}  // namespace cpts::platform::crypto
