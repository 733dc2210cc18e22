// SPDX-License-Identifier: MIT
// Reads and validates a scenario file (scenarios/README.md) into Scenario::Impl. Every error is
// collected with the file that wrote the field (across "extends" and --set) and its JSON pointer,
// so `steppe validate` can list them all.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "io/extends.hpp"
#include "io/json_cursor.hpp"
#include "scenario_impl.hpp"
#include "steppe/fertility.hpp"
#include "steppe/migration.hpp"
#include "steppe/rng.hpp"

namespace steppe {

namespace {

std::string join_errors(const std::vector<input_error>& errors) {
  std::string s;
  for (const input_error& e : errors) {
    if (!s.empty()) s.push_back('\n');
    s.append(e.what());
  }
  return s;
}

}  // namespace

scenario_errors::scenario_errors(std::vector<input_error> errors)
    : input_error(errors.empty() ? std::string() : errors.front().file(),
                  errors.empty() ? std::string() : errors.front().pointer(),
                  errors.size() <= 1 ? (errors.empty() ? std::string("invalid scenario")
                                                       : errors.front().reason())
                                     : errors.front().reason() + " (and " +
                                           std::to_string(errors.size() - 1) + " more errors)"),
      errors_(std::move(errors)) {
  what_ = join_errors(errors_);
}

const char* scenario_errors::what() const noexcept { return what_.c_str(); }

}  // namespace steppe

namespace steppe::detail {
namespace {

constexpr double kInf = INFINITY;

/// "1926-12-17" → 1926.958…: year + (day of year − 1) / days in year. A number is taken as is.
double decimal_year(const JsonCursor& c) {
  if (c.is_number()) return c.number_in(1000, 3000, "a year between 1000 and 3000");
  const std::string s = c.is_string() ? c.string() : (c.expected("a date \"YYYY-MM-DD\" or a decimal year"), "");
  bool digits = s.size() == 10 && s[4] == '-' && s[7] == '-';
  for (std::size_t i = 0; digits && i < s.size(); ++i)
    if (i != 4 && i != 7) digits = s[i] >= '0' && s[i] <= '9';
  if (!digits) c.expected("a date \"YYYY-MM-DD\"");
  const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)), d = std::stoi(s.substr(8, 2));
  if (y < 1000) c.expected("a date \"YYYY-MM-DD\" with a year between 1000 and 3000");
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && leap))
    c.expected("a valid calendar date \"YYYY-MM-DD\"");
  int doy = d;
  for (int k = 0; k < m - 1; ++k) doy += days[k] + (k == 1 && leap);
  return y + (doy - 1) / (leap ? 366.0 : 365.0);
}

/// The domain of a field: values must lie in [lo, hi]; `what` says so in words.
struct Domain {
  double lo, hi;
  const char* what;
};
constexpr Domain kPersons{0, kInf, "a number of persons >= 0"};
constexpr Domain kProbability{0, 1, "a probability in [0, 1]"};
constexpr Domain kNonNegative{0, kInf, "a number >= 0"};

class Parser {
 public:
  Parser(const ResolvedJson& doc, const std::string& root_file, Scenario::Impl& out)
      : doc_(doc), root_(root_file), out_(out) {}

  std::vector<input_error> errors;

  /// Runs f, collecting an input error (with the file that wrote the pointer) instead of stopping.
  template <class F>
  void guard(F&& f) {
    try {
      f();
    } catch (const scenario_errors& e) {
      for (const input_error& x : e.errors()) errors.push_back(x);
    } catch (const input_error& e) {
      add(e.pointer(), e.reason(), e.file());
    }
  }

  void add(const std::string& pointer, const std::string& reason, const std::string& file = "") {
    if (said_already(pointer, reason)) return;
    const std::string& origin = doc_.file_of(pointer);
    errors.emplace_back(file.empty() || file == root_ ? (origin.empty() ? root_ : origin) : file,
                        pointer, reason);
  }

  void parse();

 private:
  /// Records an error for every member of the object c that is not in `allowed` (at the
  /// member's pointer, so with the file that wrote it) and goes on: the known members are still
  /// read, so that their errors are listed too. @throws input_error if c is not an object.
  void known(const JsonCursor& c, std::initializer_list<const char*> allowed) {
    known(c, std::vector<std::string>(allowed.begin(), allowed.end()));
  }
  void known(const JsonCursor& c, const std::vector<std::string>& allowed) {
    c.for_each_unknown(allowed, [&](const input_error& e, const std::string& suggestion) {
      add(e.pointer(), e.reason(), e.file());
      // A typo of a field the object lacks: its "missing required field" would say the same
      // again. (A field the object has is not missing: the typo is an extra key.)
      if (!suggestion.empty() && !c.has(suggestion)) {
        suggested_[(json::json_pointer(c.pointer()) / suggestion).to_string()].names.insert(suggestion);
        Suggested& o = suggested_[c.pointer()];  // (expected exactly one of "a" or "b")
        o.names.insert(suggestion);
        for (const auto& [key, _] : c.object().items()) o.present.insert(key);
      }
    });
  }
  /// By the pointer of a field an unknown key's "did you mean" named, and of its object: the
  /// names suggested (absent from the object) and, for the object, the keys it has.
  struct Suggested {
    std::set<std::string> names, present;
  };
  std::map<std::string, Suggested> suggested_;
  /// Whether `reason` at `pointer` only repeats a typo's "did you mean": a "missing required
  /// field" or "expected exactly one of" that names a suggested field and no field the object has
  /// (with one of them there, the error is about something else, e.g. both alternatives given).
  bool said_already(const std::string& pointer, const std::string& reason) const {
    if (reason.rfind("missing required field", 0) != 0 &&
        reason.rfind("expected exactly one of", 0) != 0)
      return false;
    const auto it = suggested_.find(pointer);
    if (it == suggested_.end()) return false;
    auto quoted = [&reason](const std::string& name) {
      return reason.find("\"" + name + "\"") != std::string::npos;
    };
    if (std::none_of(it->second.names.begin(), it->second.names.end(), quoted)) return false;
    return std::none_of(it->second.present.begin(), it->second.present.end(), quoted);
  }

  JsonCursor root() const { return JsonCursor(doc_.doc, root_); }
  /// The file that wrote the value at c; for an object (a distribution), the last file that
  /// wrote anything inside it.
  std::string file_of(const JsonCursor& c) const {
    const std::string p = c.pointer();
    const std::string* f = &doc_.file_of(p);
    if (c.is_object())
      if (const auto it = doc_.touched.find(p); it != doc_.touched.end()) f = &it->second;
    return f->empty() ? root_ : *f;
  }

  // ---- numbers and distributions ----
  int constant(double x, const JsonCursor& c) {
    Parameter p;
    p.pointer = c.pointer();
    p.file = file_of(c);
    p.distribution = Distribution::constant(x);
    p.stream = stream_id(p.pointer);
    out_.parameters.push_back(std::move(p));
    return int(out_.parameters.size()) - 1;
  }
  Distribution distribution(const JsonCursor& c);
  int value(const JsonCursor& c, const Domain& d);
  Series series(const JsonCursor& c, const Domain& d);
  BySexSeries by_sex_series(const JsonCursor& c, const Domain& d);
  std::array<int, 2> by_sex_value(const JsonCursor& c, const Domain& d);
  bool is_distribution(const JsonCursor& c) const;

  // ---- age arrays (never uncertain) ----
  /// The lower bounds of a step function's age bands ("ages": from 0, increasing).
  std::vector<double> band_ages(const JsonCursor& ages) const;
  /// For each age cell of the model, the band of each of its single years (cell_mean's layout).
  Eigen::ArrayXXi band_of_year(const std::vector<double>& band_ages) const;
  Eigen::ArrayXd step_function(const JsonCursor& ages, const JsonCursor& values, double lo,
                               const char* what) const;
  Eigen::ArrayXXd age_sex_pattern(const JsonCursor& c, bool normalise_mean) const;
  /// The relative-risk schedule at c into s (relative_risk, or uncertain_risk if some value is a
  /// distribution).
  void relative_risk(const JsonCursor& c, ShockSpec& s);
  Eigen::ArrayXXd age_structure_file(const JsonCursor& c) const;

  // ---- sections ----
  void meta(const JsonCursor& c);
  void projection(const JsonCursor& c);
  void distributions(const JsonCursor& c);
  void group(const JsonCursor& c, GroupSpec& g);
  void initial(const JsonCursor& c, InitialSpec& s);
  void mortality(const JsonCursor& c, MortalitySpec& m);
  void fertility(const JsonCursor& c, FertilitySpec& f);
  FlowSpec flow(const JsonCursor& c, bool is_signed, bool allow_rate, bool allow_count,
                const char* rate_key, const char* count_key);
  void crisis(const JsonCursor& c);
  /// The index of group `name` (a member key at `g`), or −1 after recording the error (the
  /// expected names listed).
  int group_key(const JsonCursor& g, const std::string& name);
  void crisis_direct(const JsonCursor& g, CrisisSpec& cs);
  ShockSpec shock(const JsonCursor& c);
  // ---- "crisis": {"model": "food_balance", …} ----
  void food_balance(const JsonCursor& c);
  void food_drivers(const JsonCursor& c, FoodBalanceSpec& f);
  void food_parameters(const JsonCursor& c, FoodBalanceSpec& f);
  void food_group(const JsonCursor& c, FoodBalanceSpec::Group& fg, CrisisSpec& cs);
  FoodBalanceSpec::BySpeciesSeries by_species_series(const JsonCursor& c, const Domain& d);
  std::array<int, 3> deficit_response(const JsonCursor& c, const Domain& maximum,
                                      std::vector<std::string> extra);
  void targets(const JsonCursor& c);
  void outputs(const JsonCursor& c);
  void published(const JsonCursor& c);

  const ResolvedJson& doc_;
  std::string root_;
  Scenario::Impl& out_;
  std::map<std::string, int> shared_;           // name → parameter
  std::map<std::string, Distribution> shared_dist_;
  bool dims_ok_ = false;
};

bool Parser::is_distribution(const JsonCursor& c) const {
  if (!c.is_object()) return false;
  for (const char* k : {"uniform", "normal", "lognormal", "triangular", "beta", "choice", "shared"})
    if (c.has(k)) return true;
  return false;
}

Distribution Parser::distribution(const JsonCursor& c) {
  static const std::vector<std::string> kinds{"uniform", "normal",  "lognormal", "triangular",
                                              "beta",    "choice",  "truncate"};
  c.reject_unknown(kinds);  // (a typo in the kind would leave no kind: one error, not two)
  std::string kind;
  for (std::size_t k = 0; k + 1 < kinds.size(); ++k)
    if (c.has(kinds[k])) {
      if (!kind.empty())
        c.fail("expected one distribution, got both \"" + kind + "\" and \"" + kinds[k] + "\"");
      kind = kinds[k];
    }
  if (kind.empty()) c.expected("a distribution (uniform, normal, lognormal, triangular, beta, choice)");
  const JsonCursor a = c.at(kind);
  auto num = [](const JsonCursor& x) { return x.number(); };
  auto fixed_array = [&](std::size_t n, const char* form) {
    if (!a.is_array() || a.size() != n) a.expected(form);
    std::vector<double> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back(num(a.at(i)));
    return v;
  };
  Distribution d = Distribution::constant(0);
  try {
    if (kind == "uniform") {
      const auto v = fixed_array(2, "[lo, hi]");
      if (!(v[0] < v[1])) a.expected("[lo, hi] with lo < hi");
      d = Distribution::uniform(v[0], v[1]);
    } else if (kind == "triangular") {
      const auto v = fixed_array(3, "[lo, mode, hi]");
      if (!(v[0] <= v[1] && v[1] <= v[2] && v[0] < v[2]))
        a.expected("[lo, mode, hi] with lo <= mode <= hi and lo < hi");
      d = Distribution::triangular(v[0], v[1], v[2]);
    } else if (kind == "normal") {
      known(a, {"mean", "sd"});
      const double sd = a.at("sd").number_in(1e-300, kInf, "a standard deviation > 0");
      d = Distribution::normal(a.at("mean").number(), sd);
    } else if (kind == "lognormal") {
      known(a, {"meanlog", "sdlog"});
      const double sd = a.at("sdlog").number_in(1e-300, kInf, "a standard deviation > 0");
      d = Distribution::lognormal(a.at("meanlog").number(), sd);
    } else if (kind == "beta") {
      known(a, {"alpha", "beta", "lo", "hi"});
      const double al = a.at("alpha").number_in(1e-300, kInf, "a shape > 0");
      const double be = a.at("beta").number_in(1e-300, kInf, "a shape > 0");
      const double lo = a.has("lo") ? a.at("lo").number() : 0.0;
      const double hi = a.has("hi") ? a.at("hi").number() : 1.0;
      if (!(lo < hi)) a.fail("expected \"lo\" < \"hi\"");
      d = Distribution::beta(al, be, lo, hi);
    } else {  // choice
      std::vector<double> values, weights;
      if (a.is_array()) {
        for (std::size_t i = 0; i < a.size(); ++i) values.push_back(num(a.at(i)));
      } else if (a.is_object()) {
        known(a, {"values", "weights"});
        const JsonCursor v = a.at("values");
        for (std::size_t i = 0; i < v.array().size(); ++i) values.push_back(num(v.at(i)));
        if (const auto w = a.find("weights")) {
          if (w->array().size() != values.size())
            w->expected("an array of " + std::to_string(values.size()) + " weights (one per value)");
          for (std::size_t i = 0; i < values.size(); ++i)
            weights.push_back(w->at(i).non_negative("a weight >= 0"));
        }
      } else {
        a.expected("an array of values or {\"values\", \"weights\"}");
      }
      if (values.empty()) a.expected("at least one value");
      d = Distribution::choice(values, weights);
    }
    if (const auto t = c.find("truncate")) {
      if (!t->is_array() || t->size() != 2) t->expected("[lo, hi]");
      const double lo = t->at(0).number(), hi = t->at(1).number();
      if (!(lo < hi)) t->expected("[lo, hi] with lo < hi");
      d = d.truncated(lo, hi);
    }
  } catch (const domain_error& e) {
    c.fail(e.what());
  }
  return d;
}

std::string format_number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

int Parser::value(const JsonCursor& c, const Domain& d) {
  if (c.is_number()) return constant(c.number_in(d.lo, d.hi, d.what), c);
  if (!c.is_object()) c.expected(std::string(d.what) + " or a distribution");
  if (const auto s = c.find("shared")) {
    known(c, {"shared"});
    const std::string name = s->string();
    const auto it = shared_.find(name);
    if (it == shared_.end()) s->fail("no distribution named \"" + name + "\" in /distributions");
    const Distribution& dist = shared_dist_.at(name);
    if (dist.lower() < d.lo || dist.upper() > d.hi)
      s->fail("expected a distribution within [" + format_number(d.lo) + ", " +
              format_number(d.hi) + "] (" + d.what + "), got \"" + name + "\" = " +
              dist.describe() + "; add \"truncate\" to it");
    return it->second;
  }
  const Distribution dist = distribution(c);
  if (dist.lower() < d.lo || dist.upper() > d.hi)
    c.fail("expected a distribution within [" + format_number(d.lo) + ", " + format_number(d.hi) +
           "] (" + d.what + "), got " + dist.describe() + "; add \"truncate\": [lo, hi]");
  Parameter p;
  p.pointer = c.pointer();
  p.file = file_of(c);
  p.distribution = dist;
  p.stream = stream_id(p.pointer);
  out_.parameters.push_back(std::move(p));
  return int(out_.parameters.size()) - 1;
}

/// A year key: "1932" (an integer year; the value applies at mid-year, 1932.5).
std::optional<double> year_key(const std::string& key) {
  if (key.size() != 4 || key.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoi(key) + 0.5;
}

Series Parser::series(const JsonCursor& c, const Domain& d) {
  Series s;
  s.pointer = c.pointer();
  s.file = file_of(c);
  if (c.is_number() || is_distribution(c)) {
    s.years.push_back(0.0);
    s.values.push_back(value(c, d));
    return s;
  }
  if (!c.is_object())
    c.expected(std::string(d.what) +
               ", a distribution, or a time series {\"1930\": value, …} or {\"values\": {…}, \"scale\": …}");
  const bool scaled = c.has("values");
  const JsonCursor points = scaled ? c.at("values") : c;
  if (scaled) {
    known(c, {"values", "scale"});
    if (const auto sc = c.find("scale")) s.scale = value(*sc, kNonNegative);
  }
  if (!points.is_object() || points.size() == 0)
    points.expected("a time series: an object of years {\"1930\": value, …}");
  std::vector<std::pair<double, int>> pts;
  for (const auto& [key, _] : points.object().items()) {
    const auto year = year_key(key);
    const JsonCursor v = points.at(key);
    if (!year) {
      std::string best;
      std::size_t best_d = 3;
      for (const char* k : {"uniform", "normal", "lognormal", "triangular", "beta", "choice",
                            "truncate", "shared", "values", "scale"})
        if (const std::size_t dist = edit_distance(key, k); dist < best_d) best_d = dist, best = k;
      if (key == "value") best = "values";
      v.fail("expected a year (four digits, e.g. \"1932\") as the key of a time series point, got \"" +
             key + "\"" + (best.empty() ? std::string() : " (did you mean \"" + best + "\"?)"));
    }
    pts.emplace_back(*year, value(v, d));
  }
  std::sort(pts.begin(), pts.end());  // keys are already in order (std::map), kept for clarity
  for (const auto& [y, p] : pts) s.years.push_back(y), s.values.push_back(p);
  return s;
}

BySexSeries Parser::by_sex_series(const JsonCursor& c, const Domain& d) {
  if (c.is_object() && (c.has("female") || c.has("male"))) {
    known(c, {"female", "male"});
    return {series(c.at("female"), d), series(c.at("male"), d)};
  }
  const Series s = series(c, d);
  return {s, s};
}

std::array<int, 2> Parser::by_sex_value(const JsonCursor& c, const Domain& d) {
  if (c.is_object() && (c.has("female") || c.has("male"))) {
    known(c, {"female", "male"});
    return {value(c.at("female"), d), value(c.at("male"), d)};
  }
  const int v = value(c, d);
  return {v, v};
}

/// A step function of age given at lower bounds `ages` (increasing, starting at 0), averaged over
/// the single years of each cell of the model's age axis (the open cell: its lower bound).
std::vector<double> Parser::band_ages(const JsonCursor& ages) const {
  const std::size_t n = ages.array().size();
  if (n == 0) ages.expected("an array of age lower bounds starting at 0");
  std::vector<double> a(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = ages.at(i).number_in(0, 200, "an age in years");
    if (i == 0 && a[0] != 0) ages.at(0).expected("0 (the first age group starts at birth)");
    if (i > 0 && !(a[i] > a[i - 1])) ages.at(i).expected("an age above the previous one");
  }
  return a;
}

Eigen::ArrayXXi Parser::band_of_year(const std::vector<double>& a) const {
  const AgeAxis& axis = out_.dims.ages();
  auto band_at = [&](double x) {
    std::size_t k = 0;
    while (k + 1 < a.size() && a[k + 1] <= x) ++k;
    return int(k);
  };
  Eigen::ArrayXXi b = Eigen::ArrayXXi::Zero(axis.count, axis.width);
  for (int cell = 0; cell < axis.count; ++cell)
    for (int y = 0; y < (cell == axis.count - 1 ? 1 : axis.width); ++y)
      b(cell, y) = band_at(axis.lower(cell) + y);
  return b;
}

Eigen::ArrayXd Parser::step_function(const JsonCursor& ages, const JsonCursor& values, double lo,
                                     const char* what) const {
  const std::vector<double> a = band_ages(ages);
  const std::size_t n = a.size();
  if (values.array().size() != n)
    values.expected("an array of " + std::to_string(n) + " values (one per age in \"ages\")");
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = values.at(i).number_in(lo, kInf, what);
  const Eigen::ArrayXXi bands = band_of_year(a);
  Eigen::ArrayXd out(bands.rows());
  for (Eigen::Index cell = 0; cell < bands.rows(); ++cell)
    out[cell] = detail::cell_mean(bands, cell, [&](int band) { return v[std::size_t(band)]; });
  return out;
}

/// "uniform", "rogers_castro", or {"ages": [...], "female": [...], "male": [...]} weights.
/// normalise_mean: relative rates with mean 1 over the cells of each sex (for rates); else shares
/// summing to 1 per sex (for counts).
Eigen::ArrayXXd Parser::age_sex_pattern(const JsonCursor& c, bool normalise_mean) const {
  const AgeAxis& axis = out_.dims.ages();
  Eigen::ArrayXXd w(axis.count, 2);
  if (c.is_string()) {
    const std::string name = c.choice({"uniform", "rogers_castro"});
    const Eigen::ArrayXd shape = name == "uniform" ? uniform_shape(axis) : rogers_castro_shape(axis);
    w.col(0) = shape;
    w.col(1) = shape;
  } else {
    if (!c.is_object()) c.expected("\"uniform\", \"rogers_castro\" or {\"ages\", \"female\", \"male\"}");
    c.reject_unknown({"ages", "female", "male"});
    for (int s = 0; s < 2; ++s)
      w.col(s) = step_function(c.at("ages"), c.at(s == 0 ? "female" : "male"), 0, "a weight >= 0");
  }
  for (int s = 0; s < 2; ++s) {
    const double sum = w.col(s).sum();
    if (!(sum > 0)) c.fail("expected an age pattern with some weight, got all zeros");
    w.col(s) *= normalise_mean ? axis.count / sum : 1.0 / sum;
  }
  return w;
}

void Parser::relative_risk(const JsonCursor& c, ShockSpec& s) {
  constexpr Domain kRisk{0, kInf, "a relative risk >= 0"};
  const AgeAxis& axis = out_.dims.ages();
  const int n = out_.dims.n_ages();
  if (c.is_number()) {
    s.relative_risk = Eigen::ArrayXXd::Constant(n, 2, c.non_negative("a relative risk >= 0"));
    return;
  }
  if (is_distribution(c)) {  // one uncertain relative risk for every age and both sexes
    const int p = value(c, kRisk);
    s.uncertain_risk = ShockSpec::UncertainRisk{
        {std::vector<int>{p}, std::vector<int>{p}}, Eigen::ArrayXXi::Zero(n, axis.width), true};
    return;
  }
  if (!c.is_object())
    c.expected("a relative risk >= 0, a distribution or {\"ages\", \"female\", \"male\"}");
  c.reject_unknown({"ages", "female", "male"});
  bool uncertain = false;
  for (const char* sex : {"female", "male"})
    if (const auto v = c.find(sex); v && v->is_array())
      for (std::size_t i = 0; i < v->size(); ++i) uncertain = uncertain || v->at(i).is_object();
  if (!uncertain) {  // numbers only: the schedule itself
    s.relative_risk.resize(n, 2);
    for (int sex = 0; sex < 2; ++sex)
      s.relative_risk.col(sex) = step_function(c.at("ages"), c.at(sex == 0 ? "female" : "male"), 0,
                                               "a relative risk >= 0");
    return;
  }
  // Some value is a distribution: every value becomes a parameter (the numbers constant ones),
  // and each age cell's years are mapped to their bands as step_function averages them.
  const std::vector<double> ages = band_ages(c.at("ages"));
  const std::size_t bands = ages.size();
  ShockSpec::UncertainRisk u;
  for (int sex = 0; sex < 2; ++sex) {
    const JsonCursor values = c.at(sex == 0 ? "female" : "male");
    if (values.array().size() != bands)
      values.expected("an array of " + std::to_string(bands) + " values (one per age in \"ages\")");
    for (std::size_t i = 0; i < bands; ++i) {  // (each entry's error listed; -1 if it has one)
      int p = -1;
      guard([&] { p = value(values.at(i), kRisk); });
      u.parameters[std::size_t(sex)].push_back(p);
    }
  }
  u.band_of_year = band_of_year(ages);
  s.uncertain_risk = std::move(u);
}

/// A CSV file "age,female,male" (ages = lower bounds of single years, the last row open), path
/// relative to the file that wrote it; summed onto the model's age axis.
Eigen::ArrayXXd Parser::age_structure_file(const JsonCursor& c) const {
  const std::string rel = c.string();
  const std::filesystem::path base = std::filesystem::path(file_of(c)).parent_path();
  const std::filesystem::path path = base / rel;
  std::ifstream in(path);
  if (!in) c.fail("cannot open the age-structure file \"" + path.string() + "\"");
  const std::string file = path.string();
  std::string line;
  std::getline(in, line);
  if (line.rfind("age,female,male", 0) != 0)
    throw input_error(file, "/row/0", "expected the header \"age,female,male\", got \"" + line + "\"");
  std::vector<std::array<double, 3>> rows;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::array<double, 3> r{};
    std::istringstream ls(line);
    std::string cell;
    for (int k = 0; k < 3; ++k) {
      if (!std::getline(ls, cell, ','))
        throw input_error(file, "/row/" + std::to_string(rows.size() + 1),
                          "expected 3 columns age,female,male, got \"" + line + "\"");
      char* end = nullptr;
      r[k] = std::strtod(cell.c_str(), &end);
      if (end == cell.c_str() || !std::isfinite(r[k]) || r[k] < 0)
        throw input_error(file, "/row/" + std::to_string(rows.size() + 1) + "/" + std::to_string(k),
                          "expected a number >= 0, got \"" + cell + "\"");
    }
    if (r[0] != double(rows.size()))
      throw input_error(file, "/row/" + std::to_string(rows.size() + 1) + "/0",
                        "expected age " + std::to_string(rows.size()) + " (single years from 0)");
    rows.push_back(r);
  }
  const AgeAxis& axis = out_.dims.ages();
  if (int(rows.size()) - 1 < axis.open_age())
    c.fail("expected an age structure up to at least the model's open age " +
           std::to_string(axis.open_age()) + ", got one in \"" + path.string() +
           "\" that ends at " + std::to_string(rows.size() - 1) + "+");
  Eigen::ArrayXXd w = Eigen::ArrayXXd::Zero(axis.count, 2);
  for (std::size_t age = 0; age < rows.size(); ++age) {
    const int cell = std::min(int(age) / axis.width, axis.count - 1);
    w(cell, 0) += rows[age][1];
    w(cell, 1) += rows[age][2];
  }
  return w;
}

void Parser::meta(const JsonCursor& c) {
  known(c, {"title", "description", "authors", "sources"});
  ScenarioMeta& m = out_.meta;
  // Each field checked on its own, so that the errors of all of them are listed.
  guard([&] { m.title = c.at("title").string(); });
  if (const auto d = c.find("description")) guard([&] { m.description = d->string(); });
  if (const auto a = c.find("authors"))
    guard([&] {
      for (std::size_t i = 0; i < a->array().size(); ++i)
        guard([&] { m.authors.push_back(a->at(i).string()); });
    });
  if (const auto s = c.find("sources"))
    guard([&] {
      for (std::size_t i = 0; i < s->array().size(); ++i)
        guard([&] {
          const JsonCursor x = s->at(i);
          if (x.is_string()) {
            m.sources.push_back({"", x.string()});
            return;
          }
          known(x, {"id", "citation", "url", "note"});
          ScenarioMeta::Source src{x.has("id") ? x.at("id").string() : "",
                                   x.at("citation").string()};
          if (const auto u = x.find("url")) src.citation += " " + u->string();
          if (const auto n = x.find("note")) src.citation += " (" + n->string() + ")";
          m.sources.push_back(std::move(src));
        });
    });
}

void Parser::projection(const JsonCursor& c) {
  guard([&] {
    known(c, {"start", "end", "ages", "migration_timing", "end_migrants_bear", "on_negative"});
  });
  const double start = decimal_year(c.at("start"));
  const double end = decimal_year(c.at("end"));
  if (!(end > start)) c.at("end").expected("a date after \"start\"");
  const JsonCursor a = c.at("ages");
  known(a, {"layout", "omega", "open_age"});
  const std::string layout = a.at("layout").choice({"single_year", "five_year"});
  AgeAxis axis;
  if (layout == "single_year") {
    if (a.has("open_age")) a.at("open_age").fail("\"open_age\" is for five_year; single_year takes \"omega\"");
    const int omega = a.has("omega") ? a.at("omega").integer() : 100;
    if (omega < 50 || omega > 130) a.at("omega").expected("an open age between 50 and 130");
    axis = AgeAxis::single_year(omega);
  } else {
    if (a.has("omega")) a.at("omega").fail("\"omega\" is for single_year; five_year takes \"open_age\"");
    const int open = a.has("open_age") ? a.at("open_age").integer() : 85;
    if (open < 50 || open > 130 || open % 5) a.at("open_age").expected("a multiple of 5 between 50 and 130");
    axis = AgeAxis::five_year(open);
  }
  // Options do not shape the model: their errors are collected without stopping the parse.
  if (const auto t = c.find("migration_timing"))
    guard([&] {
      const std::string s = t->choice({"half_half", "start", "end"});
      out_.options.timing = s == "start" ? MigrationTiming::start
                            : s == "end" ? MigrationTiming::end
                                         : MigrationTiming::half_half;
    });
  if (const auto b = c.find("end_migrants_bear"))
    guard([&] { out_.options.end_migrants_bear = b->boolean(); });
  if (const auto n = c.find("on_negative"))
    guard([&] {
      out_.options.on_negative =
          n->choice({"clamp", "throw"}) == "clamp" ? OnNegative::clamp : OnNegative::throw_error;
    });
  const int width = axis.width;
  const long n_steps = std::lround((end - start) / width);
  if (n_steps < 1)
    c.at("end").expected("an end at least half a step (" + std::to_string(width) +
                         " years) after the start");
  if (n_steps > 500) c.at("end").expected("at most 500 steps");
  for (long k = 0; k < n_steps; ++k) {
    const double t0 = start + double(k) * width, t1 = t0 + width;
    out_.steps.push_back({t0, t1, int(std::floor(0.5 * (t0 + t1)))});
  }
  out_.dims = Dims(axis, {"all"});  // the groups are set once they are read
  dims_ok_ = true;
}

void Parser::distributions(const JsonCursor& c) {
  for (const auto& [name, _] : c.object().items()) {
    const JsonCursor d = c.at(name);
    guard([&] {
      if (!is_distribution(d) || d.has("shared"))
        d.expected("a distribution (uniform, normal, lognormal, triangular, beta, choice)");
      Parameter p;
      p.pointer = d.pointer();
      p.file = file_of(d);
      p.shared = name;
      p.distribution = distribution(d);
      p.stream = stream_id(p.pointer);
      shared_dist_.emplace(name, p.distribution);
      out_.parameters.push_back(std::move(p));
      shared_[name] = int(out_.parameters.size()) - 1;
    });
  }
}

void Parser::initial(const JsonCursor& c, InitialSpec& s) {
  guard([&] { known(c, {"female", "male", "undercount", "age_structure", "abroad"}); });
  guard([&] { s.totals[0] = value(c.at("female"), kPersons); });
  guard([&] { s.totals[1] = value(c.at("male"), kPersons); });
  if (const auto u = c.find("undercount"))
    guard([&] { s.undercount = by_sex_value(*u, {0, 0.9, "an undercount share in [0, 0.9]"}); });
  if (const auto a = c.find("abroad"))
    guard([&] {
      known(*a, {"female", "male"});
      s.abroad = {value(a->at("female"), kPersons), value(a->at("male"), kPersons)};
    });
  const JsonCursor a = c.at("age_structure");
  known(a, {"stable", "file", "ages", "female", "male", "stable_share"});
  const int kinds = int(a.has("file")) + int(a.has("ages"));
  if (a.has("stable_share")) {
    // A blend: stable_share × the stable shape + (1 − stable_share) × the file or step shape.
    if (!a.has("stable") || kinds != 1)
      a.fail("expected \"stable\" and exactly one of \"file\" or \"ages\" with \"stable_share\"");
  } else if (int(a.has("stable")) + kinds != 1) {
    a.fail("expected exactly one of \"stable\", \"file\" or \"ages\" (with \"female\", \"male\"), "
           "or \"stable\" and one of the others with \"stable_share\"");
  }
  s.stable = a.has("stable");
  if (const auto st = a.find("stable")) {
    known(*st, {"growth_rate"});
    s.growth_rate = value(st->at("growth_rate"), {-0.1, 0.1, "a growth rate per year in [-0.1, 0.1]"});
  }
  if (const auto f = a.find("file")) {
    s.shape = age_structure_file(*f);
  } else if (a.has("ages")) {
    s.shape.resize(out_.dims.n_ages(), 2);
    for (int x = 0; x < 2; ++x)
      s.shape.col(x) = step_function(a.at("ages"), a.at(x == 0 ? "female" : "male"), 0, "a weight >= 0");
  }
  if (const auto b = a.find("stable_share"))
    s.stable_share = value(*b, {0, 1, "a share of the stable shape in [0, 1]"});
  if (s.shape.size() > 0)
    for (int x = 0; x < 2; ++x)
      if (!(s.shape.col(x).sum() > 0)) a.fail("expected an age structure with some people, got all zeros");
}

void Parser::mortality(const JsonCursor& c, MortalitySpec& m) {
  known(c, {"coale_demeny", "brass", "life_table"});
  const int kinds = int(c.has("coale_demeny")) + int(c.has("brass")) + int(c.has("life_table"));
  if (kinds != 1) c.fail("expected exactly one of \"coale_demeny\", \"brass\" or \"life_table\"");
  if (const auto cd = c.find("coale_demeny")) {
    known(*cd, {"family", "e0"});
    m.kind = MortalitySpec::Kind::coale_demeny;
    const std::string f = cd->at("family").choice({"west", "north", "east", "south"});
    m.family = f == "west" ? CdFamily::west : f == "north" ? CdFamily::north
               : f == "east" ? CdFamily::east : CdFamily::south;
    m.e0 = by_sex_series(cd->at("e0"), {18, 80, "a life expectancy at birth in [18, 80] years"});
  } else if (const auto b = c.find("brass")) {
    known(*b, {"standard", "alpha", "beta"});
    m.kind = MortalitySpec::Kind::brass;
    b->at("standard").choice({"general"});
    m.alpha = by_sex_series(b->at("alpha"), {-3, 3, "a Brass alpha in [-3, 3]"});
    m.beta = b->has("beta") ? by_sex_series(b->at("beta"), {0.2, 3, "a Brass beta in [0.2, 3]"})
                            : BySexSeries{};
    for (int s = 0; s < 2; ++s) m.table[s] = brass_general_standard(AxRule::coale_demeny(Sex(s)));
  } else {
    const JsonCursor t = c.at("life_table");
    known(t, {"ages", "qx"});
    m.kind = MortalitySpec::Kind::life_table;
    const JsonCursor q = t.at("qx");
    // One table {"female": […], "male": […]}, or a time series of them {"1927": {…}, "1933": {…}}.
    std::vector<std::pair<double, JsonCursor>> points;  // (mid-year, the table written there)
    if (q.is_object() && !q.has("female") && !q.has("male") && q.size() > 0) {
      for (const auto& [key, _] : q.object().items()) {
        const auto year = year_key(key);
        if (!year)
          q.at(key).fail(
              "expected \"female\" and \"male\", or a year (four digits, e.g. "
              "\"1932\") as the key of a time series of tables, got \"" +
              key + "\"");
        points.emplace_back(*year, q.at(key));
      }
    } else {
      points.emplace_back(0.0, q);
    }
    // Each table's q(x), by sex, after its checks (ages from "ages", else single years from 0).
    std::vector<std::array<Eigen::ArrayXd, 2>> qx(points.size());
    std::array<Eigen::ArrayXd, 2> ages;  // per sex (without "ages", each its own single years)
    for (std::size_t i = 0; i < points.size(); ++i) {
      const JsonCursor& table = points[i].second;
      known(table, {"female", "male"});
      for (int s = 0; s < 2; ++s) {
        const JsonCursor qs = table.at(s == 0 ? "female" : "male");
        qx[i][s] = qs.numbers(-1, 0, 1, "a probability in [0, 1]");
        if (const auto a = t.find("ages")) {
          ages[s] = a->numbers(-1, 0, 200, "an age in years");
          if (ages[s].size() != qx[i][s].size())
            qs.expected("an array of " + std::to_string(ages[s].size()) +
                        " probabilities (one per age)");
        } else {
          if (i > 0 && qx[i][s].size() != qx[0][s].size())
            qs.expected("an array of " + std::to_string(qx[0][s].size()) +
                        " probabilities (as this sex's first table)");
          ages[s] = Eigen::ArrayXd::LinSpaced(qx[i][s].size(), 0, double(qx[i][s].size() - 1));
        }
        try {
          const LifeTable lt = LifeTable::from_qx(ages[s], qx[i][s], AxRule::coale_demeny(Sex(s)));
          (void)lt.projection_survivorship(out_.dims.ages());
          if (points.size() == 1) m.table[s] = lt;
        } catch (const domain_error& e) {
          qs.fail(e.what());
        }
      }
    }
    if (points.size() == 1) return;
    // Per step, the weight of each year's table in the step's mean (Series::mean of unit values:
    // the same averaging as every other series), then the mixture of the tables; steps with the
    // same weights share a table. A mixture of valid q(x) is a valid q(x) (in [0, 1], and
    // from_qx builds every such table).
    Series unit;
    for (std::size_t i = 0; i < points.size(); ++i) {
      unit.years.push_back(points[i].first);
      unit.values.push_back(int(i));
    }
    std::vector<std::vector<double>> mixtures;
    for (const StepTime& st : out_.steps) {
      std::vector<double> w(points.size());
      for (std::size_t i = 0; i < points.size(); ++i) {
        std::vector<double> e(points.size(), 0.0);
        e[i] = 1.0;
        w[i] = unit.mean(e, st.start, st.end);
      }
      auto it = std::find(mixtures.begin(), mixtures.end(), w);
      if (it == mixtures.end()) {
        mixtures.push_back(w);
        for (int s = 0; s < 2; ++s) {
          Eigen::ArrayXd mixed = Eigen::ArrayXd::Zero(qx[0][s].size());
          for (std::size_t i = 0; i < points.size(); ++i) mixed += w[i] * qx[i][s];
          mixed = mixed.max(0.0).min(1.0);  // (rounding of the weights)
          try {
            m.step_tables[std::size_t(s)].push_back(
                LifeTable::from_qx(ages[s], mixed, AxRule::coale_demeny(Sex(s))));
          } catch (const domain_error& e) {
            q.fail(std::string("the tables mixed for the step of ") + std::to_string(st.year) +
                   ": " + e.what());
          }
        }
        it = mixtures.end() - 1;
      }
      m.step_table.push_back(int(it - mixtures.begin()));
    }
  }
}

void Parser::fertility(const JsonCursor& c, FertilitySpec& f) {
  guard([&] { known(c, {"tfr", "schedule", "srb", "births_abroad"}); });
  guard([&] { f.tfr = series(c.at("tfr"), {0, 15, "a total fertility rate in [0, 15]"}); });
  guard([&] {
    f.srb = c.has("srb") ? value(c.at("srb"), {0.8, 1.3, "a sex ratio at birth in [0.8, 1.3]"})
                         : constant(1.05, c);
  });
  if (const auto b = c.find("births_abroad")) guard([&] { f.births_abroad = b->boolean(); });
  const JsonCursor s = c.at("schedule");
  const AgeAxis& axis = out_.dims.ages();
  if (s.is_string()) {
    const std::vector<std::string> names = fertility_pattern_names();
    const std::string name = s.string();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "\"" : ", \"") + n + "\"";
      s.expected("one of " + list);
    }
    f.pattern_share = fertility_pattern(name, axis);
  } else {
    if (!s.is_object()) s.expected("a schedule name or {\"ages\": [...], \"shares\": [...]}");
    known(s, {"ages", "shares"});
    const Eigen::ArrayXd w = step_function(s.at("ages"), s.at("shares"), 0, "a share >= 0");
    // step_function averages per cell; shares are per age group, so weight by years in the cell.
    Eigen::ArrayXd share = w * axis.width;
    if (!(share.sum() > 0)) s.at("shares").expected("some positive shares");
    if (share[0] > 0) s.at("shares").expected("no births to women in the first age cell");
    f.pattern_share = share / share.sum();
  }
}

FlowSpec Parser::flow(const JsonCursor& c, bool is_signed, bool allow_rate, bool allow_count,
                      const char* rate_key, const char* count_key) {
  FlowSpec f;
  std::vector<std::string> allowed{"enabled", "age_pattern", "female_share"};
  if (allow_rate) allowed.push_back(rate_key);
  if (allow_count) allowed.push_back(count_key);
  known(c, allowed);
  if (const auto e = c.find("enabled"); e && !e->boolean()) return f;
  const bool has_rate = allow_rate && c.has(rate_key), has_count = allow_count && c.has(count_key);
  if (has_rate == has_count)
    c.fail(allow_rate && allow_count
               ? std::string("expected exactly one of \"") + rate_key + "\" or \"" + count_key + "\""
               : std::string("missing required field \"") + (allow_rate ? rate_key : count_key) + "\"");
  f.present = true;
  f.is_rate = has_rate;
  if (has_rate)
    f.amount = series(c.at(rate_key), is_signed ? Domain{-0.5, 0.5, "a rate per year in [-0.5, 0.5]"}
                                                : Domain{0, 1, "a proportion per year in [0, 1]"});
  else
    f.amount = series(c.at(count_key), is_signed ? Domain{-kInf, kInf, "a number of persons per year"}
                                                 : Domain{0, kInf, "a number of persons per year >= 0"});
  const auto p = c.find("age_pattern");
  set_pattern(f, p ? age_sex_pattern(*p, f.is_rate)
                   : age_sex_pattern(JsonCursor(json("uniform"), c.file()), f.is_rate));
  if (const auto fs = c.find("female_share")) {
    if (f.is_rate) fs->fail("\"female_share\" is for counts; a rate applies to both sexes");
    f.female_share = value(*fs, kProbability);
  } else if (!f.is_rate) {
    f.female_share = constant(0.5, c);
  }
  return f;
}

ShockSpec Parser::shock(const JsonCursor& c) {
  ShockSpec s;
  known(c, {"intensity", "relative_risk", "enabled"});
  if (const auto e = c.find("enabled"); e && !e->boolean()) return s;
  s.present = true;
  s.intensity = series(c.at("intensity"), {0, 1000, "an intensity >= 0"});
  relative_risk(c.at("relative_risk"), s);
  return s;
}

void Parser::group(const JsonCursor& c, GroupSpec& g) {
  known(c, {"name", "initial_population", "mortality", "fertility", "migration"});
  guard([&] { initial(c.at("initial_population"), g.initial); });
  guard([&] { mortality(c.at("mortality"), g.mortality); });
  guard([&] { fertility(c.at("fertility"), g.fertility); });
  if (const auto m = c.find("migration"))
    guard([&] { g.migration = flow(*m, true, true, true, "net_rate", "net_count"); });
}

int Parser::group_key(const JsonCursor& g, const std::string& name) {
  const auto& names = out_.dims.groups();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return int(it - names.begin());
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "\"" : ", \"") + n + "\"";
  add(g.pointer(), "expected a group name (" + list + "), got \"" + name + "\"");
  return -1;
}

void Parser::crisis(const JsonCursor& c) {
  if (c.is_object() && c.has("model")) return food_balance(c);
  for (const auto& [name, _] : c.object().items()) {
    const JsonCursor g = c.at(name);
    const int index = group_key(g, name);
    if (index < 0) continue;
    CrisisSpec& cs = out_.crisis[std::size_t(index)];
    guard([&] {
      known(g, {"excess_mortality", "fertility_reduction", "flight", "return", "abroad",
                "in_migration"});
    });
    if (const auto x = g.find("excess_mortality")) guard([&] { cs.mortality = shock(*x); });
    if (const auto x = g.find("fertility_reduction"))
      guard([&] { cs.fertility_reduction = series(*x, {0, 1, "a reduction share in [0, 1]"}); });
    if (const auto x = g.find("flight"))
      guard([&] { cs.flight = flow(*x, false, true, true, "rate", "count"); });
    crisis_direct(g, cs);
  }
}

/// The components that stay direct in both forms of the crisis: returns, deaths abroad,
/// in-migration.
void Parser::crisis_direct(const JsonCursor& g, CrisisSpec& cs) {
  if (const auto x = g.find("return"))
    guard([&] {
      known(*x, {"rate", "enabled"});
      if (const auto e = x->find("enabled"); e && !e->boolean()) return;
      cs.return_rate = series(x->at("rate"), kProbability);
    });
  if (const auto x = g.find("abroad"))
    guard([&] {
      known(*x, {"excess_mortality"});
      cs.mortality_abroad = shock(x->at("excess_mortality"));
    });
  if (const auto x = g.find("in_migration"))
    guard([&] { cs.in_migration = flow(*x, false, false, true, "rate", "count"); });
}

// ---- the food-balance crisis (scenarios/README.md, "crisis.model = food_balance") ----

constexpr const char* kSpeciesNames[kSpeciesCount] = {"horses", "cattle", "sheep_goats", "camels"};
constexpr Domain kShare{0, 1, "a share per year in [0, 1]"};
constexpr Domain kTonnes{0, kInf, "tonnes >= 0"};

/// A series for every species, or {"horses": series, …} (a species left out keeps its default).
FoodBalanceSpec::BySpeciesSeries Parser::by_species_series(const JsonCursor& c, const Domain& d) {
  FoodBalanceSpec::BySpeciesSeries out;
  bool by_species = false;
  if (c.is_object())
    for (const char* k : kSpeciesNames) by_species |= c.has(k);
  if (!by_species) {
    const Series s = series(c, d);
    out.fill(s);
    return out;
  }
  known(c, {kSpeciesNames[0], kSpeciesNames[1], kSpeciesNames[2], kSpeciesNames[3]});
  for (int i = 0; i < kSpeciesCount; ++i)
    if (const auto x = c.find(kSpeciesNames[i]))
      guard([&] { out[std::size_t(i)] = series(*x, d); });
  return out;
}

/// {"maximum", "half_deficit", "steepness"} of a DeficitResponse (each a value; defaults
/// half_deficit 0.3, steepness 3), plus the members in `extra`.
std::array<int, 3> Parser::deficit_response(const JsonCursor& c, const Domain& maximum,
                                            std::vector<std::string> extra) {
  extra.insert(extra.end(), {"maximum", "half_deficit", "steepness"});
  known(c, extra);
  std::array<int, 3> r{-1, -1, -1};
  guard([&] { r[0] = value(c.at("maximum"), maximum); });
  if (const auto x = c.find("half_deficit"))
    guard([&] { r[1] = value(*x, {0.01, 1, "a deficit in [0.01, 1]"}); });
  if (const auto x = c.find("steepness"))
    guard([&] { r[2] = value(*x, {1, 20, "a Hill exponent in [1, 20]"}); });
  return r;
}

void Parser::food_drivers(const JsonCursor& c, FoodBalanceSpec& f) {
  known(c, {"herd", "natural_increase", "slaughter", "forced_slaughter", "collective_losses",
            "livestock_procurement", "grain", "border"});
  guard([&] {
    const JsonCursor h = c.at("herd");
    known(h, {"year", kSpeciesNames[0], kSpeciesNames[1], kSpeciesNames[2], kSpeciesNames[3]});
    const JsonCursor y = h.at("year");
    f.first_year = y.integer();
    if (f.first_year > f.last_year || f.first_year < f.last_year - 200)
      y.expected("a year of the projection (at most " + std::to_string(f.last_year) + ")");
    for (int i = 0; i < kSpeciesCount; ++i)
      guard([&] {
        f.herd[std::size_t(i)] = value(h.at(kSpeciesNames[i]), {0, kInf, "a number of head >= 0"});
      });
  });
  if (const auto x = c.find("natural_increase"))
    guard([&] { f.natural_increase = by_species_series(*x, kShare); });
  if (const auto x = c.find("slaughter")) guard([&] { f.slaughter = by_species_series(*x, kShare); });
  if (const auto x = c.find("forced_slaughter"))
    guard([&] { f.forced_slaughter = by_species_series(*x, kShare); });
  if (const auto x = c.find("collective_losses"))
    guard([&] { f.collective_losses = by_species_series(*x, kShare); });
  if (const auto x = c.find("livestock_procurement"))
    guard([&] {
      known(*x, {"share", "head"});
      x->one_of("share", "head");
      f.procurement_in_head = x->has("head");
      f.procurement = f.procurement_in_head
                          ? by_species_series(x->at("head"), {0, kInf, "a number of head >= 0"})
                          : by_species_series(x->at("share"), kShare);
    });
  if (const auto x = c.find("grain"))
    guard([&] {
      known(*x, {"harvest", "procurement", "seed_share", "aid"});
      if (const auto y = x->find("harvest")) guard([&] { f.harvest = series(*y, kTonnes); });
      if (const auto y = x->find("procurement"))
        guard([&] { f.grain_procurement = series(*y, kTonnes); });
      if (const auto y = x->find("seed_share")) guard([&] { f.seed_share = series(*y, kShare); });
      if (const auto y = x->find("aid")) guard([&] { f.aid = series(*y, kTonnes); });
    });
  if (const auto x = c.find("border"))
    guard([&] {
      known(*x, {"success", "mortality"});
      if (const auto y = x->find("success"))
        guard([&] { f.border_success = series(*y, {0, 1, "a share of the flight attempts in [0, 1]"}); });
      if (const auto y = x->find("mortality"))
        guard([&] {
          f.border_mortality = series(*y, {0, 1, "a share of the stopped attempts in [0, 1]"});
        });
    });
}

void Parser::food_parameters(const JsonCursor& c, FoodBalanceSpec& f) {
  known(c, {"requirement_kcal", "grain_kcal_per_kg", "grain_food_share", "species",
            "distress_offtake"});
  if (const auto x = c.find("requirement_kcal"))
    guard([&] { f.requirement = value(*x, {500, 5000, "kcal per person per day in [500, 5000]"}); });
  if (const auto x = c.find("grain_kcal_per_kg"))
    guard([&] { f.grain_kcal_per_kg = value(*x, {1000, 5000, "kcal per kg in [1000, 5000]"}); });
  if (const auto x = c.find("grain_food_share"))
    guard([&] { f.grain_food_share = value(*x, kProbability); });
  if (const auto x = c.find("species"))
    guard([&] {
      known(*x, {kSpeciesNames[0], kSpeciesNames[1], kSpeciesNames[2], kSpeciesNames[3]});
      for (int i = 0; i < kSpeciesCount; ++i) {
        const auto sp = x->find(kSpeciesNames[i]);
        if (!sp) continue;
        guard([&] {
          known(*sp, {"meat_kcal_per_head", "milk_kcal_per_head", "tlu"});
          auto& y = f.yields[std::size_t(i)];
          const Domain kcal{0, kInf, "kcal per head >= 0"};
          if (const auto z = sp->find("meat_kcal_per_head")) guard([&] { y[0] = value(*z, kcal); });
          if (const auto z = sp->find("milk_kcal_per_head")) guard([&] { y[1] = value(*z, kcal); });
          if (const auto z = sp->find("tlu"))
            guard([&] { y[2] = value(*z, {0, 10, "livestock units per head in [0, 10]"}); });
        });
      }
    });
  if (const auto x = c.find("distress_offtake"))
    guard([&] { f.distress = deficit_response(*x, kProbability, {}); });
}

void Parser::food_group(const JsonCursor& c, FoodBalanceSpec::Group& fg, CrisisSpec& cs) {
  known(c, {"dependence", "reference_population", "response", "return", "abroad", "in_migration"});
  fg.present = true;
  guard([&] {
    const JsonCursor d = c.at("dependence");
    known(d, {"livestock", "grain", "aid"});
    const Domain share{0, 1, "a share in [0, 1]"};
    guard([&] { fg.dependence[0] = series(d.at("livestock"), share); });
    guard([&] { fg.dependence[1] = series(d.at("grain"), share); });
    if (const auto a = d.find("aid")) guard([&] { fg.dependence[2] = series(*a, share); });
  });
  if (const auto r = c.find("reference_population"))
    guard([&] {
      known(*r, {"growth_rate", "persons"});
      r->one_of("growth_rate", "persons");
      if (const auto g = r->find("growth_rate"))
        fg.reference_growth = value(*g, {-0.1, 0.1, "a growth rate per year in [-0.1, 0.1]"});
      else
        fg.reference_persons = series(r->at("persons"), {1, kInf, "a number of persons >= 1"});
    });
  if (const auto r = c.find("response"))
    guard([&] {
      known(*r, {"excess_mortality", "flight", "fertility_reduction"});
      auto enabled = [](const JsonCursor& x) {
        const auto e = x.find("enabled");
        return !e || e->boolean();
      };
      if (const auto x = r->find("excess_mortality"))
        guard([&] {
          if (!enabled(*x))
            return known(*x, {"enabled", "maximum", "half_deficit", "steepness", "relative_risk"});
          fg.response[0] = deficit_response(*x, {0, 1000, "an intensity in [0, 1000]"},
                                            {"relative_risk", "enabled"});
          fg.has_response[0] = true;
          cs.mortality.present = true;
          cs.mortality.intensity.pointer = x->pointer();
          cs.mortality.intensity.file = file_of(*x);
          relative_risk(x->at("relative_risk"), cs.mortality);
        });
      if (const auto x = r->find("flight"))
        guard([&] {
          if (!enabled(*x))
            return known(*x, {"enabled", "maximum", "half_deficit", "steepness", "age_pattern"});
          fg.response[1] = deficit_response(*x, {0, 1, "a flight rate per year in [0, 1]"},
                                            {"age_pattern", "enabled"});
          fg.has_response[1] = true;
          cs.flight.present = true;
          cs.flight.is_rate = true;
          cs.flight.amount.pointer = x->pointer();
          cs.flight.amount.file = file_of(*x);
          const auto p = x->find("age_pattern");
          set_pattern(cs.flight, p ? age_sex_pattern(*p, true)
                                   : age_sex_pattern(JsonCursor(json("uniform"), c.file()), true));
        });
      if (const auto x = r->find("fertility_reduction"))
        guard([&] {
          if (!enabled(*x)) return known(*x, {"enabled", "maximum", "half_deficit", "steepness"});
          fg.response[2] = deficit_response(*x, kProbability, {"enabled"});
          fg.has_response[2] = true;
          cs.fertility_reduction.pointer = x->pointer();
          cs.fertility_reduction.file = file_of(*x);
        });
    });
  crisis_direct(c, cs);
}

void Parser::food_balance(const JsonCursor& c) {
  known(c, {"model", "drivers", "parameters", "groups"});
  c.at("model").choice({"food_balance"});
  FoodBalanceSpec& f = out_.food_balance.emplace();
  const auto& names = out_.dims.groups();
  f.groups.resize(names.size());
  f.start = out_.steps.front().start;
  f.last_year = out_.steps.back().year;
  guard([&] { food_drivers(c.at("drivers"), f); });
  if (const auto p = c.find("parameters")) guard([&] { food_parameters(*p, f); });
  guard([&] {
    const JsonCursor gs = c.at("groups");
    for (const auto& [name, _] : gs.object().items()) {
      const JsonCursor g = gs.at(name);
      const int index = group_key(g, name);
      if (index < 0) continue;
      const std::size_t i = std::size_t(index);
      guard([&] { food_group(g, f.groups[i], out_.crisis[i]); });
    }
    // Each source's shares must not hand out more food than there is, in any draw and year: at
    // every model year the groups' shares, at the upper bounds of their parameters, sum to at
    // most 1 (a series is non-decreasing in each of its values, so this bounds every draw).
    std::vector<double> upper(out_.parameters.size());
    for (std::size_t k = 0; k < upper.size(); ++k) upper[k] = out_.parameters[k].distribution.upper();
    static constexpr const char* kSources[3] = {"livestock", "grain", "aid"};
    for (int k = 0; k < 3; ++k) {
      for (int year = f.first_year; year <= f.last_year; ++year) {
        double sum = 0;
        std::string last;
        for (std::size_t i = 0; i < names.size(); ++i) {
          const FoodBalanceSpec::Group& fg = f.groups[i];
          const Series& sh = fg.dependence[std::size_t(k)].empty() ? fg.dependence[1]
                                                                  : fg.dependence[std::size_t(k)];
          if (!fg.present || sh.empty()) continue;
          sum += sh.at(upper, year + 0.5);
          last = names[i];
        }
        if (sum > 1.0 + 1e-12) {
          gs.at(last).at("dependence").fail(
              std::string("expected shares of the ") + kSources[k] +
              " food whose upper bounds sum to at most 1 over the groups, got " +
              format_number(sum) + " in " + std::to_string(year));
        }
      }
    }
  });
}

/// Points the food-balance groups' crisis series at their derived slots, after every parameter
/// (so the slots follow the last parameter): a 0 at first_year − 1, then one point per model year.
void link_food_balance(FoodBalanceSpec& f, Scenario::Impl& impl) {
  f.derived_base = impl.parameters.size();
  for (std::size_t g = 0; g < f.groups.size(); ++g) {
    CrisisSpec& cs = impl.crisis[g];
    Series* series[FoodBalanceSpec::kSeriesPerGroup] = {
        &cs.mortality.intensity, &cs.flight.amount, &cs.fertility_reduction, &cs.flight_deaths};
    if (f.flight_deaths(int(g))) {
      cs.flight_deaths.pointer = f.border_mortality.pointer;
      cs.flight_deaths.file = f.border_mortality.file;
    }
    for (int r = 0; r < FoodBalanceSpec::kSeriesPerGroup; ++r) {
      if (r == FoodBalanceSpec::kFlightDeaths ? !f.flight_deaths(int(g))
                                              : !f.groups[g].has_response[std::size_t(r)])
        continue;
      Series& s = *series[r];
      s.years.clear();
      s.values.clear();
      s.scale = -1;
      for (int point = 0; point < f.points(); ++point) {
        s.years.push_back(f.first_year - 1 + point + 0.5);
        s.values.push_back(int(f.slot(int(g), r, point)));
      }
    }
  }
}

void Parser::targets(const JsonCursor& c) {
  const auto& names = out_.dims.groups();
  std::vector<std::string> seen;
  const double first = out_.steps.front().start, last = out_.steps.back().end;
  const int width = out_.dims.ages().width;
  for (std::size_t i = 0; i < c.array().size(); ++i) {
    const JsonCursor t = c.at(i);
    guard([&] {
      known(t,
            {"name", "date", "group", "sex", "ages", "abroad", "value", "plus", "error", "source"});
      Target x;
      x.name = t.at("name").string();
      if (x.name.empty() || x.name.find_first_of("/~\"") != std::string::npos)
        t.at("name").expected("a name without '/', '~' or '\"'");
      if (std::find(seen.begin(), seen.end(), x.name) != seen.end())
        t.at("name").fail("duplicate target name \"" + x.name + "\"");
      seen.push_back(x.name);
      x.date = decimal_year(t.at("date"));
      if (x.date < first - 0.5 * width || x.date > last + 0.5 * width)
        t.at("date").expected("a date within half a step of the projection");
      x.boundary = int(std::lround((x.date - first) / width));
      x.boundary = std::clamp(x.boundary, 0, int(out_.steps.size()));
      if (const auto g = t.find("group")) {
        const std::string n = g->string();
        const auto it = std::find(names.begin(), names.end(), n);
        if (it == names.end()) g->expected("a group name");
        x.group = int(it - names.begin());
      }
      if (const auto s = t.find("sex")) x.sex = s->choice({"female", "male"}) == "female" ? 0 : 1;
      const AgeAxis& axis = out_.dims.ages();
      if (const auto a = t.find("ages")) {
        if (!a->is_array() || a->size() != 2)
          a->expected("[first age, last age] (cell lower bounds)");
        x.age_from = a->at(0).integer();
        x.age_to = a->at(1).integer();
        for (int k = 0; k < 2; ++k) {
          const int v = k == 0 ? x.age_from : x.age_to;
          if (v < 0 || v > axis.open_age() || v % axis.width)
            a->at(k).expected("an age cell lower bound (a multiple of " + std::to_string(axis.width) +
                              " from 0 to " + std::to_string(axis.open_age()) + ")");
        }
        if (x.age_to < x.age_from) a->at(1).expected("an age >= the first age");
      }
      if (const auto ab = t.find("abroad")) x.abroad = ab->boolean();
      if (x.abroad && t.has("ages")) t.at("ages").fail("targets abroad are by group and sex only");
      x.observed = t.at("value").number_in(1, kInf, "a count of persons > 0");
      const JsonCursor e = t.at("error");
      known(e, {"bias", "sd"});
      x.bias = e.has("bias") ? value(e.at("bias"), {-0.5, 0.5, "a relative bias in [-0.5, 0.5]"})
                             : constant(0.0, e);
      x.sd = value(e.at("sd"), {1e-6, 1, "a relative standard deviation in [1e-6, 1]"});
      if (const auto p = t.find("plus")) {
        const Domain persons{-1e9, 1e9, "persons added to the modelled count"};
        if (p->is_array())
          for (std::size_t k = 0; k < p->size(); ++k) x.plus.push_back(value(p->at(k), persons));
        else
          x.plus.push_back(value(*p, persons));
      }
      if (const auto src = t.find("source")) (void)src->string();
      out_.targets.push_back(std::move(x));
    });
  }
}

void Parser::outputs(const JsonCursor& c) {
  known(c, {"window", "headline", "quantiles", "by_age_year"});
  OutputSpec& o = out_.outputs;
  if (const auto b = c.find("by_age_year"))
    guard([&] {
      o.by_age_year = b->boolean();
      // (read after "headline" below would be too late for the check: look at it here)
      const auto h = c.find("headline");
      if (o.by_age_year && h && h->is_string() && h->string() == "rate_based")
        b->fail("expected false with \"headline\": \"rate_based\" (the ledgers keep no baseline "
                "deaths by age), got true");
    });
  if (const auto w = c.find("window")) {
    if (!w->is_array() || w->size() != 2) w->expected("[first year, last year]");
    o.window_first = w->at(0).integer();
    o.window_last = w->at(1).integer();
    const int lo = out_.steps.front().year, hi = out_.steps.back().year;
    for (int k = 0; k < 2; ++k) {
      const int y = k == 0 ? o.window_first : o.window_last;
      if (y < lo || y > hi)
        w->at(k).expected("a year of the projection's steps (" + std::to_string(lo) + " to " +
                          std::to_string(hi) + ")");
    }
    if (o.window_last < o.window_first) w->at(1).expected("a year >= the first year");
  }
  if (const auto h = c.find("headline"))
    o.headline_counterfactual = h->choice({"counterfactual", "rate_based"}) == "counterfactual";
  if (const auto q = c.find("quantiles")) {
    o.quantiles.clear();
    for (std::size_t i = 0; i < q->array().size(); ++i) {
      const double p = q->at(i).number_in(0, 1, "a probability in [0, 1]");
      if (!o.quantiles.empty() && !(p > o.quantiles.back()))
        q->at(i).expected("a probability above the previous one (increasing)");
      const double pct = p * 100;
      if (std::abs(pct * 10 - std::round(pct * 10)) > 1e-9)
        q->at(i).expected("a probability with at most 3 decimals (0.025, 0.975, 0.999)");
      o.quantiles.push_back(p);
    }
    if (o.quantiles.empty()) q->expected("at least one probability");
  }
}

void Parser::parse() {
  const JsonCursor r = root();
  if (!r.is_object()) {
    add("", "expected a scenario object, got " + describe(r.value()));
    return;
  }
  guard([&] {
    known(r, {"meta", "projection", "distributions", "groups", "crisis", "targets", "outputs",
              "published", "format", "compare_factors"});
  });
  // Read only by `steppe compare` (src/compare.cpp): {"factor name": ["/pointer/prefix", …]}.
  if (const auto cf = r.find("compare_factors"))
    guard([&] {
      for (const auto& [name, prefixes] : cf->object().items()) {
        const JsonCursor list = cf->at(name);
        if (!list.is_array() || list.size() == 0) list.expected("an array of JSON pointer prefixes");
        for (std::size_t i = 0; i < list.size(); ++i)
          if (!list.at(i).is_string() || list.at(i).string().empty() || list.at(i).string()[0] != '/')
            list.at(i).expected("a JSON pointer prefix such as \"/crisis/*/flight\"");
      }
    });
  if (const auto f = r.find("format"))
    guard([&] { f->choice({"steppe-scenario/1"}); });
  guard([&] { meta(r.at("meta")); });
  guard([&] { projection(r.at("projection")); });
  if (!dims_ok_) return;  // everything else needs the age axis and the steps
  if (const auto d = r.find("distributions")) guard([&] { distributions(*d); });
  std::vector<std::string> names;
  guard([&] {
    const JsonCursor gs = r.at("groups");
    if (!gs.is_array() || gs.size() == 0) gs.expected("an array of at least one group");
    for (std::size_t i = 0; i < gs.size(); ++i) {
      const JsonCursor g = gs.at(i);
      std::string name;
      guard([&] {
        const std::string n = g.at("name").string();
        if (n.empty() || n.find_first_of("/~\" ") != std::string::npos)
          g.at("name").expected("a group name without spaces, '/', '~' or '\"'");
        if (std::find(names.begin(), names.end(), n) != names.end())
          g.at("name").fail("duplicate group name \"" + n + "\"");
        name = n;  // kept only once valid, so the dimensions stay valid while errors are reported
      });
      // A placeholder that no valid name can equal (valid names have no spaces).
      if (name.empty()) name = "group #" + std::to_string(i);
      names.push_back(name);
    }
  });
  if (names.empty()) return;
  out_.dims = Dims(out_.dims.ages(), names);
  out_.groups.resize(names.size());
  out_.crisis.resize(names.size());
  const JsonCursor gs = r.at("groups");
  for (std::size_t i = 0; i < names.size(); ++i) {
    out_.groups[i].name = names[i];
    guard([&] { group(gs.at(i), out_.groups[i]); });
  }
  if (const auto c = r.find("crisis")) guard([&] { crisis(*c); });
  if (const auto t = r.find("targets")) guard([&] { targets(*t); });
  out_.outputs.window_first = out_.steps.front().year;
  out_.outputs.window_last = out_.steps.back().year;
  if (const auto o = r.find("outputs")) guard([&] { outputs(*o); });
  if (const auto p = r.find("published")) guard([&] { published(*p); });
  if (out_.food_balance) {
    link_food_balance(*out_.food_balance, out_);
    out_.derived_outputs = food_balance_output_names(out_);
  }
}

void Parser::published(const JsonCursor& c) {
  known(c, {"source", "value", "low", "high", "measure", "group", "note"});
  PublishedEstimate e;
  e.source = c.at("source").string();
  const auto& sources = out_.meta.sources;
  if (std::none_of(sources.begin(), sources.end(), [&](const auto& s) { return s.id == e.source; }))
    c.at("source").expected("the id of a citation in /meta/sources");
  e.value = c.at("value").number_in(1, kInf, "a count of persons > 0");
  if (const auto lo = c.find("low")) e.low = lo->number_in(0, e.value, "persons, at most value");
  if (const auto hi = c.find("high")) e.high = hi->number_in(e.value, kInf, "persons, at least value");
  e.losses = c.at("measure").choice({"excess_deaths", "losses"}) == "losses";
  if (const auto g = c.find("group")) {
    const auto& names = out_.dims.groups();
    const auto it = std::find(names.begin(), names.end(), g->string());
    if (it == names.end()) g->expected("a group name");
    e.group = int(it - names.begin());
  }
  if (const auto n = c.find("note")) e.note = n->string();
  out_.outputs.published = std::move(e);
}

}  // namespace

std::shared_ptr<Scenario::Impl> parse_scenario(ResolvedJson doc, const std::string& file,
                                               const std::vector<std::string>& overrides) {
  auto impl = std::make_shared<Scenario::Impl>();
  impl->file = file;
  std::vector<input_error> errors;
  for (const std::string& o : overrides) {
    try {
      apply_override(doc, o);
    } catch (const input_error& e) {
      errors.push_back(e);
    }
  }
  if (!errors.empty()) throw scenario_errors(std::move(errors));
  Parser p(doc, file, *impl);
  p.parse();
  if (!p.errors.empty()) throw scenario_errors(std::move(p.errors));
  return impl;
}

}  // namespace steppe::detail
