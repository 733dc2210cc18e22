// SPDX-License-Identifier: MIT
// Test support: tiny, seeded random populations and rates, and the balancing-identity check.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <random>

#include "steppe/flows.hpp"
#include "steppe/population.hpp"
#include "steppe/rate_set.hpp"
#include "steppe/shock.hpp"

namespace steppe::test {

inline Eigen::ArrayXXd uniform(std::mt19937_64& rng, Eigen::Index r, Eigen::Index c, double lo,
                               double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Eigen::ArrayXXd a(r, c);
  for (Eigen::Index j = 0; j < c; ++j)
    for (Eigen::Index i = 0; i < r; ++i) a(i, j) = u(rng);
  return a;
}

/// A random population, home and abroad, counts in [0, 1000).
inline Population random_population(const Dims& dims, std::mt19937_64& rng) {
  Population p(dims);
  p.home() = uniform(rng, dims.n_ages(), dims.n_cols(), 0.0, 1000.0);
  p.abroad() = uniform(rng, dims.n_ages(), dims.n_cols(), 0.0, 200.0);
  return p;
}

/// Random rates touching every component. With `oversized_counts`, migration counts are large
/// enough to exceed the people present somewhere, so clamps happen.
inline RateSet random_rates(const Dims& dims, std::mt19937_64& rng, bool oversized_counts = false) {
  const Eigen::Index A = dims.n_ages(), C = dims.n_cols(), G = dims.n_groups();
  RateSet r(dims);
  r.survivorship = uniform(rng, A, C, 0.5, 1.0);
  r.birth_survivorship = uniform(rng, C, 1, 0.7, 1.0);
  r.survivorship_abroad = uniform(rng, A, C, 0.3, 1.0);
  r.birth_survivorship_abroad = uniform(rng, C, 1, 0.5, 1.0);
  r.asfr = uniform(rng, A, G, 0.0, 0.3);
  r.asfr.row(0).setZero();
  r.asfr_abroad = uniform(rng, A, G, 0.0, 0.2);
  r.asfr_abroad.row(0).setZero();
  r.srb = uniform(rng, G, 1, 1.0, 1.1);
  r.net_migration_rate = uniform(rng, A, C, -0.1, 0.1);
  const double big = oversized_counts ? 3000.0 : 20.0;
  r.net_migration_count = uniform(rng, A, C, -big, big);
  set_mortality_multiplier(r, uniform(rng, A, C, 1.0, 4.0));
  set_mortality_multiplier(r, uniform(rng, A, C, 1.0, 6.0), /*abroad=*/true);
  r.fertility_multiplier = uniform(rng, G, 1, 0.5, 1.0);
  r.emigration_rate = uniform(rng, A, C, 0.0, 0.3);
  r.emigration_count = uniform(rng, A, C, 0.0, big);
  r.return_rate = uniform(rng, A, C, 0.0, 0.3);
  r.return_count = uniform(rng, A, C, 0.0, big);
  r.immigration_count = uniform(rng, A, C, 0.0, 50.0);
  return r;
}

/// Removes optional components at random (each with probability 0.35), so that every
/// combination of present and absent components — each kernel of Projector::step — is reached.
inline RateSet thin_out(RateSet r, std::mt19937_64& rng) {
  std::bernoulli_distribution drop(0.35);
  for (Eigen::ArrayXXd* a : {&r.net_migration_rate, &r.net_migration_count, &r.crisis_survivorship,
                             &r.crisis_survivorship_abroad, &r.emigration_rate, &r.emigration_count,
                             &r.return_rate, &r.return_count, &r.immigration_count, &r.asfr_abroad})
    if (drop(rng)) a->resize(0, 0);
  if (!r.crisis_survivorship.size()) r.crisis_birth_survivorship.resize(0);
  if (!r.crisis_survivorship_abroad.size()) r.crisis_birth_survivorship_abroad.resize(0);
  if (drop(rng)) r.fertility_multiplier.resize(0);
  return r;
}

/// Largest relative violation of the balancing identities of flows.hpp, cell by cell:
///   home(end)[a]   = home(start)[a−1] + births·[a=0] + immigrants + returnees + net − deaths − emigrants
///   abroad(end)[a] = abroad(start)[a−1] + births_abroad·[a=0] + emigrants − returnees − deaths_abroad
/// relative to the sum of the absolute values of the terms (and at least 1 person).
inline double worst_imbalance(const Population& in, const Population& out, const Flows& f) {
  const Eigen::Index A = in.home().rows();
  double worst = 0.0;
  for (Eigen::Index c = 0; c < in.home().cols(); ++c)
    for (Eigen::Index a = 0; a < A; ++a) {
      auto start = [&](const Eigen::ArrayXXd& p) {
        if (a == 0) return 0.0;
        return p(a - 1, c) + (a == A - 1 ? p(A - 1, c) : 0.0);
      };
      const double hs = start(in.home()), as = start(in.abroad());
      const double hb = a == 0 ? f.births(c) : 0.0, ab = a == 0 ? f.births_abroad(c) : 0.0;
      const double home_rhs = hs + hb + f.immigrants(a, c) + f.returnees(a, c) +
                              f.net_migrants(a, c) - f.deaths(a, c) - f.emigrants(a, c);
      const double abroad_rhs =
          as + ab + f.emigrants(a, c) - f.returnees(a, c) - f.deaths_abroad(a, c);
      const double home_scale = std::max(1.0, std::abs(hs) + hb + f.immigrants(a, c) +
                                                  f.returnees(a, c) + std::abs(f.net_migrants(a, c)) +
                                                  std::abs(f.deaths(a, c)) + f.emigrants(a, c));
      const double abroad_scale = std::max(1.0, std::abs(as) + ab + f.emigrants(a, c) +
                                                    f.returnees(a, c) + std::abs(f.deaths_abroad(a, c)));
      worst = std::max(worst, std::abs(out.home()(a, c) - home_rhs) / home_scale);
      worst = std::max(worst, std::abs(out.abroad()(a, c) - abroad_rhs) / abroad_scale);
    }
  return worst;
}

}  // namespace steppe::test
