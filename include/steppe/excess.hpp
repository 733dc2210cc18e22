// SPDX-License-Identifier: MIT
// Crisis run + no-crisis counterfactual from the same start, and the two definitions of excess
// deaths and lost births that demographers use.
//
// (a) Counterfactual excess: deaths in the crisis run minus deaths in a run from the same initial
//     population with the crisis switched off (Regime::no_crisis). The Ukraine 1932–34
//     reconstructions use this definition (Meslé, Vallin et al.; Rudnytskyi, Levchuk et al. 2015).
//     Lost births (a) = counterfactual births − crisis births; they are reported apart, never
//     added to the deaths silently.
// (b) Rate-based excess: deaths in the crisis run minus the deaths the baseline rates would have
//     produced on the crisis run's own population at risk (Flows::baseline_deaths), i.e.
//     "observed minus expected" deaths, as in excess-mortality estimates from vital registration.
//     Lost births (b) = births the baseline fertility would have given the crisis run's women −
//     crisis births. (b) does not need a second run and does not count as excess the "normal"
//     deaths that the crisis pre-empted; (a) is smaller than (b) after the crisis (harvesting:
//     the survivors of a shrunken population die in fewer numbers than the counterfactual's).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "steppe/observers.hpp"
#include "steppe/projector.hpp"

namespace steppe {

/// Runs a crisis projection and its no-crisis counterfactual with one Projector and shared
/// scratch; both Accounts are reserved up front, so a run after the first never allocates.
class CrisisRunner {
 public:
  /// reserve_steps: the number of steps expected per run (more are fine, they allocate).
  explicit CrisisRunner(Dims dims, ProjectorOptions options = {}, int reserve_steps = 0,
                        bool keep_by_age = false);

  /// Projects `initial` through `rates` twice: Regime::crisis and Regime::no_crisis. Without
  /// `with_counterfactual`, the crisis run only: counterfactual() is then empty and
  /// counterfactual_end() stale (for callers that need no excess deaths, e.g. a likelihood).
  void run(const Population& initial, std::span<const RateSet> rates, int start_year,
           bool with_counterfactual = true);

  /// run(), told that the groups g with bit g of `same_groups` set have inputs bit-identical to
  /// those of this runner's previous run(): the group's columns of `initial` and every entry of
  /// every RateSet that belongs to it (its columns, or its entry of asfr, srb, ...). Where the
  /// runner can tell that projecting them again would give the same bits (its previous run
  /// completed, with the same steps, start year, regimes and keep_by_age_only_in, and every step
  /// of this one has the same components and takes the same path through the projector, without
  /// clamping), their columns of every result are kept from the previous run instead of projected
  /// again; otherwise they are projected. Either way the results are those of run(). A caller
  /// that cannot vouch for a group passes its bit clear (0: run()).
  void run(const Population& initial, std::span<const RateSet> rates, int start_year,
           bool with_counterfactual, std::uint64_t same_groups);

  /// With keep_by_age: by-age arrays only in the steps k with steps[k] true, in both ledgers (see
  /// Accounts::keep_by_age_only_in).
  void keep_by_age_only_in(const std::vector<bool>& steps) {
    reusable_ = false;  // (the ledgers' by-age arrays of other steps were not kept)
    crisis_.keep_by_age_only_in(steps);
    counterfactual_.keep_by_age_only_in(steps);
  }

  /// Not API (a likelihood's runs, which read populations only): with `on`, a run without the
  /// counterfactual steps through detail::step_populations_only where it projects every group,
  /// so the crisis ledger's deaths, baseline deaths and migrants (totals and by age) are
  /// unspecified; its populations (population, population_abroad, population_by_age),
  /// crisis_end(), births and clamps are those of an ordinary run.
  void populations_only(bool on) {
    reusable_ = false;  // (a kept group's ledger columns would mix both kinds of run)
    populations_only_ = on;
  }

  const Accounts& crisis() const noexcept { return crisis_; }
  const Accounts& counterfactual() const noexcept { return counterfactual_; }
  const Population& crisis_end() const noexcept { return crisis_end_; }
  const Population& counterfactual_end() const noexcept { return counterfactual_end_; }
  Projector& projector() noexcept { return projector_; }
  /// Not API (tests): the groups (a bit each) whose columns the last run kept from the run before.
  std::uint64_t kept_groups() const noexcept { return kept_groups_; }

 private:
  Projector projector_;
  // Two double buffers: crisis_end_ and next_ for the crisis run; counterfactual_end_ and
  // counterfactual_next_ for the shared steps and the counterfactual, whose populations abroad
  // thus stay zero from run to run where nobody goes abroad (not zeroed again at each run).
  Population crisis_end_, counterfactual_end_, next_, counterfactual_next_;
  Flows flows_;
  Accounts crisis_, counterfactual_;
  // Whether every cell of crisis_end_, counterfactual_end_, next_, counterfactual_next_
  // .abroad() holds +0.0, as the last step into it left it (so a step where nobody is abroad
  // need not zero it again).
  bool abroad_zero_[4] = {false, false, false, false};

  // Projects every group but those of `skipped_groups` (0: every group, as run() does). Skipping
  // some, returns false as soon as a step takes another path than in the previous run (the
  // results are then unspecified: project them all again).
  bool project(const Population& initial, std::span<const RateSet> rates, int start_year,
               bool with_counterfactual, std::uint64_t skipped_groups);
  // What run(..., same_groups) compares with the previous run. reusable_: that run completed
  // without a clamp, and the ledgers, crisis_end_, counterfactual_end_ and fork_ hold its results.
  bool reusable_ = false;
  bool populations_only_ = false;  // see populations_only()
  std::uint64_t kept_groups_ = 0;
  std::size_t last_steps_ = 0;
  int last_start_year_ = 0;
  bool last_with_counterfactual_ = false;
  std::vector<unsigned> components_;  // per step: which components of its RateSet are present
  std::vector<unsigned> next_components_;
  std::vector<int> paths_;  // per step k: detail::last_step_path of the crisis run's step (2k)
                            // and of the counterfactual's (2k + 1; a shared step is at 2k)
  Population fork_;  // the population where the two runs parted ways (after shared steps)
  Population kept_end_, kept_counterfactual_end_;  // scratch: the previous run's end populations
};

/// Where deaths are counted: in the territory, among the group's people abroad, or both.
enum class Place { home, abroad, both };

/// Excess deaths, definition (a), per column (Dims::col) × step: crisis − counterfactual.
/// Precondition: both Accounts have the same steps.
Eigen::ArrayXXd excess_deaths_vs_counterfactual(const Accounts& crisis, const Accounts& counterfactual,
                                                Place place = Place::both);
/// Excess deaths, definition (b), per column × step: crisis deaths − baseline-rate deaths on the
/// crisis population.
Eigen::ArrayXXd excess_deaths_vs_baseline_rates(const Accounts& crisis, Place place = Place::both);
/// Lost births (a), per column (sex of the child) × step: counterfactual − crisis births, home and
/// abroad together.
Eigen::ArrayXXd lost_births_vs_counterfactual(const Accounts& crisis, const Accounts& counterfactual);
/// Lost births (b), per column × step: baseline-fertility births of the crisis run's women − births.
Eigen::ArrayXXd lost_births_vs_baseline_rates(const Accounts& crisis);

/// Sum of a column × step array over the steps whose year at end lies in
/// [first_year_at_end, last_year_at_end], for one group (both sexes) or all (group = -1).
double window_total(const Eigen::ArrayXXd& by_col_step, const Accounts& accounts,
                    int first_year_at_end, int last_year_at_end, int group = -1);

}  // namespace steppe
