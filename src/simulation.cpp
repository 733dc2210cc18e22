// SPDX-License-Identifier: MIT
// run_draws: the Monte Carlo driver. Each thread owns a CrisisRunner and ModelInputs and pulls
// fixed blocks of draws; block partial moments merge in block order on the calling thread.
#include "steppe/simulation.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "steppe/excess.hpp"
#include "steppe/summary.hpp"

namespace steppe {

const Summary* RunResult::find(std::string_view path) const noexcept {
  for (const Metric& m : metrics)
    if (m.path == path) return &m.summary;
  return nullptr;
}

const Summary& RunResult::at(std::string_view path) const {
  if (const Summary* s = find(path)) return *s;
  throw std::out_of_range("RunResult::at: no metric \"" + std::string(path) + "\"");
}

namespace {

// Draws per block. Fixed (never derived from the thread count): the order in which the block
// partial moments merge is part of the result's bits.
constexpr std::uint64_t block_draws = 128;
// Draws summarised together (see run_draws' worker): 32 × M ≈ 470 values is 120 kB, in L2.
constexpr std::size_t batch_draws = 32;
// Relative accuracy of the quantiles (QuantileSketch alpha).
constexpr double sketch_alpha = 1e-3;

/// min and max that do not depend on the order of their arguments, signed zeros included
/// (−0 < +0 here), so that the range of the draws has the same bits for any thread count.
double lower(double a, double b) { return b < a || (b == a && std::signbit(b)) ? b : a; }
double upper(double a, double b) { return b > a || (b == a && !std::signbit(b)) ? b : a; }

/// What the metrics are, worked out once from the model: step keys, window, age groups, targets.
struct Layout {
  int n_groups = 0, n_cols = 0, n_ages = 0, n_steps = 0;
  std::vector<std::string> groups;
  bool headline_cf = true;
  // Step years never decrease, so a year's steps and the window's are contiguous ranges [k0, k1).
  std::vector<int> years;                     // distinct StepTime::year, ascending
  std::vector<std::pair<int, int>> year_steps;  // per year: its steps
  std::pair<int, int> window{0, 0};           // steps with year in [window_first, window_last]
  std::vector<std::pair<int, int>> age_cells;  // per 10-year age group: its age cells [a0, a1)
  // OutputSpec::by_age_year (counterfactual headline only): per window step, the index of its
  // year among window_years, and whether it is the first step of that year.
  bool by_age_year = false;
  std::vector<int> window_years;
  std::vector<int> window_year_of_step;  // indexed k − window.first
  std::vector<char> first_of_year;       // likewise
  std::vector<std::string> age_labels;
  struct TargetCells {
    std::string name;
    int boundary = 0, group = -1, sex = -1, cell_from = 0, cell_to = 0;  // cells [from, to)
    bool abroad = false, all_ages = true;
    double observed = 0;
    int bias = -1, sd = -1;
    std::vector<int> plus;
  };
  std::vector<TargetCells> targets;
  bool any_likelihood = false;
  std::optional<PublishedEstimate> published;
  std::vector<std::string> derived;  // ModelInputs::derived's metric paths
  std::vector<std::string> paths;  // filled by visit_metrics in naming mode
};

Layout make_layout(const detail::DrawModel& m) {
  Layout L;
  const Dims& d = m.dims;
  L.n_groups = d.n_groups();
  L.n_cols = d.n_cols();
  L.n_ages = d.n_ages();
  L.n_steps = int(m.steps.size());
  L.groups = d.groups();
  L.headline_cf = m.outputs.headline_counterfactual;
  L.published = m.outputs.published;
  L.derived = m.derived;
  if (L.published && (L.published->group < -1 || L.published->group >= L.n_groups))
    throw domain_error("run_draws: published estimate: group " + std::to_string(L.published->group));
  bool window_started = false;
  for (int k = 0; k < L.n_steps; ++k) {
    const int year = m.steps[std::size_t(k)].year;
    if (L.years.empty() || L.years.back() != year) {
      if (!L.years.empty() && year < L.years.back())
        throw domain_error("run_draws: step years must not decrease, got " + std::to_string(year) +
                           " after " + std::to_string(L.years.back()));
      L.years.push_back(year);
      L.year_steps.push_back({k, k});
    }
    ++L.year_steps.back().second;
    if (year >= m.outputs.window_first && year <= m.outputs.window_last) {
      if (!window_started) L.window = {k, k};
      window_started = true;
      ++L.window.second;
    }
  }
  // Ten-year groups of the age cell's lower bound; the last group holds the open cell and is
  // labelled "<lower>+" (single years to 100+: ..., "90-99", "100+"; five-year to 85+: ..., "80+").
  const AgeAxis& ax = d.ages();
  const int last = ax.open_age() / 10;
  for (int a = 0; a < L.n_ages; ++a) {
    const std::size_t j = std::size_t(std::min(ax.lower(a) / 10, last));
    if (L.age_cells.size() <= j) L.age_cells.resize(j + 1, {a, a});
    ++L.age_cells[j].second;
  }
  for (int j = 0; j < last; ++j)
    L.age_labels.push_back(std::to_string(10 * j) + "-" + std::to_string(10 * j + 9));
  L.age_labels.push_back(std::to_string(10 * last) + "+");
  L.by_age_year = m.outputs.by_age_year && L.headline_cf;
  for (int k = L.window.first; k < L.window.second; ++k) {
    const int year = m.steps[std::size_t(k)].year;
    const bool first = L.window_years.empty() || L.window_years.back() != year;
    if (first) L.window_years.push_back(year);
    L.window_year_of_step.push_back(int(L.window_years.size()) - 1);
    L.first_of_year.push_back(first ? 1 : 0);
  }

  for (const Target& t : m.targets) {
    Layout::TargetCells c;
    c.name = t.name;
    c.boundary = t.boundary;
    c.group = t.group;
    c.sex = t.sex;
    c.abroad = t.abroad;
    c.observed = t.observed;
    c.bias = t.bias;
    c.sd = t.sd;
    c.plus = t.plus;
    auto fail = [&](const std::string& why) {
      throw domain_error("run_draws: target \"" + t.name + "\": " + why);
    };
    if (t.boundary < 0 || t.boundary > L.n_steps)
      fail("boundary " + std::to_string(t.boundary) + " outside [0, " +
           std::to_string(L.n_steps) + "]");
    if (t.group < -1 || t.group >= L.n_groups) fail("group " + std::to_string(t.group));
    if (t.sex < -1 || t.sex > 1) fail("sex " + std::to_string(t.sex));
    c.cell_from = L.n_ages;
    c.cell_to = 0;
    for (int a = 0; a < L.n_ages; ++a)
      if (ax.lower(a) >= t.age_from && (t.age_to < 0 || ax.lower(a) <= t.age_to)) {
        c.cell_from = std::min(c.cell_from, a);
        c.cell_to = a + 1;
      }
    if (c.cell_to <= c.cell_from)
      fail("no age cell in [" + std::to_string(t.age_from) + ", " + std::to_string(t.age_to) + "]");
    c.all_ages = c.cell_from == 0 && c.cell_to == L.n_ages;
    // Accounts keep the population abroad by age only in total; by age it is known at the start
    // and at the end of the projection.
    if (c.abroad && !c.all_ages && c.boundary > 0 && c.boundary < L.n_steps)
      fail("the population abroad by age is only known at the start and the end of the projection");
    if (c.sd >= 0) L.any_likelihood = true;
    L.targets.push_back(std::move(c));
  }
  return L;
}

/// One draw's per-column × per-step ledgers (cols × steps, as excess.hpp's arrays), filled from
/// the runner's Accounts, and the by-age excess of the window.
struct DrawData {
  Eigen::ArrayXXd cf_home, cf_abroad, cf_both, rb_home, rb_abroad, rb_both;  // excess deaths
  Eigen::ArrayXXd lb_cf, lb_rb;                                             // lost births
  Eigen::ArrayXXd emigrants, returnees, net_emigration, immigrants, deaths_abroad;
  // Balance sheet of the crisis run: flows at home and abroad, populations at the step's end.
  Eigen::ArrayXXd births_home, births_abroad, deaths_home, net_migrants, population_home,
      population_abroad;
  Eigen::ArrayXd initial_home, initial_abroad;  // cols
  Eigen::ArrayXXd cf_by_age;       // age groups × cols, window, counterfactual definition
  Eigen::ArrayXXd cf_by_age_year;  // age groups × (col · window years + year): by_age_year
  Eigen::ArrayXd abroad_at_end;    // groups
  std::vector<double> target_modelled;
  const std::vector<double>* values = nullptr;
  const std::vector<double>* derived = nullptr;  // ModelInputs::derived of the draw

  explicit DrawData(const Layout& L) {
    for (Eigen::ArrayXXd* a : {&cf_home, &cf_abroad, &cf_both, &rb_home, &rb_abroad, &rb_both,
                               &lb_cf, &lb_rb, &emigrants, &returnees, &net_emigration,
                               &immigrants, &deaths_abroad, &births_home, &births_abroad,
                               &deaths_home, &net_migrants, &population_home, &population_abroad})
      a->setZero(L.n_cols, L.n_steps);
    initial_home.setZero(L.n_cols);
    initial_abroad.setZero(L.n_cols);
    cf_by_age.setZero(Eigen::Index(L.age_labels.size()), L.n_cols);
    if (L.by_age_year)
      cf_by_age_year.setZero(Eigen::Index(L.age_labels.size()),
                             Eigen::Index(L.n_cols) * Eigen::Index(L.window_years.size()));
    abroad_at_end.setZero(L.n_groups);
    target_modelled.assign(L.targets.size(), 0.0);
  }
};

// Sum of e(c, k) over the steps k0 ≤ k < k1 in step order, then columns c0 ≤ c < c1 in column
// order, into one accumulator. Every aggregate of run_draws is such a sum.
double sum_cols_steps(const Eigen::ArrayXXd& e, int c0, int c1, std::pair<int, int> steps) {
  double acc = 0.0;
  for (int k = steps.first; k < steps.second; ++k)
    for (int c = c0; c < c1; ++c) acc += e(c, k);
  return acc;
}

template <class Sink>
void visit_target_metrics(const Layout& L, const DrawData* d, Sink&& sink);

/// Visits every metric in output order: sink(name, value), or sink(name, value, g) for a metric
/// that reads only group g's columns of DrawData (and abroad_at_end(g)), nothing else. In naming
/// mode (d == nullptr) the sink calls only name(); per draw, only value(). One list, so names and
/// values cannot drift.
template <class Sink>
void visit_metrics(const Layout& L, const DrawData* d, Sink&& sink) {
  const int C = L.n_cols, G = L.n_groups;
  const std::pair<int, int> window = L.window;
  auto year_is = [&L](int y) { return L.year_steps[std::size_t(y)]; };
  auto group_cols = [](int g) { return std::pair{2 * g, 2 * g + 2}; };
  auto gname = [](const Layout& l, int g) -> const std::string& { return l.groups[std::size_t(g)]; };
  auto year_str = [&L](int y) { return std::to_string(L.years[std::size_t(y)]); };
  const int Y = int(L.years.size());

  // Headline excess deaths and the other definition.
  {
    const char* h = "/excess_deaths";
    const Eigen::ArrayXXd* both = d ? (L.headline_cf ? &d->cf_both : &d->rb_both) : nullptr;
    const Eigen::ArrayXXd* home = d ? (L.headline_cf ? &d->cf_home : &d->rb_home) : nullptr;
    const Eigen::ArrayXXd* abroad = d ? (L.headline_cf ? &d->cf_abroad : &d->rb_abroad) : nullptr;
    sink([&] { return std::string(h) + "/total"; }, [&] { return sum_cols_steps(*both, 0, C, window); });
    sink([&] { return std::string(h) + "/home"; }, [&] { return sum_cols_steps(*home, 0, C, window); });
    sink([&] { return std::string(h) + "/abroad"; }, [&] { return sum_cols_steps(*abroad, 0, C, window); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      sink([&] { return std::string(h) + "/by_group/" + gname(L, g); },
           [&] { return sum_cols_steps(*both, c0, c1, window); }, g);
    }
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      sink([&] { return std::string(h) + "/by_group_place/" + gname(L, g) + "/home"; },
           [&] { return sum_cols_steps(*home, c0, c1, window); }, g);
      sink([&] { return std::string(h) + "/by_group_place/" + gname(L, g) + "/abroad"; },
           [&] { return sum_cols_steps(*abroad, c0, c1, window); }, g);
    }
    for (int g = 0; g < G; ++g)
      for (Sex s : sexes) {
        const int c = Dims::col(s, g);
        sink([&] { return std::string(h) + "/by_group_sex/" + gname(L, g) + "/" + to_string(s); },
             [&] { return sum_cols_steps(*both, c, c + 1, window); }, g);
      }
    if (L.headline_cf)
      for (int g = 0; g < G; ++g)
        for (Sex s : sexes)
          for (std::size_t j = 0; j < L.age_labels.size(); ++j) {
            const int c = Dims::col(s, g);
            sink([&] {
                   return std::string(h) + "/by_group_sex_age/" + gname(L, g) + "/" + to_string(s) + "/" +
                          L.age_labels[j];
                 },
                 [&] { return d->cf_by_age(Eigen::Index(j), c); }, g);
          }
    if (L.by_age_year) {
      const Eigen::Index WY = Eigen::Index(L.window_years.size());
      for (int g = 0; g < G; ++g)
        for (Sex s : sexes)
          for (std::size_t j = 0; j < L.age_labels.size(); ++j)
            for (Eigen::Index y = 0; y < WY; ++y) {
              const int c = Dims::col(s, g);
              sink(
                  [&] {
                    return std::string(h) + "/by_group_sex_age_year/" + gname(L, g) + "/" +
                           to_string(s) + "/" + L.age_labels[j] + "/" +
                           std::to_string(L.window_years[std::size_t(y)]);
                  },
                  [&] { return d->cf_by_age_year(Eigen::Index(j), Eigen::Index(c) * WY + y); }, g);
            }
    }
    for (int y = 0; y < Y; ++y)
      sink([&] { return std::string(h) + "/by_year/" + year_str(y); },
           [&] { return sum_cols_steps(*both, 0, C, year_is(y)); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      for (int y = 0; y < Y; ++y)
        sink([&] { return std::string(h) + "/by_group_year/" + gname(L, g) + "/" + year_str(y); },
             [&] { return sum_cols_steps(*both, c0, c1, year_is(y)); }, g);
    }

    const char* o = L.headline_cf ? "/excess_deaths_rate_based" : "/excess_deaths_counterfactual";
    const Eigen::ArrayXXd* other = d ? (L.headline_cf ? &d->rb_both : &d->cf_both) : nullptr;
    sink([&] { return std::string(o) + "/total"; }, [&] { return sum_cols_steps(*other, 0, C, window); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      sink([&] { return std::string(o) + "/by_group/" + gname(L, g); },
           [&] { return sum_cols_steps(*other, c0, c1, window); }, g);
    }
    for (int y = 0; y < Y; ++y)
      sink([&] { return std::string(o) + "/by_year/" + year_str(y); },
           [&] { return sum_cols_steps(*other, 0, C, year_is(y)); });
  }

  // Lost births, headline definition, then the other one.
  {
    const char* h = "/lost_births";
    const Eigen::ArrayXXd* lb = d ? (L.headline_cf ? &d->lb_cf : &d->lb_rb) : nullptr;
    sink([&] { return std::string(h) + "/total"; }, [&] { return sum_cols_steps(*lb, 0, C, window); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      sink([&] { return std::string(h) + "/by_group/" + gname(L, g); },
           [&] { return sum_cols_steps(*lb, c0, c1, window); }, g);
    }
    for (int y = 0; y < Y; ++y)
      sink([&] { return std::string(h) + "/by_year/" + year_str(y); },
           [&] { return sum_cols_steps(*lb, 0, C, year_is(y)); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      for (int y = 0; y < Y; ++y)
        sink([&] { return std::string(h) + "/by_group_year/" + gname(L, g) + "/" + year_str(y); },
             [&] { return sum_cols_steps(*lb, c0, c1, year_is(y)); }, g);
    }
    const char* o = L.headline_cf ? "/lost_births_rate_based" : "/lost_births_counterfactual";
    const Eigen::ArrayXXd* other = d ? (L.headline_cf ? &d->lb_rb : &d->lb_cf) : nullptr;
    sink([&] { return std::string(o) + "/total"; }, [&] { return sum_cols_steps(*other, 0, C, window); });
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      sink([&] { return std::string(o) + "/by_group/" + gname(L, g); },
           [&] { return sum_cols_steps(*other, c0, c1, window); }, g);
    }
  }

  // Migration and deaths abroad of the crisis run: totals over the window, by_year every step.
  {
    auto flow = [&](const char* name, const Eigen::ArrayXXd DrawData::*member, bool by_year) {
      const std::string_view h = name;
      const Eigen::ArrayXXd* a = d ? &(d->*member) : nullptr;
      sink([&] { return std::string(h) + "/total"; }, [&] { return sum_cols_steps(*a, 0, C, window); });
      for (int g = 0; g < G; ++g) {
        auto [c0, c1] = group_cols(g);
        sink([&] { return std::string(h) + "/by_group/" + gname(L, g); },
             [&] { return sum_cols_steps(*a, c0, c1, window); }, g);
      }
      if (by_year)
        for (int y = 0; y < Y; ++y)
          sink([&] { return std::string(h) + "/by_year/" + year_str(y); },
               [&] { return sum_cols_steps(*a, 0, C, year_is(y)); });
    };
    flow("/net_emigration", &DrawData::net_emigration, true);
    flow("/emigrants", &DrawData::emigrants, false);
    flow("/returnees", &DrawData::returnees, false);
    flow("/immigrants", &DrawData::immigrants, false);
    flow("/deaths_abroad", &DrawData::deaths_abroad, true);
    for (int g = 0; g < G; ++g)
      sink([&] { return "/abroad_at_end/by_group/" + gname(L, g); },
           [&] { return d->abroad_at_end(g); }, g);
  }

  // The published figure's modelled counterpart: headline excess deaths (home + abroad) in the
  // window, of its group or all, plus for "losses" the emigrants alive abroad at the end.
  if (L.published) {
    const PublishedEstimate& p = *L.published;
    sink([] { return std::string("/published/modelled"); }, [&] {
      const Eigen::ArrayXXd& both = L.headline_cf ? d->cf_both : d->rb_both;
      const int c0 = p.group < 0 ? 0 : 2 * p.group, c1 = p.group < 0 ? C : 2 * p.group + 2;
      double v = sum_cols_steps(both, c0, c1, window);
      if (p.losses)
        for (int g = 0; g < G; ++g)
          if (p.group < 0 || g == p.group) v += d->abroad_at_end(g);
      return v;
    });
  }

  // What the draw derived besides the engine's inputs (food-balance trajectories), as built.
  for (std::size_t j = 0; j < L.derived.size(); ++j)
    sink([&] { return L.derived[j]; }, [&] { return (*d->derived)[j]; });

  // Balance sheet of each group over the whole projection (crisis run): at home, initial +
  // births + immigrants + returnees + net_migration − deaths − emigrants = final; abroad,
  // initial_abroad + births_abroad + emigrants − returnees − deaths_abroad = final_abroad. Excess
  // deaths and lost births here are over every step (not only the window), both definitions.
  {
    const std::pair<int, int> all{0, L.n_steps};
    auto col_sum = [&](const Eigen::ArrayXd& a, int c0, int c1) {
      double acc = 0.0;
      for (int c = c0; c < c1; ++c) acc += a(c);
      return acc;
    };
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      const std::string h = d ? std::string() : "/balance/" + gname(L, g);
      auto item = [&](const char* name, auto&& value) {
        sink([&] { return h + "/" + name; }, value, g);
      };
      auto flow_sum = [&](const Eigen::ArrayXXd DrawData::*member) {
        return sum_cols_steps(d->*member, c0, c1, all);
      };
      item("initial", [&] { return col_sum(d->initial_home, c0, c1); });
      item("births", [&] { return flow_sum(&DrawData::births_home); });
      item("immigrants", [&] { return flow_sum(&DrawData::immigrants); });
      item("returnees", [&] { return flow_sum(&DrawData::returnees); });
      item("net_migration", [&] { return flow_sum(&DrawData::net_migrants); });
      item("deaths", [&] { return flow_sum(&DrawData::deaths_home); });
      item("emigrants", [&] { return flow_sum(&DrawData::emigrants); });
      item("final", [&] { return col_sum(d->population_home.col(L.n_steps - 1), c0, c1); });
      item("initial_abroad", [&] { return col_sum(d->initial_abroad, c0, c1); });
      item("births_abroad", [&] { return flow_sum(&DrawData::births_abroad); });
      item("deaths_abroad", [&] { return flow_sum(&DrawData::deaths_abroad); });
      item("final_abroad", [&] { return col_sum(d->population_abroad.col(L.n_steps - 1), c0, c1); });
      item("excess_deaths", [&] {
        return flow_sum(L.headline_cf ? &DrawData::cf_both : &DrawData::rb_both);
      });
      item(L.headline_cf ? "excess_deaths_rate_based" : "excess_deaths_counterfactual", [&] {
        return flow_sum(L.headline_cf ? &DrawData::rb_both : &DrawData::cf_both);
      });
      item("normal_deaths", [&] {  // deaths at home and abroad less the headline excess
        return (flow_sum(&DrawData::deaths_home) + flow_sum(&DrawData::deaths_abroad)) -
               flow_sum(L.headline_cf ? &DrawData::cf_both : &DrawData::rb_both);
      });
      item("lost_births", [&] { return flow_sum(L.headline_cf ? &DrawData::lb_cf : &DrawData::lb_rb); });
    }
    // By year (steps named by the year of their midpoint), each group.
    for (int g = 0; g < G; ++g) {
      auto [c0, c1] = group_cols(g);
      for (int y = 0; y < Y; ++y) {
        const std::pair<int, int> ks = year_is(y);
        const std::string h = d ? std::string() : "/balance_by_year/" + gname(L, g) + "/" + year_str(y);
        auto item = [&](const char* name, auto&& value) {
          sink([&] { return h + "/" + name; }, value, g);
        };
        auto flow_sum = [&](const Eigen::ArrayXXd DrawData::*member) {
          return sum_cols_steps(d->*member, c0, c1, ks);
        };
        item("births", [&] { return flow_sum(&DrawData::births_home); });
        item("deaths", [&] { return flow_sum(&DrawData::deaths_home); });
        item("deaths_abroad", [&] { return flow_sum(&DrawData::deaths_abroad); });
        item("excess_deaths", [&] {
          return flow_sum(L.headline_cf ? &DrawData::cf_both : &DrawData::rb_both);
        });
        item("lost_births", [&] { return flow_sum(L.headline_cf ? &DrawData::lb_cf : &DrawData::lb_rb); });
        item("emigrants", [&] { return flow_sum(&DrawData::emigrants); });
        item("returnees", [&] { return flow_sum(&DrawData::returnees); });
        item("immigrants", [&] { return flow_sum(&DrawData::immigrants); });
        item("population_end", [&] {
          return col_sum(d->population_home.col(ks.second - 1), c0, c1);
        });
        item("population_abroad_end", [&] {
          return col_sum(d->population_abroad.col(ks.second - 1), c0, c1);
        });
      }
    }
  }

  visit_target_metrics(L, d, sink);
}

/// The targets' metrics, the last of visit_metrics' list (modelled count, deviations,
/// census-error log-likelihood, then their total): they read only DrawData::target_modelled and
/// DrawData::values.
template <class Sink>
void visit_target_metrics(const Layout& L, const DrawData* d, Sink&& sink) {
  double ll_total = 0.0;
  for (std::size_t i = 0; i < L.targets.size(); ++i) {
    const Layout::TargetCells& t = L.targets[i];
    auto h = [&t] { return "/targets/" + t.name; };
    const double modelled = d ? d->target_modelled[i] : 0.0;
    sink([&] { return h() + "/modelled"; }, [&] { return modelled; });
    sink([&] { return h() + "/deviation"; }, [&] { return modelled - t.observed; });
    sink([&] { return h() + "/relative_deviation"; }, [&] { return modelled / t.observed - 1.0; });
    if (t.sd >= 0)
      sink([&] { return h() + "/log_likelihood"; },
           [&] {
             // observed = modelled·(1 + bias)·(1 + ε), ε ~ N(0, sd²): ln φ(z) − ln sd.
             const std::vector<double>& v = *d->values;
             const double bias = t.bias >= 0 ? v[std::size_t(t.bias)] : 0.0;
             const double sd = v[std::size_t(t.sd)];
             const double z = (t.observed / (modelled * (1.0 + bias)) - 1.0) / sd;
             const double ll = -0.5 * z * z - 0.5 * std::log(2.0 * std::numbers::pi) - std::log(sd);
             ll_total += ll;
             return ll;
           });
  }
  if (L.any_likelihood) sink([&] { return std::string("/log_likelihood/total"); }, [&] { return ll_total; });
}

/// One thread's engine: runner, inputs and scratch, reused for every draw it runs.
class DrawRunner {
 public:
  /// needed[m]: whether metric m (L.paths order) is computed per draw (the others stay 0).
  DrawRunner(const detail::DrawModel& model, const Layout& L, const std::vector<char>& needed,
             bool crisis_only = false)
      : model_(model),
        L_(L),
        needed_(needed),
        crisis_only_(crisis_only),
        runner_(model.dims, model.projector_options, L.n_steps, /*keep_by_age=*/true),
        data_(L),
        metrics_(L.paths.size(), 0.0) {
    data_.values = &values_;
    data_.derived = &inputs_.derived;
    std::size_t target_metrics = 0;
    visit_target_metrics(L, nullptr, [&target_metrics](auto&&, auto&&) { ++target_metrics; });
    first_target_metric_ = L.paths.size() - target_metrics;
    targets_only_ = true;
    std::size_t i = 0;
    visit_metrics(L, nullptr, [this, &i](auto&&, auto&&, auto&&... group) {
      if constexpr (sizeof...(group) == 1) metric_group_[i] = (int(group), ...);
      ++i;
    });
    for (std::size_t m = 0; m < needed.size(); ++m)
      if (needed[m]) {
        needed_list_.push_back(m);
        targets_only_ = targets_only_ && m >= first_target_metric_;
      }
    // By-age ledgers are read only in the window (excess by age) and at target boundaries inside
    // the projection (population by age): skip the copies elsewhere.
    std::vector<bool> by_age(std::size_t(L.n_steps), false);
    if (L.headline_cf && !crisis_only)  // excess by age needs the counterfactual anyway
      for (int k = L.window.first; k < L.window.second; ++k) by_age[std::size_t(k)] = true;
    for (const auto& t : L.targets)
      if (!t.abroad && t.boundary > 0 && t.boundary < L.n_steps) by_age[std::size_t(t.boundary - 1)] = true;
    runner_.keep_by_age_only_in(by_age);
    // A likelihood's draws read the targets' populations alone: the crisis run need sum no flow.
    runner_.populations_only(crisis_only_ && targets_only_);
  }

  /// Runs one draw and computes its metrics (metrics()). @throws what build() or the projector
  /// throw; domain_error naming the metric if one is not finite.
  void run(std::uint64_t seed, std::uint64_t draw, bool central) {
    model_.build(seed, draw, central, values_, inputs_);
    if (inputs_.rates.size() != std::size_t(L_.n_steps))
      throw domain_error("run_draws: the model built " + std::to_string(inputs_.rates.size()) +
                         " rate sets for " + std::to_string(L_.n_steps) + " steps");
    for (const Layout::TargetCells& t : L_.targets)
      if (t.bias >= int(values_.size()) || t.sd >= int(values_.size()) ||
          std::any_of(t.plus.begin(), t.plus.end(), [&](int p) { return p < 0 || p >= int(values_.size()); }))
        throw domain_error("run_draws: target \"" + t.name + "\": bias or sd parameter index beyond the " +
                           std::to_string(values_.size()) + " parameters");
    if (inputs_.derived.size() != L_.derived.size())
      throw domain_error("run_draws: the model derived " + std::to_string(inputs_.derived.size()) +
                         " values for " + std::to_string(L_.derived.size()) + " derived outputs");
    const StepTime& first = model_.steps.front();
    const std::uint64_t same = same_groups();
    have_previous_ = false;  // (until this draw's projection completes)
    // data_ holds the fill() of runner_'s previous run if filled_, and metrics_ its metrics (so
    // the columns of the groups the run keeps from that one are in place in both).
    const bool was_filled = filled_;
    filled_ = false;
    runner_.run(inputs_.initial, inputs_.rates, int(std::floor(first.start)), !crisis_only_,
                same);
    previous_values_ = values_;
    have_previous_ = true;
    kept_ = was_filled ? runner_.kept_groups() : 0;
    fill(kept_);
    filled_ = true;
    std::size_t m = targets_only_ ? first_target_metric_ : 0;
    // A metric of a kept group only reads cells of DrawData that fill() kept: metrics_ holds its
    // value already (the previous visit completed: nothing throws between fill() and its end).
    auto sink = [this, &m](auto&&, auto&& value, auto&&... group) {
      static_assert(sizeof...(group) <= 1);
      bool kept = false;
      if constexpr (sizeof...(group) == 1) kept = (is_kept(group) && ...);
      if (needed_[m] && !kept) metrics_[m] = value();
      ++m;
    };
    if (targets_only_) visit_target_metrics(L_, &data_, sink);
    else visit_metrics(L_, &data_, sink);
    STEPPE_ASSERT(m == metrics_.size());
    for (std::size_t j : needed_list_)
      if (!is_kept(metric_group_[j]) && !std::isfinite(metrics_[j]))  // (a kept one was checked)
        throw domain_error("run_draws: " + L_.paths[j] + " = " + std::to_string(metrics_[j]) +
                           ", expected a finite number");
    clamps_ = 0;
    clamped_persons_ = 0.0;
    for (const Accounts::Step& s : runner_.crisis().steps()) {
      clamps_ += s.clamps;
      clamped_persons_ += s.clamped_persons;
    }
  }

  const std::vector<double>& metrics() const noexcept { return metrics_; }
  std::size_t clamps() const noexcept { return clamps_; }
  double clamped_persons() const noexcept { return clamped_persons_; }

 private:
  // Whether group g (-1: none) was kept in this draw.
  bool is_kept(int g) const noexcept { return g >= 0 && g < 64 && (kept_ >> g & 1u); }

  // The groups (a bit each) whose parameters, as model_.group_parameters lists them, have the
  // same bits as in the previous draw projected by runner_: their inputs are the same.
  std::uint64_t same_groups() const {
    const std::vector<std::vector<std::size_t>>& reads = model_.group_parameters;
    if (!have_previous_ || reads.size() != std::size_t(L_.n_groups) || reads.size() > 64 ||
        previous_values_.size() != values_.size())
      return 0;
    std::uint64_t same = 0;
    for (std::size_t g = 0; g < reads.size(); ++g) {
      bool equal = true;
      for (std::size_t i : reads[g])
        equal = equal && i < values_.size() &&
                std::bit_cast<std::uint64_t>(values_[i]) ==
                    std::bit_cast<std::uint64_t>(previous_values_[i]);
      if (equal) same |= std::uint64_t(1) << g;
    }
    return same;
  }

  // The DrawData fields that the needed metrics read: only the targets' modelled counts if
  // every needed metric is a target's (the likelihood pass), else all of them.
  // `kept`: the groups (a bit each) whose columns the runner kept from its previous run, whose
  // fill() data_ holds: every cell of DrawData but the targets' and abroad_at_end is of one
  // column, computed from that column of the ledgers (and of the initial population, the same
  // for a kept group: its inputs are), so the kept groups' cells are already in place.
  void fill(std::uint64_t kept) {
    DrawData& d = data_;
    fill_targets();
    if (targets_only_) return;
    // The columns to fill: those of the groups not kept, in order.
    int n_todo = 0;
    for (int c = 0; c < L_.n_cols; ++c)
      if (c / 2 >= 64 || !(kept >> (c / 2) & 1u)) todo_[std::size_t(n_todo++)] = c;
    const std::span<const int> todo(todo_.data(), std::size_t(n_todo));
    const auto cr = runner_.crisis().steps();
    // Crisis only: the counterfactual's ledgers stand in as the crisis run's (every metric that
    // reads them is then excluded by run_draws; this only keeps the indexing valid).
    const auto cf = crisis_only_ ? runner_.crisis().steps() : runner_.counterfactual().steps();
    for (int c : todo) d.cf_by_age.col(c).setZero();
    for (int k = 0; k < L_.n_steps; ++k) {
      const Accounts::Step& s = cr[std::size_t(k)];
      const Accounts::Step& t = cf[std::size_t(k)];
      for (int c : todo) {
        // The same expressions as excess.hpp's functions, element by element (same bits).
        d.cf_home(c, k) = s.deaths(c) - t.deaths(c);
        d.cf_abroad(c, k) = s.deaths_abroad(c) - t.deaths_abroad(c);
        d.cf_both(c, k) = (s.deaths(c) + s.deaths_abroad(c)) - (t.deaths(c) + t.deaths_abroad(c));
        d.rb_home(c, k) = s.deaths(c) - s.baseline_deaths(c);
        d.rb_abroad(c, k) = s.deaths_abroad(c) - s.baseline_deaths_abroad(c);
        d.rb_both(c, k) = (s.deaths(c) + s.deaths_abroad(c)) -
                          (s.baseline_deaths(c) + s.baseline_deaths_abroad(c));
        d.lb_cf(c, k) = (t.births(c) + t.births_abroad(c)) - (s.births(c) + s.births_abroad(c));
        d.lb_rb(c, k) = s.baseline_births(c) - (s.births(c) + s.births_abroad(c));
        d.emigrants(c, k) = s.emigrants(c);
        d.returnees(c, k) = s.returnees(c);
        d.net_emigration(c, k) = s.emigrants(c) - s.returnees(c);
        d.immigrants(c, k) = s.immigrants(c);
        d.deaths_abroad(c, k) = s.deaths_abroad(c);
        d.births_home(c, k) = s.births(c);
        d.births_abroad(c, k) = s.births_abroad(c);
        d.deaths_home(c, k) = s.deaths(c);
        d.net_migrants(c, k) = s.net_migrants(c);
        d.population_home(c, k) = s.population(c);
        d.population_abroad(c, k) = s.population_abroad(c);
      }
      // Excess by age (Lexis: the age cell at the end of the step), window steps only: Σ over
      // steps in order, then cells in order, per (age group, column).
      if (L_.headline_cf && !crisis_only_ && k >= L_.window.first && k < L_.window.second)
        for (int c : todo) {
          const double* sd = s.deaths_by_age.col(c).data();
          const double* sa = s.deaths_abroad_by_age.col(c).data();
          const double* td = t.deaths_by_age.col(c).data();
          const double* ta = t.deaths_abroad_by_age.col(c).data();
          // With by_age_year, the same excess goes into the year's total as well: Σ over the
          // year's steps in order, then cells in order (else into a discarded accumulator).
          const std::size_t w = std::size_t(k - L_.window.first);
          const bool by_year = L_.by_age_year;
          const Eigen::Index yc =
              by_year ? Eigen::Index(c) * Eigen::Index(L_.window_years.size()) +
                            L_.window_year_of_step[w]
                      : 0;
          for (std::size_t j = 0; j < L_.age_cells.size(); ++j) {
            double acc = d.cf_by_age(Eigen::Index(j), c);
            double year_acc =
                by_year && !L_.first_of_year[w] ? d.cf_by_age_year(Eigen::Index(j), yc) : 0.0;
            for (int a = L_.age_cells[j].first; a < L_.age_cells[j].second; ++a) {
              const double e = (sd[a] + sa[a]) - (td[a] + ta[a]);
              acc += e;
              year_acc += e;
            }
            d.cf_by_age(Eigen::Index(j), c) = acc;
            if (by_year) d.cf_by_age_year(Eigen::Index(j), yc) = year_acc;
          }
        }
    }
    const Population& end = runner_.crisis_end();
    for (int g = 0; g < L_.n_groups; ++g) d.abroad_at_end(g) = end.group_abroad(g);
    const Population& start = inputs_.initial;
    for (int c : todo) {
      d.initial_home(c) = start.home().col(c).sum();
      d.initial_abroad(c) = start.abroad().col(c).sum();
    }
  }

  // Each target's modelled count at its boundary, Σ over groups, sexes (columns in order), then
  // age cells, plus its `plus` values; four targets at a time: their sums are four independent
  // chains of additions, which the CPU overlaps, where one target after
  // the other waits on each addition in turn (a few hundred in a total of every age).
  void fill_targets() {
    const std::size_t n = L_.targets.size();
    for (std::size_t i = 0; i < n; i += 4) {
      const std::size_t lanes = std::min<std::size_t>(4, n - i);
      for (std::size_t l = 0; l < lanes; ++l) target_cells(L_.targets[i + l], chains_[l]);
      double acc[4];
      sum_chains(lanes, acc);
      for (std::size_t l = 0; l < lanes; ++l) {
        double m = acc[l];
        for (int p : L_.targets[i + l].plus) m += values_[std::size_t(p)];
        data_.target_modelled[i + l] = m;
      }
    }
  }

  // A run of adjacent cells of one target (a column's age cells, or one total).
  struct Cells {
    const double* first;
    int n;
  };

  // The target's cells at its boundary, in the order of its sum: groups, sexes (columns in
  // order), then age cells. No run is empty.
  void target_cells(const Layout::TargetCells& t, std::vector<Cells>& out) const {
    out.clear();
    const Eigen::ArrayXXd* by_age = nullptr;
    const Eigen::ArrayXd* totals = nullptr;
    if (t.boundary == 0) by_age = t.abroad ? &inputs_.initial.abroad() : &inputs_.initial.home();
    else if (t.boundary == L_.n_steps)
      by_age = t.abroad ? &runner_.crisis_end().abroad() : &runner_.crisis_end().home();
    else {
      const Accounts::Step& s = runner_.crisis().steps()[std::size_t(t.boundary - 1)];
      if (t.abroad) totals = &s.population_abroad;  // all ages (checked in make_layout)
      else by_age = &s.population_by_age;
    }
    for (int g = 0; g < L_.n_groups; ++g) {
      if (t.group >= 0 && g != t.group) continue;
      for (Sex sx : sexes) {
        if (t.sex >= 0 && int(sx) != t.sex) continue;
        const int c = Dims::col(sx, g);
        if (totals) out.push_back({totals->data() + c, 1});
        else if (t.cell_to > t.cell_from)
          out.push_back({&(*by_age)(t.cell_from, c), t.cell_to - t.cell_from});
      }
    }
  }

  // acc[l] = 0 + Σ of chains_[l]'s cells in order, l < lanes (each the bits of a plain loop:
  // the lanes only interleave). A lane whose cells are done adds zeros (x + 0 = x for x ≠ −0,
  // and a sum from +0 is never −0).
  void sum_chains(std::size_t lanes, double* acc) const {
    std::size_t run[4] = {0, 0, 0, 0};  // the current run of each lane
    int offset[4] = {0, 0, 0, 0};       // cells of it already added
    for (std::size_t l = 0; l < 4; ++l) acc[l] = 0.0;
    for (;;) {
      int m = std::numeric_limits<int>::max();
      const double* p[4];
      bool any = false;
      for (std::size_t l = 0; l < 4; ++l) {
        if (l < lanes && run[l] < chains_[l].size()) {
          const Cells& r = chains_[l][run[l]];
          p[l] = r.first + offset[l];
          m = std::min(m, r.n - offset[l]);
          any = true;
        } else {
          p[l] = nullptr;
        }
      }
      if (!any) return;
      m = std::min(m, int(zeros_.size()));
      for (std::size_t l = 0; l < 4; ++l)
        if (!p[l]) p[l] = zeros_.data();
      double a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
      for (int j = 0; j < m; ++j) {
        a0 += p[0][j];
        a1 += p[1][j];
        a2 += p[2][j];
        a3 += p[3][j];
      }
      acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
      for (std::size_t l = 0; l < lanes; ++l) {
        if (run[l] >= chains_[l].size()) continue;
        offset[l] += m;
        if (offset[l] == chains_[l][run[l]].n) ++run[l], offset[l] = 0;
      }
    }
  }

  const detail::DrawModel& model_;
  const Layout& L_;
  const std::vector<char>& needed_;
  std::vector<std::size_t> needed_list_;  // the indices m with needed_[m]
  std::size_t first_target_metric_ = 0;   // where visit_target_metrics' metrics start
  bool targets_only_ = false;             // every needed metric is a target's (fill() skips the rest)
  bool crisis_only_ = false;  // no counterfactual run: its ledgers are read as the crisis run's
  CrisisRunner runner_;
  ModelInputs inputs_;
  std::vector<double> values_;
  std::vector<double> previous_values_;  // of the last draw runner_ projected
  bool have_previous_ = false;           // runner_'s last run was of previous_values_
  bool filled_ = false;                  // data_ holds the fill() of runner_'s last run
  std::uint64_t kept_ = 0;  // the groups whose cells of data_ (and metrics) this draw kept
  // Per metric: the group whose columns alone it reads (visit_metrics' tag), else -1.
  std::vector<int> metric_group_ = std::vector<int>(L_.paths.size(), -1);
  std::vector<int> todo_ = std::vector<int>(std::size_t(L_.n_cols));  // fill()'s columns
  DrawData data_;
  std::vector<double> metrics_;
  std::array<std::vector<Cells>, 4> chains_;  // fill_targets' scratch: four targets' cells
  std::vector<double> zeros_ = std::vector<double>(64, 0.0);  // what a finished lane adds
  std::size_t clamps_ = 0;
  double clamped_persons_ = 0.0;
};

/// The moments of one block of draws (merged in block order by the calling thread): plain
/// Moments for an unweighted run, WeightedMoments for an importance-weighted one.
struct Partial {
  std::vector<Moments> moments;
  std::vector<WeightedMoments> weighted;
  std::uint64_t draws = 0, visited = 0, clamps = 0;  // draws run; draws run or skipped (weight 0)
  double clamped_persons = 0.0;
  double weight = 0.0, weight_squares = 0.0;  // Σw and Σw² of the draws run (weighted runs)
};

/// The integer weights of RunOptions::weights (empty if unweighted), after checking them.
std::vector<std::uint64_t> integer_weights(const std::vector<double>& w, std::uint64_t n) {
  if (w.empty()) return {};
  if (w.size() != n)
    throw domain_error("run_draws: " + std::to_string(w.size()) + " weights for " +
                       std::to_string(n) + " draws, expected one per draw");
  double top = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i]) || w[i] < 0.0)
      throw domain_error("run_draws: weight of draw " + std::to_string(i) + " = " +
                         std::to_string(w[i]) + ", expected a finite number >= 0");
    top = std::max(top, w[i]);
  }
  if (top == 0.0) throw domain_error("run_draws: every weight is 0, expected at least one > 0");
  // ⌊2^62/n⌋ per unit of the largest weight: the total stays below 2^62 (no overflow).
  const double scale = std::floor(std::ldexp(1.0, 62) / double(n)) / top;
  std::vector<std::uint64_t> u(n);
  for (std::size_t i = 0; i < n; ++i) u[i] = std::uint64_t(std::llround(w[i] * scale));
  return u;
}

}  // namespace

namespace detail {

RunResult run_draws(const DrawModel& model, const RunOptions& options) {
  if (options.draws == 0) throw domain_error("run_draws: draws = 0, expected at least 1");
  if (model.steps.empty()) throw domain_error("run_draws: the model has no projection step");
  if (!model.build) throw domain_error("run_draws: the model has no build function");

  Layout L = make_layout(model);
  visit_metrics(L, nullptr, [&L](auto&& name, auto&&, auto&&...) { L.paths.push_back(name()); });
  const std::size_t M_all = L.paths.size();

  const std::uint64_t N = options.draws;
  const bool central = N == 1 && options.first_draw == 0;
  const std::vector<std::uint64_t> weight = integer_weights(options.weights, N);
  const bool weighted = !weight.empty();
  std::vector<std::size_t> kept_index;  // metric index of each kept path
  for (const std::string& k : options.keep) {
    auto it = std::find(L.paths.begin(), L.paths.end(), k);
    if (it == L.paths.end())
      throw std::out_of_range("run_draws: no metric \"" + k + "\" to keep");
    kept_index.push_back(std::size_t(it - L.paths.begin()));
  }
  const std::size_t K = kept_index.size();
  // The metrics summarised (all, or only the kept ones) and those computed per draw: these, the
  // kept ones, and the targets' log-likelihoods if their total is needed (it is their sum).
  std::vector<std::size_t> summarised;
  if (options.only_kept || !options.summarise.empty()) {
    if (options.only_kept) {
      summarised = kept_index;
    } else {
      for (const std::string& k : options.summarise) {
        auto it = std::find(L.paths.begin(), L.paths.end(), k);
        if (it == L.paths.end())
          throw std::out_of_range("run_draws: no metric \"" + k + "\" to summarise");
        summarised.push_back(std::size_t(it - L.paths.begin()));
      }
    }
    std::sort(summarised.begin(), summarised.end());
    summarised.erase(std::unique(summarised.begin(), summarised.end()), summarised.end());
  } else {
    for (std::size_t m = 0; m < M_all; ++m) summarised.push_back(m);
  }
  const std::size_t M = summarised.size();
  if (options.crisis_only) {
    bool ok = options.only_kept;
    for (const std::string& k : options.keep)
      ok = ok && (k.rfind("/targets/", 0) == 0 || k.rfind("/log_likelihood/", 0) == 0);
    if (!ok)
      throw domain_error("run_draws: crisis_only needs only_kept and kept paths under /targets/ or "
                         "/log_likelihood/ (the others need the counterfactual run)");
  }
  std::vector<char> needed(M_all, 0);
  for (std::size_t m : summarised) needed[m] = 1;
  for (std::size_t m : kept_index) needed[m] = 1;
  for (std::size_t m = 0; m < M_all; ++m)
    if (needed[m] && L.paths[m] == "/log_likelihood/total")
      for (std::size_t j = 0; j < M_all; ++j)
        if (L.paths[j].rfind("/targets/", 0) == 0 && L.paths[j].ends_with("/log_likelihood"))
          needed[j] = 1;
  std::vector<double> kept(K ? N * K : 0, std::numeric_limits<double>::quiet_NaN());
  const std::uint64_t n_blocks = (N + block_draws - 1) / block_draws;
  unsigned threads = options.threads > 0 ? unsigned(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<std::uint64_t>(threads, n_blocks));
  // Finished blocks may wait for an earlier one at most this far ahead of the merge.
  const std::uint64_t window = 4 * std::uint64_t(threads);

  std::mutex mu;
  std::condition_variable merged_cv, submitted_cv;  // workers wait on the first, the merger on the second
  std::map<std::uint64_t, Partial> pending;         // finished, not yet merged (≤ window of them)
  std::uint64_t merged_blocks = 0;
  unsigned finished_workers = 0;
  std::atomic<std::uint64_t> next_block{0};
  std::atomic<std::uint64_t> stop_draw{N};  // draws from here on are skipped (error or cancel)
  std::atomic<bool> cancelled{false};
  std::exception_ptr error;
  std::uint64_t error_draw = N;
  std::vector<std::vector<QuantileSketch>> sketches(threads);  // per worker: integer counts,
                                                               // so merging is exact in any order
  // Per worker: each metric's smallest and largest value (exact in any order too). A reported
  // quantile is clamped into [min, max], so that an output constant across draws reports exactly
  // its value rather than the sketch's bucket midpoint.
  std::vector<std::vector<double>> lows(threads), highs(threads);

  // Keeps the error of the earliest draw (draws after it are skipped, earlier ones still run,
  // so the error rethrown is the first in draw order whatever the thread count).
  auto record_error = [&](std::uint64_t i, std::exception_ptr e) {
    std::lock_guard lock(mu);
    if (!error || i < error_draw) {
      error_draw = i;
      error = std::move(e);
    }
    if (i < stop_draw.load()) stop_draw = i;
    merged_cv.notify_all();
  };
  // Lowers stop_draw to i (under the lock, so that no worker waiting on the window misses it).
  auto stop_at = [&](std::uint64_t i) {
    std::lock_guard lock(mu);
    if (i < stop_draw.load()) stop_draw = i;
    merged_cv.notify_all();
  };
  auto worker = [&](unsigned w) {
    std::vector<QuantileSketch>& sk = sketches[w];
    std::vector<double>& lo = lows[w];
    std::vector<double>& hi = highs[w];
    try {
      DrawRunner runner(model, L, needed, options.crisis_only);
      sk.assign(M, QuantileSketch(sketch_alpha));
      lo.assign(M, std::numeric_limits<double>::infinity());
      hi.assign(M, -std::numeric_limits<double>::infinity());
      // Summaries in batches: each draw's M summarised values go to a row of `batch` (draw-major),
      // summarised every batch_draws draws and at the end of a block, so that each metric's
      // sketch (and its pending buffer) is touched once per batch rather than once per draw among
      // M others, which made nearly every sketch addition a cache miss. Every accumulator still
      // sees its values in draw order, and the batches are fixed by the block (never by the
      // thread): the same bits for any thread count.
      std::vector<double> batch(batch_draws * M), column(batch_draws);
      std::vector<double> batch_weight(weighted ? batch_draws : 0);            // WeightedMoments'
      std::vector<std::uint64_t> batch_count(weighted ? batch_draws : 0);     // the sketches'
      std::vector<std::size_t> varying;  // the metrics not constant in the batch
      varying.reserve(M);
      std::size_t rows = 0;
      auto summarise = [&](Partial& p) {
        if (rows == 0) return;
        // A metric whose values in the batch are all the same bits (an output constant across
        // draws, such as every output of a group without drawn parameters): its sketch takes the
        // value once with the batch's count, and its Moments add it `rows` times at once (the
        // same bits: integer counts, and Moments::add(x, times)). The others are listed in
        // `varying`, in metric order.
        varying.clear();
        for (std::size_t m = 0; m < M; ++m) {
          const double x = batch[m];
          const auto bits = std::bit_cast<std::uint64_t>(x);
          std::size_t r = 1;
          while (r < rows && std::bit_cast<std::uint64_t>(batch[r * M + m]) == bits) ++r;
          if (r < rows || weighted || !std::isfinite(x)) {
            varying.push_back(m);
            continue;
          }
          p.moments[m].add(x, rows);
          lo[m] = lower(lo[m], x);
          hi[m] = upper(hi[m], x);
          sk[m].add(x, rows);
        }
        // Weighted moments draw by draw: the metrics' updates are independent, so their
        // divisions overlap (one metric's draws in a row would wait on each other's).
        if (weighted)
          for (std::size_t r = 0; r < rows; ++r) {
            const double* v = &batch[r * M];
            for (std::size_t m : varying) p.weighted[m].add(v[m], batch_weight[r]);
          }
        // The rest metric by metric, each a column of the batch: the moments of the batch at
        // once (Moments::add of a span: a division per batch, not per draw), min and max in draw
        // order, the sketch.
        for (std::size_t m : varying) {
          double low = lo[m], high = hi[m];
          for (std::size_t r = 0; r < rows; ++r) {
            const double x = batch[r * M + m];
            column[r] = x;
            low = lower(low, x);
            high = upper(high, x);
          }
          lo[m] = low;
          hi[m] = high;
          const std::span<const double> xs(column.data(), rows);
          if (weighted) {
            sk[m].add(xs, std::span<const std::uint64_t>(batch_count.data(), rows));
          } else {
            p.moments[m].add(xs);
            sk[m].add(xs);
          }
        }
        rows = 0;
      };
      for (;;) {
        const std::uint64_t b = next_block.fetch_add(1);
        if (b >= n_blocks || b * block_draws >= stop_draw.load()) break;
        {
          std::unique_lock lock(mu);
          merged_cv.wait(lock, [&] {
            return b < merged_blocks + window || b * block_draws >= stop_draw.load();
          });
        }
        // A block past the stop is dropped unsubmitted: every later one is past it too, and the
        // merger merges what is left in block order once all workers have finished.
        if (b * block_draws >= stop_draw.load()) break;
        Partial p;
        if (weighted) p.weighted.resize(M);
        else p.moments.resize(M);
        const std::uint64_t end = std::min(N, (b + 1) * block_draws);
        for (std::uint64_t i = b * block_draws; i < end; ++i) {
          if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
            cancelled = true;
            stop_at(i);
          }
          if (i >= stop_draw.load(std::memory_order_relaxed)) break;
          ++p.visited;
          if (weighted && weight[i] == 0) continue;  // negligible weight: not run
          try {
            runner.run(options.seed, options.first_draw + i, central);
          } catch (const domain_error& e) {
            record_error(i, std::make_exception_ptr(domain_error(
                                (central ? std::string("run_draws: central values: ")
                                         : "run_draws: draw " + std::to_string(options.first_draw + i) + " (seed " +
                                               std::to_string(options.seed) + "): ") +
                                e.what())));
            break;
          } catch (...) {
            record_error(i, std::current_exception());
            break;
          }
          const std::vector<double>& x = runner.metrics();
          if (weighted) {
            const double w = options.weights[i];
            p.weight += w;
            p.weight_squares += w * w;
            batch_weight[rows] = w;
            batch_count[rows] = weight[i];
          }
          double* row = &batch[rows * M];
          for (std::size_t m = 0; m < M; ++m) row[m] = x[summarised[m]];
          if (++rows == batch_draws) summarise(p);
          for (std::size_t k = 0; k < K; ++k) kept[i * K + k] = x[kept_index[k]];  // own slots
          ++p.draws;
          p.clamps += runner.clamps();
          p.clamped_persons += runner.clamped_persons();
        }
        summarise(p);  // the block's last draws (also those before a draw that threw)
        std::lock_guard lock(mu);
        pending.emplace(b, std::move(p));
        submitted_cv.notify_one();
      }
    } catch (...) {  // setting up the thread's runner failed (allocation): stop everything
      record_error(0, std::current_exception());
    }
    std::lock_guard lock(mu);
    ++finished_workers;
    submitted_cv.notify_one();
  };

  std::vector<Moments> total(weighted ? 0 : M);
  std::vector<WeightedMoments> weighted_total(weighted ? M : 0);
  std::uint64_t done = 0, visited = 0, clamps = 0;
  double weight_sum = 0.0, weight_squares = 0.0;
  double clamped_persons = 0.0;
  auto merge = [&](const Partial& p) {
    for (std::size_t m = 0; m < M; ++m)
      if (weighted) weighted_total[m].merge(p.weighted[m]);
      else total[m].merge(p.moments[m]);
    done += p.draws;
    visited += p.visited;
    weight_sum += p.weight;
    weight_squares += p.weight_squares;
    clamps += p.clamps;
    clamped_persons += p.clamped_persons;
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned w = 0; w < threads; ++w) pool.emplace_back(worker, w);
  std::exception_ptr merger_error;  // from options.progress: stop the workers, then rethrow
  try {
    std::unique_lock lock(mu);
    for (;;) {
      submitted_cv.wait(lock, [&] {
        return finished_workers == threads || pending.count(merged_blocks) != 0;
      });
      auto it = pending.find(merged_blocks);
      if (it == pending.end()) break;  // all workers finished
      Partial p = std::move(it->second);
      pending.erase(it);
      lock.unlock();
      merge(p);
      if (options.progress) options.progress(visited, N);
      lock.lock();
      ++merged_blocks;
      merged_cv.notify_all();
    }
  } catch (...) {
    merger_error = std::current_exception();
    stop_at(0);
  }
  for (std::thread& t : pool) t.join();
  if (merger_error) std::rethrow_exception(merger_error);
  if (error) std::rethrow_exception(error);
  // Blocks after a gap (a cancelled run): still in block order.
  for (const auto& [b, p] : pending) merge(p);
  const bool any_left = !pending.empty();
  pending.clear();
  if (any_left && options.progress) options.progress(visited, N);

  RunResult r;
  r.seed = options.seed;
  r.draws = done;
  r.cancelled = cancelled && visited < N;
  r.kept = std::move(kept);
  if (weighted) {
    r.weight_total = weight_sum;
    r.ess = weight_squares > 0 ? weight_sum * weight_sum / weight_squares : 0.0;
  } else {
    r.weight_total = double(done);
    r.ess = double(done);
  }
  r.quantile_levels = model.outputs.quantiles;
  r.clamps = clamps;
  r.clamped_persons = clamped_persons;
  r.metrics.reserve(M);
  for (std::size_t m = 0; m < M; ++m) {
    QuantileSketch q(sketch_alpha);  // merged into, so nothing is left pending for quantile()
    for (unsigned w = 0; w < threads; ++w)
      if (!sketches[w].empty()) q.merge(std::move(sketches[w][m]));
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (unsigned w = 0; w < threads; ++w)
      if (!lows[w].empty()) {
        lo = lower(lo, lows[w][m]);
        hi = upper(hi, highs[w][m]);
      }
    Summary s;
    s.count = weighted ? weighted_total[m].count() : total[m].count();
    s.mean = weighted ? weighted_total[m].mean() : total[m].mean();
    s.sd = weighted ? weighted_total[m].sd() : total[m].sd();
    for (double level : r.quantile_levels)
      s.quantiles.push_back(q.count() ? std::clamp(q.quantile(level), lo, hi)
                                      : std::numeric_limits<double>::quiet_NaN());
    r.metrics.push_back({std::move(L.paths[summarised[m]]), std::move(s)});
  }
  return r;
}

}  // namespace detail

namespace {
detail::DrawModel draw_model(const Scenario& scenario) {
  detail::DrawModel m;
  m.group_parameters = scenario.group_parameters();
  m.dims = scenario.dims();
  m.projector_options = scenario.projector_options();
  m.steps.assign(scenario.steps().begin(), scenario.steps().end());
  m.targets.assign(scenario.targets().begin(), scenario.targets().end());
  m.outputs = scenario.outputs();
  m.derived.assign(scenario.derived_outputs().begin(), scenario.derived_outputs().end());
  return m;
}
}  // namespace

std::vector<std::string> metric_paths(const Scenario& scenario) {
  detail::DrawModel m = draw_model(scenario);
  Layout L = make_layout(m);
  visit_metrics(L, nullptr, [&L](auto&& name, auto&&, auto&&...) { L.paths.push_back(name()); });
  return std::move(L.paths);
}

RunResult run_parameter_sets(const Scenario& scenario, std::span<const std::vector<double>> values,
                             const RunOptions& options) {
  const std::size_t P = scenario.parameters().size();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].size() != P)
      throw domain_error("run_parameter_sets: set " + std::to_string(i) + " has " +
                         std::to_string(values[i].size()) + " values, expected " + std::to_string(P));
  if (values.empty()) throw domain_error("run_parameter_sets: no parameter set to run");
  detail::DrawModel m = draw_model(scenario);
  m.build = [&scenario, values](std::uint64_t, std::uint64_t draw, bool, std::vector<double>& v,
                                ModelInputs& inputs) {
    v = values[draw];
    scenario.build(v, inputs);
  };
  RunOptions o = options;
  o.draws = values.size();
  o.first_draw = 0;  // draw i is values[i]
  return detail::run_draws(m, o);
}

RunResult run_draws(const Scenario& scenario, const RunOptions& options) {
  detail::DrawModel m = draw_model(scenario);
  m.build = [&scenario](std::uint64_t seed, std::uint64_t draw, bool central,
                        std::vector<double>& values, ModelInputs& inputs) {
    if (central) scenario.central(values);
    else scenario.sample(seed, draw, values);
    scenario.build(values, inputs);
  };
  return detail::run_draws(m, options);
}

}  // namespace steppe
