#include "random.h"

#include <cmath>
#include <stdexcept>

namespace kvbench {

namespace {

double zeta(std::uint64_t n, double theta) {
  double sum = 0;
  for (std::uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

std::uint64_t fnv1a64(std::uint64_t value) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (int i = 0; i < 8; ++i) {
    hash ^= (value >> (i * 8)) & 0xff;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

Zipf::Zipf(std::uint64_t n, double theta) : n_(n), theta_(theta) {
  if (n == 0) throw std::invalid_argument("Zipf needs at least one item");
  if (!(theta > 0 && theta < 1)) throw std::invalid_argument("Zipf theta must be in (0, 1)");
  alpha_ = 1.0 / (1.0 - theta);
  zetan_ = zeta(n, theta);
  double zeta2 = zeta(2, theta);
  eta_ = n < 2
             ? 1.0
             : (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
  half_pow_theta_ = 1.0 + std::pow(0.5, theta);
}

std::uint64_t Zipf::rank(Rng& rng) const {
  double u = rng.unit();
  double uz = u * zetan_;
  if (uz < 1.0 || n_ == 1) return 0;
  if (uz < half_pow_theta_) return 1;
  auto r =
      static_cast<std::uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
  return r >= n_ ? n_ - 1 : r;
}

std::uint64_t Zipf::scrambled(Rng& rng) const { return fnv1a64(rank(rng)) % n_; }

double Zipf::probability(std::uint64_t r) const {
  return 1.0 / std::pow(static_cast<double>(r + 1), theta_) / zetan_;
}

}  // namespace kvbench
