// SPDX-License-Identifier: MIT
// steppe calibrate's library call on the shipped scenarios: prior draws per second through both
// passes (every draw, then the draws of non-negligible weight), with the effective sample size.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "steppe/calibration.hpp"

namespace {

// The source tree's scenarios (STEPPE_SCENARIOS_DIR, set by bench/CMakeLists.txt).
std::filesystem::path scenario_path(const char* name) {
  return std::filesystem::path(STEPPE_SCENARIOS_DIR) / name;
}

// Arguments: draws, threads, and optionally the prior summary draws (the draws that run in
// full; the others run the crisis projection only, for their likelihood).
void calibrate_bench(benchmark::State& state, const std::filesystem::path& file) {
  const steppe::Scenario scenario = steppe::Scenario::load(file);
  steppe::CalibrationOptions options;
  options.run.draws = std::uint64_t(state.range(0));
  options.run.threads = int(state.range(1));
  if (state.range(2) > 0) options.prior_summary_draws = std::uint64_t(state.range(2));
  double ess = 0, posterior_draws = 0;
  for (auto _ : state) {
    const steppe::CalibrationResult r = steppe::calibrate(scenario, options);
    benchmark::DoNotOptimize(r.posterior.metrics.data());
    ess = r.ess;
    posterior_draws = double(r.posterior_draws);
    ++options.run.seed;  // fresh draws each iteration
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["ess"] = ess;  // of the last iteration
  state.counters["posterior_draws"] = posterior_draws;
}

void BM_CalibrateFamineSketch(benchmark::State& state) {
  calibrate_bench(state, scenario_path("famine_sketch.json"));
}
BENCHMARK(BM_CalibrateFamineSketch)
    ->ArgNames({"draws", "threads", "prior_summary"})
    ->ArgsProduct({{20000}, {1, 2}, {0}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The default Kazakhstan scenario (36 census targets, 31 uncertain parameters), importance
// sampling (the issue-4 target: 10^6 prior draws in under 20 s on 2 cores). At a tenth of that
// run's scale: 10^5 draws of which 10^4 run in full for the prior summaries (the CLI's 10^6 run
// has 10^5, the default prior_summary_draws), so the crisis-only likelihood pass weighs as much.
void BM_CalibrateKazakhstan(benchmark::State& state) {
  calibrate_bench(state, scenario_path("kazakhstan-1926-1939.json"));
}
BENCHMARK(BM_CalibrateKazakhstan)
    ->ArgNames({"draws", "threads", "prior_summary"})
    ->ArgsProduct({{100000}, {2}, {10000}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
