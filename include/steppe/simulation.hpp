// SPDX-License-Identifier: MIT
// Monte Carlo over a scenario's uncertain parameters: N draws, each a crisis run and its
// no-crisis counterfactual, summarised (mean, sd, quantiles) without keeping the draws, and
// bit-identical whatever the number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "steppe/scenario.hpp"

namespace steppe {

/// How to run the draws.
struct RunOptions {
  std::uint64_t seed = 1;
  /// Number of draws. 1 = a deterministic run at the parameters' central values
  /// (Scenario::central); otherwise draw i uses Scenario::sample(seed, i), i = 0 … draws − 1.
  std::uint64_t draws = 1000;
  /// The draws run are first_draw, …, first_draw + draws − 1 (Scenario::sample's draw index), so
  /// a long run can be split into consecutive parts with the same draws; per-draw vectors
  /// (weights, RunResult::kept) are indexed from 0 = first_draw. A one-draw run is the central
  /// run only when first_draw is 0.
  std::uint64_t first_draw = 0;
  int threads = 0;  ///< worker threads; 0 = all cores (std::thread::hardware_concurrency)
  /// Called now and then from one thread with the number of draws done (for a progress bar).
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  /// If set and it becomes true, the run stops early and RunResult::cancelled is true.
  const std::atomic<bool>* cancel = nullptr;
  /// Metric paths (as in RunResult::metrics, e.g. "/excess_deaths/total") whose value in every
  /// draw is returned in RunResult::kept: what calibration and `steppe compare` work from.
  std::vector<std::string> keep;
  /// Summarise only the kept metrics (RunResult::metrics then holds just those, in metric
  /// order) and compute no other per draw: much less work when a caller needs a few outputs.
  bool only_kept = false;
  /// If non-empty (and not only_kept): summarise only these metrics, besides computing the kept
  /// ones, and no other per draw; RunResult::metrics holds just these, in metric order.
  /// @throws std::out_of_range (from run_draws) naming a path that is not a metric.
  std::vector<std::string> summarise;
  /// Skip the no-crisis counterfactual run (about half the work of a draw). Only with only_kept
  /// and kept paths under /targets/ or /log_likelihood/ (which the crisis run alone determines):
  /// calibration's likelihood pass. @throws domain_error otherwise.
  bool crisis_only = false;
  /// Importance weights: empty, or one per draw, each finite and ≥ 0, not all 0. Draw i then
  /// counts with weight weights[i] in every summary (weighted mean and sd, WeightedMoments;
  /// weighted quantiles). Weights are scaled to integers u_i = round(w_i/max w · ⌊2^62/draws⌋) so
  /// that quantile sketches merge exactly; a draw with u_i = 0 (weight below ≈ draws·2^−62 of the
  /// largest) is not run at all. Summary::count is then the number of draws run.
  std::vector<double> weights;
};

/// Summary of one output across draws. quantiles[k] is at RunResult::quantile_levels[k].
struct Summary {
  std::uint64_t count = 0;
  double mean = 0, sd = 0;
  std::vector<double> quantiles;
};

/// One summarised output, named by a JSON pointer into the `steppe run --format json` document,
/// e.g. "/excess_deaths/total", "/excess_deaths/by_group/kazakh", "/lost_births/by_year/1932",
/// "/targets/census_1939_kazakh/modelled". Person counts are persons; log-likelihoods are nats.
struct Metric {
  std::string path;
  Summary summary;
};

/// Everything `steppe run` reports. Metrics are in a fixed order (the order of the JSON output).
struct RunResult {
  std::uint64_t seed = 0, draws = 0;  ///< draws = the number actually run (< asked if cancelled)
  bool cancelled = false;
  std::vector<double> quantile_levels;  ///< from OutputSpec::quantiles
  std::vector<Metric> metrics;
  /// kept[i·K + k], K = RunOptions::keep.size(): the value of keep[k] in draw i (NaN for a draw
  /// not run: zero weight, or after a cancel). Empty when nothing is kept.
  std::vector<double> kept;
  double weight_total = 0;  ///< Σ of the weights of the draws run (their number if unweighted)
  double ess = 0;           ///< Kish's effective sample size (Σw)²/Σw² (= draws if unweighted)
  std::uint64_t clamps = 0;     ///< out-flows clamped to the people present, over all draws
  double clamped_persons = 0;   ///< persons those clamps removed from out-flows, over all draws

  /// The metric at `path`. @throws std::out_of_range naming the path if there is none.
  const Summary& at(std::string_view path) const;
  /// The metric at `path`, or nullptr.
  const Summary* find(std::string_view path) const noexcept;
};

/// Runs the scenario's draws on options.threads threads. Draws are split into fixed blocks whose
/// partial summaries merge in block order, so the result does not depend on the thread count.
/// Memory does not grow with the number of draws.
///
/// Metrics, in this order ("window" = steps whose StepTime::year is in OutputSpec's window;
/// <Y> = StepTime::year, every step; <g> = group; <sex> = female|male; <age> = 10-year group of
/// the age cell at the END of the step, "0-9", "10-19", …, the last one holding the open cell
/// and named by its lower bound, e.g. "100+" or "80+"):
///  - /excess_deaths/{total, home, abroad, by_group/<g>, by_group_place/<g>/{home,abroad},
///    by_group_sex/<g>/<sex>, by_group_sex_age/<g>/<sex>/<age>, by_year/<Y>, by_group_year/<g>/<Y>}
///    under the headline definition (OutputSpec::headline_counterfactual: crisis − counterfactual
///    deaths, or crisis − baseline-rate deaths). by_group_sex_age only for the counterfactual
///    headline: Accounts do not keep baseline deaths by age. With OutputSpec::by_age_year (and
///    the counterfactual headline), by_group_sex_age_year/<g>/<sex>/<age>/<Y> for the window's
///    years follows by_group_sex_age.
///  - /excess_deaths_rate_based/ or /excess_deaths_counterfactual/ (the other definition):
///    {total, by_group/<g>, by_year/<Y>}.
///  - /lost_births/{total, by_group/<g>, by_year/<Y>, by_group_year/<g>/<Y>} (headline
///    definition), then /lost_births_rate_based/ or /lost_births_counterfactual/{total, by_group/<g>}.
///  - crisis run: /net_emigration/ (emigrants − returnees) and /deaths_abroad/ {total, by_group/<g>,
///    by_year/<Y>}; /emigrants/, /returnees/, /immigrants/ {total, by_group/<g>};
///    /abroad_at_end/by_group/<g>. Totals and by_group are over the window.
///  - if the scenario encodes a published estimate (OutputSpec::published): /published/modelled,
///    the same definition as the published figure (PublishedEstimate).
///  - what the draw derives besides the engine's inputs, as named by Scenario::derived_outputs()
///    (a food-balance crisis: /drivers/herd/{total,<species>}/<year> head at the start of the year,
///    /drivers/kcal_per_person_day/<g>/<year>, /drivers/deficit/<g>/<year>).
///  - each group's balance sheet over the whole projection (crisis run, every step):
///    /balance/<g>/{initial, births, immigrants, returnees, net_migration, deaths, emigrants, final,
///    initial_abroad, births_abroad, deaths_abroad, final_abroad, excess_deaths (headline),
///    excess_deaths_rate_based | excess_deaths_counterfactual (the other), normal_deaths (deaths at
///    home and abroad − headline excess), lost_births (headline)}. At home: initial + births +
///    immigrants + returnees + net_migration − deaths − emigrants = final; abroad: initial_abroad +
///    births_abroad + emigrants − returnees − deaths_abroad = final_abroad. Then by year:
///    /balance_by_year/<g>/<Y>/{births, deaths, deaths_abroad, excess_deaths, lost_births,
///    emigrants, returnees, immigrants, population_end, population_abroad_end}.
///  - per target: /targets/<name>/{modelled, deviation, relative_deviation, log_likelihood}, and
///    /log_likelihood/total (Σ over targets) if any target has an sd.
/// Deaths are home + abroad unless the path says otherwise. Every sum runs over steps in order,
/// then columns (Dims::col) in order, into one accumulator: a one-draw run gives the same bits as
/// summing excess.hpp's arrays in that order. Means and sds are exact (Moments); quantiles are
/// within 0.1 % relative (QuantileSketch, alpha 1e-3) of the order statistics.
/// @throws domain_error if a draw's parameters make impossible demography (the first such draw
///         in draw order; the message names the draw and the parameter), or if the weights are
///         not as documented in RunOptions; std::out_of_range naming a kept path that is not a
///         metric.
RunResult run_draws(const Scenario& scenario, const RunOptions& options);

/// run_draws at given parameter values instead of draws from the scenario's distributions: draw i
/// runs `values[i]` (one value per Scenario::parameters(), as sample() fills them), so
/// options.draws is ignored (= values.size(); a single set is run like any other, not as the
/// central values). What calibration uses to run its posterior particles. Same contract
/// otherwise (keep, only_kept, weights, thread-invariant bits).
/// @throws domain_error if a set has the wrong number of values, or as run_draws.
RunResult run_parameter_sets(const Scenario& scenario, std::span<const std::vector<double>> values,
                             const RunOptions& options);

/// The metric paths run_draws reports for `scenario`, in its order (RunResult::metrics with
/// every metric summarised), without running anything.
std::vector<std::string> metric_paths(const Scenario& scenario);

namespace detail {

/// Not API (tests and benchmarks with engine-level fixtures): what run_draws needs from a
/// Scenario. run_draws(scenario, options) fills one from the scenario and calls the overload below.
struct DrawModel {
  Dims dims;
  ProjectorOptions projector_options;
  std::vector<StepTime> steps;
  std::vector<Target> targets;  ///< bias and sd index into the values that `build` fills
  /// Metric paths of ModelInputs::derived (Scenario::derived_outputs), reported as they are.
  std::vector<std::string> derived;
  OutputSpec outputs;
  /// Fills `values` (the parameters of draw `draw`, or their central values if `central`) and
  /// the engine's inputs for them. Called concurrently from several threads: must be reentrant.
  std::function<void(std::uint64_t seed, std::uint64_t draw, bool central,
                     std::vector<double>& values, ModelInputs& inputs)>
      build;
  /// Optional: per group, the indices into `values` that build() reads for the group's inputs
  /// (Scenario::group_parameters). A thread whose draw has the same values, bit for bit, at a
  /// group's indices as its previous draw vouches that the group's inputs are unchanged, and its
  /// CrisisRunner may keep that group's projection (CrisisRunner::run's same_groups). Empty: no
  /// group is vouched for.
  std::vector<std::vector<std::size_t>> group_parameters;
};

/// run_draws on a DrawModel (same contract).
RunResult run_draws(const DrawModel& model, const RunOptions& options);

}  // namespace detail

}  // namespace steppe
