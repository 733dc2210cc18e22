// SPDX-License-Identifier: MIT
// Sequential Monte Carlo calibration: the posterior of a scenario's uncertain parameters given
// its census targets, by likelihood tempering — for when importance sampling from the prior
// rests on too few effective draws (many targets, or tight census errors, make the likelihood
// far narrower than the prior).
//
// Method (Del Moral, Doucet & Jasra 2006, "Sequential Monte Carlo samplers", JRSS B 68(3);
// adaptive temperatures as Jasra, Stephens, Doucet & Tsagaris 2011, Scand. J. Stat. 38(1)):
// particles start from the prior; the likelihood is switched on in stages L(θ)^φ, 0 = φ_0 < φ_1
// < … < φ_T = 1, each φ_{t+1} chosen so that the effective sample size of the incremental
// weights L^(φ_{t+1} − φ_t) is a set fraction of the particles; after each stage the particles
// are resampled (systematic) and moved by random-walk Metropolis steps that leave
// prior × L^φ invariant. Every uncertain parameter is moved on a standard-normal coordinate z
// with value = F⁻¹(Φ(z)) (F the parameter's prior distribution after truncation), so the prior is
// N(0, I) in z whatever the distributions; the proposal covariance is the particles' own,
// scaled by 2.38/√d and adapted to the acceptance rate. Model runs go through
// run_parameter_sets, so results are bit-identical whatever the thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "steppe/distribution.hpp"
#include "steppe/scenario.hpp"
#include "steppe/simulation.hpp"

namespace steppe {

/// How to run the sampler.
struct SmcOptions {
  std::uint64_t seed = 1;
  std::size_t particles = 2000;
  /// Each stage's temperature step keeps the ESS of its incremental weights at this share of
  /// the particles (0 < share < 1); smaller = fewer, bolder stages.
  double ess_fraction = 0.5;
  int moves = 5;         ///< Metropolis moves per particle per stage
  int max_stages = 200;  ///< safety stop: the run throws if φ has not reached 1 by then
  int threads = 0;       ///< as RunOptions::threads
  /// Called after each stage from the calling thread (stage number from 1, its temperature).
  std::function<void(int stage, double temperature)> progress;
  const std::atomic<bool>* cancel = nullptr;  ///< stops between model runs; result.cancelled
  /// Metrics whose value for every final particle is returned in posterior.kept
  /// (RunOptions::keep of the final run).
  std::vector<std::string> keep;
};

/// One uncertain quantity the sampler moves: a parameter, or all the fields that share one
/// distribution (`{"shared": name}`).
struct SmcCoordinate {
  std::string name;              ///< the parameter's JSON pointer, or "/distributions/<name>"
  std::vector<int> parameters;   ///< indices into Scenario::parameters() set to its value
  Distribution prior = Distribution::constant(0.0);
};

/// One tempering stage.
struct SmcStage {
  double temperature = 0;   ///< φ reached at the end of the stage
  double ess = 0;           ///< ESS of the incremental weights before resampling (particles)
  double acceptance = 0;    ///< share of Metropolis proposals accepted in the stage's moves
  double log_evidence = 0;  ///< this stage's factor of the marginal likelihood, log
};

/// The posterior sample and how it was reached.
struct SmcResult {
  bool cancelled = false;
  std::vector<SmcCoordinate> coordinates;
  /// Per particle (equal weights): every parameter's value, Scenario::parameters() order.
  std::vector<std::vector<double>> values;
  std::vector<double> log_likelihood;  ///< per particle, nats (φ = 1)
  std::vector<SmcStage> stages;
  /// ln p(targets | scenario): Σ over stages of ln mean incremental weight. Compares scenarios
  /// (a Bayes factor is the exponential of the difference).
  double log_evidence = 0;
  std::uint64_t evaluations = 0;  ///< model runs (crisis + counterfactual pairs)
  /// Every metric of run_draws over the final particles (one draw each, equal weights).
  RunResult posterior;
};

/// Runs the sampler on the scenario's targets (each with its census-error model).
/// @throws domain_error if the scenario has no target with an error sd, no uncertain parameter,
///         options out of range, or φ stays below 1 after max_stages; what run_draws throws.
SmcResult calibrate_smc(const Scenario& scenario, const SmcOptions& options);

}  // namespace steppe
