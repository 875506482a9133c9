// The seeded random numbers of the data module: the same seed gives the same corpus, order and
// shuffle on every machine and compiler (std::*_distribution are not portable, so none is used).
#pragma once

#include <cstdint>

namespace scalelab::data {

// SplitMix64's finaliser: a bijective 64-bit mix, used to derive seeds and as a hash.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (int i = 0; i < 4; ++i) s_[i] = mix64(seed + static_cast<uint64_t>(i) * 0xD1B54A32D192ED03ull);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0, without modulo bias (rejection).
  uint64_t below(uint64_t n) {
    const uint64_t limit = n * ((~uint64_t{0}) / n);  // largest multiple of n that fits
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace scalelab::data
