// SPDX-License-Identifier: MIT
// Scenario inheritance: JSON Merge Patch and the resolution of "extends" chains.
#include "io/extends.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "steppe/error.hpp"
#include "text_format.hpp"

namespace steppe::detail {

using json = nlohmann::json;

namespace {

inline std::string escape_token(const std::string& t) { return detail::pointer_token(t); }

// Forgets the origins at `ptr` and below (the value there is being replaced).
void erase_below(std::map<std::string, std::string>& origin, const std::string& ptr) {
  for (auto it = origin.lower_bound(ptr); it != origin.end();) {
    const std::string& key = it->first;
    const bool below = key == ptr || (key.size() > ptr.size() && key.compare(0, ptr.size(), ptr) == 0 &&
                                      key[ptr.size()] == '/');
    if (!below) {
      if (key.compare(0, ptr.size(), ptr) != 0) break;  // past every key with this prefix
      ++it;
      continue;
    }
    it = origin.erase(it);
  }
}

// merge_patch that also records, for every value it sets, the file that set it.
void apply(json& target, const json& patch, const json::json_pointer& ptr, const std::string& file,
           std::map<std::string, std::string>& origin,
           std::map<std::string, std::string>* touched = nullptr) {
  if (!patch.is_object()) {
    erase_below(origin, ptr.to_string());
    origin[ptr.to_string()] = file;
    target = patch;
    return;
  }
  if (!target.is_object()) {
    erase_below(origin, ptr.to_string());
    origin[ptr.to_string()] = file;
    target = json::object();
  }
  if (touched) (*touched)[ptr.to_string()] = file;
  for (const auto& [key, value] : patch.items()) {
    const json::json_pointer child = ptr / key;
    if (value.is_null()) {
      target.erase(key);
      erase_below(origin, child.to_string());
      origin[child.to_string()] = file;  // a field this file deleted is missing in this file
    } else {
      json& slot = target[key];  // creates the member if absent: a merge patch adds it
      apply(slot, value, child, file, origin, touched);
    }
  }
}

json parse_text(const std::string& text, const std::filesystem::path& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw input_error(file.string(), "", std::string("parse error: ") + e.what());
  }
}

json parse_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw input_error(file.string(), "", "cannot open the file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_text(text.str(), file);
}


/// Writes `value` at `pointer` (whose parent must exist), recording `who` as the field's origin.
/// Errors name `err_file` and `err_pointer` (where the assignment was written).
void set_at(ResolvedJson& r, const std::string& pointer, json value, const std::string& who,
            const std::string& err_file, const std::string& err_pointer) {
  json::json_pointer ptr;
  try {
    ptr = json::json_pointer(pointer);
  } catch (const json::exception& e) {
    throw input_error(err_file, err_pointer, std::string("not a JSON pointer: ") + e.what());
  }
  if (ptr.empty()) throw input_error(err_file, err_pointer, "expected a pointer below the root, got \"\"");
  const json::json_pointer parent = ptr.parent_pointer();
  if (!r.doc.contains(parent))
    throw input_error(err_file, err_pointer, "no such place in the scenario: " +
                                                 (parent.empty() ? std::string("/") : parent.to_string()) +
                                                 " does not exist");
  json& container = r.doc.at(parent);
  if (container.is_array()) {
    const std::string& last = ptr.back();
    const bool index = !last.empty() && last.find_first_not_of("0123456789") == std::string::npos;
    if (!index || std::stoul(last) >= container.size())
      throw input_error(err_file, err_pointer, "expected an index below " +
                                                   std::to_string(container.size()) + ", got " + last);
  } else if (!container.is_object()) {
    throw input_error(err_file, err_pointer, parent.to_string() + " is not an object or array");
  }
  r.doc[ptr] = std::move(value);
  erase_below(r.origin, pointer);
  r.origin[pointer] = who;
  for (json::json_pointer p = ptr; !p.empty();) {
    p = p.parent_pointer();
    r.touched[p.to_string()] = who;
  }
}


ResolvedJson resolve(const std::filesystem::path& file, std::vector<std::filesystem::path>& chain,
                     const std::string* text = nullptr) {
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(file);
  for (const auto& seen : chain)
    if (seen == canonical) {
      std::string path;
      for (const auto& c : chain) path += c.filename().string() + " -> ";
      throw input_error(
          chain.back().string(), "/extends",
          "expected a base that does not lead back to this file, got an extends cycle: " + path +
              canonical.filename().string());
    }
  chain.push_back(canonical);
  json doc = text ? parse_text(*text, file) : parse_file(file);
  ResolvedJson out;
  if (doc.is_object() && doc.contains("extends")) {
    const json& base = doc.at("extends");
    if (!base.is_string())
      throw input_error(file.string(), "/extends",
                        "expected the path of a base scenario (a string), got " + base.dump());
    const std::filesystem::path base_path = file.parent_path() / base.get<std::string>();
    if (!std::filesystem::exists(base_path))
      throw input_error(file.string(), "/extends",
                        "base scenario \"" + base_path.string() + "\" does not exist");
    out = resolve(base_path, chain);
    doc.erase("extends");
    json set;
    if (doc.contains("set")) {
      set = std::move(doc["set"]);
      doc.erase("set");
    }
    apply(out.doc, doc, json::json_pointer(), file.string(), out.origin, &out.touched);
    // "set": {"/json/pointer": value, …}, in key order (a parent before its members): one
    // field of the base changed in place (inside an array, which a merge patch replaces whole).
    if (!set.is_null()) {
      if (!set.is_object())
        throw input_error(file.string(), "/set",
                          "expected an object {\"/json/pointer\": value, ...}, got " + set.dump());
      for (auto it = set.begin(); it != set.end(); ++it)
        set_at(out, it.key(), it.value(), file.string(), file.string(),
               "/set/" + escape_token(it.key()));  // names the assignment
    }
  } else {
    if (doc.is_object() && doc.contains("set"))
      throw input_error(file.string(), "/set", "\"set\" needs \"extends\": it changes fields of a base scenario");
    out.doc = std::move(doc);
    out.origin[""] = file.string();
  }
  chain.pop_back();
  return out;
}

}  // namespace

json merge_patch(json target, const json& patch) {
  std::map<std::string, std::string> ignored;
  apply(target, patch, json::json_pointer(), "", ignored);
  return target;
}

const std::string& ResolvedJson::file_of(const std::string& pointer) const {
  std::string p = pointer;
  for (;;) {
    if (const auto it = origin.find(p); it != origin.end()) return it->second;
    if (p.empty()) break;
    p.erase(p.rfind('/'));
  }
  static const std::string none;
  return none;
}


void apply_override(ResolvedJson& r, const std::string& assignment) {
  const std::size_t eq = assignment.find('=');
  if (assignment.empty() || assignment[0] != '/' || eq == std::string::npos)
    throw input_error("--set", "", "expected /json/pointer=value, got \"" + assignment + "\"");
  const std::string pointer = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // a bare word: a string ("--set /outputs/headline=rate_based")
  }
  set_at(r, pointer, std::move(value), "--set", "--set", pointer);
}

ResolvedJson load_with_extends(const std::filesystem::path& file) {
  std::vector<std::filesystem::path> chain;
  return resolve(file, chain);
}

ResolvedJson resolve_text(const std::string& text, const std::filesystem::path& file) {
  std::vector<std::filesystem::path> chain;
  return resolve(file, chain, &text);
}

}  // namespace steppe::detail
