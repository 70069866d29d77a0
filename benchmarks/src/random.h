// Deterministic random numbers for workloads: SplitMix64 and a YCSB-style
// scrambled Zipfian generator (Gray et al., "Quickly generating billion-record
// synthetic databases", SIGMOD 1994).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvbench {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// Ranks in [0, n) with P(rank r) proportional to 1/(r+1)^theta. Rank 0 is the
// hottest. The constructor costs O(n); next() is O(1). Immutable after
// construction, so one generator is shared by all threads (each brings its Rng).
class Zipf {
 public:
  explicit Zipf(std::uint64_t n, double theta = 0.99);
  std::uint64_t n() const { return n_; }
  // A rank drawn from the distribution.
  std::uint64_t rank(Rng& rng) const;
  // rank() mapped through a fixed hash, so the hot items are spread over the
  // key space instead of being the lowest indexes (YCSB "scrambled zipfian").
  std::uint64_t scrambled(Rng& rng) const;
  // The probability of rank r (for tests and documentation).
  double probability(std::uint64_t r) const;

 private:
  std::uint64_t n_;
  double theta_, alpha_, zetan_, eta_, half_pow_theta_;
};

}  // namespace kvbench
