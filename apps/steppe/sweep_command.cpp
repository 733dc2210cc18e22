// SPDX-License-Identifier: MIT
// `steppe sweep`: every combination of the --grid values is a scenario (--set overrides, then
// the grid's), each run with the same seed (common random numbers), one summary row each.
#include "options.hpp"
#include "progress.hpp"
#include "steppe/io/run_output.hpp"
#include "steppe/simulation.hpp"

namespace steppe::cli {
namespace {

// "/a=1, /b=x": a combination as the user would write it.
std::string describe(const std::vector<GridAxis>& grid, const std::vector<std::string>& values) {
  std::string s;
  for (std::size_t i = 0; i < grid.size(); ++i)
    s += (i ? ", " : "") + grid[i].pointer + "=" + values[i];
  return s;
}

}  // namespace

void run_sweep(const RunRequest& r) {
  // Every combination, the last axis varying fastest (as nested loops in --grid order).
  std::vector<std::vector<std::string>> combos{{}};
  for (const GridAxis& axis : r.grid) {
    std::vector<std::vector<std::string>> next;
    for (const auto& c : combos)
      for (const std::string& v : axis.values) {
        next.push_back(c);
        next.back().push_back(v);
      }
    combos = std::move(next);
  }

  // Load them all first, so a bad combination fails at once rather than after hours of runs.
  std::vector<Scenario> scenarios;
  for (std::size_t k = 0; k < combos.size(); ++k) {
    std::vector<std::string> overrides = r.sets;
    for (std::size_t i = 0; i < r.grid.size(); ++i)
      overrides.push_back(r.grid[i].pointer + "=" + combos[k][i]);
    try {
      scenarios.push_back(Scenario::load(r.input, overrides));
    } catch (const scenario_errors& e) {
      const std::string where = " (sweep combination " + std::to_string(k + 1) + " of " +
                                std::to_string(combos.size()) + ": " + describe(r.grid, combos[k]) +
                                ")";
      std::vector<input_error> named;
      for (const input_error& x : e.errors())
        named.emplace_back(x.file(), x.pointer(), x.reason() + where);
      throw scenario_errors(std::move(named));
    }
  }

  InterruptGuard interrupt;
  std::vector<SweepPoint> points;
  {
    ProgressBar bar;
    const std::uint64_t total = r.draws * combos.size();
    for (std::size_t k = 0; k < combos.size() && !interrupt.interrupted(); ++k) {
      const std::string note =
          "combination " + std::to_string(k + 1) + " of " + std::to_string(combos.size());
      RunOptions options;
      options.seed = r.seed;
      options.draws = r.draws;
      options.threads = r.threads;
      options.progress = [&](std::uint64_t done, std::uint64_t) {
        bar.update(k * r.draws + done, total, note);
      };
      options.cancel = interrupt.flag();
      try {
        points.push_back({combos[k], run_draws(scenarios[k], options)});
      } catch (const domain_error& e) {
        throw domain_error("sweep combination " + std::to_string(k + 1) + " of " +
                           std::to_string(combos.size()) + " (" + describe(r.grid, combos[k]) +
                           "): " + e.what());
      }
      if (points.back().result.cancelled) break;
    }
  }
  if (interrupt.interrupted() || points.size() < combos.size() || points.back().result.cancelled) {
    const std::size_t done = points.size() - (!points.empty() && points.back().result.cancelled);
    throw interrupted("interrupted after " + std::to_string(done) + " of " +
                      std::to_string(combos.size()) + " combinations; nothing written");
  }

  std::vector<std::string> pointers;
  for (const GridAxis& axis : r.grid) pointers.push_back(axis.pointer);
  write_output(r.output, [&](std::ostream& out) {
    if (r.format == Format::json)
      write_sweep_json(out, describe_run(scenarios.front()), pointers, points);
    else
      write_sweep_csv(out, pointers, points);
  });
}

}  // namespace steppe::cli
