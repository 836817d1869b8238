#pragma once

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace cpts::bench {

// Latency histogram with log-linear buckets (as HdrHistogram with 2 significant digits):
// values below 256 ns are exact, above that each power of two is split into 128 buckets, so a
// reported percentile is within 0.8% of the true value. Fixed size (35 KiB), no allocation on
// Record, not thread-safe: one per generator thread, merged at the end.
class LatencyHistogram {
 public:
  void Record(absl::Duration latency);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  absl::Duration min() const;
  absl::Duration max() const;
  absl::Duration mean() const;
  // The value below which a fraction `q` (0 < q <= 1) of the recorded values fall; zero when
  // empty. Reported as the middle of its bucket, clamped to [min, max].
  absl::Duration Percentile(double q) const;

 private:
  static constexpr int kSubBucketBits = 7;  // 128 buckets per power of two
  static constexpr int kMaxExponent = 40;   // 2^40 ns = 18 minutes; longer values are clamped
  static constexpr int kBuckets = (kMaxExponent - kSubBucketBits + 1) << kSubBucketBits;

  static int BucketOf(uint64_t nanos);
  static uint64_t BucketMiddle(int bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_nanos_ = 0;
  uint64_t min_nanos_ = UINT64_MAX;
  uint64_t max_nanos_ = 0;
};

}  // namespace cpts::bench
