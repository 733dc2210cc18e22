// SPDX-License-Identifier: MIT
// CrisisRunner and the excess-death / lost-birth definitions.
#include "steppe/excess.hpp"

#include <utility>

#include "steppe/project.hpp"

namespace steppe {

CrisisRunner::CrisisRunner(Dims dims, ProjectorOptions options, int reserve_steps, bool keep_by_age)
    : projector_(dims, options),
      crisis_end_(dims),
      counterfactual_end_(dims),
      next_(dims),
      counterfactual_next_(dims),
      flows_(dims),
      crisis_(dims, keep_by_age, reserve_steps),
      counterfactual_(dims, keep_by_age, reserve_steps) {}

void CrisisRunner::run(const Population& initial, std::span<const RateSet> rates, int start_year,
                       bool with_counterfactual) {
  crisis_.clear();
  counterfactual_.clear();
  const int width = projector_.dims().ages().width;
  // Steps before the first crisis component are the same in both regimes (Regime only switches
  // crisis components off): project them once and record them in both ledgers.
  std::size_t shared = 0;
  while (shared < rates.size() && !rates[shared].has_crisis()) ++shared;
  // One step into `to`. The Accounts read the flows' totals and births, and by age only deaths
  // (at home and abroad) in the steps where a ledger keeps by-age arrays (needs_by_age()): the
  // kernel writes the same populations and totals without storing the other by-age flows.
  // Only this runner writes its populations (crisis_end() and counterfactual_end() are const), so
  // abroad_zero_ tracks which of them hold zeros abroad from their own last step.
  auto abroad_zero = [&](const Population& p) -> bool& {
    return abroad_zero_[&p == &crisis_end_           ? 0
                        : &p == &counterfactual_end_ ? 1
                        : &p == &next_               ? 2
                                                     : 3];
  };
  auto step = [&](const Population& from, const RateSet& r, Population& to, Regime regime,
                  bool by_age) {
    bool& zero = abroad_zero(to);
    const bool known = zero;
    // (A start in one of the runner's populations is vouched for likewise; `initial` is not.)
    const bool from_zero = &from != &initial && abroad_zero(from);
    zero = false;  // until the step returns (it may throw)
    if (by_age)
      zero = detail::step_with_by_age_deaths_only(projector_, from, r, to, flows_, regime, known,
                                                  from_zero);
    else
      zero = detail::step_without_by_age_flows(projector_, from, r, to, flows_, regime, known,
                                               from_zero);
  };
  // The ledgers record each step, taking flows_'s totals and births (storage swapped, not
  // copied: every step writes them anew). One that keeps the step's by-age deaths takes
  // flows_.deaths likewise: every step that keeps them writes them anew, and nothing else
  // reads them. So too flows_.deaths_abroad where someone may be abroad (the step then wrote it,
  // or the clamping step did); after that, the projector must treat every optional flow array
  // as possibly non-zero (Flows::detail_written), so that a step with nobody abroad zeroes it.
  // A shared step is copied into the counterfactual's ledger, then taken.
  auto take = [&](Accounts& ledger, const Population& p, int year) {
    const bool abroad_too = ledger.keeps_by_age_in_next_step() && !abroad_zero(p);
    ledger.record_taking_flows(p, year, flows_, abroad_too);
    if (abroad_too) flows_.detail_written = ~0u;
  };
  auto both = [&](const Population& p, int year) {
    counterfactual_(p, year, flows_);
    take(crisis_, p, year);
  };
  auto crisis_records = [&](const Population& p, int year) { take(crisis_, p, year); };
  auto counterfactual_records = [&](const Population& p, int year) {
    take(counterfactual_, p, year);
  };
  // A run's first step writes its end population straight from its start, which is never copied;
  // then `end` and `next` are a double buffer (years as in project(): never accumulated).
  auto run_from = [&](const Population& start, std::span<const RateSet> steps, int year,
                      auto&& observer, auto&& needs_by_age, Population& end, Population& next,
                      Regime regime) {
    std::size_t k = 0;
    if (&end != &start) {
      if (steps.empty()) {
        end = start;
        abroad_zero(end) = false;
        return;
      }
      step(start, steps.front(), end, regime, needs_by_age());
      observer(static_cast<const Population&>(end), year + width);
      k = 1;
    }
    for (; k < steps.size(); ++k) {
      step(end, steps[k], next, regime, needs_by_age());
      observer(static_cast<const Population&>(next), year + int(k + 1) * width);
      swap(end, next);
      std::swap(abroad_zero(end), abroad_zero(next));
    }
  };
  auto both_need = [&] {
    return crisis_.keeps_by_age_in_next_step() || counterfactual_.keeps_by_age_in_next_step();
  };
  auto crisis_needs = [&] { return crisis_.keeps_by_age_in_next_step(); };
  auto counterfactual_needs = [&] { return counterfactual_.keeps_by_age_in_next_step(); };
  const Population* fork = &initial;  // where the two runs part ways
  if (!with_counterfactual) {
    run_from(initial, rates, start_year, crisis_records, crisis_needs, crisis_end_, next_,
             Regime::crisis);
    return;
  }
  if (shared > 0) {
    run_from(initial, rates.first(shared), start_year, both, both_need, counterfactual_end_,
             counterfactual_next_, Regime::crisis);
    fork = &counterfactual_end_;
  }
  // From there on, the crisis run and the counterfactual part ways (the crisis run first, while
  // the counterfactual's start is still in counterfactual_end_).
  const int year = start_year + int(shared) * width;
  run_from(*fork, rates.subspan(shared), year, crisis_records, crisis_needs, crisis_end_, next_,
           Regime::crisis);
  run_from(*fork, rates.subspan(shared), year, counterfactual_records, counterfactual_needs,
           counterfactual_end_, counterfactual_next_, Regime::no_crisis);
}

namespace {

template <class Fn>
Eigen::ArrayXXd per_step(const Accounts& a, Fn fn) {
  Eigen::ArrayXXd out(a.dims().n_cols(), Eigen::Index(a.size()));
  Eigen::Index k = 0;
  for (const Accounts::Step& s : a.steps()) {
    out.col(k) = fn(s, k);
    ++k;
  }
  return out;
}

Eigen::ArrayXd deaths_at(const Accounts::Step& s, Place place) {
  if (place == Place::home) return s.deaths;
  if (place == Place::abroad) return s.deaths_abroad;
  return s.deaths + s.deaths_abroad;
}

Eigen::ArrayXd baseline_deaths_at(const Accounts::Step& s, Place place) {
  if (place == Place::home) return s.baseline_deaths;
  if (place == Place::abroad) return s.baseline_deaths_abroad;
  return s.baseline_deaths + s.baseline_deaths_abroad;
}

void require_same_steps(const Accounts& a, const Accounts& b, const char* fn) {
  if (a.size() != b.size())
    throw domain_error(std::string(fn) + ": crisis and counterfactual have " +
                       std::to_string(a.size()) + " and " + std::to_string(b.size()) + " steps");
}

}  // namespace

Eigen::ArrayXXd excess_deaths_vs_counterfactual(const Accounts& crisis, const Accounts& cf,
                                                Place place) {
  require_same_steps(crisis, cf, "excess_deaths_vs_counterfactual");
  return per_step(crisis, [&](const Accounts::Step& s, Eigen::Index k) -> Eigen::ArrayXd {
    return deaths_at(s, place) - deaths_at(cf.steps()[std::size_t(k)], place);
  });
}

Eigen::ArrayXXd excess_deaths_vs_baseline_rates(const Accounts& crisis, Place place) {
  return per_step(crisis, [&](const Accounts::Step& s, Eigen::Index) -> Eigen::ArrayXd {
    return deaths_at(s, place) - baseline_deaths_at(s, place);
  });
}

Eigen::ArrayXXd lost_births_vs_counterfactual(const Accounts& crisis, const Accounts& cf) {
  require_same_steps(crisis, cf, "lost_births_vs_counterfactual");
  return per_step(crisis, [&](const Accounts::Step& s, Eigen::Index k) -> Eigen::ArrayXd {
    const Accounts::Step& c = cf.steps()[std::size_t(k)];
    return (c.births + c.births_abroad) - (s.births + s.births_abroad);
  });
}

Eigen::ArrayXXd lost_births_vs_baseline_rates(const Accounts& crisis) {
  return per_step(crisis, [&](const Accounts::Step& s, Eigen::Index) -> Eigen::ArrayXd {
    return s.baseline_births - (s.births + s.births_abroad);
  });
}

double window_total(const Eigen::ArrayXXd& by_col_step, const Accounts& accounts, int first,
                    int last, int group) {
  double total = 0.0;
  Eigen::Index k = 0;
  for (const Accounts::Step& s : accounts.steps()) {
    if (s.year >= first && s.year <= last) {
      if (group < 0) total += by_col_step.col(k).sum();
      else total += by_col_step(Dims::col(Sex::female, group), k) +
                    by_col_step(Dims::col(Sex::male, group), k);
    }
    ++k;
  }
  return total;
}

}  // namespace steppe
