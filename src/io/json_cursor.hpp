// SPDX-License-Identifier: MIT
// Private helper (STYLE 3.3): a read-only cursor into a JSON document that knows its file and
// JSON pointer, so every type, range and shape error names the offending value.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "steppe/error.hpp"

namespace steppe::detail {

using json = nlohmann::json;

/// Short description of a JSON value for "expected …, got …" messages.
inline std::string describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::string:
      return "the string " + v.dump();
    case json::value_t::array:
      return "an array of " + std::to_string(v.size());
    case json::value_t::object:
      return "an object";
    default:
      return v.dump();  // numbers as written (shortest round trip)
  }
}

/// Levenshtein distance, for "did you mean" on unknown keys.
inline std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

/// (value, pointer, file). Descending extends the pointer (json_pointer's operator/ escapes
/// '~' and '/'). Every accessor checks the type with is_*/contains, never operator[].
class JsonCursor {
 public:
  JsonCursor(const json& v, const std::string& file, json::json_pointer ptr = json::json_pointer())
      : v_(&v), file_(&file), ptr_(std::move(ptr)) {}

  const json& value() const noexcept { return *v_; }
  std::string pointer() const { return ptr_.to_string(); }
  const std::string& file() const noexcept { return *file_; }

  [[noreturn]] void fail(const std::string& reason) const {
    throw input_error(*file_, ptr_.to_string(), reason);
  }
  [[noreturn]] void expected(const std::string& what) const {
    fail("expected " + what + ", got " + describe(*v_));
  }

  bool is_object() const noexcept { return v_->is_object(); }
  bool is_array() const noexcept { return v_->is_array(); }
  bool is_number() const noexcept { return v_->is_number(); }
  bool is_string() const noexcept { return v_->is_string(); }

  const json& object() const {
    if (!v_->is_object()) expected("an object");
    return *v_;
  }
  const json& array() const {
    if (!v_->is_array()) expected("an array");
    return *v_;
  }
  bool has(const std::string& key) const { return object().contains(key); }

  /// The member `key`; "missing required field" (pointing at the missing member) if absent.
  JsonCursor at(const std::string& key) const {
    const json& o = object();
    const auto it = o.find(key);
    if (it == o.end())
      throw input_error(*file_, (ptr_ / key).to_string(), "missing required field \"" + key + "\"");
    return JsonCursor(*it, *file_, ptr_ / key);
  }
  std::optional<JsonCursor> find(const std::string& key) const {
    const json& o = object();
    const auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    return JsonCursor(*it, *file_, ptr_ / key);
  }
  JsonCursor at(std::size_t i) const {
    const json& a = array();
    if (i >= a.size()) fail("expected at least " + std::to_string(i + 1) + " elements");
    return JsonCursor(a.at(i), *file_, ptr_ / i);
  }
  std::size_t size() const { return v_->is_object() ? object().size() : array().size(); }

  /// Rejects members not in `allowed` (typos must not pass silently): throws at the first
  /// unknown member's own pointer, suggesting the nearest name.
  void reject_unknown(std::initializer_list<const char*> allowed) const {
    reject_unknown(std::vector<std::string>(allowed.begin(), allowed.end()));
  }
  void reject_unknown(const std::vector<std::string>& allowed) const {
    for_each_unknown(allowed, [](const input_error& e, const std::string&) { throw e; });
  }
  /// Calls report(error, suggestion) for every member not in `allowed`, in document order, each
  /// error at the member's own pointer ("/meta/autors"), so that a caller collecting errors can
  /// list them all; `suggestion` is the allowed name it suggests ("authors"), or empty.
  template <class Report>
  void for_each_unknown(const std::vector<std::string>& allowed, Report&& report) const {
    for (const auto& [key, _] : object().items()) {
      bool ok = false;
      std::string best;
      std::size_t best_d = 3;  // suggest only near misses
      for (const std::string& a : allowed) {
        if (key == a) ok = true;
        const std::size_t d = edit_distance(key, a);
        if (d < best_d) best_d = d, best = a;
      }
      if (!ok)
        report(
            input_error(*file_, (ptr_ / key).to_string(),
                        "unknown field \"" + key + "\"" +
                            (best.empty() ? std::string() : " (did you mean \"" + best + "\"?)")),
            best);
    }
  }
  /// Fails if both or (when required) neither of two alternative members are present.
  void one_of(const char* a, const char* b, bool required = true) const {
    const bool ha = has(a), hb = has(b);
    if (ha && hb) fail(std::string("expected either \"") + a + "\" or \"" + b + "\", got both");
    if (required && !ha && !hb)
      fail(std::string("missing required field: expected \"") + a + "\" or \"" + b + "\"");
  }

  double number() const {
    if (!v_->is_number()) expected("a number");
    return v_->get<double>();
  }
  /// A number in [lo, hi]; `what` names the expectation, e.g. "a probability in [0, 1]".
  double number_in(double lo, double hi, const std::string& what) const {
    const double x = number();
    if (!(x >= lo && x <= hi)) expected(what);
    return x;
  }
  double probability() const { return number_in(0, 1, "a probability in [0, 1]"); }
  double non_negative(const std::string& what = "a number >= 0") const {
    return number_in(0, INFINITY, what);
  }
  int integer() const {
    if (!v_->is_number_integer()) expected("an integer");
    const auto x = v_->get<long long>();
    if (x < -1000000000LL || x > 1000000000LL) expected("an integer of at most 9 digits");
    return int(x);
  }
  bool boolean() const {
    if (!v_->is_boolean()) expected("true or false");
    return v_->get<bool>();
  }
  std::string string() const {
    if (!v_->is_string()) expected("a string");
    return v_->get<std::string>();
  }
  /// One of `choices`; the message lists them.
  std::string choice(std::initializer_list<const char*> choices) const {
    std::string list;
    for (const char* c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
    if (!v_->is_string()) expected("one of " + list);
    const std::string s = v_->get<std::string>();
    for (const char* c : choices)
      if (s == c) return s;
    expected("one of " + list);
  }

  /// An array of exactly n numbers, each in [lo, hi] (an error points at the element).
  Eigen::ArrayXd numbers(Eigen::Index n, double lo = -INFINITY, double hi = INFINITY,
                         const std::string& what = "a number") const {
    const json& a = array();
    if (n >= 0 && Eigen::Index(a.size()) != n)
      fail("expected an array of " + std::to_string(n) + " numbers (one per age cell), got " +
           std::to_string(a.size()));
    Eigen::ArrayXd out(Eigen::Index(a.size()));
    for (std::size_t i = 0; i < a.size(); ++i) out[Eigen::Index(i)] = at(i).number_in(lo, hi, what);
    return out;
  }

 private:
  const json* v_;
  const std::string* file_;
  json::json_pointer ptr_;
};

}  // namespace steppe::detail
