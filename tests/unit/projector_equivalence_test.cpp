// SPDX-License-Identifier: MIT
// The fused one-pass Projector::step against Projector::step_multipass (one array expression per
// flow, an independent formulation), on seeded random populations and rates: every option, both
// regimes, absent components, and sizes that exercise the two-cell loop's remainder. (Steps that
// need a clamp run step_multipass inside step(); their balance is tested in projector_test.)
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
