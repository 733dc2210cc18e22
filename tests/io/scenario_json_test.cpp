// SPDX-License-Identifier: MIT
// Scenario files (src/io/scenario_json.cpp): every bad file in tests/data/scenarios/bad/ is
// rejected with scenario_errors naming the bad field (JSON pointer), the file that wrote it and
// why; "extends" chains and --set overrides name the right file; the good files load.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steppe/error.hpp"
#include "steppe/scenario.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::WithinAbs;
using steppe::input_error;
using steppe::Scenario;

namespace Catch {
template <>
struct StringMaker<input_error> {
  static std::string convert(const input_error& e) { return e.what(); }
};
}  // namespace Catch

namespace {

const fs::path scenarios_dir = fs::path(STEPPE_TEST_DATA_DIR) / "scenarios";
const fs::path bad_dir = scenarios_dir / "bad";
const fs::path extends_dir = scenarios_dir / "extends";
const fs::path repo_dir = STEPPE_REPO_DIR;

/// One line of bad/expected.txt: file, pointer, and a substring of the reason.
struct Expected {
  std::string file, pointer, says;
};

std::vector<Expected> read_expected() {
  std::ifstream in(bad_dir / "expected.txt");
  REQUIRE(in);
  std::vector<Expected> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    REQUIRE(t2 != std::string::npos);  // three tab-separated columns
    rows.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)});
  }
  return rows;
}

/// The errors of loading `file`; fails the test if it loads.
std::vector<input_error> load_errors(const fs::path& file,
                                     const std::vector<std::string>& overrides = {}) {
  try {
    (void)Scenario::load(file, overrides);
  } catch (const steppe::scenario_errors& e) {
    CHECK_FALSE(e.errors().empty());
    return e.errors();
  }
  FAIL_CHECK("no scenario_errors for " << file.string());
  return {};
}

/// Some error has exactly this pointer, a reason containing `says`, and (if given) this file.
class HasError : public Catch::MatcherBase<std::vector<input_error>> {
 public:
  HasError(std::string pointer, std::string says, std::string file = "")
      : pointer_(std::move(pointer)), says_(std::move(says)), file_(std::move(file)) {}
  bool match(const std::vector<input_error>& errors) const override {
    return std::any_of(errors.begin(), errors.end(), [&](const input_error& e) {
      return e.pointer() == pointer_ && e.reason().find(says_) != std::string::npos &&
             (file_.empty() || e.file() == file_);
    });
  }
  std::string describe() const override {
    return "has an error at \"" + pointer_ + "\" saying \"" + says_ + "\"" +
           (file_.empty() ? "" : " in file \"" + file_ + "\"");
  }

 private:
  std::string pointer_, says_, file_;
};

/// Index of the parameter written at `pointer` (fails if none).
std::size_t parameter_at(const Scenario& s, const std::string& pointer) {
  const auto ps = s.parameters();
  const auto it = std::find_if(ps.begin(), ps.end(),
                               [&](const steppe::Parameter& p) { return p.pointer == pointer; });
  REQUIRE(it != ps.end());
  return std::size_t(it - ps.begin());
}

/// good_minimal.json with `edit` applied, parsed as if read from `name` (for the known gaps below).
template <class Edit>
std::vector<input_error> parse_errors_of_edited(Edit edit, const std::string& name) {
  std::ifstream in(scenarios_dir / "good_minimal.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  edit(doc);
  try {
    (void)Scenario::parse(doc.dump(), scenarios_dir / name);
  } catch (const steppe::scenario_errors& e) {
    return e.errors();
  }
  FAIL_CHECK("no scenario_errors for " << name);
  return {};
}

double central_value(const Scenario& s, const std::string& pointer) {
  std::vector<double> v;
  s.central(v);
  return v.at(parameter_at(s, pointer));
}

}  // namespace

// ---------------------------------------------------------------------------------- bad files

TEST_CASE("every bad scenario file is rejected with its file and pointer and reason",
          "[io][scenario_json]") {
  const Expected row = GENERATE(Catch::Generators::from_range(read_expected()));
  const fs::path file = bad_dir / row.file;
  INFO(row.file << " should fail at \"" << row.pointer << "\" with \"" << row.says << "\"");
  REQUIRE(fs::exists(file));
  CHECK_THAT(load_errors(file), HasError(row.pointer, row.says, file.string()));
}

TEST_CASE("every file in bad/ is listed in expected.txt",
          "[io][scenario_json]") {
  std::set<std::string> listed;
  for (const Expected& e : read_expected()) listed.insert(e.file);
  std::set<std::string> present;
  for (const auto& entry : fs::directory_iterator(bad_dir))
    if (entry.path().extension() == ".json") present.insert(entry.path().filename().string());
  CHECK(listed == present);
  CHECK(present.size() >= 35);
}

TEST_CASE("three independent errors in one file are all reported in one exception",
          "[io][scenario_json]") {
  const fs::path file = bad_dir / "three_errors.json";
  const auto errors = load_errors(file);
  CHECK(errors.size() == 3);
  CHECK_THAT(errors, HasError("/groups/0/mortality/coale_demeny/e0", "life expectancy", file.string()));
  CHECK_THAT(errors, HasError("/outputs/headlin", "unknown field \"headlin\"", file.string()));
  CHECK_THAT(errors, HasError("/targets/0/error/sd", "relative standard deviation", file.string()));
  // what() lists every error on its own line, as "<file>:<pointer>: <reason>".
  try {
    (void)Scenario::load(file);
  } catch (const steppe::scenario_errors& e) {
    const std::string what = e.what();
    CHECK(std::count(what.begin(), what.end(), '\n') == 2);
    CHECK_THAT(what, Contains(file.string() + ":/outputs/headlin: unknown field \"headlin\""));
  }
}

// ---------------------------------------------------------------------------------- good files

TEST_CASE("the minimal good scenario (the base of every bad file) loads and builds",
          "[io][scenario_json]") {
  const Scenario s = Scenario::load(scenarios_dir / "good_minimal.json");
  CHECK(s.meta().title == "minimal valid scenario (test base)");
  CHECK(s.dims().groups() == std::vector<std::string>{"kazakh"});
  REQUIRE(s.steps().size() == 4);
  CHECK(s.steps().front().year == 1927);
  CHECK(s.steps().back().year == 1930);
  CHECK(s.targets().size() == 1);
  CHECK(s.outputs().window_first == 1928);
  CHECK(s.outputs().window_last == 1929);
  CHECK(s.has_uncertainty());  // the shared "severity"
  CHECK(central_value(s, "/groups/0/fertility/tfr") == 6.0);

  std::vector<double> values;
  s.central(values);
  CHECK(values.size() == s.parameters().size());
  steppe::ModelInputs inputs;
  s.build(values, inputs);
  CHECK(inputs.rates.size() == 4);
}

TEST_CASE("the famine sketch example loads", "[io][scenario_json]") {
  const Scenario s = Scenario::load(repo_dir / "scenarios/famine_sketch.json");
  CHECK(s.dims().groups() == std::vector<std::string>{"kazakh", "non_kazakh"});
  REQUIRE(s.steps().size() == 12);
  for (std::size_t k = 0; k < s.steps().size(); ++k) CHECK(s.steps()[k].year == 1927 + int(k));
  CHECK(s.parameters().size() > 0);
  CHECK(s.has_uncertainty());
  CHECK(s.targets().size() == 2);
  CHECK(s.outputs().window_first == 1930);
  CHECK(s.outputs().window_last == 1933);

  std::vector<double> values;
  s.central(values);
  steppe::ModelInputs inputs;
  s.build(values, inputs);
  CHECK(inputs.rates.size() == 12);
}

// ---------------------------------------------------------------------------------- extends

TEST_CASE("a variant overrides one value of its base and becomes the file of that value",
          "[io][scenario_json]") {
  const std::string base = (extends_dir / "base.json").string(),
                    variant = (extends_dir / "variant.json").string();
  const Scenario b = Scenario::load(base);
  const Scenario v = Scenario::load(variant);
  const std::string rate = "/crisis/kazakh/flight/rate/1930", kept = "/crisis/kazakh/flight/rate/1929";
  CHECK(central_value(b, rate) == 0.05);
  CHECK(central_value(v, rate) == 0.08);
  CHECK(v.parameters()[parameter_at(v, rate)].file == variant);
  CHECK(v.parameters()[parameter_at(v, kept)].file == base);
  CHECK(v.parameters()[parameter_at(v, "/groups/0/fertility/tfr")].file == base);
  CHECK(v.meta().title == "variant: faster flight in 1930");
  CHECK(v.parameters().size() == b.parameters().size());
}

TEST_CASE("errors in an extends chain name the file that wrote the bad value",
          "[io][scenario_json]") {
  const std::string base = (extends_dir / "base_bad.json").string(),
                    variant = (extends_dir / "variant_of_bad.json").string();
  const auto errors = load_errors(variant);
  CHECK(errors.size() == 2);
  CHECK_THAT(errors, HasError("/outputs/window/0", "a year of the projection's steps", variant));
  CHECK_THAT(errors, HasError("/groups/0/initial_population/undercount", "undercount share", base));
  // The base alone reports its own error under its own name.
  CHECK_THAT(load_errors(base), HasError("/groups/0/initial_population/undercount", "undercount", base));
}

TEST_CASE("an unknown key in a variant is reported at its own pointer, in the variant's file",
          "[io][scenario_json]") {
  const std::string base = (extends_dir / "base.json").string(),
                    variant = (extends_dir / "variant_unknown_keys.json").string();
  const auto errors = load_errors(variant);
  // Each unknown key and the bad title of the same object: all listed, each in the variant.
  CHECK(errors.size() == 3);
  CHECK_THAT(errors, HasError("/meta/colour", "unknown field \"colour\"", variant));
  CHECK_THAT(errors, HasError("/meta/title", "expected a string, got 5", variant));
  CHECK_THAT(errors, HasError("/crisis/kazakh/flight/rat", "did you mean \"rate\"", variant));
  // From the command line: the file is --set.
  const auto set = load_errors(base, {"/targest=1"});
  REQUIRE(set.size() == 1);
  CHECK_THAT(set, HasError("/targest", "did you mean \"targets\"", "--set"));
}

TEST_CASE("every error of one object is listed, not only its first", "[io][scenario_json]") {
  const fs::path base = extends_dir / "base.json";
  const auto errors =
      load_errors(base, {"/meta/title=5", R"(/meta/authors=["a", 3, "b", 4])", "/meta/autors=x"});
  CHECK(errors.size() == 4);
  CHECK_THAT(errors, HasError("/meta/title", "expected a string, got 5", "--set"));
  CHECK_THAT(errors, HasError("/meta/authors/1", "expected a string, got 3", "--set"));
  CHECK_THAT(errors, HasError("/meta/authors/3", "expected a string, got 4", "--set"));
  CHECK_THAT(errors, HasError("/meta/autors", "did you mean \"authors\"", "--set"));
}

TEST_CASE("a misspelt required key is one error, not also a missing field", "[io][scenario_json]") {
  const fs::path base = extends_dir / "base.json";
  const auto tfr =
      load_errors(base, {R"(/groups/0/fertility={"tfrr": 6, "schedule": "ussr_adh_1926"})"});
  CHECK(tfr.size() == 1);
  CHECK_THAT(tfr, HasError("/groups/0/fertility/tfrr", "did you mean \"tfr\"", "--set"));
  // Also where the object needs one of two fields.
  const auto flight =
      load_errors(base, {R"(/crisis/kazakh/flight={"rat": 0.05, "age_pattern": "uniform"})"});
  CHECK(flight.size() == 1);
  CHECK_THAT(flight, HasError("/crisis/kazakh/flight/rat", "did you mean \"rate\"", "--set"));
  // A key with no near name leaves the missing field reported.
  const auto other =
      load_errors(base, {R"(/groups/0/fertility={"fecundity": 6, "schedule": "ussr_adh_1926"})"});
  CHECK(other.size() == 2);
  CHECK_THAT(other, HasError("/groups/0/fertility/tfr", "missing required field", "--set"));
  // A typo beside both alternatives: "both given" is its own error, still listed.
  const auto both = load_errors(
      base, {R"(/crisis/kazakh/flight={"rate": 0.05, "count": 1000, "counts": 5, "age_pattern": "uniform"})"});
  CHECK(both.size() == 2);
  CHECK_THAT(both, HasError("/crisis/kazakh/flight/counts", "did you mean \"count\"", "--set"));
  CHECK_THAT(both, HasError("/crisis/kazakh/flight", "expected exactly one of", "--set"));
  const auto kinds = load_errors(
      base, {R"(/groups/0/mortality={"coale_demeny": {"family": "west", "e0": 40}, "brass": {"standard": "general", "alpha": 0}, "life_tabel": {}})"});
  CHECK(kinds.size() == 2);
  CHECK_THAT(kinds, HasError("/groups/0/mortality/life_tabel", "did you mean \"life_table\"", "--set"));
  CHECK_THAT(kinds, HasError("/groups/0/mortality", "expected exactly one of", "--set"));
}

TEST_CASE("every bad entry of an uncertain relative-risk schedule is listed",
          "[io][scenario_json]") {
  const auto errors = load_errors(
      extends_dir / "base.json",
      {R"(/crisis/kazakh/excess_mortality/relative_risk={"ages": [0, 5], "female": ["x", {"uniform": [1, 2]}], "male": [{"shared": "nope"}, 2]})"});
  CHECK(errors.size() == 2);
  CHECK_THAT(errors, HasError("/crisis/kazakh/excess_mortality/relative_risk/female/0",
                              "expected a relative risk >= 0 or a distribution", "--set"));
  CHECK_THAT(errors, HasError("/crisis/kazakh/excess_mortality/relative_risk/male/0/shared",
                              "no distribution named \"nope\"", "--set"));
}

TEST_CASE("a chain of three files takes each value from the last file that wrote it",
          "[io][scenario_json]") {
  const std::string top = (extends_dir / "sub/top.json").string();
  const Scenario s = Scenario::load(top);
  CHECK(s.meta().title == "chain, top");
  const auto ps = s.parameters();
  // top.json (in sub/, extends "../mid.json")
  CHECK(central_value(s, "/crisis/kazakh/flight/rate/1930") == 0.1);
  CHECK(ps[parameter_at(s, "/crisis/kazakh/flight/rate/1930")].file == top);
  // mid.json: severity uniform [1, 2] instead of [0.5, 1.5]
  const steppe::Parameter& severity = ps[parameter_at(s, "/distributions/severity")];
  CHECK_THAT(severity.file, EndsWith("mid.json"));
  CHECK(severity.shared == "severity");
  CHECK(severity.distribution.lower() == 1.0);
  CHECK(severity.distribution.upper() == 2.0);
  // base.json
  CHECK(central_value(s, "/groups/0/fertility/tfr") == 6.0);
  CHECK_THAT(ps[parameter_at(s, "/groups/0/fertility/tfr")].file, EndsWith("base.json"));
}

TEST_CASE("a variant's \"set\" changes one field inside an array of its base",
          "[io][scenario_json]") {
  const std::string base = (extends_dir / "base.json").string(),
                    variant = (extends_dir / "variant_sets_in_array.json").string();
  const Scenario b = Scenario::load(base);
  const Scenario v = Scenario::load(variant);
  CHECK(central_value(v, "/groups/0/fertility/tfr") == 6.5);
  CHECK(v.parameters()[parameter_at(v, "/groups/0/fertility/tfr")].file == variant);
  const steppe::Parameter& u = v.parameters()[parameter_at(v, "/groups/0/initial_population/undercount")];
  CHECK(u.file == variant);
  CHECK(u.distribution.upper() == 0.06);
  // Everything else in the group comes from the base.
  CHECK(v.parameters()[parameter_at(v, "/groups/0/initial_population/female")].file == base);
  CHECK(v.dims().groups() == b.dims().groups());
  // A pointer whose parent does not exist is an error at /set/<pointer> of the variant.
  const std::string bad = (extends_dir / "variant_sets_nowhere.json").string();
  CHECK_THAT(load_errors(bad), HasError("/set/~1groups~17~1fertility~1tfr", "does not exist", bad));
}

TEST_CASE("an extends cycle and a missing base are errors at /extends", "[io][scenario_json]") {
  SECTION("a.json extends b.json extends a.json") {
    const auto errors = load_errors(extends_dir / "cycle_a.json");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].pointer() == "/extends");
    CHECK_THAT(errors[0].reason(), Contains("extends cycle"));
    CHECK_THAT(errors[0].reason(), Contains("cycle_a.json -> cycle_b.json -> cycle_a.json"));
    CHECK_THAT(errors[0].file(), EndsWith("cycle_b.json"));  // the file that closes the cycle
  }
  SECTION("a base that does not exist") {
    const std::string file = (extends_dir / "missing_base.json").string();
    CHECK_THAT(load_errors(file), HasError("/extends", "does not exist", file));
  }
}

// ---------------------------------------------------------------------------------- --set

TEST_CASE("set overrides change a value and are reported with file --set",
          "[io][scenario_json]") {
  const fs::path base = extends_dir / "base.json";
  SECTION("a good override changes the value and becomes its origin") {
    const Scenario s = Scenario::load(base, {"/groups/0/fertility/tfr=4.5", "/meta/title=sensitivity"});
    CHECK(central_value(s, "/groups/0/fertility/tfr") == 4.5);
    CHECK(s.parameters()[parameter_at(s, "/groups/0/fertility/tfr")].file == "--set");
    CHECK(s.parameters()[parameter_at(s, "/groups/0/fertility/srb")].file == base.string());
    CHECK(s.meta().title == "sensitivity");  // a bare word is a string
  }
  SECTION("a distribution can be set too") {
    const Scenario s =
        Scenario::load(base, {R"(/groups/0/mortality/coale_demeny/e0={"uniform": [30, 40]})"});
    const steppe::Parameter& e0 = s.parameters()[parameter_at(s, "/groups/0/mortality/coale_demeny/e0")];
    CHECK(e0.file == "--set");
    CHECK_FALSE(e0.distribution.is_constant());
    CHECK_THAT(central_value(s, "/groups/0/mortality/coale_demeny/e0"), WithinAbs(35.0, 1e-12));
  }
  SECTION("a bad value is reported with file --set") {
    CHECK_THAT(load_errors(base, {"/groups/0/fertility/tfr=-1"}),
               HasError("/groups/0/fertility/tfr", "total fertility rate", "--set"));
    CHECK_THAT(load_errors(base, {"/projection/start=17.12.1926"}),
               HasError("/projection/start", "a date \"YYYY-MM-DD\"", "--set"));
  }
  SECTION("an override of a place that does not exist, or not an assignment") {
    CHECK_THAT(load_errors(base, {"/groups/0/nope/x=1"}),
               HasError("/groups/0/nope/x", "does not exist", "--set"));
    CHECK_THAT(load_errors(base, {"groups/0/fertility/tfr"}),
               HasError("", "expected /json/pointer=value", "--set"));
  }
  SECTION("a good override does not hide an error left in the file") {
    const std::string bad = (extends_dir / "base_bad.json").string();
    CHECK_THAT(load_errors(bad, {"/groups/0/fertility/tfr=4.5"}),
               HasError("/groups/0/initial_population/undercount", "undercount", bad));
  }
}

// ------------------------------------------------------------------------- found in review
// Gaps a review of the parser found (each failed before its fix in src/io/scenario_json.cpp or
// src/io/extends.cpp).

TEST_CASE("invalid or missing group names never make the dimensions throw",
          "[io][scenario_json]") {
  // An invalid name "a b" used twice must not reach Dims (whose domain_error would escape).
  CHECK_THAT(parse_errors_of_edited([](nlohmann::json& d) {
               d["groups"].push_back(d["groups"][0]);
               d["groups"][0]["name"] = d["groups"][1]["name"] = "a b";
             }, "two_invalid_names.json"),
             HasError("/groups/0/name", "without spaces"));
  // Likewise the placeholder of an unnamed group can equal a kept invalid name.
  CHECK_THAT(parse_errors_of_edited([](nlohmann::json& d) {
               d["groups"].push_back(d["groups"][0]);
               d["groups"][0]["name"] = "group 1";
               d["groups"][1].erase("name");
             }, "placeholder_collision.json"),
             HasError("/groups/1/name", "missing required field \"name\""));
}

TEST_CASE("a typo in a distribution kind suggests the kind", "[io][scenario_json]") {
  const auto errors = parse_errors_of_edited(
      [](nlohmann::json& d) { d["groups"][0]["fertility"]["tfr"] = {{"unifrom", {5, 6}}}; },
      "kind_typo.json");
  CHECK(std::any_of(errors.begin(), errors.end(), [](const input_error& e) {
    return e.pointer().rfind("/groups/0/fertility/tfr", 0) == 0 &&
           e.reason().find("did you mean \"uniform\"") != std::string::npos;
  }));
}

TEST_CASE("a date must be YYYY-MM-DD digits without signs", "[io][scenario_json]") {
  // "1926-+2-17" must not be read as 17 February 1926.
  CHECK_THAT(parse_errors_of_edited(
                 [](nlohmann::json& d) { d["projection"]["start"] = "1926-+2-17"; }, "signed.json"),
             HasError("/projection/start", "YYYY-MM-DD"));
}

TEST_CASE("a field deleted by a variant (null) is missing in the variant",
          "[io][scenario_json]") {
  // base.json did write a title; the variant removed it, so the variant is named.
  const std::string variant = (extends_dir / "variant_deletes_title.json").string();
  CHECK_THAT(load_errors(variant), HasError("/meta/title", "missing required field", variant));
}

TEST_CASE("the file of a distribution is the last file in the chain that changed it",
          "[io][scenario_json]") {
  // mid widens severity ("uniform"), top truncates it ("truncate"): top made the last change.
  const std::string top = (extends_dir / "top_truncates_severity.json").string();
  const Scenario s = Scenario::load(top);
  const steppe::Parameter& severity = s.parameters()[parameter_at(s, "/distributions/severity")];
  CHECK(severity.distribution.lower() == 0.6);  // the chain itself resolves correctly
  CHECK(severity.file == top);
}
