// SPDX-License-Identifier: MIT
// Food balance behind a famine: herds by species and grain, year by year, give each population
// group its food per person per day; the food deficit drives the crisis components the engine
// already has (excess-mortality intensity, flight rate, fertility reduction) through smooth,
// monotone response functions. Value types and pure functions; scenarios/README.md
// ("crisis.model = food_balance") documents the causal chain and every parameter.
//
//   procurement ─► herd after procurement ─► meat (slaughter) + milk ─┐
//   harvest − seed − grain procurement (+ aid) ─► grain food ─────────┼─► kcal/person/day per group
//   reference population (not the projection's state) ────────────────┘        │
//   herd(t+1) ◄── natural increase − slaughter − losses − distress offtake(deficit) ◄── deficit
//                                      deficit ─► intensity, flight rate, fertility reduction
// (In a scenario the flight response gives attempts, which the border regime splits into emigrants
// and deaths in flight: src/food_balance_scenario.cpp, scenarios/README.md.)
#pragma once

#include <Eigen/Core>
#include <array>
#include <span>
#include <vector>

namespace steppe {

/// Livestock species of the steppe economy, in this order in every BySpecies array.
enum class Species { horses, cattle, sheep_goats, camels };
inline constexpr int kSpeciesCount = 4;
/// One number per Species, in enum order.
using BySpecies = std::array<double, kSpeciesCount>;

/// Herd by species: head (animals), at one date.
struct Herd {
  BySpecies head{};  ///< head of each species
  double total() const noexcept;
  /// Tropical livestock units: Σ head·tlu_per_head.
  double tlu(const BySpecies& tlu_per_head) const noexcept;
};

/// Food yield of one species, per head. Defaults: default_livestock_yields().
struct SpeciesYield {
  double meat_kcal_per_head = 0;  ///< kcal eaten per animal slaughtered (carcass kg × kcal/kg)
  double milk_kcal_per_head = 0;  ///< kcal of milk for people per head of the herd per year
  double tlu = 0;                 ///< tropical livestock units per head (FAO: camel 1.0, cattle 0.7)
};
using LivestockYields = std::array<SpeciesYield, kSpeciesCount>;

/// Central values of the yields (ranges and derivations in scenarios/README.md):
///  - horses: meat 250,000 kcal (carcass 120–180 kg × 1,500–1,800 kcal/kg), milk 50,000 kcal/yr
///    (30–40 % mares × 150–400 l for people × 450–500 kcal/l), 0.8 TLU;
///  - cattle: meat 220,000 (100–150 kg × 1,800–2,200), milk 110,000 (35–45 % cows × 300–600 l ×
///    650 kcal/l), 0.7 TLU;
///  - sheep and goats: meat 50,000 (15–25 kg with tail fat × 2,500–3,000), milk 12,000 (40–50 %
///    ewes × 20–50 l × 700–1,050), 0.1 TLU;
///  - camels: meat 350,000 (200–280 kg × 1,400–1,700), milk 180,000 (30–40 % × 500–1,200 l ×
///    650–750), 1.0 TLU.
LivestockYields default_livestock_yields() noexcept;

/// A smooth, monotone, saturating response to a food deficit D ∈ [0, 1]:
/// R(D) = maximum · D^steepness / (D^steepness + half_deficit^steepness); R(0) = 0,
/// R(half_deficit) = maximum/2, R → maximum as D grows. Non-decreasing in D for any parameters in
/// their domains; continuously differentiable at D = 0 for steepness > 1.
struct DeficitResponse {
  double maximum = 0;         ///< response at saturation (units of the response)
  double half_deficit = 0.3;  ///< deficit at which half the maximum is reached, in (0, 1]
  double steepness = 3;       ///< Hill exponent, ≥ 1
  /// @pre deficit ≥ 0. Complexity O(1).
  double operator()(double deficit) const noexcept;
};

/// The herd's drivers in one year. Shares are proportions per year; "after procurement" is the
/// herd at the start of the year less what was procured.
struct HerdDrivers {
  BySpecies natural_increase{};   ///< births − normal deaths, share of the herd after procurement
  BySpecies procurement_share{};  ///< share of the start-of-year herd procured (leaves; not eaten)
  BySpecies procurement_head{};   ///< head procured on top of the share (capped at the herd)
  BySpecies slaughter{};          ///< normal slaughter for food, share of the herd after procurement
  BySpecies forced_slaughter{};   ///< extra slaughter, eaten (collectivisation panic), same base
  BySpecies collective_losses{};  ///< deaths in collectivised herds (fodder, disease), not eaten
};

/// Grain in one year (the harvest eaten in that year).
struct GrainDrivers {
  double harvest_t = 0;      ///< gross harvest, tonnes
  double procurement_t = 0;  ///< grain collected by the state, tonnes (leaves; not eaten)
  double seed_share = 0;     ///< share of the harvest kept for seed (and feed), [0, 1]
  double aid_t = 0;          ///< food aid delivered, tonnes of grain
};

/// Conversion factors and the herd's own response to hunger.
struct FoodParameters {
  LivestockYields yields = default_livestock_yields();
  double requirement_kcal = 2100;   ///< kcal per person per day (Sphere, WFP planning figure)
  double grain_kcal_per_kg = 3400;  ///< kcal per kg of grain (3,300–3,500)
  double grain_food_share = 0.8;    ///< share of the net grain that people eat (milling, losses)
  /// Extra offtake as food falls (distress sales, slaughter and deaths of untended animals), a
  /// share of the herd after procurement, driven by the herd-holders' deficit. It feeds no one
  /// in the model (so that food is monotone in the herd: see food_balance.cpp).
  DeficitResponse distress_offtake{0.5, 0.3, 2};
};

/// What one population group draws from each food source: the share of the republic's food from
/// that source that reaches the group, each in [0, 1] (Σ over groups ≤ 1 per source).
struct FoodDependence {
  double livestock = 0;  ///< share of the livestock food (meat and milk)
  double grain = 0;      ///< share of the grain food (harvest − seed − procurement)
  double aid = 0;        ///< share of the food aid
};

/// The year-by-year result of run_food_balance for Y years and G groups.
struct FoodBalanceTrajectory {
  std::vector<Herd> herd;                 ///< Y + 1: at the start of each year, then after the last
  Eigen::ArrayXd livestock_kcal;          ///< Y: kcal per year from meat and milk (republic)
  Eigen::ArrayXd grain_kcal;              ///< Y: kcal per year from grain for food (republic)
  Eigen::ArrayXd aid_kcal;                ///< Y: kcal per year of aid (republic)
  Eigen::ArrayXXd kcal_per_person_day;    ///< Y × G
  Eigen::ArrayXXd deficit;                ///< Y × G: max(0, 1 − kcal/requirement)
  Eigen::ArrayXd herd_deficit;            ///< Y: livestock-dependence-weighted mean deficit
};

/// The herd after procurement: head − min(head, share·head + procured head), per species.
Herd after_procurement(const Herd& start, const HerdDrivers& d) noexcept;

/// kcal per year from a herd after procurement: milk of the whole herd plus meat of the animals
/// slaughtered ((slaughter + forced_slaughter)·head, the shares capped at 1).
double livestock_food_kcal(const Herd& after, const HerdDrivers& d,
                           const LivestockYields& yields) noexcept;

/// Tonnes of grain left after seed and procurement: max(0, harvest·(1 − seed) − procurement).
double net_grain_t(const GrainDrivers& g) noexcept;

/// kcal per year of grain for food: net_grain_t(g)·food share·kcal/kg.
double grain_food_kcal(const GrainDrivers& g, const FoodParameters& p) noexcept;

/// kcal per year of food aid: aid tonnes · kcal/kg.
double aid_food_kcal(const GrainDrivers& g, const FoodParameters& p) noexcept;

/// Food deficit: max(0, 1 − kcal per person per day / requirement), in [0, 1].
double food_deficit(double kcal_per_person_day, double requirement_kcal) noexcept;

/// The herd at the start of next year from the herd after procurement: per species
/// head·max(0, 1 + natural_increase − slaughter − forced_slaughter − collective_losses −
/// distress_share).
Herd next_herd(const Herd& after, const HerdDrivers& d, double distress_share) noexcept;

/// Runs the food balance over Y = herd_drivers.size() years from `initial` (head at the start of
/// the first year) for G = reference_persons.cols() groups. Year t: herd after procurement;
/// livestock, grain and aid food; with dep = dependence[t·G + g] (each group's shares may change
/// over the years, e.g. as nomads are settled), each group's kcal per person per day =
/// (livestock·dep.livestock + grain·dep.grain + aid·dep.aid) / (reference_persons(t, g)·365);
/// deficit; distress offtake from the herd deficit; next herd.
/// reference_persons is Y × G, persons > 0: a cheap reference population chosen by the caller,
/// never the projection's own state (which would couple the food model to each projection step).
/// Food is non-increasing in any procurement and non-decreasing in aid, so each deficit is
/// non-decreasing in procurement and non-increasing in aid, in every year.
/// Preconditions: grain_drivers.size() == Y, dependence.size() == Y·G, reference_persons is
/// Y × G.
/// Reuses out's storage. Complexity O(Y·(G + species)).
void run_food_balance(const FoodParameters& p, const Herd& initial,
                      std::span<const HerdDrivers> herd_drivers,
                      std::span<const GrainDrivers> grain_drivers,
                      std::span<const FoodDependence> dependence,
                      const Eigen::Ref<const Eigen::ArrayXXd>& reference_persons,
                      FoodBalanceTrajectory& out);

}  // namespace steppe
