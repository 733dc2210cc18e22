// SPDX-License-Identifier: MIT
// Output of `steppe run` and `steppe sweep`: a Monte Carlo RunResult as JSON, CSV or a table that
// reads like a result in a paper, and one summary row per combination of a parameter sweep.
#pragma once

#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "steppe/scenario.hpp"
#include "steppe/simulation.hpp"

namespace steppe {

/// What the run writers need to know about the scenario besides the results: a plain copy, so
/// that results can be written (and the writers tested) without a scenario file.
struct RunDescription {
  /// One target of the scenario, described for a reader.
  struct TargetInfo {
    std::string name;
    double date = 0;            ///< decimal year of the count
    double observed = 0;        ///< persons
    std::string group = "all";  ///< group name, or "all"
    std::string sex = "both";   ///< "female", "male" or "both"
    std::string ages = "0+";    ///< "0+" (all ages), "15-49", "60+" (completed years)
    bool abroad = false;        ///< counts the group's population abroad
  };
  std::string file;                       ///< the scenario file, as given
  std::string title;                      ///< its meta title ("" if none)
  int window_first = 0, window_last = 0;  ///< famine window (calendar years, inclusive)
  bool headline_counterfactual = true;    ///< headline excess definition (OutputSpec)
  std::vector<TargetInfo> targets;        ///< in file order
  /// The published estimate the scenario encodes, if any (compared with /published/modelled).
  struct PublishedInfo {
    std::string source, citation;  ///< id in meta.sources, and its citation
    double value = 0, low = -1, high = -1;  ///< persons (−1 = no range)
    std::string measure = "excess_deaths";  ///< "excess_deaths" or "losses"
    std::string group = "all";
    std::string note;
  };
  std::optional<PublishedInfo> published;
  std::vector<std::string> groups;  ///< group names, in scenario order (balance sheet)
};

/// The description of `scenario` (file, title, window, headline definition, targets).
RunDescription describe_run(const Scenario& scenario);

/// The key of a quantile level in the outputs: "q" + the level in percent without the decimal
/// point, zero-padded to three digits (two before the point) when not a whole percent:
/// 0.5 → "q50", 0.1 → "q10", 0.025 → "q025", 0.975 → "q975", 0.005 → "q005", 0.0025 → "q0025".
/// Precondition: 0 ≤ level ≤ 1.
std::string quantile_key(double level);

/// `steppe run --format json`: one JSON document (UTF-8, 2-space indent, keys in this order):
///   steppe_version, scenario {file, title}, seed, draws, cancelled (only if true), quantiles
///   (levels), window [first, last], definition ("counterfactual" | "rate_based": the headline
///   excess definition), then every metric nested by its JSON pointer in RunResult order, each
///   leaf a summary {"mean", "sd", <quantile_key(level)>…}; under targets/<name> also observed,
///   date, group, sex, ages, abroad; under published also source, citation, value, low, high
///   (if given), measure, group, note; finally clamps and clamped_persons.
/// Persons are persons and log-likelihoods nats, in shortest round-trip decimals.
/// So "/excess_deaths/total/q50" in the document is the median of the metric
/// "/excess_deaths/total". @throws error if the stream fails, or if one metric's path is a
/// prefix of another's (a leaf cannot also be a branch).
void write_run_json(std::ostream& out, const RunDescription& run, const RunResult& result);
/// The same, describing `scenario` with describe_run.
void write_run_json(std::ostream& out, const Scenario& scenario, const RunResult& result);

/// `steppe run --format csv`: header `metric,mean,sd,<quantile keys>`, then one row per metric
/// in RunResult order, metric = its JSON pointer (quoted if it holds a comma or a quote).
/// Numbers in shortest round-trip decimals. @throws error if the stream fails.
void write_run_csv(std::ostream& out, const RunResult& result);

/// `steppe run --format table` (the default): a text summary for people. Title, draws and seed;
/// the published figure the scenario encodes beside its modelled counterpart (if any);
/// headline excess deaths in the famine window, total and by group (deaths at home and abroad),
/// and the other definition; lost births; net emigration by group (with emigrants and
/// returnees when the result has them); deaths abroad; each group's balance sheet from the
/// start to the end of the projection (at home and abroad, with excess deaths of both
/// definitions and lost births), and by year; then the targets, observed against modelled,
/// with the relative deviation; clamps if any. Each figure is the median and the
/// range between the outermost quantile levels (the 95 % range with the default levels),
/// persons rounded to thousands and written with thousands separators ("1,234,000"). A line
/// whose metric the result lacks is left out. @throws error if the stream fails.
void write_run_table(std::ostream& out, const RunDescription& run, const RunResult& result);
/// The same, describing `scenario` with describe_run.
void write_run_table(std::ostream& out, const Scenario& scenario, const RunResult& result);

/// One combination of a sweep: the grid values as written (`--grid /pointer=v1,v2`: JSON text
/// or a bare word), in the order of the grid pointers, and the result of its run.
struct SweepPoint {
  std::vector<std::string> values;
  RunResult result;
};

/// The metrics a sweep reports, in this order, where at least one point has them:
/// /excess_deaths/total, /lost_births/total, /net_emigration/total, /deaths_abroad/total,
/// /log_likelihood/total, then every /excess_deaths/by_group/<g> in result order.
std::vector<std::string> sweep_metrics(std::span<const SweepPoint> points);

/// `steppe sweep --format csv`: header = the grid pointers, then for each of sweep_metrics
/// "<metric>/mean", "<metric>/sd", "<metric>/<quantile key>"… (the JSON pointer of the same
/// number in `steppe run --format json`); then one row per point, in the given order. A metric
/// that a point lacks leaves its cells empty. Quantile keys come from the first point.
/// @throws error if the stream fails.
void write_sweep_csv(std::ostream& out, std::span<const std::string> grid,
                     std::span<const SweepPoint> points);

/// `steppe sweep --format json`: {steppe_version, scenario {file, title}, seed, draws, quantiles,
/// grid [pointers], combinations [{values {pointer: value}, <metrics nested as in
/// write_run_json>}]}. A value is its JSON text parsed, or the bare word as a string (the rule
/// of `--set`). Seed, draws and levels come from the first point (a sweep runs every
/// combination alike). @throws error if the stream fails.
void write_sweep_json(std::ostream& out, const RunDescription& run,
                      std::span<const std::string> grid, std::span<const SweepPoint> points);

}  // namespace steppe
