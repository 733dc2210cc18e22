// SPDX-License-Identifier: MIT
// `steppe project`: plumbing from the input file to the output files, all in the library.
#include <iostream>

#include "options.hpp"
#include "steppe/io/csv.hpp"
#include "steppe/io/project_input.hpp"
#include "steppe/project.hpp"
#include "steppe/report.hpp"

namespace steppe::cli {

void run_project(const RunRequest& r) {
  const ProjectInput in = load_project_input(r.input);
  Population pop = in.initial;
  Projector projector(in.dims, in.options);
  Trajectory trajectory(pop, in.start_year);
  try {
    project(projector, pop, std::span<const RateSet>(in.rates), in.start_year, trajectory,
            r.no_crisis ? Regime::no_crisis : Regime::crisis);
  } catch (const domain_error& e) {  // an out-flow exceeded the people present (on_negative throw)
    throw input_error(r.input.string(), "/options/on_negative", e.what());
  }
  std::size_t clamps = 0;
  double clamped = 0;
  for (const Flows& f : trajectory.flows()) clamps += f.clamps.size(), clamped += f.clamped_persons;
  if (clamps > 0)
    std::cerr << "steppe: warning: " << clamps << " out-flows exceeded the people present and "
              << "were clamped (" << clamped << " persons in all; see the 'clamped' column)\n";

  auto main_writer = [&](std::ostream& out) {
    if (r.format == Format::json)
      write_projection_json(out, trajectory);
    else
      write_population_csv(out, trajectory);
  };
  std::vector<OutputFile> files;
  if (r.output) files.push_back({*r.output, main_writer});
  if (r.flows)
    files.push_back({*r.flows, [&](std::ostream& out) { write_flows_csv(out, trajectory); }});
  write_files_atomically(files);
  if (r.report) {
    CrisisRunner runner(in.dims, in.options, int(in.rates.size()));
    runner.run(in.initial, in.rates, in.start_year);
    write_crisis_report(std::cout, runner, in.initial, in.start_year);
  } else if (!r.output) {
    main_writer(std::cout);
    std::cout.flush();
    if (!std::cout) throw error("stdout: write failed");
  }
}

}  // namespace steppe::cli
