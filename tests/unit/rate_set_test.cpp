// SPDX-License-Identifier: MIT
// RateSet validation names the field, group, sex and age of a bad value.
#include "steppe/rate_set.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
using steppe::Dims;
using steppe::RateSet;

TEST_CASE("RateSet::validate rejects impossible rates with a precise message", "[unit]") {
  const Dims dims(steppe::AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  RateSet r(dims);
  REQUIRE_NOTHROW(r.validate(dims));
  CHECK_FALSE(r.has_crisis());
  SECTION("survivorship above one") {
    r.survivorship(4, Dims::col(steppe::Sex::male, 1)) = 1.3;
    CHECK_THROWS_WITH(r.validate(dims), Contains("survivorship") && Contains("non_kazakh") &&
                                            Contains("male") && Contains("age cell 4") &&
                                            Contains("[0, 1]") && Contains("1.3"));
  }
  SECTION("negative emigration count") {
    r.emigration_count.setZero(11, 4);
    r.emigration_count(2, 0) = -5;
    CHECK_THROWS_WITH(r.validate(dims), Contains("emigration_count") && Contains(">= 0"));
  }
  SECTION("fertility in the first age cell") {
    r.asfr(0, 1) = 0.1;
    CHECK_THROWS_WITH(r.validate(dims), Contains("asfr") && Contains("non_kazakh"));
  }
  SECTION("wrong shape") {
    r.asfr.resize(5, 2);
    CHECK_THROWS_WITH(r.validate(dims), Contains("expected shape 11 x 2"));
  }
  SECTION("an optional component of the wrong shape") {
    r.immigration_count.setZero(3, 4);
    CHECK_THROWS_WITH(r.validate(dims), Contains("immigration_count") && Contains("11 x 4"));
  }
  SECTION("NaN") {
    r.return_rate.setZero(11, 4);
    r.return_rate(1, 1) = std::nan("");
    CHECK_THROWS_WITH(r.validate(dims), Contains("return_rate") && Contains("finite"));
  }
  SECTION("a crisis component is detected") {
    r.fertility_multiplier = Eigen::ArrayXd::Constant(2, 0.8);
    CHECK(r.has_crisis());
  }
}

TEST_CASE("the baseline abroad may be empty: the same as at home", "[unit]") {
  const Dims dims(steppe::AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  RateSet r(dims);
  r.survivorship.setConstant(0.9);
  r.birth_survivorship.setConstant(0.95);
  CHECK(&r.baseline_survivorship_abroad() == &r.survivorship_abroad);
  CHECK(&r.baseline_birth_survivorship_abroad() == &r.birth_survivorship_abroad);
  r.survivorship_abroad.resize(0, 0);
  r.birth_survivorship_abroad.resize(0);
  REQUIRE_NOTHROW(r.validate(dims));
  CHECK(&r.baseline_survivorship_abroad() == &r.survivorship);
  CHECK(&r.baseline_birth_survivorship_abroad() == &r.birth_survivorship);
  SECTION("but if given, it must have its shape and be probabilities") {
    r.survivorship_abroad.setConstant(11, 3, 0.5);
    CHECK_THROWS_WITH(r.validate(dims), Contains("survivorship_abroad") && Contains("11 x 4"));
    r.survivorship_abroad.setConstant(11, 4, 0.5);
    r.survivorship_abroad(2, 1) = 1.5;
    CHECK_THROWS_WITH(r.validate(dims), Contains("survivorship_abroad") && Contains("age cell 2") &&
                                            Contains("[0, 1]"));
    r.survivorship_abroad(2, 1) = 0.5;
    r.birth_survivorship_abroad.setConstant(4, -0.1);
    CHECK_THROWS_WITH(r.validate(dims), Contains("birth_survivorship_abroad") && Contains("[0, 1]"));
  }
}
