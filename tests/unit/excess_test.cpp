// SPDX-License-Identifier: MIT
// CrisisRunner and the two definitions of excess deaths and lost births.
#include "steppe/excess.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

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

/// Removes every crisis component of r: only the baseline rates and net migration are left (a
/// step shared by the crisis run and its counterfactual).
void drop_crisis_components(RateSet& r) {
  for (Eigen::ArrayXXd* a : {&r.crisis_survivorship, &r.crisis_survivorship_abroad,
                             &r.emigration_rate, &r.emigration_count, &r.return_rate,
                             &r.return_count, &r.immigration_count})
    a->resize(0, 0);
  r.crisis_birth_survivorship.resize(0);
  r.crisis_birth_survivorship_abroad.resize(0);
  r.fertility_multiplier.resize(0);
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
      drop_crisis_components(r);
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

namespace {

// Group g's entries of `from` into `to`: its columns, its asfr columns, its sex ratio and
// fertility multiplier, wherever both have the component.
void copy_group(const RateSet& from, RateSet& to, int g) {
  const Eigen::Index c = Dims::col(steppe::Sex::female, g);  // (the group's two columns)
  for (auto [a, b] :
       {std::pair{&from.survivorship, &to.survivorship},
        {&from.survivorship_abroad, &to.survivorship_abroad},
        {&from.net_migration_rate, &to.net_migration_rate},
        {&from.net_migration_count, &to.net_migration_count},
        {&from.crisis_survivorship, &to.crisis_survivorship},
        {&from.crisis_survivorship_abroad, &to.crisis_survivorship_abroad},
        {&from.emigration_rate, &to.emigration_rate},
        {&from.emigration_count, &to.emigration_count},
        {&from.return_rate, &to.return_rate},
        {&from.return_count, &to.return_count},
        {&from.immigration_count, &to.immigration_count}})
    if (a->size() && b->size()) b->middleCols(c, 2) = a->middleCols(c, 2);
  for (auto [a, b] : {std::pair{&from.asfr, &to.asfr}, {&from.asfr_abroad, &to.asfr_abroad}})
    if (a->size() && b->size()) b->col(g) = a->col(g);
  for (auto [a, b] : {std::pair{&from.birth_survivorship, &to.birth_survivorship},
                      {&from.birth_survivorship_abroad, &to.birth_survivorship_abroad},
                      {&from.crisis_birth_survivorship, &to.crisis_birth_survivorship},
                      {&from.crisis_birth_survivorship_abroad, &to.crisis_birth_survivorship_abroad}})
    if (a->size() && b->size()) b->segment(c, 2) = a->segment(c, 2);
  for (auto [a, b] : {std::pair{&from.srb, &to.srb},
                      {&from.fertility_multiplier, &to.fertility_multiplier}})
    if (a->size() && b->size()) (*b)(g) = (*a)(g);
}

// Every result of `a` has the bits of `b`'s: ledgers, by-age arrays of the steps kept, ends.
void check_same_results(const steppe::CrisisRunner& a, const steppe::CrisisRunner& b,
                        const std::vector<bool>& by_age, bool with_counterfactual) {
  check_same_totals(a.crisis(), b.crisis());
  CHECK(same_bits(a.crisis_end().home(), b.crisis_end().home()));
  CHECK(same_bits(a.crisis_end().abroad(), b.crisis_end().abroad()));
  if (with_counterfactual) {
    check_same_totals(a.counterfactual(), b.counterfactual());
    CHECK(same_bits(a.counterfactual_end().home(), b.counterfactual_end().home()));
    CHECK(same_bits(a.counterfactual_end().abroad(), b.counterfactual_end().abroad()));
  }
  for (std::size_t k = 0; k < by_age.size() && k < a.crisis().size(); ++k) {
    if (!by_age[k]) continue;
    INFO("by-age step " << k);
    for (auto pair : {std::pair{&a.crisis(), &b.crisis()},
                      std::pair{&a.counterfactual(), &b.counterfactual()}}) {
      if (pair.first == &a.counterfactual() && !with_counterfactual) continue;
      const auto &s = pair.first->steps()[k], &t = pair.second->steps()[k];
      CHECK(same_bits(s.deaths_by_age, t.deaths_by_age));
      CHECK(same_bits(s.deaths_abroad_by_age, t.deaths_abroad_by_age));
      CHECK(same_bits(s.population_by_age, t.population_by_age));
    }
  }
}

}  // namespace

// A runner told which groups' inputs are those of its previous run keeps their columns from it
// where it can: every result must have the bits of a fresh runner's run of the same inputs, as
// groups switch between changed and unchanged, components appear and vanish, clamps come and go.
TEST_CASE("CrisisRunner keeping unchanged groups gives the bits of a fresh runner",
          "[unit][property]") {
  const auto seed = GENERATE(range(1, 17));
  std::mt19937_64 rng(std::uint64_t(seed) * 7919u);
  const std::vector<std::string> names =
      seed % 4 == 0 ? std::vector<std::string>{"a", "b", "c"} : std::vector<std::string>{"a", "b"};
  const Dims dims(AgeAxis::single_year(seed % 3 == 0 ? 14 : 100), names);
  const int G = dims.n_groups(), n_steps = 8, shared = seed % 3;
  const bool with_counterfactual = seed % 5 != 0, avx2 = seed % 2 == 0;
  std::vector<bool> by_age(std::size_t(n_steps), false);
  std::bernoulli_distribution coin(0.3);
  for (std::size_t k = 0; k < by_age.size(); ++k) by_age[k] = coin(rng);
  // Which optional components each step drops (fixed, but for a change now and then).
  std::vector<std::uint64_t> structure(static_cast<std::size_t>(n_steps));
  auto new_structure = [&rng](std::uint64_t& s) { s = rng(); };
  for (auto& s : structure) new_structure(s);
  auto make_rates = [&](std::size_t k, bool oversized) {
    RateSet r = steppe::test::random_rates(dims, rng, oversized);
    if (!oversized) {  // milder rates, with which clamps are rare
      const Eigen::Index A = dims.n_ages(), C = dims.n_cols();
      for (Eigen::ArrayXXd* a : {&r.net_migration_count, &r.emigration_count}) *a *= 1e-3;
      r.return_count.setZero();  // (returns of counts from wherever nobody is abroad)
      r.return_rate *= 0.1;
      r.emigration_rate *= 0.2;
      r.net_migration_rate *= 0.2;
      r.survivorship = steppe::test::uniform(rng, A, C, 0.9, 1.0);
      r.survivorship_abroad = steppe::test::uniform(rng, A, C, 0.9, 1.0);
      r.crisis_survivorship.resize(0, 0);  // (else the multipliers compose)
      r.crisis_survivorship_abroad.resize(0, 0);
      steppe::set_mortality_multiplier(r, steppe::test::uniform(rng, A, C, 1.0, 2.0));
      steppe::set_mortality_multiplier(r, steppe::test::uniform(rng, A, C, 1.0, 2.0), true);
    }
    std::mt19937_64 thin(structure[k]);
    if (k % 3 != 1) r = steppe::test::thin_out(r, thin);
    if (int(k) < shared) {  // no crisis component: the step is shared by both runs
      drop_crisis_components(r);
    }
    return r;
  };
  steppe::CrisisRunner reusing(dims, {}, n_steps, /*keep_by_age=*/true);
  reusing.keep_by_age_only_in(by_age);
  steppe::detail::use_avx2_kernel(reusing.projector(), avx2);
  Population initial(dims), previous(dims);
  std::vector<RateSet> rates, previous_rates;
  std::size_t kept = 0;
  for (int draw = 0; draw < 12; ++draw) {
    // Which groups change (draw 0: all); sometimes none, sometimes a step's structure too.
    std::uint64_t same = 0;
    if (draw > 0)
      for (int g = 0; g < G; ++g)
        if (std::bernoulli_distribution(0.6)(rng)) same |= std::uint64_t(1) << g;
    if (draw > 0 && std::bernoulli_distribution(0.15)(rng))
      new_structure(structure[std::size_t(rng() % std::size_t(n_steps))]);
    const bool oversized = std::bernoulli_distribution(0.2)(rng);
    // (Smooth enough over ages that out-flows rarely exceed the people present.)
    initial.home() = steppe::test::uniform(rng, dims.n_ages(), dims.n_cols(), 500.0, 1000.0);
    initial.abroad() = steppe::test::uniform(rng, dims.n_ages(), dims.n_cols(), 100.0, 200.0);
    if (seed % 2) initial.abroad().setZero();
    rates.clear();
    for (std::size_t k = 0; k < std::size_t(n_steps); ++k)
      rates.push_back(make_rates(k, oversized && k == 2));
    for (int g = 0; g < G; ++g) {
      if (!(same >> g & 1u)) continue;
      const Eigen::Index c = Dims::col(steppe::Sex::female, g);
      initial.home().middleCols(c, 2) = previous.home().middleCols(c, 2);
      initial.abroad().middleCols(c, 2) = previous.abroad().middleCols(c, 2);
      for (std::size_t k = 0; k < rates.size(); ++k) copy_group(previous_rates[k], rates[k], g);
    }
    for (const RateSet& r : rates) REQUIRE_NOTHROW(r.validate(dims));
    reusing.run(initial, rates, 1926, with_counterfactual, same);
    CHECK((reusing.kept_groups() & ~same) == 0);
    kept += reusing.kept_groups() != 0;
    steppe::CrisisRunner fresh(dims, {}, n_steps, /*keep_by_age=*/true);
    fresh.keep_by_age_only_in(by_age);
    steppe::detail::use_avx2_kernel(fresh.projector(), avx2);
    fresh.run(initial, rates, 1926, with_counterfactual);
    INFO("seed " << seed << " draw " << draw << " same " << same << " kept "
                 << reusing.kept_groups());
    check_same_results(reusing, fresh, by_age, with_counterfactual);
    previous = initial;
    previous_rates = rates;
  }
  // The test must exercise the reuse: most seeds keep groups in several draws (a clamp in a
  // draw, or a change of components, rules it out in the next).
  static int seeds_that_kept = 0;
  seeds_that_kept += kept > 0;
  if (seed == 16) CHECK(seeds_that_kept >= 10);
}

// Without clamps or changes of components, the groups vouched for are kept, and only those.
TEST_CASE("CrisisRunner keeps exactly the groups vouched for when nothing else changes",
          "[unit]") {
  const Dims dims(AgeAxis::single_year(100), {"a", "b", "c"});
  std::mt19937_64 rng(5);
  auto rates_for = [&](double m, double flight) {
    std::vector<RateSet> rates(10, stationary_rates(dims));
    for (std::size_t k = 3; k < 7; ++k) {  // a crisis in steps 3 to 6, in every group
      Eigen::ArrayXXd mult = Eigen::ArrayXXd::Constant(dims.n_ages(), dims.n_cols(), m);
      steppe::set_mortality_multiplier(rates[k], mult);
      rates[k].emigration_rate.setConstant(dims.n_ages(), dims.n_cols(), flight);
      rates[k].return_rate.setConstant(dims.n_ages(), dims.n_cols(), 0.1);
    }
    return rates;
  };
  Population initial(dims);
  initial.home().setConstant(500.0);
  const std::vector<RateSet> a = rates_for(2.0, 0.05), b = rates_for(3.0, 0.08);
  // b with group 1's entries of a.
  std::vector<RateSet> b_a1 = b;
  for (std::size_t k = 0; k < b.size(); ++k) copy_group(a[k], b_a1[k], 1);
  steppe::CrisisRunner reusing(dims, {}, 10, /*keep_by_age=*/true);
  const std::vector<bool> by_age = {false, false, false, true, true, false, false, false, false, true};
  reusing.keep_by_age_only_in(by_age);
  struct Draw {
    const std::vector<RateSet>* rates;
    std::uint64_t same, kept;
  };
  // a; a again (all kept); b_a1 (group 1 kept); b (group 1 switches back: projected); b_a1; a.
  for (const Draw& d : {Draw{&a, 0b111, 0}, Draw{&a, 0b111, 0b111}, Draw{&b_a1, 0b010, 0b010},
                        Draw{&b, 0b101, 0b101}, Draw{&b_a1, 0b101, 0b101}, Draw{&a, 0b010, 0b010},
                        Draw{&a, 0b000, 0}}) {
    reusing.run(initial, *d.rates, 1926, true, d.same);
    CHECK(reusing.kept_groups() == d.kept);
    steppe::CrisisRunner fresh(dims, {}, 10, /*keep_by_age=*/true);
    fresh.keep_by_age_only_in(by_age);
    fresh.run(initial, *d.rates, 1926);
    check_same_results(reusing, fresh, by_age, true);
  }
  // A change of the by-age steps forgets the previous run.
  reusing.keep_by_age_only_in(std::vector<bool>(10, true));
  reusing.run(initial, a, 1926, true, 0b111);
  CHECK(reusing.kept_groups() == 0);
}

TEST_CASE("CrisisRunner for the populations only records the same populations, births and clamps",
          "[unit][property]") {
  // A likelihood's runs (crisis only, populations only) step through
  // detail::step_populations_only: the end population, the ledger's populations (totals and by
  // age), births and clamps must be those of an ordinary crisis-only run, run after run, and an
  // ordinary run after them must again give every flow.
  const auto seed = GENERATE(range(1, 9));
  std::mt19937_64 rng(std::uint64_t(seed) * 4111u);
  const Dims dims(AgeAxis::single_year(seed % 3 == 0 ? 14 : 100), {"kazakh", "non_kazakh"});
  const int n_steps = 8;
  std::vector<RateSet> rates;
  for (int k = 0; k < n_steps; ++k) {
    RateSet r = steppe::test::random_rates(dims, rng, /*oversized_counts=*/(k + seed) % 4 == 0);
    if (k % 3 != 1) r = steppe::test::thin_out(r, rng);
    REQUIRE_NOTHROW(r.validate(dims));
    rates.push_back(std::move(r));
  }
  std::vector<bool> mask(std::size_t(n_steps), false);
  mask[std::size_t(seed % n_steps)] = true;  // a target's boundary: population by age kept
  steppe::CrisisRunner lean(dims, {}, n_steps, /*keep_by_age=*/true);
  steppe::CrisisRunner plain(dims, {}, n_steps, /*keep_by_age=*/true);
  lean.keep_by_age_only_in(mask);
  plain.keep_by_age_only_in(mask);
  lean.populations_only(true);
  for (int rep = 0; rep < 3; ++rep) {
    Population initial = steppe::test::random_population(dims, rng);
    if (rep == 1) initial.abroad().setZero();
    if (rep == 2) lean.populations_only(false);  // an ordinary run again
    lean.run(initial, rates, 1926, /*with_counterfactual=*/false);
    plain.run(initial, rates, 1926, /*with_counterfactual=*/false);
    INFO("seed " << seed << " run " << rep);
    CHECK(same_bits(lean.crisis_end().home(), plain.crisis_end().home()));
    CHECK(same_bits(lean.crisis_end().abroad(), plain.crisis_end().abroad()));
    REQUIRE(lean.crisis().size() == plain.crisis().size());
    for (std::size_t k = 0; k < plain.crisis().size(); ++k) {
      INFO("step " << k);
      const auto &s = lean.crisis().steps()[k], &t = plain.crisis().steps()[k];
      CHECK(same_bits(s.population, t.population));
      CHECK(same_bits(s.population_abroad, t.population_abroad));
      CHECK(same_bits(s.births, t.births));
      CHECK(same_bits(s.births_abroad, t.births_abroad));
      CHECK(s.clamps == t.clamps);
      CHECK(s.clamped_persons == t.clamped_persons);
      if (mask[k]) CHECK(same_bits(s.population_by_age, t.population_by_age));
    }
    if (rep == 2) check_same_totals(lean.crisis(), plain.crisis());
  }
}
