// cpts_field_keys: creates and rotates field-encryption key files (see field_cipher.h).
//
//   cpts_field_keys generate <path>          new file (mode 0600); refuses to overwrite
//   cpts_field_keys rotate <path> <new-id>   adds a new current aead key, keeps the old ones
//
// For the local stack and for preparing secrets; it never prints key material.

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "services/platform/crypto/field_cipher.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "cpts_field_keys: %s\n", message.c_str());
  return 1;
}

int Rotate(const std::string& path, const std::string& new_id) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0) return Fail("cannot read " + path);
  std::string contents(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(contents.data(), size)) return Fail("cannot read " + path);
  in.close();
  absl::StatusOr<std::string> rotated =
      cpts::platform::crypto::RotateKeyFileContents(contents, new_id);
  if (!rotated.ok()) return Fail(std::string(rotated.status().message()));
  // Write beside, then rename: a crash leaves either the old or the new file, never half.
  const std::string temp = path + ".tmp";
  {
    const mode_t old_mask = ::umask(077);
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    ::umask(old_mask);
    if (!out) return Fail("cannot write " + temp);
    out << *rotated;
    out.close();
    if (!out) return Fail("cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) return Fail("cannot replace " + path);
  std::printf("%s: key '%s' added and made current\n", path.c_str(), new_id.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: cpts_field_keys generate <path> | cpts_field_keys rotate <path> <new-key-id>";
  if (argc == 3 && std::string(argv[1]) == "generate") {
    const absl::Status status = cpts::platform::crypto::GenerateKeyFile(argv[2]);
    if (!status.ok()) return Fail(std::string(status.message()));
    std::printf("%s: new field key file written (mode 0600)\n", argv[2]);
    return 0;
  }
  if (argc == 4 && std::string(argv[1]) == "rotate") return Rotate(argv[2], argv[3]);
  return Fail(usage);
}
