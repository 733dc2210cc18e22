// SPDX-License-Identifier: MIT
// Not API: the female Leslie matrix equivalent to one Projector step without migration, for
// tests and eigen-analysis (Preston, Heuveline & Guillot 2001, ch. 6).
#pragma once

#include <Eigen/Core>

#include "steppe/rate_set.hpp"

namespace steppe::detail {

/// Female Leslie matrix (ages × ages) of one group under the baseline rates of `r`:
///   first row  L(0, x) = b·(n/2)·(f(x) + S(x)·f(x+1))   with b = share female × birth survivorship,
///   sub-diagonal L(x+1, x) = S(x), and the open cell keeping its own survivors,
/// the same arithmetic as Projector::step (births from the mean of start and end exposure).
inline Eigen::MatrixXd female_leslie(const RateSet& r, const Dims& dims, int group) {
  const Eigen::Index A = dims.n_ages();
  const double n = dims.ages().width;
  const int c = Dims::col(Sex::female, group);
  const Eigen::ArrayXd S = r.survivorship.col(c);
  const double fm = r.fertility_multiplier.size() ? r.fertility_multiplier(group) : 1.0;
  const Eigen::ArrayXd f = r.asfr.col(group) * fm;
  const double b = r.birth_survivorship(c) / (1.0 + r.srb(group));
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(A, A);
  for (Eigen::Index x = 0; x < A; ++x) {
    // Women of cell x at the start end the step in cell x+1 (or stay in the open cell).
    const Eigen::Index next = x + 1 < A ? x + 1 : A - 1;
    L(0, x) = b * 0.5 * n * (f(x) + S(x) * f(next));
    if (x + 1 < A) L(x + 1, x) += S(x);
  }
  L(A - 1, A - 1) += S(A - 1);
  return L;
}

}  // namespace steppe::detail
