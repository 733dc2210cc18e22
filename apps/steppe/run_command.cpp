// SPDX-License-Identifier: MIT
// `steppe run` and `steppe validate`: plumbing from the scenario file to the library's run
// and writers; output written whole to stdout, or atomically to --output.
#include <iostream>
#include <set>
#include <sstream>

#include "options.hpp"
#include "progress.hpp"
#include "steppe/io/csv.hpp"
#include "steppe/io/run_output.hpp"
#include "steppe/simulation.hpp"

namespace steppe::cli {

void write_output(const std::optional<std::filesystem::path>& output,
                  const std::function<void(std::ostream&)>& write) {
  if (output) return write_file_atomically(*output, write);
  std::ostringstream text;  // whole or nothing on stdout too: a failed writer prints nothing
  write(text);
  std::cout << text.str();
  std::cout.flush();
  if (!std::cout) throw error("stdout: write failed");
}

void run_run(const RunRequest& r) {
  const Scenario scenario = Scenario::load(r.input, r.sets);
  InterruptGuard interrupt;
  RunResult result;
  {
    ProgressBar bar;
    RunOptions options;
    options.seed = r.seed;
    options.draws = r.draws;
    options.threads = r.threads;
    options.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    options.cancel = interrupt.flag();
    result = run_draws(scenario, options);  // domain_error: a draw makes impossible demography
  }
  if (result.cancelled || interrupt.interrupted())
    throw interrupted("interrupted after " + std::to_string(result.draws) + " of " +
                      std::to_string(r.draws) + " draws; nothing written");
  write_output(r.output, [&](std::ostream& out) {
    switch (r.format) {
      case Format::json:
        return write_run_json(out, scenario, result);
      case Format::csv:
        return write_run_csv(out, result);
      case Format::table:
        return write_run_table(out, scenario, result);
    }
  });
}

void run_validate(const RunRequest& r) {
  const Scenario s = Scenario::load(r.input, r.sets);
  std::set<std::string> uncertain;  // a shared distribution is one parameter, however often used
  for (const Parameter& p : s.parameters())
    if (!p.distribution.is_constant())
      uncertain.insert(p.shared.empty() ? p.pointer : "=" + p.shared);
  auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::cout << "ok: " << r.input.string() << ": " << count(s.dims().groups().size(), "group")
            << ", " << count(s.steps().size(), "step") << ", "
            << count(uncertain.size(), "uncertain parameter") << '\n';
}

}  // namespace steppe::cli
