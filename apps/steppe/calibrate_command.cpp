// SPDX-License-Identifier: MIT
// `steppe calibrate`: plumbing from the scenario file to calibrate() and the calibration
// writers, with the conventions of `steppe run` (progress bar, Ctrl-C, all-or-nothing output).
#include <iostream>

#include "options.hpp"
#include "progress.hpp"
#include "steppe/calibration.hpp"
#include "steppe/io/calibration_output.hpp"

namespace steppe::cli {

void run_calibrate(const RunRequest& r) {
  const Scenario scenario = Scenario::load(r.input, r.sets);
  InterruptGuard interrupt;
  CalibrationResult result;
  {
    ProgressBar bar;  // driven by the first pass, which runs every draw
    CalibrationOptions options;
    options.run.seed = r.seed;
    options.run.draws = r.draws;
    options.run.threads = r.threads;
    options.run.progress = [&bar](std::uint64_t done, std::uint64_t total) {
      bar.update(done, total, "prior draws");
    };
    options.run.cancel = interrupt.flag();
    options.min_ess = r.min_ess;
    using Method = CalibrationOptions::Method;
    options.method = r.method == "importance" ? Method::importance
                     : r.method == "smc"      ? Method::smc
                                              : Method::automatic;
    options.smc.particles = std::size_t(r.particles);
    options.smc.moves = r.moves;
    options.smc.progress = [&bar](int stage, double temperature) {
      bar.update(std::uint64_t(temperature * 1000), 1000,
                 "SMC stage " + std::to_string(stage) + ", temperature");
    };
    result = calibrate(scenario, options);  // domain_error: no likelihood, or an impossible draw
  }
  if (result.cancelled || interrupt.interrupted())
    throw interrupted("interrupted after " + std::to_string(result.draws) + " of " +
                      std::to_string(r.draws) + " prior draws; nothing written");
  const RunDescription run = describe_run(scenario);
  write_output(r.output, [&](std::ostream& out) {
    switch (r.format) {
      case Format::json:
        return write_calibration_json(out, run, result);
      case Format::csv:
        return write_calibration_csv(out, result);
      case Format::table:
        return write_calibration_table(out, run, result);
    }
  });
  // A table on stdout starts with the warning; elsewhere (a file, json, csv) say it on stderr.
  if (result.degenerate && (r.format != Format::table || r.output))
    std::cerr << "steppe: " << result.warning() << '\n';
}

}  // namespace steppe::cli
