// SPDX-License-Identifier: MIT
// The steppe command-line tool: parse, dispatch to the library, map errors to exit codes.
#include <boost/program_options/errors.hpp>
#include <iostream>

#include "options.hpp"
#include "steppe/error.hpp"
#include "steppe/scenario.hpp"
#include "steppe/version.hpp"

// Exit codes: 0 ok; 2 bad usage or bad input (each error on its own line, naming file and JSON
// pointer); 130 interrupted by Ctrl-C (nothing written); 1 other.
int main(int argc, char* argv[]) {
  using namespace steppe::cli;
  try {
    const RunRequest request = parse_command_line(argc, argv);
    switch (request.command) {
      case Command::help:
        std::cout << request.help_text;
        if (!request.help_text.empty() && request.help_text.back() != '\n') std::cout << '\n';
        return 0;
      case Command::version:
        std::cout << "steppe " << steppe::version << '\n';
        return 0;
      case Command::project:
        run_project(request);
        return 0;
      case Command::run:
        run_run(request);
        return 0;
      case Command::validate:
        run_validate(request);
        return 0;
      case Command::sweep:
        run_sweep(request);
        return 0;
      case Command::calibrate:
        run_calibrate(request);
        return 0;
      case Command::compare:
        run_compare(request);
        return 0;
    }
  } catch (const boost::program_options::error& e) {
    std::cerr << "steppe: " << e.what() << " (see steppe --help)\n";
    return 2;
  } catch (const steppe::scenario_errors& e) {  // "file:/pointer: reason", one per line
    for (const steppe::input_error& x : e.errors()) std::cerr << x.what() << '\n';
    return 2;
  } catch (const steppe::input_error& e) {
    std::cerr << "steppe: " << e.what() << '\n';
    return 2;
  } catch (const steppe::domain_error& e) {  // input values making impossible demography
    std::cerr << "steppe: " << e.what() << '\n';
    return 2;
  } catch (const interrupted& e) {
    std::cerr << "steppe: " << e.what() << '\n';
    return 130;
  } catch (const std::exception& e) {
    std::cerr << "steppe: error: " << e.what() << '\n';
    return 1;
  }
  return 1;
}
