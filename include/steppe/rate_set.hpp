// SPDX-License-Identifier: MIT
// RateSet: every rate the projector needs for one step, split into the baseline (the no-crisis
// world) and the crisis components that the counterfactual run switches off.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <string>

#include "steppe/axes.hpp"

namespace steppe {

/// When during a step migrants move. `start_share` of each flow moves at the start of the step
/// (it then ages, dies and bears children over the step with its new population); the rest moves
/// at the end (after survival). UN WPP and popReconstruct use half and half.
enum class MigrationTiming { half_half, start, end };

/// Share of the step's migrants that move at the start of the step (1, 0.5 or 0).
inline double start_share(MigrationTiming t) noexcept {
  return t == MigrationTiming::start ? 1.0 : t == MigrationTiming::end ? 0.0 : 0.5;
}

/// What to do when an out-flow (emigrants, returnees leaving abroad, negative net migration)
/// exceeds the people present: clamp it to them and record a Clamp in Flows, or throw.
enum class OnNegative { clamp, throw_error };

/// Projection options. Defaults follow the UN WPP projection.
struct ProjectorOptions {
  MigrationTiming timing = MigrationTiming::half_half;
  /// Whether migrants who arrive (or leave) at the end of the step change the female exposure of
  /// that step. WPP averages women at the start and at the end of the step *including* them
  /// (true); a pure Leslie projection n(t+1) = L·(n + ½k) + ½k, as in popReconstruct, does not.
  bool end_migrants_bear = true;
  OnNegative on_negative = OnNegative::clamp;
};

/// Whether a run applies the crisis components of its RateSets (the reconstruction) or ignores
/// them (the no-crisis counterfactual, from the same initial population and baseline rates).
enum class Regime { crisis, no_crisis };

/// All rates of one projection step (`width` years). Shapes: "ages × cols" = dims.n_ages() ×
/// dims.n_cols() with column Dims::col(sex, group); "cols" = dims.n_cols(); "ages × groups" =
/// dims.n_ages() × dims.n_groups(). Rows are the age cell at the START of the step, except where
/// noted. Migration counts are persons over the whole step, by age cell at the moment of moving.
///
/// Optional components are EMPTY (size 0) when absent, meaning zero flows (or, for the crisis
/// survivorships and the fertility multiplier, "same as baseline"). Absent components cost
/// nothing in the step, which is why they are not zero-filled arrays. Give one a shape before
/// writing to it: `r.emigration_rate.setZero(dims.n_ages(), dims.n_cols())`.
struct RateSet {
  RateSet() = default;
  /// Identity rates: everybody survives, no births (asfr 0, srb 1.05), no migration, no crisis.
  explicit RateSet(const Dims& dims);

  // ---- baseline: the world without the crisis (always present) ----
  /// ages × cols. Probability that a person in cell x at the start of the step is alive at its end
  /// (in cell x+1; the open cell's survivors stay in it). From a life table: L(x+1)/L(x) with
  /// the open cell's ratio T(ω+n)/T(ω). See LifeTable::projection_survivorship.
  Eigen::ArrayXXd survivorship;
  /// cols. Share of the step's births alive at its end: L0/(n·l0).
  Eigen::ArrayXd birth_survivorship;
  /// ages × cols, cols: the same for the group's population abroad (refugees, emigrants). Each
  /// may be EMPTY, meaning the same as at home (survivorship, birth_survivorship): what
  /// Scenario::build writes, as its scenarios give no separate baseline mortality abroad, which
  /// saves a copy of every column in every step.
  Eigen::ArrayXXd survivorship_abroad;
  Eigen::ArrayXd birth_survivorship_abroad;
  /// survivorship_abroad, or survivorship where it is empty; the same for births.
  const Eigen::ArrayXXd& baseline_survivorship_abroad() const noexcept {
    return survivorship_abroad.size() ? survivorship_abroad : survivorship;
  }
  const Eigen::ArrayXd& baseline_birth_survivorship_abroad() const noexcept {
    return birth_survivorship_abroad.size() ? birth_survivorship_abroad : birth_survivorship;
  }
  /// ages × groups. Age-specific fertility rates: live births per woman-year lived in cell x
  /// (not per 1,000). Must be 0 in cell 0.
  Eigen::ArrayXXd asfr;
  /// groups. Sex ratio at birth, male births per female birth (default 1.05).
  Eigen::ArrayXd srb;

  // ---- baseline, optional (empty = none) ----
  /// ages × groups. Fertility of the group's women abroad (empty: no births abroad).
  Eigen::ArrayXXd asfr_abroad;
  /// ages × cols. Signed net migration as a proportion of the start population over the step
  /// (positive = net arrivals). Net migrants leave or enter the books; they never go "abroad".
  Eigen::ArrayXXd net_migration_rate;
  /// ages × cols. Signed net migrants, persons over the step.
  Eigen::ArrayXXd net_migration_count;

  // ---- crisis, optional (empty = none); ignored by Regime::no_crisis ----
  /// ages × cols. Survivorship under the crisis. Set it with set_mortality_multiplier() or
  /// apply(MortalityShock) (shock.hpp): S^m = exp(m·ln S) for a hazard multiplier m, so it stays
  /// in [0, 1]. Computed once when the rates are built, never inside the step. Empty = baseline.
  Eigen::ArrayXXd crisis_survivorship;
  Eigen::ArrayXd crisis_birth_survivorship;         ///< cols; empty = baseline
  Eigen::ArrayXXd crisis_survivorship_abroad;       ///< ages × cols; empty = baseline abroad
  Eigen::ArrayXd crisis_birth_survivorship_abroad;  ///< cols; empty = baseline abroad
  /// groups. Multiplier on asfr and asfr_abroad (0.7 = births fall by 30 %); empty = 1.
  Eigen::ArrayXd fertility_multiplier;
  /// ages × cols. Proportion of the start home population that leaves for abroad over the step.
  Eigen::ArrayXXd emigration_rate;
  /// ages × cols. Emigrants (persons) leaving for abroad over the step, added to the rate's.
  Eigen::ArrayXXd emigration_count;
  /// ages × cols. Proportion of the start population abroad that returns home over the step.
  Eigen::ArrayXXd return_rate;
  /// ages × cols. Returnees (persons) over the step, added to the rate's.
  Eigen::ArrayXXd return_count;
  /// ages × cols. Arrivals from outside the books (deportees, recruited labour), persons.
  Eigen::ArrayXXd immigration_count;

  /// True if any crisis component is present.
  bool has_crisis() const noexcept;

  /// Checks shapes against dims (each optional component empty or of its shape) and the domain of
  /// every entry (probabilities in [0, 1], rates and counts ≥ 0 where they must be, finite
  /// everywhere, asfr(cell 0) = 0).
  /// @throws domain_error naming the field, group, sex and age cell.
  void validate(const Dims& dims) const;
};

}  // namespace steppe
