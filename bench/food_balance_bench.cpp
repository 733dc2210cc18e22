// SPDX-License-Identifier: MIT
// Cost of the food-balance crisis per draw (issue 5: at most 25 % more than the outcome-based
// model): run_draws, and sample + build alone, on the default Kazakhstan scenario (outcome-based
// crisis) against kazakhstan-food-balance.json (the same scenario with a food-balance crisis).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "steppe/simulation.hpp"

namespace {

const steppe::Scenario& scenario(int food_balance) {
  static const std::filesystem::path dir(STEPPE_SCENARIOS_DIR);
  static const steppe::Scenario outcome = steppe::Scenario::load(dir / "kazakhstan-1926-1939.json");
  static const steppe::Scenario food = steppe::Scenario::load(dir / "kazakhstan-food-balance.json");
  return food_balance ? food : outcome;
}

void BM_KazakhstanRunDraws(benchmark::State& state) {
  const steppe::Scenario& s = scenario(int(state.range(0)));
  steppe::RunOptions options;
  options.draws = 1000;
  options.threads = 1;
  for (auto _ : state) {
    steppe::RunResult r = steppe::run_draws(s, options);
    benchmark::DoNotOptimize(r.metrics.data());
    ++options.seed;  // fresh draws each iteration
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_KazakhstanRunDraws)
    ->ArgName("food_balance")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_KazakhstanSampleBuild(benchmark::State& state) {
  const steppe::Scenario& s = scenario(int(state.range(0)));
  std::vector<double> values;
  steppe::ModelInputs inputs;
  std::uint64_t draw = 0;
  for (auto _ : state) {
    s.sample(1, draw++, values);
    s.build(values, inputs);
    benchmark::DoNotOptimize(inputs.rates.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KazakhstanSampleBuild)->ArgName("food_balance")->Arg(0)->Arg(1);

}  // namespace
