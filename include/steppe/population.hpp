// SPDX-License-Identifier: MIT
// Population at one moment: persons by age × (sex, group), at home and abroad (emigrants who
// left the territory but are still counted in the books).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <utility>

#include "steppe/axes.hpp"

namespace steppe {

/// Persons by age cell × (sex, group) column, at home (in the territory) and abroad.
/// Both arrays have shape dims.n_ages() × dims.n_cols(), column = Dims::col(sex, group).
/// Counts are persons (not thousands), non-negative.
class Population {
 public:
  Population() = default;
  /// A zero population with these dimensions.
  explicit Population(Dims dims)
      : dims_(std::move(dims)),
        home_(Eigen::ArrayXXd::Zero(dims_.n_ages(), dims_.n_cols())),
        abroad_(Eigen::ArrayXXd::Zero(dims_.n_ages(), dims_.n_cols())) {}

  const Dims& dims() const noexcept { return dims_; }
  Eigen::ArrayXXd& home() noexcept { return home_; }
  const Eigen::ArrayXXd& home() const noexcept { return home_; }
  Eigen::ArrayXXd& abroad() noexcept { return abroad_; }
  const Eigen::ArrayXXd& abroad() const noexcept { return abroad_; }

  /// Age profile of (sex, group) at home, a column view of length n_ages.
  auto home(Sex s, int g) noexcept { return home_.col(Dims::col(s, g)); }
  auto home(Sex s, int g) const noexcept { return home_.col(Dims::col(s, g)); }
  auto abroad(Sex s, int g) noexcept { return abroad_.col(Dims::col(s, g)); }
  auto abroad(Sex s, int g) const noexcept { return abroad_.col(Dims::col(s, g)); }

  double total_home() const { return home_.sum(); }
  double total_abroad() const { return abroad_.sum(); }
  /// Persons of group g at home (both sexes).
  double group_home(int g) const {
    return home_.col(Dims::col(Sex::female, g)).sum() + home_.col(Dims::col(Sex::male, g)).sum();
  }
  double group_abroad(int g) const {
    return abroad_.col(Dims::col(Sex::female, g)).sum() + abroad_.col(Dims::col(Sex::male, g)).sum();
  }

  /// Exchanges contents without allocating (the driver's double buffer).
  friend void swap(Population& a, Population& b) noexcept {
    a.home_.swap(b.home_);
    a.abroad_.swap(b.abroad_);
    std::swap(a.dims_, b.dims_);
  }

  /// @throws domain_error naming the first negative or non-finite cell.
  void check(const char* where = "Population") const;

 private:
  Dims dims_{};
  Eigen::ArrayXXd home_, abroad_;
};

inline void Population::check(const char* where) const {
  for (int which = 0; which < 2; ++which) {
    const Eigen::ArrayXXd& a = which == 0 ? home_ : abroad_;
    for (Eigen::Index c = 0; c < a.cols(); ++c)
      for (Eigen::Index x = 0; x < a.rows(); ++x)
        if (!(a(x, c) >= 0.0) || !std::isfinite(a(x, c)))
          throw domain_error(std::string(where) + ": " + (which == 0 ? "home" : "abroad") +
                             " population of group \"" + dims_.group_name(int(c / 2)) + "\", " +
                             to_string(Sex(c % 2)) + ", age cell " + std::to_string(x) +
                             ": expected a finite count >= 0, got " + std::to_string(a(x, c)));
  }
}

}  // namespace steppe
