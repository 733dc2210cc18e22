// SPDX-License-Identifier: MIT
// Fertility schedules from a TFR and an age pattern; the reference patterns CSV reader.
#include "steppe/fertility.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "steppe/data_dir.hpp"
#include "steppe/error.hpp"

namespace steppe {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// Splits one CSV line; fields may be double-quoted (commas inside quotes, "" escapes a quote).
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::filesystem::path reference_patterns_file() {
  return data_dir() / "reference" / "fert_age_patterns_percent.csv";
}

}  // namespace

Eigen::ArrayXd asfr_from_tfr(double tfr, const Eigen::ArrayXd& pattern_share, const AgeAxis& axis) {
  const char* fn = "asfr_from_tfr";
  if (!std::isfinite(tfr) || tfr < 0)
    throw domain_error(std::string(fn) + ": tfr: expected a finite number >= 0, got " + num(tfr));
  if (pattern_share.size() != axis.count)
    throw domain_error(std::string(fn) + ": pattern_share: expected " + std::to_string(axis.count) +
                       " age cells, got " + std::to_string(pattern_share.size()));
  for (Eigen::Index x = 0; x < pattern_share.size(); ++x)
    if (!std::isfinite(pattern_share[x]) || pattern_share[x] < 0)
      throw domain_error(std::string(fn) + ": pattern_share[" + std::to_string(x) +
                         "]: expected a finite proportion >= 0, got " + num(pattern_share[x]));
  if (pattern_share[0] != 0)
    throw domain_error(std::string(fn) + ": pattern_share[0]: expected 0 (no births to women in " +
                       "the first age cell), got " + num(pattern_share[0]));
  const double sum = pattern_share.sum();
  if (std::abs(sum - 1.0) > 1e-6)
    throw domain_error(std::string(fn) + ": pattern_share: expected proportions summing to 1 " +
                       "(within 1e-6), got a sum of " + num(sum));
  return pattern_share * (tfr / axis.width);
}

double tfr_of(const Eigen::ArrayXd& asfr, const AgeAxis& axis) {
  if (asfr.size() != axis.count)
    throw domain_error("tfr_of: asfr: expected " + std::to_string(axis.count) + " age cells, got " +
                       std::to_string(asfr.size()));
  return axis.width * asfr.sum();
}

Eigen::ArrayXd pattern_on_axis(const FertilityPattern& pattern, const AgeAxis& axis) {
  const std::string fn = "pattern_on_axis(\"" + pattern.name + "\")";
  if (pattern.lower.size() != pattern.share.size() || pattern.lower.empty())
    throw domain_error(fn + ": expected as many shares as age groups (and at least one), got " +
                       std::to_string(pattern.share.size()) + " shares for " +
                       std::to_string(pattern.lower.size()) + " groups");
  Eigen::ArrayXd out = Eigen::ArrayXd::Zero(axis.count);
  double sum = 0;
  for (std::size_t i = 0; i < pattern.lower.size(); ++i) {
    const int a = pattern.lower[i];
    const double s = pattern.share[i];
    if (a < 0 || a % 5 != 0)
      throw domain_error(fn + ": lower age of group " + std::to_string(i) +
                         ": expected a non-negative multiple of 5, got " + std::to_string(a));
    if (!std::isfinite(s) || s < 0)
      throw domain_error(fn + ": share of group " + std::to_string(a) + "-" +
                         std::to_string(a + 4) + ": expected a finite proportion >= 0, got " +
                         num(s));
    sum += s;
    // Each of the 5 single years [a, a+5) gets share/5 (width 1); width 5 takes it whole.
    for (int y = a; y < a + 5; y += axis.width) {
      const int cell = std::min(y / axis.width, axis.count - 1);
      if (cell == 0 && s > 0)
        throw domain_error(fn + ": group " + std::to_string(a) + "-" + std::to_string(a + 4) +
                           " falls in age cell 0, where fertility must be 0");
      out[cell] += s * axis.width / 5.0;
    }
  }
  if (std::abs(sum - 1.0) > 1e-6)
    throw domain_error(fn + ": expected shares summing to 1 (within 1e-6), got " + num(sum));
  return out;
}

std::vector<FertilityPattern> load_fertility_patterns(const std::filesystem::path& csv) {
  const std::string file = csv.string();
  std::ifstream in(csv);
  if (!in) throw input_error(file, "", "cannot open the fertility patterns file");
  std::string line;
  if (!std::getline(in, line)) throw input_error(file, "", "empty file");
  const auto header = split_csv_line(line);
  auto column = [&](const std::string& name) -> std::size_t {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw input_error(file, "/row/0", "expected a column \"" + name + "\"");
  };
  const std::size_t c_name = column("pattern"), c_age = column("age"),
                    c_pct = column("pct_of_total");
  std::vector<FertilityPattern> out;
  for (int row = 1; std::getline(in, line); ++row) {
    if (line.empty() || line == "\r") continue;
    const auto f = split_csv_line(line);
    const std::string where = "/row/" + std::to_string(row) + "/";
    auto number = [&](std::size_t c, const std::string& col) {
      if (c >= f.size()) throw input_error(file, where + col, "missing value");
      try {
        std::size_t used = 0;
        const double v = std::stod(f[c], &used);
        if (used != f[c].size()) throw std::invalid_argument("trailing");
        return v;
      } catch (const std::exception&) {
        throw input_error(file, where + col, "expected a number, got \"" + f[c] + "\"");
      }
    };
    if (c_name >= f.size() || f[c_name].empty())
      throw input_error(file, where + "pattern", "expected a pattern name");
    const double age = number(c_age, "age"), pct = number(c_pct, "pct_of_total");
    if (age != std::floor(age) || age < 0 || int(age) % 5 != 0)
      throw input_error(file, where + "age", "expected a multiple of 5, got " + f[c_age]);
    if (!(pct >= 0))
      throw input_error(file, where + "pct_of_total",
                        "expected a percentage >= 0, got " + f[c_pct]);
    if (out.empty() || out.back().name != f[c_name]) out.push_back({f[c_name], {}, {}});
    out.back().lower.push_back(int(age));
    out.back().share.push_back(pct);
  }
  for (auto& p : out) {
    double sum = 0;
    for (double s : p.share) sum += s;
    if (!(sum > 0)) throw input_error(file, "", "pattern \"" + p.name + "\" sums to 0");
    for (double& s : p.share) s /= sum;  // percentages rounded to 4 decimals: renormalise
  }
  return out;
}

std::vector<std::string> fertility_pattern_names() {
  std::vector<std::string> names;
  for (const auto& p : load_fertility_patterns(reference_patterns_file())) names.push_back(p.name);
  return names;
}

Eigen::ArrayXd fertility_pattern(const std::string& name, const AgeAxis& axis) {
  const auto patterns = load_fertility_patterns(reference_patterns_file());
  std::string known;
  for (const auto& p : patterns) {
    if (p.name == name) return pattern_on_axis(p, axis);
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw domain_error("fertility_pattern: name: expected one of " + known + ", got \"" + name +
                     "\"");
}

}  // namespace steppe
