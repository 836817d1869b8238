#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/platform/auth/principal.h"

namespace cpts::platform::auth::internal {

// The time claims of a token, kept so that a cache hit can re-check them. InfinitePast stands
// for an absent `nbf` or `iat`.
struct TokenTimes {
  absl::Time expires_at;
  absl::Time not_before = absl::InfinitePast();
  absl::Time issued_at = absl::InfinitePast();
};

// OK, or Unauthenticated("token expired" / "token not yet valid" / "token issued in the
// future") for `now` with `leeway` of tolerated skew either way.
absl::Status CheckTokenTimes(const TokenTimes& times, absl::Time now, absl::Duration leeway);

struct VerifiedToken {
  Principal principal;
  TokenTimes times;
};

// Tokens whose signature and claims have been verified, keyed by the exact token string. The
// map is split in shards, each with its own reader/writer lock, so that the RPC threads looking
// up tokens rarely meet. Bounded: a full shard first drops its expired entries, then arbitrary
// ones. Thread-safe.
class VerifiedTokenCache final {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kEntriesPerShard = 256;

  std::optional<VerifiedToken> Find(std::string_view token) const;
  // `now` is used to drop expired entries when the shard is full.
  void Insert(std::string_view token, VerifiedToken verified, absl::Time now);
  size_t Size() const;

 private:
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, VerifiedToken> entries ABSL_GUARDED_BY(mu);
  };

  Shard& ShardFor(std::string_view token) const;

  mutable std::array<Shard, kShards> shards_;
};

}  // namespace cpts::platform::auth::internal
