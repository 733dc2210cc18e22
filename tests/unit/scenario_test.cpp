// SPDX-License-Identifier: MIT
// Tests of steppe/scenario.hpp: dates → steps, time series, sampling (seeded, shared draws), and
// that a scenario without distributions builds exactly the rates the engine's own functions give.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "steppe/excess.hpp"
#include "steppe/fertility.hpp"
#include "steppe/life_table.hpp"
#include "steppe/model_life_table.hpp"
#include "steppe/scenario.hpp"
#include "scenario_impl.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

using steppe::Scenario;
using json = nlohmann::json;

namespace {

/// A one-group scenario with explicit, hand-checkable values; `patch` is merged into it.
json tiny(const json& patch = json::object()) {
  json s = {
      {"meta", {{"title", "tiny"}}},
      {"projection",
       {{"start", "1926-01-01"}, {"end", "1930-01-01"}, {"ages", {{"layout", "single_year"}, {"omega", 60}}}}},
      {"groups",
       {{{"name", "kazakh"},
         {"initial_population",
          {{"female", 1000},
           {"male", 900},
           {"age_structure", {{"ages", {0, 20, 40}}, {"female", {3, 2, 1}}, {"male", {3, 2, 1}}}}}},
         {"mortality", {{"coale_demeny", {{"family", "west"}, {"e0", {{"female", 40}, {"male", 37.5}}}}}}},
         {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}}}}};
  s.merge_patch(patch);
  return s;
}

Scenario load(const json& j) { return Scenario::parse(j.dump(), "tiny.json"); }

}  // namespace

TEST_CASE("dates map onto whole steps from the start date", "[scenario]") {
  const Scenario s = load(tiny({{"projection", {{"start", "1926-12-17"}, {"end", "1939-01-17"}}}}));
  REQUIRE(s.steps().size() == 12);  // 12.08 years rounds to 12 annual steps
  CHECK(s.steps()[0].start == Approx(1926.0 + 350.0 / 365.0).epsilon(1e-12));
  CHECK(s.steps()[0].year == 1927);  // midpoint 1927.46
  CHECK(s.steps()[11].year == 1938);
  CHECK(s.steps()[11].end == Approx(s.steps()[0].start + 12));
  CHECK(s.outputs().window_first == 1927);  // default window: every step
  CHECK(s.outputs().window_last == 1938);
}

TEST_CASE("a scenario without distributions builds the engine's own rates", "[scenario]") {
  const Scenario s = load(tiny());
  CHECK_FALSE(s.has_uncertainty());
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  const steppe::AgeAxis axis = steppe::AgeAxis::single_year(60);
  REQUIRE(in.rates.size() == 4);
  const steppe::LifeTable f = steppe::coale_demeny_e0(steppe::CdFamily::west, steppe::Sex::female, 40);
  const steppe::LifeTable m = steppe::coale_demeny_e0(steppe::CdFamily::west, steppe::Sex::male, 37.5);
  for (const steppe::RateSet& r : in.rates) {
    CHECK((r.survivorship.col(0) == f.projection_survivorship(axis)).all());
    CHECK((r.survivorship.col(1) == m.projection_survivorship(axis)).all());
    CHECK(r.birth_survivorship[0] == f.birth_survivorship(1));
    const Eigen::ArrayXd asfr =
        steppe::asfr_from_tfr(6, steppe::fertility_pattern("ussr_adh_1926", axis), axis);
    CHECK((r.asfr.col(0) == asfr).all());
    CHECK(r.srb[0] == 1.05);
    CHECK_FALSE(r.has_crisis());
  }
  // Initial population: the step-function shape 3:2:1 by 20-year band, scaled to the totals.
  const auto& home = in.initial.home();
  CHECK(home.col(0).sum() == Approx(1000));
  CHECK(home.col(1).sum() == Approx(900));
  const double unit = 1000.0 / (20 * 3 + 20 * 2 + 21 * 1);  // ages 0-19, 20-39, 40-59 and 60+
  CHECK(home(0, 0) == Approx(3 * unit));
  CHECK(home(25, 0) == Approx(2 * unit));
  CHECK(home(60, 0) == Approx(1 * unit));
}

TEST_CASE("a time series is linear between mid-years and averaged over each step", "[scenario]") {
  // TFR 6 at mid-1926, 4 at mid-1928: steps from 1 Jan 1926 to 1 Jan 1930.
  const Scenario s = load(tiny({{"groups", {{{"name", "kazakh"},
                                              {"initial_population", tiny()["groups"][0]["initial_population"]},
                                              {"mortality", tiny()["groups"][0]["mortality"]},
                                              {"fertility", {{"tfr", {{"1926", 6}, {"1928", 4}}},
                                                             {"schedule", "ussr_adh_1926"}}}}}}}));
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  const steppe::AgeAxis axis = steppe::AgeAxis::single_year(60);
  auto tfr = [&](int k) { return steppe::tfr_of(in.rates[std::size_t(k)].asfr.col(0), axis); };
  // Step 1926.0–1927.0: 6 until 1926.5, then 6 → 5.5 at 1927.0: mean = (0.5·6 + 0.5·5.75) = 5.875.
  CHECK(tfr(0) == Approx(5.875).epsilon(1e-12));
  // Step 1927–1928: 5.5 → 4.5 linearly: mean 5.
  CHECK(tfr(1) == Approx(5.0).epsilon(1e-12));
  // Step 1928–1929: 4.5 → 4 until 1928.5, then 4: mean (0.5·4.25 + 0.5·4) = 4.125.
  CHECK(tfr(2) == Approx(4.125).epsilon(1e-12));
  CHECK(tfr(3) == Approx(4.0).epsilon(1e-12));  // constant after the last point
}

TEST_CASE("sampling depends only on (seed, draw) and shared draws move fields together",
          "[scenario]") {
  json patch = {{"distributions", {{"severity", {{"uniform", {0.5, 1.5}}}}}},
                {"crisis",
                 {{"kazakh",
                   {{"excess_mortality", {{"intensity", {{"values", {{"1927", 1.0}}}, {"scale", {{"shared", "severity"}}}}},
                                          {"relative_risk", 2.0}}},
                    {"fertility_reduction", {{"shared", "severity"}}}}}}}};
  // fertility_reduction must lie in [0, 1]: severity can reach 1.5, so this is rejected...
  CHECK_THROWS_AS(load(tiny(patch)), steppe::scenario_errors);
  // ...and accepted once the shared distribution is truncated to [0.5, 1].
  patch["distributions"]["severity"] = {{"uniform", {0.5, 1.5}}, {"truncate", {0.5, 1.0}}};
  const Scenario s = load(tiny(patch));
  CHECK(s.has_uncertainty());
  std::vector<double> a, b, c;
  s.sample(7, 3, a);
  s.sample(7, 3, b);
  s.sample(7, 4, c);
  CHECK(a == b);
  CHECK(a != c);
  steppe::ModelInputs in;
  s.build(a, in);
  int shared = -1;
  for (std::size_t k = 0; k < s.parameters().size(); ++k)
    if (s.parameters()[k].shared == "severity") shared = int(k);
  REQUIRE(shared >= 0);
  const double severity = a[std::size_t(shared)];
  CHECK(severity >= 0.5);
  CHECK(severity <= 1.0);
  // The one draw sets both the fertility reduction and the mortality scale of every step.
  CHECK(in.rates[1].fertility_multiplier[0] == Approx(1.0 - severity));
  // Hazard multiplier 1 + severity·(2 − 1): crisis survivorship = baseline^(1 + severity).
  const double base = in.rates[1].survivorship(30, 0);
  CHECK(in.rates[1].crisis_survivorship(30, 0) == Approx(std::pow(base, 1 + severity)).epsilon(1e-12));
}

TEST_CASE("stable initial population follows L(x)·exp(-r·x)", "[scenario]") {
  const json patch = {{"groups", {{{"name", "kazakh"},
                                   {"initial_population", {{"female", 1e6}, {"male", 1e6},
                                                           {"undercount", 0.2},
                                                           {"age_structure", {{"stable", {{"growth_rate", 0.02}}}}}}},
                                   {"mortality", tiny()["groups"][0]["mortality"]},
                                   {"fertility", tiny()["groups"][0]["fertility"]}}}}};
  const Scenario s = load(tiny(patch));
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  const auto& home = in.initial.home();
  CHECK(home.col(0).sum() == Approx(1e6 / 0.8));  // undercount 20 %: counted = 80 % of the true
  const steppe::LifeTable f =
      steppe::coale_demeny_e0(steppe::CdFamily::west, steppe::Sex::female, 40).to_single_year(100);
  // Ratio of adjacent single-year cells: L(x+1)/L(x) · e^{−r}.
  const double expected = (f.T_at(31) - f.T_at(32)) / (f.T_at(30) - f.T_at(31)) * std::exp(-0.02);
  CHECK(home(31, 0) / home(30, 0) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("an age structure blends the stable shape and a given one by stable_share", "[scenario]") {
  auto build = [](const json& age_structure) {
    json j = tiny();
    j["groups"][0]["initial_population"]["age_structure"] = age_structure;
    const Scenario s = load(j);
    std::vector<double> v;
    s.central(v);
    steppe::ModelInputs in;
    s.build(v, in);
    return Eigen::ArrayXXd(in.initial.home());
  };
  const json steps = {{"ages", {0, 20, 40}}, {"female", {3, 2, 1}}, {"male", {3, 2, 1}}};
  const json stable = {{"growth_rate", 0.02}};
  const Eigen::ArrayXXd a = build(steps), b = build({{"stable", stable}});
  json blend = steps;
  blend["stable"] = stable;
  for (double share : {0.0, 0.25, 1.0}) {
    blend["stable_share"] = share;
    const Eigen::ArrayXXd m = build(blend);
    for (int c = 0; c < 2; ++c) {
      INFO("share " << share << " col " << c);
      CHECK(m.col(c).sum() == Approx(a.col(c).sum()).epsilon(1e-12));  // the totals stay
      CHECK((m.col(c) - (share * b.col(c) + (1 - share) * a.col(c))).abs().maxCoeff() <
            1e-9 * a.col(c).sum());
    }
  }
  blend["stable_share"] = {{"uniform", {0, 1}}};
  json j = tiny();
  j["groups"][0]["initial_population"]["age_structure"] = blend;
  CHECK(load(j).has_uncertainty());
  blend.erase("ages");
  blend.erase("female");
  blend.erase("male");
  j["groups"][0]["initial_population"]["age_structure"] = blend;  // a share of nothing to blend
  CHECK_THROWS_AS(load(j), steppe::scenario_errors);
}

TEST_CASE("a flight rate per year empties nobody and is absent outside the crisis", "[scenario]") {
  const json patch = {{"crisis", {{"kazakh", {{"flight", {{"rate", {{"1926", 0}, {"1927", 0.1}, {"1928", 0}}}}},
                                              {"return", {{"rate", 0.5}}}}}}}};
  const Scenario s = load(tiny(patch));
  std::vector<double> v;
  s.central(v);
  steppe::ModelInputs in;
  s.build(v, in);
  // Points at mid-1926 (0), mid-1927 (0.1), mid-1928 (0); uniform age pattern.
  CHECK(in.rates[0].emigration_rate(10, 1) == Approx(0.0125).epsilon(1e-12));  // ramp from 1926.5
  CHECK(in.rates[1].emigration_rate(10, 1) == Approx(0.075).epsilon(1e-12));   // 0.05 → 0.1 → 0.05
  CHECK(in.rates[1].emigration_rate(59, 0) == Approx(0.075).epsilon(1e-12));
  CHECK(in.rates[3].emigration_rate.size() == 0);  // 1929: no flight, component absent
  CHECK(in.rates[3].return_rate(40, 0) == 0.5);
}

TEST_CASE("Series::mean_at_step gives the bits of Series::mean through its step plans",
          "[scenario]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(-3.0, 10.0), gap(0.05, 2.0), width(0.1, 1.5);
  for (int trial = 0; trial < 300; ++trial) {
    steppe::detail::Series x;
    const int n = 1 + int(rng() % 7);
    std::vector<double> v;
    double year = 1925.5 + value(rng) * 0.3;
    for (int i = 0; i < n; ++i) {
      x.years.push_back(year);
      x.values.push_back(int(v.size()));
      v.push_back(trial % 5 == 0 && i % 2 ? 0.0 : value(rng));
      year += trial % 3 == 0 ? 1.0 : gap(rng);
    }
    if (trial % 2) {
      x.scale = int(v.size());
      v.push_back(value(rng));
    }
    // Steps from before the first point to after the last, of irregular widths, some with
    // an end exactly on a point.
    std::vector<steppe::StepTime> steps;
    double t = x.years.front() - 2.0;
    while (t < x.years.back() + 2.0) {
      double end = t + width(rng);
      if (rng() % 4 == 0) {
        const auto it = std::upper_bound(x.years.begin(), x.years.end(), t);
        if (it != x.years.end()) end = *it;
      }
      steps.push_back({t, end, 0});
      t = end;
    }
    x.plan_steps(steps);
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const double a = x.mean(v, steps[k].start, steps[k].end);
      const double b = x.mean_at_step(v, k, steps[k].start, steps[k].end);
      INFO("trial " << trial << ", step " << k);
      CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    }
    // Beyond the plans: mean() itself.
    const double a = x.mean(v, t, t + 1.0);
    const double b = x.mean_at_step(v, steps.size(), t, t + 1.0);
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
  }
}

TEST_CASE("scale_array and divide_array give the bits of Eigen's scalar product and quotient",
          "[scenario]") {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  for (int trial = 0; trial < 100; ++trial) {
    const Eigen::Index n = Eigen::Index(rng() % 110);
    Eigen::ArrayXd x(n);
    for (Eigen::Index i = 0; i < n; ++i) x[i] = u(rng) / (1.0 + double(rng() % 1000));
    const double a = u(rng);
    const Eigen::ArrayXd product = a * x, quotient = x / a;
    Eigen::ArrayXd p(n), q = x;
    steppe::detail::scale_array(a, x.data(), p.data(), n);
    steppe::detail::divide_array(a, q.data(), n);
    CHECK(std::memcmp(p.data(), product.data(), std::size_t(n) * sizeof(double)) == 0);
    CHECK(std::memcmp(q.data(), quotient.data(), std::size_t(n) * sizeof(double)) == 0);
  }
}

TEST_CASE("log_floor gives the bits of Eigen's s.max(DBL_MIN).log()", "[scenario]") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0.0, 1.0), power(-320.0, 300.0);
  const double nan = std::numeric_limits<double>::quiet_NaN(),
               inf = std::numeric_limits<double>::infinity();
  const double specials[] = {0.0, -0.0, 1.0, 0.5, 0.70710678118654752440, 0.7071067811865476,
                             std::numeric_limits<double>::min(), 4e-320, -1.0, 1e300,
                             std::numeric_limits<double>::max(), -inf, 2.0, 0.999999999999};
  auto same = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (int trial = 0; trial < 400; ++trial) {
    const Eigen::Index n = 1 + Eigen::Index(rng() % 130);
    Eigen::ArrayXd s(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto pick = rng() % 10;
      s[i] = pick < 6   ? unit(rng)
             : pick < 8 ? std::pow(10.0, power(rng))
                        : specials[rng() % std::size(specials)];
    }
    if (trial % 7 == 3) s[Eigen::Index(rng() % std::uint64_t(n))] = trial % 2 ? nan : inf;
    const Eigen::ArrayXd expected = s.max(std::numeric_limits<double>::min()).log();
    Eigen::ArrayXd got;
    steppe::detail::log_floor(s, got);
    REQUIRE(got.size() == n);
    for (Eigen::Index i = 0; i < n; ++i) {
      INFO("trial " << trial << ", n " << n << ", i " << i << ", s " << s[i]);
      CHECK((same(got[i], expected[i]) || (std::isnan(got[i]) && std::isnan(expected[i]))));
    }
  }
}

TEST_CASE("exp_array agrees with std::exp, with std::exp's own values out of range", "[scenario]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> wide(-720.0, 720.0), narrow(-3.0, 0.0);
  std::vector<double> x;
  for (int i = 0; i < 20000; ++i) x.push_back(i % 2 ? wide(rng) : narrow(rng));
  const double nan = std::numeric_limits<double>::quiet_NaN(),
               inf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, 1e-300, -1e-300, 708.0, -708.0, 708.5, -708.5, -745.2, -800.0,
                   -5000.0, 710.0, nan, inf, -inf, -1.0, 1.0})
    x.push_back(v);
  x.push_back(-0.5);
  if (x.size() % 2 == 0) x.push_back(-0.25);  // an odd count: the last element goes alone
  std::vector<double> y(x.size());
  steppe::detail::exp_array(x.data(), y.data(), Eigen::Index(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    const double e = std::exp(x[i]);
    if (std::isnan(e)) CHECK(std::isnan(y[i]));
    else if (e == 0.0 || std::isinf(e) || !std::isnormal(e)) CHECK(y[i] == e);
    else CHECK(std::abs(y[i] - e) <= 1e-15 * e);
  }
  // One or two elements at a time (2-lane packets) give the bits of the whole array (4-lane
  // packets where the CPU has AVX2): each result depends on its own argument only.
  std::vector<double> pairs(x.size()), singles(x.size());
  for (std::size_t i = 0; i + 2 <= x.size(); i += 2)
    steppe::detail::exp_array(x.data() + i, pairs.data() + i, 2);
  for (std::size_t i = 0; i < x.size(); ++i)
    steppe::detail::exp_array(x.data() + i, singles.data() + i, 1);
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    if (i + 2 <= x.size() - x.size() % 2) CHECK(same(pairs[i], y[i]));
    CHECK(same(singles[i], y[i]));
  }
  // In place, as build() calls it.
  std::vector<double> z = x;
  steppe::detail::exp_array(z.data(), z.data(), Eigen::Index(z.size()));
  for (std::size_t i = 0; i < x.size(); ++i)
    CHECK((z[i] == y[i] || (std::isnan(z[i]) && std::isnan(y[i]))));
}

TEST_CASE("crisis_column gives the bits of the multiplier, exp_array and select one by one",
          "[scenario]") {
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> risk(0.5, 3.0), surv(0.0, 1.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  for (std::size_t n : {1, 2, 3, 5, 8, 101, 102}) {
    for (double intensity : {0.0, 0.37, 2.5, 1e4, -3.0}) {
      std::vector<double> rr(n), s(n), log_s(n);
      for (std::size_t i = 0; i < n; ++i) {
        rr[i] = risk(rng);
        s[i] = i % 7 == 3 ? 0.0 : surv(rng);
        log_s[i] = std::log(std::max(s[i], 1e-300));
      }
      if (n > 4) log_s[4] = nan, rr[2] = 1.0;
      // The unfused reference, as build() used to compute it.
      std::vector<double> ref(n);
      bool negative = false;
      for (std::size_t i = 0; i < n; ++i) {
        const double m = 1.0 + intensity * (rr[i] - 1.0);
        negative |= m < 0.0;
        ref[i] = m * log_s[i];
      }
      steppe::detail::exp_array(ref.data(), ref.data(), Eigen::Index(n));
      for (std::size_t i = 0; i < n; ++i)
        if (!(s[i] > 0.0)) ref[i] = 0.0;
      std::vector<double> out(n);
      INFO("n = " << n << ", intensity = " << intensity);
      CHECK(steppe::detail::crisis_column(intensity, rr.data(), log_s.data(), s.data(), out.data(),
                                          Eigen::Index(n)) == negative);
      for (std::size_t i = 0; i < n; ++i) CHECK(same(out[i], ref[i]));
      // With a second output (build's memo and RateSet column): both get the same bits.
      std::vector<double> out1(n), out2(n);
      CHECK(steppe::detail::crisis_column(intensity, rr.data(), log_s.data(), s.data(),
                                          out1.data(), Eigen::Index(n), out2.data()) == negative);
      for (std::size_t i = 0; i < n; ++i) CHECK((same(out1[i], ref[i]) && same(out2[i], ref[i])));
    }
  }
}

namespace {

/// Every field of every RateSet, and the initial population, bit for bit (shapes included).
bool same(const steppe::ModelInputs& a, const steppe::ModelInputs& b) {
  auto eq = [](const auto& x, const auto& y) {
    return x.rows() == y.rows() && x.cols() == y.cols() && (x == y).all();
  };
  bool ok = eq(a.initial.home(), b.initial.home()) && eq(a.initial.abroad(), b.initial.abroad()) &&
            a.rates.size() == b.rates.size();
  for (std::size_t k = 0; ok && k < a.rates.size(); ++k) {
    const steppe::RateSet &r = a.rates[k], &t = b.rates[k];
    ok = eq(r.survivorship, t.survivorship) && eq(r.birth_survivorship, t.birth_survivorship) &&
         eq(r.survivorship_abroad, t.survivorship_abroad) && eq(r.asfr, t.asfr) &&
         eq(r.asfr_abroad, t.asfr_abroad) && eq(r.srb, t.srb) &&
         eq(r.net_migration_rate, t.net_migration_rate) &&
         eq(r.net_migration_count, t.net_migration_count) &&
         eq(r.crisis_survivorship, t.crisis_survivorship) &&
         eq(r.crisis_birth_survivorship, t.crisis_birth_survivorship) &&
         eq(r.crisis_survivorship_abroad, t.crisis_survivorship_abroad) &&
         eq(r.crisis_birth_survivorship_abroad, t.crisis_birth_survivorship_abroad) &&
         eq(r.fertility_multiplier, t.fertility_multiplier) &&
         eq(r.emigration_rate, t.emigration_rate) && eq(r.emigration_count, t.emigration_count) &&
         eq(r.return_rate, t.return_rate) && eq(r.return_count, t.return_count) &&
         eq(r.immigration_count, t.immigration_count);
  }
  return ok;
}

/// Builds each of `draws` (sampled with `seed`) into `reused`, after whatever it held before, and
/// checks it against the same draw built into fresh inputs: the memo keeps nothing stale.
void check_reused_builds(const Scenario& s, std::uint64_t seed,
                         std::initializer_list<std::uint64_t> draws, steppe::ModelInputs& reused) {
  std::vector<double> v;
  for (std::uint64_t draw : draws) {
    INFO("draw " << draw);
    s.sample(seed, draw, v);
    s.build(v, reused);
    steppe::ModelInputs fresh;
    s.build(v, fresh);
    CHECK(same(reused, fresh));
  }
}

}  // namespace

TEST_CASE("build's memo: a draw built after others equals the same draw built fresh",
          "[scenario]") {
  const Scenario s = Scenario::load(std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" /
                                    "famine_sketch.json");
  std::vector<double> v;
  steppe::ModelInputs reused;
  check_reused_builds(s, 5, {0, 1, 2, 0, 0, 3}, reused);
  // Central values after draws, and a draw after central values.
  s.central(v);
  s.build(v, reused);
  steppe::ModelInputs fresh;
  s.build(v, fresh);
  CHECK(same(reused, fresh));
  // The crisis is present in the famine years only; the step before it has none at home.
  CHECK(reused.rates[0].crisis_survivorship.size() == 0);
  CHECK(reused.rates[5].crisis_survivorship.size() > 0);
}

namespace {

/// Builds many draws in sequence into one ModelInputs, each with some crisis parameters set to
/// 0 (so crisis components come and go between draws, and draws repeat), and checks each against
/// the same values built into a fresh ModelInputs.
void check_sequence(const Scenario& s, int n) {
  std::vector<std::size_t> crisis_params;
  for (std::size_t k = 0; k < s.parameters().size(); ++k)
    if (s.parameters()[k].pointer.rfind("/crisis", 0) == 0) crisis_params.push_back(k);
  REQUIRE(!crisis_params.empty());
  std::mt19937 rng(7);
  std::vector<double> v;
  steppe::ModelInputs reused;
  bool appeared = false, disappeared = false;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t draw = rng() % 5;
    const unsigned mask = rng() % 4;  // 0: as drawn; else zero a subset of crisis parameters
    INFO("iteration " << i << ", draw " << draw << ", mask " << mask);
    if (i % 7 == 6) s.central(v);
    else s.sample(11, draw, v);
    for (std::size_t j = 0; j < crisis_params.size(); ++j)
      if (mask != 0 && (j * 2654435761u + mask) % 3 != 0) v[crisis_params[j]] = 0.0;
    std::vector<std::size_t> before;
    for (const auto& r : reused.rates) before.push_back(std::size_t(r.crisis_survivorship.size()));
    s.build(v, reused);
    for (std::size_t k = 0; k < before.size(); ++k) {
      const std::size_t now = std::size_t(reused.rates[k].crisis_survivorship.size());
      appeared |= before[k] == 0 && now > 0;
      disappeared |= before[k] > 0 && now == 0;
    }
    steppe::ModelInputs fresh;
    s.build(v, fresh);
    CHECK(same(reused, fresh));
  }
  CHECK(appeared);
  CHECK(disappeared);

  // A copy shares the memo but not the arrays: building into either stays exact.
  steppe::ModelInputs copy = reused;
  s.sample(11, 3, v);
  s.build(v, copy);
  steppe::ModelInputs fresh;
  s.build(v, fresh);
  CHECK(same(copy, fresh));
  s.sample(11, 4, v);
  s.build(v, reused);
  steppe::ModelInputs fresh2;
  s.build(v, fresh2);
  CHECK(same(reused, fresh2));
  s.sample(11, 3, v);
  s.build(v, copy);
  CHECK(same(copy, fresh));

  // A build that throws half-way leaves nothing trusted: the next one is exact.
  std::vector<double> bad = v;
  bool made_bad = false;
  for (std::size_t k = 0; k < s.parameters().size(); ++k)
    if (s.parameters()[k].pointer.find("/e0/") != std::string::npos) bad[k] = 500.0, made_bad = true;
  REQUIRE(made_bad);
  CHECK_THROWS_AS(s.build(bad, reused), steppe::domain_error);
  s.build(v, reused);
  CHECK(same(reused, fresh));

  // The contract: a caller that modifies the rates resets the memo.
  reused.rates[0].survivorship.setZero();
  reused.rates[1].asfr.resize(0, 0);
  reused.cache.reset();
  s.build(v, reused);
  CHECK(same(reused, fresh));
}

}  // namespace

TEST_CASE("build's column skipping: draws in sequence equal fresh builds, famine_sketch",
          "[scenario]") {
  check_sequence(Scenario::load(std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" /
                                "famine_sketch.json"),
                 80);
}

TEST_CASE("build's column skipping: crisis components that come and go between draws",
          "[scenario]") {
  const json patch = {
      {"groups",
       {{{"name", "kazakh"},
         {"initial_population", tiny()["groups"][0]["initial_population"]},
         {"mortality",
          {{"coale_demeny",
            {{"family", "west"}, {"e0", {{"female", {{"uniform", {35, 45}}}}, {"male", 37.5}}}}}}},
         {"fertility", {{"tfr", {{"uniform", {5, 7}}}}, {"schedule", "ussr_adh_1926"}}},
         {"migration",
          {{"net_count", {{"uniform", {-100, 100}}}},
           {"age_pattern", "rogers_castro"},
           {"female_share", 0.5}}}}}},
      {"crisis",
       {{"kazakh",
         {{"excess_mortality",
           {{"intensity", {{"1926", 0}, {"1927", {{"uniform", {0, 2}}}}, {"1929", 0}}},
            {"relative_risk", 1.5}}},
          {"flight", {{"rate", {{"1926", 0}, {"1927", {{"uniform", {0, 0.1}}}}, {"1928", 0}}}}},
          {"return", {{"rate", {{"uniform", {0, 0.3}}}}}}}}}}};
  check_sequence(load(tiny(patch)), 60);
}

TEST_CASE("build's column skipping: crisis flows of two groups that come and go apart",
          "[scenario]") {
  // Flight, in-migration and returns in both groups, each zeroed in some draws only: a flow's
  // array stays present while one group's columns go to zero and back.
  const json patch = {
      {"groups",
       {{{"name", "kazakh"},
        {"initial_population", tiny()["groups"][0]["initial_population"]},
        {"mortality", {{"coale_demeny", {{"family", "west"}, {"e0", {{"female", 40}, {"male", 37.5}}}}}}},
        {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}},
        {{"name", "other"},
        {"initial_population", tiny()["groups"][0]["initial_population"]},
        {"mortality", {{"coale_demeny", {{"family", "west"}, {"e0", {{"female", 40}, {"male", 37.5}}}}}}},
        {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}}}},
      {"crisis",
       {{"kazakh",
         {{"excess_mortality",
           {{"intensity", {{"1926", 0}, {"1927", {{"uniform", {0, 2}}}}, {"1929", 0}}},
            {"relative_risk", 1.5}}},
          {"flight", {{"rate", {{"1926", 0}, {"1927", {{"uniform", {0, 0.1}}}}, {"1928", 0}}}}},
          {"in_migration",
           {{"count", {{"1926", 0}, {"1927", {{"uniform", {0, 50}}}}, {"1928", 0}}},
            {"female_share", 0.5}}},
          {"return", {{"rate", {{"uniform", {0, 0.3}}}}}}}},
        {"other",
         {{"flight", {{"rate", {{"1926", 0}, {"1927", {{"uniform", {0, 0.1}}}}, {"1928", 0}}}}},
          {"in_migration",
           {{"count", {{"1926", 0}, {"1927", {{"uniform", {0, 50}}}}, {"1928", 0}}},
            {"female_share", 0.5}}},
          {"return", {{"rate", {{"uniform", {0, 0.3}}}}}}}}}}};
  check_sequence(load(tiny(patch)), 80);
}

TEST_CASE("a flight rate whose age pattern takes more than everybody out of some age is an error",
          "[scenario]") {
  // The Rogers–Castro pattern has mean 1 and peaks well above 1 at young adult ages: a rate of
  // 0.9 per year times it exceeds 1 there. A uniform pattern (1 at every age) at 0.9 does not.
  auto flight = [](const json& rate, const char* pattern) {
    return json{{"crisis", {{"kazakh", {{"flight", {{"rate", rate}, {"age_pattern", pattern}}}}}}}};
  };
  std::vector<double> v;
  steppe::ModelInputs in;
  const Scenario peaked = load(tiny(flight(0.9, "rogers_castro")));
  peaked.central(v);
  CHECK_THROWS_WITH(peaked.build(v, in), Catch::Contains("/crisis/kazakh/flight/rate") &&
                                             Catch::Contains("exceeds 1 at some age"));
  const Scenario flat = load(tiny(flight(0.9, "uniform")));
  flat.central(v);
  CHECK_NOTHROW(flat.build(v, in));
  CHECK(in.rates[1].emigration_rate.maxCoeff() == Approx(0.9).epsilon(1e-12));
  // Drawn rates: the build throws exactly when some cell of rate per step × pattern exceeds 1
  // (the pattern recovered from a build at 0.1 per year; the draws land nowhere near the edge).
  steppe::ModelInputs probe;
  const Scenario low = load(tiny(flight(0.1, "rogers_castro")));
  low.central(v);
  low.build(v, probe);
  const Scenario low_flat = load(tiny(flight(0.1, "uniform")));
  low_flat.central(v);
  low_flat.build(v, in);
  const Eigen::ArrayXXd pattern = probe.rates[0].emigration_rate / in.rates[0].emigration_rate(0, 0);
  const Scenario drawn = load(tiny(flight({{"uniform", {0.05, 0.6}}}, "rogers_castro")));
  const Scenario drawn_flat = load(tiny(flight({{"uniform", {0.05, 0.6}}}, "uniform")));
  steppe::ModelInputs drawn_in;
  int threw = 0, passed = 0;
  for (std::uint64_t d = 0; d < 40; ++d) {
    drawn.sample(5, d, v);
    drawn_flat.build(v, in);  // the same draw with pattern 1: the rate per step
    const double p_step = in.rates[0].emigration_rate(0, 0);
    const bool expected = (p_step * pattern > 1.0).any();
    bool thrown = false;
    try {
      drawn.build(v, drawn_in);
    } catch (const steppe::domain_error&) {
      thrown = true;
    }
    CAPTURE(d, p_step);
    CHECK(thrown == expected);
    (thrown ? threw : passed)++;
  }
  CHECK(threw > 0);
  CHECK(passed > 0);
}

// Scenario::group_parameters lists every parameter a group's inputs depend on: changing any
// other parameter leaves the group's columns of the initial population and of every RateSet
// bit for bit as they were (where the component is present in both builds).
TEST_CASE("Scenario::group_parameters: other parameters leave a group's inputs unchanged",
          "[unit]") {
  const std::string file = GENERATE(as<std::string>{}, "famine_sketch.json",
                                    "kazakhstan-1926-1939.json", "literature/tatimov.json");
  const Scenario s = Scenario::load(std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" / file);
  const auto reads = s.group_parameters();
  REQUIRE(reads.size() == std::size_t(s.dims().n_groups()));
  std::vector<double> base;
  s.sample(3, 0, base);
  steppe::ModelInputs a, b;
  s.build(base, a);
  auto same = [](const auto& x, const auto& y) {
    return x.rows() == y.rows() && x.cols() == y.cols() &&
           std::memcmp(x.data(), y.data(), sizeof(double) * std::size_t(x.size())) == 0;
  };
  for (std::size_t p = 0; p < base.size(); ++p) {
    std::vector<double> v = base;
    std::vector<double> other;
    s.sample(3, 1 + p, other);  // another draw of p (a constant stays as it is)
    v[p] = other[p];
    if (v[p] == base[p]) v[p] = base[p] * (1.0 + 1e-6) + 1e-9;  // (within most bounds)
    try {
      s.build(v, b);
    } catch (const steppe::domain_error&) {
      continue;  // (a nudge outside the parameter's domain)
    }
    for (int g = 0; g < s.dims().n_groups(); ++g) {
      const auto& r = reads[std::size_t(g)];
      if (std::binary_search(r.begin(), r.end(), p)) continue;
      INFO(file << ": parameter " << p << " (" << s.parameters()[p].pointer << "), group " << g);
      const Eigen::Index c = steppe::Dims::col(steppe::Sex::female, g);
      CHECK(same(a.initial.home().middleCols(c, 2), b.initial.home().middleCols(c, 2)));
      CHECK(same(a.initial.abroad().middleCols(c, 2), b.initial.abroad().middleCols(c, 2)));
      for (std::size_t k = 0; k < a.rates.size(); ++k) {
        const steppe::RateSet &x = a.rates[k], &y = b.rates[k];
        for (auto m : {&steppe::RateSet::survivorship, &steppe::RateSet::survivorship_abroad,
                       &steppe::RateSet::net_migration_rate, &steppe::RateSet::net_migration_count,
                       &steppe::RateSet::crisis_survivorship,
                       &steppe::RateSet::crisis_survivorship_abroad,
                       &steppe::RateSet::emigration_rate, &steppe::RateSet::emigration_count,
                       &steppe::RateSet::return_rate, &steppe::RateSet::return_count,
                       &steppe::RateSet::immigration_count})
          if ((x.*m).size() && (y.*m).size())
            CHECK(same((x.*m).middleCols(c, 2), (y.*m).middleCols(c, 2)));
        for (auto m : {&steppe::RateSet::asfr, &steppe::RateSet::asfr_abroad})
          if ((x.*m).size() && (y.*m).size()) CHECK(same((x.*m).col(g), (y.*m).col(g)));
        for (auto m : {&steppe::RateSet::birth_survivorship,
                       &steppe::RateSet::birth_survivorship_abroad,
                       &steppe::RateSet::crisis_birth_survivorship,
                       &steppe::RateSet::crisis_birth_survivorship_abroad})
          if ((x.*m).size() && (y.*m).size()) CHECK(same((x.*m).segment(c, 2), (y.*m).segment(c, 2)));
        for (auto m : {&steppe::RateSet::srb, &steppe::RateSet::fertility_multiplier})
          if ((x.*m).size() && (y.*m).size()) CHECK(same((x.*m).segment(g, 1), (y.*m).segment(g, 1)));
      }
    }
    s.build(base, b);  // (back to the base, so that b's memo matches it again)
  }
}

TEST_CASE("an uncertain relative risk builds, draw by draw, the rates of the number it drew",
          "[scenario]") {
  const auto sketch = std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" / "famine_sketch.json";
  const std::string home = "/crisis/kazakh/excess_mortality/relative_risk/female/1",
                    abroad = "/crisis/kazakh/abroad/excess_mortality/relative_risk";
  const Scenario uncertain = Scenario::load(
      sketch, {home + R"(={"uniform": [2, 3]})", abroad + R"(={"uniform": [1.5, 2.5]})"});
  auto index_of = [&](const std::string& pointer) {
    const auto ps = uncertain.parameters();
    const auto it =
        std::find_if(ps.begin(), ps.end(), [&](const auto& p) { return p.pointer == pointer; });
    REQUIRE(it != ps.end());
    return std::size_t(it - ps.begin());
  };
  const std::size_t p_home = index_of(home), p_abroad = index_of(abroad);
  CHECK_FALSE(uncertain.parameters()[p_home].distribution.is_constant());
  // The schedule's other values are constant parameters now; the group reads all of them.
  const std::size_t p_other = index_of("/crisis/kazakh/excess_mortality/relative_risk/male/4");
  CHECK(uncertain.parameters()[p_other].distribution.is_constant());
  const auto reads = uncertain.group_parameters();
  for (std::size_t p : {p_home, p_abroad, p_other}) {
    CHECK(std::binary_search(reads[0].begin(), reads[0].end(), p));
    CHECK_FALSE(std::binary_search(reads[1].begin(), reads[1].end(), p));
  }

  // Central values but the two relative risks, against the scenario that writes those numbers.
  std::vector<double> v;
  uncertain.central(v);
  steppe::ModelInputs reused;
  for (auto [rr_home, rr_abroad] :
       {std::pair{2.0, 1.5}, {3.0, 2.5}, {2.25, 2.5}, {3.0, 2.5}, {3.0, 1.75}}) {
    INFO("relative risks " << rr_home << ", " << rr_abroad);
    v[p_home] = rr_home;
    v[p_abroad] = rr_abroad;
    uncertain.build(v, reused);  // after the other draws: the memo must not keep the old risks
    const Scenario fixed = Scenario::load(
        sketch, {home + "=" + std::to_string(rr_home), abroad + "=" + std::to_string(rr_abroad)});
    std::vector<double> w;
    fixed.central(w);
    steppe::ModelInputs expected;
    fixed.build(w, expected);
    CHECK(same(reused, expected));
  }
  // Sampled draws: one after another into the same inputs, each equal to a fresh build.
  check_reused_builds(uncertain, 9, {0, 1, 2, 3, 4, 5}, reused);
}

TEST_CASE("an uncertain scalar relative risk is the number drawn in every 5-year cell",
          "[scenario]") {
  // Five-year cells average a step schedule over their years; a scalar is stored as it is, and
  // so must its draws be (x·5/5 is not always x).
  const auto sketch = std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" / "famine_sketch.json";
  const std::vector<std::string> five_year = {
      R"(/projection/ages={"layout": "five_year", "open_age": 85})", "/projection/end=1941-12-17"};
  const std::string rr = "/crisis/kazakh/abroad/excess_mortality/relative_risk";
  auto with = [&](const std::string& set) {
    std::vector<std::string> o = five_year;
    o.push_back(rr + "=" + set);
    return Scenario::load(sketch, o);
  };
  for (const double x : {1.62, 2.0, 1.1}) {
    INFO("relative risk " << x);
    const Scenario uncertain = with(R"({"uniform": [1, 3]})");
    const Scenario fixed = with(std::to_string(x));
    std::vector<double> v, w;
    uncertain.central(v);
    const auto ps = uncertain.parameters();
    const auto it =
        std::find_if(ps.begin(), ps.end(), [&](const auto& p) { return p.pointer == rr; });
    REQUIRE(it != ps.end());
    v[std::size_t(it - ps.begin())] = x;
    fixed.central(w);
    steppe::ModelInputs a, b;
    uncertain.build(v, a);
    fixed.build(w, b);
    CHECK(same(a, b));
  }
}

TEST_CASE("a relative risk's distribution must stay at or above 0", "[scenario]") {
  const auto sketch = std::filesystem::path(STEPPE_REPO_DIR) / "scenarios" / "famine_sketch.json";
  const std::string rr = "/crisis/kazakh/excess_mortality/relative_risk/male/2";
  CHECK_THROWS_WITH(Scenario::load(sketch, {rr + R"(={"normal": {"mean": 2, "sd": 1}})"}),
                    Catch::Contains("--set:" + rr + ": expected a distribution within [0, "));
  CHECK_NOTHROW(
      Scenario::load(sketch, {rr + R"(={"normal": {"mean": 2, "sd": 1}, "truncate": [1, 4]})"}));
}

TEST_CASE(
    "explicit q(x) as a time series: each step's table mixes the years' tables by the "
    "step's mean weight",
    "[scenario]") {
  const std::vector<double> ages = {0, 1, 5, 15, 30, 50, 70};
  const std::vector<double> qa = {0.15, 0.08, 0.03, 0.05, 0.1, 0.25, 1.0};
  const std::vector<double> qb = {0.30, 0.20, 0.06, 0.08, 0.2, 0.40, 1.0};
  auto scenario = [&](const json& qx) {
    return load(tiny({{"groups",
                       {{{"name", "kazakh"},
                         {"initial_population",
                          {{"female", 1000},
                           {"male", 900},
                           {"age_structure",
                            {{"ages", {0, 20, 40}}, {"female", {3, 2, 1}}, {"male", {3, 2, 1}}}}}},
                         {"mortality", {{"life_table", {{"ages", ages}, {"qx", qx}}}}},
                         {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}}}}}));
  };
  const Scenario series = scenario(
      {{"1926", {{"female", qa}, {"male", qa}}}, {"1928", {{"female", qb}, {"male", qb}}}});
  std::vector<double> v;
  series.central(v);
  steppe::ModelInputs in;
  series.build(v, in);
  REQUIRE(in.rates.size() == 4);
  // Steps 1926…1929 from 1 January: the weight of 1928's table, linear from 0 at mid-1926 to 1
  // at mid-1928, averaged over each step: 1/16, 1/2, 15/16, 1.
  const steppe::AgeAxis axis = steppe::AgeAxis::single_year(60);
  const double weight[] = {1.0 / 16, 0.5, 15.0 / 16, 1.0};
  for (std::size_t k = 0; k < 4; ++k) {
    Eigen::ArrayXd q(Eigen::Index(ages.size()));
    for (std::size_t i = 0; i < ages.size(); ++i)
      q[Eigen::Index(i)] = (1 - weight[k]) * qa[i] + weight[k] * qb[i];
    const steppe::LifeTable lt = steppe::LifeTable::from_qx(
        Eigen::Map<const Eigen::ArrayXd>(ages.data(), Eigen::Index(ages.size())), q,
        steppe::AxRule::coale_demeny(steppe::Sex::female));
    const Eigen::ArrayXd expected = lt.projection_survivorship(axis);
    INFO("step " << k);
    CHECK(((in.rates[k].survivorship.col(0) - expected).abs() <= 1e-13).all());
  }
  // The last step is 1928's table itself: the scenario with that table alone, bit for bit.
  const Scenario constant = scenario({{"female", qb}, {"male", qb}});
  std::vector<double> w;
  constant.central(w);
  steppe::ModelInputs fixed;
  constant.build(w, fixed);
  CHECK((in.rates[3].survivorship == fixed.rates[3].survivorship).all());
  CHECK_FALSE((in.rates[0].survivorship == fixed.rates[0].survivorship).all());
  // One table whose sexes have different lengths (no "ages": each sex its own single years).
  std::vector<double> qf(61, 0.02), qm(56, 0.025);
  qf.back() = 1.0;
  qm.back() = 1.0;
  const json lengths = tiny({{"groups", {{{"name", "kazakh"},
                                          {"initial_population",
                                           {{"female", 1000}, {"male", 900},
                                            {"age_structure", {{"stable", {{"growth_rate", 0.01}}}}}}},
                                          {"mortality", {{"life_table", {{"qx", {{"female", qf}, {"male", qm}}}}}}},
                                          {"fertility", {{"tfr", 6}, {"schedule", "ussr_adh_1926"}}}}}}});
  CHECK_NOTHROW(load(lengths));
  // A key that is neither a sex nor a year.
  CHECK_THROWS_WITH(scenario({{"1926", {{"female", qa}, {"male", qa}}},
                              {"late", {{"female", qb}, {"male", qb}}}}),
                    Catch::Contains("tiny.json:/groups/0/mortality/life_table/qx/late: expected"));
}
