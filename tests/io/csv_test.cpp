// SPDX-License-Identifier: MIT
// Projection output: the population and flows CSV layouts, and all-or-nothing file writing.
#include "steppe/io/csv.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "steppe/error.hpp"
#include "steppe/io/project_input.hpp"
#include "steppe/project.hpp"
#include "support/text.hpp"

namespace fs = std::filesystem;
using steppe::Sex;

namespace {

using steppe::test::lines;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("population CSV: one row per year, group, sex and age cell", "[io]") {
  const steppe::Dims dims(steppe::AgeAxis::five_year(10), {"kazakh"});  // cells 0, 5, 10+
  steppe::Population pop(dims);
  pop.home(Sex::female, 0) << 100, 80, 60.5;
  pop.abroad(Sex::male, 0) << 0, 1, 2;
  steppe::Trajectory t(pop, 1926);
  steppe::Flows flows(dims);
  flows.births << 30, 31.5;
  flows.deaths(1, 0) = 4;
  pop.home(Sex::female, 0) << 1, 2, 3;
  t(pop, 1931, flows);

  std::ostringstream out;
  steppe::write_population_csv(out, t);
  const auto l = lines(out.str());
  REQUIRE(l.size() == 1 + 2 * 2 * 3);
  CHECK(l[0] == "year,group,sex,age,population,population_abroad");
  CHECK(l[1] == "1926,kazakh,female,0,100,0");
  CHECK(l[3] == "1926,kazakh,female,10,60.5,0");
  CHECK(l[6] == "1926,kazakh,male,10,0,2");
  CHECK(l[7] == "1931,kazakh,female,0,1,0");

  std::ostringstream fo;
  steppe::write_flows_csv(fo, t);
  const auto f = lines(fo.str());
  REQUIRE(f.size() == 1 + 2 * 3);
  CHECK(f[0] ==
        "year,group,sex,age,deaths,deaths_abroad,baseline_deaths,baseline_deaths_abroad,births,"
        "births_abroad,baseline_births,emigrants,returnees,immigrants,net_migrants,clamped");
  // Births sit on the age-0 row (the cohort born in the step), by sex of the child.
  CHECK(f[1] == "1931,kazakh,female,0,0,0,0,0,30,0,0,0,0,0,0,0");
  CHECK(f[2] == "1931,kazakh,female,5,4,0,0,0,0,0,0,0,0,0,0,0");
  CHECK(f[4] == "1931,kazakh,male,0,0,0,0,0,31.5,0,0,0,0,0,0,0");
}

TEST_CASE("numbers are written with shortest round-trip precision", "[io]") {
  const steppe::Dims dims(steppe::AgeAxis::single_year(1), {"g"});
  steppe::Population pop(dims);
  pop.home(Sex::female, 0)[0] = 0.1 + 0.2;
  steppe::Trajectory t(pop, 2000);
  std::ostringstream out;
  steppe::write_population_csv(out, t);
  const auto l = lines(out.str());
  CHECK(l[1] == "2000,g,female,0,0.30000000000000004,0");
  CHECK(std::stod(l[1].substr(l[1].rfind(',', l[1].size() - 3) + 1)) == 0.1 + 0.2);
}

TEST_CASE("the CSV balances row by row on a projected input", "[io]") {
  const auto in = steppe::load_project_input(fs::path(STEPPE_TEST_DATA_DIR) / "good/tiny.json");
  steppe::Population pop = in.initial;
  steppe::Projector p(in.dims, in.options);
  steppe::Trajectory t(pop, in.start_year);
  CHECK(steppe::project(p, pop, std::span<const steppe::RateSet>(in.rates), in.start_year, t) == 3);
  REQUIRE(t.years() == std::vector<int>{1926, 1927, 1928, 1929});
  // home(end)[a] = home(start)[a-1] + births[a=0] + immigrants + returnees + net − deaths −
  // emigrants
  const int A = in.dims.n_ages();
  for (int k = 0; k < t.steps(); ++k) {
    const auto& f = t.flows()[std::size_t(k)];
    const auto& s = t.populations()[std::size_t(k)].home();
    const auto& e = t.populations()[std::size_t(k) + 1].home();
    for (int c = 0; c < in.dims.n_cols(); ++c)
      for (int a = 0; a < A; ++a) {
        double start = a == 0 ? f.births[c] : s(a - 1, c);
        if (a == A - 1) start += s(A - 1, c);
        const double rhs = start + f.immigrants(a, c) + f.returnees(a, c) + f.net_migrants(a, c) -
                           f.deaths(a, c) - f.emigrants(a, c);
        CHECK_THAT(e(a, c), Catch::Matchers::WithinAbs(rhs, 1e-9));
      }
  }
}

TEST_CASE("output files are written all or nothing", "[io]") {
  const fs::path dir = fs::temp_directory_path() / "steppe_csv_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path a = dir / "a.csv", b = dir / "b.csv";

  steppe::write_file_atomically(a, [](std::ostream& o) { o << "old\n"; });
  CHECK(slurp(a) == "old\n");

  // The second writer fails: neither file changes and no temporary is left behind.
  CHECK_THROWS_AS(steppe::write_files_atomically({{a, [](std::ostream& o) { o << "new\n"; }},
                                                  {b,
                                                   [](std::ostream& o) {
                                                     o << "partial";
                                                     throw steppe::error("disk full");
                                                   }}}),
                  steppe::error);
  CHECK(slurp(a) == "old\n");
  CHECK_FALSE(fs::exists(b));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);

  // A folder that does not exist: an error naming the path.
  CHECK_THROWS_WITH(steppe::write_file_atomically(dir / "no/such/dir.csv", [](std::ostream&) {}),
                    Catch::Matchers::Contains("dir.csv"));
  fs::remove_all(dir);
}
