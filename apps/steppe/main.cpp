// SPDX-License-Identifier: MIT
// The steppe command-line tool: parse, dispatch to the library, map errors to exit codes.
#include <boost/program_options/errors.hpp>
#include <iostream>

#include "options.hpp"
#include "steppe/error.hpp"
#include "steppe/version.hpp"

// Exit codes: 0 ok; 2 bad usage or bad input (one line naming file and JSON pointer); 1 other.
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
    }
  } catch (const boost::program_options::error& e) {
    std::cerr << "steppe: " << e.what() << " (see steppe --help)\n";
    return 2;
  } catch (const steppe::input_error& e) {
    std::cerr << "steppe: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "steppe: error: " << e.what() << '\n';
    return 1;
  }
  return 1;
}
