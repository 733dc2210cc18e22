// SPDX-License-Identifier: MIT
// Writers for `steppe calibrate`: JSON (the run document's metric tree for prior and
// posterior), CSV (one row per quantity and stage) and a table setting posterior beside prior.
#include "steppe/io/calibration_output.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
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
using detail::with_separators;

using ojson = nlohmann::ordered_json;






ojson summary_json(const Summary& s, const std::vector<double>& levels) {
  ojson o = ojson::object();
  o.emplace("mean", s.mean);
  o.emplace("sd", s.sd);
  for (std::size_t k = 0; k < levels.size() && k < s.quantiles.size(); ++k)
    o.emplace(quantile_key(levels[k]), s.quantiles[k]);
  return o;
}

// The run document of `result` (write_run_json, so the nesting is the same by construction)
// without the members the calibration document already has at its top.
ojson run_metrics_json(const RunDescription& run, const RunResult& result) {
  std::ostringstream text;
  write_run_json(text, run, result);
  ojson doc = ojson::parse(text.str());
  for (const char* key : {"steppe_version", "scenario", "seed", "quantiles"}) doc.erase(key);
  return doc;
}

// ---- the table -----------------------------------------------------------------------------


// A parameter value: four significant digits.
std::string value4(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

std::string percent(double p, const char* format = "%.4g") { return detail::formatted(p, format); }


// Columns of a UTF-8 string (the en dash is 3 bytes and 1 column).
std::size_t columns(const std::string& s) {
  return std::size_t(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

using Levels = detail::ShownLevels;
inline Levels table_levels(const std::vector<double>& q) { return detail::shown_levels(q); }

// A text table: rows of cells, the first column left-aligned, the others right-aligned.
class TextTable {
 public:
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out) const {
    std::vector<std::size_t> w;
    for (const auto& r : rows_)
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (w.size() <= i) w.push_back(0);
        w[i] = std::max(w[i], columns(r[i]));
      }
    for (const auto& r : rows_) {
      std::string line = "  ";
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::string pad(w[i] - columns(r[i]), ' ');
        line += i == 0 ? r[i] + pad : "  " + pad + r[i];
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

class Formatter {
 public:
  explicit Formatter(const std::vector<double>& levels) : lv_(table_levels(levels)) {}
  const Levels& levels() const { return lv_; }
  double central(const Summary& s) const {
    return lv_.median >= 0 && std::size_t(lv_.median) < s.quantiles.size()
               ? s.quantiles[std::size_t(lv_.median)]
               : s.mean;
  }
  // "<central> (<lo>–<hi>)" with `fmt` for each number.
  template <class Fmt>
  std::string estimate(const Summary& s, Fmt&& fmt) const {
    std::string e = fmt(central(s));
    if (lv_.lo >= 0 && std::size_t(lv_.hi) < s.quantiles.size()) {
      const double lo = s.quantiles[std::size_t(lv_.lo)], hi = s.quantiles[std::size_t(lv_.hi)];
      e += " (" + fmt(lo) + ((lo < 0 || hi < 0) ? " to " : "–") + fmt(hi) + ")";
    }
    return e;
  }

 private:
  Levels lv_;
};

// The last tokens of the metrics "<prefix><name>" (no further '/'), in result order.
std::vector<std::string> names_under(const RunResult& r, std::string_view prefix) {
  std::vector<std::string> names;
  for (const Metric& m : r.metrics)
    if (m.path.size() > prefix.size() && m.path.compare(0, prefix.size(), prefix) == 0 &&
        m.path.find('/', prefix.size()) == std::string::npos)
      names.push_back(m.path.substr(prefix.size()));
  return names;
}

}  // namespace

void write_calibration_json(std::ostream& out, const RunDescription& run,
                            const CalibrationResult& r) {
  const std::vector<double>& levels = r.prior.quantile_levels;
  ojson doc = ojson::object();
  doc.emplace("steppe_version", version);
  ojson scenario = ojson::object();
  scenario.emplace("file", run.file);
  scenario.emplace("title", run.title);
  doc.emplace("scenario", std::move(scenario));
  doc.emplace("seed", r.prior.seed);
  doc.emplace("draws", r.draws);
  ojson q = ojson::array();
  for (double level : levels) q.push_back(level);
  doc.emplace("quantiles", std::move(q));
  doc.emplace("ess", r.ess);
  doc.emplace("ess_fraction", r.draws ? r.ess / double(r.draws) : 0.0);
  doc.emplace("max_weight_share", r.max_weight_share);
  doc.emplace("dropped_weight", r.dropped_weight);
  doc.emplace("max_dropped_weight", r.max_dropped_weight);
  doc.emplace("posterior_draws", r.posterior_draws);
  doc.emplace("min_ess", r.min_ess);
  doc.emplace("degenerate", r.degenerate);
  doc.emplace("method", r.method);
  if (r.smc) {
    ojson smc = ojson::object();
    smc.emplace("particles", r.smc->particles);
    smc.emplace("distinct", r.smc->distinct);
    smc.emplace("evaluations", r.smc->evaluations);
    smc.emplace("log_evidence", r.smc->log_evidence);
    ojson stages = ojson::array();
    for (const SmcStage& st : r.smc->stages)
      stages.push_back({{"temperature", st.temperature}, {"ess", st.ess},
                        {"acceptance", st.acceptance}, {"log_evidence", st.log_evidence}});
    smc.emplace("stages", std::move(stages));
    doc.emplace("smc", std::move(smc));
  }
  if (r.degenerate) doc.emplace("warning", r.warning());
  doc.emplace("prior", run_metrics_json(run, r.prior));
  doc.emplace("posterior", run_metrics_json(run, r.posterior));

  ojson params = ojson::array();
  for (const ParameterPosterior& p : r.parameters) {
    ojson o = ojson::object();
    o.emplace("pointer", p.pointer);
    o.emplace("file", p.file);
    o.emplace("distribution", p.distribution);
    o.emplace("prior", summary_json(p.prior, levels));
    o.emplace("posterior", summary_json(p.posterior, levels));
    params.push_back(std::move(o));
  }
  doc.emplace("parameters", std::move(params));

  ojson targets = ojson::array();
  for (const TargetFit& f : r.targets) {
    ojson o = ojson::object();
    o.emplace("name", f.name);
    o.emplace("observed", f.observed);
    for (const auto& t : run.targets)
      if (t.name == f.name) {
        o.emplace("date", t.date);
        o.emplace("group", t.group);
        o.emplace("sex", t.sex);
        o.emplace("ages", t.ages);
        o.emplace("abroad", t.abroad);
      }
    o.emplace("has_sd", f.has_sd);
    if (f.has_sd) o.emplace("predictive_cdf", f.predictive_cdf);
    o.emplace("within", f.within);
    ojson prior = ojson::object();
    prior.emplace("modelled", summary_json(f.prior_modelled, levels));
    prior.emplace("relative_deviation", summary_json(f.prior_relative_deviation, levels));
    prior.emplace("expected", summary_json(f.prior_expected, levels));
    o.emplace("prior", std::move(prior));
    ojson post = ojson::object();
    post.emplace("modelled", summary_json(f.posterior_modelled, levels));
    post.emplace("relative_deviation", summary_json(f.posterior_relative_deviation, levels));
    post.emplace("expected", summary_json(f.posterior_expected, levels));
    if (f.has_sd) post.emplace("z", summary_json(f.posterior_z, levels));
    o.emplace("posterior", std::move(post));
    targets.push_back(std::move(o));
  }
  doc.emplace("targets", std::move(targets));
  out << doc.dump(2, ' ', false, ojson::error_handler_t::replace) << '\n';
  check(out, "write_calibration_json");
}

void write_calibration_csv(std::ostream& out, const CalibrationResult& r) {
  const std::vector<double>& levels = r.prior.quantile_levels;
  out << "kind,quantity,stage,mean,sd";
  for (double q : levels) out << ',' << quantile_key(q);
  out << '\n';
  auto row = [&](const char* kind, const std::string& quantity, const char* stage,
                 const Summary& s) {
    out << kind << ',' << csv_field(quantity) << ',' << stage << ',' << number(s.mean) << ','
        << number(s.sd);
    for (std::size_t k = 0; k < levels.size(); ++k)
      out << ',' << (k < s.quantiles.size() ? number(s.quantiles[k]) : "");
    out << '\n';
  };
  for (const Metric& m : r.prior.metrics) {
    row("metric", m.path, "prior", m.summary);
    if (const Summary* s = r.posterior.find(m.path)) row("metric", m.path, "posterior", *s);
  }
  for (const ParameterPosterior& p : r.parameters) {
    row("parameter", p.pointer, "prior", p.prior);
    row("parameter", p.pointer, "posterior", p.posterior);
  }
  for (const TargetFit& f : r.targets) {
    const std::string base = "/targets/" + escape_token(f.name) + "/";
    row("expected", base + "expected", "prior", f.prior_expected);
    row("expected", base + "expected", "posterior", f.posterior_expected);
    if (f.has_sd) row("z", base + "z", "posterior", f.posterior_z);
  }
  check(out, "write_calibration_csv");
}

void write_calibration_table(std::ostream& out, const RunDescription& run,
                             const CalibrationResult& r) {
  const Formatter fmt(r.prior.quantile_levels);
  const Levels& lv = fmt.levels();
  if (r.degenerate) out << r.warning() << "\n\n";

  std::size_t n_likelihood = 0;
  for (const TargetFit& f : r.targets) n_likelihood += f.has_sd;
  out << (run.title.empty() ? run.file : run.title) << '\n';
  out << "Scenario " << run.file << ", steppe " << version << '\n';
  out << "Calibrated on " << n_likelihood << " census target" << (n_likelihood == 1 ? "" : "s")
      << " by " << r.method << ": " << with_separators(r.draws) << " prior draws, seed "
      << r.prior.seed << ".\n";
  if (r.smc) {
    out << "Importance sampling from the prior would rest on " << percent(r.ess, "%.1f")
        << " effective draws (" << percent(100 * r.ess / double(r.draws), "%.3g")
        << " % of the draws), so the posterior comes from likelihood tempering: "
        << with_separators(r.smc->particles) << " particles (" << with_separators(r.smc->distinct)
        << " distinct at the end; minimum " << percent(r.min_ess, "%g")
        << (r.degenerate ? ": TOO FEW" : "") << "), " << r.smc->stages.size() << " stages, "
        << with_separators(r.smc->evaluations) << " model runs; log evidence "
        << percent(r.smc->log_evidence, "%.2f") << ".\n  temperatures";
    for (const SmcStage& st : r.smc->stages) out << ' ' << percent(st.temperature, "%.3g");
    out << "; acceptance";
    for (const SmcStage& st : r.smc->stages) out << ' ' << percent(st.acceptance, "%.2f");
    out << '\n';
  } else {
    out << "Effective sample size " << percent(r.ess, "%.1f") << " ("
        << percent(100 * r.ess / double(r.draws), "%.3g") << " % of the draws; minimum "
        << percent(r.min_ess, "%g") << (r.degenerate ? ": TOO FEW" : "")
        << "); the heaviest draw carries " << percent(100 * r.max_weight_share, "%.3g")
        << " % of the weight; " << with_separators(r.posterior_draws)
        << " draws have a non-negligible weight.\n";
  }
  if (lv.lo >= 0)
    out << (lv.median >= 0 ? "Medians" : "Means") << " with the " << lv.range << " ("
        << percent(100 * r.prior.quantile_levels.front()) << " % to "
        << percent(100 * r.prior.quantile_levels.back())
        << " % quantiles). Persons, rounded to thousands.\n";
  out << '\n';

  const std::string window =
      std::to_string(run.window_first) + "–" + std::to_string(run.window_last);
  const std::string headline = run.headline_counterfactual ? "counterfactual" : "rate-based";
  const std::string other = run.headline_counterfactual ? "rate_based" : "counterfactual";
  auto person_estimate = [&](const Summary& s) {
    return fmt.estimate(s, [](double x) { return persons(x); });
  };
  // Rows "label | prior | posterior" of the metrics both results have.
  TextTable outputs;
  outputs.row({"", "prior", "posterior"});
  auto metric_row = [&](const std::string& label, const std::string& path) {
    const Summary* a = r.prior.find(path);
    const Summary* b = r.posterior.find(path);
    if (a && b) outputs.row({label, person_estimate(*a), person_estimate(*b)});
  };
  metric_row("Excess deaths " + window + ", " + headline + " (home and abroad)",
             "/excess_deaths/total");
  for (const std::string& g : names_under(r.prior, "/excess_deaths/by_group/"))
    metric_row("  " + g, "/excess_deaths/by_group/" + g);
  metric_row("  " + std::string(run.headline_counterfactual ? "rate-based" : "counterfactual") +
                 " definition",
             "/excess_deaths_" + other + "/total");
  metric_row("Lost births " + window + ", " + headline, "/lost_births/total");
  metric_row("Net emigration " + window, "/net_emigration/total");
  outputs.print(out);

  if (!r.parameters.empty()) {
    out << "\nUncertain parameters\n";
    TextTable params;
    params.row({"parameter", "prior", "posterior"});
    for (const ParameterPosterior& p : r.parameters)
      params.row({p.pointer, fmt.estimate(p.prior, value4), fmt.estimate(p.posterior, value4)});
    params.print(out);
  }

  if (!r.targets.empty()) {
    out << "\nTargets: expected census count = modelled × (1 + bias); z = (observed / expected − "
           "1) / sd;\nP(fewer) = posterior predictive probability that a census counts fewer "
           "than observed\n";
    TextTable targets;
    targets.row({"target", "observed", "expected, prior", "expected, posterior", "z", "P(fewer)",
                 lv.lo >= 0 ? "within " + lv.range : "within range"});
    for (const TargetFit& f : r.targets)
      targets.row({f.name, persons(f.observed), person_estimate(f.prior_expected),
                   person_estimate(f.posterior_expected),
                   f.has_sd ? percent(fmt.central(f.posterior_z), "%+.2f") : "-",
                   f.has_sd ? percent(100 * f.predictive_cdf, "%.1f") + " %" : "-",
                   f.within ? "yes" : "no"});
    targets.print(out);
  }
  check(out, "write_calibration_table");
}

}  // namespace steppe
