#include "bench/load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cpts::bench {

int LatencyHistogram::BucketOf(uint64_t nanos) {
  constexpr uint64_t kLimit = (uint64_t{1} << kMaxExponent) - 1;
  const uint64_t v = std::min(nanos, kLimit);
  // Values below 2^(bits+1) have a bucket each; above, the `shift` low bits are dropped, which
  // keeps 2^bits distinct buckets per power of two: bucket = shift * 2^bits + (v >> shift).
  const int exponent = 63 - std::countl_zero(v | 1);
  const int shift = std::max(0, exponent - kSubBucketBits);
  return (shift << kSubBucketBits) + static_cast<int>(v >> shift);
}

uint64_t LatencyHistogram::BucketMiddle(int bucket) {
  constexpr int kSubBuckets = 1 << kSubBucketBits;
  if (bucket < 2 * kSubBuckets) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSubBuckets - 1;
  const uint64_t mantissa = static_cast<uint64_t>(bucket - (shift << kSubBucketBits));
  return (mantissa << shift) + (uint64_t{1} << (shift - 1));
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t nanos = absl::ToInt64Nanoseconds(latency);
  const uint64_t v = nanos > 0 ? static_cast<uint64_t>(nanos) : 0;
  ++buckets_[static_cast<size_t>(BucketOf(v))];
  ++count_;
  sum_nanos_ += v;
  min_nanos_ = std::min(min_nanos_, v);
  max_nanos_ = std::max(max_nanos_, v);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_nanos_ += other.sum_nanos_;
  min_nanos_ = std::min(min_nanos_, other.min_nanos_);
  max_nanos_ = std::max(max_nanos_, other.max_nanos_);
}

absl::Duration LatencyHistogram::min() const {
  return count_ == 0 ? absl::ZeroDuration() : absl::Nanoseconds(min_nanos_);
}

absl::Duration LatencyHistogram::max() const { return absl::Nanoseconds(max_nanos_); }

absl::Duration LatencyHistogram::mean() const {
  return count_ == 0
             ? absl::ZeroDuration()
             : absl::Nanoseconds(static_cast<double>(sum_nanos_) / static_cast<double>(count_));
}

absl::Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return absl::ZeroDuration();
  const double clamped = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(clamped * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const uint64_t middle = BucketMiddle(static_cast<int>(i));
      return absl::Nanoseconds(std::clamp(middle, min_nanos_, max_nanos_));
    }
  }
  return max();
}

}  // namespace cpts::bench
