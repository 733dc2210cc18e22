// SPDX-License-Identifier: MIT
// Projector::step: the balancing identity, hand-computed steps, Leslie-matrix equivalence.
#include "steppe/projector.hpp"

#include <Eigen/Eigenvalues>
#include <catch2/catch.hpp>

#include "steppe/detail/leslie.hpp"
#include "steppe/project.hpp"
#include "steppe/shock.hpp"
#include "support/builders.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;
using steppe::Dims;
using steppe::Population;
using steppe::RateSet;
using steppe::Sex;

TEST_CASE("the books balance cell by cell, at home and abroad, for random rates", "[unit][property]") {
  const auto seed = GENERATE(range(1, 13));
  const auto timing = GENERATE(steppe::MigrationTiming::half_half, steppe::MigrationTiming::start,
                               steppe::MigrationTiming::end);
  const bool bear = GENERATE(true, false);
  const bool oversized = GENERATE(false, true);
  std::mt19937_64 rng(std::uint64_t(seed) * 7919u);
  const Dims dims(seed % 2 ? AgeAxis::single_year(12) : AgeAxis::five_year(30), 1 + seed % 3);
  const Population in = steppe::test::random_population(dims, rng);
  const RateSet rates = steppe::test::random_rates(dims, rng, oversized);
  REQUIRE_NOTHROW(rates.validate(dims));
  steppe::Projector projector(dims, {timing, bear, steppe::OnNegative::clamp});
  Population out(dims);
  steppe::Flows flows(dims);
  for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
    projector.step(in, rates, out, flows, regime);
    INFO("seed " << seed << " regime " << int(regime));
    CHECK(steppe::test::worst_imbalance(in, out, flows) < 1e-12);
    CHECK((out.home() >= 0.0).all());
    CHECK((out.abroad() >= 0.0).all());
    CHECK((flows.deaths >= 0.0).all());
    CHECK((flows.deaths_abroad >= 0.0).all());
    if (regime == steppe::Regime::no_crisis) {
      CHECK((flows.emigrants == 0.0).all());
      CHECK((flows.returnees == 0.0).all());
      CHECK((flows.immigrants == 0.0).all());
      // Without the crisis, baseline-rate deaths are the deaths.
      CHECK((flows.baseline_deaths - flows.deaths).abs().maxCoeff() < 1e-9);
    }
  }
  if (oversized) {
    projector.step(in, rates, out, flows);
    CHECK(flows.clamps.size() > 0);
    double cut = 0;
    for (const auto& c : flows.clamps) {
      CHECK(c.applied < c.requested);
      cut += c.requested - c.applied;
    }
    CHECK_THAT(flows.clamped_persons, WithinRel(cut, 1e-12));
  }
}

TEST_CASE("out-flows larger than the people present throw under OnNegative::throw_error", "[unit]") {
  const Dims dims(AgeAxis::single_year(3), 1);
  Population in(dims);
  in.home().setConstant(10.0);
  RateSet r(dims);
  r.emigration_count.setZero(dims.n_ages(), dims.n_cols());
  r.emigration_count(2, Dims::col(Sex::male, 0)) = 50.0;
  steppe::Projector strict(dims, {steppe::MigrationTiming::half_half, true,
                                  steppe::OnNegative::throw_error});
  Population out(dims);
  steppe::Flows flows(dims);
  CHECK_THROWS_AS(strict.step(in, r, out, flows), steppe::domain_error);
  steppe::Projector lenient(dims);
  lenient.step(in, r, out, flows);
  // Start half: 25 asked of the 10 in cell 2; end half: 25 asked of the 10 survivors in cell 2.
  REQUIRE(flows.clamps.size() == 2);
  for (const steppe::Clamp& c : flows.clamps) {
    CHECK(c.age_cell == 2);
    CHECK(c.col == Dims::col(Sex::male, 0));
    CHECK(c.requested == 25.0);
    CHECK(c.applied == 10.0);
  }
  CHECK(flows.clamps[0].where != flows.clamps[1].where);
  CHECK_THAT(flows.clamped_persons, WithinAbs(30.0, 1e-12));
  CHECK((out.home() >= 0.0).all());
  // All who left went abroad: 10 at the start (into the open cell at the end), 10 at the end.
  CHECK_THAT(out.abroad().col(1).sum(), WithinAbs(20.0, 1e-12));
}

TEST_CASE("no births, no deaths, no migration: pure ageing", "[unit]") {
  const auto ages = GENERATE(AgeAxis::single_year(10), AgeAxis::five_year(40));
  const Dims dims(ages, {"kazakh", "non_kazakh"});
  Population in(dims);
  for (Eigen::Index x = 0; x < dims.n_ages(); ++x) in.home().row(x).setConstant(double(x + 1));
  steppe::Projector projector(dims);
  Population out(dims);
  steppe::Flows flows(dims);
  projector.step(in, RateSet(dims), out, flows);
  const Eigen::Index A = dims.n_ages();
  CHECK((out.home().row(0) == 0.0).all());
  for (Eigen::Index x = 1; x < A - 1; ++x) CHECK((out.home().row(x) == double(x)).all());
  CHECK((out.home().row(A - 1) == double(A - 1 + A)).all());
  CHECK((flows.deaths == 0.0).all());
}

TEST_CASE("a 5-year step matches a Leslie projection computed by hand", "[unit]") {
  // Cells 0–4, 5–9, 10–14, 15+; one group; both sexes start with the same numbers.
  const Dims dims(AgeAxis::five_year(15), 1);
  Population in(dims);
  in.home().col(0) << 100, 80, 60, 40;
  in.home().col(1) << 100, 80, 60, 40;
  RateSet r(dims);
  r.survivorship.col(0) << 0.9, 0.8, 0.7, 0.5;
  r.survivorship.col(1) << 0.9, 0.8, 0.7, 0.5;
  r.birth_survivorship << 0.95, 0.95;
  r.asfr.col(0) << 0.0, 0.1, 0.2, 0.05;
  r.srb << 1.0;
  steppe::Projector projector(dims);
  Population out(dims);
  steppe::Flows flows(dims);
  projector.step(in, r, out, flows);
  // Survivors: 0.9·100 = 90; 0.8·80 = 64; 0.7·60 + 0.5·40 = 62.
  // Births = 5/2 · [0.1·(80 + 90) + 0.2·(60 + 64) + 0.05·(40 + 62)] = 2.5 · 46.9 = 117.25,
  // half of them girls: 58.625, of whom 0.95 survive to the end of the step: 55.69375.
  Eigen::Array4d expected;
  expected << 55.69375, 90, 64, 62;
  for (int c = 0; c < 2; ++c)
    for (int x = 0; x < 4; ++x) CHECK_THAT(out.home()(x, c), WithinAbs(expected(x), 1e-12));
  CHECK_THAT(flows.births(0), WithinAbs(58.625, 1e-12));
  CHECK_THAT(flows.deaths(0, 0), WithinAbs(58.625 - 55.69375, 1e-12));
  CHECK_THAT(flows.deaths(3, 0), WithinAbs(18.0 + 20.0, 1e-12));
  // The same step through the Leslie matrix.
  const Eigen::MatrixXd L = steppe::detail::female_leslie(r, dims, 0);
  const Eigen::VectorXd n1 = L * in.home().col(0).matrix();
  for (int x = 0; x < 4; ++x) CHECK_THAT(n1(x), WithinAbs(expected(x), 1e-12));
}

TEST_CASE("half of the migrants at the start, half at the end, by hand", "[unit]") {
  const Dims dims(AgeAxis::single_year(2), 1);  // cells 0, 1, 2+
  Population in(dims);
  in.home().col(0) << 100, 100, 100;
  RateSet r(dims);
  r.net_migration_count.setZero(3, 2);
  r.net_migration_count.col(0) << 10, 20, 30;
  steppe::Projector projector(dims);
  Population out(dims);
  steppe::Flows flows(dims);
  projector.step(in, r, out, flows);
  // Start: 105, 110, 115. Aged: 0, 105, 225. End half added by end cell: 5, 115, 240.
  CHECK_THAT(out.home()(0, 0), WithinAbs(5.0, 1e-12));
  CHECK_THAT(out.home()(1, 0), WithinAbs(115.0, 1e-12));
  CHECK_THAT(out.home()(2, 0), WithinAbs(240.0, 1e-12));
  CHECK_THAT(flows.net_migrants(0, 0), WithinAbs(5.0, 1e-12));
  CHECK_THAT(flows.net_migrants(1, 0), WithinAbs(15.0, 1e-12));
  CHECK_THAT(flows.net_migrants(2, 0), WithinAbs(40.0, 1e-12));
}

TEST_CASE("emigrants go abroad, die at the rates abroad and are counted there", "[unit]") {
  const Dims dims(AgeAxis::single_year(2), 1);
  Population in(dims);
  in.home().col(0) << 100, 100, 100;
  RateSet r(dims);
  r.survivorship_abroad.col(0).setConstant(0.5);
  r.emigration_rate.setZero(3, 2);
  r.emigration_rate.col(0).setConstant(0.2);
  steppe::Projector projector(dims, {steppe::MigrationTiming::start, true, steppe::OnNegative::clamp});
  Population out(dims);
  steppe::Flows flows(dims);
  projector.step(in, r, out, flows);
  // Home after departure 80, 80, 80 → aged 0, 80, 160. Abroad 20, 20, 20 → half survive: 0, 10, 20.
  CHECK_THAT(out.home()(2, 0), WithinAbs(160.0, 1e-12));
  CHECK_THAT(out.abroad()(1, 0), WithinAbs(10.0, 1e-12));
  CHECK_THAT(out.abroad()(2, 0), WithinAbs(20.0, 1e-12));
  CHECK_THAT(flows.deaths_abroad.col(0).sum(), WithinAbs(30.0, 1e-12));
  CHECK_THAT(flows.emigrants.col(0).sum(), WithinAbs(60.0, 1e-12));
  CHECK((flows.deaths == 0.0).all());
  // In the counterfactual nobody leaves.
  projector.step(in, r, out, flows, steppe::Regime::no_crisis);
  CHECK(out.abroad().sum() == 0.0);
}

TEST_CASE("the hazard multiplier keeps survivorship in [0, 1]", "[unit]") {
  const Dims dims(AgeAxis::single_year(5), 1);
  Population in(dims);
  in.home().setConstant(1000.0);
  RateSet r(dims);
  r.survivorship.setConstant(0.9);
  r.birth_survivorship.setConstant(0.9);
  steppe::Projector projector(dims);
  Population out(dims), out_base(dims);
  steppe::Flows flows(dims);
  projector.step(in, r, out_base, flows);
  steppe::set_mortality_multiplier(r, Eigen::ArrayXXd::Constant(6, 2, 1e4));
  projector.step(in, r, out, flows);
  CHECK((out.home() >= 0.0).all());
  CHECK((flows.deaths <= 2000.0 + 1e-9).all());
  r.crisis_survivorship.resize(0, 0);  // back to baseline, then double the hazard
  r.crisis_birth_survivorship.resize(0);
  steppe::set_mortality_multiplier(r, Eigen::ArrayXXd::Constant(6, 2, 2.0));
  projector.step(in, r, out, flows);
  // Doubling the hazard squares the survival ratio: 0.9² = 0.81.
  CHECK_THAT(out.home()(1, 0), WithinRel(810.0, 1e-12));
  CHECK_THAT(flows.baseline_deaths(1, 0), WithinRel(100.0, 1e-12));
  CHECK_THAT(flows.deaths(1, 0), WithinRel(190.0, 1e-12));
}

TEST_CASE("end-of-step migrants bear children under WPP's rule, not under the Leslie rule", "[unit]") {
  // popReconstruct: n(t+1) = L·(n + k/2) + k/2. WPP adds k/2's own exposure to the births.
  const Dims dims(AgeAxis::five_year(15), 1);
  Population in(dims);
  in.home().col(0) << 100, 80, 60, 40;
  in.home().col(1) << 90, 70, 50, 30;
  RateSet r(dims);
  r.survivorship.col(0) << 0.9, 0.8, 0.7, 0.5;
  r.survivorship.col(1) << 0.85, 0.75, 0.65, 0.4;
  r.birth_survivorship << 0.95, 0.93;
  r.asfr.col(0) << 0.0, 0.1, 0.2, 0.05;
  r.srb << 1.05;
  Eigen::Array4d k;
  k << 4, 8, -6, 2;
  r.net_migration_count.setZero(4, 2);
  r.net_migration_count.col(0) = k;
  steppe::Projector leslie(dims, {steppe::MigrationTiming::half_half, false, steppe::OnNegative::clamp});
  Population out(dims);
  steppe::Flows flows(dims);
  leslie.step(in, r, out, flows);
  const Eigen::MatrixXd L = steppe::detail::female_leslie(r, dims, 0);
  const Eigen::VectorXd expected =
      L * (in.home().col(0) + 0.5 * k).matrix() + (0.5 * k).matrix();
  for (int x = 0; x < 4; ++x) CHECK_THAT(out.home()(x, 0), WithinAbs(expected(x), 1e-12));

  steppe::Projector wpp(dims);  // end_migrants_bear = true
  Population out_wpp(dims);
  steppe::Flows flows_wpp(dims);
  wpp.step(in, r, out_wpp, flows_wpp);
  // Extra births = n/2 · Σ asfr(x) · k(x)/2 (end-half migrants in the end exposure).
  const double extra = 2.5 * (r.asfr.col(0) * 0.5 * k).sum();
  CHECK_THAT(flows_wpp.births.sum() - flows.births.sum(), WithinAbs(extra, 1e-12));
}

TEST_CASE("constant rates converge to the Leslie matrix's dominant eigenvalue and vector", "[unit]") {
  const auto ages = GENERATE(AgeAxis::single_year(60), AgeAxis::five_year(60));
  const Dims dims(ages, 1);
  const Eigen::Index A = dims.n_ages();
  const double n = ages.width;
  RateSet r(dims);
  for (Eigen::Index x = 0; x < A; ++x) {
    const double mid_age = n * (double(x) + 0.5);
    const double hazard = 0.002 + 0.05 * std::exp(-mid_age) + 0.0005 * std::exp(0.07 * mid_age);
    r.survivorship.row(x).setConstant(std::exp(-hazard * n));
    const double f = mid_age > 15 && mid_age < 50 ? 0.25 * std::exp(-std::pow((mid_age - 28) / 8, 2)) : 0;
    r.asfr(x, 0) = x == 0 ? 0.0 : f;
  }
  r.birth_survivorship.setConstant(std::exp(-0.03 * n));
  Population pop(dims);
  pop.home().setConstant(1000.0);
  steppe::Projector projector(dims);
  double last_total = 0, ratio = 0;
  auto obs = [&](const Population& p, int, const steppe::Flows&) {
    const double total = p.home().col(0).sum();
    ratio = total / last_total;
    last_total = total;
  };
  last_total = pop.home().col(0).sum();
  const int steps = ages.width == 1 ? 600 : 150;
  std::vector<RateSet> rates(std::size_t(steps), r);
  steppe::project(projector, pop, rates, 0, obs);

  const Eigen::MatrixXd L = steppe::detail::female_leslie(r, dims, 0);
  Eigen::EigenSolver<Eigen::MatrixXd> es(L);
  Eigen::Index k;
  es.eigenvalues().real().maxCoeff(&k);
  const double lambda = es.eigenvalues()(k).real();
  INFO("lambda = " << lambda);
  CHECK(lambda > 1.0);  // a growing population: the test is not trivially 1
  CHECK_THAT(ratio, WithinRel(lambda, 1e-9));
  Eigen::VectorXd v = es.eigenvectors().col(k).real();
  v /= v.sum();
  const Eigen::VectorXd structure = pop.home().col(0).matrix() / pop.home().col(0).sum();
  CHECK((structure - v).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("an empty baseline abroad is the baseline at home, bit for bit, in every build of the step",
          "[unit][property]") {
  // RateSet: survivorship_abroad and birth_survivorship_abroad may be empty, meaning those at
  // home (what Scenario::build writes). The same step with them given as copies of home's must
  // give the same bits: both builds of the one-pass step, the multi-pass step, both regimes,
  // with and without a crisis abroad, and the crisis abroad that set_mortality_multiplier
  // derives from an empty baseline.
  const auto seed = GENERATE(range(1, 9));
  std::mt19937_64 rng(std::uint64_t(seed) * 7919u);
  const Dims dims(seed % 2 ? AgeAxis::single_year(100) : AgeAxis::five_year(30), 1 + seed % 3);
  Population in = steppe::test::random_population(dims, rng);
  RateSet copied = steppe::test::random_rates(dims, rng, /*oversized_counts=*/seed % 4 == 0);
  if (seed % 3 == 0) copied = steppe::test::thin_out(copied, rng);
  copied.survivorship_abroad = copied.survivorship;
  copied.birth_survivorship_abroad = copied.birth_survivorship;
  const Eigen::ArrayXXd m_abroad = steppe::test::uniform(rng, dims.n_ages(), dims.n_cols(), 1.0, 5.0);
  if (seed % 2 == 0) {  // the crisis abroad from the baseline abroad
    copied.crisis_survivorship_abroad.resize(0, 0);
    copied.crisis_birth_survivorship_abroad.resize(0);
    steppe::set_mortality_multiplier(copied, m_abroad, /*abroad=*/true);
  }
  RateSet empty = copied;
  empty.survivorship_abroad.resize(0, 0);
  empty.birth_survivorship_abroad.resize(0);
  if (seed % 2 == 0) {
    empty.crisis_survivorship_abroad.resize(0, 0);
    empty.crisis_birth_survivorship_abroad.resize(0);
    steppe::set_mortality_multiplier(empty, m_abroad, /*abroad=*/true);
    CHECK((empty.crisis_survivorship_abroad == copied.crisis_survivorship_abroad).all());
  }
  REQUIRE_NOTHROW(empty.validate(dims));
  CHECK(&empty.baseline_survivorship_abroad() == &empty.survivorship);
  CHECK(&empty.baseline_birth_survivorship_abroad() == &empty.birth_survivorship);
  CHECK(&copied.baseline_survivorship_abroad() == &copied.survivorship_abroad);

  const auto same = [](const Population& a, const steppe::Flows& f, const Population& b,
                       const steppe::Flows& g) {
    CHECK((a.home() == b.home()).all());
    CHECK((a.abroad() == b.abroad()).all());
    for (auto m : {&steppe::Flows::deaths, &steppe::Flows::deaths_abroad,
                   &steppe::Flows::baseline_deaths, &steppe::Flows::baseline_deaths_abroad,
                   &steppe::Flows::emigrants, &steppe::Flows::returnees, &steppe::Flows::immigrants,
                   &steppe::Flows::net_migrants})
      CHECK(((f.*m) == (g.*m)).all());
    CHECK((f.births == g.births).all());
    CHECK((f.births_abroad == g.births_abroad).all());
    CHECK((f.baseline_births == g.baseline_births).all());
    CHECK(f.clamps.size() == g.clamps.size());
  };
  const steppe::ProjectorOptions options{steppe::MigrationTiming::half_half, true,
                                         steppe::OnNegative::clamp};
  for (const bool avx2 : {true, false})
    for (auto regime : {steppe::Regime::crisis, steppe::Regime::no_crisis}) {
      INFO("seed " << seed << " avx2 " << avx2 << " regime " << int(regime));
      steppe::Projector p(dims, options), q(dims, options);
      steppe::detail::use_avx2_kernel(p, avx2);
      steppe::detail::use_avx2_kernel(q, avx2);
      Population out_c(dims), out_e(dims);
      steppe::Flows f_c(dims), f_e(dims);
      p.step(in, copied, out_c, f_c, regime);
      q.step(in, empty, out_e, f_e, regime);
      same(out_c, f_c, out_e, f_e);
      p.step_multipass(in, copied, out_c, f_c, regime);
      q.step_multipass(in, empty, out_e, f_e, regime);
      same(out_c, f_c, out_e, f_e);
    }
}
