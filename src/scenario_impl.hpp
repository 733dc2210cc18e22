// SPDX-License-Identifier: MIT
// Private: the parsed form of a scenario (Scenario::Impl), shared by the parser
// (src/io/scenario_json.cpp) and the builder that turns one draw into RateSets (src/scenario.cpp).
// Every number of the file is a parameter index into `parameters`; arrays that cannot be
// uncertain (age patterns, relative risks) are stored on the model's age axis.
#pragma once

#include <Eigen/Core>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "steppe/food_balance.hpp"
#include "steppe/life_table.hpp"
#include "steppe/model_life_table.hpp"
#include "steppe/scenario.hpp"
#include "single_year_columns.hpp"

namespace steppe::detail {

/// A time series of parameters: values at mid-year points (year Y is written "Y" and sits at
/// Y + 0.5), linear in between, constant outside, optionally times a scale parameter.
struct Series {
  std::vector<double> years;  ///< decimal years, increasing; one point = a constant
  std::vector<int> values;    ///< parameter index per point
  int scale = -1;             ///< parameter index of a multiplier, or −1
  std::string pointer;        ///< where it was written (for errors at build time)
  std::string file;

  bool empty() const noexcept { return values.empty(); }
  /// The (scaled) series' value at decimal year t: the point value itself at a mid-year point
  /// (defined in src/food_balance_scenario.cpp).
  double at(std::span<const double> v, double t) const noexcept;
  /// Mean of the (scaled) piecewise-linear series over [t0, t1], t0 < t1.
  double mean(std::span<const double> v, double t0, double t1) const noexcept;
  /// What mean() does over step k's [t0, t1] that does not depend on the values: set by
  /// plan_steps for the scenario's steps (plans[k]), so mean_at_step skips the search of the
  /// segments and the differences of years.
  struct StepPlan {
    int i0 = 0, i1 = 0;              ///< at(t0), at(t1): y(i) if !interp, else segment (i−1, i)
    int p0a = 0, p0b = 0, p1a = 0, p1b = 0;  ///< parameter indices of those points (a = i−1)
    bool interp0 = false, interp1 = false;
    double w0 = 0, w1 = 0;           ///< the interpolation weights at t0, t1
    int lo = 0, hi = 0;              ///< the points strictly inside (t0, t1)
    std::size_t dt = 0;              ///< offset in plan_dt: hi − lo + 1 widths (the last to t1),
                                     ///< and in plan_index: the hi − lo points' parameters
    double span = 0;                 ///< t1 − t0
  };
  std::vector<StepPlan> plans;
  std::vector<double> plan_dt;
  std::vector<int> plan_index;
  /// Set by plan_steps for a one-point series: its parameter index (held here, so reading it
  /// does not go through `values`' heap block), else −1.
  int single = -1;
  /// Fills plans and plan_dt for the steps [t0, t1] given.
  void plan_steps(std::span<const StepTime> steps);
  /// mean(v, t0, t1) for step k (the same bits), through plans[k] if there is one.
  double mean_at_step(std::span<const double> v, std::size_t k, double t0,
                      double t1) const noexcept {
    if (single >= 0) return v[std::size_t(single)] * (scale >= 0 ? v[std::size_t(scale)] : 1.0);
    if (values.size() == 1)
      return v[std::size_t(values[0])] * (scale >= 0 ? v[std::size_t(scale)] : 1.0);
    return mean_planned(v, k, t0, t1);
  }
  /// mean_at_step of a series of more than one point (out of line).
  double mean_planned(std::span<const double> v, std::size_t k, double t0,
                      double t1) const noexcept;
  /// True if every point (and the scale) is the constant 0 parameter-wise for this draw.
  bool zero_over(std::span<const double> v, double t0, double t1) const noexcept {
    return mean(v, t0, t1) == 0.0;
  }
};

using BySexSeries = std::array<Series, 2>;  // female, male

struct MortalitySpec {
  enum class Kind { coale_demeny, brass, life_table } kind = Kind::coale_demeny;
  CdFamily family = CdFamily::west;
  BySexSeries e0;           ///< coale_demeny
  BySexSeries alpha, beta;  ///< brass (against the general standard)
  std::array<std::optional<LifeTable>, 2> table;  ///< life_table (explicit q(x)), and brass standard
  /// life_table given as a time series of q(x) tables: per step, the index of its table in
  /// step_tables (steps with the same mixture share one; empty = `table` in every step). A step's
  /// q(x) is the mean over the step of q(x, t), linear in t between the years written and
  /// constant outside, as every series is averaged.
  std::vector<int> step_table;
  std::array<std::vector<LifeTable>, 2> step_tables;  ///< female, male
};

struct FertilitySpec {
  Series tfr;
  Eigen::ArrayXd pattern_share;  ///< share of the TFR in each age cell
  int srb = -1;
  bool births_abroad = true;
};

/// A flow with an age–sex pattern: a rate (proportion per year) or a count (persons per year).
struct FlowSpec {
  bool present = false;
  bool is_rate = true;
  Series amount;
  Eigen::ArrayXXd pattern;  ///< ages × 2: relative rates (mean 1) or shares of a count (sum 1 per sex)
  int female_share = -1;    ///< counts only
  /// The smallest and largest non-NaN value of each sex's pattern (set_pattern): the extremes of
  /// s·pattern for a scalar s, without a pass over the ages (rounding is monotone).
  std::array<double, 2> pattern_min{}, pattern_max{};
};

/// Sets f.pattern and its extremes.
inline void set_pattern(FlowSpec& f, Eigen::ArrayXXd pattern) {
  f.pattern = std::move(pattern);
  for (int sex = 0; sex < 2 && f.pattern.cols() == 2 && f.pattern.rows() > 0; ++sex) {
    f.pattern_min[std::size_t(sex)] = f.pattern.col(sex).minCoeff<Eigen::PropagateNumbers>();
    f.pattern_max[std::size_t(sex)] = f.pattern.col(sex).maxCoeff<Eigen::PropagateNumbers>();
  }
}

struct InitialSpec {
  std::array<int, 2> totals{-1, -1};
  std::array<int, 2> undercount{-1, -1};
  std::array<int, 2> abroad{-1, -1};
  bool stable = true;
  int growth_rate = -1;   ///< stable
  Eigen::ArrayXXd shape;  ///< ages × 2 weights (explicit or from a file); empty if stable only
  int stable_share = -1;  ///< a blend of both: weight of the stable shape (parameter index)
};

struct GroupSpec {
  std::string name;
  InitialSpec initial;
  MortalitySpec mortality;
  FertilitySpec fertility;
  FlowSpec migration;  ///< baseline net migration (signed)
};

/// The mean over an age cell's single years of a step function by age band: band_of_year is
/// cells × width (the band of each single year of each cell; the open cell, the last, reads
/// column 0 only), value(band) the function's value in a band. The parser's step functions and an
/// uncertain relative-risk schedule's draws both average through it (the same bits).
template <class BandValue>
double cell_mean(const Eigen::ArrayXXi& band_of_year, Eigen::Index cell, BandValue&& value) {
  if (cell == band_of_year.rows() - 1) return value(band_of_year(cell, 0));
  double sum = 0;
  for (Eigen::Index y = 0; y < band_of_year.cols(); ++y) sum += value(band_of_year(cell, y));
  return sum / double(band_of_year.cols());
}

struct ShockSpec {
  bool present = false;
  Series intensity;
  /// Relative risk by age cell and sex (ages × 2) when every value written is a number; empty
  /// when some value is a distribution (then `uncertain_risk` says how to build it per draw).
  Eigen::ArrayXXd relative_risk;
  /// An uncertain schedule: the parameter of each value written (the scalar form: one for every
  /// age and both sexes; the step form: per sex, one per age band) and, per age cell, the band of
  /// each of its single years (cells × width; the open cell reads column 0 only), so that
  /// build() averages the values of a draw over the cell exactly as the parser averages numbers.
  struct UncertainRisk {
    std::array<std::vector<int>, 2> parameters;  ///< female, male: a parameter per band
    Eigen::ArrayXXi band_of_year;                ///< cells × width (the step form)
    bool scalar = false;  ///< one value for every cell and both sexes (as a number is stored)
  };
  std::optional<UncertainRisk> uncertain_risk;
  /// The schedule of draw values v (ages × 2) into out: relative_risk, or uncertain_risk's.
  void risk(std::span<const double> v, Eigen::ArrayXXd& out) const {
    if (!uncertain_risk) {
      out = relative_risk;
      return;
    }
    const UncertainRisk& u = *uncertain_risk;
    const Eigen::Index cells = u.band_of_year.rows();
    out.resize(cells, 2);
    if (u.scalar) {  // the value itself in every cell (no average: x·5/5 need not be x)
      out.setConstant(v[std::size_t(u.parameters[0][0])]);
      return;
    }
    for (int sex = 0; sex < 2; ++sex) {
      const std::vector<int>& p = u.parameters[std::size_t(sex)];
      for (Eigen::Index cell = 0; cell < cells; ++cell)
        out(cell, sex) = cell_mean(u.band_of_year, cell,
                                   [&](int band) { return v[std::size_t(p[std::size_t(band)])]; });
    }
  }
};

struct CrisisSpec {
  ShockSpec mortality, mortality_abroad;
  Series fertility_reduction;  ///< empty = none
  FlowSpec flight, in_migration;
  Series return_rate;  ///< empty = none
  /// Probability per year of dying in a stopped flight attempt (shot at the border, or died
  /// turned back), at home, with the flight's age pattern: the crisis survivorship at home is
  /// multiplied by 1 − probability·pattern. Empty = none (only the food-balance form sets it).
  Series flight_deaths;
};

/// Calls f(series) for every time series that Scenario::build reads for one group: its mortality
/// (e0, Brass α and β, by sex), TFR and net migration, and its crisis components. One list for
/// the step plans (Series::plan_steps) and for the parameters a group reads
/// (Scenario::group_parameters), so that neither can miss a series the other has.
template <class Group, class Crisis, class F>
void for_each_series(Group& group, Crisis& crisis, F&& f) {
  for (std::size_t sex = 0; sex < 2; ++sex) {
    f(group.mortality.e0[sex]);
    f(group.mortality.alpha[sex]);
    f(group.mortality.beta[sex]);
  }
  f(group.fertility.tfr);
  f(group.migration.amount);
  f(crisis.mortality.intensity);
  f(crisis.mortality_abroad.intensity);
  f(crisis.fertility_reduction);
  f(crisis.flight.amount);
  f(crisis.in_migration.amount);
  f(crisis.return_rate);
  f(crisis.flight_deaths);
}

/// The food-balance form of the crisis ("crisis": {"model": "food_balance", …}): drivers and
/// parameters as parameter indices (−1 or an empty Series = the documented default). One draw's
/// values become, per group, yearly points of the crisis series (intensity, flight rate,
/// fertility reduction) that CrisisSpec holds like any other series; their values are "derived"
/// slots after the parameters (food_balance_values fills them).
struct FoodBalanceSpec {
  using BySpeciesSeries = std::array<Series, kSpeciesCount>;
  int first_year = 0, last_year = 0;   ///< the model's years: herd year … last step year
  std::array<int, kSpeciesCount> herd{};  ///< head at the start of first_year, per species
  BySpeciesSeries natural_increase, slaughter, forced_slaughter, collective_losses, procurement;
  bool procurement_in_head = false;    ///< procurement in head (else a share of the herd)
  Series harvest, grain_procurement, seed_share, aid;
  /// Per species: meat kcal per head, milk kcal per head and year, TLU (−1 = default).
  std::array<std::array<int, 3>, kSpeciesCount> yields{
      {{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}}};
  int requirement = -1, grain_kcal_per_kg = -1, grain_food_share = -1;
  std::array<int, 3> distress{-1, -1, -1};  ///< maximum, half_deficit, steepness
  /// Border regime, republic-wide: of the flight attempts a group's flight response gives, the
  /// share that gets out (empty = 1); of the attempts stopped, the share that dies (empty = 0).
  Series border_success, border_mortality;
  struct Group {
    bool present = false;
    std::array<Series, 3> dependence;  ///< livestock, grain, aid shares (aid empty = as grain)
    int reference_growth = -1;  ///< growth rate of the reference population (or persons below)
    Series reference_persons;
    /// excess_mortality, flight, fertility_reduction × (maximum, half_deficit, steepness).
    std::array<std::array<int, 3>, 3> response{{{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}}};
    std::array<bool, 3> has_response{};
  };
  std::vector<Group> groups;      ///< one per group
  double start = 0;               ///< projection start (decimal year): the reference's origin
  std::size_t derived_base = 0;   ///< first derived slot (= number of parameters)
  /// Derived slots per (group, series): a 0 at first_year − 1, then one per model year. Series
  /// 0–2 are the responses (excess-mortality intensity, flight rate, fertility reduction); the
  /// flight rate is attempts × border success; series 3 is attempts × (1 − success) × border
  /// mortality (deaths in flight).
  static constexpr int kFlightDeaths = 3;
  static constexpr int kSeriesPerGroup = 4;
  int points() const noexcept { return last_year - first_year + 2; }
  std::size_t slot(int group, int series, int point) const noexcept {
    return derived_base +
           (std::size_t(group) * kSeriesPerGroup + std::size_t(series)) * std::size_t(points()) +
           std::size_t(point);
  }
  std::size_t derived_count() const noexcept {
    return groups.size() * kSeriesPerGroup * std::size_t(points());
  }
  /// Whether group g's flight attempts can end in death (a flight response and a border
  /// mortality): then its CrisisSpec::flight_deaths reads slots of series 3.
  bool flight_deaths(int g) const noexcept {
    return groups[std::size_t(g)].has_response[1] && !border_mortality.empty();
  }
};

/// Scratch of food_balance_values, one per BuildCache (sized once, reused across draws).
struct FoodBalanceScratch {
  std::vector<double> values;  ///< the draw's parameters, then the derived slots
  std::vector<HerdDrivers> herd;
  std::vector<GrainDrivers> grain;
  std::vector<FoodDependence> dependence;
  Eigen::ArrayXXd persons;
  FoodBalanceTrajectory trajectory;
};

/// out[i] = e^{x[i]}, i < n (x and out may be the same array): the crisis survivorship's
/// S^m = e^{m·ln S}, vectorised. In packets of 4 (AVX2, where the CPU has it) or 2 elements,
/// |x| ≤ 708 take a Cody–Waite reduction x = k·ln 2 + r, |r| ≤ ln 2/2, and Cephes' Padé form
/// for e^r (one division), times 2^k: within 1e-15 relative of std::exp (3.1e-16 the largest
/// seen over 10^6 arguments, half in [−700, 700], half in [−3, 0]; one result in seven differs
/// from glibc's). Other elements (|x| > 708, NaN) use std::exp. Each out[i] depends on x[i]
/// alone: the same bits whatever the packet width, the position or the array's length.
/// @throws nothing.
void exp_array(const double* x, double* out, Eigen::Index n) noexcept;

/// dst[i] = a·src[i] and x[i] = x[i]/a, i < n: one rounding per element (the bits of Eigen's
/// scalar product and quotient), 4 lanes at a time where the CPU has AVX2.
void scale_array(double a, const double* src, double* dst, Eigen::Index n) noexcept;
void divide_array(double a, double* x, Eigen::Index n) noexcept;

/// out = s.max(DBL_MIN).log(), the same bits as Eigen evaluates that expression (Packet2d
/// plog from the start, std::log for an odd last element), in packets of 4 where the CPU has
/// AVX2 (each lane by Eigen's operations, unfused). @throws nothing but std::bad_alloc.
void log_floor(const Eigen::ArrayXd& s, Eigen::ArrayXd& out);

/// One column of crisis survivorship: out[i] = S[i] > 0 ? e^{m_i·ln S[i]} : 0 with
/// m_i = 1 + intensity·(rr[i] − 1), i < n, e^x as exp_array computes it (the same bits as the
/// multiplier, product, exp_array and select taken one after the other). Returns true if some
/// m_i < 0 (out is then written but meaningless). If out2 is not null, the same values go there
/// too (the memo and the RateSet's column in one pass). @throws nothing.
bool crisis_column(double intensity, const double* rr, const double* log_s, const double* s,
                   double* out, Eigen::Index n, double* out2 = nullptr) noexcept;

/// Memo of Scenario::build, per (group, sex) column: the baseline quantities of the last life
/// table built and of the last stable population, with the parameter values they came from.
struct BuildCache {
  const void* scenario = nullptr;  ///< the Scenario::Impl the memo belongs to
  struct Column {
    bool valid = false;
    std::array<double, 2> key{};  ///< e0, or Brass (alpha, beta)
    Eigen::ArrayXd survivorship, log_survivorship;
    double birth_survivorship = 0;
    double log_birth_survivorship = 0;  ///< ln birth_survivorship where it is > 0
    SingleYearColumns single;  ///< l, L, T of the single-year table (and the stable population)
    bool stable_valid = false;
    std::array<double, 3> stable_key{};  ///< (key, growth rate)
    Eigen::ArrayXd stable_weights;
    bool discount_valid = false;
    double discount_rate = 0;      ///< the growth rate r of `discount`
    Eigen::ArrayXd discount;       ///< e^{−r(y+½)} per single year y below the open age
  };
  std::vector<Column> columns;
  /// Crisis survivorship of one column in one step, at home or abroad, with what it came from.
  struct Crisis {
    bool valid = false;
    std::array<double, 3> key{};  ///< (intensity, the column's mortality key)
    Eigen::ArrayXd survivorship;
    double birth_survivorship = 0;
  };
  std::vector<Crisis> crisis;  ///< per (step, place, column): index (2·step + abroad)·cols + column
  /// Per (group, place), index 2·group + abroad: the uncertain relative-risk schedule of the last
  /// build (ShockSpec::uncertain_risk; empty until built). A new schedule invalidates the crisis
  /// memo and the written keys of the group's columns in that place.
  std::vector<Eigen::ArrayXXd> risk;
  Eigen::ArrayXXd risk_scratch;  ///< a draw's schedule, before it is compared with `risk`
  std::vector<char> pattern_checked;  ///< per group: asfr_from_tfr accepted its pattern once
  /// Per (step, group, net migration | flight): the last rate per year whose age-specific rates
  /// passed the range check (NaN = none). Index 2·(step·groups + group) + (0 | 1).
  std::vector<double> rate_checked;
  Eigen::ArrayXd multiplier, weights;  ///< scratch (ages)
  std::vector<double> intensity;       ///< scratch (groups)
  std::vector<double> flight_deaths;   ///< scratch (groups): probability per step, 0 = none
  std::vector<char> touched;           ///< scratch (4 × columns): crisis flows written this step
  FoodBalanceScratch food_balance;     ///< a food-balance crisis' scratch

  /// What build() last wrote into the columns of one step's RateSet of the ModelInputs `owner`:
  /// per column, the key of the values it was computed from (NaN = unknown: rewrite). A column
  /// whose key is unchanged is not rewritten. Keys: survivorship {0, mortality key};
  /// crisis survivorship {intensity or 0 for the baseline, mortality key}; asfr {tfr};
  /// asfr_abroad {0, tfr} or {1} (zero); net migration rate {0, amount} or {1} (zero); net
  /// migration count {2, amount, female share} or {3} (zero).
  using Key = std::array<double, 3>;
  struct Written {
    std::vector<Key> survivorship, net_rate, net_count;  ///< per column
    std::array<std::vector<Key>, 2> crisis;              ///< home, abroad
    std::vector<Key> asfr, asfr_abroad;                  ///< per group
    /// Crisis flows per column, while present in the step: emigration rate, emigration count,
    /// immigration count, return rate. Keys {amount, female share or 0, 0} or {0, 0, 1} (zero).
    std::array<std::vector<Key>, 4> flows;
  };
  std::vector<Written> written;  ///< per step
  /// The ModelInputs whose rates `written` describes; null while build() runs (so one that threw
  /// leaves nothing trusted) and when the memo is new.
  const void* owner = nullptr;
};

}  // namespace steppe::detail

namespace steppe {

struct Scenario::Impl {
  std::string file;
  ScenarioMeta meta;
  Dims dims;
  ProjectorOptions options;
  std::vector<StepTime> steps;
  std::vector<Parameter> parameters;
  std::vector<Target> targets;
  OutputSpec outputs;
  std::vector<detail::GroupSpec> groups;
  std::vector<detail::CrisisSpec> crisis;  ///< one per group (components absent if none)
  /// Set if the crisis is "model": "food_balance": its series in `crisis` then read derived slots.
  std::optional<detail::FoodBalanceSpec> food_balance;
  /// Metric paths of what a draw derives besides the engine's inputs (the food-balance
  /// trajectories); ModelInputs::derived holds their values in this order.
  std::vector<std::string> derived_outputs;
  /// Set at load (after parsing): every parameter's value as sample() gives it if constant
  /// (its distribution's mean; 0 otherwise), and the indices of the others.
  std::vector<double> constant_values;
  std::vector<std::size_t> random_parameters;
};

namespace detail {
/// One draw's values followed by the food-balance crisis' derived slots (in scratch.values):
/// what build() reads its series from when the scenario has a food-balance crisis.
/// @throws domain_error naming the file and pointer if a draw makes the food balance impossible
/// (a reference population of 0 persons).
/// The food-balance trajectories of the last food_balance_values call, in the order of
/// food_balance_output_names: per model year, the herd at its start (total and per species, head),
/// then per group kcal per person per day and the food deficit.
void food_balance_outputs(const Scenario::Impl& s, const FoodBalanceScratch& x, std::vector<double>& out);
/// Their metric paths: /drivers/herd/{total,horses,cattle,sheep_goats,camels}/<year>,
/// /drivers/kcal_per_person_day/<group>/<year>, /drivers/deficit/<group>/<year>.
std::vector<std::string> food_balance_output_names(const Scenario::Impl& s);
std::span<const double> food_balance_values(const Scenario::Impl& s, std::span<const double> v,
                                            FoodBalanceScratch& scratch);
}  // namespace detail

}  // namespace steppe
