// SPDX-License-Identifier: MIT
// Writers of `steppe run` and `steppe sweep` on hand-built results: JSON keys and nesting,
// quantile key names, CSV layout, and the numbers a reader sees in the table.
#include "steppe/io/run_output.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "steppe/error.hpp"
#include "steppe/version.hpp"
#include "support/text.hpp"

using Catch::Matchers::Contains;
using ojson = nlohmann::ordered_json;

namespace {

using steppe::test::lines;

steppe::Summary summary(double mean, double sd, std::vector<double> q) {
  return steppe::Summary{2000, mean, sd, std::move(q)};
}

// A result as run_draws would make it for a two-group scenario (numbers chosen by hand).
steppe::RunResult hand_result() {
  steppe::RunResult r;
  r.seed = 7;
  r.draws = 2000;
  r.quantile_levels = {0.025, 0.1, 0.5, 0.9, 0.975};
  r.metrics = {
      {"/excess_deaths/total", summary(1.25e6, 1.3e5, {1.0e6, 1.1e6, 1234400, 1.4e6, 1.5e6})},
      {"/excess_deaths/by_group/kazakh", summary(1.1e6, 1e5, {9.5e5, 1e6, 1.15e6, 1.3e6, 1.38e6})},
      {"/excess_deaths/by_group/non_kazakh", summary(8.4e4, 9e3, {6e4, 7e4, 84000, 9e4, 1.1e5})},
      {"/excess_deaths/by_group_place/kazakh/home", summary(1e6, 0, {0, 0, 1.02e6, 0, 0})},
      {"/excess_deaths/by_group_place/kazakh/abroad", summary(1e5, 0, {0, 0, 1.3e5, 0, 0})},
      {"/excess_deaths/by_year/1932", summary(6e5, 5e4, {5e5, 5.5e5, 6e5, 6.5e5, 7e5})},
      {"/excess_deaths_rate_based/total", summary(1.3e6, 1e5, {1.1e6, 1.2e6, 1.3e6, 1.4e6, 1.5e6})},
      {"/lost_births/total", summary(4e5, 3e4, {3.5e5, 3.7e5, 4.0e5, 4.3e5, 4.6e5})},
      {"/net_emigration/total", summary(5e5, 4e4, {4.2e5, 4.5e5, 5e5, 5.5e5, 5.8e5})},
      {"/net_emigration/by_group/kazakh", summary(5e5, 4e4, {4.2e5, 4.5e5, 5e5, 5.5e5, 5.8e5})},
      {"/emigrants/by_group/kazakh", summary(6e5, 0, {0, 0, 612000, 0, 0})},
      {"/returnees/by_group/kazakh", summary(1e5, 0, {0, 0, 98000, 0, 0})},
      {"/deaths_abroad/total", summary(1.5e5, 2e4, {1.1e5, 1.2e5, 1.5e5, 1.8e5, 1.9e5})},
      {"/targets/census_1937_kazakh/modelled",
       summary(2.2e6, 5e4, {2.1e6, 2.15e6, 2214000, 2.25e6, 2.3e6})},
      {"/targets/census_1937_kazakh/relative_deviation",
       summary(0.015, 0.02, {-0.03, -0.01, 0.0149, 0.04, 0.05})},
      {"/log_likelihood/total", summary(-3.5, 1.0, {-6, -5, -3.25, -2.5, -2})},
  };
  r.clamps = 3;
  r.clamped_persons = 1234.5;
  return r;
}

steppe::RunDescription hand_description() {
  steppe::RunDescription d;
  d.file = "scenarios/x.json";
  d.title = "A hand-made scenario";
  d.window_first = 1930;
  d.window_last = 1933;
  d.targets = {{"census_1937_kazakh", 1937.0137, 2181520, "kazakh", "both", "0+", false},
               {"census_1939_women", 1939.04, 3000000, "all", "female", "15-49", false}};
  return d;
}

}  // namespace

TEST_CASE("quantile keys: q + percent, three digits when not a whole percent", "[io]") {
  auto [level, key] = GENERATE(table<double, const char*>({{0.5, "q50"},
                                                           {0.1, "q10"},
                                                           {0.9, "q90"},
                                                           {0.025, "q025"},
                                                           {0.975, "q975"},
                                                           {0.005, "q005"},
                                                           {0.05, "q5"},
                                                           {0.0025, "q0025"},
                                                           {0.9975, "q9975"},
                                                           {0.125, "q125"},
                                                           {0.0, "q0"},
                                                           {1.0, "q100"}}));
  CAPTURE(level);
  CHECK(steppe::quantile_key(level) == key);
}

TEST_CASE("run JSON: documented keys in order, metrics nested by their pointers", "[io]") {
  std::ostringstream out;
  steppe::write_run_json(out, hand_description(), hand_result());
  const ojson doc = ojson::parse(out.str());

  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{
                    "steppe_version", "scenario", "seed", "draws", "quantiles", "window",
                    "definition", "excess_deaths", "excess_deaths_rate_based", "lost_births",
                    "net_emigration", "emigrants", "returnees", "deaths_abroad", "targets",
                    "log_likelihood", "clamps", "clamped_persons"});
  CHECK(doc.at("steppe_version") == steppe::version);
  CHECK(doc.at("scenario") ==
        ojson({{"file", "scenarios/x.json"}, {"title", "A hand-made scenario"}}));
  CHECK(doc.at("seed") == 7);
  CHECK(doc.at("draws") == 2000);
  CHECK_FALSE(doc.contains("cancelled"));
  CHECK(doc.at("quantiles") == ojson({0.025, 0.1, 0.5, 0.9, 0.975}));
  CHECK(doc.at("window") == ojson({1930, 1933}));
  CHECK(doc.at("definition") == "counterfactual");

  const ojson& total = doc.at("excess_deaths").at("total");
  std::vector<std::string> leaf;
  for (const auto& [k, v] : total.items()) leaf.push_back(k);
  CHECK(leaf == std::vector<std::string>{"mean", "sd", "q025", "q10", "q50", "q90", "q975"});
  CHECK(total.at("mean") == 1.25e6);
  CHECK(total.at("q50") == 1234400.0);
  CHECK(total.at("q975") == 1.5e6);
  // A year is an object key, not an array index.
  CHECK(doc.at("excess_deaths").at("by_year").is_object());
  CHECK(doc.at("excess_deaths").at("by_year").at("1932").at("q50") == 6e5);
  CHECK(doc.at("excess_deaths").at("by_group_place").at("kazakh").at("abroad").at("q50") == 1.3e5);

  const ojson& target = doc.at("targets").at("census_1937_kazakh");
  std::vector<std::string> tkeys;
  for (const auto& [k, v] : target.items()) tkeys.push_back(k);
  CHECK(tkeys == std::vector<std::string>{"observed", "date", "group", "sex", "ages", "abroad",
                                          "modelled", "relative_deviation"});
  CHECK(target.at("observed") == 2181520.0);
  CHECK(target.at("group") == "kazakh");
  CHECK(target.at("modelled").at("q50") == 2214000.0);
  // A target without metrics is still described.
  CHECK(doc.at("targets").at("census_1939_women").at("ages") == "15-49");
  CHECK(doc.at("targets").at("census_1939_women").at("sex") == "female");
  CHECK(doc.at("clamps") == 3);
  CHECK(doc.at("clamped_persons") == 1234.5);
}

TEST_CASE("run JSON: a cancelled run says so, the rate-based headline is named", "[io]") {
  steppe::RunResult r = hand_result();
  r.cancelled = true;
  r.draws = 300;
  steppe::RunDescription d = hand_description();
  d.headline_counterfactual = false;
  std::ostringstream out;
  steppe::write_run_json(out, d, r);
  const ojson doc = ojson::parse(out.str());
  CHECK(doc.at("cancelled") == true);
  CHECK(doc.at("draws") == 300);
  CHECK(doc.at("definition") == "rate_based");
}

TEST_CASE("run JSON: a metric below another metric is refused", "[io]") {
  steppe::RunResult r;
  r.quantile_levels = {0.5};
  r.metrics = {{"/a/b", summary(1, 0, {1})}, {"/a/b/c", summary(2, 0, {2})}};
  std::ostringstream out;
  CHECK_THROWS_AS(steppe::write_run_json(out, hand_description(), r), steppe::error);
  r.metrics = {{"/a/b", summary(1, 0, {1})}, {"/a/b", summary(2, 0, {2})}};
  CHECK_THROWS_AS(steppe::write_run_json(out, hand_description(), r), steppe::error);
}

TEST_CASE("run CSV: one row per metric, metric = pointer, shortest decimals", "[io]") {
  std::ostringstream out;
  steppe::write_run_csv(out, hand_result());
  const auto l = lines(out.str());
  REQUIRE(l.size() == 1 + hand_result().metrics.size());
  CHECK(l[0] == "metric,mean,sd,q025,q10,q50,q90,q975");
  CHECK(l[1] == "/excess_deaths/total,1250000,130000,1000000,1100000,1234400,1400000,1500000");
  CHECK(l[15] ==
        "/targets/census_1937_kazakh/relative_deviation,0.015,0.02,-0.03,-0.01,0.0149,0.04,0.05");
}

TEST_CASE("run table: medians and 95 % ranges in thousands, as in a paper", "[io]") {
  std::ostringstream out;
  steppe::write_run_table(out, hand_description(), hand_result());
  const std::string t = out.str();
  CAPTURE(t);
  const auto l = lines(t);
  CHECK(l.at(0) == "A hand-made scenario");
  CHECK_THAT(t, Contains("2000 draws, seed 7."));
  CHECK_THAT(t, Contains("Excess deaths 1930–1933, counterfactual (at home and abroad): "
                         "1,234,000 (95 % range 1,000,000–1,500,000)"));
  CHECK_THAT(t, Contains("kazakh                 1,150,000 (95 % range 950,000–1,380,000); "
                         "at home 1,020,000, abroad 130,000"));
  CHECK_THAT(t, Contains("non_kazakh                84,000 (95 % range 60,000–110,000)"));
  CHECK_THAT(t, Contains("rate-based definition  1,300,000 (95 % range 1,100,000–1,500,000)"));
  CHECK_THAT(
      t, Contains("Lost births 1930–1933, counterfactual: 400,000 (95 % range 350,000–460,000)"));
  CHECK_THAT(t, Contains("Net emigration 1930–1933: 500,000 (95 % range 420,000–580,000)"));
  CHECK_THAT(t, Contains("; emigrants 612,000, returnees 98,000"));
  CHECK_THAT(t, Contains("Deaths abroad 1930–1933: 150,000 (95 % range 110,000–190,000)"));
  // Target row: observed, modelled median and range, median relative deviation.
  CHECK_THAT(t, Contains("census_1937_kazakh  kazakh, both, ages 0+"));
  CHECK_THAT(t, Contains("1937.01  2,182,000  2,214,000 (2,100,000–2,300,000)"));
  CHECK_THAT(t, Contains("modelled (95 % range)"));
  CHECK_THAT(t, Contains("+1.5 %"));
  CHECK_THAT(t, Contains("log-likelihood: -3.2 (95 % range -6.0 to -2.0) nats"));
  CHECK_THAT(t, Contains("Clamped out-flows: 3 over all draws (1235 persons"));
}

TEST_CASE("run table: one draw shows values without ranges", "[io]") {
  steppe::RunResult r;
  r.draws = 1;
  r.seed = 1;
  r.quantile_levels = {0.025, 0.5, 0.975};
  r.metrics = {{"/excess_deaths/total", summary(-1499.0, 0, {-1499.0, -1499.0, -1499.0})}};
  std::ostringstream out;
  steppe::write_run_table(out, hand_description(), r);
  CHECK_THAT(out.str(), Contains("1 draw (central values), seed 1."));
  CHECK_THAT(out.str(), Contains("counterfactual (at home and abroad): -1,000\n"));
  CHECK_THAT(out.str(), !Contains("range"));
}

TEST_CASE("sweep CSV: grid values then the headline summaries, one row per combination", "[io]") {
  steppe::RunResult a = hand_result(), b = hand_result();
  b.metrics.front().summary.mean = 2e6;
  const std::vector<std::string> grid{"/crisis/kazakh/flight/scale", "/outputs/headline"};
  const std::vector<steppe::SweepPoint> points{{{"0.5", "counterfactual"}, a},
                                               {{"[1,2]", "rate_based"}, b}};
  CHECK(steppe::sweep_metrics(points) ==
        std::vector<std::string>{"/excess_deaths/total", "/lost_births/total",
                                 "/net_emigration/total", "/deaths_abroad/total",
                                 "/log_likelihood/total", "/excess_deaths/by_group/kazakh",
                                 "/excess_deaths/by_group/non_kazakh"});
  std::ostringstream out;
  steppe::write_sweep_csv(out, grid, points);
  const auto l = lines(out.str());
  REQUIRE(l.size() == 3);
  CHECK(l[0].rfind("/crisis/kazakh/flight/scale,/outputs/headline,/excess_deaths/total/mean,"
                   "/excess_deaths/total/sd,/excess_deaths/total/q025,/excess_deaths/total/q10,"
                   "/excess_deaths/total/q50,/excess_deaths/total/q90,/excess_deaths/total/q975,"
                   "/lost_births/total/mean,",
                   0) == 0);
  CHECK(l[1].rfind("0.5,counterfactual,1250000,130000,1000000,1100000,1234400,1400000,1500000,",
                   0) == 0);
  CHECK(l[2].rfind("\"[1,2]\",rate_based,2000000,", 0) == 0);
  // 2 grid columns + 7 metrics × (mean, sd, 5 quantiles).
  CHECK(std::count(l[0].begin(), l[0].end(), ',') == 2 + 7 * 7 - 1);
}

TEST_CASE("sweep JSON: values as JSON (or bare words), metrics nested per combination", "[io]") {
  const std::vector<std::string> grid{"/crisis/kazakh/flight/scale", "/outputs/headline"};
  const std::vector<steppe::SweepPoint> points{{{"0.5", "counterfactual"}, hand_result()},
                                               {{"1.5", "\"rate_based\""}, hand_result()}};
  std::ostringstream out;
  steppe::write_sweep_json(out, hand_description(), grid, points);
  const ojson doc = ojson::parse(out.str());
  CHECK(doc.at("grid") == ojson(grid));
  CHECK(doc.at("seed") == 7);
  CHECK(doc.at("draws") == 2000);
  REQUIRE(doc.at("combinations").size() == 2);
  const ojson& c = doc.at("combinations").at(1);
  CHECK(c.at("values").at("/crisis/kazakh/flight/scale") == 1.5);
  CHECK(c.at("values").at("/outputs/headline") == "rate_based");
  CHECK(doc.at("combinations").at(0).at("values").at("/outputs/headline") == "counterfactual");
  CHECK(c.at("excess_deaths").at("total").at("q50") == 1234400.0);
  CHECK(c.at("excess_deaths").at("by_group").at("kazakh").at("q975") == 1.38e6);
  CHECK(c.at("log_likelihood").at("total").at("mean") == -3.5);
  CHECK_FALSE(c.contains("targets"));  // only the headline metrics
}

TEST_CASE("describe_run: what the writers need from a scenario file", "[io]") {
  const auto s = steppe::Scenario::load(STEPPE_REPO_DIR "/scenarios/famine_sketch.json");
  const steppe::RunDescription d = steppe::describe_run(s);
  CHECK(d.file == s.file());
  CHECK(d.title == s.meta().title);
  CHECK(d.window_first == 1930);
  CHECK(d.window_last == 1933);
  CHECK(d.headline_counterfactual);
  REQUIRE(d.targets.size() == 2);
  CHECK(d.targets[0].name == "census_1937_kazakh");
  CHECK(d.targets[0].group == "kazakh");
  CHECK(d.targets[0].sex == "both");
  CHECK(d.targets[0].ages == "0+");
  CHECK(d.targets[0].observed == 2181520.0);
  CHECK(d.targets[1].group == "all");
  const auto r = steppe::Scenario::load(STEPPE_REPO_DIR "/scenarios/famine_sketch.json",
                                        {"/outputs/headline=rate_based"});
  CHECK_FALSE(steppe::describe_run(r).headline_counterfactual);
}

TEST_CASE("run output: the published estimate and the balance sheet, in JSON and the table",
          "[io]") {
  const auto scenario = steppe::Scenario::load(
      std::string(STEPPE_TEST_DATA_DIR) + "/scenarios/sim_rate_based.json",
      {"/published={\"source\": \"none\", \"value\": 50000, \"low\": 40000, \"high\": 60000, "
       "\"measure\": \"losses\", \"group\": \"kazakh\", \"note\": \"made up\"}"});
  steppe::RunOptions o;
  o.draws = 20;
  o.threads = 1;
  const steppe::RunResult r = steppe::run_draws(scenario, o);
  std::ostringstream js;
  steppe::write_run_json(js, scenario, r);
  const ojson doc = ojson::parse(js.str());
  const ojson& p = doc.at("published");
  CHECK(p.at("value") == 50000);
  CHECK(p.at("low") == 40000);
  CHECK(p.at("measure") == "losses");
  CHECK(p.at("group") == "kazakh");
  CHECK(p.at("citation") == "made up for tests/unit/simulation_test.cpp");
  CHECK(p.at("modelled").at("mean") == r.at("/published/modelled").mean);
  CHECK(doc.at("balance").at("kazakh").at("final").at("mean") == r.at("/balance/kazakh/final").mean);
  std::ostringstream table;
  steppe::write_run_table(table, scenario, r);
  CHECK_THAT(table.str(), Contains("Published estimate (none): 50,000 (range 40,000–60,000)"));
  CHECK_THAT(table.str(), Contains("modelled, same definition: "));
  CHECK_THAT(table.str(), Contains("Balance sheet, kazakh, whole projection"));
  CHECK_THAT(table.str(), Contains("= population at the end"));
  CHECK_THAT(table.str(), Contains("  1934  "));
}
