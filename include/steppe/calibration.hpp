// SPDX-License-Identifier: MIT
// Calibration: a scenario's prior draws weighted by the census likelihood of its targets
// (importance sampling from the prior), giving the posterior of every output and of every
// uncertain parameter, the fit to each target, and effective-sample-size diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "steppe/scenario.hpp"
#include "steppe/simulation.hpp"
#include "steppe/smc.hpp"

namespace steppe {

/// How to calibrate.
struct CalibrationOptions {
  /// The prior draws: seed, draws (≥ 2: draw i uses Scenario::sample(seed, i)), threads,
  /// progress (called by the first pass, which runs every draw) and cancel. `keep` and
  /// `weights` must be empty: calibrate sets them.
  RunOptions run;
  /// Below this effective sample size the result is flagged `degenerate`.
  double min_ess = 100;
  /// The lightest draws whose weights add up to at most this fraction of Σw get weight 0 and
  /// are not run in the second pass, so a posterior probability moves by at most this much.
  /// Unset: automatic, a tenth of the Monte Carlo standard error of the outermost reported tail
  /// probability p (0.025 with the default quantiles) at the effective sample size,
  /// √(p(1 − p)/ESS)/10, and at most 1e-3; the bias stays well inside the noise. 0 keeps every
  /// draw with a positive weight.
  std::optional<double> max_dropped_weight;
  /// How the posterior is computed. `importance`: importance sampling from the prior (the two
  /// passes above). `smc`: the prior draws still give the prior summaries and the importance
  /// sampling diagnostics, but the posterior comes from calibrate_smc (likelihood tempering,
  /// options in `smc`; seed, threads and cancel are taken from `run`). `automatic`: importance
  /// sampling, or SMC when it is degenerate (ess < min_ess).
  enum class Method { importance, smc, automatic };
  /// The prior summaries (CalibrationResult::prior) come from the first this many draws (0 = all);
  /// the log-likelihood of the others is computed from the crisis run alone, without the
  /// counterfactual and without summaries, which halves their cost. Their weights and the
  /// posterior use every draw.
  std::uint64_t prior_summary_draws = 100000;
  Method method = Method::importance;
  SmcOptions smc;
};

/// Prior and posterior of one uncertain parameter (a Parameter whose distribution is not
/// constant; a shared distribution once). Quantiles at RunResult::quantile_levels, exact:
/// see weighted_summary.
struct ParameterPosterior {
  /// "/groups/0/initial_population/undercount", or "/distributions/<name>" if shared
  std::string pointer;
  std::string file;  ///< the file that wrote it (the first field naming a shared one), or "--set"
  std::string distribution;  ///< the prior, as Distribution::describe() writes it
  Summary prior, posterior;  ///< in the parameter's own unit
};

/// The fit to one target. `expected` is the count a census would give on average under the
/// census-error model: modelled · (1 + bias) (bias 0 if the target has none). Its range is the
/// model's, without the census's random error ε; `predictive_cdf` adds ε.
struct TargetFit {
  std::string name;
  double observed = 0;  ///< persons
  bool has_sd = false;  ///< the target has a census-error sd (it enters the likelihood)
  Summary prior_modelled, posterior_modelled;  ///< /targets/<name>/modelled, persons
  Summary prior_relative_deviation, posterior_relative_deviation;  ///< modelled / observed − 1
  Summary prior_expected, posterior_expected;  ///< modelled · (1 + bias), persons
  /// Standardised census error z = (observed / expected − 1) / sd under the posterior (only if
  /// has_sd): |z| well above 2 means the census count is out of reach of the model's parameters.
  Summary posterior_z;
  /// Posterior predictive check (only if has_sd, else NaN): the probability that a census,
  /// drawn from the posterior and the census-error model (observed = expected·(1 + ε)), counts
  /// fewer than the observed count: Σ w_i Φ(z_i) / Σ w_i. Near 0 or 1 = the count is not fitted.
  double predictive_cdf = 0;
  /// The observed count is within the posterior predictive range between the outermost quantile
  /// levels (the 95 % range with the default levels): lo ≤ predictive_cdf ≤ hi. Without an sd,
  /// the observed count lies within that range of `expected`.
  bool within = false;
};

/// What `steppe calibrate` reports.
struct CalibrationResult {
  /// Over the first CalibrationOptions::prior_summary_draws draws (all if fewer), unweighted:
  /// every metric of `steppe run` except the breakdowns by year and by age (by_year,
  /// by_group_year, by_group_sex_age, balance_by_year), which only the posterior has. Its
  /// `kept` is emptied (the per-draw log-likelihoods are calibrate's working data).
  RunResult prior;
  RunResult posterior;  ///< the same metrics weighted by the likelihood (draws of weight 0 not run)
  std::uint64_t draws = 0;  ///< prior draws run (< asked only if cancelled)
  bool cancelled = false;   ///< stopped by RunOptions::cancel: nothing but `draws` is meaningful
  /// Effective sample size (Σw)²/Σw² of the likelihood weights w_i = exp(ℓ_i − max ℓ), before
  /// dropping negligible weights; ess / draws is the fraction of the draws that counts.
  double ess = 0;
  double max_weight_share = 0;  ///< max w / Σw: the share of the heaviest draw
  double dropped_weight = 0;    ///< fraction of Σw dropped as negligible (≤ max_dropped_weight)
  double max_dropped_weight = 0;      ///< the bound used (CalibrationOptions, or the automatic one)
  std::uint64_t posterior_draws = 0;  ///< draws with a positive weight (run in the second pass)
  bool degenerate = false;            ///< ess < min_ess: too few effective draws to trust
  double min_ess = 0;                 ///< the threshold used
  /// "importance sampling" or "sequential Monte Carlo": what produced the posterior.
  std::string method = "importance sampling";
  /// With SMC: how the sampler went (ess above stays importance sampling's, as a diagnostic of
  /// the prior; the posterior rests on smc->particles particles).
  struct SmcInfo {
    std::size_t particles = 0;
    std::size_t distinct = 0;   ///< distinct parameter sets among the final particles
    std::vector<SmcStage> stages;
    double log_evidence = 0;
    std::uint64_t evaluations = 0;
  };
  std::optional<SmcInfo> smc;
  /// In scenario order (a shared one at its first use).
  std::vector<ParameterPosterior> parameters;
  std::vector<TargetFit> targets;  ///< in file order

  /// The plain-language warning for a degenerate result ("" if not degenerate). An SMC
  /// posterior is degenerate when its distinct particles are fewer than min_ess.
  std::string warning() const;
};

/// Importance sampling from the prior. Pass 1 runs options.run.draws draws of the scenario
/// (run_draws, keeping each draw's /log_likelihood/total ℓ_i and every target's modelled
/// count); the weights are w_i = exp(ℓ_i − max ℓ) (a draw whose ℓ is not a number gets 0); pass
/// 2 reruns the draws of positive weight with those weights (run_draws with RunOptions::weights)
/// for the posterior of every metric. Parameters are resampled (Rng(seed, i, stream), as
/// Scenario::sample) for the parameter summaries. Results are bit-identical whatever the
/// thread count. Memory: about draws · (targets + 10) doubles (the kept values, the weights and
/// the expected counts of 8 targets at a time) and draws doubles per uncertain census-error
/// parameter, besides run_draws' own.
/// @throws domain_error if no target has a census-error sd (there is no likelihood), if draws
///         < 2, if options.run.keep or weights is not empty, or if no draw has a finite
///         log-likelihood; as run_draws otherwise.
CalibrationResult calibrate(const Scenario& scenario, const CalibrationOptions& options);

/// Summary of values x_i with weights w_i ≥ 0 (Σw > 0): weighted mean μ = Σwx/Σw; sd =
/// sqrt(Σw(x − μ)²/Σw · n_eff/(n_eff − 1)), n_eff = (Σw)²/Σw² (with equal weights, the usual
/// n − 1 sample sd; 0 if n_eff ≤ 1); the q-quantile is the smallest x whose cumulative weight
/// (values sorted; tied values in an order fixed by the input) reaches q·Σw (the inverse of the weighted empirical CDF;
/// the smallest x with positive weight for q = 0). count = number of positive weights. Sums run in
/// input order: the result depends only on the inputs. Empty `weights` = all 1.
/// @throws domain_error if sizes differ, a weight is negative or not finite, or Σw = 0.
Summary weighted_summary(std::span<const double> values, std::span<const double> weights,
                         std::span<const double> levels);

namespace detail {

/// Not API (tests): the values of ranks `ranks` (0-based, each < values.size(), any order) among
/// `values` (no NaN), in the order of `ranks`: what sorting the values ascending puts at those
/// positions (of a −0 and a +0 tied at a rank, either). Exact, without sorting: one pass counts the values in monotone buckets, one keeps
/// those of the buckets that hold a wanted rank, and the ranks are selected among those alone.
std::vector<double> order_statistics(std::span<const double> values,
                                     std::span<const std::size_t> ranks);

}  // namespace detail

}  // namespace steppe
