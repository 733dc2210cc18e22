// SPDX-License-Identifier: MIT
// CrisisRunner and the two definitions of excess deaths and lost births.
#include "steppe/excess.hpp"

#include <catch2/catch.hpp>

#include "steppe/shock.hpp"
#include "support/builders.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;
using steppe::Dims;
using steppe::Population;
using steppe::RateSet;

namespace {

RateSet stationary_rates(const Dims& dims) {
  RateSet r(dims);
  r.survivorship.setConstant(0.98);
  r.birth_survivorship.setConstant(0.9);
  for (Eigen::Index x = 2; x < dims.n_ages() - 1; ++x) r.asfr.row(x).setConstant(0.08);
  return r;
}

}  // namespace

TEST_CASE("without a crisis both excess definitions are zero", "[unit]") {
  const Dims dims(AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  Population initial(dims);
  initial.home().setConstant(100.0);
  std::vector<RateSet> rates(6, stationary_rates(dims));
  steppe::CrisisRunner runner(dims, {}, 6);
  runner.run(initial, rates, 1927);
  CHECK(runner.crisis().size() == 6);
  CHECK(runner.crisis().steps()[0].year == 1928);
  CHECK(steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual())
            .abs().maxCoeff() == 0.0);
  CHECK(steppe::excess_deaths_vs_baseline_rates(runner.crisis()).abs().maxCoeff() < 1e-9);
  CHECK(steppe::lost_births_vs_baseline_rates(runner.crisis()).abs().maxCoeff() < 1e-9);
}

TEST_CASE("a one-year shock: the definitions agree in the shock year and part afterwards",
          "[unit]") {
  const Dims dims(AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  Population initial(dims);
  initial.home().setConstant(100.0);
  std::vector<RateSet> rates(5, stationary_rates(dims));
  Eigen::ArrayXXd m = Eigen::ArrayXXd::Ones(dims.n_ages(), dims.n_cols());
  m.col(0).setConstant(3.0);  // kazakh women, first step only
  steppe::set_mortality_multiplier(rates[0], m);
  rates[0].fertility_multiplier = Eigen::ArrayXd::Ones(2);
  rates[0].fertility_multiplier(0) = 0.5;
  steppe::CrisisRunner runner(dims, {}, 5);
  runner.run(initial, rates, 1930);
  const Eigen::ArrayXXd a = steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd b = steppe::excess_deaths_vs_baseline_rates(runner.crisis());
  // Step 1, kazakh women: every one of the 11 cells of 100 women faces S³ instead of S, so
  // (b) = 1100·(S − S³) + girls born·(Sb − Sb³). (a) has the same non-infant part; for infants it
  // compares the crisis girls' deaths with the counterfactual's (twice as many births).
  const double S = 0.98, Sb = 0.9;
  const auto& c1 = runner.crisis().steps()[0];
  const auto& n1 = runner.counterfactual().steps()[0];
  const double girls = c1.births(0), girls_cf = n1.births(0);
  // Births halve against the baseline fertility of the same (shocked) women …
  CHECK_THAT(girls, WithinRel(0.5 * c1.baseline_births(0), 1e-12));
  // … and fall a little more against the counterfactual, whose women did not die in the step.
  CHECK(girls < 0.5 * girls_cf);
  CHECK_THAT(b(0, 0), WithinRel(1100.0 * (S - S * S * S) + girls * (Sb - Sb * Sb * Sb), 1e-12));
  CHECK_THAT(a(0, 0), WithinRel(1100.0 * (S - S * S * S) + girls * (1 - Sb * Sb * Sb) -
                                    girls_cf * (1 - Sb), 1e-12));
  // The other group and the men are untouched in both definitions.
  CHECK(std::abs(steppe::window_total(a, runner.crisis(), 1931, 1935, 1)) < 1e-9);
  CHECK(std::abs(steppe::window_total(b, runner.crisis(), 1931, 1935, 1)) < 1e-9);
  // After the shock the rate-based excess is zero, while the counterfactual one is negative:
  // fewer people are left to die at normal rates (and fewer were born).
  CHECK(std::abs(steppe::window_total(b, runner.crisis(), 1932, 1935)) < 1e-9);
  CHECK(steppe::window_total(a, runner.crisis(), 1932, 1935) < 0.0);
  // Lost births: (b) in step 1 is half the baseline births; (a) is larger, as it also counts the
  // births of the women the shock killed.
  const Eigen::ArrayXXd lb_a = steppe::lost_births_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd lb_b = steppe::lost_births_vs_baseline_rates(runner.crisis());
  const auto& step1 = runner.crisis().steps()[0];
  CHECK_THAT(lb_b.col(0).sum(), WithinRel(0.5 * (step1.baseline_births(0) + step1.baseline_births(1)), 1e-12));
  CHECK(lb_a.col(0).sum() > lb_b.col(0).sum());
  // Both runs start from the same population and the counterfactual ends larger.
  CHECK(runner.counterfactual_end().total_home() > runner.crisis_end().total_home());
}
