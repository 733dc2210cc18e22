// SPDX-License-Identifier: MIT
// Distributions: sample moments against closed forms, exact truncation, bad parameters.
#include "steppe/distribution.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "steppe/error.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::Distribution;

namespace {

struct Moments {
  double mean, sd, min, max;
};

Moments sample_moments(const Distribution& d, int n = 100000, std::uint64_t seed = 2026) {
  double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; ++i) {
    steppe::Rng rng(seed, std::uint64_t(i), 1);
    const double x = d.sample(rng);
    s += x;
    s2 += x * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = s / n;
  return {mean, std::sqrt(std::max(0.0, s2 / n - mean * mean)), lo, hi};
}

}  // namespace

TEST_CASE("the standard normal quantile inverts the CDF and matches published values", "[unit]") {
  CHECK_THAT(steppe::normal_quantile(0.975), WithinAbs(1.959963984540054, 1e-13));
  CHECK_THAT(steppe::normal_quantile(0.5), WithinAbs(0.0, 1e-15));
  CHECK_THAT(steppe::normal_quantile(0.001), WithinAbs(-3.090232306167813, 1e-12));
  for (double p : {1e-12, 1e-6, 0.01, 0.02425, 0.1, 0.3, 0.7, 0.97575, 0.999, 1 - 1e-9})
    CHECK_THAT(steppe::normal_cdf(steppe::normal_quantile(p)), WithinRel(p, 1e-12));
}

TEST_CASE("sample means and sds match the closed forms", "[unit]") {
  // n = 1e5 draws: the standard error of a mean is sd/316; 5 of them is the tolerance.
  const auto [d, expected_mean, expected_sd] = GENERATE(table<Distribution, double, double>({
      {Distribution::uniform(2.0, 5.0), 3.5, 3.0 / std::sqrt(12.0)},
      {Distribution::normal(4.2, 0.3), 4.2, 0.3},
      {Distribution::lognormal(0.1, 0.25), std::exp(0.1 + 0.03125),
       std::sqrt(std::expm1(0.0625) * std::exp(0.2 + 0.0625))},
      {Distribution::triangular(1.0, 1.5, 3.0), 5.5 / 3.0,
       std::sqrt((1 + 2.25 + 9 - 1.5 - 3 - 4.5) / 18.0)},
      {Distribution::beta(2.0, 5.0), 2.0 / 7.0, std::sqrt(10.0 / (49.0 * 8.0))},
      {Distribution::beta(0.5, 0.5, 10.0, 20.0), 15.0, 10.0 * std::sqrt(0.25 / 2.0)},
      {Distribution::choice({1.0, 2.0, 4.0}), 7.0 / 3.0, std::sqrt(14.0 / 9.0)},
      {Distribution::choice({0.0, 1.0}, {3.0, 1.0}), 0.25, std::sqrt(0.1875)},
  }));
  INFO(d.describe());
  CHECK_THAT(d.mean(), WithinRel(expected_mean, 1e-12));
  CHECK_THAT(d.sd(), WithinRel(expected_sd, 1e-12));
  const Moments m = sample_moments(d);
  CHECK_THAT(m.mean, WithinAbs(expected_mean, 5.0 * expected_sd / std::sqrt(1e5)));
  CHECK_THAT(m.sd, WithinRel(expected_sd, 0.02));
  CHECK(m.min >= d.lower());
  CHECK(m.max <= d.upper());
}

TEST_CASE("truncation is exact: bounds hold and the truncated normal mean is right", "[unit]") {
  // N(0, 1) on [-1, 2]: mean = (φ(−1) − φ(2)) / (Φ(2) − Φ(−1)).
  const Distribution d = Distribution::normal(0.0, 1.0).truncated(-1.0, 2.0);
  const auto phi = [](double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI); };
  const double mass = steppe::normal_cdf(2.0) - steppe::normal_cdf(-1.0);
  const double expected = (phi(-1.0) - phi(2.0)) / mass;
  const Moments m = sample_moments(d);
  CHECK(m.min >= -1.0);
  CHECK(m.max <= 2.0);
  CHECK_THAT(m.mean, WithinAbs(expected, 0.01));
  // A rate's domain: a normal around 0.02 truncated at 0 never goes negative.
  const Moments rate = sample_moments(Distribution::normal(0.02, 0.03).truncated(0.0, 1.0), 20000);
  CHECK(rate.min >= 0.0);
  // Beta and choice truncate too.
  CHECK(sample_moments(Distribution::beta(2, 2).truncated(0.2, 0.6), 20000).max <= 0.6);
  CHECK(sample_moments(Distribution::choice({1, 2, 3, 4}).truncated(2, 3), 2000).min == 2.0);
  CHECK_THAT(d.describe(), Catch::Matchers::Contains("truncated to [-1, 2]"));
}

TEST_CASE("draws are reproducible from (seed, draw, stream)", "[unit]") {
  const Distribution d = Distribution::beta(3.0, 1.5);
  steppe::Rng a(7, 99, 3), b(7, 99, 3);
  for (int i = 0; i < 50; ++i) CHECK(d.sample(a) == d.sample(b));
}

TEST_CASE("a draw is the distribution at the draw's first uniform number, but for beta", "[unit]") {
  // What calibration relies on to draw a parameter's uniform numbers apart from its quantiles.
  const std::vector<Distribution> kinds{Distribution::constant(2.5),
                                        Distribution::uniform(-1, 3),
                                        Distribution::uniform(0, 10).truncated(2, 7),
                                        Distribution::normal(4, 0.5),
                                        Distribution::normal(0, 1).truncated(-0.5, 2),
                                        Distribution::lognormal(0.1, 0.3),
                                        Distribution::triangular(0.7, 1, 1.4),
                                        Distribution::triangular(0, 0, 2).truncated(0.5, 1.5),
                                        Distribution::choice({1, 2, 3}, {0.2, 0.5, 0.3})};
  for (const Distribution& d : kinds)
    for (std::uint64_t draw = 0; draw < 2000; ++draw) {
      steppe::Rng a(11, draw, 5), b(11, draw, 5);
      CAPTURE(d.describe(), draw);
      CHECK(d.sample(a) == d.at_probability(b.uniform01()));
    }
}

TEST_CASE("bad distribution parameters are domain errors naming the argument", "[unit]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(Distribution::uniform(3, 1), Contains("uniform") && Contains("lo < hi"));
  CHECK_THROWS_WITH(Distribution::normal(1, 0), Contains("sd = 0"));
  CHECK_THROWS_WITH(Distribution::lognormal(0, -1), Contains("sdlog = -1"));
  CHECK_THROWS_WITH(Distribution::triangular(0, 5, 2), Contains("lo <= mode <= hi"));
  CHECK_THROWS_WITH(Distribution::beta(0, 1), Contains("alpha = 0"));
  CHECK_THROWS_WITH(Distribution::choice({}), Contains("at least one value"));
  CHECK_THROWS_WITH(Distribution::choice({1, 2}, {1}), Contains("1 weights for 2 values"));
  CHECK_THROWS_WITH(Distribution::normal(0, 1).truncated(8, 9), Contains("probability"));
  CHECK_THROWS_WITH(Distribution::uniform(0, 1).truncated(2, 3), Contains("no value"));
  CHECK_THROWS_AS(Distribution::normal(0, 1).truncated(1, 0), steppe::domain_error);
  CHECK_THROWS_AS(steppe::normal_quantile(1.5), steppe::domain_error);
}
