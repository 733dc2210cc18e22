// SPDX-License-Identifier: MIT
// Embedding Steppe: a two-group projection 1926→1938 from a Coale–Demeny life table, with a
// famine shock and flight abroad in 1931–32, and the toll under both excess definitions.
// Built and run by ctest, so the README's embedding example stays true.
#include <cstdio>
#include <vector>

#include "steppe/model_life_table.hpp"
#include "steppe/steppe.hpp"

int main() {
  const steppe::Dims dims(steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  steppe::RateSet base(dims);  // identity rates; fill what you need
  for (steppe::Sex s : steppe::sexes) {
    const steppe::LifeTable lt = steppe::coale_demeny_e0(steppe::CdFamily::east, s, 35.0);
    for (int g = 0; g < dims.n_groups(); ++g) {
      base.survivorship.col(steppe::Dims::col(s, g)) = lt.projection_survivorship(dims.ages());
      base.birth_survivorship(steppe::Dims::col(s, g)) = lt.birth_survivorship(1);
    }
  }
  base.survivorship_abroad.resize(0, 0);       // abroad: empty = the same as at home
  base.birth_survivorship_abroad.resize(0);
  base.asfr.middleRows(15, 35).setConstant(0.18);  // births per woman-year, ages 15–49
  std::vector<steppe::RateSet> years(12, base);     // one RateSet per step, 1926→1938
  steppe::set_mortality_multiplier(years[5], Eigen::ArrayXXd::Constant(101, 4, 3.0));  // 1931–32
  years[5].emigration_rate = Eigen::ArrayXXd::Constant(101, 4, 0.05);                  // flight

  steppe::Population initial(dims);
  initial.home().setConstant(20000.0);  // a flat age structure, for the example only

  steppe::CrisisRunner runner(dims, {}, 12);  // allocates once; run() never allocates
  runner.run(initial, years, 1926);
  const auto excess_a = steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const auto excess_b = steppe::excess_deaths_vs_baseline_rates(runner.crisis());
  const double toll_a = steppe::window_total(excess_a, runner.crisis(), 1931, 1934, /*group=*/0);
  const double toll_b = steppe::window_total(excess_b, runner.crisis(), 1931, 1934, /*group=*/0);
  std::printf("kazakh excess deaths 1931-1934: %.0f (counterfactual), %.0f (baseline rates)\n",
              toll_a, toll_b);
  return toll_b > 0.0 ? 0 : 1;
}
