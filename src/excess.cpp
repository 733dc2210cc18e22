// SPDX-License-Identifier: MIT
// CrisisRunner and the excess-death / lost-birth definitions.
#include "steppe/excess.hpp"

#include <algorithm>
#include <bit>
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
      counterfactual_(dims, keep_by_age, reserve_steps),
      fork_(dims),
      kept_end_(dims),
      kept_counterfactual_end_(dims) {}

namespace {

// Which optional components of a RateSet are present, a bit each: two RateSets with the same
// bits take the same branches of the projector.
unsigned components(const RateSet& r) {
  unsigned bits = 0, bit = 1;
  for (const Eigen::ArrayXXd* a :
       {&r.asfr_abroad, &r.net_migration_rate, &r.net_migration_count, &r.crisis_survivorship,
        &r.crisis_survivorship_abroad, &r.emigration_rate, &r.emigration_count, &r.return_rate,
        &r.return_count, &r.immigration_count}) {
    if (a->size()) bits |= bit;
    bit <<= 1;
  }
  for (const Eigen::ArrayXd* a :
       {&r.crisis_birth_survivorship, &r.crisis_birth_survivorship_abroad, &r.fertility_multiplier}) {
    if (a->size()) bits |= bit;
    bit <<= 1;
  }
  return bits;
}

// Copies the columns of the groups whose bits `groups` has, at home and abroad. Returns whether
// every cell copied abroad is +0.0 (so that a `to` whose cells abroad all were +0.0 still is).
bool copy_groups(const Population& from, Population& to, std::uint64_t groups) {
  bool zero = true;
  for (int g = 0; g < from.dims().n_groups() && g < 64; ++g) {
    if (!(groups >> g & 1u)) continue;
    const Eigen::Index c = Dims::col(Sex::female, g);  // (the group's two columns)
    // (two contiguous columns: plain copies, faster than Eigen's loop over a block)
    const Eigen::Index n = 2 * from.home().rows();
    std::copy_n(from.home().col(c).data(), n, to.home().col(c).data());
    const double* a = from.abroad().col(c).data();
    std::copy_n(a, n, to.abroad().col(c).data());
    if (zero)
      zero = std::all_of(a, a + n, [](double x) { return std::bit_cast<std::uint64_t>(x) == 0; });
  }
  return zero;
}

}  // namespace

void CrisisRunner::run(const Population& initial, std::span<const RateSet> rates, int start_year,
                       bool with_counterfactual) {
  run(initial, rates, start_year, with_counterfactual, 0);
}

void CrisisRunner::run(const Population& initial, std::span<const RateSet> rates, int start_year,
                       bool with_counterfactual, std::uint64_t same_groups) {
  const int G = projector_.dims().n_groups();
  next_components_.resize(rates.size());
  for (std::size_t k = 0; k < rates.size(); ++k) next_components_[k] = components(rates[k]);
  if (G < 64) same_groups &= (std::uint64_t(1) << G) - 1;
  const bool reuse = same_groups != 0 && G <= 64 && reusable_ && last_steps_ == rates.size() &&
                     last_start_year_ == start_year &&
                     last_with_counterfactual_ == with_counterfactual &&
                     next_components_ == components_;
  reusable_ = false;  // until a run completes
  components_.assign(next_components_.begin(), next_components_.end());  // (no allocation)
  last_steps_ = rates.size();
  last_start_year_ = start_year;
  last_with_counterfactual_ = with_counterfactual;
  bool done = false;
  kept_groups_ = 0;
  if (reuse) {
    copy_groups(crisis_end_, kept_end_, same_groups);  // (the previous run's)
    if (with_counterfactual) copy_groups(counterfactual_end_, kept_counterfactual_end_, same_groups);
    done = project(initial, rates, start_year, with_counterfactual, same_groups);
    if (done) {
      kept_groups_ = same_groups;
    } else {  // a step took another path: project every group, trusting nothing left
      flows_.detail_written = ~0u;
      flows_.totals.valid = false;
      for (bool& z : abroad_zero_) z = false;
    }
  }
  if (!done) {
    paths_.assign(2 * rates.size(), detail::step_path_incomplete);
    project(initial, rates, start_year, with_counterfactual, 0);
  }
  // (A run in which some step cut an out-flow is not reused: a later run that skipped groups
  // would not record the skipped groups' cuts, and stops at any cut of its own.)
  reusable_ = std::none_of(paths_.begin(), paths_.end(),
                           [](int p) { return p == detail::step_path_clamped; });
}

bool CrisisRunner::project(const Population& initial, std::span<const RateSet> rates,
                           int start_year, bool with_counterfactual, std::uint64_t skipped) {
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
  // Skipping groups, each step must take the path it took in the previous run (paths_), which
  // computed the skipped groups' columns: else `failed`.
  bool failed = false;
  auto step = [&](const Population& from, const RateSet& r, Population& to, Regime regime,
                  bool by_age, int& path) {
    bool& zero = abroad_zero(to);
    const bool known = zero;
    // (A start in one of the runner's populations is vouched for likewise; `initial` is not.)
    const bool from_zero = &from != &initial && abroad_zero(from);
    zero = false;  // until the step returns (it may throw)
    if (skipped) {
      zero = detail::step_skipping_groups(projector_, from, r, to, flows_, regime, by_age, known,
                                          from_zero, skipped);
      failed = detail::last_step_path(projector_) != path;
      return;
    }
    if (populations_only_ && !with_counterfactual)
      zero = detail::step_populations_only(projector_, from, r, to, flows_, regime, known,
                                           from_zero);
    else if (by_age)
      zero = detail::step_with_by_age_deaths_only(projector_, from, r, to, flows_, regime, known,
                                                  from_zero);
    else
      zero = detail::step_without_by_age_flows(projector_, from, r, to, flows_, regime, known,
                                               from_zero);
    path = detail::last_step_path(projector_);
  };
  // The ledgers record each step, taking flows_'s totals and births (storage swapped, not
  // copied: every step writes them anew). One that keeps the step's by-age deaths takes
  // flows_.deaths likewise: every step that keeps them writes them anew, and nothing else
  // reads them. So too flows_.deaths_abroad where someone may be abroad (the step then wrote
  // it); after that, the projector must treat every optional flow array
  // as possibly non-zero (Flows::detail_written), so that a step with nobody abroad zeroes it.
  // A shared step is copied into the counterfactual's ledger, then taken.
  // Skipping groups, the ledgers keep the skipped groups' columns of the previous run.
  auto take = [&](Accounts& ledger, const Population& p, int year) {
    if (skipped) {  // (takes no by-age array: flows_.detail_written stays true)
      ledger.record_keeping_groups(p, year, flows_, true, skipped);
      return;
    }
    const bool abroad_too = ledger.keeps_by_age_in_next_step() && !abroad_zero(p);
    ledger.record_taking_flows(p, year, flows_, abroad_too);
    if (abroad_too) flows_.detail_written = ~0u;
  };
  auto both = [&](const Population& p, int year) {
    if (skipped) counterfactual_.record_keeping_groups(p, year, flows_, false, skipped);
    else counterfactual_(p, year, flows_);
    take(crisis_, p, year);
  };
  auto crisis_records = [&](const Population& p, int year) { take(crisis_, p, year); };
  auto counterfactual_records = [&](const Population& p, int year) {
    take(counterfactual_, p, year);
  };
  // A run's first step writes its end population straight from its start, which is never copied;
  // then `end` and `next` are a double buffer (years as in project(): never accumulated).
  // (path: where the path of step k is, 2·k + the path's offset)
  auto run_from = [&](const Population& start, std::span<const RateSet> steps, int year,
                      auto&& observer, auto&& needs_by_age, Population& end, Population& next,
                      Regime regime, int* path) {
    std::size_t k = 0;
    if (&end != &start) {
      if (steps.empty()) {
        end = start;
        abroad_zero(end) = false;
        return;
      }
      step(start, steps.front(), end, regime, needs_by_age(), path[0]);
      if (failed) return;
      observer(static_cast<const Population&>(end), year + width);
      k = 1;
    }
    for (; k < steps.size(); ++k) {
      step(end, steps[k], next, regime, needs_by_age(), path[2 * k]);
      if (failed) return;
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
  // Skipping groups, the populations where a run starts or ends keep the skipped groups'
  // columns of the previous run (kept_end_ and kept_counterfactual_end_ hold its end populations,
  // fork_ where its runs parted ways). The fork is read whole (whether anyone is abroad), so its
  // columns are put back before the runs part ways; the ends, after both runs.
  auto keep_ends = [&] {
    if (!skipped) return;
    // (copying only +0.0 abroad into a population with only +0.0 abroad keeps it so)
    bool& crisis_zero = abroad_zero(crisis_end_);
    crisis_zero = copy_groups(kept_end_, crisis_end_, skipped) && crisis_zero;
    if (!with_counterfactual) return;
    bool& counterfactual_zero = abroad_zero(counterfactual_end_);
    counterfactual_zero = copy_groups(kept_counterfactual_end_, counterfactual_end_, skipped) &&
                          counterfactual_zero;
  };
  if (!with_counterfactual) {
    run_from(initial, rates, start_year, crisis_records, crisis_needs, crisis_end_, next_,
             Regime::crisis, &paths_[0]);
    if (failed) return false;
    keep_ends();
    return true;
  }
  if (shared > 0) {
    run_from(initial, rates.first(shared), start_year, both, both_need, counterfactual_end_,
             counterfactual_next_, Regime::crisis, &paths_[0]);
    if (failed) return false;
    fork = &counterfactual_end_;
    if (skipped) {  // fork_'s kept columns are in place: only the others are copied back
      bool& zero = abroad_zero(counterfactual_end_);
      zero = copy_groups(fork_, counterfactual_end_, skipped) && zero;
      const int G = projector_.dims().n_groups();  // (<= 64 where any group is skipped)
      copy_groups(counterfactual_end_, fork_,
                  ~skipped & (G < 64 ? (std::uint64_t(1) << G) - 1 : ~std::uint64_t(0)));
    } else {
      fork_.home() = counterfactual_end_.home();
      fork_.abroad() = counterfactual_end_.abroad();
    }
  }
  // From there on, the crisis run and the counterfactual part ways (the crisis run first, while
  // the counterfactual's start is still in counterfactual_end_).
  const int year = start_year + int(shared) * width;
  run_from(*fork, rates.subspan(shared), year, crisis_records, crisis_needs, crisis_end_, next_,
           Regime::crisis, &paths_[2 * shared]);
  if (failed) return false;
  run_from(*fork, rates.subspan(shared), year, counterfactual_records, counterfactual_needs,
           counterfactual_end_, counterfactual_next_, Regime::no_crisis, &paths_[2 * shared + 1]);
  if (failed) return false;
  keep_ends();
  return true;
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
