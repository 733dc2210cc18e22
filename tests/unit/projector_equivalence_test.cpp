// SPDX-License-Identifier: MIT
// The fused one-pass Projector::step against Projector::step_multipass (one array expression per
// flow, an independent formulation), on seeded random populations and rates: every option, both
// regimes, absent components, and sizes that exercise the two-cell loop's remainder. (Steps that
// need a clamp run step_multipass inside step(); their balance is tested in projector_test.)
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <sstream>

#include "steppe/observers.hpp"
#include "steppe/projector.hpp"
#include "support/builders.hpp"

using steppe::AgeAxis;
using steppe::Dims;
using steppe::Flows;
using steppe::Population;
using steppe::RateSet;

namespace {

// Largest |a − b| / max(|a|, |b|) over the entries (0 where both are 0).
double worst_relative(const Eigen::ArrayXXd& a, const Eigen::ArrayXXd& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  double worst = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double x = a.data()[i], y = b.data()[i];
    const double scale = std::max(std::abs(x), std::abs(y));
    if (scale > 0.0) worst = std::max(worst, std::abs(x - y) / scale);
  }
  return worst;
}

void check_same(const Population& out, const Flows& f, const Population& ref_out, const Flows& ref) {
  constexpr double tol = 1e-12;
  CHECK(worst_relative(out.home(), ref_out.home()) <= tol);
  CHECK(worst_relative(out.abroad(), ref_out.abroad()) <= tol);
  CHECK(worst_relative(f.deaths, ref.deaths) <= tol);
  CHECK(worst_relative(f.deaths_abroad, ref.deaths_abroad) <= tol);
  CHECK(worst_relative(f.baseline_deaths, ref.baseline_deaths) <= tol);
  CHECK(worst_relative(f.baseline_deaths_abroad, ref.baseline_deaths_abroad) <= tol);
  CHECK(worst_relative(f.births, ref.births) <= tol);
  CHECK(worst_relative(f.births_abroad, ref.births_abroad) <= tol);
  CHECK(worst_relative(f.baseline_births, ref.baseline_births) <= tol);
  CHECK(worst_relative(f.emigrants, ref.emigrants) <= tol);
  CHECK(worst_relative(f.returnees, ref.returnees) <= tol);
  CHECK(worst_relative(f.immigrants, ref.immigrants) <= tol);
  CHECK(worst_relative(f.net_migrants, ref.net_migrants) <= tol);
  // Clamps: the same cuts, in the same order.
  REQUIRE(f.clamps.size() == ref.clamps.size());
  for (std::size_t k = 0; k < f.clamps.size(); ++k) {
    CHECK(f.clamps[k].where == ref.clamps[k].where);
    CHECK(f.clamps[k].age_cell == ref.clamps[k].age_cell);
    CHECK(f.clamps[k].col == ref.clamps[k].col);
    CHECK(f.clamps[k].requested == Approx(ref.clamps[k].requested).epsilon(tol));
    CHECK(f.clamps[k].applied == Approx(ref.clamps[k].applied).epsilon(tol));
  }
  CHECK(f.clamped_persons == Approx(ref.clamped_persons).epsilon(tol).margin(1e-9));
  // The column totals the step computed are those of its arrays.
  REQUIRE(f.totals.valid);
  CHECK(f.totals.population_data == out.home().data());
  const auto col_sums = [](const Eigen::ArrayXXd& a) -> Eigen::ArrayXXd {
    return a.colwise().sum().transpose();
  };
  const auto near = [&](const Eigen::ArrayXd& t, const Eigen::ArrayXXd& a) {
    const Eigen::ArrayXXd abs_sums = a.abs().colwise().sum().transpose();
    return ((t - col_sums(a).col(0)).abs() <= 1e-12 * abs_sums.col(0) + 1e-300).all();
  };
  CHECK(near(f.totals.deaths, f.deaths));
  CHECK(near(f.totals.deaths_abroad, f.deaths_abroad));
  CHECK(near(f.totals.baseline_deaths, f.baseline_deaths));
  CHECK(near(f.totals.baseline_deaths_abroad, f.baseline_deaths_abroad));
  CHECK(near(f.totals.emigrants, f.emigrants));
  CHECK(near(f.totals.returnees, f.returnees));
  CHECK(near(f.totals.immigrants, f.immigrants));
  CHECK(near(f.totals.net_migrants, f.net_migrants));
  CHECK(near(f.totals.population, out.home()));
  CHECK(near(f.totals.population_abroad, out.abroad()));
}


}  // namespace

TEST_CASE("the one-pass step equals the reference multi-pass step", "[unit][property]") {
  const auto seed = GENERATE(range(1, 17));
  const auto timing = GENERATE(steppe::MigrationTiming::half_half, steppe::MigrationTiming::start,
                               steppe::MigrationTiming::end);
  const bool bear = GENERATE(true, false);
  const bool oversized = GENERATE(false, true);
  std::mt19937_64 rng(std::uint64_t(seed) * 104729u + (oversized ? 1u : 0u));
  // Even and odd numbers of cells (the two-cell loop's remainder), single and five-year ages.
  const AgeAxis ages = seed % 4 == 0   ? AgeAxis::single_year(100)
                       : seed % 4 == 1 ? AgeAxis::single_year(13)
                       : seed % 4 == 2 ? AgeAxis::five_year(30)
                                       : AgeAxis::single_year(2);
  const Dims dims(ages, 1 + seed % 3);
  Population in = steppe::test::random_population(dims, rng);
  if (seed % 5 == 0) in.abroad().setZero();  // nobody abroad yet
  RateSet rates = steppe::test::random_rates(dims, rng, oversized);
  if (seed % 3 != 0) rates = steppe::test::thin_out(rates, rng);
  REQUIRE_NOTHROW(rates.validate(dims));
  const steppe::ProjectorOptions options{timing, bear, steppe::OnNegative::clamp};
  steppe::Projector projector(dims, options);
  steppe::Projector reference(dims, options);
  Population out(dims), ref_out(dims);
  Flows flows(dims), ref_flows(dims);
  for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis, steppe::Regime::crisis}) {
    INFO("seed " << seed << " timing " << int(timing) << " bear " << bear << " oversized "
                 << oversized << " regime " << int(regime));
    projector.step(in, rates, out, flows, regime);
    reference.step_multipass(in, rates, ref_out, ref_flows, regime);
    check_same(out, flows, ref_out, ref_flows);
    CHECK(steppe::test::worst_imbalance(in, out, flows) < 1e-12);
  }
}

TEST_CASE("both steps throw alike under OnNegative::throw_error", "[unit][property]") {
  const auto seed = GENERATE(range(1, 9));
  std::mt19937_64 rng(std::uint64_t(seed) * 31u);
  const Dims dims(AgeAxis::single_year(20), 2);
  const Population in = steppe::test::random_population(dims, rng);
  const RateSet rates = steppe::test::random_rates(dims, rng, /*oversized_counts=*/seed % 2 == 0);
  const steppe::ProjectorOptions options{steppe::MigrationTiming::half_half, true,
                                         steppe::OnNegative::throw_error};
  steppe::Projector projector(dims, options);
  steppe::Projector reference(dims, options);
  Population out(dims), ref_out(dims);
  Flows flows(dims), ref_flows(dims);
  std::string mine, theirs;
  try { projector.step(in, rates, out, flows); } catch (const steppe::domain_error& e) { mine = e.what(); }
  try { reference.step_multipass(in, rates, ref_out, ref_flows); } catch (const steppe::domain_error& e) { theirs = e.what(); }
  CHECK(mine == theirs);
  if (mine.empty()) check_same(out, flows, ref_out, ref_flows);
}

TEST_CASE("a projection through the one-pass step equals the reference, step after step",
          "[unit][property]") {
  std::mt19937_64 rng(2024);
  const Dims dims(AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  Population pop = steppe::test::random_population(dims, rng), ref_pop = pop;
  pop.abroad().setZero();
  ref_pop.abroad().setZero();
  steppe::Projector projector(dims);
  steppe::Projector reference(dims);
  Population next(dims), ref_next(dims);
  Flows flows(dims), ref_flows(dims);
  for (int k = 0; k < 12; ++k) {
    RateSet r = steppe::test::random_rates(dims, rng);
    if (k < 3 || k > 6) r = steppe::test::thin_out(r, rng);
    for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
      INFO("step " << k << " regime " << int(regime));
      projector.step(pop, r, next, flows, regime);
      reference.step_multipass(ref_pop, r, ref_next, ref_flows, regime);
      check_same(next, flows, ref_next, ref_flows);
    }
    swap(pop, next);
    swap(ref_pop, ref_next);
  }
}

TEST_CASE("out-flows above the people present are cut column by column in the one-pass step",
          "[unit]") {
  // Two groups; group 1 asks for more emigrants, returnees or net out-migrants than there are
  // people (at the start, at the end among the survivors, and among the newborns), group 0 not.
  const Dims dims(AgeAxis::single_year(100), {"kazakh", "non_kazakh"});
  const int f1 = Dims::col(steppe::Sex::female, 1), m1 = Dims::col(steppe::Sex::male, 1);
  std::mt19937_64 rng(77);
  Population in(dims);  // (even, so that no end-of-step flow of cell y, asked of its start
  in.home().setConstant(1000.0);  // population, exceeds the survivors from cell y − 1)
  in.abroad().setConstant(200.0);
  const auto kind = GENERATE(as<std::string>{}, "emigration", "returns", "net_migration",
                             "newborns");
  // Rates that need no cut: no counts out, and survivorship high enough for the end half.
  RateSet fine = steppe::test::random_rates(dims, rng);
  fine.survivorship_abroad = fine.survivorship;
  fine.crisis_survivorship = fine.survivorship;
  fine.crisis_survivorship_abroad = fine.survivorship;
  for (Eigen::ArrayXXd* a : {&fine.emigration_count, &fine.return_count, &fine.net_migration_count})
    a->setZero();
  RateSet over = fine;
  if (kind == "emigration") {  // a crisis that leaves few survivors at old ages, all fleeing
    over.emigration_rate.col(m1).tail(20).setConstant(0.9);
    over.crisis_survivorship.col(m1).tail(20).setConstant(0.01);
    over.crisis_survivorship_abroad.col(m1).tail(20).setConstant(0.01);
    over.emigration_count(3, f1) = 5000.0;  // and more than everybody at age 3 (the start)
  } else if (kind == "returns") {
    over.return_count.col(f1).segment(10, 7).setConstant(5000.0);
  } else if (kind == "net_migration") {  // net migration alone: the signed flow is cut
    for (RateSet* r : {&fine, &over}) {
      for (Eigen::ArrayXXd* a : {&r->emigration_rate, &r->emigration_count, &r->return_rate,
                                 &r->return_count, &r->immigration_count})
        a->resize(0, 0);
    }
    over.net_migration_count.col(m1).segment(40, 9).setConstant(-5000.0);
  } else {
    over.emigration_count(0, f1) = over.emigration_count(0, m1) = 1e6;
  }
  REQUIRE_NOTHROW(over.validate(dims));
  INFO(kind);
  steppe::Projector projector(dims), reference(dims), plain(dims);
  Population out(dims), ref_out(dims), plain_out(dims);
  steppe::Flows flows(dims), ref_flows(dims), plain_flows(dims);
  projector.step(in, over, out, flows);
  reference.step_multipass(in, over, ref_out, ref_flows, steppe::Regime::crisis);
  REQUIRE(!flows.clamps.empty());
  CHECK(steppe::detail::last_step_path(projector) == steppe::detail::step_path_clamped);
  check_same(out, flows, ref_out, ref_flows);
  for (const steppe::Clamp& c : flows.clamps) CHECK(c.col / 2 == 1);  // group 1's columns only
  auto cut_at = [&](steppe::Clamp::Where where, int cell, int col) {
    return std::any_of(flows.clamps.begin(), flows.clamps.end(), [&](const steppe::Clamp& c) {
      return c.where == where && c.age_cell == cell && c.col == col;
    });
  };
  using Where = steppe::Clamp::Where;
  if (kind == "emigration") {
    CHECK(cut_at(Where::home_start, 3, f1));
    CHECK(cut_at(Where::home_end, 95, m1));
  }
  if (kind == "returns") CHECK(cut_at(Where::abroad_start, 12, f1));
  if (kind == "net_migration") CHECK(cut_at(Where::home_start, 44, m1));
  if (kind == "newborns") CHECK((cut_at(Where::home_end, 0, f1) && cut_at(Where::home_end, 0, m1)));
  CHECK(steppe::test::worst_imbalance(in, out, flows) < 1e-12);
  CHECK((out.home() >= 0.0).all());
  CHECK((out.abroad() >= 0.0).all());
  // Group 0 has the bits of the same step without group 1's excess: only the columns that need
  // a cut are built again (the clamping step would sum every column in another order). Net
  // migration alone is cut by the clamping step.
  if (kind == "net_migration") return;
  projector.step(in, fine, plain_out, plain_flows);
  REQUIRE(plain_flows.clamps.empty());
  for (int c : {0, 1}) {
    CHECK((out.home().col(c) == plain_out.home().col(c)).all());
    CHECK((out.abroad().col(c) == plain_out.abroad().col(c)).all());
    CHECK((flows.deaths.col(c) == plain_flows.deaths.col(c)).all());
    CHECK(flows.totals.population(c) == plain_flows.totals.population(c));
    CHECK(flows.totals.deaths(c) == plain_flows.totals.deaths(c));
    CHECK(flows.births(c) == plain_flows.births(c));
  }
}
