// SPDX-License-Identifier: MIT
// Migration patterns: distributing totals over ages and sexes, Rogers–Castro shape, RateSet fill.
#include "steppe/migration.hpp"

#include <catch2/catch.hpp>

#include "steppe/error.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

TEST_CASE("distribute spreads a total in proportion to the weights", "[unit]") {
  Eigen::ArrayXXd w(2, 2);
  w << 1, 3, 0, 4;
  const Eigen::ArrayXXd d = steppe::distribute(800, w);
  CHECK(d(0, 0) == 100);
  CHECK(d(0, 1) == 300);
  CHECK(d(1, 0) == 0);
  CHECK(d(1, 1) == 400);
  CHECK(steppe::distribute(-80, w)(1, 1) == -40);  // net out-migration keeps its sign
  CHECK((steppe::distribute(0, Eigen::ArrayXXd::Zero(3, 2)) == 0).all());
  CHECK_THROWS_AS(steppe::distribute(5, Eigen::ArrayXXd::Zero(3, 2)), steppe::domain_error);
  w(0, 0) = -1;
  CHECK_THROWS_AS(steppe::distribute(5, w), steppe::domain_error);
}

TEST_CASE("distribute_by_sex splits by female_share, then by age", "[unit]") {
  Eigen::ArrayXd shape(4);
  shape << 0, 1, 1, 2;
  const Eigen::ArrayXXd d = steppe::distribute_by_sex(1000, shape, 0.4);
  REQUIRE(d.cols() == 2);
  CHECK(d.col(0).sum() == 400);
  CHECK(d.col(1).sum() == 600);
  CHECK(d(3, 0) == 200);
  CHECK(d(1, 1) == 150);
  CHECK_THROWS_AS(steppe::distribute_by_sex(1000, shape, 1.2), steppe::domain_error);
}

TEST_CASE("Rogers-Castro shape: fundamental parameters, labour-force peak near 20-25", "[unit]") {
  const steppe::RogersCastro rc;
  // m(20) = a1·e^{-2} + a2·e^{-1} + c, since x = μ2 makes the second term a2·exp(0 − 1).
  CHECK_THAT(rc(20.0), WithinRel(0.02 * std::exp(-2.0) + 0.06 * std::exp(-1.0) + 0.003, 1e-14));
  const Eigen::ArrayXd one = steppe::rogers_castro_shape(steppe::AgeAxis::single_year(100));
  CHECK_THAT(one.sum(), WithinAbs(1.0, 1e-12));
  Eigen::Index peak_after_15;
  one.tail(101 - 15).maxCoeff(&peak_after_15);
  CHECK(15 + peak_after_15 >= 20);
  CHECK(15 + peak_after_15 <= 26);
  CHECK(one[1] > one[10]);  // children move with their parents: declining childhood curve
  const Eigen::ArrayXd five = steppe::rogers_castro_shape(steppe::AgeAxis::five_year(85));
  CHECK_THAT(five.sum(), WithinAbs(1.0, 1e-12));
  CHECK(five[4] > five[8]);  // 20-24 above 40-44
  // A 5-year cell holds the same mass as its five single years (open cells excepted).
  const Eigen::ArrayXd one85 = steppe::rogers_castro_shape(steppe::AgeAxis::single_year(85));
  CHECK_THAT(five[4] / five.head(17).sum(),
             WithinRel(one85.segment(20, 5).sum() / one85.head(85).sum(), 1e-12));
}

TEST_CASE("set_group writes the (female, male) block through Dims::col", "[unit]") {
  const steppe::Dims dims(steppe::AgeAxis::single_year(2), {"a", "b"});
  Eigen::ArrayXXd target = Eigen::ArrayXXd::Zero(dims.n_ages(), dims.n_cols());
  Eigen::ArrayXXd block(3, 2);
  block << 1, 4, 2, 5, 3, 6;
  steppe::set_group(target, 1, block);
  CHECK(target(2, steppe::Dims::col(steppe::Sex::female, 1)) == 3);
  CHECK(target(0, steppe::Dims::col(steppe::Sex::male, 1)) == 4);
  CHECK((target.leftCols(2) == 0).all());
  steppe::set_column(target, steppe::Sex::male, 0, Eigen::ArrayXd::Constant(3, 7));
  CHECK(target(1, steppe::Dims::col(steppe::Sex::male, 0)) == 7);
}
