// SPDX-License-Identifier: MIT
// TimeSeries: a scenario value given at some years, linearly interpolated between them and
// constant outside them.
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "steppe/error.hpp"

namespace steppe {

/// A value that changes over time: (year, value) points, linear in between, constant before the
/// first and after the last. Years are calendar years as decimals (1926.96 = 17 December 1926),
/// strictly increasing.
class TimeSeries {
 public:
  /// The same value every year.
  static TimeSeries constant(double value) { return TimeSeries({{0.0, value}}); }

  /// @throws domain_error if empty, a year or value is not finite, or years do not increase.
  explicit TimeSeries(std::vector<std::pair<double, double>> points) : points_(std::move(points)) {
    if (points_.empty()) throw domain_error("TimeSeries: expected at least one (year, value) point");
    for (std::size_t i = 0; i < points_.size(); ++i) {
      const auto [year, value] = points_[i];
      if (!std::isfinite(year) || !std::isfinite(value))
        throw domain_error("TimeSeries: point " + std::to_string(i) + " is not finite");
      if (i > 0 && !(year > points_[i - 1].first))
        throw domain_error("TimeSeries: years must increase, got " +
                           std::to_string(points_[i - 1].first) + " then " + std::to_string(year));
    }
  }

  /// The value at `year`. Complexity: O(log points).
  double at(double year) const noexcept {
    if (year <= points_.front().first) return points_.front().second;
    if (year >= points_.back().first) return points_.back().second;
    std::size_t lo = 0, hi = points_.size() - 1;  // points_[lo].year < year < points_[hi].year
    while (hi - lo > 1) {
      const std::size_t mid = (lo + hi) / 2;
      (points_[mid].first <= year ? lo : hi) = mid;
    }
    const auto [y0, v0] = points_[lo];
    const auto [y1, v1] = points_[hi];
    return v0 + (v1 - v0) * ((year - y0) / (y1 - y0));
  }

  /// Mean value over [from, to] (exact for the piecewise-linear path), e.g. a rate over a step.
  /// Precondition: from < to.
  double mean(double from, double to) const noexcept {
    // Integrate piece by piece: the breakpoints inside (from, to) split it into linear pieces.
    double area = 0.0, a = from, va = at(from);
    for (const auto& [year, value] : points_) {
      if (year <= from) continue;
      if (year >= to) break;
      area += 0.5 * (va + value) * (year - a);
      a = year;
      va = value;
    }
    area += 0.5 * (va + at(to)) * (to - a);
    return area / (to - from);
  }

  const std::vector<std::pair<double, double>>& points() const noexcept { return points_; }

 private:
  std::vector<std::pair<double, double>> points_;
};

}  // namespace steppe
