// SPDX-License-Identifier: MIT
// Accounts records each step's flows exactly; ObserverList composes observers.
#include "steppe/observers.hpp"

#include <catch2/catch.hpp>

#include "steppe/project.hpp"
#include "support/builders.hpp"

using Catch::Matchers::WithinRel;

TEST_CASE("Accounts totals equal the flows and the population, step by step", "[unit]") {
  std::mt19937_64 rng(3);
  const steppe::Dims dims(steppe::AgeAxis::single_year(20), {"kazakh", "non_kazakh"});
  steppe::Population pop = steppe::test::random_population(dims, rng);
  std::vector<steppe::RateSet> rates;
  for (int k = 0; k < 4; ++k) rates.push_back(steppe::test::random_rates(dims, rng));
  steppe::Accounts accounts(dims, /*keep_by_age=*/true, 2);  // fewer reserved than steps: grows
  std::vector<double> deaths_seen, pop_seen;
  steppe::ObserverList list;
  list.add(std::ref(accounts));
  list.add([&](const steppe::Population& p, int, const steppe::Flows& f) {
    deaths_seen.push_back(f.deaths.sum() + f.deaths_abroad.sum());
    pop_seen.push_back(p.total_home());
  });
  steppe::Projector projector(dims);
  const double start_total = pop.total_home() + pop.total_abroad();
  CHECK(steppe::project(projector, pop, rates, 1926, list) == 4);
  REQUIRE(accounts.size() == 4);
  double balance = start_total;
  for (std::size_t k = 0; k < 4; ++k) {
    const auto& s = accounts.steps()[k];
    CHECK(s.year == 1927 + int(k));
    CHECK_THAT(s.deaths.sum() + s.deaths_abroad.sum(), WithinRel(deaths_seen[k], 1e-12));
    CHECK_THAT(s.population.sum(), WithinRel(pop_seen[k], 1e-12));
    CHECK_THAT(s.deaths_by_age.sum(), WithinRel(s.deaths.sum(), 1e-12));
    // Whole-system books: births − deaths + arrivals from outside + net migration.
    balance += (s.births + s.births_abroad - s.deaths - s.deaths_abroad + s.immigrants +
                s.net_migrants).sum();
    CHECK_THAT(s.population.sum() + s.population_abroad.sum(), WithinRel(balance, 1e-12));
  }
  const Eigen::ArrayXd d = accounts.sum(&steppe::Accounts::Step::deaths, 1928, 1929);
  CHECK_THAT(d.sum(), WithinRel(accounts.steps()[1].deaths.sum() + accounts.steps()[2].deaths.sum(), 1e-12));
  accounts.clear();
  CHECK(accounts.size() == 0);
}

TEST_CASE("Accounts can keep by-age arrays in chosen steps only", "[unit]") {
  std::mt19937_64 rng(11);
  const steppe::Dims dims(steppe::AgeAxis::single_year(10), 1);
  const steppe::Population pop = steppe::test::random_population(dims, rng);
  std::vector<steppe::RateSet> rates;
  for (int k = 0; k < 3; ++k) rates.push_back(steppe::test::random_rates(dims, rng));
  steppe::Projector projector(dims);
  steppe::Accounts all(dims, true, 3), some(dims, true, 3);
  some.keep_by_age_only_in({false, true, false});
  steppe::Population a = pop, b = pop;
  steppe::project(projector, a, rates, 1926, all);
  steppe::project(projector, b, rates, 1926, some);
  // The kept step is identical; the others were never written (still the reserved zeros).
  CHECK((some.steps()[1].deaths_by_age == all.steps()[1].deaths_by_age).all());
  CHECK((some.steps()[1].population_by_age == all.steps()[1].population_by_age).all());
  CHECK(all.steps()[0].deaths_by_age.sum() > 0);
  CHECK(some.steps()[0].deaths_by_age.sum() == 0);
  CHECK(some.steps()[2].population_by_age.sum() == 0);
  // Totals are recorded in every step either way.
  for (std::size_t k = 0; k < 3; ++k) CHECK((some.steps()[k].deaths == all.steps()[k].deaths).all());
}
