// SPDX-License-Identifier: MIT
// Calibration by importance sampling from the prior: two passes of run_draws (every draw, then
// the draws the likelihood keeps), ESS diagnostics, and exact weighted summaries of the
// parameters and of the census counts each target expects.
#include "steppe/calibration.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "steppe/error.hpp"
#include "steppe/rng.hpp"
#include "io/text_format.hpp"

namespace steppe {
namespace {

inline std::string escape_token(const std::string& t) { return detail::pointer_token(t); }
using detail::with_separators;



/// f(item, scratch) for every item in [0, n), on up to `threads` threads (0: all cores), each
/// thread with its own Scratch. An exception is rethrown once all have finished: the one of the
/// first item that threw, whatever the threads.
template <class Scratch, class F>
void for_each_item(std::size_t n, int threads, F&& f) {
  unsigned t = threads > 0 ? unsigned(threads) : std::max(1u, std::thread::hardware_concurrency());
  t = unsigned(std::min<std::size_t>(t, n));
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    Scratch scratch;
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        f(i, scratch);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  if (t <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned k = 0; k < t; ++k) pool.emplace_back(work);
    for (std::thread& th : pool) th.join();
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

// Value of parameter k of `scenario` in draw `draw`: what Scenario::sample writes into
// values[k] (a constant is its value; a distribution is drawn from Rng(seed, draw, stream)).
double parameter_value(const Parameter& p, std::uint64_t seed, std::uint64_t draw) {
  if (p.distribution.is_constant()) return p.distribution.mean();
  Rng rng(seed, draw, p.stream);
  return p.distribution.sample(rng);
}

// parameter_value(p, seed, i) for every draw i < values.size(), in two loops: each draw's
// uniform number, then the distribution at it (Distribution::sample is at_probability of the
// first uniform number for every kind but beta, which is drawn as before). Apart, the generators
// of successive draws overlap, and the distribution's branches do not stall them.
void parameter_values(const Parameter& p, std::uint64_t seed, std::span<double> values) {
  const Distribution& d = p.distribution;
  if (d.is_constant() || d.kind() == Distribution::Kind::beta) {
    for (std::uint64_t i = 0; i < values.size(); ++i) values[i] = parameter_value(p, seed, i);
    return;
  }
  for (std::uint64_t i = 0; i < values.size(); ++i) values[i] = Rng(seed, i, p.stream).uniform01();
  for (double& x : values) x = d.at_probability(x);
}

/// An unsigned key in the order of the doubles (for non-NaN values; −0 before +0): the sign bit
/// flipped for positive values, every bit for negative ones.
std::uint64_t order_key(double x) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x), sign = std::uint64_t(1) << 63;
  return bits & sign ? ~bits : bits | sign;
}

/// Sorts v by key(element), an unsigned 64-bit key, ascending; ties keep their order (a least
/// significant digit radix sort: eight stable passes of one byte each, skipping a byte that all
/// keys share). Several times faster than std::sort on the ~10^4–10^6 values summarised here.
template <class T, class Key>
void radix_sort(std::vector<T>& v, Key key) {
  std::array<std::array<std::size_t, 256>, 8> count{};  // of each byte value, for each byte
  for (const T& e : v) {
    const std::uint64_t k = key(e);
    for (int d = 0; d < 8; ++d) ++count[d][(k >> (8 * d)) & 255];
  }
  std::vector<T> out(v.size());
  for (int d = 0; d < 8; ++d) {
    std::array<std::size_t, 256>& next = count[d];  // counts, then where each byte value goes
    if (std::find(next.begin(), next.end(), v.size()) != next.end()) continue;
    std::size_t start = 0;
    for (std::size_t& n : next) start += std::exchange(n, start);
    for (const T& e : v) out[next[(key(e) >> (8 * d)) & 255]++] = e;
    v.swap(out);
  }
}

domain_error bad_weight(std::size_t i, double w) {
  return domain_error("weighted_summary: weight " + std::to_string(i) + " is " + std::to_string(w) +
                      ", expected a finite number >= 0");
}

domain_error bad_value(std::size_t i, double x) {
  return domain_error("weighted_summary: value " + std::to_string(i) + " is " + std::to_string(x) +
                      ", expected a finite number");
}

domain_error zero_weight_sum() {
  return domain_error("weighted_summary: the weights sum to 0, expected > 0");
}

// Throws unless every quantile level is a probability.
void check_levels(std::span<const double> levels) {
  for (double q : levels)
    if (!(q >= 0 && q <= 1))
      throw domain_error("weighted_summary: quantile level " + std::to_string(q) +
                         ", expected a probability in [0, 1]");
}

/// A monotone map of values to `size` buckets: linear between two values of an evenly spaced
/// sample of the data (its m/256-th smallest and largest of m ≤ 1024), clamped at both ends.
/// x ≤ y gives bucket(x) ≤ bucket(y) (each rounded step is monotone), so every bucket holds
/// the values of consecutive ranks, ties together, whatever the sample: selection by bucket is
/// exact, and the sample only decides how evenly the values spread over the buckets.
class RankBuckets {
 public:
  static constexpr std::size_t size = 4096;

  explicit RankBuckets(std::span<const double> values) {
    const std::size_t m = std::min<std::size_t>(values.size(), 1024);
    std::vector<double> sample;
    for (std::size_t i = 0; i < m; ++i)
      if (const double x = values[i * (values.size() / m)]; std::isfinite(x)) sample.push_back(x);
    if (sample.empty()) return;
    std::sort(sample.begin(), sample.end());
    lo_ = sample[sample.size() / 256];
    const double width = sample[sample.size() - 1 - sample.size() / 256] - lo_;
    if (width > 0 && std::isfinite(double(size) / width)) scale_ = double(size) / width;
  }

  std::size_t operator()(double x) const {
    double t = (x - lo_) * scale_;
    t = t > 0 ? t : 0;  // NaN (∞ · 0) goes to bucket 0, as does −∞
    t = t < double(size - 1) ? t : double(size - 1);
    return std::size_t(int(t));  // t in [0, size − 1]
  }

 private:
  double lo_ = 0, scale_ = 0;  // scale 0: one bucket (the sample's values are all equal)
};

// Puts the value of each rank (0-based, < v.size()) at its position in v, as a sort would:
// each rank is selected in the part that the selections before it left unsorted (the middle
// rank first, then the ranks below it among the smaller values and those above among the
// larger), so five ranks cost about three passes rather than five. A rank's value is the same
// however it is selected.
void place_ranks(std::vector<double>& v, std::span<const std::size_t> ranks) {
  std::vector<std::size_t> order(ranks.begin(), ranks.end());
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  // select(a, b, lo, hi): puts the values of ranks order[a, b) in place, where v[lo, hi)
  // holds the values of ranks lo … hi − 1 in some order.
  auto select = [&](auto&& self, std::size_t a, std::size_t b, std::size_t lo,
                    std::size_t hi) -> void {
    if (a >= b) return;
    const std::size_t mid = a + (b - a) / 2, j = order[mid];
    std::nth_element(v.begin() + std::ptrdiff_t(lo), v.begin() + std::ptrdiff_t(j),
                     v.begin() + std::ptrdiff_t(hi));
    self(self, a, mid, lo, j);
    self(self, mid + 1, b, j + 1, hi);
  };
  select(select, 0, order.size(), 0, v.size());
}

// weighted_summary with every weight 1, the same bits and the same checks in the same order: a
// weight of 1 changes no product, so Σw = Σw² = n and Σwx = Σx (in input order), and the
// q-quantile is the value of rank ceil(q·n) (1-based; 1 for q = 0), which order_statistics
// selects exactly.
Summary unit_weight_summary(std::span<const double> values, std::span<const double> levels) {
  double sw = 0, sw2 = 0, swx = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) throw bad_value(i, values[i]);
    sw += 1.0;
    sw2 += 1.0;
    swx += values[i];
  }
  if (!(sw > 0)) throw zero_weight_sum();
  Summary s;
  s.count = values.size();
  s.mean = swx / sw;
  double ss = 0;  // Σ(x − μ)² in a second pass (no cancellation)
  for (double x : values) {
    const double d = x - s.mean;
    ss += d * d;
  }
  const double n_eff = sw * sw / sw2;
  s.sd = n_eff > 1 ? std::sqrt(ss / sw * n_eff / (n_eff - 1)) : 0.0;
  check_levels(levels);
  std::vector<std::size_t> ranks;
  for (double q : levels) {
    const double r = std::ceil(q * double(values.size()));
    ranks.push_back(r < 1 ? 0 : std::min(values.size() - 1, std::size_t(r) - 1));
  }
  s.quantiles = detail::order_statistics(values, ranks);
  return s;
}

/// The posterior's support: the draws of positive weight, in draw order, and their weights.
/// weighted_summary skips weights of 0, so a summary of the values at these draws with these
/// weights has the same bits as one of every draw with every weight.
struct PosteriorSupport {
  std::vector<std::uint64_t> draws;
  std::vector<double> weights;
};

PosteriorSupport posterior_support(std::span<const double> w) {
  PosteriorSupport s;
  for (std::uint64_t i = 0; i < w.size(); ++i)
    if (w[i] > 0) {
      s.draws.push_back(i);
      s.weights.push_back(w[i]);
    }
  return s;
}

}  // namespace

namespace detail {

std::vector<double> order_statistics(std::span<const double> values,
                                     std::span<const std::size_t> ranks) {
  const RankBuckets bucket(values);
  // below[b]: how many values lie in the buckets before b (ranks below[b] … below[b + 1] − 1
  // are bucket b's, as the buckets are monotone).
  std::vector<std::size_t> below(RankBuckets::size + 1, 0);
  for (double x : values) ++below[bucket(x) + 1];
  for (std::size_t b = 0; b < RankBuckets::size; ++b) below[b + 1] += below[b];
  auto bucket_of_rank = [&](std::size_t r) {
    return std::size_t(std::upper_bound(below.begin(), below.end(), r) - below.begin()) - 1;
  };
  // The wanted buckets' values, in input order: sorted, they would be those buckets in bucket
  // order, so rank r is at position r − below[b] + (values of the wanted buckets before b).
  std::vector<unsigned char> wanted(RankBuckets::size, 0);
  for (std::size_t r : ranks) wanted[bucket_of_rank(r)] = 1;
  std::vector<std::size_t> start(RankBuckets::size, 0);  // of each wanted bucket in `kept`
  std::size_t kept_count = 0;
  for (std::size_t b = 0; b < RankBuckets::size; ++b)
    if (wanted[b]) {
      start[b] = kept_count;
      kept_count += below[b + 1] - below[b];
    }
  std::vector<double> kept(kept_count + 1);  // + 1: every value is written, the wanted ones kept
  std::size_t k = 0;
  for (double x : values) {
    kept[k] = x;
    k += wanted[bucket(x)];
  }
  kept.pop_back();
  std::vector<std::size_t> positions;
  for (std::size_t r : ranks) {
    const std::size_t b = bucket_of_rank(r);
    positions.push_back(start[b] + (r - below[b]));
  }
  place_ranks(kept, positions);
  std::vector<double> out;
  for (std::size_t j : positions) out.push_back(kept[j]);
  return out;
}

}  // namespace detail

Summary weighted_summary(std::span<const double> values, std::span<const double> weights,
                         std::span<const double> levels) {
  if (weights.empty()) return unit_weight_summary(values, levels);
  if (weights.size() != values.size())
    throw domain_error("weighted_summary: " + std::to_string(weights.size()) + " weights for " +
                       std::to_string(values.size()) + " values, expected as many");
  double sw = 0, sw2 = 0, swx = 0;
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double w = weights[i];
    if (!(w >= 0) || !std::isfinite(w)) throw bad_weight(i, w);
    if (w == 0) continue;
    if (!std::isfinite(values[i])) throw bad_value(i, values[i]);
    sw += w;
    sw2 += w * w;
    swx += w * values[i];
    ++count;
  }
  if (!(sw > 0)) throw zero_weight_sum();
  Summary s;
  s.count = count;
  s.mean = swx / sw;
  // Σw(x − μ)² in a second pass (no cancellation), scaled to the n − 1 form by n_eff.
  double ss = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double w = weights[i];
    if (w == 0) continue;
    const double d = values[i] - s.mean;
    ss += w * d * d;
  }
  const double n_eff = sw * sw / sw2;
  s.sd = n_eff > 1 ? std::sqrt(ss / sw * n_eff / (n_eff - 1)) : 0.0;
  check_levels(levels);
  std::vector<std::pair<double, double>> sorted;  // (value, weight), positive weights only
  sorted.reserve(count);
  auto positive_pairs = [&] {
    sorted.clear();
    for (std::size_t i = 0; i < values.size(); ++i)
      if (weights[i] > 0) sorted.emplace_back(values[i], weights[i]);
  };
  positive_pairs();
  // Sorted by value. Distinct values have one sorted order, which the radix sort finds; tied
  // values are put in std::sort's order, as ever, since the order of their weights can change
  // the rounding of the cumulative sums below.
  radix_sort(sorted, [](const std::pair<double, double>& e) { return order_key(e.first); });
  const bool ties =
      std::adjacent_find(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.first == b.first;
      }) != sorted.end();
  if (ties) {
    positive_pairs();
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::vector<double> cumulative(sorted.size());
  double c = 0;
  for (std::size_t j = 0; j < sorted.size(); ++j) cumulative[j] = c += sorted[j].second;
  for (double q : levels) {
    // The cumulative sum in sorted order may round differently from sw: compare with its own
    // total, and fall back to the largest value.
    const double target = q * cumulative.back();
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
    const std::size_t j =
        it == cumulative.end() ? sorted.size() - 1 : std::size_t(it - cumulative.begin());
    s.quantiles.push_back(sorted[j].first);
  }
  return s;
}

std::string CalibrationResult::warning() const {
  if (!degenerate) return "";
  char ess_text[32];
  std::snprintf(ess_text, sizeof ess_text, "%.1f", ess);
  char min_text[32];
  std::snprintf(min_text, sizeof min_text, "%g", min_ess);
  if (smc)
    return "warning: the sequential Monte Carlo posterior rests on " +
           with_separators(smc->distinct) + " distinct particles of " +
           with_separators(smc->particles) + " (fewer than " + min_text +
           "): too few; run more particles (--particles) or more moves (--moves)";
  return "warning: the posterior rests on " + std::string(ess_text) + " effective draws of " +
         with_separators(draws) + " (fewer than " + min_text +
         "): too few; run more draws or widen the census errors, or use the sequential Monte "
         "Carlo sampler (--method smc: likelihood tempering) instead of importance sampling "
         "from the prior";
}

CalibrationResult calibrate(const Scenario& scenario, const CalibrationOptions& options) {
  const std::span<const Target> targets = scenario.targets();
  const std::span<const Parameter> params = scenario.parameters();
  if (std::none_of(targets.begin(), targets.end(), [](const Target& t) { return t.sd >= 0; }))
    throw domain_error("calibrate: " + scenario.file() +
                       " has no target with a census-error sd (\"error\": {\"sd\": ...}), so "
                       "there is no likelihood to weight the draws by");
  if (options.run.draws < 2)
    throw domain_error("calibrate: draws = " + std::to_string(options.run.draws) +
                       ", expected at least 2 (one draw is the central run, not a sample)");
  if (!options.run.keep.empty() || !options.run.weights.empty())
    throw domain_error(
        "calibrate: options.run.keep and options.run.weights must be empty "
        "(calibrate sets them)");
  if (options.max_dropped_weight &&
      !(*options.max_dropped_weight >= 0 && *options.max_dropped_weight < 1))
    throw domain_error("calibrate: max_dropped_weight = " +
                       std::to_string(*options.max_dropped_weight) + ", expected in [0, 1)");

  // Pass 1: every draw, unweighted (the prior), keeping ℓ_i and each target's modelled count.
  RunOptions first = options.run;
  // The prior is summarised for every metric but the breakdowns by year and by age, which the
  // posterior has in full: a third of the work per draw, on a pass that runs every draw.
  for (const std::string& path : metric_paths(scenario))
    if (path.find("by_year") == std::string::npos && path.find("by_group_year") == std::string::npos &&
        path.find("by_group_sex_age") == std::string::npos && path.rfind("/balance_by_year", 0) != 0)
      first.summarise.push_back(path);
  first.keep.push_back("/log_likelihood/total");
  for (const Target& t : targets)
    first.keep.push_back("/targets/" + escape_token(t.name) + "/modelled");
  const std::size_t K = first.keep.size();

  CalibrationResult r;
  r.min_ess = options.min_ess;
  // The prior summaries come from the first prior_summary_draws draws; the likelihood of the
  // others needs the crisis run only (no counterfactual, no summaries): about half the work.
  const std::uint64_t asked = options.run.draws;
  const std::uint64_t summary_draws =
      options.prior_summary_draws == 0 ? asked : std::min(asked, options.prior_summary_draws);
  first.draws = summary_draws;
  const auto& progress = options.run.progress;
  if (progress)
    first.progress = [&progress, asked](std::uint64_t done, std::uint64_t) { progress(done, asked); };
  r.prior = run_draws(scenario, first);
  r.draws = r.prior.draws;
  // Each draw's K kept values: the first pass's draws, then the others' (two buffers, so the
  // larger is not copied after the smaller).
  std::vector<double> prior_kept = std::move(r.prior.kept), rest_kept;
  r.prior.kept.clear();
  if (r.prior.cancelled) {
    r.cancelled = true;
    return r;
  }
  if (summary_draws < asked) {
    RunOptions rest = options.run;
    rest.first_draw = summary_draws;
    rest.draws = asked - summary_draws;
    rest.keep = first.keep;
    rest.only_kept = true;
    rest.crisis_only = true;
    if (progress)
      rest.progress = [&progress, asked, summary_draws](std::uint64_t done, std::uint64_t) {
        progress(summary_draws + done, asked);
      };
    RunResult more = run_draws(scenario, rest);
    r.draws += more.draws;
    if (more.cancelled) {
      r.cancelled = true;
      return r;
    }
    rest_kept = std::move(more.kept);
  }
  const std::uint64_t N = r.draws;
  const std::uint64_t seed = options.run.seed;
  const std::uint64_t prior_rows = prior_kept.size() / K;
  auto kept_row = [&](std::uint64_t i) {
    return i < prior_rows ? prior_kept.data() + i * K : rest_kept.data() + (i - prior_rows) * K;
  };
  auto kept = [&](std::uint64_t i, std::size_t k) { return kept_row(i)[k]; };

  // Weights w_i = exp(ℓ_i − max ℓ): the heaviest draw weighs 1, so nothing overflows.
  double max_ll = -std::numeric_limits<double>::infinity();
  for (std::uint64_t i = 0; i < N; ++i)
    if (std::isfinite(kept(i, 0))) max_ll = std::max(max_ll, kept(i, 0));
  if (!std::isfinite(max_ll))
    throw domain_error("calibrate: no draw of " + std::to_string(N) +
                       " has a finite log-likelihood (every draw puts a target at 0 persons?)");
  std::vector<double> w(N);
  double sw = 0, sw2 = 0;
  for (std::uint64_t i = 0; i < N; ++i) {
    const double ll = kept(i, 0);
    w[i] = std::isfinite(ll) ? std::exp(ll - max_ll) : 0.0;
    sw += w[i];
    sw2 += w[i] * w[i];
  }
  r.ess = sw * sw / sw2;
  r.max_weight_share = 1.0 / sw;  // max w = 1
  r.degenerate = r.ess < options.min_ess;
  // Negligible weights: the lightest draws whose weights add up to at most δ·Σw (sorted
  // ascending; the cut is a weight value, so equal weights are kept or dropped together).
  const std::vector<double>& levels = r.prior.quantile_levels;
  if (options.max_dropped_weight) {
    r.max_dropped_weight = *options.max_dropped_weight;
  } else {
    const double p =
        levels.empty() ? 0.025 : std::max(1e-6, std::min(levels.front(), 1 - levels.back()));
    r.max_dropped_weight = std::min(1e-3, std::sqrt(p * (1 - p) / r.ess) / 10);
  }
  double dropped = 0;
  if (r.max_dropped_weight > 0) {
    std::vector<double> ascending = w;
    radix_sort(ascending, [](double x) { return order_key(x); });  // equal weights are alike
    const double budget = r.max_dropped_weight * sw;
    double cut = 0, cumulative = 0;  // drop every weight < cut
    for (std::size_t k = 0; k < ascending.size(); ++k) {
      cumulative += ascending[k];
      if (cumulative > budget) {
        cut = ascending[k];
        break;
      }
    }
    for (double& x : w)
      if (x < cut) {
        dropped += x;
        x = 0;
      }
  }
  r.dropped_weight = dropped / sw;
  const PosteriorSupport support = posterior_support(w);
  r.posterior_draws = support.draws.size();

  using Method = CalibrationOptions::Method;
  const bool use_smc = options.method == Method::smc ||
                       (options.method == Method::automatic && r.degenerate);
  SmcResult smc;  // the SMC posterior's particles (use_smc)
  if (use_smc) {
    // The posterior from likelihood tempering; the prior draws above keep the prior summaries.
    SmcOptions so = options.smc;
    so.seed = seed;
    so.threads = options.run.threads;
    so.cancel = options.run.cancel;
    so.keep.clear();
    for (const Target& t : targets) so.keep.push_back("/targets/" + escape_token(t.name) + "/modelled");
    smc = calibrate_smc(scenario, so);
    if (smc.cancelled) {
      r.cancelled = true;
      return r;
    }
    r.method = "sequential Monte Carlo";
    r.posterior = std::move(smc.posterior);
    CalibrationResult::SmcInfo info;
    info.particles = smc.values.size();
    std::vector<std::vector<double>> sorted = smc.values;
    std::sort(sorted.begin(), sorted.end());
    info.distinct = std::size_t(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
    info.stages = smc.stages;
    info.log_evidence = smc.log_evidence;
    info.evaluations = smc.evaluations;
    r.posterior_draws = info.particles;
    r.degenerate = double(info.distinct) < options.min_ess;
    r.smc = std::move(info);
  } else {
    // Pass 2: the draws of positive weight, weighted (the posterior of every metric).
    RunOptions second = options.run;
    second.progress = nullptr;  // pass 1 drove the progress bar; pass 2 is the shorter one
    second.weights = w;
    r.posterior = run_draws(scenario, second);
    if (r.posterior.cancelled) {
      r.cancelled = true;
      return r;
    }
  }
  const std::size_t P = smc.values.size();  // particles (0 without SMC)
  // The summaries below are independent of each other: they run on the run's threads, each in
  // draw order, and land in parameter and target order (the same bits whatever the threads).
  struct Scratch {
    std::vector<double> x, xp, zp, ones;
  };
  const int threads = options.run.threads;

  // Uncertain parameters, a shared distribution once (at its first use).
  std::set<std::string> seen_shared;
  std::vector<const Parameter*> uncertain;
  for (const Parameter& p : params) {
    if (p.distribution.is_constant()) continue;
    if (!p.shared.empty() && !seen_shared.insert(p.shared).second) continue;
    uncertain.push_back(&p);
  }
  r.parameters.resize(uncertain.size());
  for_each_item<Scratch>(uncertain.size(), threads, [&](std::size_t item, Scratch& s) {
    const Parameter& p = *uncertain[item];
    s.x.resize(N);
    parameter_values(p, seed, s.x);
    ParameterPosterior& pp = r.parameters[item];
    pp.pointer = p.shared.empty() ? p.pointer : "/distributions/" + escape_token(p.shared);
    pp.file = p.file;
    pp.distribution = p.distribution.describe();
    pp.prior = weighted_summary(s.x, {}, levels);
    if (use_smc) {
      const std::size_t k = std::size_t(&p - params.data());
      s.xp.resize(P);
      for (std::size_t i = 0; i < P; ++i) s.xp[i] = smc.values[i][k];
      pp.posterior = weighted_summary(s.xp, {}, levels);
    } else {
      s.xp.resize(support.draws.size());
      for (std::size_t i = 0; i < s.xp.size(); ++i) s.xp[i] = s.x[support.draws[i]];
      pp.posterior = weighted_summary(s.xp, support.weights, levels);
    }
  });

  // Targets: the metrics of both runs, and the expected census count modelled·(1 + bias).
  // Their uncertain bias and sd parameters (often one shared by many targets), drawn once each.
  std::vector<std::size_t> error_params;
  for (const Target& t : targets)
    for (int k : {t.bias, t.sd})
      if (k >= 0 && !params[std::size_t(k)].distribution.is_constant() &&
          std::find(error_params.begin(), error_params.end(), std::size_t(k)) == error_params.end())
        error_params.push_back(std::size_t(k));
  std::vector<std::vector<double>> error_values(error_params.size());
  for_each_item<Scratch>(error_params.size(), threads, [&](std::size_t item, Scratch&) {
    std::vector<double>& v = error_values[item];
    v.resize(N);
    parameter_values(params[error_params[item]], seed, v);
  });
  // Parameter k in draw i: parameter_value(params[k], seed, i) (0 if k < 0: no parameter).
  auto error_value = [&](int k) {
    const auto it = std::find(error_params.begin(), error_params.end(), std::size_t(k));
    const std::vector<double>* v = k < 0 || it == error_params.end()
                                       ? nullptr
                                       : &error_values[std::size_t(it - error_params.begin())];
    const double constant = v || k < 0 ? 0.0 : params[std::size_t(k)].distribution.mean();
    return [v, constant](std::uint64_t i) { return v ? (*v)[i] : constant; };
  };
  r.targets.resize(targets.size());
  // The fit to target j, from its expected count x[i] in every draw i.
  auto fit_target = [&](std::size_t j, std::span<const double> x, Scratch& s) {
    const Target& t = targets[j];
    const std::string base = "/targets/" + escape_token(t.name) + "/";
    TargetFit& f = r.targets[j];
    f.name = t.name;
    f.observed = t.observed;
    f.has_sd = t.sd >= 0;
    f.prior_modelled = r.prior.at(base + "modelled");
    f.posterior_modelled = r.posterior.at(base + "modelled");
    f.prior_relative_deviation = r.prior.at(base + "relative_deviation");
    f.posterior_relative_deviation = r.posterior.at(base + "relative_deviation");
    double cdf = 0, total = 0;  // Σ w Φ(z) and Σ w, in draw (or particle) order
    const auto sd_at = error_value(t.sd);
    f.prior_expected = weighted_summary(x, {}, levels);
    std::span<const double> post_z, post_w;
    if (use_smc) {  // the particles, equal weights; their kept modelled counts and own values
      const std::size_t T = targets.size();
      std::vector<double>& xp = s.xp;
      xp.resize(P);
      s.zp.assign(P, 0.0);
      s.ones.assign(P, 1.0);
      for (std::size_t i = 0; i < P; ++i) {
        const std::vector<double>& v = smc.values[i];
        const double bias = t.bias >= 0 ? v[std::size_t(t.bias)] : 0.0;
        xp[i] = r.posterior.kept[i * T + j] * (1.0 + bias);
        if (f.has_sd) {
          s.zp[i] = (t.observed / xp[i] - 1.0) / v[std::size_t(t.sd)];
          cdf += normal_cdf(s.zp[i]);
          total += 1.0;
        }
      }
      f.posterior_expected = weighted_summary(xp, {}, levels);
      post_z = s.zp;
      post_w = s.ones;
    } else {  // the draws of positive weight (the others weigh nothing in any sum)
      const std::size_t D = support.draws.size();
      s.xp.resize(D);
      s.zp.assign(D, 0.0);
      for (std::size_t k = 0; k < D; ++k) {
        const std::uint64_t i = support.draws[k];
        const double wi = support.weights[k];
        s.xp[k] = x[i];
        if (f.has_sd) {
          s.zp[k] = (t.observed / x[i] - 1.0) / sd_at(i);
          // A census count expected·(1 + ε) is below the observed one iff ε < observed/expected
          // − 1 = z·sd: probability Φ(z) given this draw.
          cdf += wi * normal_cdf(s.zp[k]);
          total += wi;
        }
      }
      f.posterior_expected = weighted_summary(s.xp, support.weights, levels);
      post_z = s.zp;
      post_w = support.weights;
    }
    const double lo = levels.size() >= 2 ? levels.front() : 0.0;
    const double hi = levels.size() >= 2 ? levels.back() : 1.0;
    if (f.has_sd) {
      f.posterior_z = weighted_summary(post_z, post_w, levels);
      f.predictive_cdf = cdf / total;
      f.within = lo <= f.predictive_cdf && f.predictive_cdf <= hi;
    } else {
      f.predictive_cdf = std::numeric_limits<double>::quiet_NaN();
      f.within = levels.size() >= 2 && f.posterior_expected.quantiles.front() <= t.observed &&
                 t.observed <= f.posterior_expected.quantiles.back();
    }
  };
  // The targets a block at a time. expected[b][i]: target first + b's expected count
  // modelled·(1 + bias) in draw i, copied out of the kept values in one pass over the draws for
  // the block: a draw's counts are adjacent, so the block's share cache lines, where a pass per
  // target would read a whole line for each count. The lines of the draw 16 ahead are fetched
  // early (the hardware does not foresee a stride of K values).
  constexpr std::size_t block = 8;
  constexpr std::uint64_t chunk = 1 << 14;  // draws per item of the copy
  std::vector<std::vector<double>> expected(std::min(block, targets.size()),
                                            std::vector<double>(N));
  auto copy_expected = [&](std::size_t first, std::size_t B) {
    std::vector<decltype(error_value(-1))> bias_at;
    for (std::size_t b = 0; b < B; ++b) bias_at.push_back(error_value(targets[first + b].bias));
    const std::size_t chunks = std::size_t((N + chunk - 1) / chunk);
    for_each_item<Scratch>(chunks, threads, [&](std::size_t c, Scratch&) {
      for (std::uint64_t i = c * chunk; i < std::min(N, (c + 1) * chunk); ++i) {
        if (i + 16 < N) {
          __builtin_prefetch(kept_row(i + 16) + 1 + first);
          __builtin_prefetch(kept_row(i + 16) + first + B);
        }
        for (std::size_t b = 0; b < B; ++b) {
          const double bias = targets[first + b].bias >= 0 ? bias_at[b](i) : 0.0;
          expected[b][i] = kept(i, 1 + first + b) * (1.0 + bias);
        }
      }
    });
  };
  for (std::size_t first = 0; first < targets.size(); first += block) {
    const std::size_t B = std::min(block, targets.size() - first);
    copy_expected(first, B);
    for_each_item<Scratch>(
        B, threads, [&](std::size_t b, Scratch& s) { fit_target(first + b, expected[b], s); });
  }
  return r;
}

}  // namespace steppe
