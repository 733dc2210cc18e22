// SPDX-License-Identifier: MIT
// Deterministic synthetic populations and rates for benchmarks (no data files): a Gompertz–
// Makeham baseline, a bell-shaped fertility schedule, and a 1930–33-like crisis.
#pragma once

#include <cmath>
#include <vector>

#include "steppe/population.hpp"
#include "steppe/rate_set.hpp"
#include "steppe/shock.hpp"

namespace steppe::bench {

struct Fixture {
  Dims dims;
  Population initial;
  std::vector<RateSet> rates;  // one per step
};

/// `steps` annual (or 5-year) steps; steps 3..6 carry a crisis (mortality ×3 with an age
/// pattern, flight of 5 % a year, returns, births −30 %, deportees arriving).
inline Fixture synthetic(const Dims& dims, int steps = 12) {
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols();
  const double n = dims.ages().width;
  Fixture fx{dims, Population(dims), {}};
  RateSet base(dims);
  for (Eigen::Index x = 0; x < A; ++x) {
    const double age = n * (double(x) + 0.5);
    const double hazard = 0.003 + 0.08 * std::exp(-1.5 * age) + 0.00008 * std::exp(0.095 * age);
    base.survivorship.row(x).setConstant(std::exp(-hazard * n));
    base.survivorship_abroad.row(x).setConstant(std::exp(-1.5 * hazard * n));
    const double f = age > 15 && age < 50 ? 0.3 * std::exp(-std::pow((age - 28.0) / 7.0, 2)) : 0.0;
    base.asfr.row(x).setConstant(x == 0 ? 0.0 : f);
    fx.initial.home().row(x).setConstant(30000.0 * std::exp(-0.03 * age));
  }
  base.birth_survivorship.setConstant(std::exp(-0.15 * n));
  base.birth_survivorship_abroad.setConstant(std::exp(-0.25 * n));
  base.net_migration_rate = Eigen::ArrayXXd::Constant(A, C, -0.001);
  for (int k = 0; k < steps; ++k) {
    RateSet r = base;
    if (k >= 3 && k <= 6) {
      Eigen::ArrayXXd m(A, C);
      for (Eigen::Index x = 0; x < A; ++x)
        m.row(x).setConstant(1.5 + 2.0 * std::exp(-std::pow((n * double(x) - 15.0) / 10.0, 2)));
      set_mortality_multiplier(r, m);
      set_mortality_multiplier(r, 1.5 * m, /*abroad=*/true);
      r.fertility_multiplier = Eigen::ArrayXd::Constant(dims.n_groups(), 0.7);
      r.emigration_rate = Eigen::ArrayXXd::Constant(A, C, 0.05);
      r.return_rate = Eigen::ArrayXXd::Constant(A, C, 0.2);
      r.immigration_count = Eigen::ArrayXXd::Constant(A, C, 50.0);
    }
    fx.rates.push_back(std::move(r));
  }
  return fx;
}

}  // namespace steppe::bench
