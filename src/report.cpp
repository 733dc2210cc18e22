// SPDX-License-Identifier: MIT
// Plain-text crisis report (see report.hpp).
#include "steppe/report.hpp"

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace steppe {

namespace {

double group_sum(const Eigen::ArrayXd& by_col, int g) {
  return by_col(Dims::col(Sex::female, g)) + by_col(Dims::col(Sex::male, g));
}

std::string whole(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(0) << (std::abs(v) < 0.5 ? 0.0 : v);
  return os.str();
}

}  // namespace

void write_crisis_report(std::ostream& out, const CrisisRunner& runner, const Population& initial,
                         int start_year) {
  const Accounts& crisis = runner.crisis();
  const Accounts& cf = runner.counterfactual();
  const Dims& dims = crisis.dims();
  const Eigen::ArrayXXd ex_a = excess_deaths_vs_counterfactual(crisis, cf, Place::both);
  const Eigen::ArrayXXd ex_b = excess_deaths_vs_baseline_rates(crisis, Place::both);
  const Eigen::ArrayXXd lb_a = lost_births_vs_counterfactual(crisis, cf);
  const Eigen::ArrayXXd lb_b = lost_births_vs_baseline_rates(crisis);
  const int end_year = crisis.size() ? crisis.steps().back().year : start_year;

  out << "Crisis run and no-crisis counterfactual, " << start_year << " to " << end_year << " ("
      << crisis.size() << " steps of " << dims.ages().width << " year"
      << (dims.ages().width > 1 ? "s" : "") << ")\n"
      << "Excess deaths: (a) crisis minus counterfactual deaths; (b) crisis deaths minus deaths at\n"
      << "baseline rates on the crisis population. Both include deaths abroad.\n\n";
  const int w = 12;
  out << std::left << std::setw(14) << "group" << std::right << std::setw(6) << "year";
  for (const char* h : {"population", "abroad", "births", "deaths", "deaths_abr", "excess(a)",
                        "excess(b)", "lost_b(a)", "emigrants", "returnees"})
    out << std::setw(w) << h;
  out << '\n';
  for (int g = 0; g < dims.n_groups(); ++g) {
    Eigen::Index k = 0;
    for (const Accounts::Step& s : crisis.steps()) {
      out << std::left << std::setw(14) << dims.group_name(g) << std::right << std::setw(6)
          << s.year;
      for (double v : {group_sum(s.population, g), group_sum(s.population_abroad, g),
                       group_sum(s.births + s.births_abroad, g), group_sum(s.deaths, g),
                       group_sum(s.deaths_abroad, g), group_sum(ex_a.col(k), g),
                       group_sum(ex_b.col(k), g), group_sum(lb_a.col(k), g),
                       group_sum(s.emigrants, g), group_sum(s.returnees, g)})
        out << std::setw(w) << whole(v);
      out << '\n';
      ++k;
    }
  }
  out << "\nTotals " << start_year << "-" << end_year << " (persons)\n";
  out << std::left << std::setw(34) << "" << std::right;
  for (int g = 0; g < dims.n_groups(); ++g) out << std::setw(14) << dims.group_name(g);
  out << std::setw(14) << "total" << '\n';
  auto row = [&](const char* label, auto&& per_group) {
    out << std::left << std::setw(34) << label << std::right;
    double all = 0;
    for (int g = 0; g < dims.n_groups(); ++g) {
      const double v = per_group(g);
      all += v;
      out << std::setw(14) << whole(v);
    }
    out << std::setw(14) << whole(all) << '\n';
  };
  auto total = [&](Eigen::ArrayXd Accounts::Step::*m, const Accounts& a) {
    return [&a, m](int g) { return group_sum(a.sum(m, INT32_MIN, INT32_MAX), g); };
  };
  const Eigen::ArrayXd start_home = initial.home().colwise().sum().transpose();
  row(("population " + std::to_string(start_year)).c_str(),
      [&](int g) { return group_sum(start_home, g); });
  row(("population " + std::to_string(end_year)).c_str(),
      [&](int g) { return group_sum(runner.crisis_end().home().colwise().sum().transpose(), g); });
  row(("  abroad " + std::to_string(end_year)).c_str(),
      [&](int g) { return group_sum(runner.crisis_end().abroad().colwise().sum().transpose(), g); });
  row(("  counterfactual " + std::to_string(end_year)).c_str(), [&](int g) {
    return group_sum(runner.counterfactual_end().home().colwise().sum().transpose(), g) +
           group_sum(runner.counterfactual_end().abroad().colwise().sum().transpose(), g);
  });
  row("births (home and abroad)", [&](int g) {
    return total(&Accounts::Step::births, crisis)(g) +
           total(&Accounts::Step::births_abroad, crisis)(g);
  });
  row("deaths at home", total(&Accounts::Step::deaths, crisis));
  row("deaths abroad", total(&Accounts::Step::deaths_abroad, crisis));
  row("excess deaths (a) counterfactual",
      [&](int g) { return window_total(ex_a, crisis, INT32_MIN, INT32_MAX, g); });
  row("excess deaths (b) baseline rates",
      [&](int g) { return window_total(ex_b, crisis, INT32_MIN, INT32_MAX, g); });
  row("lost births (a) counterfactual",
      [&](int g) { return window_total(lb_a, crisis, INT32_MIN, INT32_MAX, g); });
  row("lost births (b) baseline rates",
      [&](int g) { return window_total(lb_b, crisis, INT32_MIN, INT32_MAX, g); });
  row("emigrants", total(&Accounts::Step::emigrants, crisis));
  row("returnees", total(&Accounts::Step::returnees, crisis));
  row("immigrants (from outside)", total(&Accounts::Step::immigrants, crisis));
  row("net migration", total(&Accounts::Step::net_migrants, crisis));
  std::size_t clamps = 0;
  double clamped = 0;
  for (const Accounts::Step& s : crisis.steps()) clamps += s.clamps, clamped += s.clamped_persons;
  out << "clamped out-flows: " << clamps << " (" << whole(clamped) << " persons)\n";
  if (!out) throw error("write_crisis_report: write failed");
}

}  // namespace steppe
