// SPDX-License-Identifier: MIT
// Private: the small text conventions every writer shares — shortest round-trip numbers, CSV
// fields, JSON pointer tokens, thousands separators and persons rounded to thousands.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>
#include <ostream>
#include <string>
#include <string_view>

#include "steppe/error.hpp"

namespace steppe::detail {

/// @throws error "<what>: write failed" if the stream failed.
inline void check_stream(const std::ostream& out, const char* what) {
  if (!out) throw error(std::string(what) + ": write failed");
}

/// Shortest decimal that reads back to the same double (std::to_chars, no locale); in fixed
/// notation for the magnitudes of persons and rates (1000000, not 1e+06), else the shortest.
inline std::string shortest_number(double v) {
  char buf[64];
  const double a = std::abs(v);
  const auto r = (a == 0 || (a >= 1e-5 && a < 1e16))
                     ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                     : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// A CSV field, quoted (RFC 4180) only when it must be.
inline std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

/// A reference token escaped for a JSON pointer (RFC 6901: "~" → "~0", "/" → "~1").
inline std::string pointer_token(std::string_view token) {
  std::string e;
  for (char c : token) e += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return e;
}

/// "1,234,567"
inline std::string with_separators(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

/// "1,234,000": persons rounded to thousands, with thousands separators ("-12,000" below 0).
inline std::string persons_thousands(double x) {
  if (!std::isfinite(x)) return shortest_number(x);
  const long long thousands = std::llround(x / 1000.0);
  if (thousands == 0) return "0";
  const std::string s = with_separators(std::uint64_t(thousands < 0 ? -thousands : thousands)) + ",000";
  return thousands < 0 ? "-" + s : s;
}

/// A number with a printf format, "%.4g" by default: "97.5", "95", "0.5" for percentages.
inline std::string formatted(double x, const char* format = "%.4g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

/// Which quantiles a table shows: the median (else the mean) and the outermost levels, and the
/// range's name: "95 % range" (symmetric levels) or "10 %–90 % range". Without `with_range`
/// (one draw) only the median.
struct ShownLevels {
  int median = -1, lo = -1, hi = -1;  ///< indices into the levels, −1 = none
  std::string range;
};

inline ShownLevels shown_levels(const std::vector<double>& q, bool with_range = true) {
  constexpr double tolerance = 1e-9;
  ShownLevels t;
  for (std::size_t k = 0; k < q.size(); ++k)
    if (std::abs(q[k] - 0.5) < tolerance) t.median = int(k);
  if (with_range && q.size() >= 2 && q.front() < q.back()) {
    t.lo = 0;
    t.hi = int(q.size()) - 1;
    if (std::abs(q.front() + q.back() - 1) < tolerance)
      t.range = formatted(100 * (q.back() - q.front())) + " % range";
    else
      t.range = formatted(100 * q.front()) + " %–" + formatted(100 * q.back()) + " % range";
  }
  return t;
}

}  // namespace steppe::detail
