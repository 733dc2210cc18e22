// SPDX-License-Identifier: MIT
// Probability distributions for uncertain scenario parameters: uniform, normal, lognormal,
// triangular, beta, choice, each optionally truncated to the parameter's domain.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "steppe/rng.hpp"

namespace steppe {

/// A univariate distribution to draw a parameter from. Value type, validated by its factory
/// functions (@throws domain_error naming the distribution, the argument and its value).
/// Sampling uses the inverse CDF where it has a closed form or a precise approximation (uniform,
/// normal, lognormal, triangular, choice: one uniform number per draw, so truncation is exact and
/// cheap), and rejection for beta (Marsaglia–Tsang gamma variates).
class Distribution {
 public:
  enum class Kind { constant, uniform, normal, lognormal, triangular, beta, choice };

  /// Always `value`.
  static Distribution constant(double value);
  /// Uniform on [lo, hi], lo < hi.
  static Distribution uniform(double lo, double hi);
  /// Normal with mean and standard deviation sd > 0.
  static Distribution normal(double mean, double sd);
  /// exp(N(meanlog, sdlog²)): median exp(meanlog), sdlog > 0.
  static Distribution lognormal(double meanlog, double sdlog);
  /// Triangular on [lo, hi] with mode lo ≤ mode ≤ hi, lo < hi.
  static Distribution triangular(double lo, double mode, double hi);
  /// Beta(alpha, beta) scaled to [lo, hi]; alpha, beta > 0.
  static Distribution beta(double alpha, double beta, double lo = 0.0, double hi = 1.0);
  /// One of `values`, with probabilities proportional to `weights` (equal if empty).
  static Distribution choice(std::vector<double> values, std::vector<double> weights = {});

  /// The same distribution conditioned on [lo, hi] (intersected with any earlier truncation).
  /// @throws domain_error if lo > hi or the distribution has (almost) no mass there (< 1e-9).
  Distribution truncated(double lo, double hi) const;

  /// One draw. Deterministic given the generator's state.
  double sample(Rng& rng) const;
  /// The value at probability u ∈ (0, 1) of the distribution after truncation: its inverse CDF
  /// (choice: the value whose cumulative interval holds u; beta: the CDF inverted by bisection).
  /// Maps a uniform (or, through Φ, a standard normal) coordinate onto the parameter, as
  /// calibration's MCMC moves need; sample() equals at_probability(uniform01()) except for beta.
  double at_probability(double u) const;
  /// The inverse of at_probability: the probability u ∈ (0, 1) at which the distribution after
  /// truncation takes the value x (its CDF; choice: the middle of x's cumulative interval;
  /// constant: 0.5), kept inside [1e-15, 1 − 1e-15]. Maps a draw of one distribution onto another
  /// at the same quantile.
  double probability_of(double x) const;
  /// Cumulative distribution function of the untruncated distribution (choice: step function).
  double cdf(double x) const;
  /// Mean of the untruncated distribution.
  double mean() const;
  /// Standard deviation of the untruncated distribution.
  double sd() const;
  /// Bounds of the support after truncation (may be infinite).
  double lower() const noexcept { return lower_; }
  double upper() const noexcept { return upper_; }
  Kind kind() const noexcept { return kind_; }
  bool is_constant() const noexcept { return kind_ == Kind::constant; }
  /// Human-readable form, e.g. "normal(mean 4.2, sd 0.3) truncated to [0, inf]".
  std::string describe() const;

 private:
  Distribution(Kind kind, double a, double b, double c, double d);
  double quantile(double u) const;  // inverse CDF, untruncated (not for beta)
  Kind kind_ = Kind::constant;
  double a_ = 0, b_ = 0, c_ = 0, d_ = 0;  // parameters, by kind (see the factories)
  std::vector<double> values_, cumulative_;  // choice
  double lower_ = -std::numeric_limits<double>::infinity();
  double upper_ = std::numeric_limits<double>::infinity();
  double u_lo_ = 0.0, u_hi_ = 1.0;  // CDF of the truncation bounds (inverse-CDF sampling)
};

/// Standard normal CDF Φ(z) and its inverse (Acklam's approximation refined by one Halley step,
/// relative error < 1e-15 over (0, 1)).
double normal_cdf(double z);
double normal_quantile(double p);

}  // namespace steppe
