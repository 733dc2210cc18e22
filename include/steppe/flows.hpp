// SPDX-License-Identifier: MIT
// Flows of one projection step: births, deaths (at home and abroad), migrations, and the
// clamps applied, so that observers account without recomputing anything.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "steppe/axes.hpp"

namespace steppe {

/// One out-flow cut back because it exceeded the people present (OnNegative::clamp).
struct Clamp {
  enum class Where { home_start, home_end, abroad_start, abroad_end };
  Where where;
  int age_cell;      ///< start-of-step cell for *_start, end-of-step cell for *_end
  int col;           ///< Dims::col(sex, group)
  double requested;  ///< persons asked to leave in that half of the step
  double applied;    ///< persons who left (= the people present)
};

/// Flows of one step. Every ages × cols array is indexed by the cohort's age cell at the END of
/// the step (a Lexis parallelogram): cell a holds the flows of those who were in cell a−1 at the
/// start (cell 0: born during the step; the open cell: those from the last two cells). With that
/// convention the books balance cell by cell:
///   home(end)[a]   = home(start)[a−1] + births·[a=0] + immigrants + returnees + net_migrants
///                    − deaths − emigrants
///   abroad(end)[a] = abroad(start)[a−1] + births_abroad·[a=0] + emigrants − returnees − deaths_abroad
struct Flows {
  Flows() = default;
  /// Zero flows sized for dims; reserves room for every possible clamp so step never allocates.
  explicit Flows(const Dims& dims);

  Eigen::ArrayXXd deaths;                  ///< ages × cols, deaths at home
  Eigen::ArrayXXd deaths_abroad;           ///< ages × cols, deaths of the group's people abroad
  /// ages × cols. Deaths the BASELINE survivorship would have produced on this run's own
  /// population at risk (the rate-based expected deaths of excess definition (b)).
  Eigen::ArrayXXd baseline_deaths;
  Eigen::ArrayXXd baseline_deaths_abroad;  ///< ages × cols, the same abroad
  Eigen::ArrayXd births;                   ///< cols: live births at home during the step, by sex of child
  Eigen::ArrayXd births_abroad;            ///< cols: live births abroad
  /// cols. Births the BASELINE fertility (no fertility_multiplier) would have produced from this
  /// run's own women, at home and abroad together (lost births, definition (b)).
  Eigen::ArrayXd baseline_births;
  Eigen::ArrayXXd emigrants;     ///< ages × cols, persons who left home for abroad
  Eigen::ArrayXXd returnees;     ///< ages × cols, persons who came back from abroad
  Eigen::ArrayXXd immigrants;    ///< ages × cols, arrivals from outside the books
  Eigen::ArrayXXd net_migrants;  ///< ages × cols, signed net migration (arrivals − departures)
  std::vector<Clamp> clamps;     ///< clamps of this step, in the order applied (capacity reserved)
  double clamped_persons = 0;    ///< Σ (requested − applied) over clamps

  /// Per-column totals over all ages (cols, persons) of the arrays above and of the end
  /// population, summed by Projector::step as it writes them, so that observers (Accounts) need
  /// not sum again. Summation order is fixed, so they are reproducible, but may differ from
  /// `deaths.colwise().sum()` in the last bits. `valid` is false until a step fills them (and
  /// after clear()); whoever edits the arrays after a step must set it to false.
  struct ColumnTotals {
    Eigen::ArrayXd deaths, deaths_abroad, baseline_deaths, baseline_deaths_abroad;
    Eigen::ArrayXd emigrants, returnees, immigrants, net_migrants;
    Eigen::ArrayXd population, population_abroad;  ///< of the end population the step wrote
    /// home().data() of that end population: its totals apply to no other Population.
    const double* population_data = nullptr;
    bool valid = false;
  };
  ColumnTotals totals;

  /// Sets every flow to zero and forgets the clamps (keeps capacity).
  void clear();

  /// Not API: which optional flows may be non-zero (bits set by Projector, which zeroes a flow
  /// only when a step without it follows a step with it, saving a pass per absent component).
  unsigned detail_written = ~0u;
};

inline Flows::Flows(const Dims& dims)
    : deaths(Eigen::ArrayXXd::Zero(dims.n_ages(), dims.n_cols())),
      deaths_abroad(deaths),
      baseline_deaths(deaths),
      baseline_deaths_abroad(deaths),
      births(Eigen::ArrayXd::Zero(dims.n_cols())),
      births_abroad(births),
      baseline_births(births),
      emigrants(deaths),
      returnees(deaths),
      immigrants(deaths),
      net_migrants(deaths) {
  clamps.reserve(std::size_t(4 * dims.cells()));
  for (Eigen::ArrayXd* a : {&totals.deaths, &totals.deaths_abroad, &totals.baseline_deaths,
                            &totals.baseline_deaths_abroad, &totals.emigrants, &totals.returnees,
                            &totals.immigrants, &totals.net_migrants, &totals.population,
                            &totals.population_abroad})
    a->setZero(dims.n_cols());
}

inline void Flows::clear() {
  deaths.setZero();
  deaths_abroad.setZero();
  baseline_deaths.setZero();
  baseline_deaths_abroad.setZero();
  births.setZero();
  births_abroad.setZero();
  baseline_births.setZero();
  emigrants.setZero();
  returnees.setZero();
  immigrants.setZero();
  net_migrants.setZero();
  clamps.clear();
  clamped_persons = 0;
  totals.valid = false;
  totals.population_data = nullptr;
  detail_written = 0;
}

}  // namespace steppe
