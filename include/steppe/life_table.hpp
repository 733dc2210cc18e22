// SPDX-License-Identifier: MIT
// LifeTable: a validated period life table (single-year or abridged), built from q, m or l.
#pragma once

#include <Eigen/Core>
#include <optional>

#include "steppe/axes.hpp"

namespace steppe {

/// How a(x), the mean years lived in [x, x+n) by those who die there, is set for the closed
/// intervals. (The open interval always has a = 1/m, so that L = l/m.)
///
// clang-format off
/// | rule                | a(x)                                                                  |
/// |---------------------|-----------------------------------------------------------------------|
/// | `coale_demeny(sex)` | a0 and 4a1 by Coale–Demeny (below) when the table has [0,1) and [1,5); |
/// |                     | n/2 elsewhere (0.5 for single years, 2.5 for 5-year groups)            |
/// | `midpoint()`        | n/2 everywhere (deaths spread uniformly over the interval)            |
/// | `constant_hazard()` | exact for a constant hazard m: 1/m − n·e^{−mn}/(1 − e^{−mn}) (n/2 if m = 0) |
/// | `given(ax)`         | the caller's values, years, each in (0, n]                             |
// clang-format on
///
/// Coale–Demeny a0, 4a1 (Preston, Heuveline & Guillot 2001, Table 3.3). From 1m0 (used by
/// LifeTable::from_mx):
///   male   a0 = 0.045 + 2.684·m0, 4a1 = 1.651 − 2.816·m0 if m0 < 0.107, else 0.330, 1.352;
///   female a0 = 0.053 + 2.800·m0, 4a1 = 1.522 − 1.518·m0 if m0 < 0.107, else 0.350, 1.361.
/// From 1q0 (the original Coale & Demeny 1983 form, used by from_qx and from_lx):
///   male   a0 = 0.0425 + 2.875·q0, 4a1 = 1.653 − 3.013·q0 if q0 < 0.100, else 0.330, 1.352;
///   female a0 = 0.050 + 3.000·q0,  4a1 = 1.524 − 1.625·q0 if q0 < 0.100, else 0.350, 1.361.
class AxRule {
 public:
  enum class Kind { coale_demeny, midpoint, constant_hazard, given };

  /// Coale–Demeny a0 and 4a1 for `sex`, n/2 elsewhere. @throws nothing.
  static AxRule coale_demeny(Sex sex) { return AxRule(Kind::coale_demeny, sex, {}); }
  /// n/2 in every closed interval. @throws nothing.
  static AxRule midpoint() { return AxRule(Kind::midpoint, Sex::female, {}); }
  /// Exact a(x) for a hazard constant within each interval. @throws nothing.
  static AxRule constant_hazard() { return AxRule(Kind::constant_hazard, Sex::female, {}); }
  /// Explicit a(x), years. Length = number of ages (the last, open, value is ignored) or one less.
  /// Checked by the LifeTable factory (each closed value in (0, n]). @throws nothing here.
  static AxRule given(Eigen::ArrayXd ax) { return AxRule(Kind::given, Sex::female, std::move(ax)); }

  Kind kind() const noexcept { return kind_; }
  Sex sex() const noexcept { return sex_; }  ///< meaningful for coale_demeny only
  const Eigen::ArrayXd& values() const noexcept { return values_; }  ///< for given only

 private:
  AxRule(Kind kind, Sex sex, Eigen::ArrayXd values)
      : kind_(kind), sex_(sex), values_(std::move(values)) {}
  Kind kind_;
  Sex sex_;
  Eigen::ArrayXd values_;
};

/// A period life table with radix l(0) = 1.
///
/// Ages are the lower bounds of the intervals, whole years, strictly increasing, ages[0] = 0; the
/// width n(x) is the distance to the next age and the last interval [ω, ∞) is open. Single-year
/// (0, 1, 2, …, ω) and abridged (0, 1, 5, 10, …, ω) tables are both supported; widths may vary.
/// Every column has one entry per age (length N = number of ages). Columns:
///   q(x) probability of dying in the interval (1 in the open interval);
///   l(x) survivors to exact age x (radix 1); d(x) = l(x)·q(x);
///   L(x) = n·l(x+n) + a(x)·d(x) person-years lived in the interval (open: l(ω)/m(ω));
///   T(x) = Σ_{y≥x} L(y); e(x) = T(x)/l(x) years (0 where l(x) = 0);
///   m(x) = d(x)/L(x) central death rate per person-year; a(x) years (open: 1/m(ω)).
/// Rows after l reaches 0 have d = L = T = e = 0 (q as given, 1 from from_lx) and
/// m = q/(n − (n − a)·q), the per-survivor rate.
///
/// The open-interval rate m(ω): the last mx given to from_mx; otherwise the caller's `open_mx`;
/// otherwise m of the last closed interval (constant hazard continued past ω — a low estimate for
/// abridged tables that close at 80 or 85, so pass open_mx when you know better).
///
/// A LifeTable is an immutable value: it is valid once built.
class LifeTable {
 public:
  /// Builds a table from probabilities of dying.
  /// @param ages  N ≥ 2 interval lower bounds, years (see class comment).
  /// @param qx    N probabilities in [0, 1]. qx[N−1] is not used (the open interval's q is 1 by
  ///              definition) and is not checked, so NaN or 1 are fine there.
  /// @param rule  how a(x) is set for the closed intervals (a0 from 1q0 for coale_demeny).
  /// @param open_mx  death rate of the open interval, per person-year (> 0); see class comment.
  /// @throws domain_error naming the function, argument, index and value, e.g.
  ///   "LifeTable::from_qx: qx[87] = 1.3, expected a probability in [0, 1]", when ages are not
  ///   valid, lengths differ, a q is outside [0, 1], an a(x) is outside (0, n], open_mx ≤ 0, or
  ///   the open rate has to be inferred and the last closed m is 0.
  /// Complexity: O(N).
  static LifeTable from_qx(Eigen::ArrayXd ages, Eigen::ArrayXd qx, const AxRule& rule,
                           std::optional<double> open_mx = std::nullopt);

  /// Builds a table from central death rates, per person-year.
  /// @param mx  N rates ≥ 0, finite; mx[N−1] > 0 is the open interval's rate (L = l/m).
  /// q(x) = n·m/(1 + (n − a)·m), except with constant_hazard where q = 1 − e^{−n·m}.
  /// @throws domain_error (as from_qx) for invalid ages, lengths, negative or non-finite m, a zero
  ///   open rate, an a(x) outside (0, n], or a·m > 1 (q would exceed 1).
  /// Complexity: O(N).
  static LifeTable from_mx(Eigen::ArrayXd ages, Eigen::ArrayXd mx, const AxRule& rule);

  /// Builds a table from survivors at exact ages, any radix (normalised to l(0) = 1).
  /// @param lx  N values, finite, lx[0] > 0, non-increasing, ≥ 0. q(x) = 1 − l(x+n)/l(x)
  ///            (1 where l(x) = 0).
  /// @throws domain_error (as from_qx) for invalid ages, lengths, l(0) ≤ 0, increasing or
  ///   negative l, an a(x) outside (0, n], or a bad or missing open rate.
  /// Complexity: O(N).
  static LifeTable from_lx(Eigen::ArrayXd ages, Eigen::ArrayXd lx, const AxRule& rule,
                           std::optional<double> open_mx = std::nullopt);

  /// Number of ages (rows), N ≥ 2.
  Eigen::Index size() const noexcept { return age_.size(); }
  const Eigen::ArrayXd& age() const noexcept { return age_; }  ///< N lower bounds, years
  const Eigen::ArrayXd& n() const noexcept { return n_; }    ///< N widths, years; +∞ for the open
  const Eigen::ArrayXd& qx() const noexcept { return qx_; }  ///< N probabilities
  const Eigen::ArrayXd& lx() const noexcept { return lx_; }  ///< N survivors, radix 1
  const Eigen::ArrayXd& dx() const noexcept { return dx_; }  ///< N deaths, radix 1
  const Eigen::ArrayXd& Lx() const noexcept { return Lx_; }  ///< N person-years, radix 1
  const Eigen::ArrayXd& Tx() const noexcept { return Tx_; }  ///< N person-years above x
  const Eigen::ArrayXd& ex() const noexcept { return ex_; }  ///< N years
  const Eigen::ArrayXd& mx() const noexcept { return mx_; }  ///< N deaths per person-year
  const Eigen::ArrayXd& ax() const noexcept { return ax_; }  ///< N years
  double e0() const noexcept { return ex_[0]; }              ///< life expectancy at birth, years
  double open_age() const noexcept { return age_[size() - 1]; }  ///< ω, years

  /// Person-years lived above exact age x, T(x), radix 1: the table's T at one of its ages, and
  /// T(ω)·e^{−m(ω)·(x − ω)} above ω (the open interval's constant hazard).
  /// @throws domain_error if x is neither one of the ages nor above ω (no assumption is made
  ///   about l inside a closed interval; use to_single_year() first).
  double T_at(double x) const;

  /// Expands to single years 0, 1, …, omega−1 and the open group omega+.
  /// Within each closed interval ln l(x) is interpolated linearly (a constant hazard per
  /// interval), so l is exact at every original age, and the new one-year rows get the exact
  /// constant-hazard a(x); rows that already were one year wide keep their q and a (so a0 is
  /// kept). Above ω the open rate m(ω) continues as a constant hazard. If omega ≥ ω, the
  /// person-years above ω are unchanged; if omega < ω, the new open rate is l(omega)/T(omega).
  /// An interval with q = 1 (l falls to 0) is interpolated linearly in l instead.
  /// @throws domain_error if omega < 1.
  /// Complexity: O(omega + N).
  LifeTable to_single_year(int omega = 100) const;

  /// Survivorship ratios for a projection step of axis.width years, one per age cell.
  /// Element i (i < count−2) = L(cell i+1)/L(cell i), the probability that a person in cell i at
  /// the start of the step is alive (in cell i+1) at its end; L(cell) = T(lower) − T(upper).
  /// Open-group convention (UN / Preston, Heuveline & Guillot 2001 §6.3), with O = open age:
  ///   element count−2 (last closed cell → open cell) = T(O)/T(O − width),
  ///   element count−1 (open cell stays open)         = T(O + width)/T(O).
  /// A ratio with a zero denominator (nobody alive there) is 0. Every element is in [0, 1].
  /// The table is used as is when every multiple of width up to O + width is one of its ages or
  /// lies above ω (the open hazard is constant there); otherwise it is first converted with
  /// to_single_year(max(O + width, ω)), which changes a(x) inside the split intervals.
  /// @return axis.count ratios, dimensionless.
  /// @throws domain_error if axis.width < 1 or axis.count < 2.
  /// Complexity: O(count + N) (plus the conversion if needed).
  Eigen::ArrayXd projection_survivorship(const AgeAxis& axis) const;

  /// Share of the births of a step of `width` years alive at its end: L(0..width)/(width·l0),
  /// i.e. L0/l0 for 1-year steps and 5L0/(5·l0) for 5-year steps. Uses to_single_year() if
  /// `width` is neither a table age nor above ω.
  /// @throws domain_error if width < 1.
  double birth_survivorship(int width) const;

 private:
  LifeTable() = default;
  /// Fills every column from the closed-interval q and a and the open rate; inputs are valid.
  static LifeTable build(Eigen::ArrayXd ages, const Eigen::ArrayXd& q_closed,
                         const Eigen::ArrayXd& a_closed, std::optional<double> open_mx,
                         const char* fn);
  bool has_boundaries(int width, int upto) const;

  Eigen::ArrayXd age_, n_, qx_, lx_, dx_, Lx_, Tx_, ex_, mx_, ax_;
};

}  // namespace steppe
