// SPDX-License-Identifier: MIT
// Private: what a projection needs of a single-year life table (l, L, T and the open rate),
// computed without building LifeTable objects. Scenario::build makes one per draw and column
// when e0 is uncertain; LifeTable::to_single_year followed by projection_survivorship and
// birth_survivorship would allocate some 40 arrays per table for the same numbers.
#pragma once

#include <Eigen/Core>

#include "steppe/axes.hpp"
#include "steppe/life_table.hpp"
#include "steppe/model_life_table.hpp"

namespace steppe::detail {

/// Survivors l(x), person-years L(x) and person-years above T(x) of a single-year table at ages
/// 0, 1, …, ω (ω+ open), radix l(0) = 1, and its open death rate m(ω+). The storage is kept
/// from one table to the next (no allocation when ω stays the same).
struct SingleYearColumns {
  Eigen::ArrayXd lx, Lx, Tx;
  double open_mx = 0;
  Eigen::ArrayXd q, a;  ///< scratch: the single-year q(x) and a(x) of the closed ages
};

/// The columns of `table`, which must be a single-year table (ages 0, 1, …, ω).
void copy_columns(const LifeTable& table, SingleYearColumns& out);

/// The columns of abridged.to_single_year(omega), for an abridged table given by its N ages,
/// the q(x) and a(x) of its N − 1 closed intervals and its open rate m_open (> 0, finite), by
/// the same operations as to_single_year and LifeTable's factories (the same bits).
/// Precondition: omega ≥ the open age ages[N − 1] (to_single_year then keeps the open rate).
void single_year_columns(const double* ages, const double* q, const double* a, Eigen::Index N,
                         double m_open, int omega, SingleYearColumns& out);

/// LifeTable::projection_survivorship(axis) of the table the columns describe (same bits), into
/// `out` (resized to axis.count). Precondition: axis.width ≥ 1, axis.count ≥ 2.
void projection_survivorship(const SingleYearColumns& t, const AgeAxis& axis, Eigen::ArrayXd& out);

/// LifeTable::birth_survivorship(width) of that table (same bits). Precondition: width ≥ 1.
double birth_survivorship(const SingleYearColumns& t, int width);

/// The columns of coale_demeny_e0(family, sex, e0).to_single_year(max(upto, 95)) (95: the
/// tables' open age), by the same operations (the same bits), without building a LifeTable.
/// Returns false, leaving `out` unspecified, where coale_demeny_e0 would throw (e0 out of range,
/// a mixture that fails the table's checks): the caller then takes the general path.
bool coale_demeny_e0_single_year(CdFamily family, Sex sex, double e0, int upto,
                                 SingleYearColumns& out);

}  // namespace steppe::detail
