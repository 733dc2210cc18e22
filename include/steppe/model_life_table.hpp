// SPDX-License-Identifier: MIT
// Model life tables: Coale–Demeny regional tables (by level or e0) and the Brass relational logit.
#pragma once

#include <filesystem>

#include "steppe/axes.hpp"
#include "steppe/life_table.hpp"

namespace steppe {

/// The four Coale–Demeny regional families.
enum class CdFamily { west, north, east, south };

/// "West", "North", "East", "South" (as in the data file).
const char* to_string(CdFamily f) noexcept;

/// The Coale–Demeny regional model life table of `family`, `sex` and `level`.
///
/// Source: `data_dir()/reference/mlt_coale_demeny_levels.csv` (demogR 0.6.0, Coale, Demeny &
/// Vaughan 1983; see data/reference/PROVENANCE.md), read once per process and cached.
/// The table is abridged, ages 0, 1, 5, 10, …, 95 (95+ open). It is built with
/// LifeTable::from_lx from the file's l(x), with a(x) = (L(x) − n·l(x+n))/d(x) taken from the
/// file's L(x) (the file's nominal a = 2.5 at 80–94 is not consistent with its L), and the open
/// rate m(95+) = l(95)/T(95) (the file's L and m for 95+ cover 95–100 only). So l(x), L(x) for
/// x < 95 and e0 = T(0) reproduce the file to rounding.
/// Female e0 = 20, 22.5, …, 80 for levels 1–25 (±0.02 y); males differ (West M: 18.03 … 76.65).
/// @throws domain_error if level is not in 1..25.
/// @throws input_error if the data file is missing or malformed (file, "/row/<n>/<column>").
/// Complexity: O(ages) after the first call, which parses the file (4 200 rows).
LifeTable coale_demeny(CdFamily family, Sex sex, int level);

/// A Coale–Demeny table of `family` and `sex` with life expectancy at birth `e0`.
///
/// Interpolates between the two levels whose e0 bracket the target: the mixture
/// l = (1 − w)·l_L + w·l_{L+1}, and likewise L(x) and T(95) (so a(x) and the open rate are the
/// death-weighted means of the two tables'). Because e0 = Σ L is linear in w, w is found in
/// closed form, w = (e0 − e0_L)/(e0_{L+1} − e0_L), and the table's e0 equals the target to
/// rounding. At a level's own e0 the result is that level's table.
/// @param e0  years, within [e0 of level 1, e0 of level 25] for that family and sex (1e-9 slack).
/// @throws domain_error if e0 is outside that range or not finite.
/// @throws input_error as coale_demeny().
LifeTable coale_demeny_e0(CdFamily family, Sex sex, double e0);

/// The Brass General Standard (UN 1983, Manual X): single years 0, 1, …, 99 with 99+ open.
///
/// Source: `data_dir()/reference/brass_general_standard.csv`. l(x) = 1/(1 + exp(2·Ys(x))) for
/// x ≥ 1 from the printed logits Ys (4 decimals), which keeps l(99) > 0 where the printed l
/// (also 4 decimals) is 0; it agrees with the printed l to its rounding. The open rate is that of
/// age 98 (LifeTable's default). The standard has no sex; `rule` sets a(x), e.g.
/// AxRule::coale_demeny(Sex::female) for a0 with n/2 at every other age.
/// @throws input_error if the data file is missing or malformed.
LifeTable brass_general_standard(const AxRule& rule);

/// Brass relational logit model: Y(x) = α + β·Ys(x), where Y = ½·ln((1 − l)/l) (Brass's sign:
/// Y rises with age, α > 0 raises mortality at every age, β > 1 steepens the age gradient).
///
/// l(0) = 1; l(x) = 1/(1 + exp(2·Y(x))) at the standard's ages (where the standard's l is 0 the
/// model's is 0). a(x) of the closed intervals is the standard's; the open rate is the standard's
/// scaled by the ratio of the model's to the standard's m in the last closed interval
/// (proportional hazards at the top). So α = 0, β = 1 returns the standard.
/// @param standard  any LifeTable (single-year or abridged).
/// @param alpha  level, finite. @param beta  slope, finite and > 0.
/// @throws domain_error if alpha or beta is out of range.
LifeTable brass_logit(const LifeTable& standard, double alpha, double beta);

/// The α for which brass_logit(standard, α, beta) has life expectancy `target_e0`, by bisection
/// on α ∈ [−10, 10] (e0 decreases with α) to |Δe0| < 1e-9 years or |Δα| < 1e-12.
/// @throws domain_error if beta is invalid or target_e0 is not attainable on that interval.
double brass_fit_alpha_for_e0(const LifeTable& standard, double beta, double target_e0);

namespace detail {
/// Uncached parser behind brass_general_standard(), for tests and tools: reads `file` (columns
/// `age`, `Ys`; 100 rows, ages 0..99; other columns ignored). Not API, may change.
/// @throws input_error(file, "/row/<n>/<column>", reason) for a malformed row (n counts data rows
///   from 0, the header excluded), or with an empty pointer if the file is missing, lacks a
///   column or has the wrong number of rows.
LifeTable read_brass_standard(const std::filesystem::path& file, const AxRule& rule);
}  // namespace detail

}  // namespace steppe
