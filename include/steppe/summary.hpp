// SPDX-License-Identifier: MIT
// Summaries across Monte Carlo draws without keeping the draws: exact mean and sd, and
// quantiles from a mergeable log-bucket sketch with a guaranteed relative accuracy.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace steppe {

/// Count, mean and standard deviation of a stream of values: Welford's updates, and Chan,
/// Golub & LeVeque's formula to merge partial summaries (stable for large offsets). Merging
/// partials in a fixed order gives bit-identical results whatever the number of threads that
/// produced them.
class Moments {
 public:
  void add(double x) noexcept;
  /// add(x) `times` times, with the same bits: O(1) when the summary is empty or x is the mean
  /// already and the updates would move nothing (an output constant across draws), else a loop
  /// of add(x).
  void add(double x, std::uint64_t times) noexcept;
  /// Adds a batch of values at once: the batch's mean and sum of squared deviations (two
  /// passes, each with four partial sums in a fixed order), merged in as merge() does. Not the
  /// bits of add(x) value by value, but the same bits for the same batches in the same order,
  /// with one division per batch instead of one per value. Precondition: every x is finite.
  void add(std::span<const double> xs) noexcept;
  /// Adds another summary (the order of merges is the caller's, and fixes the bits).
  void merge(const Moments& other) noexcept;
  std::uint64_t count() const noexcept { return n_; }
  double mean() const noexcept;
  /// Sample standard deviation (n − 1 denominator); 0 for fewer than 2 values.
  double sd() const noexcept;

 private:
  std::uint64_t n_ = 0;
  double mean_ = 0, m2_ = 0;  // running mean and sum of squared deviations
};

/// Weighted count, mean and standard deviation (importance-weighted draws): West's (1979)
/// weighted updates and the same pairwise merge as Moments. Weights are ≥ 0 (frequency-free
/// "reliability" weights): sd() is the unbiased estimate Σw(x − mean)² / (W − Σw²/W), which
/// reduces to Moments::sd() when every weight is 1.
class WeightedMoments {
 public:
  /// Adds x with weight w ≥ 0 (a weight of 0 counts the value but moves nothing).
  void add(double x, double w) noexcept;
  void merge(const WeightedMoments& other) noexcept;
  std::uint64_t count() const noexcept { return n_; }  ///< values added
  double weight() const noexcept { return w_; }        ///< W = Σ w
  double mean() const noexcept { return mean_; }
  double sd() const noexcept;
  /// Kish's effective sample size W² / Σw² (0 when W = 0).
  double effective_size() const noexcept { return w2_ > 0 ? w_ * w_ / w2_ : 0.0; }

 private:
  std::uint64_t n_ = 0;
  double w_ = 0, w2_ = 0, mean_ = 0, m2_ = 0;
};

/// Quantiles of a stream with relative accuracy `alpha` (DDSketch, Masson, Rim & Lee 2019):
/// a value x ≠ 0 falls in a bucket of logarithmic width at most ln γ, γ = (1 + α)/(1 − α) — the
/// index is ceil(P(log2 |x|)·k), with DDSketch's cubic approximation P of log2 from the exponent
/// and mantissa bits (no std::log) and k scaled so no bucket is wider than γ (≈ 1 % more buckets
/// than the exact log mapping) — and a quantile is reported as the harmonic mean of its bucket's
/// edges, within a factor (1 ± α) of the true order statistic. Buckets hold integer counts, so merging sketches is exact and independent of the
/// order of values and of merges: results do not depend on how draws were split across threads.
/// Memory: one (index, count) pair per occupied bucket — at most the number of values added, and
/// at most ln(max/min)/(2α) — plus as many pending additions not yet sorted in.
class QuantileSketch {
 public:
  /// @throws domain_error unless 0 < alpha < 1.
  explicit QuantileSketch(double alpha = 1e-3);
  /// @throws domain_error if x is not finite.
  void add(double x);
  /// Adds x `weight` times (integer weights keep merging exact and order-free; importance
  /// weights are scaled to integers by the caller). count() is then the total weight.
  /// @throws domain_error if x is not finite.
  void add(double x, std::uint64_t weight);
  /// add(x) for each x in order (a batch of one output's values: the sketch's buffers are then
  /// brought into cache once per batch rather than once per value).
  /// @throws domain_error at the first x not finite (the values before it are added).
  void add(std::span<const double> xs);
  /// add(xs[i], weights[i]) for each i in order. Precondition: weights.size() == xs.size().
  void add(std::span<const double> xs, std::span<const std::uint64_t> weights);
  /// @throws domain_error if the sketches have different alpha.
  void merge(const QuantileSketch& other);
  /// The same, taking over other's storage (left empty) when this sketch is empty.
  void merge(QuantileSketch&& other);
  std::uint64_t count() const noexcept { return n_; }
  double alpha() const noexcept { return alpha_; }
  /// The q-quantile (0 ≤ q ≤ 1): the value of rank floor(q·(n − 1)) among the sorted values,
  /// within relative error alpha. Fastest after merge(), which leaves no addition pending.
  /// @throws domain_error if empty or q outside [0, 1].
  double quantile(double q) const;

 private:
  // Sparse counts: a dense array over [min, max] bucket would hold ln(max/min)/(2α) counters
  // (tens of thousands for an output spanning 1e-11 … 1e5), nearly all zero, which made adding
  // values a cache miss each and memory the main cost of run_draws. Additions go to an unsorted
  // buffer, sorted and merged in when it is as long as the sorted part (amortised O(log n)).
  struct Store {
    struct Bucket {
      std::int64_t index;
      std::uint64_t count;
    };
    std::vector<Bucket> sorted;   // distinct indices, ascending
    std::vector<Bucket> pending;  // not yet merged into `sorted`, any order, repeats allowed
    // Pending additions of count 1 whose index fits 32 bits (every unweighted value of a usual
    // alpha): 4 bytes each rather than a 16-byte Bucket, so folding sorts a quarter of the bytes.
    std::vector<std::int32_t> pending_ones;
    bool has_pending() const noexcept { return !pending.empty() || !pending_ones.empty(); }
    void add(std::int64_t index, std::uint64_t n);
    void fold_if_full();  // fold() once the pending additions are many enough
    void fold();          // merges `pending` and `pending_ones` into `sorted`
  };
  /// Adds xs[0, n) with weights[0, n) (all 1 if null), all finite: add()'s batched loop.
  void add_finite(const double* xs, const std::uint64_t* weights, std::size_t n);
  std::int64_t index(double magnitude) const;
  double value(std::int64_t index) const;
  double alpha_, gamma_, log_gamma_;
  double multiplier_;  // buckets per unit of the approximate log2 (see summary.cpp)
  std::uint64_t n_ = 0, zeros_ = 0;
  Store positive_, negative_;
};

}  // namespace steppe
