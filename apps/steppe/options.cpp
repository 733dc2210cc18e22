// SPDX-License-Identifier: MIT
// Parsing of the steppe command line (Boost.Program_options), one options set per subcommand.
#include "options.hpp"

#include <boost/program_options.hpp>
#include <sstream>

namespace po = boost::program_options;

namespace steppe::cli {
namespace {

const char* usage =
    "Usage: steppe <command> [options]\n"
    "       steppe --help | --version\n\n"
    "Commands:\n"
    "  project FILE.json   deterministic cohort-component projection from explicit rates\n"
    "                      (input format: docs/project_input.md)\n\n"
    "Run 'steppe <command> --help' for the options of a command.\n"
    "Exit codes: 0 ok, 2 bad usage or bad input, 1 other failure.\n";

po::options_description project_options() {
  po::options_description o("steppe project FILE.json [options]");
  o.add_options()("help,h", "show this help")(
      "format,f", po::value<std::string>()->default_value("csv"),
      "output format: csv (population table) or json (populations and flows)")(
      "output,o", po::value<std::string>(), "write the output to FILE instead of stdout")(
      "flows", po::value<std::string>(), "also write the flows CSV to FILE (csv format only)")(
      "no-crisis", po::bool_switch(), "ignore the crisis components (counterfactual run)")(
      "report", po::bool_switch(),
      "print the crisis report (crisis run vs no-crisis counterfactual, excess deaths both "
      "ways) to stdout; the population table then goes only to --output")(
      "input", po::value<std::string>(), "input JSON file");
  return o;
}

RunRequest parse_project(const std::vector<std::string>& args) {
  const po::options_description opts = project_options();
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  RunRequest r;
  if (vm.count("help")) {
    std::ostringstream s;
    s << opts;
    r.help_text = s.str();
    return r;
  }
  r.command = Command::project;
  if (!vm.count("input"))
    throw po::error("project: missing the input file (steppe project FILE.json)");
  r.input = vm["input"].as<std::string>();
  const std::string format = vm["format"].as<std::string>();
  if (format != "csv" && format != "json")
    throw po::invalid_option_value("--format " + format + " (expected csv or json)");
  r.format = format == "csv" ? Format::csv : Format::json;
  if (vm.count("output")) r.output = vm["output"].as<std::string>();
  if (vm.count("flows")) {
    if (r.format == Format::json)
      throw po::error("--flows is for --format csv (the JSON output already holds the flows)");
    r.flows = vm["flows"].as<std::string>();
  }
  r.no_crisis = vm["no-crisis"].as<bool>();
  r.report = vm["report"].as<bool>();
  return r;
}

}  // namespace

RunRequest parse_command_line(int argc, const char* const argv[]) {
  po::options_description global("Options");
  global.add_options()("help,h", "show this help")("version", "print the version")(
      "command", po::value<std::string>(), "subcommand")(
      "args", po::value<std::vector<std::string>>(), "subcommand arguments");
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  po::variables_map vm;
  const po::parsed_options parsed = po::command_line_parser(argc, argv)
                                        .options(global)
                                        .positional(pos)
                                        .allow_unregistered()
                                        .run();
  po::store(parsed, vm);
  RunRequest r;
  if (!vm.count("command")) {
    if (vm.count("version")) {
      r.command = Command::version;
    } else if (vm.count("help") || argc == 1) {
      r.help_text = usage;
    } else {
      throw po::error("expected a command (steppe --help lists them)");
    }
    return r;
  }
  const std::string command = vm["command"].as<std::string>();
  // Everything after the command goes to the command's own parser.
  std::vector<std::string> rest = po::collect_unrecognized(parsed.options, po::include_positional);
  rest.erase(rest.begin());  // the command itself
  if (vm.count("help")) rest.push_back("--help");  // `steppe project --help`: global parser took it
  if (command == "project") return parse_project(rest);
  throw po::error("unknown command '" + command + "' (steppe --help lists the commands)");
}

}  // namespace steppe::cli
