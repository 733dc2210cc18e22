// SPDX-License-Identifier: MIT
// Tests of steppe/food_balance.hpp and of the food-balance crisis of a scenario: hand-checked herd,
// grain and kcal arithmetic; the response function; monotonicity in procurement and aid (of the
// functions and of a whole run); a scenario that parses, keeps its books and has no crisis when
// food is ample; thread-invariant results; the historical driver scenario's herd collapse.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "scenario_impl.hpp"
#include "steppe/excess.hpp"
#include "steppe/food_balance.hpp"
#include "steppe/scenario.hpp"
#include "steppe/simulation.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using json = nlohmann::json;
using steppe::BySpecies;
using steppe::DeficitResponse;
using steppe::FoodDependence;
using steppe::FoodParameters;
using steppe::GrainDrivers;
using steppe::Herd;
using steppe::HerdDrivers;

namespace {

const std::filesystem::path scenarios_dir = std::filesystem::path(STEPPE_REPO_DIR) / "scenarios";

/// Yields with round numbers: every species 1,000 kcal of meat per head slaughtered and 100 kcal
/// of milk per head and year.
FoodParameters round_parameters() {
  FoodParameters p;
  for (auto& y : p.yields) y = {1000, 100, 1};
  p.grain_kcal_per_kg = 3400;
  p.grain_food_share = 0.8;
  return p;
}

/// Six years of a steppe economy for two groups (herders, farmers), with a procurement share
/// `share` of the herd in years 1-3, grain procurement `grain_t`, and aid `aid_t` in year 3.
struct Economy {
  FoodParameters p = FoodParameters{};
  Herd initial{{4e6, 7e6, 24e6, 1e6}};
  std::vector<HerdDrivers> herd = std::vector<HerdDrivers>(6);
  std::vector<GrainDrivers> grain = std::vector<GrainDrivers>(6);
  std::vector<FoodDependence> dependence;
  Eigen::ArrayXXd persons = Eigen::ArrayXXd(6, 2);

  Economy(double share, double grain_t, double aid_t) {
    for (int t = 0; t < 6; ++t) {
      HerdDrivers& h = herd[std::size_t(t)];
      h.natural_increase = {0.12, 0.12, 0.25, 0.07};
      h.slaughter = {0.08, 0.08, 0.2, 0.04};
      h.collective_losses.fill(t >= 1 && t <= 3 ? 0.1 : 0.0);
      h.procurement_share.fill(t >= 1 && t <= 3 ? share : 0.0);
      grain[std::size_t(t)] = {2.5e6, t >= 1 && t <= 3 ? grain_t : 0.0, 0.15, t == 3 ? aid_t : 0.0};
      dependence.push_back({0.85, 0.3, 0.5});
      dependence.push_back({0.1, 0.6, 0.5});
      persons(t, 0) = 4e6 * std::pow(1.01, t);
      persons(t, 1) = 2.5e6 * std::pow(1.02, t);
    }
  }
  steppe::FoodBalanceTrajectory run() const {
    steppe::FoodBalanceTrajectory out;
    steppe::run_food_balance(p, initial, herd, grain, dependence, persons, out);
    return out;
  }
};

/// A one-group scenario (1926-1934, 8 annual steps named 1926 … 1933) with a food-balance
/// crisis from 1928: a livestock procurement share `share` in 1929-1931, a harvest of `harvest_t`
/// tonnes, grain aid `aid_t` in 1931; everything else (yields, defaults) as documented.
json food_scenario(double share, double harvest_t, double aid_t) {
  json rr = {{"ages", {0, 5, 15, 60}}, {"female", {2.0, 1.8, 1.5, 2.0}}, {"male", {2.0, 1.9, 1.6, 2.2}}};
  return {
      {"meta", {{"title", "tiny food balance"}}},
      {"projection",
       {{"start", "1926-01-01"}, {"end", "1934-01-01"}, {"ages", {{"layout", "single_year"}, {"omega", 60}}}}},
      {"groups",
       {{{"name", "kazakh"},
         {"initial_population",
          {{"female", 1e6}, {"male", 1e6}, {"age_structure", {{"stable", {{"growth_rate", 0.01}}}}}}},
         {"mortality", {{"coale_demeny", {{"family", "west"}, {"e0", 35}}}}},
         {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}}}},
      {"crisis",
       {{"model", "food_balance"},
        {"drivers",
         {{"herd", {{"year", 1928}, {"horses", 1e6}, {"cattle", 2e6}, {"sheep_goats", 6e6}, {"camels", 2e5}}},
          {"collective_losses", {{"1928", 0}, {"1930", 0.1}, {"1932", 0}}},
          {"livestock_procurement", {{"share", {{"1928", 0}, {"1929", share}, {"1931", share}, {"1932", 0}}}}},
          {"grain", {{"harvest", harvest_t}, {"aid", {{"1930", 0}, {"1931", aid_t}, {"1932", 0}}}}}}},
        {"groups",
         {{"kazakh",
           {{"dependence", {{"livestock", 1.0}, {"grain", 0.5}}},
            {"response",
             {{"excess_mortality", {{"maximum", 10}, {"half_deficit", 0.3}, {"relative_risk", rr}}},
              {"flight", {{"maximum", 0.1}}},
              {"fertility_reduction", {{"maximum", 0.5}, {"steepness", 2}}}}},
            {"return", {{"rate", 0.05}}}}}}}}}};
}

steppe::Scenario load(const json& j) { return steppe::Scenario::parse(j.dump(), "food.json"); }

/// Runs the crisis path of one group's inputs and checks the books at home over the whole
/// projection: start + births + returnees − deaths − emigrants = end. Returns the emigrants.
double home_books_balance(const steppe::Scenario& s, const steppe::ModelInputs& in) {
  const auto steps = s.steps();
  steppe::CrisisRunner runner(s.dims(), s.projector_options(), int(steps.size()));
  runner.run(in.initial, in.rates, steps.front().year - 1);
  double births = 0, deaths = 0, emigrants = 0, returnees = 0;
  for (const auto& st : runner.crisis().steps())
    for (int c = 0; c < 2; ++c) {
      births += st.births(c);
      deaths += st.deaths(c);
      emigrants += st.emigrants(c);
      returnees += st.returnees(c);
    }
  CHECK_THAT(in.initial.home().sum() + births + returnees - deaths - emigrants,
             WithinRel(runner.crisis_end().home().sum(), 1e-12));
  return emigrants;
}

steppe::RunOptions one_central_draw() {
  steppe::RunOptions o;
  o.draws = 1;
  o.threads = 1;
  return o;
}

}  // namespace

TEST_CASE("procurement takes a share and a head count from the start-of-year herd", "[unit][food]") {
  HerdDrivers d;
  d.procurement_share.fill(0.1);
  d.procurement_head = {0, 5, 0, 100};  // more camels than there are: capped at the herd
  const Herd after = steppe::after_procurement(Herd{{100, 50, 1000, 10}}, d);
  CHECK(after.head == BySpecies{90, 40, 900, 0});
  CHECK(after.total() == 1030);
  CHECK_THAT(after.tlu({0.8, 0.7, 0.1, 1.0}), WithinRel(90 * 0.8 + 40 * 0.7 + 900 * 0.1, 1e-15));
}

TEST_CASE("next year's herd: natural increase less slaughter, losses and distress offtake", "[unit][food]") {
  HerdDrivers d;
  d.natural_increase = {0.2, 0.2, 0.3, 0.1};
  d.slaughter = {0.1, 0.1, 0.2, 0.05};
  d.forced_slaughter = {0.05, 0, 0, 0};
  d.collective_losses = {0.05, 0.1, 0, 0};
  const Herd next = steppe::next_herd(Herd{{100, 100, 100, 100}}, d, 0.1);
  // horses 1 + 0.2 − 0.1 − 0.05 − 0.05 − 0.1 = 0.9; cattle 0.9; sheep 1.0; camels 0.95
  CHECK_THAT(next.head[0], WithinRel(90.0, 1e-14));
  CHECK_THAT(next.head[1], WithinRel(90.0, 1e-14));
  CHECK_THAT(next.head[2], WithinRel(100.0, 1e-14));
  CHECK_THAT(next.head[3], WithinRel(95.0, 1e-14));
  // a herd cannot fall below zero
  CHECK(steppe::next_herd(Herd{{100, 100, 100, 100}}, d, 5.0).total() == 0.0);
}

TEST_CASE("livestock, grain and aid food in kcal per year, by hand", "[unit][food]") {
  const FoodParameters p = round_parameters();
  HerdDrivers d;
  d.slaughter = {0.2, 0, 0, 0};
  d.forced_slaughter = {0.1, 0, 0, 0};
  // 10 horses: 3 slaughtered × 1,000 + 10 × 100 of milk; 20 cattle: milk only
  CHECK(steppe::livestock_food_kcal(Herd{{10, 20, 0, 0}}, d, p.yields) == 3000 + 1000 + 2000);
  // (1,000 t × (1 − 0.1) − 400 t) × 0.8 × 1,000 kg/t × 3,400 kcal/kg
  const GrainDrivers g{1000, 400, 0.1, 10};
  CHECK_THAT(steppe::net_grain_t(g), WithinRel(500.0, 1e-15));
  CHECK_THAT(steppe::grain_food_kcal(g, p), WithinRel(500 * 0.8 * 1000 * 3400.0, 1e-15));
  CHECK_THAT(steppe::aid_food_kcal(g, p), WithinRel(10 * 1000 * 3400.0, 1e-15));
  // procurement above the net harvest leaves no grain, not negative grain
  CHECK(steppe::grain_food_kcal(GrainDrivers{1000, 2000, 0.1, 0}, p) == 0.0);
  CHECK(steppe::food_deficit(1050, 2100) == 0.5);
  CHECK(steppe::food_deficit(3000, 2100) == 0.0);
  CHECK(steppe::food_deficit(0, 2100) == 1.0);
}

TEST_CASE("a group's kcal per person per day is its shares of each source over its people", "[unit][food]") {
  const FoodParameters p = round_parameters();
  const std::vector<HerdDrivers> herd(1, [] {
    HerdDrivers d;
    d.slaughter = {0.5, 0, 0, 0};
    return d;
  }());
  const std::vector<GrainDrivers> grain{{100, 0, 0, 1}};
  const std::vector<FoodDependence> dep{{0.5, 0.25, 1.0}};
  Eigen::ArrayXXd persons(1, 1);
  persons << 10;
  steppe::FoodBalanceTrajectory out;
  steppe::run_food_balance(p, Herd{{1000, 0, 0, 0}}, herd, grain, dep, persons, out);
  const double livestock = 500 * 1000.0 + 1000 * 100.0;
  const double grain_kcal = 100 * 0.8 * 1000 * 3400.0;
  const double aid = 1 * 1000 * 3400.0;
  CHECK(out.livestock_kcal[0] == livestock);
  CHECK_THAT(out.kcal_per_person_day(0, 0),
             WithinRel((0.5 * livestock + 0.25 * grain_kcal + aid) / (10 * 365.0), 1e-14));
  CHECK(out.herd.size() == 2);
}

TEST_CASE("the deficit response is 0 at no deficit, half its maximum at half_deficit, and rises",
          "[unit][food]") {
  const auto [maximum, half, steepness] = GENERATE(table<double, double, double>(
      {{10, 0.3, 3}, {0.15, 0.5, 1}, {0.7, 0.2, 8}}));
  const DeficitResponse r{maximum, half, steepness};
  CHECK(r(0.0) == 0.0);
  CHECK_THAT(r(half), WithinRel(maximum / 2, 1e-14));
  double previous = 0;
  for (int i = 1; i <= 100; ++i) {
    const double y = r(i / 100.0);
    CHECK(y >= previous);
    CHECK(y < maximum);
    previous = y;
  }
}

TEST_CASE("more procurement never lowers a deficit; more aid never raises one", "[unit][food]") {
  const double grain_t = GENERATE(0.0, 0.5e6, 1.5e6);
  for (double share : {0.0, 0.05, 0.1, 0.2, 0.3, 0.5}) {
    INFO("share " << share << ", grain procurement " << grain_t);
    const auto lo = Economy(share, grain_t, 0).run();
    const auto hi = Economy(share + 0.05, grain_t + 1e5, 0).run();
    CHECK((hi.deficit >= lo.deficit).all());
    for (std::size_t t = 0; t < lo.herd.size(); ++t) CHECK(hi.herd[t].total() <= lo.herd[t].total());
    const auto aided = Economy(share, grain_t, 2e5).run();
    CHECK((aided.deficit <= lo.deficit).all());
    if ((lo.deficit.row(3) > 0).any())  // aid year: the hungry eat more
      CHECK((aided.deficit.row(3) < lo.deficit.row(3)).any());
  }
  // and the procurement actually bites: the herders go hungry
  CHECK(Economy(0.3, 1.5e6, 0).run().deficit.col(0).maxCoeff() > 0.2);
}

TEST_CASE("a food-balance scenario parses into yearly crisis series and keeps its books",
          "[unit][food][io]") {
  const steppe::Scenario s = load(food_scenario(0.25, 1e6, 0));
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  // a crisis from the herd year on: some step has excess mortality, flight and fewer births
  bool mortality = false, flight = false, fertility = false;
  for (const steppe::RateSet& r : in.rates) {
    mortality |= r.crisis_survivorship.size() > 0;
    flight |= r.emigration_rate.size() > 0;
    fertility |= r.fertility_multiplier.size() > 0;
  }
  CHECK(mortality);
  CHECK(flight);
  CHECK(fertility);
  CHECK(in.rates[0].crisis_survivorship.size() == 0);  // 1926: before the herd year

  CHECK(home_books_balance(s, in) > 0.0);
  const steppe::RunResult r = steppe::run_draws(s, one_central_draw());
  CHECK(r.at("/excess_deaths/total").mean > 0.0);
}

TEST_CASE("no procurement and ample food: no crisis at all", "[unit][food]") {
  const steppe::Scenario s = load(food_scenario(0.0, 5e6, 0));
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  for (const steppe::RateSet& r : in.rates) {  // (the direct return rate stays: nobody is abroad)
    CHECK(r.crisis_survivorship.size() == 0);
    CHECK(r.fertility_multiplier.size() == 0);
    CHECK(r.emigration_rate.size() == 0);
  }
  const steppe::RunResult r = steppe::run_draws(s, one_central_draw());
  CHECK(r.at("/excess_deaths/total").mean == 0.0);
  CHECK(r.at("/lost_births/total").mean == 0.0);
}

TEST_CASE("a whole run: more procurement never lowers excess deaths, more aid never raises them",
          "[unit][food]") {
  double previous = -1;
  for (double share : {0.0, 0.1, 0.2, 0.3, 0.4, 0.6}) {
    const double toll =
        steppe::run_draws(load(food_scenario(share, 1e6, 0)), one_central_draw()).at("/excess_deaths/total").mean;
    INFO("procurement share " << share);
    CHECK(toll >= previous);
    previous = toll;
  }
  CHECK(previous > 0.0);
  previous = INFINITY;
  for (double aid : {0.0, 1e4, 5e4, 2e5}) {
    const double toll =
        steppe::run_draws(load(food_scenario(0.3, 1e6, aid)), one_central_draw()).at("/excess_deaths/total").mean;
    INFO("aid " << aid);
    CHECK(toll <= previous);
    previous = toll;
  }
}

TEST_CASE("the historical driver scenario: herd collapse, a toll, the same bits on 1 or 2 threads",
          "[unit][food]") {
  const steppe::Scenario s = steppe::Scenario::load(scenarios_dir / "kazakhstan-food-balance.json");
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  // facts.md C: over 40M head in 1928-29, 4.5-5.0M in 1933 (issue 5: 10-15 %)
  const auto& herd = in.cache->food_balance.trajectory.herd;
  REQUIRE(herd.size() >= 5);
  const double share_1933 = herd[4].total() / herd[0].total();  // 1 Jan 1933 over 1 Jan 1929
  CHECK(share_1933 >= 0.10);
  CHECK(share_1933 <= 0.15);
  for (int draw = 0; draw < 20; ++draw) {  // and every draw lands near it
    s.sample(1, std::uint64_t(draw), v);
    s.build(v, in);
    const double share = herd[4].total() / herd[0].total();
    CHECK(share > 0.05);
    CHECK(share < 0.25);
  }

  steppe::RunOptions o;
  o.draws = 40;
  o.threads = 1;
  const steppe::RunResult one = steppe::run_draws(s, o);
  o.threads = 2;
  const steppe::RunResult two = steppe::run_draws(s, o);
  CHECK(one.at("/excess_deaths/total").mean > 500000.0);
  REQUIRE(one.metrics.size() == two.metrics.size());
  for (std::size_t k = 0; k < one.metrics.size(); ++k) {
    INFO(one.metrics[k].path);
    CHECK(one.metrics[k].summary.mean == two.metrics[k].summary.mean);
    CHECK(one.metrics[k].summary.quantiles == two.metrics[k].summary.quantiles);
  }
}

namespace {
/// food_scenario with a border regime: the share of the flight attempts that gets out, and the
/// share of the stopped ones that dies.
json with_border(json j, const json& border) {
  j["crisis"]["drivers"]["border"] = border;
  return j;
}
/// The central draw's rates.
steppe::ModelInputs central_inputs(const steppe::Scenario& s) {
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  return in;
}
}  // namespace

TEST_CASE("the border lets out a share of the flight attempts and kills a share of the rest",
          "[unit][food]") {
  const json open = food_scenario(0.25, 1e6, 0);
  const steppe::ModelInputs free = central_inputs(load(open));
  const steppe::ModelInputs closed =
      central_inputs(load(with_border(open, {{"success", 0.6}, {"mortality", 0.25}})));
  const steppe::ModelInputs same = central_inputs(load(with_border(open, {{"success", 1.0}})));
  bool compared = false;
  for (std::size_t k = 0; k < free.rates.size(); ++k) {
    const steppe::RateSet& a = free.rates[k];
    const steppe::RateSet& b = closed.rates[k];
    // success 1 and no mortality: the same rates, bit for bit
    CHECK((same.rates[k].emigration_rate.size() == a.emigration_rate.size()));
    if (a.emigration_rate.size() == 0) continue;
    CHECK((same.rates[k].emigration_rate == a.emigration_rate).all());
    CHECK((same.rates[k].crisis_survivorship == a.crisis_survivorship).all());
    // attempts (the open border's flight rate; uniform age pattern) × 0.6 get out …
    const double attempts = a.emigration_rate(20, 0);
    CHECK_THAT(b.emigration_rate(20, 0), WithinRel(0.6 * attempts, 1e-14));
    // … and of the 0.4 stopped, 0.25 die at home: survivorship times 1 − 0.1·attempts, every age
    REQUIRE(b.crisis_survivorship.size() > 0);
    for (Eigen::Index x : {0, 5, 30, 59})
      CHECK_THAT(b.crisis_survivorship(x, 1),
                 WithinRel(a.crisis_survivorship(x, 1) * (1.0 - 0.4 * 0.25 * attempts), 1e-14));
    CHECK(b.crisis_birth_survivorship[0] == a.crisis_birth_survivorship[0]);  // newborns stay
    compared = attempts > 0.0;
  }
  CHECK(compared);

  // the books balance with deaths in flight, and those deaths are excess deaths at home
  const steppe::Scenario s = load(with_border(open, {{"success", 0.6}, {"mortality", 0.25}}));
  home_books_balance(s, closed);
  const double deaths_no_mortality =
      steppe::run_draws(load(with_border(open, {{"success", 0.6}})), one_central_draw())
          .at("/excess_deaths/home")
          .mean;
  CHECK(steppe::run_draws(s, one_central_draw()).at("/excess_deaths/home").mean >
        deaths_no_mortality);
}

TEST_CASE("a border share outside [0, 1] is rejected where it is written", "[unit][food][io]") {
  const json j = with_border(food_scenario(0.25, 1e6, 0),
                             {{"success", 0.8}, {"mortality", {{"1931", 0.1}, {"1932", 1.2}}}});
  CHECK_THROWS_WITH(load(j), Catch::Contains("food.json:/crisis/drivers/border/mortality/1932") &&
                                 Catch::Contains("[0, 1]") && Catch::Contains("1.2"));
  CHECK_THROWS_WITH(
      load(with_border(food_scenario(0.25, 1e6, 0), {{"succes", 1.0}})),
      Catch::Contains("food.json:/crisis/drivers/border/succes: unknown field \"succes\""));
}

TEST_CASE("deaths in flight above the people there are an error naming the border", "[unit][food]") {
  // Everyone stopped and every one of them killed, with a flight pattern peaking far above its
  // mean of 1 (Rogers-Castro): some age's probability of dying in flight exceeds 1.
  json j = with_border(food_scenario(0.6, 1e5, 0), {{"success", 0.0}, {"mortality", 1.0}});
  j["crisis"]["groups"]["kazakh"]["response"]["flight"] = {
      {"maximum", 1.0}, {"half_deficit", 0.05}, {"age_pattern", "rogers_castro"}};
  std::vector<double> v;
  const steppe::Scenario s = load(j);
  s.central(v);
  steppe::ModelInputs in;
  CHECK_THROWS_WITH(s.build(v, in), Catch::Contains("food.json:/crisis/drivers/border/mortality") &&
                                        Catch::Contains("dying in flight") &&
                                        Catch::Contains("exceeds 1"));
}
