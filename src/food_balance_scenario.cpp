// SPDX-License-Identifier: MIT
// The food-balance crisis of a scenario ("crisis": {"model": "food_balance", …}): one draw's
// drivers and parameters → run_food_balance → per group and year the crisis series the engine
// already uses (excess-mortality intensity, flight rate, fertility reduction). Scenario::build
// calls food_balance_values once per draw and reads every series from what it returns, so the
// projection, run_draws, calibrate and compare work unchanged.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "scenario_impl.hpp"

namespace steppe::detail {

double Series::at(std::span<const double> v, double t) const noexcept {
  const double scale_value = scale >= 0 ? v[std::size_t(scale)] : 1.0;
  const std::size_t n = values.size();
  auto y = [&](std::size_t i) { return v[std::size_t(values[i])]; };
  if (n == 1 || t <= years.front()) return y(0) * scale_value;
  if (t >= years.back()) return y(n - 1) * scale_value;
  std::size_t i = 1;
  while (years[i] < t) ++i;
  const double w = (t - years[i - 1]) / (years[i] - years[i - 1]);
  return (y(i - 1) + (y(i) - y(i - 1)) * w) * scale_value;
}

namespace {

// Defaults of the drivers a scenario may leave out (scenarios/README.md): steppe herds of the
// 1920s, births net of normal deaths and normal slaughter for the owners' food, per year.
constexpr BySpecies kNaturalIncrease{0.12, 0.12, 0.25, 0.07};  // horses, cattle, sheep/goats, camels
constexpr BySpecies kSlaughter{0.08, 0.08, 0.20, 0.04};
constexpr double kSeedShare = 0.15;
constexpr double kReferenceGrowth = 0.01;

double series_or(const Series& s, std::span<const double> v, double t, double fallback) {
  return s.empty() ? fallback : s.at(v, t);
}

double value_or(int index, std::span<const double> v, double fallback) {
  return index >= 0 ? v[std::size_t(index)] : fallback;
}

DeficitResponse response(const std::array<int, 3>& r, std::span<const double> v,
                         DeficitResponse fallback) {
  return {value_or(r[0], v, fallback.maximum), value_or(r[1], v, fallback.half_deficit),
          value_or(r[2], v, fallback.steepness)};
}

}  // namespace

std::span<const double> food_balance_values(const Scenario::Impl& s, std::span<const double> v,
                                            FoodBalanceScratch& x) {
  const FoodBalanceSpec& f = *s.food_balance;
  const std::size_t P = s.parameters.size();
  const int Y = f.last_year - f.first_year + 1;
  const int G = int(f.groups.size());
  x.values.resize(P + f.derived_count());
  std::copy(v.begin(), v.end(), x.values.begin());

  FoodParameters p;
  for (std::size_t i = 0; i < kSpeciesCount; ++i) {
    SpeciesYield& y = p.yields[i];
    y.meat_kcal_per_head = value_or(f.yields[i][0], v, y.meat_kcal_per_head);
    y.milk_kcal_per_head = value_or(f.yields[i][1], v, y.milk_kcal_per_head);
    y.tlu = value_or(f.yields[i][2], v, y.tlu);
  }
  p.requirement_kcal = value_or(f.requirement, v, p.requirement_kcal);
  p.grain_kcal_per_kg = value_or(f.grain_kcal_per_kg, v, p.grain_kcal_per_kg);
  p.grain_food_share = value_or(f.grain_food_share, v, p.grain_food_share);
  p.distress_offtake = response(f.distress, v, p.distress_offtake);

  Herd initial;
  for (std::size_t i = 0; i < kSpeciesCount; ++i) initial.head[i] = v[std::size_t(f.herd[i])];

  // Drivers of year t are the series' values at its mid-year point (the value written for it).
  x.herd.resize(std::size_t(Y));
  x.grain.resize(std::size_t(Y));
  for (int t = 0; t < Y; ++t) {
    const double mid = f.first_year + t + 0.5;
    HerdDrivers& h = x.herd[std::size_t(t)];
    for (std::size_t i = 0; i < kSpeciesCount; ++i) {
      h.natural_increase[i] = series_or(f.natural_increase[i], v, mid, kNaturalIncrease[i]);
      h.slaughter[i] = series_or(f.slaughter[i], v, mid, kSlaughter[i]);
      h.forced_slaughter[i] = series_or(f.forced_slaughter[i], v, mid, 0.0);
      h.collective_losses[i] = series_or(f.collective_losses[i], v, mid, 0.0);
      const double procured = series_or(f.procurement[i], v, mid, 0.0);
      h.procurement_share[i] = f.procurement_in_head ? 0.0 : procured;
      h.procurement_head[i] = f.procurement_in_head ? procured : 0.0;
    }
    GrainDrivers& g = x.grain[std::size_t(t)];
    g.harvest_t = series_or(f.harvest, v, mid, 0.0);
    g.procurement_t = series_or(f.grain_procurement, v, mid, 0.0);
    g.seed_share = series_or(f.seed_share, v, mid, kSeedShare);
    g.aid_t = series_or(f.aid, v, mid, 0.0);
  }

  // The per-person denominator: each group's reference population, never the projection's
  // state. Either the group's initial population (counted / (1 − undercount), both sexes, at
  // home) grown at reference_population.growth_rate from the projection's start to mid-year, or
  // the reference_population.persons series at mid-year.
  x.dependence.assign(std::size_t(Y) * std::size_t(G), FoodDependence{});
  x.persons.resize(Y, G);
  for (int g = 0; g < G; ++g) {
    const FoodBalanceSpec::Group& fg = f.groups[std::size_t(g)];
    if (!fg.present) {
      x.persons.col(g).setOnes();  // draws nothing (dependence 0), responds with nothing
      continue;
    }
    for (int t = 0; t < Y; ++t) {
      const double mid = f.first_year + t + 0.5;
      FoodDependence& d = x.dependence[std::size_t(t) * std::size_t(G) + std::size_t(g)];
      d.livestock = fg.dependence[0].at(v, mid);
      d.grain = fg.dependence[1].at(v, mid);
      d.aid = fg.dependence[2].empty() ? d.grain : fg.dependence[2].at(v, mid);
    }
    double initial_persons = 0;
    const InitialSpec& in = s.groups[std::size_t(g)].initial;
    for (std::size_t sex = 0; sex < 2; ++sex) {
      double n = v[std::size_t(in.totals[sex])];
      if (in.undercount[sex] >= 0) n /= 1.0 - v[std::size_t(in.undercount[sex])];
      initial_persons += n;
    }
    const double r = value_or(fg.reference_growth, v, kReferenceGrowth);
    for (int t = 0; t < Y; ++t) {
      const double mid = f.first_year + t + 0.5;
      x.persons(t, g) = fg.reference_persons.empty()
                            ? initial_persons * std::exp(r * (mid - f.start))
                            : fg.reference_persons.at(v, mid);
    }
    if (!(x.persons.col(g).minCoeff() > 0.0)) {
      std::ostringstream m;
      m << s.file << ":/crisis/groups/" << s.dims.groups()[std::size_t(g)]
        << "/reference_population: expected a reference population > 0 persons in every year";
      throw domain_error(m.str());
    }
  }

  run_food_balance(p, initial, x.herd, x.grain, x.dependence, x.persons, x.trajectory);

  // The responses, year by year, into the derived slots the crisis series read. The flight
  // response gives attempts: the border lets `success` of them out (the flight rate); of those it
  // stops, `mortality` die (deaths in flight, at home) and the rest are turned back and stay.
  static const DeficitResponse kNoResponse{0.0, 0.3, 3.0};
  for (int g = 0; g < G; ++g) {
    const FoodBalanceSpec::Group& fg = f.groups[std::size_t(g)];
    for (int r = 0; r < 3; ++r) {
      if (!fg.has_response[std::size_t(r)]) continue;
      const DeficitResponse resp = response(fg.response[std::size_t(r)], v, kNoResponse);
      x.values[f.slot(g, r, 0)] = 0.0;  // before the herd year: no crisis
      for (int t = 0; t < Y; ++t)
        x.values[f.slot(g, r, t + 1)] = resp(x.trajectory.deficit(t, g));
    }
    if (!fg.has_response[1]) continue;
    const bool deaths = f.flight_deaths(g);
    if (deaths) x.values[f.slot(g, FoodBalanceSpec::kFlightDeaths, 0)] = 0.0;
    if (f.border_success.empty() && !deaths) continue;
    for (int t = 0; t < Y; ++t) {
      const double mid = f.first_year + t + 0.5;
      double& rate = x.values[f.slot(g, 1, t + 1)];
      const double attempts = rate;
      const double success = series_or(f.border_success, v, mid, 1.0);
      rate = attempts * success;
      if (deaths)
        x.values[f.slot(g, FoodBalanceSpec::kFlightDeaths, t + 1)] =
            attempts * (1.0 - success) * f.border_mortality.at(v, mid);
    }
  }
  return x.values;
}

namespace {
constexpr const char* kSpeciesNames[kSpeciesCount] = {"horses", "cattle", "sheep_goats", "camels"};
}

std::vector<std::string> food_balance_output_names(const Scenario::Impl& s) {
  std::vector<std::string> names;
  if (!s.food_balance) return names;
  const FoodBalanceSpec& f = *s.food_balance;
  for (int y = f.first_year; y <= f.last_year; ++y) {
    const std::string year = std::to_string(y);
    names.push_back("/drivers/herd/total/" + year);
    for (const char* sp : kSpeciesNames) names.push_back(std::string("/drivers/herd/") + sp + "/" + year);
  }
  for (int y = f.first_year; y <= f.last_year; ++y)
    names.push_back("/drivers/grain/" + std::to_string(y));
  for (const char* what : {"/drivers/kcal_per_person_day/", "/drivers/deficit/"})
    for (const std::string& g : s.dims.groups())
      for (int y = f.first_year; y <= f.last_year; ++y)
        names.push_back(what + g + "/" + std::to_string(y));
  return names;
}

void food_balance_outputs(const Scenario::Impl& s, const FoodBalanceScratch& x, std::vector<double>& out) {
  out.clear();
  if (!s.food_balance) return;
  const FoodBalanceSpec& f = *s.food_balance;
  const int Y = f.last_year - f.first_year + 1;
  for (int t = 0; t < Y; ++t) {
    const Herd& h = x.trajectory.herd[std::size_t(t)];
    out.push_back(h.total());
    for (double head : h.head) out.push_back(head);
  }
  // Grain left after seed and procurement, tonnes (before milling and losses): what the harvest
  // leaves the republic to eat.
  for (const GrainDrivers& g : x.grain) out.push_back(net_grain_t(g));
  for (const Eigen::ArrayXXd* a : {&x.trajectory.kcal_per_person_day, &x.trajectory.deficit})
    for (Eigen::Index g = 0; g < a->cols(); ++g)
      for (int t = 0; t < Y; ++t) out.push_back((*a)(t, g));
}

}  // namespace steppe::detail
