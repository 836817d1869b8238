#include "services/platform/auth/verified_token_cache.h"

#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "services/platform/auth/jwt_internal.h"

namespace cpts::platform::auth::internal {

absl::Status CheckTokenTimes(const TokenTimes& times, absl::Time now, absl::Duration leeway) {
  // RFC 7519: the token is valid strictly before `exp` and from `nbf` on.
  if (now >= times.expires_at + leeway) {
    return absl::UnauthenticatedError("token expired");
  }
  if (now + leeway < times.not_before) {
    return absl::UnauthenticatedError("token not yet valid");
  }
  if (now + leeway < times.issued_at) {
    return absl::UnauthenticatedError("token issued in the future");
  }
  return absl::OkStatus();
}

VerifiedTokenCache::Shard& VerifiedTokenCache::ShardFor(std::string_view token) const {
  // The top bits pick the shard: flat_hash_map uses the low bits of the same hash, and a shard
  // whose keys all shared them would probe worse.
  const size_t hash = absl::Hash<absl::string_view>{}(ToAbsl(token));
  return shards_[(hash >> (sizeof(size_t) * 8 - 8)) % kShards];
}

std::optional<VerifiedToken> VerifiedTokenCache::Find(std::string_view token) const {
  Shard& shard = ShardFor(token);
  absl::ReaderMutexLock lock(&shard.mu);
  const auto it = shard.entries.find(ToAbsl(token));
  if (it == shard.entries.end()) {
    return std::nullopt;
  }
  return it->second;
}

void VerifiedTokenCache::Insert(std::string_view token, VerifiedToken verified, absl::Time now) {
  Shard& shard = ShardFor(token);
  absl::MutexLock lock(&shard.mu);
  if (shard.entries.size() >= kEntriesPerShard && !shard.entries.contains(ToAbsl(token))) {
    absl::erase_if(shard.entries,
                   [now](const auto& entry) { return entry.second.times.expires_at <= now; });
    if (shard.entries.size() >= kEntriesPerShard) {
      shard.entries.erase(shard.entries.begin());
    }
  }
  shard.entries.insert_or_assign(std::string(token), std::move(verified));
}

size_t VerifiedTokenCache::Size() const {
  size_t size = 0;
  for (const Shard& shard : shards_) {
    absl::ReaderMutexLock lock(&shard.mu);
    size += shard.entries.size();
  }
  return size;
}

}  // namespace cpts::platform::auth::internal
