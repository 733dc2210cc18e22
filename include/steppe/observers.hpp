// SPDX-License-Identifier: MIT
// Observers that account: Accounts (the standard per-step ledger) and ObserverList (run-time
// composition). Observers are called once per step, never per cell.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "steppe/flows.hpp"
#include "steppe/population.hpp"

namespace steppe {

/// The ledger of a projection: per step, every flow and the end population summed over ages,
/// by column (Dims::col(sex, group)); optionally deaths and populations by age as well.
/// Call it as an observer: accounts(end_population, year_at_end, flows).
class Accounts {
 public:
  /// One step's totals. All Eigen::ArrayXd have length dims.n_cols() (persons); *_by_age arrays
  /// are ages × cols and only filled when keep_by_age (else empty).
  struct Step {
    int year = 0;  ///< year at the end of the step
    Eigen::ArrayXd deaths, deaths_abroad, baseline_deaths, baseline_deaths_abroad;
    Eigen::ArrayXd births, births_abroad, baseline_births;
    Eigen::ArrayXd emigrants, returnees, immigrants, net_migrants;
    Eigen::ArrayXd population, population_abroad;  ///< at the end of the step
    std::size_t clamps = 0;                         ///< clamps applied in the step
    double clamped_persons = 0;                     ///< persons the clamps removed from out-flows
    Eigen::ArrayXXd deaths_by_age, deaths_abroad_by_age, population_by_age;
  };

  Accounts() = default;
  /// Sizes room for `reserve_steps` steps up front, so recording them never allocates.
  explicit Accounts(const Dims& dims, bool keep_by_age = false, int reserve_steps = 0);

  /// Records one step (the observer call).
  void operator()(const Population& end, int year, const Flows& flows);

  /// Not API (CrisisRunner): records one step as operator() does, except that it takes arrays of
  /// `flows` by swapping storage with its own instead of copying: the totals (flows.totals) but
  /// population_abroad, and the births, if they are those of the step (flows.totals.valid, and
  /// for the population total, totals.population_data == end.home().data()); and, in a step that
  /// keeps by-age arrays, flows.deaths (and flows.deaths_abroad if `abroad_too`) into
  /// deaths_by_age (deaths_abroad_by_age). The arrays taken then hold unspecified values, for a
  /// caller whose next step rewrites them before anyone reads them. totals.population_abroad
  /// is copied and totals.valid left as it is: the projector's next step reads them to guess
  /// whether anyone is abroad at its start.
  void record_taking_flows(const Population& end, int year, Flows& flows, bool abroad_too);

  /// Not API (CrisisRunner's reuse of unchanged groups): records one step as operator() (`take`
  /// false) or record_taking_flows (`take` true) do, except that the columns of the groups g with
  /// bit g of `kept_groups` set keep what this ledger's step size() holds already: the values of
  /// the run recorded before the last clear(), with the same keep_by_age_only_in. Those columns
  /// of `end` and `flows` are not read; in flows' totals and births they are overwritten with
  /// the kept values. By-age arrays are never taken here: the other groups' columns are copied
  /// into the step's own (whose kept columns are thus in place), and flows' by-age arrays and
  /// detail_written are left as they are. Preconditions: that step was recorded before the last
  /// clear(); flows.totals are valid and of `end` (totals.population_data == end.home().data());
  /// n_groups() <= 64.
  void record_keeping_groups(const Population& end, int year, Flows& flows, bool take,
                             std::uint64_t kept_groups);

  /// The steps recorded so far, in order.
  std::span<const Step> steps() const noexcept { return {steps_.data(), n_}; }
  std::size_t size() const noexcept { return n_; }
  const Dims& dims() const noexcept { return dims_; }
  bool keeps_by_age() const noexcept { return keep_by_age_; }
  /// Forgets the recorded steps, keeping the storage (for the next replicate).
  void clear() noexcept { n_ = 0; }
  /// With keep_by_age: records the *_by_age arrays only in the steps k (0-based, counted from the
  /// last clear()) with steps[k] true, to save the copies when a caller reads only a few steps.
  /// The by-age arrays of the other steps are left as they were: do not read them. Empty (the
  /// default) = every step.
  void keep_by_age_only_in(std::vector<bool> steps) { by_age_steps_ = std::move(steps); }
  /// Whether the next step recorded (step size() since the last clear()) keeps its by-age
  /// arrays, i.e. reads the by-age deaths of its Flows (else only their totals and births).
  bool keeps_by_age_in_next_step() const noexcept { return keeps_by_age_in(n_); }

  /// Σ over the steps with first_year_at_end ≤ year ≤ last_year_at_end of a Step member, by column.
  /// Example: accounts.sum(&Accounts::Step::deaths, 1930, 1933) = deaths in steps ending in
  /// 1930..1933, i.e. during calendar years 1929..1932 for steps from 1 Jan to 1 Jan.
  Eigen::ArrayXd sum(Eigen::ArrayXd Step::*member, int first_year_at_end, int last_year_at_end) const;

 private:
  Step blank_step() const;
  /// Records a new step but for its by-age arrays; returns it. Take: swaps storage with the
  /// arrays of `flows` that record_taking_flows takes (F is then Flows, else const Flows).
  template <bool Take, class F>
  Step& record_totals(const Population& end, int year, F& flows);
  bool keeps_by_age_in(std::size_t k) const noexcept {
    return keep_by_age_ && (by_age_steps_.empty() || (k < by_age_steps_.size() && by_age_steps_[k]));
  }
  Dims dims_{};
  bool keep_by_age_ = false;
  std::vector<bool> by_age_steps_;  // empty = every step
  std::vector<Step> steps_;
  std::size_t n_ = 0;
};

inline Accounts::Accounts(const Dims& dims, bool keep_by_age, int reserve_steps)
    : dims_(dims), keep_by_age_(keep_by_age) {
  steps_.reserve(std::size_t(reserve_steps));
  for (int k = 0; k < reserve_steps; ++k) steps_.push_back(blank_step());
}

inline Accounts::Step Accounts::blank_step() const {
  Step s;
  const Eigen::Index C = dims_.n_cols(), A = dims_.n_ages();
  for (Eigen::ArrayXd* a : {&s.deaths, &s.deaths_abroad, &s.baseline_deaths,
                            &s.baseline_deaths_abroad, &s.births, &s.births_abroad,
                            &s.baseline_births, &s.emigrants, &s.returnees, &s.immigrants,
                            &s.net_migrants, &s.population, &s.population_abroad})
    a->setZero(C);
  if (keep_by_age_)
    for (Eigen::ArrayXXd* a : {&s.deaths_by_age, &s.deaths_abroad_by_age, &s.population_by_age})
      a->setZero(A, C);
  return s;
}

template <bool Take, class F>
[[gnu::always_inline]] inline Accounts::Step& Accounts::record_totals(const Population& end,
                                                                       int year, F& f) {
  if (n_ == steps_.size()) steps_.push_back(blank_step());  // only past the reserved steps
  Step& s = steps_[n_++];
  s.year = year;
  // Taking: an O(1) swap of two arrays of dims.n_cols() instead of a copy.
  auto put = [](Eigen::ArrayXd& to, auto& from) {
    if constexpr (Take) to.swap(from);
    else to = from;
  };
  if (f.totals.valid) {  // summed by the projector as it wrote the flows
    put(s.deaths, f.totals.deaths);
    put(s.deaths_abroad, f.totals.deaths_abroad);
    put(s.baseline_deaths, f.totals.baseline_deaths);
    put(s.baseline_deaths_abroad, f.totals.baseline_deaths_abroad);
    put(s.emigrants, f.totals.emigrants);
    put(s.returnees, f.totals.returnees);
    put(s.immigrants, f.totals.immigrants);
    put(s.net_migrants, f.totals.net_migrants);
  } else {
    s.deaths = f.deaths.colwise().sum().transpose();
    s.deaths_abroad = f.deaths_abroad.colwise().sum().transpose();
    s.baseline_deaths = f.baseline_deaths.colwise().sum().transpose();
    s.baseline_deaths_abroad = f.baseline_deaths_abroad.colwise().sum().transpose();
    s.emigrants = f.emigrants.colwise().sum().transpose();
    s.returnees = f.returnees.colwise().sum().transpose();
    s.immigrants = f.immigrants.colwise().sum().transpose();
    s.net_migrants = f.net_migrants.colwise().sum().transpose();
  }
  put(s.births, f.births);
  put(s.births_abroad, f.births_abroad);
  put(s.baseline_births, f.baseline_births);
  if (f.totals.valid && f.totals.population_data == end.home().data()) {
    put(s.population, f.totals.population);
    s.population_abroad = f.totals.population_abroad;  // (copied: see record_taking_flows)
  } else {
    s.population = end.home().colwise().sum().transpose();
    s.population_abroad = end.abroad().colwise().sum().transpose();
  }
  s.clamps = f.clamps.size();
  s.clamped_persons = f.clamped_persons;
  return s;
}

inline void Accounts::operator()(const Population& end, int year, const Flows& f) {
  Step& s = record_totals<false>(end, year, f);
  if (keeps_by_age_in(n_ - 1)) {
    s.deaths_by_age = f.deaths;
    s.deaths_abroad_by_age = f.deaths_abroad;
    s.population_by_age = end.home();
  }
}

inline void Accounts::record_taking_flows(const Population& end, int year, Flows& f,
                                          bool abroad_too) {
  Step& s = record_totals<true>(end, year, f);
  if (keeps_by_age_in(n_ - 1)) {
    s.deaths_by_age.swap(f.deaths);  // (both ages × cols)
    if (abroad_too) s.deaths_abroad_by_age.swap(f.deaths_abroad);
    else s.deaths_abroad_by_age = f.deaths_abroad;
    s.population_by_age = end.home();
  }
}

inline void Accounts::record_keeping_groups(const Population& end, int year, Flows& f,
                                            bool take, std::uint64_t kept) {
  STEPPE_ASSERT(n_ < steps_.size() && dims_.n_groups() <= 64);
  STEPPE_ASSERT(f.totals.valid && f.totals.population_data == end.home().data());
  const bool by_age = keeps_by_age_in(n_);
  // The kept columns of the totals and births go into `f` first, then the step's totals are
  // recorded from `f` as usual (their storage is the step's own: record_totals overwrites it).
  {
    const Step& old = steps_[n_];
    Flows::ColumnTotals& t = f.totals;
    for (int g = 0; g < dims_.n_groups(); ++g) {
      if (!(kept >> g & 1u)) continue;
      const Eigen::Index c = Dims::col(Sex::female, g);  // (the group's two columns)
      for (auto [to, from] : {std::pair{&t.deaths, &old.deaths},
                              {&t.deaths_abroad, &old.deaths_abroad},
                              {&t.baseline_deaths, &old.baseline_deaths},
                              {&t.baseline_deaths_abroad, &old.baseline_deaths_abroad},
                              {&t.emigrants, &old.emigrants},
                              {&t.returnees, &old.returnees},
                              {&t.immigrants, &old.immigrants},
                              {&t.net_migrants, &old.net_migrants},
                              {&t.population, &old.population},
                              {&t.population_abroad, &old.population_abroad},
                              {&f.births, &old.births},
                              {&f.births_abroad, &old.births_abroad},
                              {&f.baseline_births, &old.baseline_births}})
        to->segment(c, 2) = from->segment(c, 2);
    }
  }
  Step& s = take ? record_totals<true>(end, year, f) : record_totals<false>(end, year, f);
  if (!by_age) return;
  // The step's by-age arrays hold every column of the previous run's step (each record of a
  // step that keeps them writes them whole, or as here keeps the rest from the run before): the
  // kept groups' columns are in place, the others are copied from `f` and `end` (never swapped,
  // so that this stays true). The by-age arrays of `f` are left as the step wrote them
  // (flows.detail_written stays true to them).
  // (A group's two columns are contiguous, ages × 2 values: plain copies, which memcpy does
  // faster than Eigen's loop over a block of unknown alignment.)
  const Eigen::Index A = dims_.n_ages();
  for (int g = 0; g < dims_.n_groups(); ++g) {
    if (kept >> g & 1u) continue;
    const Eigen::Index c = Dims::col(Sex::female, g);
    std::copy_n(f.deaths.col(c).data(), 2 * A, s.deaths_by_age.col(c).data());
    std::copy_n(f.deaths_abroad.col(c).data(), 2 * A, s.deaths_abroad_by_age.col(c).data());
    std::copy_n(end.home().col(c).data(), 2 * A, s.population_by_age.col(c).data());
  }
}

inline Eigen::ArrayXd Accounts::sum(Eigen::ArrayXd Step::*member, int first, int last) const {
  Eigen::ArrayXd total = Eigen::ArrayXd::Zero(dims_.n_cols());
  for (const Step& s : steps())
    if (s.year >= first && s.year <= last) total += s.*member;
  return total;
}

/// Run-time composition of observers (like odeint's observer_collection). Each is called once per
/// step through std::function; fine for a yearly call, never used inside the step.
class ObserverList {
 public:
  using Fn = std::function<void(const Population&, int, const Flows&)>;
  /// Adds an observer. Pass std::ref(obs) to keep a stateful observer's results in the caller's object.
  void add(Fn fn) { fns_.push_back(std::move(fn)); }
  void operator()(const Population& p, int year, const Flows& f) const {
    for (const Fn& fn : fns_) fn(p, year, f);
  }
  std::size_t size() const noexcept { return fns_.size(); }

 private:
  std::vector<Fn> fns_;
};

}  // namespace steppe
