// SPDX-License-Identifier: MIT
// `steppe compare A.json B.json`: plumbing from the two scenario files to the library's
// attribution and its writers; output written whole to stdout, or atomically to --output.
#include "options.hpp"
#include "progress.hpp"
#include "steppe/compare.hpp"
#include "steppe/smc.hpp"

namespace steppe::cli {

void run_compare(const RunRequest& r) {
  InterruptGuard interrupt;
  CompareResult result;
  {
    ProgressBar bar;
    CompareOptions options;
    options.run.seed = r.seed;
    options.run.draws = r.draws;
    options.run.threads = r.threads;
    options.run.progress = [&bar](std::uint64_t done, std::uint64_t total) {
      bar.update(done, total);
    };
    options.run.cancel = interrupt.flag();
    options.factors = r.factors;
    if (r.posterior) {  // A's posterior particles, then the comparison on them
      SmcOptions smc;
      smc.seed = r.seed;
      smc.particles = std::size_t(r.draws);
      smc.threads = r.threads;
      smc.cancel = interrupt.flag();
      smc.progress = [&bar](int stage, double temperature) {
        bar.update(std::uint64_t(temperature * 1000), 1000,
                   "calibrating A: SMC stage " + std::to_string(stage) + ", temperature");
      };
      const SmcResult posterior = calibrate_smc(Scenario::load(r.input), smc);
      if (posterior.cancelled || interrupt.interrupted())
        throw interrupted("interrupted while calibrating " + r.input.string() + "; nothing written");
      options.a_parameter_sets = posterior.values;
    }
    result = compare(r.input, r.input_b, options);
    result.posterior = r.posterior;
  }
  if (result.cancelled || interrupt.interrupted())
    throw interrupted("interrupted after " + std::to_string(result.hybrids_run) +
                      " scenario runs; nothing written");
  write_output(r.output, [&](std::ostream& out) {
    if (r.format == Format::json) return write_compare_json(out, result);
    write_compare_table(out, result);
  });
}

}  // namespace steppe::cli
