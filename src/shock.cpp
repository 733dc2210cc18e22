// SPDX-License-Identifier: MIT
// Hazard multipliers → crisis survivorship.
#include "steppe/shock.hpp"

#include <cmath>
#include <limits>

#include "steppe/error.hpp"

namespace steppe {

namespace {
// S^m through the hazard, with S = 0 staying 0 whatever m.
double powered(double s, double m) { return s > 0.0 ? std::exp(m * std::log(s)) : 0.0; }
}  // namespace

void set_mortality_multiplier(RateSet& r, const Eigen::ArrayXXd& m, bool abroad) {
  const Eigen::ArrayXXd& base = abroad ? r.baseline_survivorship_abroad() : r.survivorship;
  const Eigen::ArrayXd& base_birth =
      abroad ? r.baseline_birth_survivorship_abroad() : r.birth_survivorship;
  Eigen::ArrayXXd& crisis = abroad ? r.crisis_survivorship_abroad : r.crisis_survivorship;
  Eigen::ArrayXd& crisis_birth =
      abroad ? r.crisis_birth_survivorship_abroad : r.crisis_birth_survivorship;
  if (m.rows() != base.rows() || m.cols() != base.cols())
    throw domain_error("set_mortality_multiplier: m must be " + std::to_string(base.rows()) +
                       " x " + std::to_string(base.cols()) + ", got " + std::to_string(m.rows()) +
                       " x " + std::to_string(m.cols()));
  for (Eigen::Index c = 0; c < m.cols(); ++c)
    for (Eigen::Index x = 0; x < m.rows(); ++x)
      if (!(m(x, c) >= 0.0) || !std::isfinite(m(x, c)))
        throw domain_error("set_mortality_multiplier: m(" + std::to_string(x) + ", " +
                           std::to_string(c) + ") = " + std::to_string(m(x, c)) +
                           ", expected a finite hazard multiplier >= 0");
  if (crisis.size() == 0) crisis = base;
  if (crisis_birth.size() == 0) crisis_birth = base_birth;
  for (Eigen::Index c = 0; c < m.cols(); ++c) {
    // Columns the shock leaves alone (m = 1 everywhere, e.g. other groups) stay exactly as they
    // are; otherwise exp(m·ln S) with Eigen's vectorised log and exp, S = 0 staying 0.
    if ((m.col(c) == 1.0).all()) continue;
    auto s = crisis.col(c);
    s = (s > 0.0).select((m.col(c) * s.max(std::numeric_limits<double>::min()).log()).exp(), 0.0);
    crisis_birth(c) = powered(crisis_birth(c), m(0, c));
  }
}

Eigen::ArrayXXd hazard_multiplier(const MortalityShock& shock, const Dims& dims) {
  if (shock.group < 0 || shock.group >= dims.n_groups())
    throw domain_error("hazard_multiplier(MortalityShock): group " + std::to_string(shock.group) +
                       " out of range [0, " + std::to_string(dims.n_groups()) + ")");
  if (shock.relative_risk.rows() != dims.n_ages() || shock.relative_risk.cols() != n_sexes)
    throw domain_error("hazard_multiplier(MortalityShock): relative_risk must be " +
                       std::to_string(dims.n_ages()) + " x 2, got " +
                       std::to_string(shock.relative_risk.rows()) + " x " +
                       std::to_string(shock.relative_risk.cols()));
  Eigen::ArrayXXd m = Eigen::ArrayXXd::Ones(dims.n_ages(), dims.n_cols());
  for (Sex s : sexes)
    for (Eigen::Index x = 0; x < m.rows(); ++x) {
      const double mult = 1.0 + shock.intensity * (shock.relative_risk(x, int(s)) - 1.0);
      if (!(mult >= 0.0))
        throw domain_error("hazard_multiplier(MortalityShock): multiplier at age cell " +
                           std::to_string(x) + ", " + to_string(s) + " = " +
                           std::to_string(mult) + ", expected >= 0 (intensity " +
                           std::to_string(shock.intensity) + ")");
      m(x, Dims::col(s, shock.group)) = mult;
    }
  return m;
}

}  // namespace steppe
