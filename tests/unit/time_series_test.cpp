// SPDX-License-Identifier: MIT
// TimeSeries: interpolation, constancy outside the points, exact step means.
#include "steppe/time_series.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::WithinRel;

TEST_CASE("a time series interpolates linearly and is constant outside its points", "[unit]") {
  const steppe::TimeSeries tfr({{1926, 6.4}, {1931, 6.0}, {1933, 3.0}, {1939, 4.5}});
  CHECK(tfr.at(1900) == 6.4);
  CHECK(tfr.at(1926) == 6.4);
  CHECK_THAT(tfr.at(1928.5), WithinRel(6.2, 1e-15));
  CHECK_THAT(tfr.at(1932), WithinRel(4.5, 1e-15));
  CHECK(tfr.at(1939) == 4.5);
  CHECK(tfr.at(1950) == 4.5);
  CHECK(steppe::TimeSeries::constant(2.0).at(1930) == 2.0);
}

TEST_CASE("the mean over an interval integrates the piecewise-linear path", "[unit]") {
  const steppe::TimeSeries s({{1930, 0.0}, {1932, 2.0}, {1933, 0.0}});
  // Over 1931–1933: area = ½(1 + 2)·1 + ½(2 + 0)·1 = 2.5, mean 1.25.
  CHECK_THAT(s.mean(1931, 1933), WithinRel(1.25, 1e-15));
  // Entirely outside: the constant end values.
  CHECK(s.mean(1934, 1936) == 0.0);
  CHECK(s.mean(1920, 1925) == 0.0);
  const steppe::TimeSeries up({{1930, 1.0}, {1931, 3.0}});
  CHECK(up.mean(1940, 1941) == 3.0);
  // Within one piece: the midpoint value.
  CHECK_THAT(s.mean(1930, 1931), WithinRel(0.5, 1e-15));
}

TEST_CASE("bad time series are rejected", "[unit]") {
  using V = std::vector<std::pair<double, double>>;
  CHECK_THROWS_AS(steppe::TimeSeries(V{}), steppe::domain_error);
  CHECK_THROWS_AS(steppe::TimeSeries(V{{1930, 1}, {1930, 2}}), steppe::domain_error);
  CHECK_THROWS_AS(steppe::TimeSeries(V{{1930, NAN}}), steppe::domain_error);
}
