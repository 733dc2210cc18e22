// SPDX-License-Identifier: MIT
// steppe project input: the good file resolves to the right rates; every bad file is rejected
// with an input_error naming the offending value by its JSON pointer.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <set>

#include "steppe/error.hpp"
#include "steppe/io/project_input.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::WithinRel;
using steppe::input_error;

namespace {

const fs::path data_dir = STEPPE_TEST_DATA_DIR;

class HasPointer : public Catch::MatcherBase<input_error> {
 public:
  explicit HasPointer(std::string p) : p_(std::move(p)) {}
  bool match(const input_error& e) const override { return e.pointer() == p_; }
  std::string describe() const override { return "has JSON pointer \"" + p_ + "\""; }

 private:
  std::string p_;
};

}  // namespace

TEST_CASE("the tiny input resolves to dims, population and one RateSet per step", "[io]") {
  const steppe::ProjectInput in = steppe::load_project_input(data_dir / "good/tiny.json");
  CHECK(in.dims.ages() == steppe::AgeAxis::single_year(4));
  CHECK(in.dims.groups() == std::vector<std::string>{"a", "b"});
  CHECK(in.start_year == 1926);
  REQUIRE(in.rates.size() == 3);  // "repeat": 2, then one crisis step
  CHECK(in.initial.home(steppe::Sex::male, 0)[3] == 69);
  CHECK(in.initial.abroad(steppe::Sex::female, 0)[2] == 5);

  const steppe::RateSet& r = in.rates[0];
  const int bf = steppe::Dims::col(steppe::Sex::female, 1),
            bm = steppe::Dims::col(steppe::Sex::male, 1);
  // Explicit survivorship is taken as given, and abroad defaults to the home mortality.
  CHECK(r.survivorship(3, bf) == 0.6);
  CHECK(r.birth_survivorship[bm] == 0.88);
  CHECK(r.survivorship_abroad(3, bf) == 0.6);
  // TFR 2 with half the births at ages 2 and 3 on a 1-year axis: asfr = 2 · 0.5 / 1 = 1.
  CHECK(r.asfr(2, 1) == 1.0);
  CHECK(r.asfr(4, 1) == 0.0);
  CHECK(r.srb[0] == 1.05);
  CHECK(in.rates[2].srb[1] == 1.06);
  // 10 immigrants, "uniform" over 5 ages and half per sex: 1 person per cell.
  CHECK_THAT(r.immigration_count(3, 0), Catch::Matchers::WithinAbs(1.0, 1e-12));
  CHECK(r.emigration_rate(2, 1) == 0.01);
  // Net rate: a bare number for females, an array for males.
  CHECK(r.net_migration_rate(4, bf) == 0.01);
  CHECK(r.net_migration_rate(2, bm) == 0.02);
  // Net count -4, uniform, a quarter female: -1/5 per female cell, -3/5 per male cell.
  CHECK_THAT(in.rates[2].net_migration_count(0, bf), Catch::Matchers::WithinAbs(-0.2, 1e-12));
  CHECK_THAT(in.rates[2].net_migration_count(0, bm), Catch::Matchers::WithinAbs(-0.6, 1e-12));
  // Crisis: bare number broadcast, per-sex mixed forms.
  // Hazard multipliers become crisis survivorship S^m (set_mortality_multiplier).
  CHECK_THAT(r.crisis_survivorship(2, 0), WithinRel(std::pow(r.survivorship(2, 0), 1.2), 1e-14));
  CHECK_THAT(r.crisis_survivorship(2, bf), WithinRel(r.survivorship(2, bf), 1e-14));  // group b: m = 1
  CHECK_THAT(in.rates[2].crisis_survivorship(3, 1),
             WithinRel(std::pow(in.rates[2].survivorship(3, 1), 3.0), 1e-14));
  CHECK_THAT(in.rates[2].crisis_survivorship_abroad(3, 1), WithinRel(std::pow(0.5, 1.5), 1e-14));
  CHECK(in.rates[1].crisis_survivorship_abroad.size() == 0);  // none given: baseline
  CHECK(r.fertility_multiplier[0] == 0.9);
  // Life table input: survivorship ratios in [0, 1] and an infant survivorship below 1 - q0/2.
  CHECK((r.survivorship.col(0) >= 0).all());
  CHECK((r.survivorship.col(0) <= 1).all());
  CHECK(r.birth_survivorship[0] < 1.0);
  CHECK(r.birth_survivorship[0] > 1.0 - 0.2);
}

TEST_CASE("bad steppe project inputs name the offending value", "[io]") {
  auto [file, pointer] = GENERATE(table<const char*, const char*>(
      {{"qx_above_one.json", "/steps/0/groups/a/mortality/female/life_table/qx/2"},
       {"survivorship_wrong_length.json", "/steps/0/groups/b/mortality/male/survivorship"},
       {"initial_negative_count.json", "/initial/a/male/3"},
       {"emigration_count_negative.json", "/steps/0/groups/a/migration/emigration_count/female/1"},
       {"missing_start_year.json", "/start_year"},
       {"missing_group_in_step.json", "/steps/0/groups/b"},
       {"missing_birth_survivorship.json", "/steps/0/groups/b/mortality/female/birth_survivorship"},
       {"start_year_string.json", "/start_year"},
       {"initial_object_not_array.json", "/initial/b/female"},
       {"unknown_key_typo.json", "/steps/0/groups/a/fertilty"},
       {"bad_timing.json", "/options/timing"},
       {"bad_on_negative.json", "/options/on_negative"},
       {"asfr_nonzero_first_cell.json", "/steps/0/groups/a/fertility/asfr/0"},
       {"unknown_fertility_pattern.json", "/steps/0/groups/b/fertility/pattern"},
       {"pattern_not_summing_to_one.json", "/steps/0/groups/b/fertility/pattern"},
       {"tfr_negative.json", "/steps/0/groups/b/fertility/tfr"},
       {"srb_zero.json", "/steps/0/groups/a/srb"},
       {"emigration_rate_above_one.json", "/steps/0/groups/a/migration/emigration_rate/female"},
       {"immigration_total_negative.json", "/steps/0/groups/a/migration/immigration_count/total"},
       {"mortality_multiplier_negative.json", "/steps/0/groups/a/crisis/mortality_multiplier"},
       {"survivorship_and_life_table.json", "/steps/0/groups/b/mortality/male"},
       {"life_table_ages_not_increasing.json",
        "/steps/0/groups/a/mortality/male/life_table/ages/2"},
       {"repeat_zero.json", "/steps/0/repeat"},
       {"steps_empty.json", "/steps"},
       {"repeated_group_name.json", "/groups/1"},
       {"initial_unknown_group.json", "/initial/c"},
       {"five_year_bad_open_age.json", "/ages/open_age"},
       {"omega_with_five_year.json", "/ages/omega"},
       {"wrong_format_tag.json", "/format"},
       {"parse_error.json", ""},
       {"empty_file.json", ""}}));
  CAPTURE(file);
  const fs::path path = data_dir / "bad" / file;
  CHECK_THROWS_MATCHES(steppe::load_project_input(path), input_error, HasPointer(pointer));
  try {
    steppe::load_project_input(path);
  } catch (const input_error& e) {
    CHECK(e.file() == path.string());
    CHECK(std::string(e.what()) == path.string() + ":" + pointer + ": " + e.reason());
  }
}

TEST_CASE("every bad file is in the expected-pointer table the CLI tests read", "[io]") {
  std::ifstream table(data_dir / "bad/expected_pointers.txt");
  REQUIRE(table);
  std::set<std::string> listed;
  for (std::string line; std::getline(table, line);)
    if (!line.empty() && line[0] != '#') listed.insert(line.substr(0, line.find(' ')));
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(data_dir / "bad"))
    if (e.path().extension() == ".json") files.insert(e.path().filename().string());
  CHECK(files == listed);
  CHECK(files.size() >= 12);
}

TEST_CASE("error reasons say what was expected and what was found", "[io]") {
  using Catch::Matchers::Contains;
  auto reason = [](const char* file) {
    try {
      steppe::load_project_input(data_dir / "bad" / file);
    } catch (const input_error& e) {
      return e.reason();
    }
    return std::string("no error");
  };
  CHECK(reason("qx_above_one.json") == "expected a probability in [0, 1], got 1.3");
  CHECK_THAT(reason("unknown_key_typo.json"),
             Contains("unknown field \"fertilty\"") && Contains("did you mean \"fertility\""));
  CHECK_THAT(reason("parse_error.json"), Contains("parse error at line 3, column"));
  CHECK_THAT(reason("survivorship_wrong_length.json"),
             Contains("expected an array of 5") && Contains("got 3"));
  CHECK_THAT(reason("unknown_fertility_pattern.json"), Contains("booth_1984_standard"));
}

TEST_CASE("parse_project_input labels errors with the caller's file label", "[io]") {
  CHECK_THROWS_MATCHES(steppe::parse_project_input("[1, 2]", "inline"), input_error,
                       HasPointer(""));
  try {
    steppe::parse_project_input("{\"ages\": 3}", "inline");
    FAIL("no error");
  } catch (const input_error& e) {
    CHECK(e.file() == "inline");
    CHECK(e.pointer() == "/ages");
    CHECK(e.reason() == "expected an object, got 3");
  }
  CHECK_THROWS_MATCHES(steppe::load_project_input(data_dir / "no_such_file.json"), input_error,
                       HasPointer(""));
}

TEST_CASE("the shipped examples load", "[io]") {
  const fs::path examples = fs::path(STEPPE_REPO_DIR) / "scenarios/examples";
  int n = 0;
  for (const auto& e : fs::directory_iterator(examples)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream file(e.path());
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (text.find("\"steppe-project/1\"") == std::string::npos) continue;  // a scenario file
    ++n;
    CAPTURE(e.path().string());
    const steppe::ProjectInput in = steppe::load_project_input(e.path());
    CHECK(in.rates.size() >= 3);
  }
  CHECK(n >= 2);
}
