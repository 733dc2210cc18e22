// SPDX-License-Identifier: MIT
// Mortality shocks: hazard multipliers (intensity × relative-risk schedules) turned into crisis
// survivorship once per step when the rates are built, never inside the projection loop.
#pragma once

#include <Eigen/Core>
#include <string>

#include "steppe/rate_set.hpp"

namespace steppe {

/// Multiplies the crisis hazard of every cell by m (ages × cols, m ≥ 0): the crisis survivorship
/// becomes S_crisis^m = exp(m·ln S_crisis), starting from the baseline survivorship if no crisis
/// mortality was set yet, so successive calls compose multiplicatively and q stays in [0, 1].
/// Infants' survivorship (birth_survivorship) takes row 0 of m. `abroad` selects the group's
/// population abroad. Call it after the baseline survivorship is final.
/// @throws domain_error if m has the wrong shape or a negative or non-finite entry.
void set_mortality_multiplier(RateSet& rates, const Eigen::ArrayXXd& m, bool abroad = false);

/// A crisis mortality shock for one group in one step: the hazard multiplier at age x and sex s is
///   m(x, s) = 1 + intensity · (relative_risk(x, s) − 1),
/// so intensity 0 is no shock, 1 reproduces the relative-risk schedule (e.g. RSFSR 1933 against
/// 1927–29), 2 doubles its excess.
struct MortalityShock {
  int group = 0;
  double intensity = 0.0;
  /// ages × 2 (female, male): relative risk by age cell, ≥ 0.
  Eigen::ArrayXXd relative_risk;
  bool abroad = false;  ///< shock the group's population abroad instead of at home
};

/// The hazard multiplier (ages × cols) of a shock: 1 outside the shock's group.
/// @throws domain_error if shapes disagree, the group is out of range or a multiplier < 0.
Eigen::ArrayXXd hazard_multiplier(const MortalityShock& shock, const Dims& dims);

/// Applies the shock to the rates (set_mortality_multiplier with hazard_multiplier(shock)).
inline void apply(const MortalityShock& shock, const Dims& dims, RateSet& rates) {
  set_mortality_multiplier(rates, hazard_multiplier(shock, dims), shock.abroad);
}

}  // namespace steppe
