// SPDX-License-Identifier: MIT
// `steppe compare A.json B.json`: plumbing from the two scenario files to the library's
// attribution and its writers; output written whole to stdout, or atomically to --output.
#include "options.hpp"
#include "progress.hpp"
#include "steppe/compare.hpp"

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
    result = compare(r.input, r.input_b, options);
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
