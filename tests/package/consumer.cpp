// SPDX-License-Identifier: MIT
// Embeds Steppe through find_package: a model life table drives a 10-year projection.
#include <cstdio>

#include "steppe/model_life_table.hpp"
#include "steppe/steppe.hpp"

int main() {
  const steppe::Dims dims(steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  steppe::RateSet rates(dims);
  for (steppe::Sex s : steppe::sexes) {
    const steppe::LifeTable lt = steppe::coale_demeny_e0(steppe::CdFamily::east, s, 35.0);
    for (int g = 0; g < dims.n_groups(); ++g) {
      rates.survivorship.col(steppe::Dims::col(s, g)) = lt.projection_survivorship(dims.ages());
      rates.birth_survivorship(steppe::Dims::col(s, g)) = lt.birth_survivorship(1);
    }
  }
  rates.asfr.middleRows(15, 35).setConstant(0.18);
  steppe::Population pop(dims);
  pop.home().setConstant(1000.0);
  const double start = pop.total_home();
  std::vector<steppe::RateSet> years(10, rates);
  steppe::Projector projector(dims);
  steppe::Accounts accounts(dims, false, 10);
  steppe::project(projector, pop, years, 1926, accounts);
  std::printf("population %.0f -> %.0f, births %.0f\n", start, pop.total_home(),
              accounts.sum(&steppe::Accounts::Step::births, 1927, 1936).sum());
  return accounts.size() == 10 && pop.total_home() > 0 ? 0 : 1;
}
