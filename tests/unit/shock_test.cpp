// SPDX-License-Identifier: MIT
// MortalityShock and set_mortality_multiplier: hazard multipliers → crisis survivorship.
#include "steppe/shock.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::WithinRel;
using steppe::Dims;
using steppe::Sex;

TEST_CASE("a mortality shock scales the excess relative risk by its intensity", "[unit]") {
  const Dims dims(steppe::AgeAxis::five_year(15), {"kazakh", "non_kazakh"});
  steppe::MortalityShock shock{1, 0.5, Eigen::ArrayXXd::Constant(4, 2, 3.0), false};
  shock.relative_risk(2, 1) = 5.0;
  const Eigen::ArrayXXd m = steppe::hazard_multiplier(shock, dims);
  CHECK(m(0, Dims::col(Sex::female, 1)) == 2.0);  // 1 + 0.5·(3 − 1)
  CHECK(m(2, Dims::col(Sex::male, 1)) == 3.0);    // 1 + 0.5·(5 − 1)
  CHECK((m.leftCols(2) == 1.0).all());            // group 0 untouched
  shock.intensity = -1.0;
  CHECK_THROWS_AS(steppe::hazard_multiplier(shock, dims), steppe::domain_error);  // 1 − 2 < 0
  shock.group = 5;
  CHECK_THROWS_AS(steppe::hazard_multiplier(shock, dims), steppe::domain_error);
}

TEST_CASE("crisis survivorship is S^m and successive shocks compose", "[unit]") {
  const Dims dims(steppe::AgeAxis::five_year(15), {"kazakh"});
  steppe::RateSet r(dims);
  r.survivorship.setConstant(0.8);
  r.birth_survivorship.setConstant(0.9);
  CHECK_FALSE(r.has_crisis());
  steppe::MortalityShock shock{0, 1.0, Eigen::ArrayXXd::Constant(4, 2, 2.0), false};
  apply(shock, dims, r);
  CHECK(r.has_crisis());
  CHECK_THAT(r.crisis_survivorship(1, 0), WithinRel(0.64, 1e-14));     // 0.8²
  CHECK_THAT(r.crisis_birth_survivorship(1), WithinRel(0.81, 1e-14));  // 0.9²
  apply(shock, dims, r);
  CHECK_THAT(r.crisis_survivorship(3, 1), WithinRel(0.8 * 0.8 * 0.8 * 0.8, 1e-14));  // hazard ×4
  CHECK((r.survivorship == 0.8).all());  // the baseline is untouched
  // q stays a probability however large the multiplier.
  steppe::set_mortality_multiplier(r, Eigen::ArrayXXd::Constant(4, 2, 1e6));
  CHECK((r.crisis_survivorship >= 0.0).all());
  CHECK((r.crisis_survivorship <= 1.0).all());
  CHECK_THROWS_AS(steppe::set_mortality_multiplier(r, Eigen::ArrayXXd::Constant(3, 2, 1.0)),
                  steppe::domain_error);
  CHECK_THROWS_AS(steppe::set_mortality_multiplier(r, Eigen::ArrayXXd::Constant(4, 2, -1.0)),
                  steppe::domain_error);
}
