// SPDX-License-Identifier: MIT
// Output of `steppe calibrate`: a CalibrationResult as JSON, CSV or a table that sets the
// posterior beside the prior (death toll, parameters, fit to each census target).
#pragma once

#include <iosfwd>

#include "steppe/calibration.hpp"
#include "steppe/io/run_output.hpp"

namespace steppe {

/// `steppe calibrate --format json`: one JSON document (UTF-8, 2-space indent, keys in this
/// order): steppe_version, scenario {file, title}, seed, draws (prior draws), quantiles (levels),
/// ess, ess_fraction (ess / draws), max_weight_share, dropped_weight, max_dropped_weight,
/// posterior_draws, min_ess,
/// degenerate, warning (only if degenerate), then "prior" and "posterior": each the metrics of
/// write_run_json (draws, window, definition, the metric tree, clamps, clamped_persons; without
/// the version, scenario, seed and quantiles already at the top); "parameters": [{pointer, file,
/// distribution, prior {summary}, posterior {summary}}]; "targets": [{name, observed, date,
/// group, sex, ages, abroad, has_sd, predictive_cdf (if has_sd), within, prior {modelled,
/// relative_deviation, expected}, posterior {modelled, relative_deviation, expected, z (if
/// has_sd)}}]. A summary is {"mean", "sd", <quantile_key(level)>…}. Numbers in shortest round-trip
/// decimals.
/// @throws error if the stream fails; as write_run_json.
void write_calibration_json(std::ostream& out, const RunDescription& run,
                            const CalibrationResult& result);

/// `steppe calibrate --format csv`: header `kind,quantity,stage,mean,sd,<quantile keys>`, then
/// two rows (stage prior, then posterior) per quantity: kind "metric" for every metric of the
/// run (quantity = its JSON pointer, as `steppe run --format csv`), "parameter" for every
/// uncertain parameter (quantity = its pointer), "expected" for each target's expected census
/// count (quantity = /targets/<name>/expected), and kind "z", stage posterior only, for its
/// standardised census error. Fields quoted (RFC 4180) only when they must be.
/// @throws error if the stream fails.
void write_calibration_csv(std::ostream& out, const CalibrationResult& result);

/// `steppe calibrate --format table` (the default): the warning first if the posterior is
/// degenerate; title; draws, seed and the effective sample size; the headline excess deaths
/// (total, by group, the other definition), lost births and net emigration, prior beside
/// posterior; every uncertain parameter, prior beside posterior; every target: observed, the
/// expected census count (modelled · (1 + bias)) prior and posterior, the posterior median z, the
/// posterior predictive probability of a smaller count and whether the observed count lies
/// within the posterior predictive range. Medians with the range between the
/// outermost quantile levels. @throws error if the stream fails.
void write_calibration_table(std::ostream& out, const RunDescription& run,
                             const CalibrationResult& result);

}  // namespace steppe
