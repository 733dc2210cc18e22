// SPDX-License-Identifier: MIT
// The input of `steppe project`: a deterministic explicit-rates projection (dims, initial
// population, one RateSet per step), read from JSON. Format: docs/project_input.md.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "steppe/axes.hpp"
#include "steppe/population.hpp"
#include "steppe/rate_set.hpp"

namespace steppe {

class Trajectory;  // io/csv.hpp

/// A fully resolved, validated projection input: everything `Projector` + `project` need.
struct ProjectInput {
  Dims dims;                   ///< age axis (single years or 5-year groups) and named groups
  Population initial;          ///< persons at the start of start_year, at home and abroad
  std::vector<RateSet> rates;  ///< one RateSet per step, in order ("repeat" already expanded);
                               ///< each passes RateSet::validate(dims)
  int start_year = 0;        ///< calendar year of `initial`; step k ends at start_year+(k+1)·width
  ProjectorOptions options;  ///< migration timing, end_migrants_bear, on_negative
};

/// Parses and validates a `steppe project` input document (format: docs/project_input.md).
/// Life tables given as q(x) are converted with LifeTable::from_qx (and from_mx / from_lx);
/// fertility given as TFR × pattern with asfr_from_tfr / fertility_pattern; migration totals
/// with the patterns of migration.hpp.
/// @param json_text   the document.
/// @param file_label  the name used in error messages (usually the path).
/// @throws input_error(file_label, pointer, "expected …, got …") for a parse error (pointer "",
///         reason with line and column), an unknown key, a wrong type, a wrong array length, a
///         value out of its domain (q > 1, negative counts, …) or a missing required field.
///         The pointer is RFC 6901 into the document, e.g. "/steps/0/groups/kazakh/mortality/
///         female/life_table/qx/87". Never domain_error: domain checks that only the library can
///         make (LifeTable, RateSet::validate) are rethrown as input_error at the nearest pointer.
/// Complexity: O(size of the document + steps × cells).
ProjectInput parse_project_input(const std::string& json_text, const std::string& file_label);

/// Reads `path` and parses it with parse_project_input(text, path.string()).
/// @throws input_error (pointer "") if the file cannot be read; otherwise as parse_project_input.
ProjectInput load_project_input(const std::filesystem::path& path);

/// Writes a projection's populations and flows as one JSON document (layout in
/// docs/project_input.md, "Output"). Numbers are written with shortest round-trip precision.
/// @throws error if the stream fails.
void write_projection_json(std::ostream& out, const Trajectory& trajectory);

}  // namespace steppe
