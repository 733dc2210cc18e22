// SPDX-License-Identifier: MIT
// Command line of the steppe tool: a subcommand and its options, parsed into a plain struct.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace steppe::cli {

enum class Command { help, version, project, run, validate, sweep, compare, calibrate };
enum class Format { csv, json, table };

/// One `--grid /json/pointer=v1,v2,…` of `steppe sweep`: the pointer and its values, each as
/// written (JSON text, or a bare word taken as a string, as with --set).
struct GridAxis {
  std::string pointer;
  std::vector<std::string> values;
};

/// What the user asked for. Filled by parse_command_line; no defaults hide elsewhere.
struct RunRequest {
  Command command = Command::help;
  std::string help_text;                        ///< for Command::help
  std::filesystem::path input;                  ///< the input (project) or scenario JSON file
  Format format = Format::csv;                  ///< --format (run: table; project, sweep: csv)
  std::optional<std::filesystem::path> output;  ///< --output (stdout if absent)
  std::optional<std::filesystem::path> flows;   ///< project: --flows (CSV only)
  bool no_crisis = false;                       ///< project: --no-crisis (counterfactual run)
  bool report = false;                          ///< project: --report (crisis report on stdout)
  std::vector<std::string> sets;                ///< run, validate, sweep: --set, in order
  std::uint64_t draws = 1000;                   ///< run, sweep: --draws (≥ 1); calibrate: ≥ 2
  std::uint64_t seed = 1;                       ///< run, sweep, calibrate: --seed
  int threads = 0;                              ///< run, sweep, calibrate: --threads (0 = all cores)
  double min_ess = 100;                         ///< calibrate: --min-ess (> 0)
  std::string method = "auto";                  ///< calibrate: --method importance|smc|auto
  bool posterior = false;                       ///< compare: --posterior (A's SMC particles)
  std::uint64_t particles = 2000;               ///< calibrate: --particles (SMC)
  int moves = 5;                                ///< calibrate: --moves (SMC)
  std::vector<GridAxis> grid;                   ///< sweep: --grid, in order (at least one)
  std::filesystem::path input_b;                ///< compare: the second scenario (B)
  /// compare: --factor NAME=/p1,/p2, in order: factor name and JSON pointer prefixes
  std::vector<std::pair<std::string, std::vector<std::string>>> factors;
};

/// Parses `steppe <command> [options]`.
/// @throws boost::program_options::error on bad usage (unknown command or option, missing
///         file, a bad --format, --draws, --seed, --threads or --grid, --flows with json).
RunRequest parse_command_line(int argc, const char* const argv[]);

/// Splits the value list of a --grid at its top-level commas: commas inside JSON brackets,
/// braces or strings do not split ("[1,2],3" → "[1,2]", "3").
std::vector<std::string> split_grid_values(const std::string& list);

/// A run stopped by Ctrl-C: nothing was written. main exits with 130.
class interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs `steppe project`: loads the input, projects, writes the outputs (all or nothing).
/// @throws steppe::input_error for bad input, steppe::error / std::exception otherwise.
void run_project(const RunRequest& request);

/// `steppe run`: loads the scenario, runs its draws, writes the summary.
/// @throws steppe::scenario_errors for a bad scenario or --set; steppe::domain_error if a draw
///         makes impossible demography (main exits 2: the scenario must change); interrupted
///         on Ctrl-C.
void run_run(const RunRequest& request);

/// `steppe validate`: loads the scenario and prints a one-line summary on stdout.
/// @throws steppe::scenario_errors listing every problem.
void run_validate(const RunRequest& request);

/// `steppe sweep`: one run per combination of the grid, one summary row each.
/// @throws steppe::scenario_errors naming the first invalid combination; as run_run otherwise
///         (a domain_error names its combination).
void run_sweep(const RunRequest& request);

/// `steppe calibrate`: loads the scenario, weights its draws by the census likelihood, writes
/// prior and posterior (the degeneracy warning also on stderr for json and csv).
/// @throws as run_run; steppe::domain_error if the scenario has no target with an sd.
void run_calibrate(const RunRequest& request);

/// `steppe compare A.json B.json`: attributes the gap between their headline tolls to the
/// factors in which they differ. @throws as run_run; input_error if they cannot be aligned.
void run_compare(const RunRequest& request);

/// Writes `write`'s output to `output` atomically (temp file + rename), or whole to stdout.
void write_output(const std::optional<std::filesystem::path>& output,
                  const std::function<void(std::ostream&)>& write);

}  // namespace steppe::cli
