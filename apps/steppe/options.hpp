// SPDX-License-Identifier: MIT
// Command line of the steppe tool: a subcommand and its options, parsed into a plain struct.
#pragma once

#include <filesystem>
#include <optional>
#include <string>


namespace steppe::cli {

enum class Command { help, version, project };
enum class Format { csv, json };

/// What the user asked for. Filled by parse_command_line; no defaults hide elsewhere.
struct RunRequest {
  Command command = Command::help;
  std::string help_text;                        ///< for Command::help
  std::filesystem::path input;                  ///< project: the input JSON file
  Format format = Format::csv;                  ///< project: --format
  std::optional<std::filesystem::path> output;  ///< project: --output (stdout if absent)
  std::optional<std::filesystem::path> flows;   ///< project: --flows (CSV only)
  bool no_crisis = false;                       ///< project: --no-crisis (counterfactual run)
  bool report = false;                          ///< project: --report (crisis report on stdout)
};

/// Parses `steppe <command> [options]`.
/// @throws boost::program_options::error on bad usage (unknown command or option, missing
///         file, a bad --format, --flows with --format json).
RunRequest parse_command_line(int argc, const char* const argv[]);

/// Runs `steppe project`: loads the input, projects, writes the outputs (all or nothing).
/// @throws steppe::input_error for bad input, steppe::error / std::exception otherwise.
void run_project(const RunRequest& request);

}  // namespace steppe::cli
