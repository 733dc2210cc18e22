// SPDX-License-Identifier: MIT
// Fertility schedules: age-specific fertility rates from a TFR and an age pattern, and the
// reference age patterns shipped in data/reference/fert_age_patterns_percent.csv.
#pragma once

#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <vector>

#include "steppe/axes.hpp"

namespace steppe {

/// Age-specific fertility rates that reproduce a total fertility rate with a given age pattern.
///
/// asfr[x] = tfr · pattern_share[x] / axis.width, so that axis.width · Σ asfr = tfr exactly
/// (up to rounding): a woman who lives through every cell bears `tfr` children.
///
/// @param tfr            total fertility rate, children per woman (finite, ≥ 0).
/// @param pattern_share  length axis.count: proportion of the TFR born in each age cell
///                       (≥ 0, finite, Σ = 1 within 1e-6, 0 in cell 0 since babies do not bear).
/// @param axis           the age axis of the projection (width 1 or 5).
/// @return length axis.count: live births per woman-year lived in each cell (not per 1,000).
/// @throws domain_error naming the argument and the bad value. Complexity: O(axis.count).
Eigen::ArrayXd asfr_from_tfr(double tfr, const Eigen::ArrayXd& pattern_share, const AgeAxis& axis);

/// Total fertility rate of an ASFR schedule on `axis`: axis.width · Σ asfr.
/// @throws domain_error if asfr.size() != axis.count.
double tfr_of(const Eigen::ArrayXd& asfr, const AgeAxis& axis);

/// A fertility age pattern given by 5-year age groups, as published.
struct FertilityPattern {
  std::string name;        ///< e.g. "booth_1984_standard"
  std::vector<int> lower;  ///< lower bound of each 5-year group, years, increasing (e.g. 15, 20, …)
  std::vector<double> share;  ///< proportion of the TFR in each group, Σ = 1 (normalised on load)
};

/// Maps a 5-year-group pattern onto an age axis, giving shares per cell that sum to 1.
/// - width 5: each group goes to the cell with the same lower bound.
/// - width 1: each group's share is spread evenly over its five single years (share/5 per
///   year). This keeps every 5-year total exact; it is the rule used by the UN WPP 5-to-1
///   "step" disaggregation and is deliberately not smoothed, so that TFR and mean age per group
///   are unchanged.
/// In both layouts, groups at or above the open age fall into the open cell.
/// @throws domain_error if a lower bound is not a non-negative multiple of 5, lands in cell 0
///         (women under `axis.width` cannot bear), or shares are negative / do not sum to 1.
Eigen::ArrayXd pattern_on_axis(const FertilityPattern& pattern, const AgeAxis& axis);

/// Reads every pattern from a CSV with columns `pattern,age_group,age,pct_of_total[,note]`
/// (the format of data/reference/fert_age_patterns_percent.csv). Percentages are normalised to
/// proportions (they sum to 100 within rounding; each pattern is divided by its own sum).
/// @throws input_error(file, "/row/<n>/<column>", reason) on a malformed row.
std::vector<FertilityPattern> load_fertility_patterns(const std::filesystem::path& csv);

/// Names of the reference patterns in data_dir()/reference/fert_age_patterns_percent.csv, in
/// file order: booth_1984_standard, coale_trussell_natural_n_a, hutterite_marital_20_49,
/// ussr_adh_1926, ussr_adh_1927, ussr_adh_1928, kazakhstan_wpp2019_1950_55.
/// @throws input_error if the file cannot be read.
std::vector<std::string> fertility_pattern_names();

/// The named reference pattern (see fertility_pattern_names) as shares per cell of `axis`.
/// @throws domain_error if there is no pattern of that name (the message lists the names);
///         input_error if the reference file cannot be read.
Eigen::ArrayXd fertility_pattern(const std::string& name, const AgeAxis& axis);

}  // namespace steppe
