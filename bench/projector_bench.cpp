// SPDX-License-Identifier: MIT
// Benchmarks of the step kernel and of a full crisis + counterfactual reconstruction.
#include <benchmark/benchmark.h>

#include "steppe/excess.hpp"
#include "steppe/project.hpp"
#include "synthetic.hpp"

namespace {

// Times one step of the synthetic fixture's RateSet `which` (4: a crisis year, 0: baseline only).
void time_step(benchmark::State& state, const steppe::Dims& dims, std::size_t which,
               bool portable = false) {
  auto fx = steppe::bench::synthetic(dims);
  steppe::Projector projector{dims};
  if (portable) steppe::detail::use_avx2_kernel(projector, false);
  steppe::Population next(dims);
  steppe::Flows flows(dims);
  for (auto _ : state) {
    projector.step(fx.initial, fx.rates[which], next, flows);
    benchmark::DoNotOptimize(next.home().data());
  }
  state.SetItemsProcessed(state.iterations() * dims.cells());
}

}  // namespace

// One step, crisis rates, over ages × groups.
static void BM_Step(benchmark::State& state) {
  time_step(state, steppe::Dims{steppe::AgeAxis::single_year(int(state.range(0)) - 1),
                                int(state.range(1))}, 4);
}
BENCHMARK(BM_Step)->ArgNames({"ages", "groups"})->ArgsProduct({{101}, {1, 2, 8}});

// The same crisis step through the portable (SSE2) build of the kernel, even on a CPU with AVX2.
static void BM_StepPortable(benchmark::State& state) {
  time_step(state, steppe::Dims{steppe::AgeAxis::single_year(100), 2}, 4, /*portable=*/true);
}
BENCHMARK(BM_StepPortable);

// One step of baseline rates only (no crisis components), for comparison with BM_Step.
static void BM_StepBaseline(benchmark::State& state) {
  time_step(state, steppe::Dims{steppe::AgeAxis::single_year(100), 2}, 0);
}
BENCHMARK(BM_StepBaseline);




// The issue-2 target: 2 groups × 2 sexes × 101 ages, 12 annual steps, crisis run plus
// no-crisis counterfactual, full accounting (Accounts for both) and both excess definitions.
static void BM_CrisisAndCounterfactual(benchmark::State& state) {
  const steppe::Dims dims{steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"}};
  const auto fx = steppe::bench::synthetic(dims, 12);
  steppe::CrisisRunner runner(dims, {}, 12);
  for (auto _ : state) {
    runner.run(fx.initial, fx.rates, 1927);
    benchmark::DoNotOptimize(runner.crisis().steps().data());
    benchmark::DoNotOptimize(runner.counterfactual_end().home().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CrisisAndCounterfactual)->Unit(benchmark::kMicrosecond);

// The same pair plus the excess-death and lost-birth arrays (both definitions) per run.
static void BM_CrisisPairWithExcess(benchmark::State& state) {
  const steppe::Dims dims{steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"}};
  const auto fx = steppe::bench::synthetic(dims, 12);
  steppe::CrisisRunner runner(dims, {}, 12);
  for (auto _ : state) {
    runner.run(fx.initial, fx.rates, 1927);
    const Eigen::ArrayXXd a = steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
    const Eigen::ArrayXXd b = steppe::excess_deaths_vs_baseline_rates(runner.crisis());
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(b.data());
  }
}
BENCHMARK(BM_CrisisPairWithExcess)->Unit(benchmark::kMicrosecond);

// Five-year layout, 18 cells, 3 steps of 5 years (same engine).
static void BM_FiveYearPair(benchmark::State& state) {
  const steppe::Dims dims{steppe::AgeAxis::five_year(85), {"kazakh", "non_kazakh"}};
  const auto fx = steppe::bench::synthetic(dims, 3);
  steppe::CrisisRunner runner(dims, {}, 3);
  for (auto _ : state) {
    runner.run(fx.initial, fx.rates, 1926);
    benchmark::DoNotOptimize(runner.crisis().steps().data());
  }
}
BENCHMARK(BM_FiveYearPair)->Unit(benchmark::kMicrosecond);

