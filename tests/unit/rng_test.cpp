// SPDX-License-Identifier: MIT
// Rng: streams depend only on (seed, draw, stream); uniform01 is uniform and in (0, 1).
#include "steppe/rng.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

TEST_CASE("a stream depends only on (seed, draw, stream)", "[unit]") {
  steppe::Rng a(42, 7, steppe::stream_id("/groups/0/fertility/tfr"));
  steppe::Rng b(42, 7, steppe::stream_id("/groups/0/fertility/tfr"));
  for (int i = 0; i < 100; ++i) CHECK(a() == b());
  // Any component changed gives another stream.
  steppe::Rng c(43, 7, steppe::stream_id("/groups/0/fertility/tfr"));
  steppe::Rng d(42, 8, steppe::stream_id("/groups/0/fertility/tfr"));
  steppe::Rng e(42, 7, steppe::stream_id("/groups/1/fertility/tfr"));
  steppe::Rng ref(42, 7, steppe::stream_id("/groups/0/fertility/tfr"));
  const auto first = ref();
  CHECK(c() != first);
  CHECK(d() != first);
  CHECK(e() != first);
  CHECK(steppe::stream_id("a") != steppe::stream_id("b"));
}

TEST_CASE("uniform01 has the moments of U(0, 1) and neighbouring streams are uncorrelated",
          "[unit]") {
  const int n = 200000;
  double sum = 0, sum2 = 0, cross = 0, lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    steppe::Rng r1(1, std::uint64_t(i), 0), r2(1, std::uint64_t(i), 1);
    const double u = r1.uniform01(), v = r2.uniform01();
    sum += u;
    sum2 += u * u;
    cross += (u - 0.5) * (v - 0.5);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  // Standard errors: mean 0.29/sqrt(n) = 6.5e-4; use 5 of them.
  CHECK(std::abs(mean - 0.5) < 0.0033);
  CHECK(std::abs(var - 1.0 / 12.0) < 0.0015);
  CHECK(std::abs(cross / n / (1.0 / 12.0)) < 0.012);  // correlation, se 1/sqrt(n) = 0.0022
  CHECK(lo > 0.0);
  CHECK(hi < 1.0);
}
