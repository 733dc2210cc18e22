// SPDX-License-Identifier: MIT
// Moments (compensated sums) and QuantileSketch (log buckets with relative accuracy).
#include "steppe/summary.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "steppe/error.hpp"

namespace steppe {

void Moments::add(double x) noexcept {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / double(n_);
  m2_ += delta * (x - mean_);
}

void Moments::add(double x, std::uint64_t times) noexcept {
  // With x bit-identical to the mean (and both it and m2 not −0), add(x) computes
  // delta = x − mean = +0, mean + (+0)/n = mean, m2 + (+0)·(+0) = m2: only n moves.
  const auto bits = [](double d) { return std::bit_cast<std::uint64_t>(d); };
  if (n_ > 0 && bits(x) == bits(mean_) && !std::signbit(mean_) && !std::signbit(m2_) &&
      std::isfinite(x)) {
    n_ += times;
    return;
  }
  // Into an empty summary: the first add(x) makes mean = 0 + x/1 = 0 + x (never −0) and
  // m2 = 0 + x·(x − mean) = +0, after which the others move nothing, as above. (run_draws starts
  // every block's summaries empty, and adds each constant output a batch at a time.)
  if (n_ == 0 && times > 0 && std::isfinite(x)) {
    n_ = times;
    mean_ = 0.0 + x;
    m2_ = 0.0;
    return;
  }
  for (std::uint64_t k = 0; k < times; ++k) add(x);
}

void Moments::add(std::span<const double> xs) noexcept {
  const std::size_t n = xs.size();
  if (n == 0) return;
  const double* x = xs.data();
  // Four partial sums (elements i mod 4), then ((s0 + s1) + (s2 + s3)) + the remainder: four
  // independent chains of additions instead of one.
  auto sum4 = [n, x](auto&& f) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      s0 += f(x[i]);
      s1 += f(x[i + 1]);
      s2 += f(x[i + 2]);
      s3 += f(x[i + 3]);
    }
    double s = (s0 + s1) + (s2 + s3);
    for (; i < n; ++i) s += f(x[i]);
    return s;
  };
  Moments batch;
  batch.n_ = n;
  batch.mean_ = sum4([](double v) { return v; }) / double(n);
  const double mean = batch.mean_;
  batch.m2_ = sum4([mean](double v) { return (v - mean) * (v - mean); });
  merge(batch);
}

void Moments::merge(const Moments& o) noexcept {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double n = double(n_ + o.n_), delta = o.mean_ - mean_;
  mean_ += delta * (double(o.n_) / n);
  m2_ += o.m2_ + delta * delta * (double(n_) * double(o.n_) / n);
  n_ += o.n_;
}

double Moments::mean() const noexcept { return mean_; }

double Moments::sd() const noexcept {
  return n_ < 2 ? 0.0 : std::sqrt(std::max(0.0, m2_ / double(n_ - 1)));
}

void WeightedMoments::add(double x, double w) noexcept {
  ++n_;
  if (w <= 0.0) return;
  w_ += w;
  w2_ += w * w;
  const double delta = x - mean_;
  mean_ += delta * (w / w_);
  m2_ += w * delta * (x - mean_);
}

void WeightedMoments::merge(const WeightedMoments& o) noexcept {
  if (o.n_ == 0) return;
  if (w_ == 0.0) {
    const std::uint64_t n = n_;
    *this = o;
    n_ += n;
    return;
  }
  n_ += o.n_;
  if (o.w_ == 0.0) return;
  const double w = w_ + o.w_, delta = o.mean_ - mean_;
  mean_ += delta * (o.w_ / w);
  m2_ += o.m2_ + delta * delta * (w_ * o.w_ / w);
  w_ = w;
  w2_ += o.w2_;
}

double WeightedMoments::sd() const noexcept {
  const double denominator = w_ - (w_ > 0 ? w2_ / w_ : 0.0);
  return denominator > 0 ? std::sqrt(std::max(0.0, m2_ / denominator)) : 0.0;
}

QuantileSketch::QuantileSketch(double alpha) : alpha_(alpha) {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw domain_error("QuantileSketch: alpha = " + std::to_string(alpha) + ", expected (0, 1)");
  gamma_ = (1.0 + alpha) / (1.0 - alpha);
  log_gamma_ = std::log(gamma_);
  // Buckets are of equal width in ℓ (below), ℓ'·x ≥ 10/7 everywhere, so a bucket of width
  // 1/multiplier in ℓ spans at most ln γ in ln x: multiplier = 1/((10/7)·ln γ), a hair more
  // (1e-12) so rounding never widens one beyond that. About 1 % more buckets than log_γ.
  multiplier_ = 0.7 / log_gamma_ * (1.0 + 1e-12);
}

namespace {

// ℓ(x) = e + P(m − 1) for x = m·2^e, m ∈ [1, 2): a monotone, continuous stand-in for log2 x
// (P(0) = 0, P(1) = 1), P(s) = ((A·s + B)·s + C)·s the cubic of DDSketch's "cubically
// interpolated" mapping. (1 + s)·P'(s) has its minimum 10/7 at s = 0 and s = 2/3.
constexpr double cubic_a = 6.0 / 35.0, cubic_b = -3.0 / 5.0, cubic_c = 10.0 / 7.0;

/// ℓ(x) for a normal x > 0: exponent and mantissa from the bits (no libm call).
inline double approx_log2(double x) noexcept {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const int e = int((bits >> 52) & 0x7ff) - 1023;
  const double s =
      std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL) - 1.0;
  return double(e) + ((cubic_a * s + cubic_b) * s + cubic_c) * s;
}

/// The x with ℓ(x) = y: P(s) = frac(y) solved by Newton's method (P' ≥ 26/35 on [0, 1]), at
/// most 50 iterations, stopping at a step below 1e-17. About one solve in seven ends instead
/// alternating between two neighbouring doubles: that 2-cycle is recognised and the value the
/// 50th iteration would reach is taken at once (the same bits, in a sixth of the iterations).
double approx_exp2(double y) noexcept {
  constexpr int iterations = 50;
  const double e = std::floor(y), f = y - e;
  double s = f;
  double back1 = -1.0, back2 = -1.0;  // s one and two iterations ago (s is never −1)
  for (int it = 0; it < iterations; ++it) {
    const double p = ((cubic_a * s + cubic_b) * s + cubic_c) * s - f;
    const double dp = (3.0 * cubic_a * s + 2.0 * cubic_b) * s + cubic_c;
    const double step = p / dp;
    back2 = back1;
    back1 = s;
    s = std::clamp(s - step, 0.0, 1.0);
    if (std::abs(step) < 1e-17) break;
    if (s == back2) {  // s, back1, s, back1, …: iterations − 1 − it more steps
      if ((iterations - 1 - it) % 2 == 1) s = back1;
      break;
    }
  }
  return std::ldexp(1.0 + s, int(e));
}

/// Sorts v ascending by the integer key(x) (an index: int64 or int32): an LSD radix sort on
/// key − smallest key, with digits as wide as the span needs up to 11 bits. Values spread over
/// decades give random indices, which cost a comparison sort a branch misprediction about every
/// other comparison; a metric's indices in one fold usually span fewer than 2^11 buckets (values
/// within a factor of about 50 at alpha = 1e-3): one pass.
template <class T, class Key>
void radix_sort(std::vector<T>& v, std::vector<T>& scratch, Key key) {
  const std::size_t n = v.size();
  if (n < 2) return;
  std::int64_t lo = key(v[0]), hi = lo;
  for (const T& x : v) {
    lo = std::min<std::int64_t>(lo, key(x));
    hi = std::max<std::int64_t>(hi, key(x));
  }
  const std::uint64_t span = std::uint64_t(hi) - std::uint64_t(lo);
  const int bits = std::bit_width(span);  // 0: all equal, nothing to sort
  if (bits == 0) return;
  const int passes = (bits + 10) / 11, width = (bits + passes - 1) / passes;
  thread_local std::vector<std::uint32_t> start;
  start.assign((std::size_t(1) << width) + 1, 0);
  scratch.resize(n);
  T* from = v.data();
  T* to = scratch.data();
  const std::uint64_t mask = (std::uint64_t(1) << width) - 1;
  for (int p = 0; p < passes; ++p) {
    const int shift = p * width;
    auto digit = [&](const T& x) {
      return std::size_t(((std::uint64_t(std::int64_t(key(x))) - std::uint64_t(lo)) >> shift) & mask);
    };
    if (p > 0) std::fill(start.begin(), start.end(), 0u);
    for (std::size_t k = 0; k < n; ++k) ++start[digit(from[k]) + 1];
    for (std::size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (std::size_t k = 0; k < n; ++k) to[start[digit(from[k])]++] = from[k];
    std::swap(from, to);
  }
  if (from != v.data()) std::copy(from, from + n, v.data());
}

/// Whether an index goes to Store::pending_ones (count 1, fits 32 bits).
inline bool fits_one(std::int64_t index, std::uint64_t count) noexcept {
  return count == 1 && index >= std::numeric_limits<std::int32_t>::min() &&
         index <= std::numeric_limits<std::int32_t>::max();
}

}  // namespace

inline std::int64_t QuantileSketch::index(double magnitude) const {
  // ⌈y⌉ by truncation and a correction: std::ceil is a libm call on baseline x86-64 (roundsd
  // needs SSE4.1), and |y| < 2^20 here (magnitudes are normal, so |ℓ| ≤ 1075).
  const double y = approx_log2(magnitude) * multiplier_;
  const std::int64_t t = std::int64_t(y);  // towards zero
  return t + std::int64_t(double(t) < y);
}

double QuantileSketch::value(std::int64_t i) const {
  // Bucket i holds (lo, hi] with ℓ(lo) = (i − 1)/multiplier, ℓ(hi) = i/multiplier, hi ≤ γ·lo:
  // their harmonic mean is within (hi − lo)/(hi + lo) ≤ (γ − 1)/(γ + 1) = α of every x in it.
  const double lo = approx_exp2(double(i - 1) / multiplier_);
  const double hi = approx_exp2(double(i) / multiplier_);
  // lo·hi overflows beyond about 1e154 and underflows below 1e-154: there, the same mean as
  // lo·2/(1 + lo/hi), at most hi, with hi = γ·lo where the edge itself overflowed (the last
  // bucket below infinity), and the largest double if even that rounds above it.
  if (lo > 1e-150 && hi < 1e150) return 2.0 * lo * hi / (lo + hi);
  const double ratio = std::isfinite(hi) ? lo / hi : 1.0 / gamma_;
  const double mean = lo * (2.0 / (1.0 + ratio));
  return std::isfinite(mean) ? mean : std::numeric_limits<double>::max();
}

inline void QuantileSketch::Store::add(std::int64_t i, std::uint64_t n) {
  if (fits_one(i, n)) {
    if (pending_ones.capacity() == 0) pending_ones.reserve(32);  // (a short run: little memory)
    pending_ones.push_back(std::int32_t(i));
  } else {
    if (pending.capacity() == 0) pending.reserve(32);
    pending.push_back({i, n});
  }
  fold_if_full();
}

inline void QuantileSketch::Store::fold_if_full() {
  // Folds cost less per addition the more they fold at once (the radix sort's fixed costs, the
  // pass over the sorted buckets): 512 was fastest for run_draws.
  constexpr std::size_t min_pending = 512;
  if (pending.size() + pending_ones.size() >= std::max(min_pending, sorted.size())) fold();
}

[[gnu::noinline]] void QuantileSketch::Store::fold() {  // the rare path of add()
  if (!has_pending()) return;
  // Scratch arrays, one per thread rather than one per sketch: the radix sorts', and the merge's
  // output (copied back, so each sketch keeps its own storage and grows it only geometrically).
  thread_local std::vector<Bucket> sort_scratch, merged;
  thread_local std::vector<std::int32_t> index_scratch;
  // The ones, sorted, become one bucket per distinct index after the other pending buckets
  // (already in order if there were none: no second sort).
  const bool only_ones = pending.empty();
  if (!pending_ones.empty()) {
    radix_sort(pending_ones, index_scratch, [](std::int32_t i) { return std::int64_t(i); });
    const std::size_t m = pending_ones.size();
    for (std::size_t j = 0; j < m;) {
      const std::int32_t index = pending_ones[j];
      std::size_t r = j + 1;
      while (r < m && pending_ones[r] == index) ++r;
      pending.push_back({index, std::uint64_t(r - j)});
      j = r;
    }
    pending_ones.clear();
  }
  if (!only_ones) radix_sort(pending, sort_scratch, [](const Bucket& b) { return b.index; });
  // Forward merge of the sorted buckets and the sorted additions, summing equal indices.
  const std::size_t s = sorted.size(), p = pending.size();
  if (merged.size() < s + p) merged.resize(s + p);
  Bucket* out = merged.data();
  std::size_t w = 0, i = 0, j = 0;
  while (j < p) {
    const std::int64_t index = pending[j].index;
    while (i < s && sorted[i].index < index) out[w++] = sorted[i++];
    std::uint64_t count = 0;
    if (i < s && sorted[i].index == index) count = sorted[i++].count;
    for (; j < p && pending[j].index == index; ++j) count += pending[j].count;
    out[w++] = {index, count};
  }
  for (; i < s; ++i) out[w++] = sorted[i];
  sorted.assign(out, out + w);
  pending.clear();
}

void QuantileSketch::add(double x) { add(x, 1); }

namespace {
[[noreturn, gnu::noinline, gnu::cold]] void not_finite(double x) {
  throw domain_error("QuantileSketch::add: x = " + std::to_string(x) + ", expected finite");
}
}  // namespace

// One value: index() and Store::add() inline here, one call of each rather than one per sign,
// the error message out of line. (run_draws adds in batches: add_finite().)
void QuantileSketch::add(double x, std::uint64_t weight) {
  if (!std::isfinite(x)) not_finite(x);
  if (weight == 0) return;
  n_ += weight;
  // Magnitudes below 1e-300 count as zero: their logarithm is out of any useful range.
  const double magnitude = std::abs(x);
  if (magnitude < 1e-300) zeros_ += weight;
  else (x > 0.0 ? positive_ : negative_).add(index(magnitude), weight);
}

// The batches of run_draws: the same counts as one add() per value (counts are integers, so
// when the buffers fold changes no bit), in one loop with index() and the appends inline and the
// fold checked once per batch rather than per value.
void QuantileSketch::add_finite(const double* xs, const std::uint64_t* weights, std::size_t n) {
  for (Store* s : {&positive_, &negative_}) {  // as Store::add
    if (s->pending.capacity() == 0) s->pending.reserve(32);
    if (s->pending_ones.capacity() == 0) s->pending_ones.reserve(32);
  }
  for (std::size_t k = 0; k < n; ++k) {
    const double x = xs[k];
    const std::uint64_t weight = weights ? weights[k] : 1;
    if (weight == 0) continue;
    n_ += weight;
    const double magnitude = std::abs(x);
    if (magnitude < 1e-300) {
      zeros_ += weight;  // as add(x, weight)
      continue;
    }
    Store& s = x > 0.0 ? positive_ : negative_;
    const std::int64_t i = index(magnitude);
    if (fits_one(i, weight))
      s.pending_ones.push_back(std::int32_t(i));
    else
      s.pending.push_back({i, weight});
  }
  positive_.fold_if_full();
  negative_.fold_if_full();
}

void QuantileSketch::add(std::span<const double> xs) {
  auto bad = std::find_if_not(xs.begin(), xs.end(), [](double x) { return std::isfinite(x); });
  add_finite(xs.data(), nullptr, std::size_t(bad - xs.begin()));  // the values before it
  if (bad != xs.end()) not_finite(*bad);
}

void QuantileSketch::add(std::span<const double> xs, std::span<const std::uint64_t> weights) {
  auto bad = std::find_if_not(xs.begin(), xs.end(), [](double x) { return std::isfinite(x); });
  add_finite(xs.data(), weights.data(), std::size_t(bad - xs.begin()));
  if (bad != xs.end()) not_finite(*bad);
}

void QuantileSketch::merge(const QuantileSketch& o) {
  if (o.alpha_ != alpha_)
    throw domain_error("QuantileSketch::merge: alpha " + std::to_string(o.alpha_) + " vs " +
                       std::to_string(alpha_));
  if (&o == this) {  // adding to the buffers being read
    const QuantileSketch copy = o;
    merge(copy);
    return;
  }
  if (n_ == 0) {  // into an empty sketch: a copy
    n_ = o.n_;
    zeros_ = o.zeros_;
    positive_ = o.positive_;
    negative_ = o.negative_;
    positive_.fold();
    negative_.fold();
    return;
  }
  n_ += o.n_;
  zeros_ += o.zeros_;
  for (const Store* from : {&o.positive_, &o.negative_}) {
    Store& to = from == &o.positive_ ? positive_ : negative_;
    for (const std::vector<Store::Bucket>* part : {&from->sorted, &from->pending})
      for (const Store::Bucket& b : *part) to.add(b.index, b.count);
    for (std::int32_t i : from->pending_ones) to.add(i, 1);
  }
  // Nothing left pending: quantile() then reads the sorted buckets directly.
  positive_.fold();
  negative_.fold();
}

void QuantileSketch::merge(QuantileSketch&& o) {
  if (n_ != 0 || o.alpha_ != alpha_ || &o == this) return merge(std::as_const(o));
  n_ = std::exchange(o.n_, 0);
  zeros_ = std::exchange(o.zeros_, 0);
  positive_ = std::move(o.positive_);
  negative_ = std::move(o.negative_);
  o.positive_ = {};
  o.negative_ = {};
  positive_.fold();  // nothing left pending, as after any merge
  negative_.fold();
}

double QuantileSketch::quantile(double q) const {
  if (n_ == 0) throw domain_error("QuantileSketch::quantile: no values");
  if (!(q >= 0.0 && q <= 1.0))
    throw domain_error("QuantileSketch::quantile: q = " + std::to_string(q) + ", expected [0, 1]");
  if (positive_.has_pending() || negative_.has_pending()) {
    QuantileSketch folded = *this;  // const: fold a copy (merge() leaves nothing to fold)
    folded.positive_.fold();
    folded.negative_.fold();
    return folded.quantile(q);
  }
  const std::uint64_t rank = std::uint64_t(std::floor(q * double(n_ - 1)));
  std::uint64_t seen = 0;
  // Negative values, most negative first (largest index first), then zeros, then positives.
  for (auto b = negative_.sorted.rbegin(); b != negative_.sorted.rend(); ++b) {
    seen += b->count;
    if (seen > rank) return -value(b->index);
  }
  seen += zeros_;
  if (seen > rank) return 0.0;
  for (const Store::Bucket& b : positive_.sorted) {
    seen += b.count;
    if (seen > rank) return value(b.index);
  }
  // Not reached (the counts sum to n > rank); the largest value, as a fallback.
  return positive_.sorted.empty() ? 0.0 : value(positive_.sorted.back().index);
}

}  // namespace steppe
