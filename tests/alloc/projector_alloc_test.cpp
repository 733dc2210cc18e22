// SPDX-License-Identifier: MIT
// Proves that Projector::step, the driver loop and a reserved CrisisRunner never allocate:
// this binary replaces the global operator new with a counting one.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <random>

#include "steppe/excess.hpp"
#include "steppe/project.hpp"
#include "support/builders.hpp"

namespace {
std::size_t g_allocations = 0;
}

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void* operator new[](std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

TEST_CASE("Projector::step never allocates, with or without crisis and clamps", "[unit][alloc]") {
  std::mt19937_64 rng(42);
  const steppe::Dims dims(steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  const steppe::Population in = steppe::test::random_population(dims, rng);
  const steppe::RateSet rates = steppe::test::random_rates(dims, rng, /*oversized_counts=*/true);
  steppe::Projector projector(dims);
  steppe::Population out(dims);
  steppe::Flows flows(dims);
  const std::size_t before = g_allocations;
  projector.step(in, rates, out, flows, steppe::Regime::crisis);
  projector.step(in, rates, out, flows, steppe::Regime::no_crisis);
  const std::size_t after = g_allocations;
  CHECK(after - before == 0);
  projector.step(in, rates, out, flows, steppe::Regime::crisis);
  CHECK(flows.clamps.size() > 0);  // the clamp path ran, and still did not allocate
  CHECK(g_allocations - after == 0);
}

TEST_CASE("a reserved CrisisRunner runs crisis + counterfactual without allocating",
          "[unit][alloc]") {
  std::mt19937_64 rng(7);
  const steppe::Dims dims(steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  const steppe::Population initial = steppe::test::random_population(dims, rng);
  std::vector<steppe::RateSet> rates;
  for (int k = 0; k < 12; ++k) rates.push_back(steppe::test::random_rates(dims, rng));
  steppe::CrisisRunner runner(dims, {}, 12);
  runner.run(initial, rates, 1927);  // warm-up
  const std::size_t before = g_allocations;
  runner.run(initial, rates, 1927);
  CHECK(g_allocations - before == 0);
  CHECK(runner.crisis().size() == 12);
  // And the counter does count: an allocation is seen.
  const std::size_t probe = g_allocations;
  auto* v = new std::vector<double>(100);
  CHECK(g_allocations > probe);
  delete v;
}

TEST_CASE("a reserved CrisisRunner keeping by-age arrays in some steps does not allocate",
          "[unit][alloc]") {
  std::mt19937_64 rng(11);
  const steppe::Dims dims(steppe::AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  const steppe::Population initial = steppe::test::random_population(dims, rng);
  std::vector<steppe::RateSet> rates;
  for (int k = 0; k < 12; ++k) rates.push_back(steppe::test::random_rates(dims, rng, k == 5));
  steppe::CrisisRunner runner(dims, {}, 12, /*keep_by_age=*/true);
  std::vector<bool> mask(12, false);
  mask[3] = mask[4] = mask[11] = true;  // by-age steps; the others skip the by-age flow stores
  runner.keep_by_age_only_in(mask);
  runner.run(initial, rates, 1927);  // warm-up
  const std::size_t before = g_allocations;
  runner.run(initial, rates, 1927);
  CHECK(g_allocations - before == 0);
  CHECK(runner.crisis().size() == 12);
}
