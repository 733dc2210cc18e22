// SPDX-License-Identifier: MIT
// Migration age–sex patterns: distribute a total count over ages and sexes, and fill the
// ages × cols migration arrays of a RateSet one (sex, group) column at a time.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <string>

#include "steppe/axes.hpp"
#include "steppe/error.hpp"

namespace steppe {

/// Seven-parameter Rogers–Castro model migration schedule
///   m(x) = a1·exp(−α1·x) + a2·exp(−α2·(x − μ2) − exp(−λ2·(x − μ2))) + c.
/// Defaults are the "fundamental" parameters of Rogers & Castro (1981), *Model Migration
/// Schedules*, IIASA RR-81-30 (as in migest's rc_model_fund): a1 = 0.02, α1 = 0.1, a2 = 0.06,
/// α2 = 0.1, μ2 = 20, λ2 = 0.4, c = 0.003. Only the shape matters here (it is normalised).
struct RogersCastro {
  double a1 = 0.02, alpha1 = 0.1, a2 = 0.06, alpha2 = 0.1, mu2 = 20, lambda2 = 0.4, c = 0.003;
  /// m(x) at exact age x (years).
  double operator()(double x) const noexcept {
    return a1 * std::exp(-alpha1 * x) +
           a2 * std::exp(-alpha2 * (x - mu2) - std::exp(-lambda2 * (x - mu2))) + c;
  }
};

/// Age shape of a migration flow on `axis`, length axis.count, summing to 1.
/// Each cell holds Σ m(y + ½) over the single years y it covers; the open cell covers
/// [open_age, 100) (or one cell width if open_age ≥ 100), so it does not absorb an unbounded tail.
/// Complexity: O(axis.count · width).
inline Eigen::ArrayXd rogers_castro_shape(const AgeAxis& axis, const RogersCastro& rc = {}) {
  Eigen::ArrayXd w(axis.count);
  for (int cell = 0; cell < axis.count; ++cell) {
    const int from = axis.lower(cell);
    const int to = cell + 1 < axis.count ? from + axis.width : std::max(100, from + axis.width);
    double s = 0;
    for (int y = from; y < to; ++y) s += rc(y + 0.5);
    w[cell] = s;
  }
  return w / w.sum();
}

/// Uniform age shape on `axis`: every age cell gets the same share 1/axis.count.
inline Eigen::ArrayXd uniform_shape(const AgeAxis& axis) {
  return Eigen::ArrayXd::Constant(axis.count, 1.0 / axis.count);
}

/// Distributes `total` persons over the cells of `weights` in proportion to them.
/// @param total    persons (any sign: a negative total distributes net out-migration).
/// @param weights  any shape (ages, or ages × 2 sexes), finite, ≥ 0, with a positive sum.
/// @return weights · total / Σ weights, the same shape; Σ = total.
/// @throws domain_error if a weight is negative or not finite, or all weights are 0 while
///         total ≠ 0. Complexity: O(weights.size()).
inline Eigen::ArrayXXd distribute(double total, const Eigen::Ref<const Eigen::ArrayXXd>& weights) {
  if (!std::isfinite(total))
    throw domain_error("distribute: total: expected a finite number, got " + std::to_string(total));
  if (!weights.allFinite() || (weights < 0).any())
    throw domain_error("distribute: weights: expected finite weights >= 0");
  const double sum = weights.sum();
  if (sum <= 0) {
    if (total == 0) return Eigen::ArrayXXd::Zero(weights.rows(), weights.cols());
    throw domain_error("distribute: weights: expected a positive sum to distribute " +
                       std::to_string(total) + " persons, got all zeros");
  }
  return weights * (total / sum);
}

/// Splits `total` persons over ages × 2 sexes: column 0 female, column 1 male (Sex order).
/// The female column gets female_share · total spread by `age_shape`, the male one the rest.
/// @param age_shape    length ages, weights ≥ 0 with a positive sum (normalised here).
/// @param female_share in [0, 1]; 0.5 by default.
/// @throws domain_error on a bad shape or share.
inline Eigen::ArrayXXd distribute_by_sex(double total,
                                         const Eigen::Ref<const Eigen::ArrayXd>& age_shape,
                                         double female_share = 0.5) {
  if (!(female_share >= 0 && female_share <= 1))
    throw domain_error("distribute_by_sex: female_share: expected a proportion in [0, 1], got " +
                       std::to_string(female_share));
  Eigen::ArrayXXd out(age_shape.size(), n_sexes);
  out.col(0) = distribute(total * female_share, age_shape);
  out.col(1) = distribute(total * (1 - female_share), age_shape);
  return out;
}

/// Writes the ages × 2 (female, male) block `by_sex` into the two columns of `group` of an
/// ages × cols RateSet array (e.g. RateSet::emigration_count), through Dims::col.
/// Precondition: target.rows() == by_sex.rows(), by_sex.cols() == 2, group in range (asserted).
inline void set_group(Eigen::ArrayXXd& target, int group,
                      const Eigen::Ref<const Eigen::ArrayXXd>& by_sex) {
  STEPPE_ASSERT(by_sex.cols() == n_sexes && by_sex.rows() == target.rows());
  STEPPE_ASSERT(Dims::col(Sex::male, group) < target.cols());
  for (Sex s : sexes) target.col(Dims::col(s, group)) = by_sex.col(static_cast<int>(s));
}

/// Writes one age profile into the (sex, group) column of an ages × cols RateSet array.
inline void set_column(Eigen::ArrayXXd& target, Sex s, int group,
                       const Eigen::Ref<const Eigen::ArrayXd>& profile) {
  STEPPE_ASSERT(profile.size() == target.rows() && Dims::col(s, group) < target.cols());
  target.col(Dims::col(s, group)) = profile;
}

}  // namespace steppe
