// SPDX-License-Identifier: MIT
// compare: where two scenarios differ, the Shapley attribution of their headline gap (one
// factor takes it all, the attributions add up, a factor that changes nothing gets exactly 0,
// the values match the formula on hybrids built independently with --set), errors, and the
// JSON writer's keys.
#include "steppe/compare.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "steppe/error.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::CompareOptions;
using steppe::CompareResult;

namespace {

const std::filesystem::path dir = std::filesystem::path(STEPPE_TEST_DATA_DIR) / "compare";

CompareOptions few_draws(std::uint64_t draws = 12) {
  CompareOptions o;
  o.run.draws = draws;
  o.run.seed = 7;
  o.run.threads = 2;
  return o;
}

const steppe::Attribution& factor(const CompareResult& r, const std::string& name) {
  for (const steppe::Attribution& a : r.attribution)
    if (a.factor == name) return a;
  FAIL("no factor \"" << name << "\"");
  throw;
}

// The headline (/excess_deaths/total) of every draw of `file` with `sets`.
std::vector<double> headline(const std::filesystem::path& file,
                             const std::vector<std::string>& sets, const steppe::RunOptions& base) {
  steppe::RunOptions o = base;
  o.keep = {"/excess_deaths/total"};
  return steppe::run_draws(steppe::Scenario::load(file, sets), o).kept;
}

}  // namespace

TEST_CASE("scenario_differences: leaves are distributions, series and number arrays",
          "[unit][compare]") {
  const std::string a = R"({"meta": {"title": "a"},
    "groups": [{"fertility": {"tfr": {"1927": 6, "1935": 5}, "srb": 1.05},
                "initial_population": {"undercount": {"uniform": [0, 0.04]}}}],
    "crisis": {"kazakh": {"flight": {"rate": 0.1}}},
    "outputs": {"window": [1930, 1933]}})";
  const std::string b = R"({"meta": {"title": "b"},
    "groups": [{"fertility": {"tfr": {"1927": 6, "1935": 4}, "srb": 1.05},
                "initial_population": {"undercount": {"uniform": [0, 0.08]}}}],
    "crisis": {"kazakh": {"flight": {"rate": 0.1}, "return": {"rate": 0.2, "enabled": true}}},
    "outputs": {"window": [1930, 1934]}})";
  CHECK(steppe::scenario_differences(a, b) ==
        std::vector<std::string>{"/crisis/kazakh/return/enabled", "/crisis/kazakh/return/rate",
                                 "/groups/0/fertility/tfr",
                                 "/groups/0/initial_population/undercount", "/outputs/window"});
  CHECK(steppe::scenario_differences(a, a).empty());
  // "published" is compared (its measure and group) only when both have it.
  const std::string pa =
      R"({"published": {"source": "x", "value": 1, "measure": "excess_deaths"}})";
  const std::string pb = R"({"published": {"source": "y", "value": 2, "measure": "losses"}})";
  CHECK(steppe::scenario_differences(pa, pb) == std::vector<std::string>{"/published/measure"});
  CHECK(steppe::scenario_differences(pa, "{}").empty());
}

TEST_CASE("compare: a difference in one field is attributed wholly to its factor",
          "[unit][compare]") {
  const CompareResult r = steppe::compare(dir / "base.json", dir / "more_flight.json", few_draws());
  REQUIRE(r.draws == 12);
  REQUIRE(r.attribution.size() == 1);
  const steppe::Attribution& flight = r.attribution[0];
  CHECK(flight.factor == "flight, returns and deaths abroad");
  CHECK(flight.fields == std::vector<std::string>{"/crisis/kazakh/flight/rate"});
  CHECK(r.headline == "/excess_deaths/total");
  CHECK(r.hybrids_run == 2);
  REQUIRE(flight.per_draw.size() == 12);
  for (std::size_t i = 0; i < 12; ++i)
    CHECK(flight.per_draw[i] == r.b_per_draw[i] - r.a_per_draw[i]);
  CHECK(flight.value.mean == r.difference.mean);
  CHECK(flight.value.q025 == r.difference.q025);
  CHECK(flight.value.q975 == r.difference.q975);
  // More flight moves people out of the famine's reach at home: the gap is real, not zero.
  CHECK(r.difference.mean != 0.0);
  CHECK(r.a_per_draw != r.b_per_draw);
}

TEST_CASE("compare: attributions add up to the difference, draw by draw", "[unit][compare]") {
  const CompareResult r =
      steppe::compare(dir / "base.json", dir / "three_factors.json", few_draws());
  REQUIRE(r.attribution.size() == 4);
  CHECK(r.exact);
  CHECK(r.hybrids_run == 16);
  CHECK(r.attribution[0].factor == "base population and undercount");
  CHECK(r.attribution[1].factor == "fertility");
  CHECK(r.attribution[2].factor == "flight, returns and deaths abroad");
  CHECK(r.attribution[3].factor == "census corrections");
  CHECK(r.attribution[3].fields == std::vector<std::string>{"/targets/0/value"});

  double sum_of_means = 0;
  for (const auto& a : r.attribution) sum_of_means += a.value.mean;
  CHECK_THAT(sum_of_means, WithinRel(r.difference.mean, 1e-9));
  for (std::size_t i = 0; i < r.draws; ++i) {
    double sum = 0;
    for (const auto& a : r.attribution) sum += a.per_draw[i];
    CHECK_THAT(sum, WithinRel(r.b_per_draw[i] - r.a_per_draw[i], 1e-9));
  }
  // A census value changes no death: on common random numbers its share is exactly zero.
  for (double x : factor(r, "census corrections").per_draw) CHECK(x == 0.0);
  for (const char* f :
       {"base population and undercount", "fertility", "flight, returns and deaths abroad"})
    CHECK(factor(r, f).value.mean != 0.0);
}

TEST_CASE("compare: Shapley values of two factors match hybrids built with --set",
          "[unit][compare]") {
  const std::string flight =
      "/crisis/kazakh/flight/rate={\"1928\": 0, \"1930\": 0.25, \"1931\": 0}";
  const std::string tfr = "/groups/0/fertility/tfr=7.5";
  CompareOptions o = few_draws(8);
  o.sets_b = {flight, tfr};
  const CompareResult r = steppe::compare(dir / "base.json", dir / "base.json", o);
  REQUIRE(r.attribution.size() == 2);

  const auto none = headline(dir / "base.json", {}, o.run);
  const auto only_flight = headline(dir / "base.json", {flight}, o.run);
  const auto only_tfr = headline(dir / "base.json", {tfr}, o.run);
  const auto both = headline(dir / "base.json", {flight, tfr}, o.run);
  for (std::size_t i = 0; i < 8; ++i) {
    const double phi_flight = 0.5 * (only_flight[i] - none[i]) + 0.5 * (both[i] - only_tfr[i]);
    const double phi_tfr = 0.5 * (only_tfr[i] - none[i]) + 0.5 * (both[i] - only_flight[i]);
    CHECK_THAT(factor(r, "flight, returns and deaths abroad").per_draw[i],
               WithinAbs(phi_flight, 1e-6));
    CHECK_THAT(factor(r, "fertility").per_draw[i], WithinAbs(phi_tfr, 1e-6));
    CHECK(r.a_per_draw[i] == none[i]);
    CHECK(r.b_per_draw[i] == both[i]);
  }
}

TEST_CASE("compare: identical scenarios differ by nothing", "[unit][compare]") {
  const CompareResult r =
      steppe::compare(dir / "base.json", dir / "same_as_base.json", few_draws());
  CHECK(r.attribution.empty());
  CHECK(r.difference.mean == 0.0);
  CHECK(r.difference.q025 == 0.0);
  CHECK(r.difference.q975 == 0.0);
  CHECK(r.a.mean > 0.0);
  CHECK(r.a.mean == r.b.mean);
}

TEST_CASE("compare: --factor regroups fields", "[unit][compare]") {
  CompareOptions o = few_draws(4);
  o.factors = {{"famine response", {"/crisis/*/flight", "/groups/*/fertility"}}};
  const CompareResult r = steppe::compare(dir / "base.json", dir / "three_factors.json", o);
  REQUIRE(r.attribution.size() == 3);
  CHECK(r.attribution[0].factor == "famine response");
  CHECK(r.attribution[0].fields ==
        std::vector<std::string>{"/crisis/kazakh/flight/rate", "/groups/0/fertility/tfr"});
}

TEST_CASE("compare: scenarios that cannot be aligned are refused with the reason",
          "[unit][compare]") {
  const auto groups = dir / "other_groups.json";
  CHECK_THROWS_MATCHES(
      steppe::compare(dir / "base.json", groups, few_draws(2)), steppe::input_error,
      Catch::Matchers::Predicate<steppe::input_error>([&](const steppe::input_error& e) {
        return e.file() == groups.string() && e.pointer() == "/groups" &&
               e.reason().find("[kazakh, russian] against [kazakh, other]") != std::string::npos;
      }));
  const auto shorter = dir / "shorter.json";
  CHECK_THROWS_MATCHES(
      steppe::compare(dir / "base.json", shorter, few_draws(2)), steppe::input_error,
      Catch::Matchers::Predicate<steppe::input_error>([&](const steppe::input_error& e) {
        return e.file() == shorter.string() && e.pointer() == "/projection" &&
               e.reason().find("4 steps") != std::string::npos;
      }));
  // A bad --set names its pointer, as everywhere else.
  CompareOptions o = few_draws(2);
  o.sets_b = {"/groups/0/fertility/srb=2"};
  CHECK_THROWS_WITH(steppe::compare(dir / "base.json", dir / "base.json", o),
                    Contains("--set:/groups/0/fertility/srb: "));
}

TEST_CASE("compare: the JSON output has the documented keys, and adds up", "[unit][compare]") {
  const CompareResult r =
      steppe::compare(dir / "base.json", dir / "three_factors.json", few_draws(6));
  std::ostringstream text;
  steppe::write_compare_json(text, r);
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text.str());
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"steppe_version", "a", "b", "headline", "seed", "draws",
                                         "posterior", "exact", "permutations", "factors_used", "difference",
                                         "attribution"});
  const std::vector<std::string> summary{"mean", "sd", "q025", "q10", "q50", "q90", "q975"};
  std::vector<std::string> diff_keys;
  for (const auto& [k, v] : doc.at("difference").items()) diff_keys.push_back(k);
  CHECK(diff_keys == summary);
  for (const char* side : {"a", "b"})
    for (const std::string& k : summary) CHECK(doc.at(side).at(k).is_number());
  CHECK(doc.at("a").at("file") == (dir / "base.json").string());
  CHECK(doc.at("draws") == 6);
  CHECK(doc.at("seed") == 7);
  double sum = 0;
  REQUIRE(doc.at("attribution").size() == 4);
  for (const auto& a : doc.at("attribution")) {
    std::vector<std::string> k;
    for (const auto& [key, v] : a.items()) k.push_back(key);
    CHECK(k == std::vector<std::string>{"factor", "fields", "mean", "q025", "q975"});
    sum += a.at("mean").get<double>();
  }
  CHECK_THAT(sum, WithinRel(doc.at("difference").at("mean").get<double>(), 1e-9));
  CHECK(doc.at("factors_used").size() == 4);
}

TEST_CASE("compare: beyond ten factors, Shapley values from sampled orders still add up",
          "[unit][compare]") {
  const std::vector<std::string> fields{"/crisis/kazakh/flight/rate",
                                        "/crisis/kazakh/return/rate",
                                        "/groups/0/fertility/srb",
                                        "/groups/0/fertility/tfr",
                                        "/groups/0/initial_population/female",
                                        "/groups/0/initial_population/male",
                                        "/groups/0/initial_population/undercount",
                                        "/groups/0/mortality/coale_demeny/e0/male",
                                        "/groups/1/fertility/tfr",
                                        "/groups/1/mortality/coale_demeny/e0",
                                        "/targets/0/value"};
  CompareOptions o = few_draws(2);
  o.run.threads = 1;  // ~2,000 hybrids of two draws each: threads would cost more than they save
  for (const std::string& f : fields) o.factors.push_back({f, {f}});  // one factor per field
  const CompareResult r = steppe::compare(dir / "base.json", dir / "eleven_fields.json", o);
  REQUIRE(r.attribution.size() == 11);
  CHECK_FALSE(r.exact);
  CHECK(r.permutations == 2000);
  CHECK(r.hybrids_run > 11);
  CHECK(r.hybrids_run <= 2048);
  for (std::size_t f = 0; f < 11; ++f)
    CHECK(r.attribution[f].fields == std::vector<std::string>{fields[f]});
  for (std::size_t i = 0; i < r.draws; ++i) {
    double sum = 0;
    for (const auto& a : r.attribution) sum += a.per_draw[i];
    CHECK_THAT(sum, WithinRel(r.b_per_draw[i] - r.a_per_draw[i], 1e-9));
  }
  for (double x : factor(r, "/targets/0/value").per_draw) CHECK(x == 0.0);
}

TEST_CASE("compare: a scenario's compare_factors regroup fields, --factor overrides them",
          "[unit][compare]") {
  CompareOptions o = few_draws(3);
  const CompareResult r = steppe::compare(dir / "base.json", dir / "regrouped.json", o);
  REQUIRE(r.attribution.size() == 3);
  CHECK(r.attribution[0].factor == "famine response");
  CHECK(r.attribution[0].fields ==
        std::vector<std::string>{"/crisis/kazakh/flight/rate", "/groups/0/fertility/tfr"});

  o.factors = {{"flight alone", {"/crisis/kazakh/flight"}}};
  const CompareResult c = steppe::compare(dir / "base.json", dir / "regrouped.json", o);
  REQUIRE(c.attribution.size() == 4);
  CHECK(c.attribution[0].factor == "flight alone");
  CHECK(c.attribution[1].factor == "famine response");
  CHECK(c.attribution[1].fields == std::vector<std::string>{"/groups/0/fertility/tfr"});

  CHECK_THROWS_WITH(
      steppe::Scenario::load(dir / "base.json", {"/compare_factors={\"x\": \"/crisis\"}"}),
      Contains("/compare_factors/x: expected an array of JSON pointer prefixes"));
  CHECK_THROWS_WITH(
      steppe::Scenario::load(dir / "base.json", {"/compare_factors={\"x\": [\"crisis\"]}"}),
      Contains("/compare_factors/x/0: expected a JSON pointer prefix"));
}

TEST_CASE("compare: a shared distribution goes with the fields that draw from it",
          "[unit][compare]") {
  CompareOptions o = few_draws(3);
  o.sets_b = {R"(/distributions/severity={"uniform": [1.0, 2.0]})"};
  const CompareResult r = steppe::compare(dir / "base.json", dir / "base.json", o);
  REQUIRE(r.attribution.size() == 1);
  CHECK(r.attribution[0].factor == "famine mortality");  // only the famine intensity uses it
  CHECK(r.attribution[0].fields == std::vector<std::string>{"/distributions/severity"});
  CHECK(r.difference.mean > 0);

  // Drawn by flight too: then it is a factor of its own.
  const std::string flight =
      R"(/crisis/kazakh/flight/rate={"values": {"1928": 0, "1930": 0.1, "1931": 0}, "scale": {"shared": "severity"}})";
  o.sets_a = {flight};
  o.sets_b.push_back(flight);
  const CompareResult s = steppe::compare(dir / "base.json", dir / "base.json", o);
  REQUIRE(s.attribution.size() == 1);
  CHECK(s.attribution[0].factor == "shared draw severity");
}

TEST_CASE("compare: two published tolls are compared on their own measures", "[unit][compare]") {
  const std::filesystem::path lit =
      std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" / "literature";
  const CompareResult r =
      steppe::compare(lit / "cameron-2018.json", lit / "alekseenko.json", few_draws(1));
  CHECK(r.headline == "/published/modelled");
  REQUIRE(r.attribution.size() == 2);
  CHECK(r.attribution[0].factor == "deaths or losses (permanent emigrants)");
  CHECK(r.attribution[1].factor == "groups counted");
  CHECK(r.attribution[0].value.mean > 0);  // emigrants alive abroad add to the losses
  CHECK(r.attribution[1].value.mean < 0);  // Kazakhs only: fewer than all inhabitants
  CHECK_THAT(r.attribution[0].value.mean + r.attribution[1].value.mean,
             WithinRel(r.difference.mean, 1e-9));
}

TEST_CASE("compare on given parameter sets of A (a posterior): fields keep A's values or their "
          "quantile",
          "[unit]") {
  const steppe::Scenario a = steppe::Scenario::load(dir / "base.json");
  const steppe::Scenario b = steppe::Scenario::load(dir / "half_severity.json");
  // Stand-in posterior: ten draws of A, with the severity pushed to the top of its range.
  std::vector<std::vector<double>> sets(10);
  std::size_t severity = a.parameters().size();
  for (std::size_t k = 0; k < a.parameters().size(); ++k)
    if (a.parameters()[k].shared == "severity") severity = k;
  REQUIRE(severity < a.parameters().size());
  for (std::uint64_t i = 0; i < 10; ++i) {
    a.sample(3, i, sets[i]);
    sets[i][severity] = 1.4 + 0.01 * double(i);
  }
  steppe::CompareOptions o;
  o.run.seed = 3;
  o.run.threads = 2;
  o.a_parameter_sets = sets;
  const CompareResult r = steppe::compare(dir / "base.json", dir / "half_severity.json", o);
  REQUIRE(r.draws == 10);
  // A runs exactly the given sets.
  steppe::RunOptions run;
  run.keep = {r.headline};
  const steppe::RunResult ra = steppe::run_parameter_sets(a, sets, run);
  for (std::size_t i = 0; i < 10; ++i) CHECK(r.a_per_draw[i] == ra.kept[i]);
  // B keeps every other value and maps the severity at its quantile: uniform [0.5, 1.5] → [0.25, 0.75].
  std::vector<std::vector<double>> mapped = sets;
  for (auto& v : mapped) v[severity] = 0.25 + (v[severity] - 0.5) * 0.5;
  const steppe::RunResult rb = steppe::run_parameter_sets(b, mapped, run);
  for (std::size_t i = 0; i < 10; ++i) CHECK_THAT(r.b_per_draw[i], WithinRel(rb.kept[i], 1e-9));
  CHECK(r.difference.mean < 0.0);  // half the severity, fewer deaths
  // The same scenario on the same sets differs by exactly nothing.
  const CompareResult same = steppe::compare(dir / "base.json", dir / "same_as_base.json", o);
  for (std::size_t i = 0; i < 10; ++i) CHECK(same.b_per_draw[i] == same.a_per_draw[i]);
}

TEST_CASE("Distribution::probability_of inverts at_probability", "[unit]") {
  const auto t = steppe::Distribution::triangular(0.5, 1.0, 1.5);
  for (double u : {0.1, 0.5, 0.9}) CHECK(t.probability_of(t.at_probability(u)) == Approx(u).epsilon(1e-12));
  const auto c = steppe::Distribution::choice({1.0, 2.0, 3.0});
  for (double x : {1.0, 2.0, 3.0}) CHECK(c.at_probability(c.probability_of(x)) == x);
  const auto n = steppe::Distribution::normal(0, 1).truncated(0, 5);
  CHECK(n.at_probability(n.probability_of(0.7)) == Approx(0.7).epsilon(1e-12));
}
