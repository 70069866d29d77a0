// A log-linear latency histogram (about 3% resolution, 1 ns to ~18 minutes),
// one per thread and operation, merged after a run. Fixed size, no
// allocation while recording.
#pragma once

#include <array>
#include <cstdint>

namespace kvbench {

class Histogram {
 public:
  static constexpr int kSubBits = 5;                   // 32 sub-buckets per power of two
  static constexpr int kLinear = 1 << (kSubBits + 1);  // values below 64 are exact
  static constexpr int kMaxExponent = 40;              // 2^40 ns ~ 18 minutes
  static constexpr int kBuckets = kLinear + (kMaxExponent - kSubBits) * (1 << kSubBits);

  void record(std::uint64_t nanos);
  void merge(const Histogram& other);
  void clear() { *this = Histogram(); }

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The smallest recorded value v such that at least q (0..1) of the samples
  // are <= v, reported as the midpoint of its bucket (clamped to [min, max]).
  std::uint64_t percentile(double q) const;

  // Bucket index of a value and the [low, high] value range of a bucket.
  static int bucket_of(std::uint64_t nanos);
  static std::uint64_t bucket_low(int bucket);
  static std::uint64_t bucket_high(int bucket);

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace kvbench
