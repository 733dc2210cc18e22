// SPDX-License-Identifier: MIT
// Parsing of the steppe command line (Boost.Program_options), one options set per subcommand.
#include "options.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

namespace po = boost::program_options;

namespace steppe::cli {
namespace {

const char* usage =
    "Usage: steppe <command> [options]\n"
    "       steppe --help | --version\n\n"
    "Commands:\n"
    "  run SCENARIO.json        Monte Carlo reconstruction: excess deaths, lost births,\n"
    "                           migration and census targets, with uncertainty ranges\n"
    "  validate SCENARIO.json   check a scenario file and list every error\n"
    "  sweep SCENARIO.json      one run per combination of --grid values (sensitivity)\n"
    "  calibrate SCENARIO.json  weight the draws by the census targets' likelihood: posterior\n"
    "                           death toll and parameters beside the prior, fit to each target\n"
    "  compare A.json B.json    attribute the gap between two scenarios' tolls to the groups\n"
    "                           of assumptions in which they differ (Shapley values)\n"
    "  project FILE.json        deterministic cohort-component projection from explicit rates\n"
    "                           (input format: docs/project_input.md)\n\n"
    "Run 'steppe <command> --help' for the options of a command.\n"
    "Exit codes: 0 ok, 2 bad usage or bad input, 130 interrupted (Ctrl-C), 1 other failure.\n";

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

// Options shared by run, validate and sweep.
void add_set_option(po::options_description& o) {
  o.add_options()("set", po::value<std::vector<std::string>>()->composing(),
                  "override a scenario value: --set /json/pointer=value (JSON text, or a bare "
                  "word taken as a string); repeatable, applied in order");
}
// --format (with its default and the formats it takes) and --output, for the Monte Carlo commands.
void add_format_and_output(po::options_description& o, const char* default_format,
                           const char* format_help) {
  o.add_options()("format,f", po::value<std::string>()->default_value(default_format), format_help)(
      "output,o", po::value<std::string>(),
      "write the output to FILE instead of stdout (whole, or not at all)");
}
void add_draw_options(
    po::options_description& o, const char* default_draws = "1000",
    const char* draws_help = "number of Monte Carlo draws (1 = one run at the central values)") {
  o.add_options()("draws,n", po::value<std::string>()->default_value(default_draws), draws_help)(
      "seed,s", po::value<std::string>()->default_value("1"),
      "master seed: the same seed gives the same numbers, whatever --threads")(
      "threads,j", po::value<std::string>()->default_value("0"), "worker threads (0 = all cores)");
}

po::options_description run_options() {
  po::options_description o("steppe run SCENARIO.json [options]");
  o.add_options()("help,h", "show this help");
  add_draw_options(o);
  add_format_and_output(o, "table",
                        "output format: table (for reading), json (every metric, nested by its "
                        "JSON pointer) or csv (one row per metric)");
  add_set_option(o);
  o.add_options()("input", po::value<std::string>(), "scenario JSON file");
  return o;
}

po::options_description validate_options() {
  po::options_description o("steppe validate SCENARIO.json [options]");
  o.add_options()("help,h", "show this help");
  add_set_option(o);
  o.add_options()("input", po::value<std::string>(), "scenario JSON file");
  return o;
}

po::options_description sweep_options() {
  po::options_description o("steppe sweep SCENARIO.json --grid /pointer=v1,v2,... [options]");
  o.add_options()("help,h", "show this help")(
      "grid,g", po::value<std::vector<std::string>>()->composing(),
      "values to sweep: --grid /json/pointer=v1,v2,... (each a JSON text or a bare word); "
      "repeatable, every combination is run, the last --grid varying fastest");
  add_draw_options(o);
  add_format_and_output(o, "csv", "output format: csv (one row per combination) or json");
  add_set_option(o);
  o.add_options()("input", po::value<std::string>(), "scenario JSON file");
  return o;
}

po::options_description calibrate_options() {
  po::options_description o("steppe calibrate SCENARIO.json [options]");
  o.add_options()("help,h", "show this help");
  add_draw_options(o, "100000", "number of prior draws to weight (at least 2)");
  o.add_options()("min-ess", po::value<std::string>()->default_value("100"),
                  "warn (and flag the result degenerate) below this effective sample size")(
      "method", po::value<std::string>()->default_value("auto"),
      "importance (importance sampling from the prior draws), smc (sequential Monte Carlo: "
      "likelihood tempering with Metropolis moves) or auto (importance sampling, SMC when its "
      "effective sample size is below --min-ess)")(
      "particles", po::value<std::uint64_t>()->default_value(2000), "SMC particles (at least 10)")(
      "moves", po::value<int>()->default_value(5), "SMC Metropolis moves per stage (at least 1)");
  add_format_and_output(o, "table",
                        "output format: table (for reading), json (prior and posterior of every "
                        "metric, parameter and target) or csv (one row per quantity and stage)");
  add_set_option(o);
  o.add_options()("input", po::value<std::string>(), "scenario JSON file");
  return o;
}

po::options_description compare_options() {
  po::options_description o("steppe compare A.json B.json [options]");
  o.add_options()("help,h", "show this help");
  add_draw_options(o);
  add_format_and_output(o, "table", "output format: table (for reading) or json");
  o.add_options()(
      "factor", po::value<std::vector<std::string>>()->composing(),
      "group fields into a factor: --factor NAME=/pointer/prefix,/other/prefix ('*' matches one "
      "token); repeatable, takes precedence over the scenarios' compare_factors and the defaults")(
      "posterior", "run on the posterior of A instead of prior draws: A is calibrated first "
      "(sequential Monte Carlo with --draws particles) and B runs the same particles, not "
      "re-fitted (for a policy counterfactual of a calibrated historical scenario)")(
      "input", po::value<std::vector<std::string>>(), "scenario JSON files A and B");
  return o;
}

// Parses `args` against `opts` with one positional input. Returns false after filling
// r.help_text if --help was given.
bool parse(const std::vector<std::string>& args, const po::options_description& opts,
           po::variables_map& vm, RunRequest& r, const char* command) {
  po::positional_options_description pos;
  pos.add("input", 1);
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::ostringstream s;
    s << opts;
    r.help_text = s.str();
    return false;
  }
  if (!vm.count("input"))
    throw po::error(std::string(command) + ": missing the input file (steppe " + command +
                    " FILE.json)");
  r.input = vm["input"].as<std::string>();
  return true;
}

Format parse_format(const po::variables_map& vm, std::initializer_list<const char*> allowed) {
  const std::string f = vm["format"].as<std::string>();
  std::string list;
  for (const char* a : allowed) {
    if (f == a) return f == "csv" ? Format::csv : f == "json" ? Format::json : Format::table;
    list += list.empty() ? a : std::string(", ") + a;
  }
  throw po::error("--format " + f + ": expected " + list);
}

// A whole number in [lo, hi], digits only (no sign, no spaces).
std::uint64_t parse_count(const po::variables_map& vm, const char* name, std::uint64_t lo,
                          std::uint64_t hi) {
  const std::string v = vm[name].as<std::string>();
  std::uint64_t x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi)
    throw po::error("--" + std::string(name) + " " + v + ": expected a whole number from " +
                    std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

void parse_draw_options(const po::variables_map& vm, RunRequest& r) {
  r.draws = parse_count(vm, "draws", 1, std::uint64_t(1) << 40);
  r.seed = parse_count(vm, "seed", 0, UINT64_MAX);
  r.threads = int(parse_count(vm, "threads", 0, 4096));
}

std::vector<std::string> sets_of(const po::variables_map& vm) {
  return vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
}

RunRequest parse_project(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  if (!parse(args, project_options(), vm, r, "project")) return r;
  r.command = Command::project;
  r.format = parse_format(vm, {"csv", "json"});
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

RunRequest parse_run(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  if (!parse(args, run_options(), vm, r, "run")) return r;
  r.command = Command::run;
  parse_draw_options(vm, r);
  r.format = parse_format(vm, {"table", "json", "csv"});
  if (vm.count("output")) r.output = vm["output"].as<std::string>();
  r.sets = sets_of(vm);
  return r;
}

RunRequest parse_validate(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  if (!parse(args, validate_options(), vm, r, "validate")) return r;
  r.command = Command::validate;
  r.sets = sets_of(vm);
  return r;
}

RunRequest parse_calibrate(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  if (!parse(args, calibrate_options(), vm, r, "calibrate")) return r;
  r.command = Command::calibrate;
  parse_draw_options(vm, r);
  if (r.draws < 2) throw po::error("--draws 1: calibrate needs at least 2 draws");
  const std::string v = vm["min-ess"].as<std::string>();
  double x = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !(x > 0) || !std::isfinite(x))
    throw po::error("--min-ess " + v + ": expected a number > 0");
  r.min_ess = x;
  r.method = vm["method"].as<std::string>();
  if (r.method != "importance" && r.method != "smc" && r.method != "auto")
    throw po::error("--method " + r.method + ": expected importance, smc or auto");
  r.particles = vm["particles"].as<std::uint64_t>();
  if (r.particles < 10) throw po::error("--particles " + std::to_string(r.particles) + ": expected at least 10");
  r.moves = vm["moves"].as<int>();
  if (r.moves < 1) throw po::error("--moves " + std::to_string(r.moves) + ": expected at least 1");
  r.format = parse_format(vm, {"table", "json", "csv"});
  if (vm.count("output")) r.output = vm["output"].as<std::string>();
  r.sets = sets_of(vm);
  return r;
}

RunRequest parse_compare(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  const po::options_description opts = compare_options();
  po::positional_options_description pos;
  pos.add("input", 2);
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::ostringstream s;
    s << opts;
    r.help_text = s.str();
    return r;
  }
  const auto inputs =
      vm.count("input") ? vm["input"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (inputs.size() != 2)
    throw po::error("compare: expected two scenario files (steppe compare A.json B.json)");
  r.command = Command::compare;
  r.input = inputs[0];
  r.input_b = inputs[1];
  parse_draw_options(vm, r);
  r.format = parse_format(vm, {"table", "json"});
  if (vm.count("output")) r.output = vm["output"].as<std::string>();
  r.posterior = vm.count("posterior") > 0;
  if (r.posterior && r.draws < 10) throw po::error("--posterior needs --draws of at least 10 (particles)");
  if (vm.count("factor"))
    for (const std::string& arg : vm["factor"].as<std::vector<std::string>>()) {
      const std::size_t eq = arg.find('=');
      if (eq == 0 || eq == std::string::npos || eq + 1 == arg.size())
        throw po::error("--factor " + arg + ": expected NAME=/pointer/prefix,/other/prefix");
      std::vector<std::string> prefixes;
      std::string rest = arg.substr(eq + 1) + ",";
      for (std::size_t at = 0, comma; (comma = rest.find(',', at)) != std::string::npos;
           at = comma + 1) {
        prefixes.push_back(rest.substr(at, comma - at));
        if (prefixes.back().empty() || prefixes.back()[0] != '/')
          throw po::error("--factor " + arg + ": \"" + prefixes.back() +
                          "\" is not a JSON pointer prefix (expected NAME=/p1,/p2)");
      }
      r.factors.emplace_back(arg.substr(0, eq), std::move(prefixes));
    }
  return r;
}

GridAxis parse_grid_axis(const std::string& arg) {
  const std::size_t eq = arg.find('=');
  if (arg.empty() || arg[0] != '/' || eq == std::string::npos || eq + 1 == arg.size())
    throw po::error("--grid " + arg + ": expected /json/pointer=v1,v2,...");
  GridAxis g{arg.substr(0, eq), split_grid_values(arg.substr(eq + 1))};
  for (const std::string& v : g.values)
    if (v.empty())
      throw po::error("--grid " + arg + ": an empty value (expected /json/pointer=v1,v2,...)");
  return g;
}

RunRequest parse_sweep(const std::vector<std::string>& args) {
  po::variables_map vm;
  RunRequest r;
  if (!parse(args, sweep_options(), vm, r, "sweep")) return r;
  r.command = Command::sweep;
  parse_draw_options(vm, r);
  r.format = parse_format(vm, {"csv", "json"});
  if (vm.count("output")) r.output = vm["output"].as<std::string>();
  r.sets = sets_of(vm);
  if (!vm.count("grid"))
    throw po::error("sweep: at least one --grid /json/pointer=v1,v2,... is needed");
  std::set<std::string> seen;
  for (const std::string& arg : vm["grid"].as<std::vector<std::string>>()) {
    r.grid.push_back(parse_grid_axis(arg));
    if (!seen.insert(r.grid.back().pointer).second)
      throw po::error("sweep: --grid " + r.grid.back().pointer + " is given twice");
  }
  return r;
}

}  // namespace

std::vector<std::string> split_grid_values(const std::string& list) {
  std::vector<std::string> values;
  std::string current;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : list) {
    if (in_string) {
      escaped = !escaped && c == '\\';
      if (c == '"' && !escaped) in_string = false;
    } else if (c == '"') {
      in_string = true;
      escaped = false;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      values.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += c;
  }
  values.push_back(std::move(current));
  return values;
}

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
  rest.erase(rest.begin());                        // the command itself
  if (vm.count("help")) rest.push_back("--help");  // `steppe run --help`: global parser took it
  if (command == "project") return parse_project(rest);
  if (command == "run") return parse_run(rest);
  if (command == "validate") return parse_validate(rest);
  if (command == "sweep") return parse_sweep(rest);
  if (command == "calibrate") return parse_calibrate(rest);
  if (command == "compare") return parse_compare(rest);
  throw po::error("unknown command '" + command + "' (steppe --help lists the commands)");
}

}  // namespace steppe::cli
