// SPDX-License-Identifier: MIT
// Tests of steppe/smc.hpp: the tempering sampler recovers a known parameter from census counts
// generated with it, reaches temperature 1, and gives the same bits on 1 and 2 threads.
#include "steppe/smc.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "steppe/error.hpp"

namespace {

const std::string data_dir = STEPPE_TEST_DATA_DIR;

// sim_rate_based.json with one uncertain parameter left, the shared famine severity
// (uniform 0.5–1.5), and census errors of 0.2 % without bias.
std::vector<std::string> one_unknown(const std::vector<double>& observed = {}) {
  std::vector<std::string> o = {
      "/groups/0/initial_population/undercount=0.02",
      "/groups/0/mortality/coale_demeny/e0/female=33",
      "/targets/0/error={\"bias\": 0, \"sd\": 0.002}",
      "/targets/1/error={\"sd\": 0.002}",
      "/targets/2/error={\"sd\": 0.002}"};
  for (std::size_t i = 0; i < observed.size(); ++i)
    o.push_back("/targets/" + std::to_string(i) + "/value=" + std::to_string(observed[i]));
  return o;
}

}  // namespace

TEST_CASE("Distribution::at_probability inverts the CDF after truncation", "[unit]") {
  const auto u = steppe::Distribution::uniform(2.0, 4.0);
  CHECK(u.at_probability(0.25) == Approx(2.5));
  const auto t = steppe::Distribution::normal(0.0, 1.0).truncated(0.0, 10.0);
  CHECK(t.at_probability(0.5) == Approx(steppe::normal_quantile(0.75)).epsilon(1e-12));
  const auto b = steppe::Distribution::beta(2.0, 3.0, 10.0, 20.0);
  for (double p : {0.1, 0.5, 0.9}) CHECK(b.cdf(b.at_probability(p)) == Approx(p).epsilon(1e-9));
  const auto c = steppe::Distribution::choice({1.0, 2.0, 3.0}, {1.0, 1.0, 2.0});
  CHECK(c.at_probability(0.2) == 1.0);
  CHECK(c.at_probability(0.4) == 2.0);
  CHECK(c.at_probability(0.6) == 3.0);
  CHECK_THROWS_AS(u.at_probability(1.0), steppe::domain_error);
}

TEST_CASE("calibrate_smc recovers the famine severity that generated the census counts",
          "[unit]") {
  const std::string file = data_dir + "/scenarios/sim_rate_based.json";
  const steppe::Scenario prior_only = steppe::Scenario::load(file, one_unknown());
  // The truth: severity 1.2. Its modelled counts become the observed ones.
  std::vector<double> truth;
  prior_only.central(truth);
  int uncertain = 0;
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const steppe::Parameter& p = prior_only.parameters()[k];
    if (p.distribution.is_constant()) continue;
    REQUIRE(p.shared == "severity");
    truth[k] = 1.2;
    ++uncertain;
  }
  REQUIRE(uncertain > 0);
  steppe::RunOptions one;
  one.threads = 1;
  const steppe::RunResult at_truth =
      steppe::run_parameter_sets(prior_only, std::vector<std::vector<double>>{truth}, one);
  std::vector<double> observed;
  for (const char* t : {"kazakh_1932", "kazakh_men_20_39_1934", "kazakh_abroad_1933"})
    observed.push_back(at_truth.at(std::string("/targets/") + t + "/modelled").mean);
  const steppe::Scenario scenario = steppe::Scenario::load(file, one_unknown(observed));

  steppe::SmcOptions o;
  o.particles = 200;
  o.moves = 3;
  o.threads = 2;
  o.seed = 5;
  const steppe::SmcResult r = steppe::calibrate_smc(scenario, o);
  REQUIRE(r.coordinates.size() == 1);
  CHECK(r.coordinates[0].name == "/distributions/severity");
  REQUIRE(!r.stages.empty());
  CHECK(r.stages.back().temperature == 1.0);
  for (std::size_t s = 1; s < r.stages.size(); ++s)
    CHECK(r.stages[s].temperature > r.stages[s - 1].temperature);
  std::vector<double> severity;
  const int k = r.coordinates[0].parameters.front();
  for (const auto& v : r.values) severity.push_back(v[std::size_t(k)]);
  std::sort(severity.begin(), severity.end());
  const double lo = severity[std::size_t(0.025 * 199)], hi = severity[std::size_t(0.975 * 199)];
  INFO("posterior 95% range " << lo << " – " << hi);
  CHECK(lo <= 1.2);
  CHECK(hi >= 1.2);
  CHECK(hi - lo < 0.25 * (1.5 - 0.5));  // far narrower than the prior
  CHECK(r.posterior.draws == 200);
  CHECK(r.posterior.at("/targets/kazakh_1932/relative_deviation").quantiles.size() == 3);
  CHECK(std::isfinite(r.log_evidence));

  o.threads = 1;
  const steppe::SmcResult again = steppe::calibrate_smc(scenario, o);
  CHECK(again.values == r.values);
  CHECK(again.log_likelihood == r.log_likelihood);
  CHECK(again.log_evidence == r.log_evidence);
}

TEST_CASE("calibrate_smc refuses a scenario without a likelihood or without unknowns", "[unit]") {
  const std::string file = data_dir + "/scenarios/sim_rate_based.json";
  steppe::SmcOptions o;
  o.particles = 20;
  const steppe::Scenario fixed = steppe::Scenario::load(
      file, {"/groups/0/initial_population/undercount=0.02", "/groups/0/mortality/coale_demeny/e0/female=33",
             "/distributions/severity={\"uniform\": [1, 1.0000001]}", "/targets/0/error/bias=0"});
  CHECK_THROWS_AS(steppe::calibrate_smc(steppe::Scenario::load(file, {"/targets=[]"}), o),
                  steppe::domain_error);
}
