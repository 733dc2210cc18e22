// SPDX-License-Identifier: MIT
// Reads the `steppe project` input (docs/project_input.md) and writes the projection as JSON.
// The only translation unit that includes <nlohmann/json.hpp> (through io/json_cursor.hpp).
#include <fstream>
#include <ostream>
#include <sstream>

#include "io/json_cursor.hpp"
#include "steppe/fertility.hpp"
#include "steppe/io/csv.hpp"
#include "steppe/io/project_input.hpp"
#include "steppe/life_table.hpp"
#include "steppe/migration.hpp"
#include "steppe/shock.hpp"

namespace steppe {
namespace {

using detail::json;
using detail::JsonCursor;

constexpr const char* input_format = "steppe-project/1";
constexpr const char* output_format = "steppe-projection/1";

/// An ages × 2 block, column 0 female, column 1 male (the Sex order).
using BySex = Eigen::ArrayXXd;

/// Reads what is shared by every per-group, per-step field: the dimensions.
class Reader {
 public:
  explicit Reader(const Dims& dims) : dims_(dims), n_(dims.n_ages()) {}

  /// {"female": [n], "male": [n]} (each value an array of n, or a number for every age when
  /// `broadcast`), or a bare number for every age and both sexes when `broadcast`.
  BySex by_sex(const JsonCursor& c, double lo, double hi, const std::string& what,
               bool broadcast) const {
    BySex out(n_, n_sexes);
    if (broadcast && c.is_number()) {
      out.setConstant(c.number_in(lo, hi, what));
      return out;
    }
    if (!c.is_object())
      c.expected(broadcast ? "a number or an object {\"female\": …, \"male\": …}"
                           : "an object {\"female\": [...], \"male\": [...]}");
    c.reject_unknown({"female", "male"});
    for (Sex s : sexes) {
      const JsonCursor v = c.at(to_string(s));
      if (broadcast && v.is_number())
        out.col(int(s)).setConstant(v.number_in(lo, hi, what));
      else if (broadcast && !v.is_array())
        v.expected("a number or an array of " + std::to_string(n_) + " numbers");
      else
        out.col(int(s)) = v.numbers(n_, lo, hi, what);
    }
    return out;
  }

  /// Persons by age and sex: explicit arrays, or {"total", "pattern", "female_share"}.
  BySex counts(const JsonCursor& c, bool is_signed) const {
    const double lo = is_signed ? -INFINITY : 0.0;
    const std::string what = is_signed ? "a number of persons" : "a number of persons >= 0";
    if (!c.is_object())
      c.expected("an object ({\"female\", \"male\"} or {\"total\", \"pattern\"})");
    if (!c.has("total")) return by_sex(c, lo, INFINITY, what, false);
    c.reject_unknown({"total", "pattern", "female_share"});
    const double total = c.at("total").number_in(lo, INFINITY, what);
    const JsonCursor p = c.at("pattern");
    try {
      if (p.is_object()) {  // a joint age × sex weight pattern
        if (const auto fs = c.find("female_share"))
          fs->fail("\"female_share\" cannot be used with a per-sex pattern (the pattern sets it)");
        return distribute(total, by_sex(p, 0, INFINITY, "a weight >= 0", false));
      }
      const double female_share = c.has("female_share") ? c.at("female_share").probability() : 0.5;
      Eigen::ArrayXd shape;
      if (p.is_array()) {
        shape = p.numbers(n_, 0, INFINITY, "a weight >= 0");
      } else {
        const std::string name = p.choice({"uniform", "rogers_castro"});
        shape = name == "uniform" ? uniform_shape(dims_.ages()) : rogers_castro_shape(dims_.ages());
      }
      return distribute_by_sex(total, shape, female_share);
    } catch (const domain_error& e) {  // all-zero weights with a non-zero total
      p.fail(std::string("expected weights with a positive sum: ") + e.what());
    }
  }

  /// {"survivorship": [n], "birth_survivorship": b} or {"life_table": {...}}.
  std::pair<Eigen::ArrayXd, double> mortality(const JsonCursor& c, Sex sex) const {
    c.reject_unknown({"survivorship", "birth_survivorship", "life_table"});
    c.one_of("survivorship", "life_table");
    if (c.has("survivorship")) {
      Eigen::ArrayXd s = c.at("survivorship").numbers(n_, 0, 1, "a probability in [0, 1]");
      return {s, c.at("birth_survivorship").probability()};
    }
    if (const auto b = c.find("birth_survivorship"))
      b->fail("unexpected with \"life_table\" (the table gives the birth survivorship)");
    const LifeTable lt = life_table(c.at("life_table"), sex);
    try {
      return {lt.projection_survivorship(dims_.ages()), lt.birth_survivorship(dims_.ages().width)};
    } catch (const domain_error& e) {
      c.at("life_table").fail(e.what());
    }
  }

  /// {"qx" | "mx" | "lx": [N], "ages": [N], "ax": rule or [N], "open_mx": m}.
  LifeTable life_table(const JsonCursor& c, Sex sex) const {
    c.reject_unknown({"qx", "mx", "lx", "ages", "ax", "open_mx"});
    const char* kinds[] = {"qx", "mx", "lx"};
    const char* kind = nullptr;
    for (const char* k : kinds)
      if (c.has(k)) {
        if (kind)
          c.fail(std::string("expected one of \"qx\", \"mx\", \"lx\", got both \"") + kind +
                 "\" and \"" + k + "\"");
        kind = k;
      }
    if (!kind) c.fail("missing required field: expected \"qx\", \"mx\" or \"lx\"");
    const std::string k = kind;
    const JsonCursor vals = c.at(k);
    const Eigen::ArrayXd v =
        k == "qx" ? vals.numbers(-1, 0, 1, "a probability in [0, 1]")
                  : vals.numbers(-1, 0, INFINITY, k == "mx" ? "a rate >= 0" : "a number >= 0");
    if (v.size() < 2) vals.expected("an array of at least 2 numbers");
    Eigen::ArrayXd ages = Eigen::ArrayXd::LinSpaced(v.size(), 0, double(v.size() - 1));
    if (const auto a = c.find("ages")) {
      ages = a->numbers(v.size(), 0, 1000, "an age in years");
      for (Eigen::Index i = 0; i < ages.size(); ++i)
        if (ages[i] != std::floor(ages[i]) || (i == 0 && ages[i] != 0) ||
            (i > 0 && ages[i] <= ages[i - 1]))
          a->at(std::size_t(i))
              .expected(i == 0 ? "0 (a life table starts at birth)"
                               : "whole years, strictly increasing");
    }
    AxRule rule = AxRule::coale_demeny(sex);
    if (const auto ax = c.find("ax")) {
      if (ax->is_array()) {
        rule = AxRule::given(ax->numbers(v.size(), 0, INFINITY, "a number of years >= 0"));
      } else {
        const std::string r = ax->choice({"coale_demeny", "midpoint", "constant_hazard"});
        rule = r == "midpoint"          ? AxRule::midpoint()
               : r == "constant_hazard" ? AxRule::constant_hazard()
                                        : rule;
      }
    }
    std::optional<double> open_mx;
    if (const auto m = c.find("open_mx")) {
      if (k == "mx") m->fail("unexpected with \"mx\" (the last mx is the open-interval rate)");
      open_mx = m->number_in(1e-300, INFINITY, "a rate > 0");
    }
    try {
      if (k == "qx") return LifeTable::from_qx(ages, v, rule, open_mx);
      if (k == "mx") return LifeTable::from_mx(ages, v, rule);
      return LifeTable::from_lx(ages, v, rule, open_mx);
    } catch (const domain_error& e) {
      c.fail(e.what());
    }
  }

  /// {"asfr": [n]} or {"tfr": x, "pattern": name | [n shares] | {"lower": [...], "share": [...]}}.
  Eigen::ArrayXd fertility(const JsonCursor& c) const {
    c.reject_unknown({"asfr", "tfr", "pattern"});
    c.one_of("asfr", "tfr");
    if (c.has("asfr")) {
      if (const auto p = c.find("pattern"))
        p->fail("unexpected with \"asfr\" (use it with \"tfr\")");
      const JsonCursor a = c.at("asfr");
      Eigen::ArrayXd asfr = a.numbers(n_, 0, INFINITY, "a rate >= 0 (births per woman-year)");
      if (asfr[0] != 0) a.at(0).expected("0 (no births in the first age cell)");
      return asfr;
    }
    const double tfr = c.at("tfr").non_negative("a total fertility rate >= 0");
    const JsonCursor p = c.at("pattern");
    Eigen::ArrayXd share;
    try {
      if (p.is_string()) {
        share = fertility_pattern(p.string(), dims_.ages());
      } else if (p.is_object()) {
        p.reject_unknown({"lower", "share"});
        FertilityPattern fp{"pattern", {}, {}};
        const JsonCursor lower = p.at("lower");
        for (std::size_t i = 0; i < lower.array().size(); ++i)
          fp.lower.push_back(lower.at(i).integer());
        const Eigen::ArrayXd s =
            p.at("share").numbers(Eigen::Index(fp.lower.size()), 0, 1, "a proportion in [0, 1]");
        fp.share.assign(s.data(), s.data() + s.size());
        share = pattern_on_axis(fp, dims_.ages());
      } else {
        share = p.numbers(n_, 0, 1, "a proportion in [0, 1]");
        if (share[0] != 0) p.at(0).expected("0 (no births in the first age cell)");
      }
      return asfr_from_tfr(tfr, share, dims_.ages());
    } catch (const domain_error& e) {
      p.fail(e.what());
    }
  }

 private:
  const Dims& dims_;
  Eigen::Index n_;
};

AgeAxis parse_ages(const JsonCursor& c) {
  c.reject_unknown({"layout", "omega", "open_age"});
  const std::string layout = c.at("layout").choice({"single_year", "five_year"});
  if (layout == "single_year") {
    if (const auto o = c.find("open_age"))
      o->fail("unexpected with \"single_year\" (use \"omega\")");
    const int omega = c.has("omega") ? c.at("omega").integer() : 100;
    if (omega < 1 || omega > 150) c.at("omega").expected("an integer in [1, 150]");
    return AgeAxis::single_year(omega);
  }
  if (const auto o = c.find("omega")) o->fail("unexpected with \"five_year\" (use \"open_age\")");
  const int open_age = c.has("open_age") ? c.at("open_age").integer() : 85;
  if (open_age < 5 || open_age > 150 || open_age % 5 != 0)
    c.at("open_age").expected("a multiple of 5 in [5, 150]");
  return AgeAxis::five_year(open_age);
}

std::vector<std::string> parse_groups(const JsonCursor& c) {
  std::vector<std::string> groups;
  if (c.array().empty()) c.expected("a non-empty array of group names");
  for (std::size_t i = 0; i < c.array().size(); ++i) {
    const JsonCursor g = c.at(i);
    const std::string name = g.string();
    if (name.empty()) g.expected("a non-empty name");
    for (const auto& prev : groups)
      if (prev == name) g.fail("repeated group name \"" + name + "\"");
    groups.push_back(name);
  }
  return groups;
}

ProjectorOptions parse_options(const JsonCursor& c) {
  c.reject_unknown({"timing", "end_migrants_bear", "on_negative"});
  ProjectorOptions o;
  if (const auto t = c.find("timing")) {
    const std::string s = t->choice({"half_half", "start", "end"});
    o.timing = s == "start" ? MigrationTiming::start
               : s == "end" ? MigrationTiming::end
                            : MigrationTiming::half_half;
  }
  if (const auto b = c.find("end_migrants_bear")) o.end_migrants_bear = b->boolean();
  if (const auto n = c.find("on_negative"))
    o.on_negative =
        n->choice({"clamp", "throw"}) == "throw" ? OnNegative::throw_error : OnNegative::clamp;
  return o;
}

Population parse_initial(const JsonCursor& c, const Dims& dims) {
  Reader r(dims);
  Population pop(dims);
  c.reject_unknown(dims.groups());
  const std::string what = "a number of persons >= 0";
  for (int g = 0; g < dims.n_groups(); ++g) {
    const JsonCursor gc = c.at(dims.group_name(g));
    gc.reject_unknown({"female", "male", "abroad"});
    BySex home(dims.n_ages(), n_sexes);
    for (Sex s : sexes)
      home.col(int(s)) = gc.at(to_string(s)).numbers(dims.n_ages(), 0, INFINITY, what);
    set_group(pop.home(), g, home);
    if (const auto a = gc.find("abroad"))
      set_group(pop.abroad(), g, r.by_sex(*a, 0, INFINITY, what, false));
  }
  return pop;
}

/// An optional RateSet component (empty = absent), shaped and filled with `fill` on first use.
Eigen::ArrayXXd& shaped(Eigen::ArrayXXd& a, Eigen::Index rows, Eigen::Index cols, double fill = 0) {
  if (a.size() == 0) a.setConstant(rows, cols, fill);
  return a;
}

/// Crisis hazard multipliers of one step (ages × cols, 1 = none), applied once all groups are read.
struct Multipliers {
  Eigen::ArrayXXd home, abroad;
  bool any_home = false, any_abroad = false;
};

/// Fills group g of `rates` from one step's group object.
void parse_step_group(const JsonCursor& c, const Dims& dims, int g, RateSet& rates,
                      Multipliers& mult) {
  const Reader r(dims);
  c.reject_unknown({"mortality", "mortality_abroad", "fertility", "fertility_abroad", "srb",
                    "migration", "crisis"});
  for (const bool home : {true, false}) {
    const char* where = home ? "mortality" : "mortality_abroad";
    const auto m = home ? std::optional<JsonCursor>(c.at(where)) : c.find(where);
    if (!m) {  // abroad defaults to the home mortality
      rates.survivorship_abroad.col(2 * g) = rates.survivorship.col(2 * g);
      rates.survivorship_abroad.col(2 * g + 1) = rates.survivorship.col(2 * g + 1);
      rates.birth_survivorship_abroad.segment(2 * g, 2) =
          rates.birth_survivorship.segment(2 * g, 2);
      continue;
    }
    m->reject_unknown({"female", "male"});
    for (Sex s : sexes) {
      const auto [surv, birth] = r.mortality(m->at(to_string(s)), s);
      set_column(home ? rates.survivorship : rates.survivorship_abroad, s, g, surv);
      (home ? rates.birth_survivorship : rates.birth_survivorship_abroad)[Dims::col(s, g)] = birth;
    }
  }
  rates.asfr.col(g) = r.fertility(c.at("fertility"));
  if (const auto f = c.find("fertility_abroad"))
    shaped(rates.asfr_abroad, dims.n_ages(), dims.n_groups()).col(g) = r.fertility(*f);
  if (const auto s = c.find("srb")) {
    const double srb = s->number();
    if (!(srb > 0)) s->expected("a positive number (male births per female birth)");
    rates.srb[g] = srb;
  }
  if (const auto m = c.find("migration")) {
    m->reject_unknown({"net_rate", "net_count", "emigration_rate", "emigration_count",
                       "return_rate", "return_count", "immigration_count"});
    const std::string prop = "a proportion in [0, 1]";
    if (const auto v = m->find("net_rate"))
      set_group(shaped(rates.net_migration_rate, dims.n_ages(), dims.n_cols()), g,
                r.by_sex(*v, -1, INFINITY, "a proportion >= -1 (signed net migration)", true));
    if (const auto v = m->find("net_count"))
      set_group(shaped(rates.net_migration_count, dims.n_ages(), dims.n_cols()), g,
                r.counts(*v, true));
    if (const auto v = m->find("emigration_rate"))
      set_group(shaped(rates.emigration_rate, dims.n_ages(), dims.n_cols()), g,
                r.by_sex(*v, 0, 1, prop, true));
    if (const auto v = m->find("emigration_count"))
      set_group(shaped(rates.emigration_count, dims.n_ages(), dims.n_cols()), g,
                r.counts(*v, false));
    if (const auto v = m->find("return_rate"))
      set_group(shaped(rates.return_rate, dims.n_ages(), dims.n_cols()), g,
                r.by_sex(*v, 0, 1, prop, true));
    if (const auto v = m->find("return_count"))
      set_group(shaped(rates.return_count, dims.n_ages(), dims.n_cols()), g, r.counts(*v, false));
    if (const auto v = m->find("immigration_count"))
      set_group(shaped(rates.immigration_count, dims.n_ages(), dims.n_cols()), g,
                r.counts(*v, false));
  }
  if (const auto k = c.find("crisis")) {
    k->reject_unknown(
        {"mortality_multiplier", "mortality_multiplier_abroad", "fertility_multiplier"});
    const std::string what = "a multiplier >= 0";
    if (const auto v = k->find("mortality_multiplier")) {
      set_group(mult.home, g, r.by_sex(*v, 0, INFINITY, what, true));
      mult.any_home = true;
    }
    if (const auto v = k->find("mortality_multiplier_abroad")) {
      set_group(mult.abroad, g, r.by_sex(*v, 0, INFINITY, what, true));
      mult.any_abroad = true;
    }
    if (const auto v = k->find("fertility_multiplier")) {
      if (rates.fertility_multiplier.size() == 0)
        rates.fertility_multiplier.setOnes(dims.n_groups());
      rates.fertility_multiplier[g] = v->non_negative(what);
    }
  }
}

std::string parse_error_reason(const json::parse_error& e) {
  // nlohmann: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error …"
  const std::string w = e.what();
  const auto at = w.find("parse error");
  return at == std::string::npos ? w : w.substr(at);
}

}  // namespace

ProjectInput parse_project_input(const std::string& json_text, const std::string& file) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw input_error(file, "", parse_error_reason(e));
  }
  const JsonCursor root(doc, file);
  root.reject_unknown(
      {"format", "description", "ages", "groups", "start_year", "options", "initial", "steps"});
  if (const auto f = root.find("format"))
    if (f->string() != input_format) f->expected(std::string("\"") + input_format + "\"");
  if (const auto d = root.find("description")) (void)d->string();

  ProjectInput in;
  const AgeAxis axis = parse_ages(root.at("ages"));
  try {
    in.dims = Dims(axis, parse_groups(root.at("groups")));
  } catch (const domain_error& e) {
    root.at("groups").fail(e.what());
  }
  in.start_year = root.at("start_year").integer();
  if (const auto o = root.find("options")) in.options = parse_options(*o);
  in.initial = parse_initial(root.at("initial"), in.dims);

  const JsonCursor steps = root.at("steps");
  if (steps.array().empty()) steps.expected("a non-empty array of steps");
  for (std::size_t k = 0; k < steps.array().size(); ++k) {
    const JsonCursor step = steps.at(k);
    step.reject_unknown({"repeat", "label", "groups"});
    if (const auto l = step.find("label")) (void)l->string();
    int repeat = 1;
    if (const auto r = step.find("repeat")) {
      repeat = r->integer();
      if (repeat < 1 || repeat > 10000) r->expected("an integer in [1, 10000]");
    }
    RateSet rates(in.dims);
    const JsonCursor groups = step.at("groups");
    groups.reject_unknown(in.dims.groups());
    const Eigen::ArrayXXd ones = Eigen::ArrayXXd::Ones(in.dims.n_ages(), in.dims.n_cols());
    Multipliers mult{ones, ones};
    for (int g = 0; g < in.dims.n_groups(); ++g)
      parse_step_group(groups.at(in.dims.group_name(g)), in.dims, g, rates, mult);
    try {
      // Crisis survivorship S^m, once all baseline survivorships (home and abroad) are final.
      if (mult.any_home) set_mortality_multiplier(rates, mult.home, false);
      if (mult.any_abroad) set_mortality_multiplier(rates, mult.abroad, true);
      rates.validate(in.dims);
    } catch (const domain_error& e) {
      step.fail(e.what());  // a check only the library makes: point at the step
    }
    for (int i = 0; i < repeat; ++i) in.rates.push_back(rates);
  }
  return in;
}

ProjectInput load_project_input(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(path.string(), "", "cannot open the file");
  std::ostringstream text;
  text << f.rdbuf();
  if (!f && !f.eof()) throw input_error(path.string(), "", "cannot read the file");
  return parse_project_input(text.str(), path.string());
}

void write_projection_json(std::ostream& out, const Trajectory& t) {
  const Dims& d = t.dims();
  auto col = [](const auto& a, int c) {
    return std::vector<double>(a.col(c).data(), a.col(c).data() + a.rows());
  };
  json doc;
  doc["format"] = output_format;
  json lower = json::array();
  for (int x = 0; x < d.n_ages(); ++x) lower.push_back(d.ages().lower(x));
  doc["ages"] = {{"layout", d.ages().width == 1 ? "single_year" : "five_year"},
                 {"width", d.ages().width},
                 {"lower", lower}};
  doc["groups"] = d.groups();
  doc["population"] = json::array();
  for (std::size_t k = 0; k < t.populations().size(); ++k) {
    const Population& p = t.populations()[k];
    json groups = json::object();
    for (int g = 0; g < d.n_groups(); ++g) {
      json e, a;
      for (Sex s : sexes) {
        e[to_string(s)] = col(p.home(), Dims::col(s, g));
        a[to_string(s)] = col(p.abroad(), Dims::col(s, g));
      }
      e["abroad"] = a;
      groups[d.group_name(g)] = e;
    }
    doc["population"].push_back({{"year", t.years()[k]}, {"groups", groups}});
  }
  doc["flows"] = json::array();
  for (int k = 0; k < t.steps(); ++k) {
    const Flows& f = t.flows()[std::size_t(k)];
    json groups = json::object();
    for (int g = 0; g < d.n_groups(); ++g) {
      json e;
      for (Sex s : sexes) {
        const int c = Dims::col(s, g);
        e[to_string(s)] = {{"deaths", col(f.deaths, c)},
                           {"deaths_abroad", col(f.deaths_abroad, c)},
                           {"baseline_deaths", col(f.baseline_deaths, c)},
                           {"baseline_deaths_abroad", col(f.baseline_deaths_abroad, c)},
                           {"births", f.births[c]},
                           {"births_abroad", f.births_abroad[c]},
                           {"baseline_births", f.baseline_births[c]},
                           {"emigrants", col(f.emigrants, c)},
                           {"returnees", col(f.returnees, c)},
                           {"immigrants", col(f.immigrants, c)},
                           {"net_migrants", col(f.net_migrants, c)}};
      }
      groups[d.group_name(g)] = e;
    }
    json clamps = json::array();
    for (const Clamp& c : f.clamps) {
      static const char* where[] = {"home_start", "home_end", "abroad_start", "abroad_end"};
      clamps.push_back({{"where", where[int(c.where)]},
                        {"group", d.group_name(c.col / n_sexes)},
                        {"sex", to_string(Sex(c.col % n_sexes))},
                        {"age", d.ages().lower(c.age_cell)},
                        {"requested", c.requested},
                        {"applied", c.applied}});
    }
    doc["flows"].push_back({{"year", t.years()[std::size_t(k) + 1]},
                            {"clamps", clamps},
                            {"clamped_persons", f.clamped_persons},
                            {"groups", groups}});
  }
  out << doc.dump() << '\n';
  if (!out) throw error("write_projection_json: write failed");
}

}  // namespace steppe
