// SPDX-License-Identifier: MIT
// `steppe compare`: explains the gap between two scenarios' headline tolls by attributing it to
// the groups of assumptions ("factors") in which they differ, with Shapley values computed draw
// by draw on common random numbers, and summarised across draws with ranges.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "steppe/simulation.hpp"

namespace steppe {

/// How to compare two scenarios.
struct CompareOptions {
  /// Draws, seed, threads, progress and cancel, as for run_draws. Every hybrid scenario runs the
  /// same draws (same seed, draw i), so the attribution is free of Monte Carlo noise between
  /// them. `keep` and `weights` are ignored (compare sets `keep` itself). progress() counts the
  /// draws of all hybrids together.
  RunOptions run;
  /// Factors that replace the default grouping for the fields they match: (factor name, JSON
  /// pointer prefixes). A prefix may use "*" for any one reference token ("/crisis/*/flight").
  /// They take precedence over a scenario's "compare_factors", which takes precedence over the
  /// default table (compare_factor_rules()).
  std::vector<std::pair<std::string, std::vector<std::string>>> factors;
  std::vector<std::string> sets_a, sets_b;  ///< `--set /pointer=value` overrides of A and of B
  /// If non-empty: the draws are these parameter sets of A (one value per A.parameters(), e.g.
  /// the posterior particles of A's calibration, SmcResult::values) instead of prior draws, and
  /// run.draws is their number. Every hybrid and B run the same sets, mapped field by field: a
  /// field whose distribution is A's takes A's value; a field the hybrid changed keeps the
  /// draw's quantile (value = F_hybrid⁻¹(F_A(x)), so a range scaled by a policy moves with the
  /// posterior draw, and a constant is that constant); a field A lacks is drawn from its own
  /// prior at (seed, i). So a counterfactual is run on the historical posterior, not re-fitted.
  std::vector<std::vector<double>> a_parameter_sets;
};

/// Mean, sd and the fixed quantiles of a set of per-draw values (exact order statistics: the value
/// of rank floor(q·(n − 1)), as QuantileSketch). JSON keys "mean", "sd", "q025", "q10", "q50",
/// "q90", "q975". Persons.
struct CompareSummary {
  double mean = 0, sd = 0;
  double q025 = 0, q10 = 0, q50 = 0, q90 = 0, q975 = 0;
};

/// The share of the gap that one factor explains.
struct Attribution {
  std::string factor;               ///< e.g. "flight, returns and deaths abroad"
  std::vector<std::string> fields;  ///< the JSON pointers where A and B differ in this factor
  CompareSummary value;             ///< its Shapley value across draws, persons (B − A direction)
  std::vector<double> per_draw;     ///< its Shapley value in each draw
};

/// Result of compare(). Σ attribution[k].per_draw[i] = b_i − a_i for every draw i (up to rounding:
/// the efficiency of Shapley values), so the attribution means sum to difference.mean.
struct CompareResult {
  std::string file_a, file_b;    ///< as given
  std::string title_a, title_b;  ///< their meta titles
  std::string headline;  ///< metric compared: "/published/modelled" or "/excess_deaths/total"
  std::uint64_t seed = 0, draws = 0;
  bool cancelled = false;  ///< stopped by RunOptions::cancel: the result is incomplete
  bool exact = true;       ///< exact Shapley values (≤ 10 factors), else sampled permutations
  std::uint64_t permutations = 0;  ///< permutations sampled (0 when exact)
  std::uint64_t hybrids_run = 0;   ///< number of scenarios run (2^factors when exact)
  bool posterior = false;          ///< the draws were A's parameter sets (CompareOptions)
  CompareSummary a, b;             ///< each scenario's headline across draws
  CompareSummary difference;       ///< b − a, draw by draw
  std::vector<double> a_per_draw, b_per_draw;
  std::vector<Attribution> attribution;  ///< one per factor with a difference, in rule order
};

/// One rule of the grouping of fields into factors.
struct FactorRule {
  std::string factor;
  std::string prefix;  ///< JSON pointer prefix, "*" matching any one reference token
};

/// The default grouping (first matching rule wins): /outputs → "toll definition" (window and
/// excess definition); /published/measure → "deaths or losses (permanent emigrants)";
/// /published/group → "groups counted"; /groups/*/initial_population → "base population and
/// undercount"; /groups/*/fertility, /crisis/*/fertility_reduction → "fertility";
/// /groups/*/mortality → "baseline mortality"; /crisis/*/{flight,return,abroad} → "flight, returns
/// and deaths abroad"; /crisis/*/excess_mortality → "famine mortality"; /crisis/*/in_migration,
/// /groups/*/migration → "migration"; a food-balance crisis' /crisis/drivers/livestock_procurement
/// and /crisis/drivers/grain/procurement → "procurement", /crisis/drivers/grain/aid → "aid",
/// /crisis/drivers/border → "border regime", its other /crisis/drivers → "herds and harvests", /crisis/groups → "responses to the food
/// deficit", /crisis/parameters → "food conversion factors"; /targets → "census corrections";
/// /projection → "projection options". A shared distribution /distributions/<name> goes to the factor of the fields that use
/// it, or to a factor of its own ("shared draw <name>") if they are in several; anything else to
/// "other".
const std::vector<FactorRule>& compare_factor_rules();

/// Where two resolved scenario documents (JSON text) differ, leaf by leaf: JSON pointers with
/// object members in key order and array elements in index order. A distribution, a time series and
/// an array of numbers are single leaves; "meta", "compare_factors", "format" and the descriptive
/// members of "published" (source, value, low, high, note) are ignored, and "published" entirely
/// unless both have it; a member present on one side only is a difference (an object is then listed
/// by its leaves). For tests and `steppe compare`.
/// @throws input_error naming `file_b` if a text is not JSON.
std::vector<std::string> scenario_differences(const std::string& json_a, const std::string& json_b,
                                              const std::string& file_b = "B");

/// Compares scenario `b` with scenario `a` (both resolved across "extends" and their --set).
/// Runs one hybrid per subset of factors (A with B's values in those factors: 2^k runs for k ≤
/// 10 factors; beyond, the subsets met along 2,000 permutations drawn with a fixed seed), each
/// with options.run's draws, and attributes b − a to the factors with Shapley values per draw.
/// The headline is "/published/modelled" if both scenarios have "published", else
/// "/excess_deaths/total" (the headline excess deaths in the famine window).
/// @throws scenario_errors for a bad file or --set (file and JSON pointer), or for a hybrid that
///         is not a valid scenario (the reason names the factors taken from B); input_error if the
///         two cannot be aligned (different group names or steps) or a factor override is
///         malformed; domain_error if a draw makes impossible demography.
CompareResult compare(const std::filesystem::path& a, const std::filesystem::path& b,
                      const CompareOptions& options);

/// `steppe compare --format json`: {"steppe_version", "a": {"file", "title", summary keys},
/// "b": {…}, "headline", "seed", "draws", "exact", "permutations", "factors_used": [names],
/// "difference": {summary keys}, "attribution": [{"factor", "fields", "mean", "q025",
/// "q975"}]} in this key order; summary keys are those of CompareSummary.
/// @throws error if the stream fails.
void write_compare_json(std::ostream& out, const CompareResult& result);

/// `steppe compare --format table`: both headlines, then one row per factor — factor, fields,
/// mean contribution (signed, persons rounded to thousands) and its 95 % range across draws —
/// and a total row equal to the difference. @throws error if the stream fails.
void write_compare_table(std::ostream& out, const CompareResult& result);

}  // namespace steppe
