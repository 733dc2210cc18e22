// SPDX-License-Identifier: MIT
// calibrate: weighted summaries by hand, recovery of a known truth from census counts generated
// by the model itself, ESS diagnostics and degeneracy, thread-count independence, refusals.
#include "steppe/calibration.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "steppe/error.hpp"
#include "steppe/io/calibration_output.hpp"
#include "steppe/summary.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::CalibrationOptions;
using steppe::CalibrationResult;
using steppe::Scenario;

namespace {

const std::filesystem::path fixture =
    std::filesystem::path(STEPPE_TEST_DATA_DIR) / "calibration" / "synthetic.json";

// Shortest round-trip decimal, for --set values.
std::string exact(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

struct Truth {
  double severity, undercount;
};

// The fixture with its census counts replaced by what the model gives at `truth` (one
// deterministic run with both parameters fixed), plus `extra` overrides.
Scenario synthetic_case(Truth truth, std::vector<std::string> extra = {}) {
  const Scenario fixed = Scenario::load(
      fixture, {"/distributions={}",
                "/crisis/kazakh/excess_mortality/intensity/scale=" + exact(truth.severity),
                "/groups/0/initial_population/undercount=" + exact(truth.undercount)});
  REQUIRE_FALSE(fixed.has_uncertainty());
  steppe::RunOptions one;
  one.draws = 1;
  const steppe::RunResult central = steppe::run_draws(fixed, one);
  std::vector<std::string> sets;
  for (std::size_t k = 0; k < fixed.targets().size(); ++k)
    sets.push_back("/targets/" + std::to_string(k) + "/value=" +
                   exact(central.at("/targets/" + fixed.targets()[k].name + "/modelled").mean));
  sets.insert(sets.end(), extra.begin(), extra.end());
  return Scenario::load(fixture, sets);
}

CalibrationOptions options(std::uint64_t draws, int threads = 2) {
  CalibrationOptions o;
  o.run.draws = draws;
  o.run.seed = 11;
  o.run.threads = threads;
  return o;
}

const steppe::ParameterPosterior& parameter(const CalibrationResult& r, const std::string& ptr) {
  for (const auto& p : r.parameters)
    if (p.pointer == ptr) return p;
  FAIL("no parameter " << ptr);
  return r.parameters.front();
}

double width(const steppe::Summary& s) { return s.quantiles.back() - s.quantiles.front(); }

bool same_bits(const steppe::Summary& a, const steppe::Summary& b) {
  return a.count == b.count && a.mean == b.mean && a.sd == b.sd && a.quantiles == b.quantiles;
}

}  // namespace

TEST_CASE("weighted_summary: mean, sd and quantiles by hand", "[unit]") {
  const std::vector<double> x{3, 1, 2, 5};
  const std::vector<double> w{1, 0, 3, 0};
  const std::vector<double> levels{0, 0.25, 0.5, 0.8, 1};
  const steppe::Summary s = steppe::weighted_summary(x, w, levels);
  CHECK(s.count == 2);
  CHECK_THAT(s.mean, WithinRel(9.0 / 4, 1e-15));  // (3·1 + 2·3)/4
  // Σw(x−μ)²/Σw = (0.5625 + 3·0.0625)/4 = 0.1875; n_eff = 16/10 → × 1.6/0.6.
  CHECK_THAT(s.sd, WithinRel(std::sqrt(0.1875 * 1.6 / 0.6), 1e-14));
  // Sorted (2, w 3), (3, w 1): cumulative 3, 4 of 4.
  CHECK(s.quantiles == std::vector<double>{2, 2, 2, 3, 3});
}

TEST_CASE("weighted_summary with equal weights is the ordinary sample summary", "[unit]") {
  std::vector<double> x;
  steppe::Moments m;
  for (int i = 0; i < 101; ++i) {
    x.push_back(std::sin(0.37 * i) * 100);
    m.add(x.back());
  }
  const std::vector<double> ones(x.size(), 2.5);
  const std::vector<double> levels{0.1, 0.5, 0.9};
  const steppe::Summary a = steppe::weighted_summary(x, ones, levels);
  const steppe::Summary b = steppe::weighted_summary(x, {}, levels);
  CHECK_THAT(a.mean, WithinRel(m.mean(), 1e-12));
  CHECK_THAT(a.sd, WithinRel(m.sd(), 1e-12));
  CHECK_THAT(b.sd, WithinRel(m.sd(), 1e-12));
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  // Inverse of the empirical CDF: the value of rank ceil(q·n) (1-based).
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const auto rank = std::size_t(std::ceil(levels[k] * double(x.size())));
    CHECK(b.quantiles[k] == sorted[rank - 1]);
    CHECK(a.quantiles[k] == sorted[rank - 1]);
  }
}

TEST_CASE("weighted_summary's unit-weight quantiles are the sorted values' ranks, any levels",
          "[unit]") {
  // Levels unsorted, repeated, at the ends, and close together; values with ties.
  const std::vector<double> levels{0.5, 0.0, 1.0, 0.975, 0.025, 0.5, 0.1, 0.9, 0.11, 0.3};
  for (std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(1000)}) {
    std::vector<double> x;
    for (std::size_t i = 0; i < n; ++i) x.push_back(std::floor(std::sin(1.7 * double(i)) * 50));
    const steppe::Summary s = steppe::weighted_summary(x, {}, levels);
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(s.quantiles.size() == levels.size());
    for (std::size_t k = 0; k < levels.size(); ++k) {
      const double r = std::ceil(levels[k] * double(n));
      const std::size_t rank = r < 1 ? 0 : std::min(n - 1, std::size_t(r) - 1);
      CAPTURE(n, levels[k]);
      CHECK(s.quantiles[k] == sorted[rank]);
    }
  }
}

TEST_CASE("order_statistics gives the values a sort puts at the ranks, on awkward inputs",
          "[unit]") {
  std::vector<std::vector<double>> inputs{{7.5}, {2, 1}, {3, 3, 3}, {-1, 4, -1, 4, 0}};
  inputs.emplace_back(5000, -1.25);  // all equal
  std::vector<double> few(20000), lone(10000, 5.0), spread, strided(3 * 4096), tail, ascending;
  for (std::size_t i = 0; i < few.size(); ++i) few[i] = double(i * 7919 % 5);  // ties
  lone[17] = -3;  // the sample sees only 5.0: one bucket
  lone[9001] = 1e9;
  for (int i = 0; i < 3000; ++i) spread.push_back(std::sin(1.3 * i) * (i % 97 == 0 ? 1e300 : 1.0));
  for (double x : {-0.0, 0.0, 4.9e-324, -std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::max()})
    spread.push_back(x);  // signed zeros, a denormal, and a range wider than the largest double
  for (std::size_t i = 0; i < strided.size(); ++i)  // the sample's positions all hold 1.0
    strided[i] = i % 12 == 0 ? 1.0 : 1e6 + double(i % 1000);
  for (int i = 1; i <= 50000; ++i) tail.push_back(50000.0 / double(i * 7919 % 50000 + 1));
  for (int i = 0; i < 30000; ++i) ascending.push_back(0.5 * i);
  for (auto* v : {&few, &lone, &spread, &strided, &tail, &ascending}) inputs.push_back(*v);
  for (const std::vector<double>& x : inputs) {
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = x.size();
    // The ends, repeated ranks, neighbours, ranks in any order.
    const std::vector<std::size_t> ranks{
        n / 2, 0, n - 1, n / 2, n / 40, n - 1 - n / 40, (n - 1) / 3, std::min(n - 1, n / 2 + 1)};
    const std::vector<double> got = steppe::detail::order_statistics(x, ranks);
    REQUIRE(got.size() == ranks.size());
    for (std::size_t k = 0; k < ranks.size(); ++k) {
      CAPTURE(n, ranks[k]);
      CHECK(got[k] == sorted[ranks[k]]);
    }
  }
  // Every rank of small inputs with ties.
  for (std::size_t n = 1; n <= 40; ++n) {
    std::vector<double> x, sorted;
    for (std::size_t i = 0; i < n; ++i) x.push_back(std::floor(std::cos(2.1 * double(i)) * 4));
    sorted = x;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> all(n);
    for (std::size_t r = 0; r < n; ++r) all[r] = n - 1 - r;
    CAPTURE(n);
    const std::vector<double> got = steppe::detail::order_statistics(x, all);
    for (std::size_t r = 0; r < n; ++r) CHECK(got[n - 1 - r] == sorted[r]);
  }
  CHECK(steppe::detail::order_statistics(std::vector<double>{1, 2}, {}).empty());
}

TEST_CASE("weighted_summary's quantiles invert the weighted CDF, with tied values or without",
          "[unit]") {
  const std::vector<double> levels{0, 0.025, 0.3, 0.5, 0.975, 1};
  for (int distinct : {3, 1000000}) {
    std::vector<double> x, w;
    for (int i = 0; i < 5000; ++i) {
      x.push_back(double(i * 7919 % distinct) - 0.5 * distinct);
      w.push_back(i % 3 == 0 ? 0.0 : double(1 + i % 7));  // integers: every sum exact
    }
    const steppe::Summary s = steppe::weighted_summary(x, w, levels);
    std::vector<std::pair<double, double>> pairs;
    double total = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (w[i] > 0) {
        pairs.emplace_back(x[i], w[i]);
        total += w[i];
      }
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    REQUIRE(s.quantiles.size() == levels.size());
    for (std::size_t k = 0; k < levels.size(); ++k) {
      double c = 0;
      std::size_t j = 0;
      while (j + 1 < pairs.size() && (c += pairs[j].second) < levels[k] * total) ++j;
      CAPTURE(distinct, levels[k]);
      CHECK(s.quantiles[k] == pairs[j].first);
    }
  }
}

TEST_CASE("weighted_summary rejects bad weights", "[unit]") {
  const std::vector<double> x{1, 2};
  const std::vector<double> levels{0.5};
  CHECK_THROWS_AS(steppe::weighted_summary(x, std::vector<double>{1, -1}, levels),
                  steppe::domain_error);
  CHECK_THROWS_AS(steppe::weighted_summary(x, std::vector<double>{0, 0}, levels),
                  steppe::domain_error);
  CHECK_THROWS_AS(steppe::weighted_summary(x, std::vector<double>{1}, levels),
                  steppe::domain_error);
}

TEST_CASE("calibration recovers a known truth from census counts the model generated",
          "[unit][calibration]") {
  const Truth truth = GENERATE(Truth{1.7, 0.05}, Truth{0.6, 0.02});
  CAPTURE(truth.severity, truth.undercount);
  const Scenario s = synthetic_case(truth);
  const CalibrationResult r = steppe::calibrate(s, options(10000));
  REQUIRE_FALSE(r.cancelled);
  CHECK(r.draws == 10000);
  CHECK_FALSE(r.degenerate);
  CHECK(r.warning().empty());
  // ESS is between 1/(max share) and the number of draws, and well above the threshold here.
  CHECK(r.ess <= 10000.0);
  CHECK(r.ess >= 1.0 / r.max_weight_share * (1 - 1e-12));
  CHECK(r.ess > 200);
  // Automatic bound: a tenth of the Monte Carlo standard error of a 2.5 % tail at this ESS.
  CHECK_THAT(r.max_dropped_weight, WithinRel(std::sqrt(0.025 * 0.975 / r.ess) / 10, 1e-12));
  CHECK(r.dropped_weight <= r.max_dropped_weight);
  CHECK(r.dropped_weight > 0);
  CHECK(r.posterior_draws <= r.draws);

  REQUIRE(r.parameters.size() == 2);
  const auto& severity = parameter(r, "/distributions/severity");
  const auto& undercount = parameter(r, "/groups/0/initial_population/undercount");
  // The prior is the stated uniform: its 95 % range spans ~95 % of [0, 3] and [0, 0.1].
  CHECK_THAT(width(severity.prior), WithinAbs(0.95 * 3, 0.1));
  CHECK_THAT(width(undercount.prior), WithinAbs(0.95 * 0.1, 0.005));
  // The posterior covers the truth and is far narrower than the prior.
  CHECK(severity.posterior.quantiles.front() <= truth.severity);
  CHECK(truth.severity <= severity.posterior.quantiles.back());
  CHECK(width(severity.posterior) < 0.3 * width(severity.prior));
  CHECK(undercount.posterior.quantiles.front() <= truth.undercount);
  CHECK(truth.undercount <= undercount.posterior.quantiles.back());
  CHECK(width(undercount.posterior) < 0.7 * width(undercount.prior));

  // Each census count lies inside the posterior range of the count expected, and the posterior
  // pulls the modelled counts toward it.
  REQUIRE(r.targets.size() == 2);
  for (const steppe::TargetFit& f : r.targets) {
    CAPTURE(f.name);
    CHECK(f.within);
    CHECK(f.has_sd);
    CHECK(std::abs(f.posterior_relative_deviation.quantiles[1]) <=
          std::abs(f.prior_relative_deviation.quantiles[1]) + 1e-3);
    CHECK(std::abs(f.posterior_z.quantiles[1]) < 1.0);
    CHECK(f.predictive_cdf > 0.2);  // a count the model generated is not in a predictive tail
    CHECK(f.predictive_cdf < 0.8);
  }
  // Weighting by exp(ℓ) raises the mean log-likelihood.
  CHECK(r.posterior.at("/log_likelihood/total").mean > r.prior.at("/log_likelihood/total").mean);
  // The posterior death toll is narrower than the prior's.
  CHECK(width(r.posterior.at("/excess_deaths/total")) <
        0.5 * width(r.prior.at("/excess_deaths/total")));
}

TEST_CASE("calibration gives the same bits on 1 and 2 threads", "[unit][calibration]") {
  const Scenario s = synthetic_case({1.2, 0.04});
  const CalibrationResult a = steppe::calibrate(s, options(1500, 1));
  const CalibrationResult b = steppe::calibrate(s, options(1500, 2));
  CHECK(a.ess == b.ess);
  CHECK(a.max_weight_share == b.max_weight_share);
  CHECK(a.posterior_draws == b.posterior_draws);
  REQUIRE(a.parameters.size() == b.parameters.size());
  for (std::size_t k = 0; k < a.parameters.size(); ++k) {
    CHECK(same_bits(a.parameters[k].prior, b.parameters[k].prior));
    CHECK(same_bits(a.parameters[k].posterior, b.parameters[k].posterior));
  }
  REQUIRE(a.posterior.metrics.size() == b.posterior.metrics.size());
  for (std::size_t m = 0; m < a.posterior.metrics.size(); ++m) {
    CAPTURE(a.posterior.metrics[m].path);
    CHECK(same_bits(a.posterior.metrics[m].summary, b.posterior.metrics[m].summary));
  }
  // The prior leaves out the breakdowns by year and age.
  REQUIRE(a.prior.metrics.size() == b.prior.metrics.size());
  CHECK(a.prior.metrics.size() < a.posterior.metrics.size());
  CHECK(a.prior.find("/excess_deaths/by_year/1931") == nullptr);
  CHECK(a.prior.find("/excess_deaths/total") != nullptr);
  for (std::size_t m = 0; m < a.prior.metrics.size(); ++m) {
    CAPTURE(a.prior.metrics[m].path);
    CHECK(same_bits(a.prior.metrics[m].summary, b.prior.metrics[m].summary));
  }
  for (std::size_t j = 0; j < a.targets.size(); ++j) {
    CHECK(same_bits(a.targets[j].posterior_expected, b.targets[j].posterior_expected));
    CHECK(same_bits(a.targets[j].posterior_z, b.targets[j].posterior_z));
  }
  std::ostringstream ja, jb;
  const steppe::RunDescription d = steppe::describe_run(s);
  steppe::write_calibration_json(ja, d, a);
  steppe::write_calibration_json(jb, d, b);
  CHECK(ja.str() == jb.str());
}

TEST_CASE("dropping the lightest draws saves work and moves the posterior by little",
          "[unit][calibration]") {
  const Scenario s = synthetic_case({1.7, 0.05});
  CalibrationOptions all = options(10000);
  all.max_dropped_weight = 0;
  const CalibrationResult a = steppe::calibrate(s, all);
  const CalibrationResult b = steppe::calibrate(s, options(10000));
  CHECK(a.dropped_weight == 0);
  CHECK(a.ess == b.ess);  // computed before dropping
  CHECK(b.posterior_draws < a.posterior_draws / 2);
  const auto& pa = parameter(a, "/distributions/severity").posterior;
  const auto& pb = parameter(b, "/distributions/severity").posterior;
  CHECK_THAT(pb.mean, WithinAbs(pa.mean, 1e-3));
  for (std::size_t k = 0; k < pa.quantiles.size(); ++k)
    CHECK_THAT(pb.quantiles[k], WithinAbs(pa.quantiles[k], 0.01));
}

TEST_CASE("a census count out of the model's reach fails the posterior predictive check",
          "[unit][calibration]") {
  // About twice the population the model can produce by 1929, whatever the undercount.
  const Scenario s = synthetic_case({1.7, 0.05}, {"/targets/0/value=400000"});
  const CalibrationResult r = steppe::calibrate(s, options(2000));
  REQUIRE(r.targets.size() == 2);
  CHECK_FALSE(r.targets[0].within);
  CHECK(r.targets[0].predictive_cdf > 0.999);  // a census would almost surely count fewer
  CHECK(r.targets[0].posterior_z.quantiles[1] > 5);
  CHECK(r.targets[0].posterior_expected.quantiles.back() < 400000);
}

TEST_CASE("a tiny census error leaves too few effective draws: flagged degenerate",
          "[unit][calibration]") {
  const Scenario s =
      synthetic_case({1.7, 0.05}, {"/targets/0/error/sd=0.0005", "/targets/1/error/sd=0.0005"});
  const CalibrationResult r = steppe::calibrate(s, options(1000));
  CHECK(r.ess < 100);
  CHECK(r.degenerate);
  CHECK_THAT(r.warning(), Contains("effective draws of 1,000") && Contains("too few") &&
                              Contains("widen the census errors"));
  std::ostringstream table;
  steppe::write_calibration_table(table, steppe::describe_run(s), r);
  CHECK(table.str().rfind("warning: the posterior rests on", 0) == 0);  // printed first
  std::ostringstream json;
  steppe::write_calibration_json(json, steppe::describe_run(s), r);
  CHECK_THAT(json.str(), Contains("\"degenerate\": true") && Contains("\"warning\": "));
}

TEST_CASE("calibrate refuses a scenario without census targets, and bad options",
          "[unit][calibration]") {
  // Every target of a scenario file has an sd, so only a scenario without targets lacks one.
  const Scenario none = Scenario::load(fixture, {"/targets=[]"});
  CHECK_THROWS_WITH(steppe::calibrate(none, options(100)),
                    Contains("no target with a census-error sd"));
  const Scenario s = Scenario::load(fixture);
  CHECK_THROWS_AS(steppe::calibrate(s, options(1)), steppe::domain_error);
  CalibrationOptions kept = options(100);
  kept.run.keep = {"/excess_deaths/total"};
  CHECK_THROWS_AS(steppe::calibrate(s, kept), steppe::domain_error);
}

TEST_CASE("calibration writers: JSON nests the run metrics, CSV has prior and posterior rows",
          "[unit][calibration][io]") {
  const Scenario s = synthetic_case({1.7, 0.05});
  const CalibrationResult r = steppe::calibrate(s, options(10000));
  const steppe::RunDescription d = steppe::describe_run(s);
  std::ostringstream json, csv, table;
  steppe::write_calibration_json(json, d, r);
  steppe::write_calibration_csv(csv, r);
  steppe::write_calibration_table(table, d, r);
  CHECK_THAT(json.str(), Contains("\"prior\": {\n    \"draws\": 10000") &&
                             Contains("\"pointer\": \"/distributions/severity\"") &&
                             Contains("\"excess_deaths\": {") && Contains("\"ess_fraction\""));
  CHECK_THAT(csv.str(), Contains("kind,quantity,stage,mean,sd,q025,q50,q975\n") &&
                            Contains("\nmetric,/excess_deaths/total,prior,") &&
                            Contains("\nmetric,/excess_deaths/total,posterior,") &&
                            Contains("\nparameter,/distributions/severity,posterior,") &&
                            Contains("\nz,/targets/census_1934/z,posterior,"));
  CHECK_THAT(table.str(), Contains("Effective sample size") && Contains("Uncertain parameters") &&
                              Contains("census_1934") && !Contains("warning"));
}

TEST_CASE("where importance sampling degenerates, automatic calibration turns to SMC and "
          "covers the truth",
          "[unit][calibration]") {
  // Census errors of 0.05 %: 1,000 prior draws leave a handful of effective draws.
  const Scenario s =
      synthetic_case({1.7, 0.05}, {"/targets/0/error/sd=0.0005", "/targets/1/error/sd=0.0005"});
  CalibrationOptions o = options(1000);
  o.method = CalibrationOptions::Method::automatic;
  o.smc.particles = 300;
  o.smc.moves = 4;
  const CalibrationResult r = steppe::calibrate(s, o);
  CHECK(r.ess < 100);  // importance sampling's diagnostic is still reported
  REQUIRE(r.smc.has_value());
  CHECK(r.method == "sequential Monte Carlo");
  CHECK(r.smc->particles == 300);
  CHECK(r.smc->distinct >= 100);
  CHECK_FALSE(r.degenerate);
  CHECK(r.smc->stages.back().temperature == 1.0);
  CHECK(r.posterior.draws == 300);
  const auto& severity = parameter(r, "/distributions/severity");
  CHECK(severity.posterior.quantiles.front() <= 1.7);
  CHECK(1.7 <= severity.posterior.quantiles.back());
  CHECK(width(severity.posterior) < 0.1 * width(severity.prior));
  for (const steppe::TargetFit& f : r.targets) {
    CAPTURE(f.name);
    CHECK(f.within);
  }
  std::ostringstream table;
  steppe::write_calibration_table(table, steppe::describe_run(s), r);
  CHECK_THAT(table.str(), Contains("by sequential Monte Carlo") && Contains("temperatures"));
  std::ostringstream json;
  steppe::write_calibration_json(json, steppe::describe_run(s), r);
  CHECK_THAT(json.str(), Contains("\"method\": \"sequential Monte Carlo\"") && Contains("\"stages\""));
  // Same bits on one thread.
  o.run.threads = 1;
  const CalibrationResult one = steppe::calibrate(s, o);
  CHECK(same_bits(one.posterior.at("/excess_deaths/total"), r.posterior.at("/excess_deaths/total")));
}

TEST_CASE("prior summaries from the first draws: the same weights and posterior, bit for bit",
          "[unit][calibration]") {
  const Scenario s = synthetic_case({1.2, 0.04});
  CalibrationOptions all = options(1500);
  all.prior_summary_draws = 0;
  CalibrationOptions part = options(1500);
  part.prior_summary_draws = 400;  // the other 1,100 draws: likelihood from the crisis run only
  const CalibrationResult a = steppe::calibrate(s, all);
  const CalibrationResult b = steppe::calibrate(s, part);
  CHECK(b.draws == 1500);
  CHECK(a.ess == b.ess);
  CHECK(a.posterior_draws == b.posterior_draws);
  CHECK(b.prior.at("/excess_deaths/total").count == 400);
  CHECK(a.prior.at("/excess_deaths/total").count == 1500);
  REQUIRE(a.posterior.metrics.size() == b.posterior.metrics.size());
  for (std::size_t m = 0; m < a.posterior.metrics.size(); ++m) {
    CAPTURE(a.posterior.metrics[m].path);
    CHECK(same_bits(a.posterior.metrics[m].summary, b.posterior.metrics[m].summary));
  }
  for (std::size_t k = 0; k < a.parameters.size(); ++k)
    CHECK(same_bits(a.parameters[k].posterior, b.parameters[k].posterior));
}
