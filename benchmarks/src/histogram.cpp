#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kvbench {

int Histogram::bucket_of(std::uint64_t v) {
  if (v < static_cast<std::uint64_t>(kLinear)) return static_cast<int>(v);
  int exponent = 63 - std::countl_zero(v);  // >= kSubBits + 1
  if (exponent >= kMaxExponent) return kBuckets - 1;
  int sub = static_cast<int>((v >> (exponent - kSubBits)) & ((1u << kSubBits) - 1));
  return kLinear + (exponent - kSubBits - 1) * (1 << kSubBits) + sub;
}

std::uint64_t Histogram::bucket_low(int b) {
  if (b < kLinear) return static_cast<std::uint64_t>(b);
  int exponent = (b - kLinear) / (1 << kSubBits) + kSubBits + 1;
  std::uint64_t sub = static_cast<std::uint64_t>((b - kLinear) % (1 << kSubBits));
  return (std::uint64_t{1} << exponent) + (sub << (exponent - kSubBits));
}

std::uint64_t Histogram::bucket_high(int b) {
  if (b < kLinear) return static_cast<std::uint64_t>(b);
  int exponent = (b - kLinear) / (1 << kSubBits) + kSubBits + 1;
  return bucket_low(b) + (std::uint64_t{1} << (exponent - kSubBits)) - 1;
}

void Histogram::record(std::uint64_t nanos) {
  ++buckets_[static_cast<std::size_t>(bucket_of(nanos))];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void Histogram::merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      std::uint64_t mid = bucket_low(b) + (bucket_high(b) - bucket_low(b)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace kvbench
