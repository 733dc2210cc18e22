// SPDX-License-Identifier: MIT
// `steppe compare`: where two scenarios differ (leaf by leaf), which factor each difference
// belongs to, the hybrid scenarios in between, and the Shapley attribution of the headline gap.
#include "steppe/compare.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>
#include <set>

#include "io/extends.hpp"
#include "steppe/error.hpp"
#include "steppe/rng.hpp"
#include "steppe/summary.hpp"
#include "steppe/version.hpp"

namespace steppe {
namespace {

using json = nlohmann::json;
using pointer_t = json::json_pointer;

constexpr std::size_t kExactFactors = 10;      // exact Shapley values up to 2^10 hybrids
constexpr std::uint64_t kPermutations = 2000;  // sampled beyond
constexpr std::uint64_t kPermutationSeed = 0x5eed5a91e7ULL;  // fixed: results are reproducible
constexpr std::size_t kMaxFactors = 63;                      // subsets are bit masks of a uint64

// ---- the two documents ---------------------------------------------------------------------

// The tokens of an RFC 6901 pointer ("/a/b~1c" → {"a", "b/c"}).
std::vector<std::string> tokens_of(const std::string& pointer) {
  std::vector<std::string> t;
  pointer_t p(pointer);
  while (!p.empty()) {
    t.push_back(p.back());
    p.pop_back();
  }
  std::reverse(t.begin(), t.end());
  return t;
}

bool is_distribution(const json& v) {
  if (!v.is_object()) return false;
  for (const char* k : {"uniform", "normal", "lognormal", "triangular", "beta", "choice", "shared"})
    if (v.contains(k)) return true;
  return false;
}

// {"1930": 0.5, "1932": 3} or {"values": {…}, "scale": …}.
bool is_time_series(const json& v) {
  if (!v.is_object() || v.empty()) return false;
  if (v.contains("values")) return true;
  for (const auto& [key, value] : v.items())
    if (key.empty() ||
        !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  return true;
}

// A value compared as a whole: anything but an object or array to descend into.
bool is_leaf(const json& v) {
  if (v.is_object()) return is_distribution(v) || is_time_series(v);
  if (v.is_array())
    return std::none_of(v.begin(), v.end(), [](const json& x) { return x.is_object(); });
  return true;
}

// Members that describe a scenario without changing its numbers.
bool ignored(const std::vector<std::string>& tokens) {
  if (tokens.size() == 1 && (tokens[0] == "meta" || tokens[0] == "compare_factors" ||
                             tokens[0] == "format" || tokens[0] == "extends"))
    return true;
  if (tokens.size() == 2 && tokens[0] == "published")
    for (const char* k : {"source", "value", "low", "high", "note"})
      if (tokens[1] == k) return true;
  return false;
}

// Appends to `out` the pointers below `ptr` where a and b differ (nullptr = absent on that side).
void diff(const json* a, const json* b, const pointer_t& ptr, std::vector<std::string>& out) {
  if (ignored(tokens_of(ptr.to_string()))) return;
  if (a && b && *a == *b) return;
  const json* present = a ? a : b;
  const bool both_objects = a && b && a->is_object() && b->is_object();
  const bool one_sided_object = !(a && b) && present->is_object();
  if ((both_objects || one_sided_object) && !is_leaf(*present) && !(a && b && is_leaf(*b))) {
    std::set<std::string> keys;  // members of either side, in key order
    for (const json* side : {a, b})
      if (side)
        for (const auto& [k, v] : side->items()) keys.insert(k);
    for (const std::string& k : keys) {
      const json* ca = a && a->contains(k) ? &a->at(k) : nullptr;
      const json* cb = b && b->contains(k) ? &b->at(k) : nullptr;
      diff(ca, cb, ptr / k, out);
    }
    return;
  }
  if (a && b && a->is_array() && b->is_array() && a->size() == b->size() && !is_leaf(*a) &&
      !is_leaf(*b)) {
    for (std::size_t i = 0; i < a->size(); ++i) diff(&a->at(i), &b->at(i), ptr / i, out);
    return;
  }
  out.push_back(ptr.to_string());
}

// The differing leaves of two resolved documents. "published" only matters when both have it
// (the headline is then /published/modelled): if one lacks it, it is left out of the comparison,
// so no hybrid gets a half-written "published" block.
std::vector<std::string> differences(const json& a, const json& b) {
  std::vector<std::string> out;
  if (a.is_object() && b.is_object() && a.contains("published") != b.contains("published")) {
    json a2 = a, b2 = b;
    a2.erase("published");
    b2.erase("published");
    diff(&a2, &b2, pointer_t(), out);
  } else {
    diff(&a, &b, pointer_t(), out);
  }
  return out;
}

// ---- factors ---------------------------------------------------------------------------------

bool rule_matches(const std::vector<std::string>& rule, const std::vector<std::string>& tokens) {
  if (rule.size() > tokens.size()) return false;
  for (std::size_t i = 0; i < rule.size(); ++i)
    if (rule[i] != "*" && rule[i] != tokens[i]) return false;
  return true;
}

struct Rules {
  struct Rule {
    std::string factor;
    std::vector<std::string> tokens;
  };
  std::vector<Rule> rules;  // first match wins
  void add(const std::string& factor, const std::string& prefix) {
    rules.push_back({factor, tokens_of(prefix)});
  }
  // The factor of `pointer`, or "" if no rule matches.
  std::string factor_of(const std::string& pointer) const {
    const std::vector<std::string> t = tokens_of(pointer);
    for (const Rule& r : rules)
      if (rule_matches(r.tokens, t)) return r.factor;
    return "";
  }
  // Position of a factor in the output: that of the first rule that names it.
  std::size_t rank(const std::string& factor) const {
    for (std::size_t i = 0; i < rules.size(); ++i)
      if (rules[i].factor == factor) return i;
    return rules.size();
  }
};

// Pointers of every {"shared": name} in `doc`, by name.
void shared_users(const json& v, const pointer_t& ptr,
                  std::map<std::string, std::set<std::string>>& out) {
  if (v.is_object()) {
    if (v.contains("shared") && v.at("shared").is_string())
      out[v.at("shared").get<std::string>()].insert(ptr.to_string());
    for (const auto& [k, c] : v.items()) shared_users(c, ptr / k, out);
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) shared_users(v.at(i), ptr / i, out);
  }
}

// Reads a scenario's "compare_factors" ({"name": ["/prefix", …]}) into `rules`. The parser has
// validated its shape already.
void add_file_rules(const json& doc, Rules& rules) {
  if (!doc.is_object() || !doc.contains("compare_factors")) return;
  for (const auto& [name, prefixes] : doc.at("compare_factors").items())
    for (const json& p : prefixes) rules.add(name, p.get<std::string>());
}

// ---- one side --------------------------------------------------------------------------------

struct Side {
  std::string file;
  Scenario scenario;
  json doc;  // resolved across "extends" and --set; relative data paths made absolute
};

Side load_side(const std::filesystem::path& file, const std::vector<std::string>& sets) {
  Side s{file.string(), Scenario::load(file, sets), {}};  // validates: errors name file + pointer
  detail::ResolvedJson r = detail::load_with_extends(file);
  for (const std::string& o : sets) detail::apply_override(r, o);
  // An age-structure file is relative to the file that wrote it: anchor it, so that a hybrid
  // (parsed from text) finds it and two scenarios in different folders naming the same CSV agree.
  if (r.doc.contains("groups") && r.doc.at("groups").is_array())
    for (std::size_t g = 0; g < r.doc.at("groups").size(); ++g) {
      const pointer_t p =
          pointer_t("/groups") / g / "initial_population" / "age_structure" / "file";
      if (r.doc.contains(p) && r.doc.at(p).is_string()) {
        const std::filesystem::path base =
            std::filesystem::path(r.file_of(p.to_string())).parent_path();
        r.doc[p] =
            std::filesystem::weakly_canonical(base / r.doc.at(p).get<std::string>()).string();
      }
    }
  s.doc = std::move(r.doc);
  return s;
}

// The two must run on the same groups and steps, or their hybrids would not be scenarios.
void check_aligned(const Side& a, const Side& b) {
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return "[" + s + "]";
  };
  const auto& ga = a.scenario.dims().groups();
  const auto& gb = b.scenario.dims().groups();
  if (ga != gb)
    throw input_error(b.file, "/groups",
                      "compare needs the same groups in the same order, got " + list(gb) +
                          " against " + list(ga) + " in " + a.file);
  const auto sa = a.scenario.steps(), sb = b.scenario.steps();
  const bool same_steps =
      sa.size() == sb.size() &&
      std::equal(sa.begin(), sa.end(), sb.begin(),
                 [](const StepTime& x, const StepTime& y) { return x.year == y.year; });
  if (!same_steps)
    throw input_error(b.file, "/projection",
                      "compare needs the same projection steps, got " + std::to_string(sb.size()) +
                          " steps (" + std::to_string(sb.front().year) + "–" +
                          std::to_string(sb.back().year) + ") against " +
                          std::to_string(sa.size()) + " (" + std::to_string(sa.front().year) + "–" +
                          std::to_string(sa.back().year) + ") in " + a.file);
}

// ---- factors of the differences -------------------------------------------------------------

struct Factor {
  std::string name;
  std::vector<std::string> fields;
};

// Groups the differing pointers into factors, ordered as their rules (then shared draws, then
// "other"), fields in document order.
std::vector<Factor> group_fields(const std::vector<std::string>& fields, const Rules& rules,
                                 const json& a, const json& b) {
  std::map<std::string, std::set<std::string>> users;
  shared_users(a, pointer_t(), users);
  shared_users(b, pointer_t(), users);
  std::vector<Factor> factors;
  std::map<std::string, std::size_t> rank;
  for (const std::string& p : fields) {
    std::string f = rules.factor_of(p);
    std::size_t r = rules.rank(f);
    const std::vector<std::string> t = tokens_of(p);
    if (f.empty() && t.size() == 2 && t[0] == "distributions") {
      std::set<std::string> of;  // the factors of the fields that draw from it
      if (const auto it = users.find(t[1]); it != users.end())
        for (const std::string& u : it->second) {
          const std::string fu = rules.factor_of(u);
          of.insert(fu.empty() ? "other" : fu);
        }
      if (of.size() == 1) {
        f = *of.begin();
        r = rules.rank(f);
      } else if (of.size() > 1) {
        f = "shared draw " + t[1];
        r = rules.rules.size();
      }
    }
    if (f.empty()) {
      f = "other";
      r = rules.rules.size() + 1;
    }
    auto it =
        std::find_if(factors.begin(), factors.end(), [&](const Factor& x) { return x.name == f; });
    if (it == factors.end()) {
      factors.push_back({f, {}});
      rank[f] = r;
      it = factors.end() - 1;
    }
    it->fields.push_back(p);
  }
  std::stable_sort(factors.begin(), factors.end(),
                   [&](const Factor& x, const Factor& y) { return rank[x.name] < rank[y.name]; });
  return factors;
}

// A's document with B's values at every field of the factors in `mask` (members B lacks are
// removed, with the objects that removal empties and B does not have).
json hybrid_doc(const json& a, const json& b, const std::vector<Factor>& factors,
                std::uint64_t mask) {
  json doc = a;
  for (std::size_t f = 0; f < factors.size(); ++f) {
    if (!(mask >> f & 1)) continue;
    for (const std::string& field : factors[f].fields) {
      const pointer_t p(field);
      if (b.contains(p)) {
        doc[p] = b.at(p);  // creates missing parent objects
        continue;
      }
      if (!doc.contains(p)) continue;
      pointer_t at = p;
      while (!at.empty()) {
        const std::string key = at.back();
        at.pop_back();
        json& parent = doc.at(at);
        if (parent.is_object()) parent.erase(key);
        if (at.empty() || !parent.empty() || b.contains(at)) break;
      }
    }
  }
  return doc;
}

std::string factor_list(const std::vector<Factor>& factors, std::uint64_t mask) {
  std::string s;
  for (std::size_t f = 0; f < factors.size(); ++f)
    if (mask >> f & 1) s += (s.empty() ? "" : ", ") + factors[f].name;
  return s;
}

// ---- summaries -------------------------------------------------------------------------------

CompareSummary summarise(std::vector<double> v) {
  CompareSummary s;
  if (v.empty()) return s;
  Moments m;
  for (double x : v) m.add(x);
  s.mean = m.mean();
  s.sd = m.sd();
  std::sort(v.begin(), v.end());
  auto q = [&](double level) { return v[std::size_t(std::floor(level * double(v.size() - 1)))]; };
  s.q025 = q(0.025);
  s.q10 = q(0.10);
  s.q50 = q(0.50);
  s.q90 = q(0.90);
  s.q975 = q(0.975);
  return s;
}

}  // namespace

const std::vector<FactorRule>& compare_factor_rules() {
  static const std::vector<FactorRule> rules{
      {"toll definition", "/outputs"},
      {"deaths or losses (permanent emigrants)", "/published/measure"},
      {"groups counted", "/published/group"},
      {"base population and undercount", "/groups/*/initial_population"},
      {"fertility", "/groups/*/fertility"},
      {"fertility", "/crisis/*/fertility_reduction"},
      {"baseline mortality", "/groups/*/mortality"},
      {"famine mortality", "/crisis/*/excess_mortality"},
      {"flight, returns and deaths abroad", "/crisis/*/flight"},
      {"flight, returns and deaths abroad", "/crisis/*/return"},
      {"flight, returns and deaths abroad", "/crisis/*/abroad"},
      {"migration", "/crisis/*/in_migration"},
      {"migration", "/groups/*/migration"},
      {"procurement", "/crisis/drivers/livestock_procurement"},
      {"procurement", "/crisis/drivers/grain/procurement"},
      {"aid", "/crisis/drivers/grain/aid"},
      {"border regime", "/crisis/drivers/border"},
      {"herds and harvests", "/crisis/drivers"},
      {"responses to the food deficit", "/crisis/groups"},
      {"food conversion factors", "/crisis/parameters"},
      {"census corrections", "/targets"},
      {"projection options", "/projection"},
  };
  return rules;
}

std::vector<std::string> scenario_differences(const std::string& json_a, const std::string& json_b,
                                              const std::string& file_b) {
  auto parse = [&](const std::string& text, const std::string& file) {
    try {
      return json::parse(text);
    } catch (const json::parse_error& e) {
      throw input_error(file, "", std::string("parse error: ") + e.what());
    }
  };
  const json a = parse(json_a, "A"), b = parse(json_b, file_b);
  return differences(a, b);
}

CompareResult compare(const std::filesystem::path& a_file, const std::filesystem::path& b_file,
                      const CompareOptions& options) {
  const Side a = load_side(a_file, options.sets_a), b = load_side(b_file, options.sets_b);
  check_aligned(a, b);

  Rules rules;
  for (const auto& [name, prefixes] : options.factors)
    for (const std::string& p : prefixes) {
      if (p.empty() || p[0] != '/')
        throw input_error(
            "--factor", p,
            "expected a JSON pointer prefix (\"/crisis/*/flight\") for factor \"" + name + "\"");
      rules.add(name, p);
    }
  add_file_rules(a.doc, rules);
  add_file_rules(b.doc, rules);
  for (const FactorRule& r : compare_factor_rules()) rules.add(r.factor, r.prefix);

  const std::vector<std::string> fields = differences(a.doc, b.doc);
  const std::vector<Factor> factors = group_fields(fields, rules, a.doc, b.doc);
  const std::size_t k = factors.size();
  if (k > kMaxFactors)
    throw input_error(b.file, "",
                      "the scenarios differ in " + std::to_string(k) +
                          " factors; compare handles at most " + std::to_string(kMaxFactors) +
                          " (group them with --factor)");
  const std::uint64_t full = k == 0 ? 0 : (~std::uint64_t(0) >> (64 - k));

  CompareResult out;
  out.file_a = a.file;
  out.file_b = b.file;
  out.title_a = a.scenario.meta().title;
  out.title_b = b.scenario.meta().title;
  out.headline = a.doc.contains("published") && b.doc.contains("published")
                     ? "/published/modelled"
                     : "/excess_deaths/total";
  out.seed = options.run.seed;
  out.exact = k <= kExactFactors;

  // The subsets to run: all of them, or those met along sampled permutations.
  std::vector<std::uint64_t> masks;
  std::vector<std::vector<std::size_t>> permutations;
  if (out.exact) {
    for (std::uint64_t m = 0; m <= full; ++m) masks.push_back(m);
  } else {
    std::set<std::uint64_t> met{0};
    Rng rng(kPermutationSeed);
    for (std::uint64_t n = 0; n < kPermutations; ++n) {
      std::vector<std::size_t> order(k);
      std::iota(order.begin(), order.end(), std::size_t(0));
      for (std::size_t i = k - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
      std::uint64_t m = 0;
      for (std::size_t f : order) met.insert(m |= std::uint64_t(1) << f);
      permutations.push_back(std::move(order));
    }
    masks.assign(met.begin(), met.end());
    out.permutations = kPermutations;
  }

  // Every hybrid is parsed before anything runs, so a bad one fails at once.
  std::vector<Scenario> scenarios;
  scenarios.reserve(masks.size());
  for (std::uint64_t m : masks) {
    if (m == 0) {
      scenarios.push_back(a.scenario);
    } else if (m == full) {
      scenarios.push_back(b.scenario);
    } else {
      const std::string with = factor_list(factors, m);
      try {
        scenarios.push_back(Scenario::parse(hybrid_doc(a.doc, b.doc, factors, m).dump(),
                                            a.file + "+" + b.file + "[" + with + "]"));
      } catch (const scenario_errors& e) {
        std::vector<input_error> named;
        for (const input_error& x : e.errors())
          named.emplace_back(x.file(), x.pointer(),
                             x.reason() + " (in the hybrid of " + a.file + " with the " + with +
                                 " of " + b.file + ")");
        throw scenario_errors(std::move(named));
      }
    }
  }

  // Posterior mode: A's parameter sets, mapped onto each hybrid field by field (compare.hpp).
  const bool given_sets = !options.a_parameter_sets.empty();
  const std::uint64_t draws = given_sets ? options.a_parameter_sets.size() : options.run.draws;
  auto mapped_sets = [&](const Scenario& h) {
    const auto ap = a.scenario.parameters(), hp = h.parameters();
    auto key = [](const Parameter& p) { return p.shared.empty() ? p.pointer : "=" + p.shared; };
    std::map<std::string, std::size_t> in_a;
    for (std::size_t k = 0; k < ap.size(); ++k) in_a.emplace(key(ap[k]), k);
    std::vector<std::vector<double>> sets(draws);
    std::vector<double> own;
    for (std::uint64_t i = 0; i < draws; ++i) {
      const std::vector<double>& x = options.a_parameter_sets[i];
      if (x.size() != ap.size())
        throw domain_error("compare: parameter set " + std::to_string(i) + " has " +
                           std::to_string(x.size()) + " values, " + a.file + " has " +
                           std::to_string(ap.size()) + " parameters");
      h.sample(options.run.seed, i, own);
      sets[i].resize(hp.size());
      for (std::size_t k = 0; k < hp.size(); ++k) {
        const auto it = in_a.find(key(hp[k]));
        if (it == in_a.end()) {
          sets[i][k] = own[k];
          continue;
        }
        const Distribution& da = ap[it->second].distribution;
        const Distribution& dh = hp[k].distribution;
        const double xa = x[it->second];
        sets[i][k] = da.describe() == dh.describe() ? xa : dh.at_probability(da.probability_of(xa));
      }
    }
    return sets;
  };

  // Run them on common random numbers, keeping the headline of every draw.
  std::vector<std::vector<double>> values(masks.size());
  const std::uint64_t total = draws * masks.size();
  for (std::size_t j = 0; j < masks.size(); ++j) {
    RunOptions run = options.run;
    run.keep = {out.headline};
    run.weights.clear();
    if (options.run.progress)
      run.progress = [&, j](std::uint64_t done, std::uint64_t) {
        options.run.progress(j * draws + done, total);
      };
    RunResult r;
    try {
      r = given_sets ? run_parameter_sets(scenarios[j], mapped_sets(scenarios[j]), run)
                     : run_draws(scenarios[j], run);
    } catch (const domain_error& e) {
      throw domain_error(masks[j] == 0      ? std::string(e.what())
                         : masks[j] == full ? std::string(e.what())
                                            : "hybrid of " + a.file + " with the " +
                                                  factor_list(factors, masks[j]) + " of " + b.file +
                                                  ": " + e.what());
    }
    ++out.hybrids_run;
    if (r.cancelled) {
      out.cancelled = true;
      out.draws = r.draws;
      return out;
    }
    values[j] = std::move(r.kept);
    out.draws = r.draws;
  }

  // Shapley values, draw by draw.
  const std::size_t n = out.draws;
  auto value_of = [&](std::uint64_t m) -> const std::vector<double>& {
    return values[std::lower_bound(masks.begin(), masks.end(), m) - masks.begin()];
  };
  std::vector<std::vector<double>> phi(k, std::vector<double>(n, 0.0));
  if (out.exact) {
    // weight of a subset of size s: s!(k − s − 1)!/k! = 1/(k·C(k − 1, s))
    std::vector<double> weight(k);
    for (std::size_t s = 0; s < k; ++s) {
      double c = 1;
      for (std::size_t i = 1; i <= s; ++i) c = c * double(k - 1 - s + i) / double(i);
      weight[s] = 1.0 / (double(k) * c);
    }
    for (std::size_t f = 0; f < k; ++f) {
      const std::uint64_t bit = std::uint64_t(1) << f;
      for (std::uint64_t m = 0; m <= full; ++m) {
        if (m & bit) continue;
        const double w = weight[std::popcount(m)];
        const std::vector<double>& with = values[m | bit];
        const std::vector<double>& without = values[m];
        for (std::size_t i = 0; i < n; ++i) phi[f][i] += w * (with[i] - without[i]);
      }
    }
  } else {
    for (const std::vector<std::size_t>& order : permutations) {
      std::uint64_t m = 0;
      for (std::size_t f : order) {
        const std::vector<double>& without = value_of(m);
        const std::vector<double>& with = value_of(m |= std::uint64_t(1) << f);
        for (std::size_t i = 0; i < n; ++i) phi[f][i] += with[i] - without[i];
      }
    }
    for (auto& p : phi)
      for (double& x : p) x /= double(permutations.size());
  }

  out.a_per_draw = value_of(0);
  out.b_per_draw = value_of(full);
  std::vector<double> gap(n);
  for (std::size_t i = 0; i < n; ++i) gap[i] = out.b_per_draw[i] - out.a_per_draw[i];
  out.a = summarise(out.a_per_draw);
  out.b = summarise(out.b_per_draw);
  out.difference = summarise(gap);
  for (std::size_t f = 0; f < k; ++f)
    out.attribution.push_back(
        {factors[f].name, factors[f].fields, summarise(phi[f]), std::move(phi[f])});
  return out;
}

// ---- writers ----------------------------------------------------------------------------------

namespace {

using ojson = nlohmann::ordered_json;

ojson summary_json(const CompareSummary& s) {
  return ojson{{"mean", s.mean}, {"sd", s.sd},   {"q025", s.q025}, {"q10", s.q10},
               {"q50", s.q50},   {"q90", s.q90}, {"q975", s.q975}};
}

ojson side_json(const std::string& file, const std::string& title, const CompareSummary& s) {
  ojson j{{"file", file}, {"title", title}};
  const ojson summary = summary_json(s);
  for (const auto& [k, v] : summary.items()) j[k] = v;
  return j;
}

// "+1,234,000": persons rounded to thousands, signed, with thousands separators.
std::string signed_persons(double x, bool sign = true) {
  if (!std::isfinite(x)) return std::to_string(x);
  const long long thousands = std::llround(x / 1000.0);
  if (thousands == 0) return "0";
  const std::string digits = std::to_string(thousands < 0 ? -thousands : thousands) + "000";
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return (thousands < 0 ? "−" : sign ? "+" : "") + s;
}

// Display width of a UTF-8 string (code points; the table uses no wide characters).
std::size_t width(const std::string& s) {
  return std::size_t(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}
std::string pad(const std::string& s, std::size_t w, bool right = false) {
  const std::string fill(w > width(s) ? w - width(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

}  // namespace

void write_compare_json(std::ostream& out, const CompareResult& r) {
  ojson doc;
  doc["steppe_version"] = std::string(version);
  doc["a"] = side_json(r.file_a, r.title_a, r.a);
  doc["b"] = side_json(r.file_b, r.title_b, r.b);
  doc["headline"] = r.headline;
  doc["seed"] = r.seed;
  doc["draws"] = r.draws;
  doc["posterior"] = r.posterior;
  if (r.cancelled) doc["cancelled"] = true;
  doc["exact"] = r.exact;
  doc["permutations"] = r.permutations;
  ojson used = ojson::array();
  for (const Attribution& x : r.attribution) used.push_back(x.factor);
  doc["factors_used"] = std::move(used);
  doc["difference"] = summary_json(r.difference);
  ojson list = ojson::array();
  for (const Attribution& x : r.attribution)
    list.push_back(ojson{{"factor", x.factor},
                         {"fields", x.fields},
                         {"mean", x.value.mean},
                         {"q025", x.value.q025},
                         {"q975", x.value.q975}});
  doc["attribution"] = std::move(list);
  out << doc.dump(2, ' ', false, ojson::error_handler_t::replace) << '\n';
  if (!out) throw error("write_compare_json: write failed");
}

void write_compare_table(std::ostream& out, const CompareResult& r) {
  const bool ranges = r.draws > 1;
  auto range = [&](const CompareSummary& s) {
    return ranges ? signed_persons(s.q025) + " to " + signed_persons(s.q975) : std::string();
  };
  auto level = [&](const CompareSummary& s) {
    return ranges ? signed_persons(s.q50, false) + " (95 % range " + signed_persons(s.q025, false) +
                        "–" + signed_persons(s.q975, false) + ")"
                  : signed_persons(s.mean, false);
  };
  out << "Comparing " << r.headline
      << (r.headline == "/published/modelled" ? " (each scenario's measure of its published toll)"
                                              : " (headline excess deaths in each famine window)")
      << '\n';
  out << "  A: " << r.file_a << (r.title_a.empty() ? "" : " — " + r.title_a) << '\n'
      << "     " << (ranges ? "median " : "") << level(r.a) << '\n';
  out << "  B: " << r.file_b << (r.title_b.empty() ? "" : " — " + r.title_b) << '\n'
      << "     " << (ranges ? "median " : "") << level(r.b) << '\n';
  if (r.posterior)
    out << r.draws << " posterior draws of A (its SMC calibration's particles; B not re-fitted), seed "
        << r.seed << ", the same draws in every hybrid; ";
  else
    out << r.draws << (r.draws == 1 ? " draw (central values)" : " draws") << ", seed " << r.seed
        << ", the same draws in every hybrid; ";
  if (r.exact)
    out << "exact Shapley values over " << r.attribution.size() << " factor"
        << (r.attribution.size() == 1 ? "" : "s");
  else
    out << "Shapley values over " << r.attribution.size() << " factors from " << r.permutations
        << " sampled orders";
  out << " (" << r.hybrids_run << " scenario runs)";
  if (r.cancelled) out << " (cancelled: partial result)";
  out << ".\nPersons, rounded to thousands; contributions are B − A, means across draws"
      << (ranges ? " with their 95 % range" : "") << ".\n\n";

  // factor | mean | 95 % range | fields: the fields last, as their lists vary in length.
  std::vector<std::array<std::string, 4>> rows{
      {"factor", "mean", ranges ? "95 % range" : "", "fields"}};
  for (const Attribution& x : r.attribution) {
    std::string fields;
    for (const std::string& f : x.fields) fields += (fields.empty() ? "" : ", ") + f;
    rows.push_back({x.factor, signed_persons(x.value.mean), range(x.value), fields});
  }
  rows.push_back({"total (B − A)", signed_persons(r.difference.mean), range(r.difference), ""});
  std::array<std::size_t, 3> w{};
  for (const auto& row : rows)
    for (std::size_t c = 0; c < 3; ++c) w[c] = std::max(w[c], width(row[c]));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (i + 1 == rows.size())
      out << std::string(w[0] + w[1] + w[2] + (ranges ? 4 : 2), '-') << '\n';
    std::string line = pad(row[0], w[0]) + "  " + pad(row[1], w[1], true) + "  ";
    if (ranges) line += pad(row[2], w[2], true) + "  ";
    line += row[3];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  if (r.attribution.empty())
    out << "(the scenarios do not differ in any field that changes the numbers)\n";
  if (!out) throw error("write_compare_table: write failed");
}

}  // namespace steppe
