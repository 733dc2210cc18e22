// SPDX-License-Identifier: MIT
// Dimensions of a population: age axis (single years or 5-year groups, open last group),
// two sexes, any number of named groups; and the one place that maps (sex, group) to a column.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <vector>

#include "steppe/error.hpp"

#ifdef NDEBUG
#define STEPPE_ASSERT(cond) ((void)0)
#else
#define STEPPE_ASSERT(cond) assert(cond)
#endif

namespace steppe {

/// Sex. Columns of every (ages × 2·groups) array are ordered female, male within a group.
enum class Sex : int { female = 0, male = 1 };
inline constexpr int n_sexes = 2;
inline constexpr Sex sexes[n_sexes] = {Sex::female, Sex::male};
inline const char* to_string(Sex s) { return s == Sex::female ? "female" : "male"; }

/// The age axis: `count` cells of `width` years, cell i = [i·width, (i+1)·width), the last cell
/// open-ended ([open_age(), ∞)). The projection step is `width` years long, so a cohort moves
/// exactly one cell per step: single years with annual steps, or 5-year groups with 5-year steps
/// (the classic Leslie layout of UN WPP and popReconstruct).
struct AgeAxis {
  int width = 1;    ///< years per age cell and per projection step (1 or 5)
  int count = 101;  ///< number of age cells, the open one included (≥ 2)

  /// Single years 0..ω−1 plus the open group ω+ (ω = 100 by default).
  static AgeAxis single_year(int omega = 100) { return AgeAxis{1, omega + 1}; }
  /// Five-year groups 0–4, 5–9, …, plus the open group open_age+ (a multiple of 5).
  static AgeAxis five_year(int open_age = 85) { return AgeAxis{5, open_age / 5 + 1}; }

  int open_age() const noexcept { return (count - 1) * width; }  ///< lower bound of the open cell
  int lower(int cell) const noexcept { return cell * width; }    ///< lower bound of cell, years
  int step_years() const noexcept { return width; }
  friend bool operator==(const AgeAxis&, const AgeAxis&) = default;
};

/// Named dimensions: the age axis and the population groups. Two sexes are implicit.
class Dims {
 public:
  Dims() = default;
  /// @throws domain_error if there is no group, a group name repeats, or the age axis is invalid
  ///         (width not 1 or 5, fewer than 2 cells).
  Dims(AgeAxis ages, std::vector<std::string> groups) : ages_(ages), groups_(std::move(groups)) {
    if (ages_.width != 1 && ages_.width != 5)
      throw domain_error("Dims: age width must be 1 or 5 years, got " + std::to_string(ages_.width));
    if (ages_.count < 2)
      throw domain_error("Dims: need at least 2 age cells, got " + std::to_string(ages_.count));
    if (groups_.empty()) throw domain_error("Dims: need at least one population group");
    for (std::size_t i = 0; i < groups_.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (groups_[i] == groups_[j]) throw domain_error("Dims: repeated group name \"" + groups_[i] + "\"");
  }
  /// Convenience: G groups named "g0", "g1", ….
  Dims(AgeAxis ages, int n_groups) : Dims(ages, default_names(n_groups)) {}

  const AgeAxis& ages() const noexcept { return ages_; }
  int n_ages() const noexcept { return ages_.count; }
  int n_groups() const noexcept { return static_cast<int>(groups_.size()); }
  int n_cols() const noexcept { return n_sexes * n_groups(); }        ///< columns: 2 per group
  long cells() const noexcept { return long(n_ages()) * n_cols(); }   ///< ages × sexes × groups
  const std::vector<std::string>& groups() const noexcept { return groups_; }
  const std::string& group_name(int g) const { return groups_.at(std::size_t(g)); }
  /// Index of a group by name, or -1.
  int group_index(const std::string& name) const noexcept {
    for (int g = 0; g < n_groups(); ++g)
      if (groups_[std::size_t(g)] == name) return g;
    return -1;
  }
  /// Column of (sex, group) in every ages × (2·groups) array. The only place that knows it.
  static int col(Sex s, int group) noexcept { return 2 * group + static_cast<int>(s); }
  friend bool operator==(const Dims&, const Dims&) = default;

 private:
  static std::vector<std::string> default_names(int n) {
    std::vector<std::string> v;
    for (int g = 0; g < n; ++g) v.push_back("g" + std::to_string(g));
    return v;
  }
  AgeAxis ages_{};
  std::vector<std::string> groups_{"all"};
};

}  // namespace steppe
