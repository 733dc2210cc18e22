// SPDX-License-Identifier: MIT
// A plain-text report of a crisis run and its counterfactual: the yearly balance by group and
// the totals, with both excess-death definitions side by side.
#pragma once

#include <iosfwd>

#include "steppe/excess.hpp"

namespace steppe {

/// Writes the report of `runner`'s last run (started from `initial` at `start_year`):
/// one row per step and group — population at home and abroad at the end of the step, births,
/// deaths at home and abroad, excess deaths (a) against the counterfactual and (b) against
/// baseline rates (home + abroad), lost births (a), emigrants, returnees — then the totals over
/// the whole projection. Counts are persons, rounded to whole numbers for display only.
/// @throws error if the stream fails.
void write_crisis_report(std::ostream& out, const CrisisRunner& runner, const Population& initial,
                         int start_year);

}  // namespace steppe
