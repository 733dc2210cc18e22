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

void calibrate_bench(benchmark::State& state, const std::filesystem::path& file) {
  const steppe::Scenario scenario = steppe::Scenario::load(file);
  steppe::CalibrationOptions options;
  options.run.draws = std::uint64_t(state.range(0));
  options.run.threads = int(state.range(1));
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
    ->ArgNames({"draws", "threads"})
    ->ArgsProduct({{20000}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The default Kazakhstan scenario (36 census targets, 31 uncertain parameters), importance
// sampling only (the issue-4 target: 10^6 prior draws in under 20 s on 2 cores).
void BM_CalibrateKazakhstan(benchmark::State& state) {
  calibrate_bench(state, scenario_path("kazakhstan-1926-1939.json"));
}
BENCHMARK(BM_CalibrateKazakhstan)
    ->ArgNames({"draws", "threads"})
    ->ArgsProduct({{100000}, {2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
