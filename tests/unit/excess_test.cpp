// SPDX-License-Identifier: MIT
// CrisisRunner and the two definitions of excess deaths and lost births.
#include "steppe/excess.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <utility>

#include "steppe/project.hpp"
#include "steppe/shock.hpp"
#include "support/builders.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;
using steppe::Dims;
using steppe::Population;
using steppe::RateSet;

namespace {

RateSet stationary_rates(const Dims& dims) {
  RateSet r(dims);
  r.survivorship.setConstant(0.98);
  r.birth_survivorship.setConstant(0.9);
  for (Eigen::Index x = 2; x < dims.n_ages() - 1; ++x) r.asfr.row(x).setConstant(0.08);
  return r;
}

}  // namespace

TEST_CASE("without a crisis both excess definitions are zero", "[unit]") {
  const Dims dims(AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  Population initial(dims);
  initial.home().setConstant(100.0);
  std::vector<RateSet> rates(6, stationary_rates(dims));
  steppe::CrisisRunner runner(dims, {}, 6);
  runner.run(initial, rates, 1927);
  CHECK(runner.crisis().size() == 6);
  CHECK(runner.crisis().steps()[0].year == 1928);
  CHECK(steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual())
            .abs().maxCoeff() == 0.0);
  CHECK(steppe::excess_deaths_vs_baseline_rates(runner.crisis()).abs().maxCoeff() < 1e-9);
  CHECK(steppe::lost_births_vs_baseline_rates(runner.crisis()).abs().maxCoeff() < 1e-9);
}

TEST_CASE("a one-year shock: the definitions agree in the shock year and part afterwards",
          "[unit]") {
  const Dims dims(AgeAxis::single_year(10), {"kazakh", "non_kazakh"});
  Population initial(dims);
  initial.home().setConstant(100.0);
  std::vector<RateSet> rates(5, stationary_rates(dims));
  Eigen::ArrayXXd m = Eigen::ArrayXXd::Ones(dims.n_ages(), dims.n_cols());
  m.col(0).setConstant(3.0);  // kazakh women, first step only
  steppe::set_mortality_multiplier(rates[0], m);
  rates[0].fertility_multiplier = Eigen::ArrayXd::Ones(2);
  rates[0].fertility_multiplier(0) = 0.5;
  steppe::CrisisRunner runner(dims, {}, 5);
  runner.run(initial, rates, 1930);
  const Eigen::ArrayXXd a = steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd b = steppe::excess_deaths_vs_baseline_rates(runner.crisis());
  // Step 1, kazakh women: every one of the 11 cells of 100 women faces S³ instead of S, so
  // (b) = 1100·(S − S³) + girls born·(Sb − Sb³). (a) has the same non-infant part; for infants it
  // compares the crisis girls' deaths with the counterfactual's (twice as many births).
  const double S = 0.98, Sb = 0.9;
  const auto& c1 = runner.crisis().steps()[0];
  const auto& n1 = runner.counterfactual().steps()[0];
  const double girls = c1.births(0), girls_cf = n1.births(0);
  // Births halve against the baseline fertility of the same (shocked) women …
  CHECK_THAT(girls, WithinRel(0.5 * c1.baseline_births(0), 1e-12));
  // … and fall a little more against the counterfactual, whose women did not die in the step.
  CHECK(girls < 0.5 * girls_cf);
  CHECK_THAT(b(0, 0), WithinRel(1100.0 * (S - S * S * S) + girls * (Sb - Sb * Sb * Sb), 1e-12));
  CHECK_THAT(a(0, 0), WithinRel(1100.0 * (S - S * S * S) + girls * (1 - Sb * Sb * Sb) -
                                    girls_cf * (1 - Sb), 1e-12));
  // The other group and the men are untouched in both definitions.
  CHECK(std::abs(steppe::window_total(a, runner.crisis(), 1931, 1935, 1)) < 1e-9);
  CHECK(std::abs(steppe::window_total(b, runner.crisis(), 1931, 1935, 1)) < 1e-9);
  // After the shock the rate-based excess is zero, while the counterfactual one is negative:
  // fewer people are left to die at normal rates (and fewer were born).
  CHECK(std::abs(steppe::window_total(b, runner.crisis(), 1932, 1935)) < 1e-9);
  CHECK(steppe::window_total(a, runner.crisis(), 1932, 1935) < 0.0);
  // Lost births: (b) in step 1 is half the baseline births; (a) is larger, as it also counts the
  // births of the women the shock killed.
  const Eigen::ArrayXXd lb_a = steppe::lost_births_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd lb_b = steppe::lost_births_vs_baseline_rates(runner.crisis());
  const auto& step1 = runner.crisis().steps()[0];
  CHECK_THAT(lb_b.col(0).sum(), WithinRel(0.5 * (step1.baseline_births(0) + step1.baseline_births(1)), 1e-12));
  CHECK(lb_a.col(0).sum() > lb_b.col(0).sum());
  // Both runs start from the same population and the counterfactual ends larger.
  CHECK(runner.counterfactual_end().total_home() > runner.crisis_end().total_home());
}

namespace {

template <class A>
bool same_bits(const A& a, const A& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

void check_same_totals(const steppe::Accounts& a, const steppe::Accounts& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const steppe::Accounts::Step &s = a.steps()[k], &t = b.steps()[k];
    INFO("step " << k);
    CHECK(s.year == t.year);
    for (auto m : {&steppe::Accounts::Step::deaths, &steppe::Accounts::Step::deaths_abroad,
                   &steppe::Accounts::Step::baseline_deaths,
                   &steppe::Accounts::Step::baseline_deaths_abroad, &steppe::Accounts::Step::births,
                   &steppe::Accounts::Step::births_abroad, &steppe::Accounts::Step::baseline_births,
                   &steppe::Accounts::Step::emigrants, &steppe::Accounts::Step::returnees,
                   &steppe::Accounts::Step::immigrants, &steppe::Accounts::Step::net_migrants,
                   &steppe::Accounts::Step::population, &steppe::Accounts::Step::population_abroad})
      CHECK(same_bits(s.*m, t.*m));
    CHECK(s.clamps == t.clamps);
    CHECK(std::memcmp(&s.clamped_persons, &t.clamped_persons, sizeof(double)) == 0);
  }
}

}  // namespace

// CrisisRunner runs the kernel without by-age flow stores in the steps where neither ledger keeps
// by-age arrays: the ledgers, the end populations and every by-age array kept must be those of
// runs whose every step writes all flows (keep_by_age in every step), bit for bit.
TEST_CASE("CrisisRunner skipping by-age flows records the same ledgers and end populations",
          "[unit][property]") {
  const auto seed = GENERATE(range(1, 13));
  std::mt19937_64 rng(std::uint64_t(seed) * 2749u);
  const Dims dims(AgeAxis::single_year(seed % 3 == 0 ? 14 : 100), {"kazakh", "non_kazakh"});
  Population initial = steppe::test::random_population(dims, rng);
  if (seed % 2) initial.abroad().setZero();
  const int n_steps = 10, shared = seed % 4;  // steps before the crisis: shared by both runs
  std::vector<RateSet> rates;
  for (int k = 0; k < n_steps; ++k) {
    RateSet r = steppe::test::random_rates(dims, rng, /*oversized_counts=*/k == 1 || (k + seed) % 5 == 0);
    if (k % 3 != 1) r = steppe::test::thin_out(r, rng);
    if (k < shared) {  // no crisis component: only baseline rates and net migration
      for (Eigen::ArrayXXd* a : {&r.crisis_survivorship, &r.crisis_survivorship_abroad,
                                 &r.emigration_rate, &r.emigration_count, &r.return_rate,
                                 &r.return_count, &r.immigration_count})
        a->resize(0, 0);
      r.crisis_birth_survivorship.resize(0);
      r.crisis_birth_survivorship_abroad.resize(0);
      r.fertility_multiplier.resize(0);
      REQUIRE_FALSE(r.has_crisis());
    }
    REQUIRE_NOTHROW(r.validate(dims));
    rates.push_back(std::move(r));
  }
  std::vector<bool> mask(std::size_t(n_steps), false);
  std::bernoulli_distribution keep(0.3);
  for (std::size_t k = 0; k < mask.size(); ++k) mask[k] = keep(rng);
  const bool avx2 = seed % 2 == 0;
  steppe::CrisisRunner full(dims, {}, n_steps, /*keep_by_age=*/true);  // every step by age
  steppe::CrisisRunner masked(dims, {}, n_steps, /*keep_by_age=*/true);
  steppe::CrisisRunner none(dims, {}, n_steps, /*keep_by_age=*/false);  // no step by age
  masked.keep_by_age_only_in(mask);
  for (steppe::CrisisRunner* r : {&full, &masked, &none})
    steppe::detail::use_avx2_kernel(r->projector(), avx2);
  // A second run, from another population, reuses the scratch, the stale flows and the ledgers'
  // storage (whose stale by-age arrays then differ from the new ones).
  Population other = steppe::test::random_population(dims, rng);
  if (seed % 2) other.abroad().setZero();
  for (int rep = 0; rep < 2; ++rep) {
    const Population& initial_rep = rep == 0 ? initial : other;
    full.run(initial_rep, rates, 1926);
    masked.run(initial_rep, rates, 1926);
    none.run(initial_rep, rates, 1926);
    std::size_t clamps = 0;
    for (const auto& s : full.crisis().steps()) clamps += s.clamps;
    CHECK(clamps > 0);  // step 1 has oversized counts: the multipass fallback ran too
    for (const steppe::CrisisRunner* r : {&masked, &none}) {
      INFO("seed " << seed << " run " << rep << (r == &none ? " none" : " masked"));
      check_same_totals(r->crisis(), full.crisis());
      check_same_totals(r->counterfactual(), full.counterfactual());
      CHECK(same_bits(r->crisis_end().home(), full.crisis_end().home()));
      CHECK(same_bits(r->crisis_end().abroad(), full.crisis_end().abroad()));
      CHECK(same_bits(r->counterfactual_end().home(), full.counterfactual_end().home()));
      CHECK(same_bits(r->counterfactual_end().abroad(), full.counterfactual_end().abroad()));
    }
    // The runner's ledgers take the flows' by-age deaths (swapping storage) rather than copy
    // them: they must still be those of a plain projection recorded by Accounts' observer call.
    for (steppe::Regime regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
      steppe::Projector p(dims);
      steppe::detail::use_avx2_kernel(p, avx2);
      Population pop = initial_rep, next(dims);
      steppe::Flows flows(dims);
      steppe::Accounts plain(dims, /*keep_by_age=*/true, n_steps);
      steppe::project(p, pop, rates, 1926, plain, next, flows, regime);
      const steppe::Accounts& taken =
          regime == steppe::Regime::crisis ? full.crisis() : full.counterfactual();
      REQUIRE(taken.size() == plain.size());
      check_same_totals(taken, plain);  // (the runner's steps vouch for starts nobody left)
      const Population& end =
          regime == steppe::Regime::crisis ? full.crisis_end() : full.counterfactual_end();
      CHECK(same_bits(end.home(), pop.home()));
      CHECK(same_bits(end.abroad(), pop.abroad()));
      for (std::size_t k = 0; k < plain.size(); ++k) {
        INFO("seed " << seed << " run " << rep << " step " << k << " regime " << int(regime));
        const auto &s = taken.steps()[k], &t = plain.steps()[k];
        CHECK(same_bits(s.deaths_by_age, t.deaths_by_age));
        CHECK(same_bits(s.deaths_abroad_by_age, t.deaths_abroad_by_age));
        CHECK(same_bits(s.population_by_age, t.population_by_age));
      }
    }
    for (std::size_t k = 0; k < mask.size(); ++k) {
      if (!mask[k]) continue;
      INFO("seed " << seed << " run " << rep << " kept step " << k);
      for (auto pair : {std::pair{&masked.crisis(), &full.crisis()},
                        std::pair{&masked.counterfactual(), &full.counterfactual()}}) {
        const auto &s = pair.first->steps()[k], &t = pair.second->steps()[k];
        CHECK(same_bits(s.deaths_by_age, t.deaths_by_age));
        CHECK(same_bits(s.deaths_abroad_by_age, t.deaths_abroad_by_age));
        CHECK(same_bits(s.population_by_age, t.population_by_age));
      }
    }
  }
}
