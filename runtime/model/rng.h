// A small deterministic random generator (SplitMix64) whose whole state is one integer, so that it
// is trivially checkpointed and gives the same numbers on every machine and compiler (unlike
// std::normal_distribution, whose algorithm the standard leaves open).
#pragma once

#include <cmath>
#include <cstdint>

namespace scalelab::model {

struct Rng {
  uint64_t state = 0;

  explicit Rng(uint64_t seed = 0) : state(seed) {}

  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): never 0, so log() is safe.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  // Standard normal by Box–Muller (one draw per call; two uniforms consumed).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace scalelab::model
