// SPDX-License-Identifier: MIT
// Reproducible random numbers for Monte Carlo draws: the stream of draw i of parameter k depends
// only on (seed, i, k), never on thread count, draw order or the other parameters.
#pragma once

#include <cstdint>
#include <string_view>

namespace steppe {

/// SplitMix64 (Steele, Lea & Flood 2014): mixes 64 bits; used to seed and to hash.
inline constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// A stable 64-bit id for a parameter name or JSON pointer (FNV-1a, then mixed), so that a
/// parameter keeps its own stream when others are added to or removed from a scenario, and
/// every grid point of a sweep sees the same random numbers (common random numbers).
inline constexpr std::uint64_t stream_id(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return splitmix64(h);
}

/// xoshiro256** (Blackman & Vigna 2018), seeded from (seed, draw, stream) through SplitMix64.
/// Satisfies UniformRandomBitGenerator. Period 2^256 − 1; streams of different (seed, draw,
/// stream) are statistically independent for Monte Carlo purposes.
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed, std::uint64_t draw = 0, std::uint64_t stream = 0) noexcept {
    std::uint64_t x = splitmix64(seed) ^ splitmix64(draw + 0x632be59bd9b4e019ULL) ^
                      splitmix64(stream + 0x8cb92ba72f3d8dd7ULL);
    for (std::uint64_t& s : s_) s = x = splitmix64(x);
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return ~result_type{0}; }

  result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on (0, 1): 53 random bits, never exactly 0 or 1 (safe for inverse CDFs and logs).
  double uniform01() noexcept { return (double((*this)() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4];
};

}  // namespace steppe
