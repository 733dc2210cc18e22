// SPDX-License-Identifier: MIT
// Scenario: a validated scenario file (scenarios/README.md) — the assumptions of one
// reconstruction, any number of which may be uncertain — and the translation of one draw of its
// parameters into the engine's inputs (initial Population and one RateSet per step).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "steppe/distribution.hpp"
#include "steppe/population.hpp"
#include "steppe/rate_set.hpp"

namespace steppe {

/// Several input errors found at once (`steppe validate` lists them all). what() is every
/// error's own what() on its own line; errors() gives them one by one, in file order.
class scenario_errors : public input_error {
 public:
  explicit scenario_errors(std::vector<input_error> errors);
  const std::vector<input_error>& errors() const noexcept { return errors_; }
  const char* what() const noexcept override;

 private:
  std::vector<input_error> errors_;
  std::string what_;
};

/// One number of the scenario: where it was written and what it is drawn from. Constants are
/// parameters too (Distribution::constant), so a draw is simply one value per parameter.
struct Parameter {
  std::string pointer;  ///< JSON pointer in the resolved scenario ("/groups/0/fertility/tfr")
  std::string file;     ///< the file that wrote it (across "extends"), or "--set"
  std::string shared;   ///< name in "/distributions" when the value is {"shared": name}, else ""
  Distribution distribution = Distribution::constant(0.0);
  std::uint64_t stream = 0;  ///< random stream: stream_id(pointer); shared: "/distributions/<name>"
};

/// The span of one projection step in decimal calendar years and the calendar year that names it.
struct StepTime {
  double start = 0, end = 0;  ///< decimal years (1926.96 = 17 December 1926)
  int year = 0;               ///< the calendar year holding the step's midpoint
};

/// An observed count to compare the model with, e.g. the 1939 census count of Kazakhs.
/// Census-error model: observed = modelled · (1 + bias) · (1 + ε), ε ~ Normal(0, sd²), so the
/// log-likelihood of a draw is ln φ(z) − ln sd with z = (observed / (modelled·(1 + bias)) − 1) / sd.
struct Target {
  std::string name;     ///< unique, from the file (used as the output key)
  double date = 0;      ///< decimal year of the count
  int boundary = 0;     ///< compared with the population after this many steps (nearest boundary)
  int group = -1;       ///< index into dims().groups(), or −1 for all groups
  int sex = -1;         ///< 0 female, 1 male, −1 both
  int age_from = 0;     ///< first age cell counted (lower bound, years)
  int age_to = -1;      ///< last age cell counted (lower bound, years), −1 = up to the open cell
  bool abroad = false;  ///< count the group's population abroad instead of at home
  double observed = 0;  ///< persons
  int bias = -1;        ///< parameter index of the relative bias (e.g. 0.02 = census 2 % too high)
  int sd = -1;          ///< parameter index of the relative error sd (> 0)
  /// Parameter indices of persons added to the modelled count before the comparison (people the
  /// census counted but the model's books do not hold, e.g. a diaspora that predates the
  /// projection; negative for people the books hold but the census did not count).
  std::vector<int> plus;
};

/// A published death toll that a scenario encodes (literature scenarios), and what it counts, so
/// that `steppe run` can print it beside the modelled figure of the same definition.
struct PublishedEstimate {
  std::string source;       ///< id of the citation in ScenarioMeta::sources
  double value = 0;         ///< the published figure, persons
  double low = -1, high = -1;  ///< the published range, persons (−1 = none)
  /// What is counted: excess deaths (headline definition, at home and abroad, over the window),
  /// or losses = those excess deaths + the group's emigrants still alive abroad at the end of
  /// the projection (permanent emigrants).
  bool losses = false;
  int group = -1;           ///< index into dims().groups(), or −1 for all groups
  std::string note;         ///< what the figure counts and how it was derived
};

/// What `steppe run` reports.
struct OutputSpec {
  int window_first = 0, window_last = 0;  ///< famine window: steps whose StepTime::year is inside
  bool headline_counterfactual = true;    ///< headline excess: counterfactual (true) or rate-based
  std::vector<double> quantiles{0.025, 0.10, 0.50, 0.90, 0.975};  ///< probabilities, increasing
  /// Also the headline excess deaths by group, sex, 10-year age group and year of the window
  /// (/excess_deaths/by_group_sex_age_year/…; counterfactual headline only). Off by default: it
  /// adds groups × 2 × age groups × window years outputs to every draw.
  bool by_age_year = false;
  /// The published figure the scenario encodes (its "published" member), if any; its modelled
  /// counterpart is the metric /published/modelled.
  std::optional<PublishedEstimate> published;
};

/// Title, authors and citations of a scenario (its "meta" member).
struct ScenarioMeta {
  std::string title, description;
  std::vector<std::string> authors;
  struct Source {
    std::string id, citation;
  };
  std::vector<Source> sources;
};

namespace detail {
struct BuildCache;
}

/// What the engine needs for one draw. Reused across draws: build() overwrites it in place.
///
/// Contract: a ModelInputs is build()'s buffer. build() remembers (in `cache`) which parameter
/// values every column of `rates` was last computed from, and leaves a column it would write
/// with the same values as it is. So a caller that modifies `rates` or `initial` between two
/// builds must reset `cache` first (or build into a fresh ModelInputs); reading them is fine. A
/// copy of a ModelInputs shares the memo but is recognised as another buffer (it is rebuilt in
/// full the first time), and a build that threw leaves nothing trusted.
struct ModelInputs {
  Population initial;
  std::vector<RateSet> rates;  ///< one per step
  /// build()'s memo of the last life tables per group and sex (parameters that stay the same
  /// from draw to draw are not recomputed), and of what it last wrote into `rates` (see above).
  /// Not part of the results; one per thread. Reset it after modifying `rates` or `initial`.
  std::shared_ptr<detail::BuildCache> cache;
  /// What the draw derives besides the engine's inputs, in Scenario::derived_outputs() order
  /// (the food-balance trajectories: herd, kcal per person per day, deficit by year).
  std::vector<double> derived;
};

/// A validated scenario. Cheap to copy (shares its immutable description).
class Scenario {
 public:
  /// Reads `file`, resolves its "extends" chain, applies `overrides` ("/json/pointer=value",
  /// as `--set`), and validates everything.
  /// @throws scenario_errors listing every problem found (file, JSON pointer, expected, got).
  static Scenario load(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides = {});
  /// The same from JSON text; `file` names it in errors and anchors relative data paths.
  static Scenario parse(const std::string& json_text, const std::filesystem::path& file,
                        const std::vector<std::string>& overrides = {});

  const std::string& file() const noexcept;
  const ScenarioMeta& meta() const noexcept;
  const Dims& dims() const noexcept;
  const ProjectorOptions& projector_options() const noexcept;
  std::span<const StepTime> steps() const noexcept;
  std::span<const Parameter> parameters() const noexcept;
  std::span<const Target> targets() const noexcept;
  const OutputSpec& outputs() const noexcept;
  /// Metric paths of the quantities a draw derives besides the engine's inputs, e.g.
  /// "/drivers/herd/cattle/1931" (a food-balance crisis; empty otherwise). build() writes their
  /// values into ModelInputs::derived, and run_draws reports them as metrics.
  std::span<const std::string> derived_outputs() const noexcept;
  /// True if any parameter is a distribution (not a constant).
  bool has_uncertainty() const noexcept;

  /// Draw `draw` of every parameter: values[k] comes from Rng(seed, draw, parameters()[k].stream)
  /// (shared parameters from the stream of their name), so it depends on nothing else.
  /// `values` is resized to parameters().size().
  void sample(std::uint64_t seed, std::uint64_t draw, std::vector<double>& values) const;
  /// The central value of every parameter: its distribution's mean, clamped to its truncation
  /// bounds (a choice: its mean too). What `--draws 1` runs.
  void central(std::vector<double>& values) const;

  /// The engine's inputs for one set of parameter values (sample() or central()). Reuses the
  /// storage of `out`, and skips the columns of `out.rates` whose inputs are those of the
  /// previous build into `out` (see ModelInputs: `out` must be left as build() wrote it). @throws domain_error if the values make impossible demography (e.g. a
  /// drawn e0 outside the model life tables), naming the parameter's file and pointer.
  void build(std::span<const double> values, ModelInputs& out) const;

  /// For each group g, the indices (increasing) of the parameters that build() reads for g's
  /// inputs: its columns of the initial population and its entries of every RateSet (columns of
  /// the ages × cols arrays, entry or column g of the per-group ones). Two builds whose values
  /// agree bit for bit at these indices give g the same inputs, bit for bit, except for which
  /// optional RateSet components are present (an array present for another group holds zeros,
  /// or the baseline, in g's columns). Where the groups' inputs are coupled (a food-balance
  /// crisis, whose drivers are shared), every group's list holds every parameter.
  std::vector<std::vector<std::size_t>> group_parameters() const;

  struct Impl;  ///< the parsed description (private; src/scenario.cpp)

 private:
  explicit Scenario(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace steppe
