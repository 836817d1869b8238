#include "services/platform/core/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace cpts::platform {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}  // namespace

std::string RandomIdGenerator::NewId() {
  const auto millis = static_cast<uint64_t>(absl::ToUnixMillis(clock_.Now()));
  std::array<unsigned char, 10> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    // Without entropy ids could collide; failing loudly is the only safe answer.
    std::abort();
  }
  // 128 bits = 48 time bits + 80 random bits, emitted 5 bits at a time (26 chars, 130 bits).
  std::array<unsigned char, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<unsigned char>(millis >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i) bytes[6 + i] = random[i];
  std::string out(26, '0');
  // Treat the 16 bytes as a 128-bit big-endian number, left-padded with 2 zero bits.
  for (int c = 0; c < 26; ++c) {
    const int bit = c * 5 - 2;  // position of the first of the 5 bits in the 128-bit stream
    int value = 0;
    for (int b = 0; b < 5; ++b) {
      const int pos = bit + b;
      int v = 0;
      if (pos >= 0) v = (bytes[pos / 8] >> (7 - pos % 8)) & 1;
      value = (value << 1) | v;
    }
    out[c] = kCrockford[value];
  }
  return out;
}

std::string SequentialIdGenerator::NewId() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08ld", next_.fetch_add(1));
  return prefix_ + buf;
}

}  // namespace cpts::platform
