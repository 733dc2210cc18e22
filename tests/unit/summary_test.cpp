// SPDX-License-Identifier: MIT
// Moments and QuantileSketch against exact answers; merges independent of how values were split.
#include "steppe/summary.hpp"

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "steppe/distribution.hpp"
#include "steppe/error.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {
std::vector<double> draws(const steppe::Distribution& d, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) {
    steppe::Rng rng(11, std::uint64_t(i));
    v.push_back(d.sample(rng));
  }
  return v;
}
}  // namespace

TEST_CASE("Moments: mean and sd of a hand-checkable set, and merges in any split", "[unit]") {
  steppe::Moments m;
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) m.add(x);
  CHECK(m.count() == 8);
  CHECK(m.mean() == 5.0);
  CHECK_THAT(m.sd(), WithinRel(std::sqrt(32.0 / 7.0), 1e-15));
  // Large offset: a naive sum of squares would lose every digit of the variance.
  steppe::Moments big, a, b;
  for (int i = 0; i < 1000; ++i) {
    const double x = 1e9 + (i % 10);
    big.add(x);
    (i < 300 ? a : b).add(x);
  }
  a.merge(b);
  CHECK(a.count() == big.count());
  CHECK_THAT(a.mean(), WithinRel(big.mean(), 1e-15));
  CHECK_THAT(big.sd(), WithinRel(std::sqrt(8.25 * 1000.0 / 999.0), 1e-6));
}

TEST_CASE("Moments: a batch added at once gives the batch's mean and sd, merged like a partial",
          "[unit]") {
  const std::vector<double> set{2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0};
  steppe::Moments m;
  m.add(std::span<const double>(set));
  CHECK(m.count() == 8);
  CHECK(m.mean() == 5.0);
  CHECK_THAT(m.sd(), WithinRel(std::sqrt(32.0 / 7.0), 1e-15));
  m.add(std::span<const double>());  // an empty batch changes nothing
  CHECK(m.count() == 8);
  // A batch of one is add(x); an odd-sized batch uses the remainder loop.
  steppe::Moments one, single;
  one.add(std::span<const double>(set.data(), 1));
  single.add(set[0]);
  CHECK(std::bit_cast<std::uint64_t>(one.mean()) == std::bit_cast<std::uint64_t>(single.mean()));
  steppe::Moments odd;
  odd.add(std::span<const double>(set.data(), 7));
  CHECK_THAT(odd.mean(), WithinRel(31.0 / 7.0, 1e-15));
  // A stream at a large offset in batches of 32 (as run_draws adds it) against value by value:
  // the same mean and sd to rounding, and the same bits when the same batches are added again.
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(1e9 + double((i * 7) % 13) + 0.25 * (i % 3));
  steppe::Moments by_value, by_batch, again;
  for (double x : v) by_value.add(x);
  for (std::size_t i = 0; i < v.size(); i += 32) {
    const std::span<const double> batch(v.data() + i, std::min<std::size_t>(32, v.size() - i));
    by_batch.add(batch);
    again.add(batch);
  }
  CHECK(by_batch.count() == 1000);
  CHECK_THAT(by_batch.mean(), WithinRel(by_value.mean(), 1e-15));
  CHECK_THAT(by_batch.sd(), WithinRel(by_value.sd(), 1e-9));
  CHECK(std::bit_cast<std::uint64_t>(by_batch.mean()) ==
        std::bit_cast<std::uint64_t>(again.mean()));
  CHECK(std::bit_cast<std::uint64_t>(by_batch.sd()) == std::bit_cast<std::uint64_t>(again.sd()));
}

TEST_CASE("QuantileSketch quantiles are within alpha of the exact order statistics", "[unit]") {
  const auto d = GENERATE(steppe::Distribution::lognormal(13.0, 0.3),   // tolls around 440,000
                          steppe::Distribution::normal(-50.0, 400.0),   // mixed signs
                          steppe::Distribution::uniform(0.0, 1.0));
  const double alpha = 1e-3;
  std::vector<double> v = draws(d, 20000);
  steppe::QuantileSketch s(alpha);
  for (double x : v) s.add(x);
  std::sort(v.begin(), v.end());
  for (double q : {0.0, 0.025, 0.1, 0.5, 0.9, 0.975, 1.0}) {
    const double exact = v[std::size_t(std::floor(q * double(v.size() - 1)))];
    INFO(d.describe() << " q = " << q);
    CHECK(std::abs(s.quantile(q) - exact) <= alpha * std::abs(exact) * (1 + 1e-12));
  }
}

TEST_CASE("QuantileSketch merges exactly, whatever the split and order", "[unit]") {
  const std::vector<double> v = draws(steppe::Distribution::normal(1e6, 2e5), 5000);
  steppe::QuantileSketch whole, parts[3];
  for (double x : v) whole.add(x);
  for (std::size_t i = 0; i < v.size(); ++i) parts[(i * 7) % 3].add(v[v.size() - 1 - i]);
  steppe::QuantileSketch merged;
  merged.merge(parts[2]);
  merged.merge(parts[0]);
  merged.merge(parts[1]);
  CHECK(merged.count() == whole.count());
  for (double q : {0.025, 0.5, 0.975}) CHECK(merged.quantile(q) == whole.quantile(q));
  CHECK_THROWS_AS(merged.merge(steppe::QuantileSketch(0.01)), steppe::domain_error);
  CHECK_THROWS_AS(steppe::QuantileSketch().quantile(0.5), steppe::domain_error);
  CHECK_THROWS_AS(whole.add(NAN), steppe::domain_error);
}

TEST_CASE("QuantileSketch keeps relative accuracy alpha for values spanning 1e-3 to 1e9",
          "[unit]") {
  const double alpha = GENERATE(1e-3, 1e-2, 0.05);
  INFO("alpha = " << alpha);
  // Each value alone: the sketch's only value comes back within alpha, at every magnitude
  // (log-uniform over 12 decades, powers of two and their neighbours, both signs).
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> decades(-3.0, 9.0);
  std::vector<double> xs;
  for (int i = 0; i < 20000; ++i) xs.push_back(std::pow(10.0, decades(rng)));
  for (int e = -10; e <= 30; ++e)
    for (double f : {1.0, std::nextafter(1.0, 2.0), std::nextafter(1.0, 0.0), 1.5, 4.0 / 3.0})
      xs.push_back(std::ldexp(f, e));
  xs.push_back(1e-3);
  xs.push_back(1e9);
  double worst = 0;
  for (double x : xs) {
    for (double sign : {1.0, -1.0}) {
      steppe::QuantileSketch s(alpha);
      s.add(sign * x);
      const double got = s.quantile(0.5);
      worst = std::max(worst, std::abs(got - sign * x) / x);
    }
  }
  CHECK(worst <= alpha * (1 + 1e-12));
  // All of them together: every quantile is within alpha of the exact order statistic, and the
  // result does not depend on insertion order.
  steppe::QuantileSketch all(alpha), reversed(alpha);
  for (double x : xs) all.add(x);
  for (std::size_t i = xs.size(); i-- > 0;) reversed.add(xs[i]);
  std::sort(xs.begin(), xs.end());
  for (double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0}) {
    const double exact = xs[std::size_t(std::floor(q * double(xs.size() - 1)))];
    INFO("q = " << q);
    CHECK(std::abs(all.quantile(q) - exact) <= alpha * exact * (1 + 1e-12));
    CHECK(all.quantile(q) == reversed.quantile(q));
  }
}

TEST_CASE("WeightedMoments: integer weights equal repeated values; merges in any split", "[unit]") {
  // Weights 1, 3, 2, 2 on 2, 4, 5, 9 = the values 2, 4, 4, 4, 5, 5, 9, 9 unweighted.
  steppe::WeightedMoments w;
  const double xs[] = {2.0, 4.0, 5.0, 9.0}, ws[] = {1.0, 3.0, 2.0, 2.0};
  for (int i = 0; i < 4; ++i) w.add(xs[i], ws[i]);
  CHECK(w.count() == 4);
  CHECK(w.weight() == 8.0);
  CHECK_THAT(w.mean(), WithinRel(42.0 / 8.0, 1e-15));
  // Σw(x − m)² = 1·3.25² + 3·1.25² + 2·0.25² + 2·3.75² = 43.5; W − Σw²/W = 8 − 18/8.
  CHECK_THAT(w.sd(), WithinRel(std::sqrt(43.5 / (8.0 - 18.0 / 8.0)), 1e-14));
  CHECK_THAT(w.effective_size(), WithinRel(64.0 / 18.0, 1e-15));
  // Unit weights reduce to Moments.
  steppe::WeightedMoments unit;
  steppe::Moments plain;
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) {
    unit.add(x, 1.0);
    plain.add(x);
  }
  CHECK_THAT(unit.sd(), WithinRel(plain.sd(), 1e-14));
  CHECK(unit.effective_size() == 8.0);
  // A zero weight counts the value and moves nothing; merging splits gives the same summary.
  steppe::WeightedMoments a, b, all;
  for (int i = 0; i < 100; ++i) {
    const double x = 1e6 + i % 7, wt = (i % 5 == 0) ? 0.0 : 0.5 + (i % 3);
    all.add(x, wt);
    (i < 37 ? a : b).add(x, wt);
  }
  a.merge(b);
  CHECK(a.count() == 100);
  CHECK_THAT(a.weight(), WithinRel(all.weight(), 1e-15));
  CHECK_THAT(a.mean(), WithinRel(all.mean(), 1e-15));
  CHECK_THAT(a.sd(), WithinRel(all.sd(), 1e-9));
}

TEST_CASE("QuantileSketch: a weight counts as that many copies", "[unit]") {
  steppe::QuantileSketch weighted, copies;
  for (int i = 1; i <= 50; ++i) {
    weighted.add(double(i), std::uint64_t(i % 4));
    for (int c = 0; c < i % 4; ++c) copies.add(double(i));
  }
  CHECK(weighted.count() == copies.count());
  for (double q : {0.0, 0.1, 0.5, 0.9, 1.0}) CHECK(weighted.quantile(q) == copies.quantile(q));
}

TEST_CASE("QuantileSketch: repeated values sum across the sorted and pending buckets", "[unit]") {
  // 50 distinct values (both signs and zero), each added 40 times in a scrambled order: the
  // buckets fold many times with shared indices. Every order statistic is then the bucket of
  // the exact value, which a sketch holding that value alone reports.
  std::vector<double> v;
  for (int k = 0; k < 50; ++k) v.push_back(k == 25 ? 0.0 : (k - 25) * std::pow(1.7, k % 13));
  std::vector<double> all;
  for (int c = 0; c < 40; ++c)
    for (std::size_t k = 0; k < v.size(); ++k) all.push_back(v[(k * 17 + std::size_t(c) * 7) % v.size()]);
  steppe::QuantileSketch s, half[2];
  for (std::size_t i = 0; i < all.size(); ++i) {
    s.add(all[i]);
    half[i % 2].add(all[i]);
  }
  steppe::QuantileSketch merged, moved;
  merged.merge(half[0]);
  merged.merge(half[1]);
  moved.merge(steppe::QuantileSketch(s));  // into an empty sketch: takes the storage
  std::sort(all.begin(), all.end());
  for (double q : {0.0, 0.01, 0.2, 0.5, 0.51, 0.8, 0.99, 1.0}) {
    const double exact = all[std::size_t(std::floor(q * double(all.size() - 1)))];
    steppe::QuantileSketch one;
    one.add(exact);
    INFO("q = " << q);
    CHECK(s.quantile(q) == one.quantile(0.5));
    CHECK(merged.quantile(q) == one.quantile(0.5));
    CHECK(moved.quantile(q) == one.quantile(0.5));
  }
}

TEST_CASE("QuantileSketch: batched adds count as one add per value", "[unit]") {
  // Both signs, zeros and tiny magnitudes, in batches of uneven length (folds at other points).
  std::vector<double> v = draws(steppe::Distribution::normal(0.0, 1e4), 3000);
  v[10] = 0.0;
  v[11] = -1e-310;
  std::vector<std::uint64_t> w(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) w[i] = i % 5;  // zero weights included
  steppe::QuantileSketch one, batched, one_w, batched_w;
  for (std::size_t i = 0; i < v.size(); ++i) {
    one.add(v[i]);
    one_w.add(v[i], w[i]);
  }
  for (std::size_t i = 0, len = 1; i < v.size(); i += len, len = len * 3 % 97 + 1) {
    const std::size_t n = std::min(len, v.size() - i);
    batched.add(std::span<const double>(&v[i], n));
    batched_w.add(std::span<const double>(&v[i], n), std::span<const std::uint64_t>(&w[i], n));
  }
  CHECK(batched.count() == one.count());
  CHECK(batched_w.count() == one_w.count());
  for (double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.999, 1.0}) {
    CHECK(batched.quantile(q) == one.quantile(q));
    CHECK(batched_w.quantile(q) == one_w.quantile(q));
  }
  // A value not finite: the ones before it are added, then the error.
  steppe::QuantileSketch partial;
  const double bad[] = {1.0, 2.0, INFINITY, 3.0};
  CHECK_THROWS_AS(partial.add(std::span<const double>(bad)), steppe::domain_error);
  CHECK(partial.count() == 2);
  const std::uint64_t bad_w[] = {1, 0, 1, 1};
  CHECK_THROWS_AS(partial.add(std::span<const double>(bad), std::span<const std::uint64_t>(bad_w)),
                  steppe::domain_error);
  CHECK(partial.count() == 3);
}

TEST_CASE("Moments: adding x n times at once gives the bits of n single adds", "[unit]") {
  // Sequences where the O(1) path applies (x equal to the mean: a constant output) and where it
  // must not (x differs from the mean; ±0; a mean that is not exactly representable).
  const std::vector<std::vector<double>> prefixes = {
      {}, {2.5}, {0.0}, {-0.0}, {1.0, 2.0}, {0.1, 0.2, 0.3}, {3.0, 3.0}, {-7.25}};
  const std::vector<double> xs = {2.5, 0.0, -0.0, 1.5, 0.2, 3.0, -7.25, 1e300};
  for (const auto& prefix : prefixes)
    for (double x : xs)
      for (std::uint64_t times : {std::uint64_t(0), std::uint64_t(1), std::uint64_t(5)}) {
        steppe::Moments a, b;
        for (double p : prefix) {
          a.add(p);
          b.add(p);
        }
        for (std::uint64_t k = 0; k < times; ++k) a.add(x);
        b.add(x, times);
        CAPTURE(prefix, x, times);
        REQUIRE(a.count() == b.count());
        REQUIRE(std::bit_cast<std::uint64_t>(a.mean()) == std::bit_cast<std::uint64_t>(b.mean()));
        REQUIRE(std::bit_cast<std::uint64_t>(a.sd()) == std::bit_cast<std::uint64_t>(b.sd()));
      }
  steppe::Moments c;  // a constant stream: mean exactly the value, sd exactly 0
  c.add(6151102.0);
  c.add(6151102.0, 1000);
  CHECK(c.count() == 1001);
  CHECK(c.mean() == 6151102.0);
  CHECK(c.sd() == 0.0);
}

TEST_CASE("QuantileSketch: indices beyond 32 bits (a tiny alpha) mix with the usual ones",
          "[unit]") {
  // At alpha = 1e-8 a magnitude of 1e30 has a bucket index beyond 2^31: such additions keep
  // 64-bit buckets, values near 1 take the 32-bit path, and a fold merges both.
  const double alpha = 1e-8;
  steppe::QuantileSketch s(alpha);
  std::vector<double> v;
  for (int i = 0; i < 3000; ++i) {
    const double x = i % 3 == 0   ? 1e30 * (1.0 + 1e-3 * i)
                     : i % 3 == 1 ? 1.0 + 1e-3 * i
                                  : -1e-30 * (1.0 + i);
    v.push_back(x);
    s.add(x);
  }
  std::sort(v.begin(), v.end());
  CHECK(s.count() == v.size());
  for (double q : {0.0, 0.1, 0.33, 0.5, 0.9, 1.0}) {
    const double exact = v[std::size_t(std::floor(q * double(v.size() - 1)))];
    INFO("q = " << q);
    CHECK(std::abs(s.quantile(q) - exact) <= alpha * std::abs(exact) * (1 + 1e-9));
  }
}

TEST_CASE("QuantileSketch: magnitudes near the ends of the double range", "[unit]") {
  // The bucket's harmonic mean 2·lo·hi/(lo + hi) would overflow (1e250) or underflow (1e-250).
  const double alpha = 1e-3;
  for (double x :
       {1e250, -1e250, 1e-250, -1e-250, 1e300, 9e307, -1e308, std::numeric_limits<double>::max(),
        2e-300}) {  // (below 1e-300: zero, as documented)
    steppe::QuantileSketch s(alpha);
    s.add(x);
    INFO("x = " << x);
    CHECK(std::abs(s.quantile(0.5) - x) <= alpha * std::abs(x));
  }
}
