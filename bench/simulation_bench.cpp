// SPDX-License-Identifier: MIT
// Draws per second of run_draws on the famine sketch (2 groups, single years, 12 annual steps),
// and the parts of one draw alone: Scenario::sample + build, the crisis + counterfactual pair.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "steppe/excess.hpp"
#include "steppe/rng.hpp"
#include "steppe/simulation.hpp"
#include "synthetic.hpp"

namespace {

// The source tree's scenario (STEPPE_SCENARIOS_DIR, set by bench/CMakeLists.txt).
const steppe::Scenario& famine_sketch() {
  static const steppe::Scenario s = steppe::Scenario::load(
      std::filesystem::path(STEPPE_SCENARIOS_DIR) / "famine_sketch.json");
  return s;
}

void BM_RunDraws(benchmark::State& state) {
  const steppe::Scenario& scenario = famine_sketch();
  steppe::RunOptions options;
  options.draws = std::uint64_t(state.range(0));
  options.threads = int(state.range(1));
  for (auto _ : state) {
    steppe::RunResult r = steppe::run_draws(scenario, options);
    benchmark::DoNotOptimize(r.metrics.data());
    ++options.seed;  // fresh draws each iteration
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RunDraws)
    ->ArgNames({"draws", "threads"})
    ->ArgsProduct({{2000}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// run_draws without Scenario: the synthetic fixture of the projector benchmarks (2 groups, single
// years to 100+, 12 steps) copied into the inputs and scaled by one drawn number, so the time is
// the engine's and run_draws' own (metrics, summaries, threads), with a build that costs a copy.
void BM_RunDrawsSynthetic(benchmark::State& state) {
  static const steppe::bench::Fixture fx =
      steppe::bench::synthetic(steppe::Dims(steppe::AgeAxis::single_year(100), {"kazakh", "other"}));
  steppe::detail::DrawModel m;
  m.dims = fx.dims;
  for (int k = 0; k < int(fx.rates.size()); ++k)
    m.steps.push_back({1927.0 + k, 1928.0 + k, 1927 + k});
  m.outputs.window_first = 1930;
  m.outputs.window_last = 1933;
  m.targets.push_back({"census_1937", 1937.0, 10, 0, -1, 0, -1, false, 2e6, 0, 1});
  m.targets.push_back({"census_1939", 1939.0, 12, -1, -1, 0, -1, false, 6e6, 0, 1});
  m.build = [](std::uint64_t seed, std::uint64_t draw, bool, std::vector<double>& v,
               steppe::ModelInputs& in) {
    v.assign({0.02 * steppe::Rng(seed, draw, 1).uniform01(), 0.03});
    in.initial = fx.initial;
    in.rates = fx.rates;
    in.initial.home() *= 1.0 + v[0];
  };
  steppe::RunOptions options;
  options.draws = std::uint64_t(state.range(0));
  options.threads = int(state.range(1));
  for (auto _ : state) {
    steppe::RunResult r = steppe::detail::run_draws(m, options);
    benchmark::DoNotOptimize(r.metrics.data());
    ++options.seed;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RunDrawsSynthetic)
    ->ArgNames({"draws", "threads"})
    ->ArgsProduct({{2000}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The parts of one draw, on one thread.
void BM_DrawSampleBuild(benchmark::State& state) {
  const steppe::Scenario& scenario = famine_sketch();
  std::vector<double> values;
  steppe::ModelInputs inputs;
  std::uint64_t draw = 0;
  for (auto _ : state) {
    scenario.sample(1, draw++, values);
    scenario.build(values, inputs);
    benchmark::DoNotOptimize(inputs.rates.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DrawSampleBuild);

void BM_DrawCrisisRunner(benchmark::State& state) {
  const steppe::Scenario& scenario = famine_sketch();
  std::vector<double> values;
  steppe::ModelInputs inputs;
  scenario.central(values);
  scenario.build(values, inputs);
  const auto steps = scenario.steps();
  steppe::CrisisRunner runner(scenario.dims(), scenario.projector_options(), int(steps.size()),
                              /*keep_by_age=*/state.range(0) != 0);
  for (auto _ : state) {
    runner.run(inputs.initial, inputs.rates, steps.front().year - 1);
    benchmark::DoNotOptimize(runner.crisis_end().home().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DrawCrisisRunner)->ArgName("keep_by_age")->Arg(0)->Arg(1);

}  // namespace
