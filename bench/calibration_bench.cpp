// SPDX-License-Identifier: MIT
// steppe calibrate's library call on the shipped scenarios: prior draws per second through both
// passes (every draw, then the draws of non-negligible weight), with the effective sample size.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "steppe/calibration.hpp"

namespace {

// The source tree's scenarios (CMake compiles with absolute paths, so __FILE__ locates them).
std::filesystem::path scenario_path(const char* name) {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "scenarios" / name;
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

// The default Kazakhstan scenario, when the source tree has it.
const bool kazakhstan_registered = [] {
  const std::filesystem::path file = scenario_path("kazakhstan-1926-1939.json");
  if (!std::filesystem::exists(file)) return false;
  benchmark::RegisterBenchmark("BM_CalibrateKazakhstan",
                               [file](benchmark::State& s) { calibrate_bench(s, file); })
      ->ArgNames({"draws", "threads"})
      ->Args({20000, 2})
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
