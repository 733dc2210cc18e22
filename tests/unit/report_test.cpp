// SPDX-License-Identifier: MIT
// The crisis report prints the run's own totals, both excess definitions included.
#include "steppe/report.hpp"

#include <catch2/catch.hpp>
#include <sstream>

#include "steppe/shock.hpp"

TEST_CASE("the crisis report shows both excess definitions and the end populations", "[unit]") {
  const steppe::Dims dims(steppe::AgeAxis::five_year(20), {"kazakh", "non_kazakh"});
  steppe::Population initial(dims);
  initial.home().setConstant(1000.0);
  steppe::RateSet base(dims);
  base.survivorship.setConstant(0.9);
  std::vector<steppe::RateSet> rates(2, base);
  // Hazard ×2 for kazakhs in step 1: survivorship 0.81, so excess deaths = 0.09 · 5 cells · 1000 · 2 sexes.
  Eigen::ArrayXXd m = Eigen::ArrayXXd::Ones(5, 4);
  m.leftCols(2).setConstant(2.0);
  steppe::set_mortality_multiplier(rates[0], m);
  steppe::CrisisRunner runner(dims, {}, 2);
  runner.run(initial, rates, 1926);
  std::ostringstream os;
  steppe::write_crisis_report(os, runner, initial, 1926);
  const std::string text = os.str();
  using Catch::Matchers::Matches;
  // Rows: kazakh, non_kazakh, all.
  CHECK_THAT(text, Matches(R"([\s\S]*\nexcess deaths \(b\) baseline rates +900 +0 +900\n[\s\S]*)"));
  // (a) is 900 in the shock step, then −90 (0.1 × the 900 who were no longer there to die).
  CHECK_THAT(text, Matches(R"([\s\S]*\nexcess deaths \(a\) counterfactual +810 +0 +810\n[\s\S]*)"));
  CHECK_THAT(text, Matches(R"([\s\S]*\npopulation 1926 +10000 +10000 +20000\n[\s\S]*)"));
  CHECK_THAT(text, Catch::Matchers::Contains("1926 to 1936 (2 steps of 5 years)"));
}
