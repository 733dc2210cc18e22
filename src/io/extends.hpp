// SPDX-License-Identifier: MIT
// Private: scenario inheritance. "extends": "base.json" plus a JSON Merge Patch (RFC 7386) of
// overrides, resolved recursively, remembering which file wrote every field so that errors
// name the file where a bad value was written.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace steppe::detail {

/// RFC 7386 JSON Merge Patch: `patch` applied to `target`. Objects merge member by member, a
/// null member deletes, anything else replaces.
nlohmann::json merge_patch(nlohmann::json target, const nlohmann::json& patch);

/// A scenario document with its `extends` chain resolved.
struct ResolvedJson {
  nlohmann::json doc;  ///< the merged document, without any "extends" member
  /// JSON pointer (as a string, "" = root) → the file whose text set the value at that pointer.
  std::map<std::string, std::string> origin;
  /// JSON pointer of an object → the last file (in extends order, then "--set") that changed
  /// anything inside it; absent if no file after the one that wrote it did.
  std::map<std::string, std::string> touched;
  /// The file that wrote the value at `pointer` (its longest recorded prefix).
  const std::string& file_of(const std::string& pointer) const;
};

/// Reads `file`; if it has "extends" (a path relative to the file's folder), resolves the base
/// first and applies this file's members to it as a merge patch.
/// @throws input_error(file, "/extends", …) for a cycle, a missing or unreadable base, or an
///         "extends" that is not a string; input_error(file, "", "parse error …") for bad JSON.
ResolvedJson load_with_extends(const std::filesystem::path& file);

/// The same for a document given as text; `file` names it and anchors a relative "extends".
ResolvedJson resolve_text(const std::string& text, const std::filesystem::path& file);

/// Applies a command-line override `--set /json/pointer=value` (value: JSON text, or a bare
/// word taken as a string) to `doc`, recording "--set" as the origin of that field. The parent of
/// the pointer must exist (an override may replace or add a member, not invent a branch).
/// @throws input_error("--set", pointer, …) for a malformed assignment or pointer, or a missing
///         parent.
void apply_override(ResolvedJson& doc, const std::string& assignment);

}  // namespace steppe::detail
