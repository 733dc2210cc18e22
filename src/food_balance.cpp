// SPDX-License-Identifier: MIT
// The food balance of steppe/food_balance.hpp: herd dynamics, food from livestock and grain, the
// deficit, and the deficit responses.
//
// Why the distress offtake feeds no one: if the animals slaughtered in distress were eaten, a
// larger procurement (a smaller herd, a larger deficit) could raise this year's food through more
// distress slaughter, and a model where requisitions feed people is not one calibration should be
// allowed to find. Without it every channel has one sign: food is non-decreasing in the herd, the
// herd non-increasing in the deficit, so food is non-increasing in procurement and non-decreasing
// in aid in every year (run_food_balance's contract, tested in food_balance_test.cpp).
#include "steppe/food_balance.hpp"

#include <algorithm>
#include <cmath>

#include "steppe/axes.hpp"  // STEPPE_ASSERT

namespace steppe {

namespace {
constexpr double kDaysPerYear = 365.0;
}

double Herd::total() const noexcept {
  double s = 0;
  for (double h : head) s += h;
  return s;
}

double Herd::tlu(const BySpecies& tlu_per_head) const noexcept {
  double s = 0;
  for (int i = 0; i < kSpeciesCount; ++i) s += head[std::size_t(i)] * tlu_per_head[std::size_t(i)];
  return s;
}

LivestockYields default_livestock_yields() noexcept {
  LivestockYields y{};
  y[std::size_t(Species::horses)] = {250000, 50000, 0.8};
  y[std::size_t(Species::cattle)] = {220000, 110000, 0.7};
  y[std::size_t(Species::sheep_goats)] = {50000, 12000, 0.1};
  y[std::size_t(Species::camels)] = {350000, 180000, 1.0};
  return y;
}

double DeficitResponse::operator()(double deficit) const noexcept {
  if (!(deficit > 0.0)) return 0.0;
  // D^k / (D^k + h^k) = 1 / (1 + (h/D)^k): one power, exact 1/2 at D = h.
  return maximum / (1.0 + std::pow(half_deficit / deficit, steepness));
}

Herd after_procurement(const Herd& start, const HerdDrivers& d) noexcept {
  Herd out;
  for (std::size_t i = 0; i < kSpeciesCount; ++i) {
    const double h = start.head[i];
    const double procured = std::min(h, d.procurement_share[i] * h + d.procurement_head[i]);
    out.head[i] = h - procured;
  }
  return out;
}

double livestock_food_kcal(const Herd& after, const HerdDrivers& d,
                           const LivestockYields& yields) noexcept {
  double kcal = 0;
  for (std::size_t i = 0; i < kSpeciesCount; ++i) {
    const double slaughtered = std::min(1.0, d.slaughter[i] + d.forced_slaughter[i]) * after.head[i];
    kcal += slaughtered * yields[i].meat_kcal_per_head + after.head[i] * yields[i].milk_kcal_per_head;
  }
  return kcal;
}

double net_grain_t(const GrainDrivers& g) noexcept {
  return std::max(0.0, g.harvest_t * (1.0 - g.seed_share) - g.procurement_t);
}

double grain_food_kcal(const GrainDrivers& g, const FoodParameters& p) noexcept {
  return net_grain_t(g) * p.grain_food_share * 1000.0 * p.grain_kcal_per_kg;
}

double aid_food_kcal(const GrainDrivers& g, const FoodParameters& p) noexcept {
  return g.aid_t * 1000.0 * p.grain_kcal_per_kg;
}

double food_deficit(double kcal_per_person_day, double requirement_kcal) noexcept {
  return std::clamp(1.0 - kcal_per_person_day / requirement_kcal, 0.0, 1.0);
}

Herd next_herd(const Herd& after, const HerdDrivers& d, double distress_share) noexcept {
  Herd out;
  for (std::size_t i = 0; i < kSpeciesCount; ++i) {
    const double change = d.natural_increase[i] - d.slaughter[i] - d.forced_slaughter[i] -
                          d.collective_losses[i] - distress_share;
    out.head[i] = after.head[i] * std::max(0.0, 1.0 + change);
  }
  return out;
}

void run_food_balance(const FoodParameters& p, const Herd& initial,
                      std::span<const HerdDrivers> herd_drivers,
                      std::span<const GrainDrivers> grain_drivers,
                      std::span<const FoodDependence> dependence,
                      const Eigen::Ref<const Eigen::ArrayXXd>& reference_persons,
                      FoodBalanceTrajectory& out) {
  const Eigen::Index Y = Eigen::Index(herd_drivers.size());
  const Eigen::Index G = reference_persons.cols();
  STEPPE_ASSERT(Eigen::Index(grain_drivers.size()) == Y);
  STEPPE_ASSERT(reference_persons.rows() == Y && Eigen::Index(dependence.size()) == Y * G);
  out.herd.resize(std::size_t(Y) + 1);
  out.livestock_kcal.resize(Y);
  out.grain_kcal.resize(Y);
  out.aid_kcal.resize(Y);
  out.kcal_per_person_day.resize(Y, G);
  out.deficit.resize(Y, G);
  out.herd_deficit.resize(Y);

  out.herd[0] = initial;
  for (Eigen::Index t = 0; t < Y; ++t) {
    const HerdDrivers& hd = herd_drivers[std::size_t(t)];
    const GrainDrivers& gd = grain_drivers[std::size_t(t)];
    const Herd after = after_procurement(out.herd[std::size_t(t)], hd);
    const double livestock = livestock_food_kcal(after, hd, p.yields);
    const double grain = grain_food_kcal(gd, p);
    const double aid = aid_food_kcal(gd, p);
    out.livestock_kcal[t] = livestock;
    out.grain_kcal[t] = grain;
    out.aid_kcal[t] = aid;
    double weighted = 0, livestock_weight = 0;
    for (Eigen::Index g = 0; g < G; ++g) {
      const FoodDependence& d = dependence[std::size_t(t * G + g)];
      const double kcal_year = livestock * d.livestock + grain * d.grain + aid * d.aid;
      const double kcal_day = kcal_year / (reference_persons(t, g) * kDaysPerYear);
      out.kcal_per_person_day(t, g) = kcal_day;
      out.deficit(t, g) = food_deficit(kcal_day, p.requirement_kcal);
      weighted += d.livestock * out.deficit(t, g);
      livestock_weight += d.livestock;
    }
    // The herd-holders' deficit: groups weighted by what they draw from the herd.
    out.herd_deficit[t] = livestock_weight > 0 ? weighted / livestock_weight : 0.0;
    const double distress = p.distress_offtake(out.herd_deficit[t]);
    out.herd[std::size_t(t) + 1] = next_herd(after, hd, distress);
  }
}

}  // namespace steppe
