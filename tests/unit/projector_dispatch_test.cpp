// SPDX-License-Identifier: MIT
// Projector::step runs a portable (SSE2 on x86-64) or an AVX2 build of its one-pass kernel,
// chosen from the CPU. Users compare runs across machines, so both builds must give the same
// bits: every flow array, the column totals and the end population, on seeded random inputs,
// every option and both regimes, with sizes that leave 0 to 3 cells after the four-cell loop.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "steppe/projector.hpp"
#include "support/builders.hpp"

using steppe::AgeAxis;
using steppe::Dims;
using steppe::Flows;
using steppe::Population;
using steppe::RateSet;

namespace {

// Same bits (memcmp: tells −0 from +0 and compares NaN payloads).
template <class A>
bool same_bits(const A& a, const A& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

// What every build and form of the step must give alike, whichever flows it stores or sums:
// the end populations, births, clamps (in order) and the population totals.
void check_same_populations(const Population& out, const Flows& f, const Population& ref_out,
                            const Flows& ref) {
  CHECK(same_bits(out.home(), ref_out.home()));
  CHECK(same_bits(out.abroad(), ref_out.abroad()));
  CHECK(same_bits(f.births, ref.births));
  CHECK(same_bits(f.births_abroad, ref.births_abroad));
  CHECK(same_bits(f.baseline_births, ref.baseline_births));
  REQUIRE(f.clamps.size() == ref.clamps.size());
  for (std::size_t k = 0; k < f.clamps.size(); ++k) {
    CHECK(f.clamps[k].col == ref.clamps[k].col);
    CHECK(f.clamps[k].age_cell == ref.clamps[k].age_cell);
    CHECK(f.clamps[k].applied == ref.clamps[k].applied);
  }
  CHECK(std::memcmp(&f.clamped_persons, &ref.clamped_persons, sizeof(double)) == 0);
  REQUIRE(f.totals.valid);
  CHECK(f.totals.population_data == out.home().data());
  CHECK(same_bits(f.totals.population, ref.totals.population));
  CHECK(same_bits(f.totals.population_abroad, ref.totals.population_abroad));
}

// Every array and total alike: check_same_populations and the other flows, by age and summed.
void check_same_bits(const Population& out, const Flows& f, const Population& ref_out,
                     const Flows& ref) {
  check_same_populations(out, f, ref_out, ref);
  CHECK(same_bits(f.deaths, ref.deaths));
  CHECK(same_bits(f.deaths_abroad, ref.deaths_abroad));
  CHECK(same_bits(f.baseline_deaths, ref.baseline_deaths));
  CHECK(same_bits(f.baseline_deaths_abroad, ref.baseline_deaths_abroad));
  CHECK(same_bits(f.emigrants, ref.emigrants));
  CHECK(same_bits(f.returnees, ref.returnees));
  CHECK(same_bits(f.immigrants, ref.immigrants));
  CHECK(same_bits(f.net_migrants, ref.net_migrants));
  const Flows::ColumnTotals &t = f.totals, &u = ref.totals;
  CHECK(t.valid == u.valid);
  CHECK(same_bits(t.deaths, u.deaths));
  CHECK(same_bits(t.deaths_abroad, u.deaths_abroad));
  CHECK(same_bits(t.baseline_deaths, u.baseline_deaths));
  CHECK(same_bits(t.baseline_deaths_abroad, u.baseline_deaths_abroad));
  CHECK(same_bits(t.emigrants, u.emigrants));
  CHECK(same_bits(t.returnees, u.returnees));
  CHECK(same_bits(t.immigrants, u.immigrants));
  CHECK(same_bits(t.net_migrants, u.net_migrants));
}


/// A seeded random step for the build comparisons: 3 to 102 cells (0, 1, 2 and 3 cells left after
/// the four-cell loop) or five-year ages, 1 to 3 groups, sometimes nobody abroad, sometimes
/// counts large enough to clamp, most components thinned out.
struct RandomStep {
  Dims dims;
  Population in;
  RateSet rates;
};
RandomStep random_step(int seed, std::mt19937_64& rng) {
  const int last_ages[] = {2, 3, 4, 5, 6, 13, 100, 101};
  const AgeAxis ages = seed % 9 == 8 ? AgeAxis::five_year(85)
                                     : AgeAxis::single_year(last_ages[seed % 8]);
  const Dims dims(ages, 1 + seed % 3);
  Population in = steppe::test::random_population(dims, rng);
  if (seed % 5 == 0) in.abroad().setZero();  // nobody abroad yet
  RateSet rates = steppe::test::random_rates(dims, rng, /*oversized_counts=*/seed % 7 == 0);
  if (seed % 4 != 0) rates = steppe::test::thin_out(rates, rng);
  return {dims, std::move(in), std::move(rates)};
}

}  // namespace

TEST_CASE("the portable and AVX2 builds of the step give the same bits", "[unit][property]") {
  const auto seed = GENERATE(range(1, 25));
  const auto timing = GENERATE(steppe::MigrationTiming::half_half, steppe::MigrationTiming::start,
                               steppe::MigrationTiming::end);
  const bool bear = GENERATE(true, false);
  std::mt19937_64 rng(std::uint64_t(seed) * 7919u);
  auto [dims, in, rates] = random_step(seed, rng);
  REQUIRE_NOTHROW(rates.validate(dims));
  const steppe::ProjectorOptions options{timing, bear, steppe::OnNegative::clamp};
  steppe::Projector wide(dims, options), portable(dims, options);
  const bool has_avx2 = steppe::detail::use_avx2_kernel(wide, true);
  REQUIRE_FALSE(steppe::detail::use_avx2_kernel(portable, false));
  if (!has_avx2) WARN("no AVX2 on this CPU: both projectors run the portable build");
  Population out(dims), ref_out(dims);
  Flows flows(dims), ref_flows(dims);
  for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis, steppe::Regime::crisis}) {
    INFO("seed " << seed << " timing " << int(timing) << " bear " << bear << " regime "
                 << int(regime));
    wide.step(in, rates, out, flows, regime);
    portable.step(in, rates, ref_out, ref_flows, regime);
    check_same_bits(out, flows, ref_out, ref_flows);
  }
}

TEST_CASE("a projection through either build of the step gives the same bits, step after step",
          "[unit][property]") {
  std::mt19937_64 rng(1927);
  const Dims dims(AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  Population pop = steppe::test::random_population(dims, rng);
  pop.abroad().setZero();
  Population ref_pop = pop;
  steppe::Projector wide(dims), portable(dims);
  steppe::detail::use_avx2_kernel(wide, true);
  steppe::detail::use_avx2_kernel(portable, false);
  Population next(dims), ref_next(dims);
  Flows flows(dims), ref_flows(dims);
  for (int k = 0; k < 12; ++k) {
    RateSet r = steppe::test::random_rates(dims, rng);
    if (k < 3 || k > 6) r = steppe::test::thin_out(r, rng);
    INFO("step " << k);
    wide.step(pop, r, next, flows);
    portable.step(ref_pop, r, ref_next, ref_flows);
    check_same_bits(next, flows, ref_next, ref_flows);
    swap(pop, next);
    swap(ref_pop, ref_next);
  }
}

TEST_CASE("the AVX2 build in its plain AVX2 form (16 registers) gives the same bits",
          "[unit][property]") {
  const auto seed = GENERATE(range(1, 13));
  const bool bear = GENERATE(true, false);
  std::mt19937_64 rng(std::uint64_t(seed) * 104723u);
  auto [dims, in, rates] = random_step(seed, rng);
  REQUIRE_NOTHROW(rates.validate(dims));
  const steppe::ProjectorOptions options{steppe::MigrationTiming::half_half, bear,
                                         steppe::OnNegative::clamp};
  steppe::Projector avx2(dims, options), portable(dims, options);
  steppe::detail::use_avx2_kernel(avx2, true);
  REQUIRE_FALSE(steppe::detail::use_avx512_registers(avx2, false));
  steppe::detail::use_avx2_kernel(portable, false);
  Population out(dims), ref_out(dims);
  Flows flows(dims), ref_flows(dims);
  for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
    INFO("seed " << seed << " bear " << bear << " regime " << int(regime));
    avx2.step(in, rates, out, flows, regime);
    portable.step(in, rates, ref_out, ref_flows, regime);
    check_same_bits(out, flows, ref_out, ref_flows);
  }
}

// CrisisRunner steps with detail::step_without_by_age_flows where no ledger records by-age
// arrays (and with detail::step_with_by_age_deaths_only where one does): the kernel then stores
// no by-age flow array (or only deaths), but must write the same end population,
// births, clamps and column totals as Projector::step, in every build.
TEST_CASE("a step without by-age flows writes the same populations, births and totals as step",
          "[unit][property]") {
  const auto seed = GENERATE(range(1, 25));
  const auto timing = GENERATE(steppe::MigrationTiming::half_half, steppe::MigrationTiming::end);
  const bool bear = GENERATE(true, false);
  std::mt19937_64 rng(std::uint64_t(seed) * 3571u);
  auto [dims, in, rates] = random_step(seed, rng);
  REQUIRE_NOTHROW(rates.validate(dims));
  const steppe::ProjectorOptions options{timing, bear, steppe::OnNegative::clamp};
  steppe::Projector ref(dims, options);
  steppe::detail::use_avx2_kernel(ref, false);
  for (int build = 0; build < 3; ++build) {  // portable, AVX2, AVX2 in its AVX-512VL form
    steppe::Projector p(dims, options);
    steppe::detail::use_avx2_kernel(p, build > 0);
    steppe::detail::use_avx512_registers(p, build == 2);
    Population out(dims), ref_out(dims);
    Flows flows(dims), ref_flows(dims);
    for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
      INFO("seed " << seed << " timing " << int(timing) << " bear " << bear << " build " << build
                   << " regime " << int(regime));
      ref.step(in, rates, ref_out, ref_flows, regime);
      for (const bool deaths : {false, true}) {
      INFO("by-age deaths " << deaths);
      if (deaths) steppe::detail::step_with_by_age_deaths_only(p, in, rates, out, flows, regime);
      else steppe::detail::step_without_by_age_flows(p, in, rates, out, flows, regime);
      if (deaths) {  // stored by age as step stores them
        CHECK(same_bits(flows.deaths, ref_flows.deaths));
        CHECK(same_bits(flows.deaths_abroad, ref_flows.deaths_abroad));
      }
      check_same_populations(out, flows, ref_out, ref_flows);
      const Flows::ColumnTotals &t = flows.totals, &u = ref_flows.totals;
      CHECK(same_bits(t.deaths, u.deaths));
      CHECK(same_bits(t.deaths_abroad, u.deaths_abroad));
      CHECK(same_bits(t.baseline_deaths, u.baseline_deaths));
      CHECK(same_bits(t.baseline_deaths_abroad, u.baseline_deaths_abroad));
      CHECK(same_bits(t.emigrants, u.emigrants));
      CHECK(same_bits(t.returnees, u.returnees));
      CHECK(same_bits(t.immigrants, u.immigrants));
      CHECK(same_bits(t.net_migrants, u.net_migrants));
      }
    }
  }
}

TEST_CASE("steps with by-age flows after steps without them write every flow as step does",
          "[unit][property]") {
  const auto seed = GENERATE(range(1, 9));
  std::mt19937_64 rng(std::uint64_t(seed) * 6007u);
  const Dims dims(AgeAxis::single_year(seed % 2 ? 100 : 13), {"kazakh", "non_kazakh"});
  Population pop = steppe::test::random_population(dims, rng);
  pop.abroad().setZero();
  Population ref_pop = pop;
  steppe::Projector p(dims), ref(dims);
  steppe::detail::use_avx2_kernel(p, seed % 3 != 0);
  steppe::detail::use_avx2_kernel(ref, false);
  Population next(dims), ref_next(dims);
  Flows flows(dims), ref_flows(dims);
  std::uniform_int_distribution<int> mode(0, 2);  // 0: no by-age flows, 1: deaths only, 2: all
  for (int k = 0; k < 16; ++k) {
    RateSet r = steppe::test::random_rates(dims, rng, /*oversized_counts=*/k % 5 == 4);
    if (k % 3 != 0) r = steppe::test::thin_out(r, rng);
    const auto regime = k % 4 == 1 ? steppe::Regime::no_crisis : steppe::Regime::crisis;
    const int by_age = mode(rng);
    INFO("seed " << seed << " step " << k << " by age " << by_age);
    ref.step(ref_pop, r, ref_next, ref_flows, regime);
    if (by_age == 2) {
      p.step(pop, r, next, flows, regime);
      check_same_bits(next, flows, ref_next, ref_flows);  // stale arrays overwritten or zeroed
    } else {
      if (by_age == 1) {
        steppe::detail::step_with_by_age_deaths_only(p, pop, r, next, flows, regime);
        CHECK(same_bits(flows.deaths, ref_flows.deaths));
        CHECK(same_bits(flows.deaths_abroad, ref_flows.deaths_abroad));  // zeroed if stale
      } else {
        steppe::detail::step_without_by_age_flows(p, pop, r, next, flows, regime);
      }
      CHECK(same_bits(next.home(), ref_next.home()));
      CHECK(same_bits(next.abroad(), ref_next.abroad()));
      CHECK(same_bits(flows.totals.deaths, ref_flows.totals.deaths));
      CHECK(same_bits(flows.totals.population_abroad, ref_flows.totals.population_abroad));
    }
    swap(pop, next);
    swap(ref_pop, ref_next);
  }
}

TEST_CASE("a step for the populations only writes the same populations, births and clamps as step",
          "[unit][property]") {
  // detail::step_populations_only sums no flow (its build runs in the AVX-512VL form; the other
  // builds stand in with the flows summed): everything but the flows' totals and by-age arrays
  // must have step's bits, then a later ordinary step must write every flow as step does.
  const auto seed = GENERATE(range(1, 25));
  const auto timing = GENERATE(steppe::MigrationTiming::half_half, steppe::MigrationTiming::end);
  std::mt19937_64 rng(std::uint64_t(seed) * 7717u);
  auto [dims, in, rates] = random_step(seed, rng);
  REQUIRE_NOTHROW(rates.validate(dims));
  const steppe::ProjectorOptions options{timing, true, steppe::OnNegative::clamp};
  steppe::Projector ref(dims, options);
  for (int build = 0; build < 3; ++build) {  // portable, AVX2, AVX2 in its AVX-512VL form
    steppe::Projector p(dims, options);
    steppe::detail::use_avx2_kernel(p, build > 0);
    steppe::detail::use_avx512_registers(p, build == 2);
    Population out(dims), ref_out(dims), out2(dims), ref_out2(dims);
    Flows flows(dims), ref_flows(dims);
    for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
      INFO("seed " << seed << " timing " << int(timing) << " build " << build << " regime "
                   << int(regime));
      ref.step(in, rates, ref_out, ref_flows, regime);
      steppe::detail::step_populations_only(p, in, rates, out, flows, regime);
      CHECK(steppe::detail::last_step_path(p) == steppe::detail::last_step_path(ref));
      check_same_populations(out, flows, ref_out, ref_flows);
      // A step with every flow after it: the same bits as step after step.
      p.step(out, rates, out2, flows, regime);
      ref.step(ref_out, rates, ref_out2, ref_flows, regime);
      check_same_bits(out2, flows, ref_out2, ref_flows);
    }
  }
}
