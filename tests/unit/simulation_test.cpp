// SPDX-License-Identifier: MIT
// run_draws: metrics by hand on a tiny model, thread-count independence, seeding, books,
// errors in draw order, cancellation, and the scenario files.
#include "steppe/simulation.hpp"

#include <atomic>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <set>
#include <span>
#include <string>

#include "steppe/excess.hpp"
#include "steppe/rng.hpp"
#include "support/builders.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;
using steppe::Dims;
using steppe::ModelInputs;
using steppe::RateSet;
using steppe::RunOptions;
using steppe::RunResult;
using steppe::StepTime;
using steppe::Target;
using steppe::detail::DrawModel;

namespace {

std::vector<StepTime> annual_steps(int first_year, int n) {
  std::vector<StepTime> steps;
  for (int k = 0; k < n; ++k)
    steps.push_back({double(first_year + k), double(first_year + k + 1), first_year + k});
  return steps;
}

/// Hand-checkable: ages 0..9 and 10+, groups a and b, 100 persons in every cell, nobody dies or
/// is born without the crisis. Four annual steps (1930–1933); in 1931 group a's survivorship is
/// 1 − severity/2, severity = values[0] (central 1, drawn uniform on (0, 2)). Window 1931–1932.
/// Targets: a's women at the start (1100) and group a at the end, each with bias values[1] and
/// sd values[2].
DrawModel tiny_model() {
  DrawModel m;
  m.dims = Dims(AgeAxis::single_year(10), {"a", "b"});
  m.steps = annual_steps(1930, 4);
  m.outputs.window_first = 1931;
  m.outputs.window_last = 1932;
  m.targets.push_back(Target{"women_a_start", 1930.0, 0, 0, 0, 0, -1, false, 1000.0, 1, 2});
  m.targets.push_back(Target{"a_end", 1934.0, 4, 0, -1, 0, -1, false, 1000.0, 1, 2});
  m.build = [dims = m.dims](std::uint64_t seed, std::uint64_t draw, bool central,
                            std::vector<double>& v, ModelInputs& in) {
    v.resize(3);
    v[0] = central ? 1.0 : 2.0 * steppe::Rng(seed, draw, 7).uniform01();
    v[1] = 0.1;
    v[2] = 0.05;
    in.initial = steppe::Population(dims);
    in.initial.home().setConstant(100.0);
    in.rates.assign(4, RateSet(dims));
    RateSet& crisis = in.rates[1];
    crisis.crisis_survivorship = crisis.survivorship;
    crisis.crisis_survivorship.leftCols(2).setConstant(1.0 - 0.5 * v[0]);
    crisis.crisis_birth_survivorship = crisis.birth_survivorship;
  };
  return m;
}

/// Everything at once, seeded: random populations and rates of every component (tests/support),
/// the crisis survivorship and the flight scaled by draw-dependent factors. 3 groups, 10 steps.
struct RichModel {
  Dims dims{AgeAxis::single_year(20), {"kazakh", "russian", "other"}};
  steppe::Population initial;
  std::vector<RateSet> rates;
  RichModel() {
    std::mt19937_64 rng(42);
    initial = steppe::test::random_population(dims, rng);
    initial.home() *= 50.0;
    for (int k = 0; k < 10; ++k) rates.push_back(steppe::test::random_rates(dims, rng));
  }
  DrawModel model(bool headline_cf = true) const {
    DrawModel m;
    m.dims = dims;
    m.steps = annual_steps(1927, 10);
    m.outputs.window_first = 1930;
    m.outputs.window_last = 1933;
    m.outputs.headline_counterfactual = headline_cf;
    m.targets.push_back(Target{"census_1937", 1937.0, 10, 0, -1, 0, -1, false, 5e4, 0, 1});
    m.targets.push_back(Target{"men_10_15_1932", 1932.0, 5, 1, 1, 10, 15, false, 2e3, -1, 1});
    m.targets.push_back(Target{"abroad_1932", 1932.0, 5, -1, -1, 0, -1, true, 1e3, -1, -1});
    m.build = [this](std::uint64_t seed, std::uint64_t draw, bool central, std::vector<double>& v,
                     ModelInputs& in) {
      v.resize(3);
      steppe::Rng rng(seed, draw, 1);
      v[0] = central ? 0.02 : 0.04 * rng.uniform01();  // census bias
      v[1] = 0.03;                                      // census error sd
      v[2] = central ? 0.5 : rng.uniform01();           // crisis severity
      in.initial = initial;
      in.rates = rates;
      for (RateSet& r : in.rates) {
        r.crisis_survivorship = r.survivorship * (1.0 - 0.3 * v[2]);
        r.emigration_rate *= v[2];
      }
    };
    return m;
  }
};

void require_identical(const RunResult& a, const RunResult& b) {
  REQUIRE(a.metrics.size() == b.metrics.size());
  CHECK(a.draws == b.draws);
  CHECK(a.clamps == b.clamps);
  CHECK(a.clamped_persons == b.clamped_persons);
  for (std::size_t m = 0; m < a.metrics.size(); ++m) {
    INFO(a.metrics[m].path);
    REQUIRE(a.metrics[m].path == b.metrics[m].path);
    const steppe::Summary &x = a.metrics[m].summary, &y = b.metrics[m].summary;
    CHECK(x.count == y.count);
    CHECK(x.mean == y.mean);
    CHECK(x.sd == y.sd);
    CHECK(x.quantiles == y.quantiles);
  }
}

RunOptions opts(std::uint64_t draws, int threads, std::uint64_t seed = 1) {
  RunOptions o;
  o.draws = draws;
  o.threads = threads;
  o.seed = seed;
  return o;
}

/// Parameter sets of a two-group scenario whose groups change apart: `rounds` times, two draws a
/// and b (seed, draws 2i and 2i + 1), then for each code in `pattern` one set: 0 = a, 1 = b,
/// 2 = b with a's group-1 parameters, 3 = b with a's group-0 parameters
/// (Scenario::group_parameters).
std::vector<std::vector<double>> mixed_sets(const steppe::Scenario& scenario, std::uint64_t seed,
                                            std::uint64_t rounds, const std::vector<int>& pattern) {
  const auto reads = scenario.group_parameters();
  std::vector<std::vector<double>> sets;
  for (std::uint64_t i = 0; i < rounds; ++i) {
    std::vector<double> a, b;
    scenario.sample(seed, 2 * i, a);
    scenario.sample(seed, 2 * i + 1, b);
    std::vector<double> b_a1 = b, b_a0 = b;
    for (std::size_t p : reads[1]) b_a1[p] = a[p];
    for (std::size_t p : reads[0]) b_a0[p] = a[p];
    const std::vector<double>* kinds[4] = {&a, &b, &b_a1, &b_a0};
    for (int k : pattern) sets.push_back(*kinds[k]);
  }
  return sets;
}

}  // namespace

TEST_CASE("run_draws: a one-year crisis that halves group a, by hand", "[unit]") {
  const RunResult r = steppe::detail::run_draws(tiny_model(), opts(1, 1));
  REQUIRE(r.draws == 1);
  auto mean = [&r](const char* path) { return r.at(path).mean; };
  // 22 cells of 100 people, half of them die in 1931; nobody dies otherwise.
  CHECK(mean("/excess_deaths/total") == 1100.0);
  CHECK(mean("/excess_deaths/home") == 1100.0);
  CHECK(mean("/excess_deaths/abroad") == 0.0);
  CHECK(mean("/excess_deaths/by_group/a") == 1100.0);
  CHECK(mean("/excess_deaths/by_group/b") == 0.0);
  CHECK(mean("/excess_deaths/by_group_place/a/home") == 1100.0);
  CHECK(mean("/excess_deaths/by_group_sex/a/male") == 550.0);
  // By the age cell at the end of the step. 1930 aged everyone (cell 0 empty, 10+ holds 200), so
  // in 1931 cells 2..9 get 50 deaths each and 10+ gets (100 + 200)/2.
  CHECK(mean("/excess_deaths/by_group_sex_age/a/female/0-9") == 400.0);
  CHECK(mean("/excess_deaths/by_group_sex_age/a/female/10+") == 150.0);
  CHECK(mean("/excess_deaths/by_year/1930") == 0.0);
  CHECK(mean("/excess_deaths/by_year/1931") == 1100.0);
  CHECK(mean("/excess_deaths/by_group_year/a/1931") == 1100.0);
  CHECK(mean("/excess_deaths/by_group_year/b/1931") == 0.0);
  CHECK(mean("/excess_deaths_rate_based/total") == 1100.0);  // baseline: nobody dies
  CHECK(mean("/lost_births/total") == 0.0);
  CHECK(mean("/emigrants/total") == 0.0);
  // Targets: a's women at the start, and group a at the end (2200 − 1100).
  CHECK(mean("/targets/women_a_start/modelled") == 1100.0);
  CHECK(mean("/targets/women_a_start/deviation") == 100.0);
  CHECK_THAT(mean("/targets/women_a_start/relative_deviation"), WithinRel(0.1, 1e-12));
  CHECK(mean("/targets/a_end/modelled") == 1100.0);
  const double z = (1000.0 / (1100.0 * 1.1) - 1.0) / 0.05;
  const double ll = -0.5 * z * z - 0.5 * std::log(2.0 * std::numbers::pi) - std::log(0.05);
  CHECK_THAT(mean("/targets/a_end/log_likelihood"), WithinRel(ll, 1e-12));
  CHECK_THAT(mean("/log_likelihood/total"), WithinRel(2.0 * ll, 1e-12));
  // One draw: no spread.
  CHECK(r.at("/excess_deaths/total").sd == 0.0);
  CHECK_THAT(r.at("/excess_deaths/total").quantiles[2], WithinRel(1100.0, 1e-3));
}

TEST_CASE("run_draws: quantiles stay within the range of the draws", "[unit]") {
  const int threads = GENERATE(1, 2);
  INFO(threads << " threads");
  const RunResult r = steppe::detail::run_draws(tiny_model(), opts(300, threads));
  REQUIRE(r.draws == 300);
  REQUIRE(!r.quantile_levels.empty());
  // Outputs that are the same in every draw report exactly their value at every level (the
  // sketch alone would give its bucket midpoint, within 0.1 %).
  for (const auto& [path, value] : std::vector<std::pair<std::string, double>>{
           {"/targets/women_a_start/modelled", 1100.0},
           {"/targets/women_a_start/deviation", 100.0},
           {"/excess_deaths/by_group/b", 0.0},
           {"/excess_deaths/by_year/1930", 0.0}}) {
    INFO(path);
    for (double q : r.at(path).quantiles) CHECK(q == value);
  }
  // A drawn output: 1100·severity with severity uniform on (0, 2); its quantiles are ordered and
  // inside (0, 2200).
  const std::vector<double>& q = r.at("/excess_deaths/total").quantiles;
  for (std::size_t i = 0; i < q.size(); ++i) {
    CHECK(q[i] > 0.0);
    CHECK(q[i] < 2200.0);
    if (i > 0) CHECK(q[i] >= q[i - 1]);
  }
  // One draw: every quantile is that draw's value.
  const RunResult one = steppe::detail::run_draws(tiny_model(), opts(1, 1));
  for (double x : one.at("/excess_deaths/total").quantiles) CHECK(x == 1100.0);
}

TEST_CASE("run_draws: metric paths are unique, in the documented order", "[unit]") {
  const RunResult r = steppe::detail::run_draws(tiny_model(), opts(1, 1));
  std::set<std::string> seen;
  for (const steppe::Metric& m : r.metrics) CHECK(seen.insert(m.path).second);
  std::vector<std::string> heads;
  for (const steppe::Metric& m : r.metrics) {
    const std::string head = m.path.substr(0, m.path.find('/', 1));
    if (heads.empty() || heads.back() != head) heads.push_back(head);
  }
  CHECK(heads == std::vector<std::string>{"/excess_deaths", "/excess_deaths_rate_based",
                                          "/lost_births", "/lost_births_rate_based",
                                          "/net_emigration", "/emigrants", "/returnees",
                                          "/immigrants", "/deaths_abroad", "/abroad_at_end",
                                          "/balance", "/balance_by_year", "/targets", "/log_likelihood"});
  CHECK(r.find("/excess_deaths/by_year/1933") != nullptr);
  CHECK(r.find("/excess_deaths/by_year/1934") == nullptr);
  CHECK_THROWS_AS(r.at("/no/such/metric"), std::out_of_range);
}

TEST_CASE("run_draws: a rate-based headline names the other definition counterfactual", "[unit]") {
  const RichModel rich;
  const RunResult r = steppe::detail::run_draws(rich.model(/*headline_cf=*/false), opts(1, 1));
  CHECK(r.find("/excess_deaths_counterfactual/total") != nullptr);
  CHECK(r.find("/lost_births_counterfactual/total") != nullptr);
  CHECK(r.find("/excess_deaths_rate_based/total") == nullptr);
  // Baseline deaths are not kept by age, so there is no by-age excess for this headline.
  CHECK(r.find("/excess_deaths/by_group_sex_age/kazakh/female/0-9") == nullptr);
  const RunResult cf = steppe::detail::run_draws(rich.model(true), opts(1, 1));
  CHECK(r.at("/excess_deaths/total").mean == cf.at("/excess_deaths_rate_based/total").mean);
  CHECK(r.at("/excess_deaths_counterfactual/total").mean == cf.at("/excess_deaths/total").mean);
}

TEST_CASE("run_draws: one and several threads give the same bits", "[unit]") {
  const RichModel rich;
  const DrawModel m = rich.model();
  const RunResult one = steppe::detail::run_draws(m, opts(1000, 1));
  CHECK(one.draws == 1000);
  CHECK(one.at("/excess_deaths/total").count == 1000);
  CHECK(one.at("/excess_deaths/total").sd > 0.0);
  const int threads = GENERATE(2, 3);
  INFO(threads << " threads");
  require_identical(one, steppe::detail::run_draws(m, opts(1000, threads)));
}

TEST_CASE("run_draws: the seed fixes the draws", "[unit]") {
  const RichModel rich;
  const DrawModel m = rich.model();
  const RunResult a = steppe::detail::run_draws(m, opts(300, 2, 7));
  require_identical(a, steppe::detail::run_draws(m, opts(300, 2, 7)));
  const RunResult b = steppe::detail::run_draws(m, opts(300, 2, 8));
  CHECK(a.at("/excess_deaths/total").mean != b.at("/excess_deaths/total").mean);
  CHECK(a.at("/excess_deaths/total").sd != b.at("/excess_deaths/total").sd);
}

TEST_CASE("run_draws: one draw runs the central values, as CrisisRunner does", "[unit]") {
  const RichModel rich;
  const DrawModel m = rich.model();
  const RunResult r = steppe::detail::run_draws(m, opts(1, 1));
  std::vector<double> values;
  ModelInputs in;
  m.build(0, 0, /*central=*/true, values, in);
  steppe::CrisisRunner runner(m.dims, {}, 10);
  runner.run(in.initial, in.rates, 1927);
  const Eigen::ArrayXXd e = steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
  // Documented order: steps in order, then columns in order, one accumulator.
  double total = 0.0, kazakh = 0.0, y1931 = 0.0;
  for (Eigen::Index k = 0; k < e.cols(); ++k)
    for (Eigen::Index c = 0; c < e.rows(); ++c) {
      const int year = m.steps[std::size_t(k)].year;
      if (year >= 1930 && year <= 1933) total += e(c, k);
      if (year >= 1930 && year <= 1933 && c < 2) kazakh += e(c, k);
      if (year == 1931) y1931 += e(c, k);
    }
  CHECK(r.at("/excess_deaths/total").mean == total);
  CHECK(r.at("/excess_deaths/by_group/kazakh").mean == kazakh);
  CHECK(r.at("/excess_deaths/by_year/1931").mean == y1931);
  CHECK(r.at("/abroad_at_end/by_group/other").mean == runner.crisis_end().group_abroad(2));
  CHECK(total != 0.0);
}

TEST_CASE("run_draws: the books balance across groups, years, places and ages", "[unit]") {
  const RichModel rich;
  const DrawModel m = rich.model();
  const RunResult r = steppe::detail::run_draws(m, opts(200, 2));
  auto mean = [&r](const std::string& p) { return r.at(p).mean; };
  for (const char* head : {"/excess_deaths", "/excess_deaths_rate_based", "/lost_births",
                           "/net_emigration", "/deaths_abroad"}) {
    INFO(head);
    const std::string h = head;
    double by_group = 0.0, by_year = 0.0;
    for (const std::string& g : m.dims.groups()) by_group += mean(h + "/by_group/" + g);
    for (int y = 1930; y <= 1933; ++y) by_year += mean(h + "/by_year/" + std::to_string(y));
    const double total = mean(h + "/total");
    CHECK_THAT(by_group, WithinRel(total, 1e-9));
    CHECK_THAT(by_year, WithinRel(total, 1e-9));
  }
  const double total = mean("/excess_deaths/total");
  CHECK_THAT(mean("/excess_deaths/home") + mean("/excess_deaths/abroad"), WithinRel(total, 1e-9));
  double by_age = 0.0, by_group_year = 0.0;
  for (const std::string& g : m.dims.groups()) {
    for (const char* sex : {"female", "male"})
      for (const char* age : {"0-9", "10-19", "20+"})
        by_age += mean("/excess_deaths/by_group_sex_age/" + g + "/" + sex + "/" + age);
    for (int y = 1930; y <= 1933; ++y)
      by_group_year += mean("/excess_deaths/by_group_year/" + g + "/" + std::to_string(y));
  }
  CHECK_THAT(by_age, WithinRel(total, 1e-9));
  CHECK_THAT(by_group_year, WithinRel(total, 1e-9));
  CHECK_THAT(mean("/emigrants/total") - mean("/returnees/total"),
             WithinRel(mean("/net_emigration/total"), 1e-9));
  CHECK(mean("/emigrants/total") > 0.0);
}

TEST_CASE("run_draws: the error of the first failing draw is rethrown", "[unit]") {
  DrawModel m = tiny_model();
  const auto build = m.build;
  m.build = [build](std::uint64_t seed, std::uint64_t draw, bool central, std::vector<double>& v,
                    ModelInputs& in) {
    if (draw == 700 || draw == 300) throw steppe::domain_error("e0 = 99 outside the tables");
    build(seed, draw, central, v, in);
  };
  const int threads = GENERATE(1, 2, 3);
  INFO(threads << " threads");
  CHECK_THROWS_WITH(steppe::detail::run_draws(m, opts(1000, threads)),
                    Contains("draw 300 ") && Contains("e0 = 99"));
}

TEST_CASE("run_draws: cancelling stops early and reports the draws run", "[unit]") {
  std::atomic<bool> cancel{false};
  DrawModel m = tiny_model();
  const auto build = m.build;
  m.build = [build, &cancel](std::uint64_t seed, std::uint64_t draw, bool central,
                             std::vector<double>& v, ModelInputs& in) {
    if (draw == 200) cancel = true;
    build(seed, draw, central, v, in);
  };
  RunOptions o = opts(100000, GENERATE(1, 2));
  o.cancel = &cancel;
  std::uint64_t last_progress = 0;
  o.progress = [&last_progress](std::uint64_t done, std::uint64_t total) {
    CHECK(total == 100000);
    CHECK(done >= last_progress);
    last_progress = done;
  };
  const RunResult r = steppe::detail::run_draws(m, o);
  CHECK(r.cancelled);
  CHECK(r.draws > 0);
  CHECK(r.draws < 2000);
  CHECK(r.at("/excess_deaths/total").count == r.draws);
  CHECK(last_progress == r.draws);
  if (o.threads == 1) CHECK(r.draws == 201);  // draw 200 finishes, 201 sees the flag
}

TEST_CASE("run_draws: progress reaches the total", "[unit]") {
  RunOptions o = opts(1000, 2);
  std::uint64_t calls = 0, last = 0;
  o.progress = [&](std::uint64_t done, std::uint64_t) {
    ++calls;
    last = done;
  };
  const RunResult r = steppe::detail::run_draws(tiny_model(), o);
  CHECK_FALSE(r.cancelled);
  CHECK(last == 1000);
  CHECK(calls >= 2);
}

// ---- on scenario files ----

namespace {

const std::string repo_dir = STEPPE_REPO_DIR;
const std::string data_dir = STEPPE_TEST_DATA_DIR;

/// Σ of e(c, k) over the steps k whose year passes `pred`, then columns c0 ≤ c < c1, in order.
template <class Pred>
double ordered_sum(const Eigen::ArrayXXd& e, std::span<const StepTime> steps, int c0, int c1,
                   Pred pred) {
  double acc = 0.0;
  for (Eigen::Index k = 0; k < e.cols(); ++k)
    if (pred(steps[std::size_t(k)].year))
      for (int c = c0; c < c1; ++c) acc += e(c, k);
  return acc;
}

}  // namespace

TEST_CASE("run_draws on the famine sketch: one draw is CrisisRunner at the central values",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json");
  const RunResult r = steppe::run_draws(scenario, opts(1, 1));
  std::vector<double> values;
  ModelInputs in;
  scenario.central(values);
  scenario.build(values, in);
  const auto steps = scenario.steps();
  steppe::CrisisRunner runner(scenario.dims(), scenario.projector_options(), int(steps.size()));
  runner.run(in.initial, in.rates, 1926);
  const Eigen::ArrayXXd e =
      steppe::excess_deaths_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd lb =
      steppe::lost_births_vs_counterfactual(runner.crisis(), runner.counterfactual());
  const Eigen::ArrayXXd rb = steppe::excess_deaths_vs_baseline_rates(runner.crisis());
  const auto& out = scenario.outputs();
  auto window = [&out](int y) { return y >= out.window_first && y <= out.window_last; };
  CHECK(r.at("/excess_deaths/total").mean == ordered_sum(e, steps, 0, 4, window));
  CHECK(r.at("/excess_deaths/by_group/kazakh").mean == ordered_sum(e, steps, 0, 2, window));
  CHECK(r.at("/excess_deaths/by_group/non_kazakh").mean == ordered_sum(e, steps, 2, 4, window));
  CHECK(r.at("/excess_deaths/by_year/1932").mean ==
        ordered_sum(e, steps, 0, 4, [](int y) { return y == 1932; }));
  CHECK(r.at("/excess_deaths_rate_based/total").mean == ordered_sum(rb, steps, 0, 4, window));
  CHECK(r.at("/lost_births/total").mean == ordered_sum(lb, steps, 0, 4, window));
  CHECK_THAT(r.at("/targets/census_1939_total/modelled").mean,
             WithinRel(runner.crisis_end().total_home(), 1e-12));
  CHECK(r.at("/excess_deaths/total").mean > 0.0);
  CHECK(r.at("/excess_deaths/total").sd == 0.0);
}

TEST_CASE("run_draws on the famine sketch: 1 and 2 threads give the same bits", "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json");
  const RunResult one = steppe::run_draws(scenario, opts(300, 1, 11));
  CHECK(one.at("/excess_deaths/total").sd > 0.0);
  require_identical(one, steppe::run_draws(scenario, opts(300, 2, 11)));
}

TEST_CASE("run_draws on a rate-based scenario with targets at home and abroad", "[unit]") {
  const auto scenario = steppe::Scenario::load(data_dir + "/scenarios/sim_rate_based.json");
  const RunResult r = steppe::run_draws(scenario, opts(1, 1));
  CHECK(r.find("/excess_deaths_counterfactual/total") != nullptr);
  CHECK(r.find("/excess_deaths/by_group_sex_age/kazakh/male/20-29") == nullptr);
  CHECK(r.quantile_levels == std::vector<double>{0.05, 0.5, 0.95});

  std::vector<double> values;
  ModelInputs in;
  scenario.central(values);
  scenario.build(values, in);
  steppe::CrisisRunner runner(scenario.dims(), scenario.projector_options(),
                              int(scenario.steps().size()), /*keep_by_age=*/true);
  runner.run(in.initial, in.rates, 1926);
  // Targets: 1932-01-01 is boundary 5 (5 steps from 1926-12-17); 1933-01-01 boundary 6, abroad.
  const steppe::Accounts::Step& s5 = runner.crisis().steps()[4];
  const double kazakh_1932 = s5.population_by_age.leftCols(2).sum();
  const double abroad_1933 = runner.crisis().steps()[5].population_abroad.head(2).sum();
  const double men_20_39 = runner.crisis_end().home().col(1).segment(20, 20).sum();
  CHECK_THAT(r.at("/targets/kazakh_1932/modelled").mean, WithinRel(kazakh_1932, 1e-12));
  CHECK_THAT(r.at("/targets/kazakh_abroad_1933/modelled").mean, WithinRel(abroad_1933, 1e-12));
  CHECK_THAT(r.at("/targets/kazakh_men_20_39_1934/modelled").mean, WithinRel(men_20_39, 1e-12));
  CHECK(abroad_1933 > 0.0);
  // Census-error log-likelihood with the central bias (0.015) and sd (0.03).
  const Target& t = scenario.targets()[0];
  const double bias = values[std::size_t(t.bias)], sd = values[std::size_t(t.sd)];
  CHECK_THAT(bias, WithinAbs(0.015, 1e-15));
  const double z = (180000.0 / (kazakh_1932 * (1.0 + bias)) - 1.0) / sd;
  CHECK_THAT(r.at("/targets/kazakh_1932/log_likelihood").mean,
             WithinRel(-0.5 * z * z - 0.5 * std::log(2.0 * std::numbers::pi) - std::log(sd), 1e-9));

  const RunResult many = steppe::run_draws(scenario, opts(200, 2));
  auto mean = [&many](const std::string& p) { return many.at(p).mean; };
  for (const char* head : {"/excess_deaths", "/excess_deaths_counterfactual", "/lost_births"}) {
    INFO(head);
    const std::string h = head;
    const double total = mean(h + "/total");
    CHECK_THAT(mean(h + "/by_group/kazakh") + mean(h + "/by_group/other"), WithinRel(total, 1e-9));
    double by_year = 0.0;
    for (int y = 1930; y <= 1933; ++y) by_year += mean(h + "/by_year/" + std::to_string(y));
    CHECK_THAT(by_year, WithinRel(total, 1e-9));
  }
  double ll = 0.0;
  for (const Target& target : scenario.targets()) ll += mean("/targets/" + target.name + "/log_likelihood");
  CHECK_THAT(mean("/log_likelihood/total"), WithinRel(ll, 1e-9));
}

TEST_CASE("run_draws: an exception from the progress callback stops the run", "[unit]") {
  RunOptions o = opts(5000, 2);
  o.progress = [](std::uint64_t done, std::uint64_t) {
    if (done >= 256) throw std::runtime_error("progress bar closed");
  };
  CHECK_THROWS_WITH(steppe::detail::run_draws(tiny_model(), o), "progress bar closed");
}

TEST_CASE("run_draws: cancelled before the first draw, nothing is summarised", "[unit]") {
  const std::atomic<bool> cancel{true};
  RunOptions o = opts(1000, 2);
  o.cancel = &cancel;
  const RunResult r = steppe::detail::run_draws(tiny_model(), o);
  CHECK(r.cancelled);
  CHECK(r.draws == 0);
  CHECK(r.at("/excess_deaths/total").count == 0);
  CHECK(std::isnan(r.at("/excess_deaths/total").quantiles[0]));
  CHECK_THROWS_AS(steppe::detail::run_draws(tiny_model(), opts(0, 1)), steppe::domain_error);
}

TEST_CASE("run_draws: kept per-draw values match the summaries, whatever the thread count",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json");
  RunOptions o = opts(300, 1, 5);
  o.keep = {"/excess_deaths/total", "/log_likelihood/total"};
  const RunResult one = steppe::run_draws(scenario, o);
  REQUIRE(one.kept.size() == 600);
  double sum = 0.0;
  for (std::size_t i = 0; i < 300; ++i) sum += one.kept[2 * i];
  CHECK_THAT(sum / 300.0, WithinRel(one.at("/excess_deaths/total").mean, 1e-12));
  CHECK(one.ess == 300.0);
  o.threads = 2;
  const RunResult two = steppe::run_draws(scenario, o);
  REQUIRE(two.kept.size() == one.kept.size());
  for (std::size_t j = 0; j < one.kept.size(); ++j) CHECK(two.kept[j] == one.kept[j]);
  o.keep = {"/excess_deaths/nonsense"};
  CHECK_THROWS_AS(steppe::run_draws(scenario, o), std::out_of_range);
}

TEST_CASE("run_draws: importance weights select and weight draws", "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json");
  RunOptions o = opts(256, 2, 9);
  o.keep = {"/excess_deaths/total"};
  const RunResult prior = steppe::run_draws(scenario, o);

  SECTION("one draw with all the weight is that draw, exactly") {
    o.weights.assign(256, 0.0);
    o.weights[131] = 0.7;
    const RunResult r = steppe::run_draws(scenario, o);
    const steppe::Summary& s = r.at("/excess_deaths/total");
    CHECK(s.count == 1);
    CHECK(s.mean == prior.kept[131]);
    for (double q : s.quantiles) CHECK(q == prior.kept[131]);
    CHECK(r.ess == 1.0);
    CHECK(std::isnan(r.kept[130]));
    CHECK(r.kept[131] == prior.kept[131]);
  }
  SECTION("weights 0/1 give the mean of the draws selected; 1 and 2 threads agree") {
    o.weights.assign(256, 0.0);
    double sum = 0.0;
    int n = 0;
    for (std::size_t i = 0; i < 256; i += 3) {
      o.weights[i] = 1.0;
      sum += prior.kept[i];
      ++n;
    }
    const RunResult r = steppe::run_draws(scenario, o);
    CHECK(r.at("/excess_deaths/total").count == std::uint64_t(n));
    CHECK_THAT(r.at("/excess_deaths/total").mean, WithinRel(sum / n, 1e-12));
    CHECK_THAT(r.ess, WithinRel(double(n), 1e-12));
    o.threads = 1;
    require_identical(r, steppe::run_draws(scenario, o));
  }
  SECTION("weights that favour large tolls move the mean up") {
    o.weights.resize(256);
    for (std::size_t i = 0; i < 256; ++i) o.weights[i] = prior.kept[i] / 1e5;
    const RunResult r = steppe::run_draws(scenario, o);
    CHECK(r.at("/excess_deaths/total").mean > prior.at("/excess_deaths/total").mean);
    CHECK(r.ess < 256.0);
  }
  SECTION("bad weights are refused") {
    o.weights.assign(255, 1.0);
    CHECK_THROWS_AS(steppe::run_draws(scenario, o), steppe::domain_error);
    o.weights.assign(256, 0.0);
    CHECK_THROWS_AS(steppe::run_draws(scenario, o), steppe::domain_error);
    o.weights[3] = -1.0;
    o.weights[4] = 1.0;
    CHECK_THROWS_AS(steppe::run_draws(scenario, o), steppe::domain_error);
  }
}

TEST_CASE("run_draws: each group's balance sheet balances in every draw, at home and abroad",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(data_dir + "/scenarios/sim_rate_based.json");
  RunOptions o = opts(40, 2, 3);
  const char* items[] = {"initial", "births", "immigrants", "returnees", "net_migration", "deaths",
                         "emigrants", "final", "initial_abroad", "births_abroad", "deaths_abroad",
                         "final_abroad", "excess_deaths", "normal_deaths"};
  for (const char* g : {"kazakh", "other"})
    for (const char* item : items) o.keep.push_back(std::string("/balance/") + g + "/" + item);
  const RunResult r = steppe::run_draws(scenario, o);
  const std::size_t K = o.keep.size(), n = std::size(items);
  for (std::size_t i = 0; i < 40; ++i)
    for (std::size_t g = 0; g < 2; ++g) {
      const double* v = &r.kept[i * K + g * n];
      const double home = v[0] + v[1] + v[2] + v[3] + v[4] - v[5] - v[6];
      const double abroad = v[8] + v[9] + v[6] - v[3] - v[10];
      INFO("draw " << i << " group " << g);
      CHECK_THAT(home, WithinAbs(v[7], 1e-6 * v[0]));
      CHECK_THAT(abroad, WithinAbs(v[11], 1e-6 * v[0]));
      CHECK_THAT(v[12] + v[13], WithinRel(v[5] + v[10], 1e-12));  // excess + normal = all deaths
      if (g == 0) CHECK(v[6] > 0.0);  // the kazakh group's flight is in the books
    }
  // By year: the population at the end of the last year is the final population.
  CHECK_THAT(r.at("/balance_by_year/kazakh/1934/population_end").mean,
             WithinRel(r.at("/balance/kazakh/final").mean, 1e-12));
}

TEST_CASE("run_draws: a target's plus adds persons to the modelled count", "[unit]") {
  const auto base = steppe::Scenario::load(data_dir + "/scenarios/sim_rate_based.json");
  const auto plus = steppe::Scenario::load(
      data_dir + "/scenarios/sim_rate_based.json",
      {"/targets/2/plus=[1000, {\"uniform\": [-500, -100]}]"});
  const RunResult a = steppe::run_draws(base, opts(50, 1, 4));
  RunOptions o = opts(50, 2, 4);
  o.keep = {"/targets/kazakh_abroad_1933/modelled"};
  const RunResult b = steppe::run_draws(plus, o);
  const double shift = b.at("/targets/kazakh_abroad_1933/modelled").mean -
                       a.at("/targets/kazakh_abroad_1933/modelled").mean;
  CHECK(shift > 1000.0 - 500.0);
  CHECK(shift < 1000.0 - 100.0);
  CHECK(a.at("/targets/kazakh_1932/modelled").mean == b.at("/targets/kazakh_1932/modelled").mean);
}

TEST_CASE("run_draws: a published estimate's modelled counterpart follows its measure", "[unit]") {
  const std::string file = data_dir + "/scenarios/sim_rate_based.json";
  const auto deaths = steppe::Scenario::load(
      file, {"/published={\"source\": \"none\", \"value\": 50000, \"measure\": \"excess_deaths\", "
             "\"group\": \"kazakh\"}"});
  const auto losses = steppe::Scenario::load(
      file, {"/published={\"source\": \"none\", \"value\": 50000, \"measure\": \"losses\", "
             "\"group\": \"kazakh\"}"});
  REQUIRE(deaths.outputs().published.has_value());
  const RunResult d = steppe::run_draws(deaths, opts(1, 1));
  const RunResult l = steppe::run_draws(losses, opts(1, 1));
  CHECK(d.at("/published/modelled").mean == d.at("/excess_deaths/by_group/kazakh").mean);
  CHECK_THAT(l.at("/published/modelled").mean,
             WithinRel(d.at("/excess_deaths/by_group/kazakh").mean +
                           d.at("/abroad_at_end/by_group/kazakh").mean, 1e-12));
  CHECK(steppe::run_draws(steppe::Scenario::load(file), opts(1, 1)).find("/published/modelled") ==
        nullptr);
  CHECK_THROWS_AS(steppe::Scenario::load(file, {"/published={\"source\": \"nope\", \"value\": 1, "
                                                "\"measure\": \"losses\"}"}),
                  steppe::scenario_errors);
}

TEST_CASE("run_draws: only_kept summarises the kept metrics alone, with the same values",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(data_dir + "/scenarios/sim_rate_based.json");
  RunOptions o = opts(100, 2, 8);
  const RunResult all = steppe::run_draws(scenario, o);
  o.keep = {"/log_likelihood/total", "/excess_deaths/by_group/kazakh"};
  o.only_kept = true;
  const RunResult few = steppe::run_draws(scenario, o);
  REQUIRE(few.metrics.size() == 2);
  CHECK(few.metrics[0].path == "/excess_deaths/by_group/kazakh");  // metric order
  for (const steppe::Metric& m : few.metrics) {
    INFO(m.path);
    CHECK(m.summary.mean == all.at(m.path).mean);
    CHECK(m.summary.quantiles == all.at(m.path).quantiles);
  }
  o.weights.assign(100, 1.0);
  o.keep.clear();  // nothing summarised or kept: the weights' totals are still reported
  const RunResult none = steppe::run_draws(scenario, o);
  CHECK(none.metrics.empty());
  CHECK(none.ess == 100.0);
}

TEST_CASE("run_draws: first_draw splits a run into parts with the same draws", "[unit]") {
  const auto scenario = steppe::Scenario::load(data_dir + "/scenarios/sim_rate_based.json");
  RunOptions o = opts(300, 2, 7);
  o.keep = {"/excess_deaths/total", "/log_likelihood/total"};
  const RunResult whole = steppe::run_draws(scenario, o);
  o.draws = 100;
  o.first_draw = 200;
  const RunResult tail = steppe::run_draws(scenario, o);
  REQUIRE(tail.kept.size() == 200);
  for (std::size_t j = 0; j < tail.kept.size(); ++j) CHECK(tail.kept[j] == whole.kept[400 + j]);
  o.draws = 1;  // one draw past the first is a draw, not the central run
  o.first_draw = 5;
  CHECK(steppe::run_draws(scenario, o).kept[0] == whole.kept[10]);
}

TEST_CASE("run_draws: crisis_only gives the targets and likelihood of the full run, bit for bit",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/kazakhstan-1926-1939.json");
  RunOptions o = opts(64, 2, 3);
  o.keep = {"/log_likelihood/total", "/targets/census_1939_kazakh/modelled",
            "/targets/census_1939_male_05_09/modelled",
            "/targets/census_1937_kazakh_other_republics/modelled"};
  o.only_kept = true;
  const RunResult full = steppe::run_draws(scenario, o);
  o.crisis_only = true;
  const RunResult crisis = steppe::run_draws(scenario, o);
  REQUIRE(crisis.kept.size() == full.kept.size());
  for (std::size_t j = 0; j < full.kept.size(); ++j) CHECK(crisis.kept[j] == full.kept[j]);
  o.keep.push_back("/excess_deaths/total");  // needs the counterfactual
  CHECK_THROWS_AS(steppe::run_draws(scenario, o), steppe::domain_error);
  o.keep.pop_back();
  o.only_kept = false;
  CHECK_THROWS_AS(steppe::run_draws(scenario, o), steppe::domain_error);
}

TEST_CASE("run_draws reports a food-balance crisis' trajectories as /drivers metrics", "[unit]") {
  const auto food = steppe::Scenario::load(repo_dir + "/scenarios/kazakhstan-food-balance.json");
  REQUIRE(!food.derived_outputs().empty());
  CHECK(food.derived_outputs().front() == "/drivers/herd/total/1929");
  RunOptions o = opts(40, 2, 6);
  o.keep = {"/drivers/herd/total/1932", "/drivers/herd/horses/1932", "/drivers/herd/cattle/1932",
            "/drivers/herd/sheep_goats/1932", "/drivers/herd/camels/1932",
            "/drivers/kcal_per_person_day/kazakh/1932", "/drivers/deficit/kazakh/1932",
            "/drivers/herd/total/1929", "/drivers/grain/1930"};
  const RunResult r = steppe::run_draws(food, o);
  for (std::size_t i = 0; i < 40; ++i) {
    const double* v = &r.kept[i * o.keep.size()];
    CHECK_THAT(v[0], WithinRel(v[1] + v[2] + v[3] + v[4], 1e-12));  // total = Σ species
    CHECK(v[5] > 0.0);
    CHECK(v[6] >= 0.0);
    CHECK(v[6] <= 1.0);
    CHECK(v[0] < v[7]);  // the herd fell between 1929 and 1932
    // 1930: harvest 3.0–3.3 Mt, seed 12–20 %, procurement 1.0–1.1 Mt (the scenario's ranges)
    CHECK(v[8] >= 3.0e6 * 0.8 - 1.1e6);
    CHECK(v[8] <= 3.3e6 * 0.88 - 1.0e6);
  }
  o.threads = 1;
  const RunResult one = steppe::run_draws(food, o);
  CHECK(one.kept == r.kept);
  // An outcome-based scenario derives nothing.
  const auto outcome = steppe::Scenario::load(repo_dir + "/scenarios/kazakhstan-1926-1939.json");
  CHECK(outcome.derived_outputs().empty());
  CHECK(steppe::run_draws(outcome, opts(1, 1)).find("/drivers/herd/total/1929") == nullptr);
}

// A thread keeps the projection of a group whose parameters are those of its previous draw
// (Scenario::group_parameters): each draw's every metric must have the bits of that draw run
// alone (a fresh runner), as groups switch between unchanged and changed.
TEST_CASE("run_parameter_sets: draws that keep a group's projection give the bits of fresh runs",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json",
                                               {"/groups/1/mortality/coale_demeny/e0/female={\"uniform\": [36, 40]}"});
  const auto reads = scenario.group_parameters();
  REQUIRE(reads.size() == 2);
  // a, a, b with a's group 1, b, b with a's group 0, a; four times
  const std::vector<std::vector<double>> sets = mixed_sets(scenario, 5, 4, {0, 0, 2, 1, 3, 0});
  RunOptions o = opts(1, 1, 1);
  o.keep = steppe::metric_paths(scenario);
  const RunResult together = steppe::run_parameter_sets(scenario, sets, o);
  REQUIRE(together.kept.size() == sets.size() * o.keep.size());
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const RunResult alone = steppe::run_parameter_sets(scenario, {&sets[i], 1}, o);
    INFO("set " << i);
    std::size_t differ = 0;
    for (std::size_t m = 0; m < o.keep.size(); ++m)
      differ += std::memcmp(&alone.kept[m], &together.kept[i * o.keep.size() + m], sizeof(double)) != 0;
    CHECK(differ == 0);
  }
}

// The same with draws not run in between (zero weights) and only some metrics computed (a
// group's balance, its excess by age, a total and a target): what a kept group's cells and
// metrics hold must still be those of the last draw the thread ran.
TEST_CASE("run_parameter_sets: kept groups with skipped draws and a few metrics give fresh bits",
          "[unit]") {
  const auto scenario = steppe::Scenario::load(repo_dir + "/scenarios/famine_sketch.json",
                                               {"/groups/1/mortality/coale_demeny/e0/female={\"uniform\": [36, 40]}"});
  const auto reads = scenario.group_parameters();
  REQUIRE(reads.size() == 2);
  const std::vector<std::vector<double>> sets = mixed_sets(scenario, 9, 3, {0, 2, 0, 1, 3, 2, 0});
  std::vector<std::string> keep;
  for (const std::string& p : steppe::metric_paths(scenario))
    if (p.rfind("/balance/", 0) == 0 || p.rfind("/excess_deaths/by_group_sex_age/", 0) == 0 ||
        p == "/excess_deaths/total" || p.rfind("/targets/", 0) == 0)
      keep.push_back(p);
  REQUIRE(keep.size() > 20);
  RunOptions o = opts(1, 1, 1);
  o.keep = keep;
  o.summarise = {keep.front(), keep.back()};
  o.weights.assign(sets.size(), 1.0);
  for (std::size_t i = 2; i < sets.size(); i += 3) o.weights[i] = 0.0;  // not run
  const RunResult together = steppe::run_parameter_sets(scenario, sets, o);
  REQUIRE(together.kept.size() == sets.size() * keep.size());
  RunOptions alone_o = o;
  alone_o.weights.clear();
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (o.weights[i] == 0.0) continue;
    const RunResult alone = steppe::run_parameter_sets(scenario, {&sets[i], 1}, alone_o);
    INFO("set " << i);
    std::size_t differ = 0;
    for (std::size_t m = 0; m < keep.size(); ++m)
      differ += std::memcmp(&alone.kept[m], &together.kept[i * keep.size() + m], sizeof(double)) != 0;
    CHECK(differ == 0);
  }
}

TEST_CASE(
    "run_draws: excess deaths by age and year, on request, add up to both margins and "
    "leave every other output's bits alone",
    "[unit]") {
  const std::string sketch = repo_dir + "/scenarios/famine_sketch.json";
  const auto plain = steppe::Scenario::load(sketch);
  const auto crossed = steppe::Scenario::load(sketch, {"/outputs/by_age_year=true"});
  const RunResult a = steppe::run_draws(plain, opts(200, 2, 5));
  const RunResult b = steppe::run_draws(crossed, opts(200, 1, 5));
  CHECK(a.find("/excess_deaths/by_group_sex_age_year/kazakh/female/0-9/1932") == nullptr);
  // Every output of the plain run, with the same bits.
  std::size_t n_crossed = 0;
  for (const auto& m : b.metrics)
    if (m.path.rfind("/excess_deaths/by_group_sex_age_year/", 0) == 0) ++n_crossed;
  CHECK(n_crossed == 2 * 2 * 11 * 4);  // groups × sexes × age groups (0-9 … 100+) × 1930–1933
  REQUIRE(b.metrics.size() == a.metrics.size() + n_crossed);
  for (const auto& m : a.metrics) {
    const steppe::Summary* s = b.find(m.path);
    REQUIRE(s != nullptr);
    INFO(m.path);
    CHECK(std::bit_cast<std::uint64_t>(s->mean) == std::bit_cast<std::uint64_t>(m.summary.mean));
    CHECK(std::bit_cast<std::uint64_t>(s->sd) == std::bit_cast<std::uint64_t>(m.summary.sd));
  }
  // Over the window's years: the excess by age; over sexes and ages: the excess by year.
  const std::vector<std::string> ages = {"0-9",   "10-19", "20-29", "30-39", "40-49", "50-59",
                                         "60-69", "70-79", "80-89", "90-99", "100+"};
  const std::vector<std::string> years = {"1930", "1931", "1932", "1933"};
  auto mean = [&](const std::string& p) { return b.at(p).mean; };
  for (const std::string g : {"kazakh", "non_kazakh"}) {
    for (const std::string sex : {"female", "male"})
      for (const std::string& age : ages) {
        double sum = 0;
        for (const std::string& y : years)
          sum +=
              mean("/excess_deaths/by_group_sex_age_year/" + g + "/" + sex + "/" + age + "/" + y);
        const double margin = mean("/excess_deaths/by_group_sex_age/" + g + "/" + sex + "/" + age);
        CHECK_THAT(sum, WithinAbs(margin, 1e-9 * (1.0 + std::abs(margin))));
      }
    for (const std::string& y : years) {
      double sum = 0;
      for (const std::string sex : {"female", "male"})
        for (const std::string& age : ages)
          sum +=
              mean("/excess_deaths/by_group_sex_age_year/" + g + "/" + sex + "/" + age + "/" + y);
      const double margin = mean("/excess_deaths/by_group_year/" + g + "/" + y);
      CHECK_THAT(sum, WithinAbs(margin, 1e-9 * (1.0 + std::abs(margin))));
    }
  }
  CHECK(mean("/excess_deaths/by_group_sex_age_year/kazakh/female/0-9/1932") > 0.0);
  // 1 and 2 threads: the same bits.
  require_identical(b, steppe::run_draws(crossed, opts(200, 2, 5)));
  // Only under the counterfactual headline (Accounts keep no baseline deaths by age): asked for
  // with the rate-based one, it is an error of the scenario.
  CHECK_THROWS_WITH(
      steppe::Scenario::load(sketch, {"/outputs/by_age_year=true", "/outputs/headline=rate_based"}),
      Catch::Contains("/outputs/by_age_year: expected false with \"headline\": \"rate_based\""));
}
