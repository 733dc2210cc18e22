// SPDX-License-Identifier: MIT
// Embedding example (README "Embedding the library"): load a scenario file, run its uncertainty,
// read the death toll, then vary one assumption from code the way `steppe sweep` does.
// ctest compiles and runs it, so this example cannot rot.
#include <cstdio>
#include <exception>

#include "steppe/scenario.hpp"
#include "steppe/simulation.hpp"

int main(int argc, char** argv) {
  const char* file = argc > 1 ? argv[1] : STEPPE_EXAMPLE_SCENARIO;
  try {
    const steppe::Scenario scenario = steppe::Scenario::load(file);
    steppe::RunOptions options;
    options.draws = 400;
    options.seed = 42;
    const steppe::RunResult result = steppe::run_draws(scenario, options);
    const steppe::Summary& toll = result.at("/excess_deaths/total");
    // quantiles follow scenario.outputs().quantiles: 2.5 %, 10 %, 50 %, 90 %, 97.5 % by default
    std::printf("excess deaths %d-%d: median %.0f (95%% range %.0f-%.0f), %llu draws\n",
                scenario.outputs().window_first, scenario.outputs().window_last,
                toll.quantiles[2], toll.quantiles.front(), toll.quantiles.back(),
                static_cast<unsigned long long>(result.draws));

    // The same draws with every flight abroad switched off (common random numbers).
    const steppe::Scenario no_flight =
        steppe::Scenario::load(file, {"/crisis/kazakh/flight/enabled=false"});
    const steppe::RunResult r2 = steppe::run_draws(no_flight, options);
    std::printf("without flight: median %.0f\n", r2.at("/excess_deaths/total").quantiles[2]);
  } catch (const steppe::scenario_errors& e) {
    for (const auto& x : e.errors()) std::fprintf(stderr, "%s\n", x.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
