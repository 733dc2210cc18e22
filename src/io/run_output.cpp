// SPDX-License-Identifier: MIT
// Writers for Monte Carlo results (`steppe run`, `steppe sweep`): JSON, CSV and a readable table.
#include "steppe/io/run_output.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string_view>

#include "steppe/error.hpp"
#include "steppe/version.hpp"
#include "text_format.hpp"

namespace steppe {
namespace {

inline void check(const std::ostream& out, const char* what) { detail::check_stream(out, what); }
inline std::string number(double v) { return detail::shortest_number(v); }
using detail::csv_field;
inline std::string escape_token(const std::string& t) { return detail::pointer_token(t); }
inline std::string persons(double x) { return detail::persons_thousands(x); }

// Insertion-ordered, so the documents keep the documented key order and the metrics the
// order of RunResult (years in calendar order, groups in scenario order).
using ojson = nlohmann::ordered_json;

constexpr double level_tolerance = 1e-9;




const Summary* find_metric(const RunResult& r, std::string_view path) {
  for (const Metric& m : r.metrics)
    if (m.path == path) return &m.summary;
  return nullptr;
}

// RFC 6901 reference tokens of `pointer` ("/a/b~1c" → {"a", "b/c"}).
std::vector<std::string> pointer_tokens(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/')
    throw error("run output: metric path \"" + pointer + "\" is not a JSON pointer");
  std::vector<std::string> tokens;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = pointer.find('/', start);
    std::string t = pointer.substr(start, slash == std::string::npos ? slash : slash - start);
    std::string u;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
        u += t[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        u += t[i];
      }
    }
    tokens.push_back(std::move(u));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return tokens;
}


ojson summary_json(const Summary& s, const std::vector<double>& levels) {
  ojson o = ojson::object();
  o.emplace("mean", s.mean);
  o.emplace("sd", s.sd);
  for (std::size_t k = 0; k < levels.size() && k < s.quantiles.size(); ++k)
    o.emplace(quantile_key(levels[k]), s.quantiles[k]);
  return o;
}

ojson target_json(const RunDescription::TargetInfo& t) {
  ojson o = ojson::object();
  o.emplace("observed", t.observed);
  o.emplace("date", t.date);
  o.emplace("group", t.group);
  o.emplace("sex", t.sex);
  o.emplace("ages", t.ages);
  o.emplace("abroad", t.abroad);
  return o;
}

// Builds the nested metric tree: each metric's summary at its pointer. `on_new` is called for
// every branch created (with its tokens so far) and may fill it before the metrics go in.
class MetricTree {
 public:
  template <class OnNew>
  void add(ojson& root, const std::string& path, ojson leaf, OnNew&& on_new) {
    const std::vector<std::string> tokens = pointer_tokens(path);
    std::string prefix;
    ojson* node = &root;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (!node->is_object() || leaves_.count(prefix))
        throw error("run output: metric \"" + path + "\" lies under another value at \"" + prefix +
                    "\"");
      prefix += '/' + escape_token(tokens[i]);
      const bool last = i + 1 == tokens.size();
      auto it = node->find(tokens[i]);
      if (it != node->end()) {
        if (last) throw error("run output: metric \"" + path + "\" is written twice");
        node = &it.value();
        continue;
      }
      if (last) {
        node->emplace(tokens[i], std::move(leaf));
        leaves_.insert(prefix);
        return;
      }
      node = &node->emplace(tokens[i], ojson::object()).first.value();
      on_new(std::span<const std::string>(tokens.data(), i + 1), *node);
    }
  }

 private:
  std::set<std::string> leaves_;  // pointers of the leaves written so far
};

ojson scenario_json(const RunDescription& run) {
  ojson o = ojson::object();
  o.emplace("file", run.file);
  o.emplace("title", run.title);
  return o;
}

ojson levels_json(const std::vector<double>& levels) {
  ojson a = ojson::array();
  for (double q : levels) a.push_back(q);
  return a;
}

void dump(std::ostream& out, const ojson& doc, const char* what) {
  out << doc.dump(2, ' ', false, ojson::error_handler_t::replace) << '\n';
  check(out, what);
}

// ---- the table -----------------------------------------------------------------------------


// "97.5", "95", "0.5": a percentage without trailing zeros.
std::string percent(double p) { return detail::formatted(p); }

// Which quantiles the table shows (a range only with more than one draw).
using TableLevels = detail::ShownLevels;
TableLevels table_levels(const RunResult& r) {
  return detail::shown_levels(r.quantile_levels, r.draws > 1);
}

class Table {
 public:
  Table(std::ostream& out, const RunResult& r) : out_(out), r_(r), lv_(table_levels(r)) {}

  const TableLevels& levels() const { return lv_; }

  double central(const Summary& s) const {
    return lv_.median >= 0 && std::size_t(lv_.median) < s.quantiles.size()
               ? s.quantiles[std::size_t(lv_.median)]
               : s.mean;
  }

  // "<median>" and " (95 % range <lo>–<hi>)", formatted by `fmt`.
  template <class Fmt>
  std::string range(const Summary& s, Fmt&& fmt, bool label = true) const {
    if (lv_.lo < 0 || std::size_t(lv_.hi) >= s.quantiles.size()) return "";
    const double lo = s.quantiles[std::size_t(lv_.lo)], hi = s.quantiles[std::size_t(lv_.hi)];
    const char* sep = (lo < 0 || hi < 0) ? " to " : "–";
    return " (" + (label ? lv_.range + " " : std::string()) + fmt(lo) + sep + fmt(hi) + ")";
  }
  std::string estimate(const Summary& s) const { return persons(central(s)) + range(s, persons); }

  const Summary* find(std::string_view path) const { return find_metric(r_, path); }

  // The last token of every metric "<prefix><name>" (no further '/'), in result order.
  std::vector<std::string> names_under(std::string_view prefix) const {
    std::vector<std::string> names;
    for (const Metric& m : r_.metrics) {
      if (m.path.size() <= prefix.size() || m.path.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string rest = m.path.substr(prefix.size());
      if (rest.find('/') == std::string::npos) names.push_back(pointer_tokens("/" + rest).front());
    }
    return names;
  }

  // The distinct next tokens of every metric "<prefix><name>/…", in result order.
  std::vector<std::string> names_under_branches(std::string_view prefix) const {
    std::vector<std::string> names;
    for (const Metric& m : r_.metrics) {
      if (m.path.size() <= prefix.size() || m.path.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string rest = m.path.substr(prefix.size());
      const std::size_t slash = rest.find('/');
      if (slash == std::string::npos) continue;
      const std::string name = pointer_tokens("/" + rest.substr(0, slash)).front();
      if (names.empty() || names.back() != name) names.push_back(name);
    }
    return names;
  }

  // A section: "<title>: <estimate>", then indented rows "label  median (range)[note]".
  struct Row {
    std::string label;
    const Summary* s;
    std::string note;
  };

  // Adds the section "<title>[: <estimate of <prefix>total>]" with one row per group of
  // "<prefix>by_group/" (note(group) after it) and the `extra` rows the result has. Left out if
  // the result has none of them. Printed by flush(), aligned with the other sections.
  template <class Note>
  void section(const std::string& title, const std::string& prefix, Note&& note,
               std::vector<Row> extra = {}) {
    Section sec{title, find(prefix + "total"), {}};
    for (const std::string& g : names_under(prefix + "by_group/"))
      sec.rows.push_back({g, find(prefix + "by_group/" + escape_token(g)), note(escape_token(g))});
    for (Row& e : extra)
      if (e.s) sec.rows.push_back(std::move(e));
    if (sec.total || !sec.rows.empty()) sections_.push_back(std::move(sec));
  }

  // Prints the sections, every row's label and median aligned across all of them.
  void flush() {
    std::size_t label_w = 0, value_w = 0;
    for (const Section& sec : sections_)
      for (const Row& row : sec.rows) {
        label_w = std::max(label_w, row.label.size());
        value_w = std::max(value_w, persons(central(*row.s)).size());
      }
    for (const Section& sec : sections_) {
      out_ << sec.title;
      if (sec.total) out_ << ": " << estimate(*sec.total);
      out_ << '\n';
      for (const Row& row : sec.rows) {
        const std::string v = persons(central(*row.s));
        out_ << "  " << row.label << std::string(label_w - row.label.size() + 2, ' ')
             << std::string(value_w - v.size(), ' ') << v << range(*row.s, persons) << row.note
             << '\n';
      }
    }
    sections_.clear();
  }

 private:
  std::ostream& out_;
  const RunResult& r_;
  TableLevels lv_;
  struct Section {
    std::string title;
    const Summary* total;
    std::vector<Row> rows;
  };
  std::vector<Section> sections_;
};

std::string signed_percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f %%", 100 * fraction);
  return buf;
}

std::string nats(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string pad_right(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}
std::string pad_left(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

void write_targets(std::ostream& out, const RunDescription& run, const Table& t) {
  struct Line {
    std::string name, what, date, observed, modelled, deviation;
  };
  std::vector<Line> lines;
  for (const RunDescription::TargetInfo& info : run.targets) {
    const std::string base = "/targets/" + escape_token(info.name) + "/";
    const Summary* modelled = t.find(base + "modelled");
    const Summary* dev = t.find(base + "relative_deviation");
    std::string what = info.group + ", " + info.sex + ", ages " + info.ages;
    if (info.abroad) what += ", abroad";
    char date[16];
    std::snprintf(date, sizeof date, "%.2f", info.date);
    lines.push_back(
        {info.name, what, date, persons(info.observed),
         modelled ? persons(t.central(*modelled)) + t.range(*modelled, persons, false) : "-",
         dev ? signed_percent(t.central(*dev)) : "-"});
  }
  if (lines.empty()) return;
  const std::string model_head =
      t.levels().lo >= 0 ? "modelled (" + t.levels().range + ")" : "modelled";
  Line head{"target", "counts", "date", "observed", model_head, "deviation"};
  std::size_t w[6] = {};
  auto widen = [&](const Line& l) {
    const std::string* f[6] = {&l.name, &l.what, &l.date, &l.observed, &l.modelled, &l.deviation};
    for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], f[i]->size());
  };
  widen(head);
  for (const Line& l : lines) widen(l);
  // The en dash is 3 bytes and 1 column: count columns, not bytes, for the modelled field.
  auto cols = [](const std::string& s) {
    return std::size_t(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  };
  w[4] = 0;
  for (const Line& l : lines) w[4] = std::max(w[4], cols(l.modelled));
  w[4] = std::max(w[4], cols(head.modelled));
  auto print = [&](const Line& l) {
    out << "  " << pad_right(l.name, w[0]) << "  " << pad_right(l.what, w[1]) << "  "
        << pad_left(l.date, w[2]) << "  " << pad_left(l.observed, w[3]) << "  " << l.modelled
        << std::string(w[4] - cols(l.modelled), ' ') << "  " << pad_left(l.deviation, w[5]) << '\n';
  };
  out << "\nTargets (relative deviation: modelled / observed - 1, median)\n";
  print(head);
  for (const Line& l : lines) print(l);
  if (const Summary* ll = t.find("/log_likelihood/total"))
    out << "  log-likelihood: " << nats(t.central(*ll)) << t.range(*ll, nats) << " nats\n";
}

// A food-balance crisis' trajectories by year (medians): herd, kcal per person per day, deficit.
void write_drivers(std::ostream& out, const RunDescription& run, const Table& t) {
  const std::vector<std::string> years = t.names_under("/drivers/herd/total/");
  if (years.empty()) return;
  auto median = [&](const std::string& path, auto&& fmt) -> std::string {
    const Summary* s = t.find(path);
    return s ? fmt(t.central(*s)) : "-";
  };
  auto millions = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2fM", x / 1e6);
    return std::string(b);
  };
  auto whole = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", x);
    return std::string(b);
  };
  auto share = [](double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", x);
    return std::string(b);
  };
  out << "\nFood balance (medians): herd at the start of the year by species (head; sheep: sheep and "
         "goats), grain left after seed and procurement (tonnes), food in kcal per person per day "
         "and the deficit 1 − kcal/requirement, by group\n  "
      << pad_right("year", 6) << pad_left("herd", 9);
  static constexpr const char* species[][2] = {
      {"horses", "horses"}, {"cattle", "cattle"}, {"sheep_goats", "sheep"}, {"camels", "camels"}};
  for (const auto& sp : species) out << pad_left(sp[1], 8);
  out << pad_left("grain", 8);
  for (const std::string& g : run.groups) out << pad_left("kcal " + g, 16) << pad_left("deficit", 9);
  out << '\n';
  for (const std::string& y : years) {
    out << "  " << pad_right(y, 6) << pad_left(median("/drivers/herd/total/" + y, millions), 9);
    for (const auto& sp : species)
      out << pad_left(median(std::string("/drivers/herd/") + sp[0] + "/" + y, millions), 8);
    out << pad_left(median("/drivers/grain/" + y, millions), 8);
    for (const std::string& g : run.groups)
      out << pad_left(median("/drivers/kcal_per_person_day/" + escape_token(g) + "/" + y, whole), 16)
          << pad_left(median("/drivers/deficit/" + escape_token(g) + "/" + y, share), 9);
    out << '\n';
  }
}

// With outputs.by_age_year: each group's headline excess deaths by 10-year age group and year of
// the window, both sexes. Means, which add (medians of the two sexes would not sum to the
// median of both), with a total column and row.
void write_age_year(std::ostream& out, const RunDescription& run, const Table& t,
                    const std::string& headline) {
  for (const std::string& g : run.groups) {
    const std::string base = "/excess_deaths/by_group_sex_age_year/" + escape_token(g) + "/";
    const std::vector<std::string> ages = t.names_under_branches(base + "female/");
    if (ages.empty()) continue;
    const std::vector<std::string> year_list =
        t.names_under(base + "female/" + escape_token(ages.front()) + "/");
    auto mean = [&](const std::string& age, const std::string& year) {
      double sum = 0;
      for (const char* sex : {"female", "male"})
        if (const Summary* s = t.find(base + sex + "/" + escape_token(age) + "/" + year))
          sum += s->mean;
      return sum;
    };
    out << "\nExcess deaths by age and year, " << g << ", " << headline
        << " (means across draws, both sexes, at home and abroad; age at the end of the step)\n  "
        << pad_right("age", 8);
    for (const std::string& y : year_list) out << pad_left(y, 10);
    out << pad_left("total", 11) << '\n';
    std::vector<double> column(year_list.size(), 0.0);
    double all = 0;
    for (const std::string& age : ages) {
      out << "  " << pad_right(age, 8);
      double row = 0;
      for (std::size_t k = 0; k < year_list.size(); ++k) {
        const double x = mean(age, year_list[k]);
        out << pad_left(persons(x), 10);
        row += x;
        column[k] += x;
      }
      all += row;
      out << pad_left(persons(row), 11) << '\n';
    }
    out << "  " << pad_right("total", 8);
    for (double x : column) out << pad_left(persons(x), 10);
    out << pad_left(persons(all), 11) << '\n';
  }
}

// Each group's balance sheet over the projection, then its flows by year (medians).
void write_balance(std::ostream& out, const RunDescription& run, const Table& t,
                   const std::string& headline, const std::string& other) {
  for (const std::string& g : run.groups) {
    const std::string b = "/balance/" + escape_token(g) + "/";
    if (!t.find(b + "initial")) continue;
    struct Item {
      const char* key;
      std::string label;
    };
    const std::vector<Item> items = {
        {"initial", "population at the start (after undercount)"},
        {"births", "+ births"},
        {"immigrants", "+ in-migrants"},
        {"returnees", "+ returnees"},
        {"net_migration", "+ baseline net migration"},
        {"deaths", "- deaths at home"},
        {"emigrants", "- emigrants"},
        {"final", "= population at the end"},
        {"initial_abroad", "abroad at the start"},
        {"births_abroad", "+ births abroad"},
        {"deaths_abroad", "- deaths abroad"},
        {"final_abroad", "= abroad at the end (emigrants not returned)"},
        {"normal_deaths", "normal deaths (at home and abroad)"},
        {"excess_deaths", "excess deaths, " + headline},
        {"excess_deaths_rate_based", "excess deaths, " + other},
        {"excess_deaths_counterfactual", "excess deaths, " + other},
        {"lost_births", "lost births, " + headline},
    };
    std::size_t w = 0;
    for (const Item& i : items) w = std::max(w, i.label.size());
    out << "\nBalance sheet, " << g << ", whole projection (each line: median and range)\n";
    for (const Item& i : items)
      if (const Summary* s = t.find(b + i.key))
        out << "  " << pad_right(i.label, w) << "  " << pad_left(persons(t.central(*s)), 10)
            << t.range(*s, persons, false) << '\n';
    // By year: one row per step year, medians.
    const std::string y = "/balance_by_year/" + escape_token(g) + "/";
    const std::vector<std::string> years = [&] {
      std::vector<std::string> v;
      for (const std::string& name : t.names_under_branches(y)) v.push_back(name);
      return v;
    }();
    if (years.empty()) continue;
    const char* cols[] = {"births", "deaths", "deaths_abroad", "excess_deaths", "lost_births",
                          "emigrants", "returnees", "immigrants", "population_end",
                          "population_abroad_end"};
    const char* heads[] = {"births", "deaths", "d. abroad", "excess", "lost births",
                           "emigrants", "returnees", "in-migr.", "pop. end", "abroad end"};
    out << "  by year (medians; d. abroad = deaths abroad):\n  " << pad_right("year", 6);
    for (const char* h : heads) out << pad_left(h, 12);
    out << '\n';
    for (const std::string& year : years) {
      out << "  " << pad_right(year, 6);
      for (const char* c : cols) {
        const Summary* s = t.find(y + year + "/" + c);
        out << pad_left(s ? persons(t.central(*s)) : "-", 12);
      }
      out << '\n';
    }
  }
}

}  // namespace

std::string quantile_key(double level) {
  const double pct = 100 * level;
  const double whole = std::round(pct);
  if (std::abs(pct - whole) < level_tolerance) return "q" + std::to_string((long long)whole);
  // The fewest decimals that write the percentage exactly, then two digits before the point.
  double scaled = pct;
  int decimals = 0;
  do {
    scaled *= 10;
    ++decimals;
  } while (decimals < 9 && std::abs(scaled - std::round(scaled)) > level_tolerance * scaled);
  std::string digits = std::to_string((long long)std::round(scaled));
  const std::size_t width = std::size_t(2 + decimals);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return "q" + digits;
}

RunDescription describe_run(const Scenario& s) {
  RunDescription d;
  d.file = s.file();
  d.title = s.meta().title;
  d.window_first = s.outputs().window_first;
  d.window_last = s.outputs().window_last;
  d.headline_counterfactual = s.outputs().headline_counterfactual;
  const AgeAxis& ages = s.dims().ages();
  for (int g = 0; g < s.dims().n_groups(); ++g) d.groups.push_back(s.dims().group_name(g));
  if (const auto& p = s.outputs().published) {
    RunDescription::PublishedInfo i;
    i.source = p->source;
    for (const auto& src : s.meta().sources)
      if (src.id == p->source) i.citation = src.citation;
    i.value = p->value;
    i.low = p->low;
    i.high = p->high;
    i.measure = p->losses ? "losses" : "excess_deaths";
    if (p->group >= 0) i.group = s.dims().group_name(p->group);
    i.note = p->note;
    d.published = std::move(i);
  }
  for (const Target& t : s.targets()) {
    RunDescription::TargetInfo i;
    i.name = t.name;
    i.date = t.date;
    i.observed = t.observed;
    if (t.group >= 0) i.group = s.dims().group_name(t.group);
    if (t.sex >= 0) i.sex = to_string(Sex(t.sex));
    if (t.age_to < 0 || t.age_to >= ages.open_age())
      i.ages = std::to_string(t.age_from) + "+";
    else
      i.ages = std::to_string(t.age_from) + "-" + std::to_string(t.age_to + ages.width - 1);
    i.abroad = t.abroad;
    d.targets.push_back(std::move(i));
  }
  return d;
}

void write_run_json(std::ostream& out, const RunDescription& run, const RunResult& r) {
  ojson doc = ojson::object();
  doc.emplace("steppe_version", version);
  doc.emplace("scenario", scenario_json(run));
  doc.emplace("seed", r.seed);
  doc.emplace("draws", r.draws);
  if (r.cancelled) doc.emplace("cancelled", true);
  doc.emplace("quantiles", levels_json(r.quantile_levels));
  doc.emplace("window", ojson::array({run.window_first, run.window_last}));
  doc.emplace("definition", run.headline_counterfactual ? "counterfactual" : "rate_based");

  auto target = [&](const std::string& name) -> const RunDescription::TargetInfo* {
    for (const auto& t : run.targets)
      if (t.name == name) return &t;
    return nullptr;
  };
  std::set<std::string> described;
  // A target's description goes first in its object, before its metrics.
  auto on_new = [&](std::span<const std::string> tokens, ojson& node) {
    if (tokens.size() == 2 && tokens[0] == "targets")
      if (const auto* t = target(tokens[1])) {
        node = target_json(*t);
        described.insert(t->name);
      }
    if (tokens.size() == 1 && tokens[0] == "published" && run.published) {
      const RunDescription::PublishedInfo& p = *run.published;
      node.emplace("source", p.source);
      node.emplace("citation", p.citation);
      node.emplace("value", p.value);
      if (p.low >= 0) node.emplace("low", p.low);
      if (p.high >= 0) node.emplace("high", p.high);
      node.emplace("measure", p.measure);
      node.emplace("group", p.group);
      node.emplace("note", p.note);
    }
  };
  MetricTree tree;
  for (const Metric& m : r.metrics)
    tree.add(doc, m.path, summary_json(m.summary, r.quantile_levels), on_new);
  for (const auto& t : run.targets) {  // targets without metrics (none ran)
    if (described.count(t.name)) continue;
    auto it = doc.find("targets");
    if (it == doc.end()) it = doc.emplace("targets", ojson::object()).first;
    if (!it->is_object() || it->contains(t.name))
      throw error("run output: cannot describe target \"" + t.name + "\"");
    it->emplace(t.name, target_json(t));
  }
  doc.emplace("clamps", r.clamps);
  doc.emplace("clamped_persons", r.clamped_persons);
  dump(out, doc, "write_run_json");
}

void write_run_json(std::ostream& out, const Scenario& scenario, const RunResult& r) {
  write_run_json(out, describe_run(scenario), r);
}

void write_run_csv(std::ostream& out, const RunResult& r) {
  out << "metric,mean,sd";
  for (double q : r.quantile_levels) out << ',' << quantile_key(q);
  out << '\n';
  for (const Metric& m : r.metrics) {
    out << csv_field(m.path) << ',' << number(m.summary.mean) << ',' << number(m.summary.sd);
    for (std::size_t k = 0; k < r.quantile_levels.size(); ++k)
      out << ',' << (k < m.summary.quantiles.size() ? number(m.summary.quantiles[k]) : "");
    out << '\n';
  }
  check(out, "write_run_csv");
}

void write_run_table(std::ostream& out, const RunDescription& run, const RunResult& r) {
  Table t(out, r);
  const std::string window =
      std::to_string(run.window_first) + "–" + std::to_string(run.window_last);
  const std::string headline = run.headline_counterfactual ? "counterfactual" : "rate-based";
  const std::string other = run.headline_counterfactual ? "rate-based" : "counterfactual";

  out << (run.title.empty() ? run.file : run.title) << '\n';
  out << "Scenario " << run.file << ", steppe " << version << '\n';
  out << r.draws << (r.draws == 1 ? " draw (central values)" : " draws") << ", seed " << r.seed;
  if (r.cancelled) out << " (cancelled: partial result)";
  out << ".\n";
  if (t.levels().lo >= 0) {
    out << (t.levels().median >= 0 ? "Medians" : "Means") << " across draws, with the "
        << t.levels().range << " (" << percent(100 * r.quantile_levels.front()) << " % to "
        << percent(100 * r.quantile_levels.back()) << " % quantiles). ";
  }
  out << "Persons, rounded to thousands.\n\n";
  if (run.published)
    if (const Summary* m = t.find("/published/modelled")) {
      const RunDescription::PublishedInfo& p = *run.published;
      const std::string what = (p.measure == "losses" ? "losses (excess deaths + emigrants alive abroad at the end)"
                                                      : "excess deaths") +
                               std::string(", ") + (p.group == "all" ? "all groups" : p.group) + ", " + window;
      out << "Published estimate (" << p.source << "): " << persons(p.value);
      if (p.low >= 0 && p.high >= 0) out << " (range " << persons(p.low) << "–" << persons(p.high) << ")";
      out << "\n  counts: " << what << "\n  modelled, same definition: " << t.estimate(*m) << '\n';
      if (!p.note.empty()) out << "  note: " << p.note << '\n';
      out << '\n';
    }

  // "; <a> X, <b> Y": medians of two further metrics of a group, where the result has them.
  auto split = [&](const char* a, const std::string& pa, const char* b, const std::string& pb) {
    std::string note;
    if (const Summary* s = t.find(pa)) note += std::string(a) + " " + persons(t.central(*s));
    if (const Summary* s = t.find(pb))
      note += (note.empty() ? "" : ", ") + std::string(b) + " " + persons(t.central(*s));
    return note.empty() ? note : "; " + note;
  };
  auto no_note = [](const std::string&) { return std::string(); };
  // The other definition of excess deaths and lost births, on one line of its section.
  auto other_row = [&](const std::string& base) {
    std::vector<Table::Row> rows;
    for (const char* suffix : {"_rate_based/total", "_counterfactual/total"})
      if (const Summary* s = t.find(base + suffix)) rows.push_back({other + " definition", s, ""});
    return rows;
  };

  t.section(
      "Excess deaths " + window + ", " + headline + " (at home and abroad)", "/excess_deaths/",
      [&](const std::string& g) {
        const std::string p = "/excess_deaths/by_group_place/" + g;
        return split("at home", p + "/home", "abroad", p + "/abroad");
      },
      other_row("/excess_deaths"));
  t.section("Lost births " + window + ", " + headline, "/lost_births/", no_note,
            other_row("/lost_births"));
  t.section("Net emigration " + window, "/net_emigration/", [&](const std::string& g) {
    return split("emigrants", "/emigrants/by_group/" + g, "returnees", "/returnees/by_group/" + g);
  });
  t.section("Deaths abroad " + window, "/deaths_abroad/", no_note);
  t.flush();

  write_drivers(out, run, t);
  write_age_year(out, run, t, headline);
  write_balance(out, run, t, headline, other);
  write_targets(out, run, t);

  if (r.clamps > 0)
    out << "\nClamped out-flows: " << r.clamps << " over all draws ("
        << number(std::round(r.clamped_persons)) << " persons cut from out-flows)\n";
  check(out, "write_run_table");
}

void write_run_table(std::ostream& out, const Scenario& scenario, const RunResult& r) {
  write_run_table(out, describe_run(scenario), r);
}

// ---- sweeps --------------------------------------------------------------------------------

std::vector<std::string> sweep_metrics(std::span<const SweepPoint> points) {
  std::vector<std::string> out;
  auto has = [&](const std::string& path) {
    return std::any_of(points.begin(), points.end(),
                       [&](const SweepPoint& p) { return find_metric(p.result, path) != nullptr; });
  };
  for (const char* p : {"/excess_deaths/total", "/lost_births/total", "/net_emigration/total",
                        "/deaths_abroad/total", "/log_likelihood/total"})
    if (has(p)) out.emplace_back(p);
  const std::string_view by_group = "/excess_deaths/by_group/";
  for (const SweepPoint& p : points)
    for (const Metric& m : p.result.metrics)
      if (m.path.size() > by_group.size() && m.path.compare(0, by_group.size(), by_group) == 0 &&
          m.path.find('/', by_group.size()) == std::string::npos &&
          std::find(out.begin(), out.end(), m.path) == out.end())
        out.push_back(m.path);
  return out;
}

void write_sweep_csv(std::ostream& out, std::span<const std::string> grid,
                     std::span<const SweepPoint> points) {
  const std::vector<std::string> metrics = sweep_metrics(points);
  const std::vector<double> levels =
      points.empty() ? std::vector<double>{} : points.front().result.quantile_levels;
  auto row = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << cells[i];
    out << '\n';
  };
  std::vector<std::string> cells;
  for (const std::string& g : grid) cells.push_back(csv_field(g));
  for (const std::string& m : metrics) {
    cells.push_back(csv_field(m + "/mean"));
    cells.push_back(csv_field(m + "/sd"));
    for (double q : levels) cells.push_back(csv_field(m + "/" + quantile_key(q)));
  }
  row(cells);
  for (const SweepPoint& p : points) {
    cells.clear();
    for (std::size_t i = 0; i < grid.size(); ++i)
      cells.push_back(i < p.values.size() ? csv_field(p.values[i]) : std::string());
    for (const std::string& m : metrics) {
      const Summary* s = find_metric(p.result, m);
      cells.push_back(s ? number(s->mean) : std::string());
      cells.push_back(s ? number(s->sd) : std::string());
      for (std::size_t k = 0; k < levels.size(); ++k)
        cells.push_back(s && k < s->quantiles.size() ? number(s->quantiles[k]) : std::string());
    }
    row(cells);
  }
  check(out, "write_sweep_csv");
}

void write_sweep_json(std::ostream& out, const RunDescription& run,
                      std::span<const std::string> grid, std::span<const SweepPoint> points) {
  const std::vector<std::string> metrics = sweep_metrics(points);
  const RunResult first = points.empty() ? RunResult{} : points.front().result;
  ojson doc = ojson::object();
  doc.emplace("steppe_version", version);
  doc.emplace("scenario", scenario_json(run));
  doc.emplace("seed", first.seed);
  doc.emplace("draws", first.draws);
  doc.emplace("quantiles", levels_json(first.quantile_levels));
  ojson pointers = ojson::array();
  for (const std::string& g : grid) pointers.push_back(g);
  doc.emplace("grid", std::move(pointers));
  ojson combinations = ojson::array();
  for (const SweepPoint& p : points) {
    ojson c = ojson::object();
    ojson values = ojson::object();
    for (std::size_t i = 0; i < grid.size() && i < p.values.size(); ++i) {
      ojson v = ojson::parse(p.values[i], nullptr, /*allow_exceptions=*/false);
      values.emplace(grid[i], v.is_discarded() ? ojson(p.values[i]) : std::move(v));
    }
    c.emplace("values", std::move(values));
    if (p.result.cancelled) c.emplace("cancelled", true);
    MetricTree tree;
    for (const std::string& m : metrics)
      if (const Summary* s = find_metric(p.result, m))
        tree.add(c, m, summary_json(*s, p.result.quantile_levels),
                 [](std::span<const std::string>, ojson&) {});
    combinations.push_back(std::move(c));
  }
  doc.emplace("combinations", std::move(combinations));
  dump(out, doc, "write_sweep_json");
}

}  // namespace steppe
