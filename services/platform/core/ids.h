#pragma once

#include <atomic>
#include <string>

#include "services/platform/core/clock.h"

namespace cpts::platform {

// Opaque resource ids. Implementations return ids that sort by creation time, which keeps
// inserts at the end of the primary-key index.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId() = 0;
};

// ULID-like: 48-bit millisecond time + 80 random bits, 26 Crockford base32 characters.
class RandomIdGenerator final : public IdGenerator {
 public:
  explicit RandomIdGenerator(const Clock& clock) : clock_(clock) {}
  std::string NewId() override;

 private:
  const Clock& clock_;
};

// Deterministic ids for tests: prefix + zero-padded counter.
class SequentialIdGenerator final : public IdGenerator {
 public:
  explicit SequentialIdGenerator(std::string prefix = "id") : prefix_(std::move(prefix)) {}
  std::string NewId() override;

 private:
  std::string prefix_;
  std::atomic<long> next_{1};
};

}  // namespace cpts::platform
