// SPDX-License-Identifier: MIT
// Specification of the model life tables: Coale–Demeny by level and by e0, Brass logit, data_dir.
#include "steppe/model_life_table.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "single_year_columns.hpp"
#include "steppe/data_dir.hpp"
#include "steppe/error.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AxRule;
using steppe::CdFamily;
using steppe::LifeTable;
using steppe::Sex;

namespace {

const CdFamily families[] = {CdFamily::west, CdFamily::north, CdFamily::east, CdFamily::south};

/// The rows of a reference CSV as column → text maps (read here, independently of the library).
std::vector<std::map<std::string, std::string>> read_csv(const char* name) {
  std::ifstream in(std::filesystem::path(STEPPE_REPO_DIR) / "data" / "reference" / name);
  REQUIRE(in);
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
    return out;
  };
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto f = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t j = 0; j < f.size() && j < header.size(); ++j) row[header[j]] = f[j];
    rows.push_back(row);
  }
  return rows;
}

CdFamily family_of(const std::string& s) {
  for (CdFamily f : families)
    if (s == steppe::to_string(f)) return f;
  FAIL("unknown family " << s);
  return CdFamily::west;
}

Eigen::Index abridged_index(int age) { return age == 0 ? 0 : age == 1 ? 1 : age / 5 + 1; }

}  // namespace

TEST_CASE("every Coale-Demeny level reproduces the file's l(x) and e0", "[unit]") {
  // file e0 and lx per (family, sex, level): e0 from the built table is Σ L, recomputed here
  std::map<std::tuple<std::string, std::string, int>, std::vector<double>> lx;
  std::map<std::tuple<std::string, std::string, int>, double> e0;
  for (const auto& r : read_csv("mlt_coale_demeny_levels.csv")) {
    const auto key = std::tuple{r.at("family"), r.at("sex"), std::stoi(r.at("level"))};
    lx[key].push_back(std::stod(r.at("lx")));
    e0[key] = std::stod(r.at("e0"));
  }
  REQUIRE(e0.size() == 200);
  for (const auto& [key, file_e0] : e0) {
    const auto& [fam, sex, level] = key;
    const LifeTable t =
        steppe::coale_demeny(family_of(fam), sex == "F" ? Sex::female : Sex::male, level);
    INFO(fam << " " << sex << " level " << level);
    REQUIRE(t.size() == 21);
    CHECK(t.open_age() == 95);
    CHECK_THAT(t.e0(), WithinAbs(file_e0, 0.01));
    CHECK_THAT(t.Lx().sum(), WithinAbs(t.e0(), 1e-9));
    for (Eigen::Index i = 0; i < t.size(); ++i)
      CHECK_THAT(t.lx()[i], WithinAbs(lx[key][std::size_t(i)], 1e-9));
  }
}

TEST_CASE("Coale-Demeny spot checks from PROVENANCE (demogR 0.6.0)", "[unit]") {
  const LifeTable w = steppe::coale_demeny(CdFamily::west, Sex::female, 10);
  CHECK_THAT(w.e0(), WithinAbs(42.499, 0.0005));
  CHECK_THAT(w.qx()[0], WithinAbs(0.16194, 0.000005));
  CHECK_THAT(w.lx()[1], WithinAbs(0.83806, 0.000005));
  CHECK_THAT(w.lx()[2], WithinAbs(0.74939, 0.000005));
  const auto [family, l1, l5] =
      GENERATE(table<CdFamily, double, double>({{CdFamily::north, 0.85709, 0.75100},
                                                {CdFamily::east, 0.80221, 0.72090},
                                                {CdFamily::south, 0.83916, 0.71446}}));
  const LifeTable t = steppe::coale_demeny(family, Sex::female, 10);
  CHECK_THAT(t.lx()[1], WithinAbs(l1, 0.000005));
  CHECK_THAT(t.lx()[2], WithinAbs(l5, 0.000005));
  // male level index: West M level 1 and 25 e0 = 18.03 and 76.65
  CHECK_THAT(steppe::coale_demeny(CdFamily::west, Sex::male, 1).e0(), WithinAbs(18.03, 0.005));
  CHECK_THAT(steppe::coale_demeny(CdFamily::west, Sex::male, 25).e0(), WithinAbs(76.65, 0.005));
}

TEST_CASE("Coale-Demeny child survival agrees with the UN (1990) printed tables", "[unit]") {
  // Independent calculation: UN (1990) Step-by-step guide, q(x) = probability of dying before x.
  // l(1) agrees within 0.001 for every family, sex and level; l(5) within 0.001 for East and
  // South, and within 0.00125 for North and West (levels 13-21 reach 0.0012: measured, see
  // data/reference/PROVENANCE.md). West F level 10: l(1) = 0.83857, l(5) = 0.75017 as printed.
  int checked = 0;
  for (const auto& r : read_csv("mlt_cd_child_q_un1990.csv")) {
    const int age = std::stoi(r.at("age"));
    if (r.at("sex") == "B" || (age != 1 && age != 5)) continue;
    const CdFamily f = family_of(r.at("family"));
    const LifeTable t = steppe::coale_demeny(f, r.at("sex") == "F" ? Sex::female : Sex::male,
                                             std::stoi(r.at("level")));
    const double printed_l = 1.0 - std::stod(r.at("q_to_age"));
    const bool east_south = f == CdFamily::east || f == CdFamily::south;
    const double tol = age == 1 || east_south ? 0.001 : 0.00125;
    INFO(r.at("family") << " " << r.at("sex") << " level " << r.at("level") << " age " << age);
    CHECK_THAT(t.lx()[abridged_index(age)], WithinAbs(printed_l, tol));
    ++checked;
  }
  CHECK(checked == 4 * 2 * 25 * 2);
  const LifeTable w = steppe::coale_demeny(CdFamily::west, Sex::female, 10);
  CHECK_THAT(w.lx()[1], WithinAbs(0.83857, 0.001));
  CHECK_THAT(w.lx()[2], WithinAbs(0.75017, 0.001));
}

TEST_CASE("coale_demeny_e0 hits the target e0", "[unit]") {
  const CdFamily family =
      GENERATE(CdFamily::west, CdFamily::north, CdFamily::east, CdFamily::south);
  const Sex sex = GENERATE(Sex::female, Sex::male);
  const double lo = steppe::coale_demeny(family, sex, 1).e0();
  const double hi = steppe::coale_demeny(family, sex, 25).e0();
  for (double target : {27.3, 35.0, 42.5, 48.77, 55.55, 63.1, 70.0, 75.9, lo, hi}) {
    if (target < lo || target > hi) continue;
    INFO(steppe::to_string(family) << " " << steppe::to_string(sex) << " e0 " << target);
    const LifeTable t = steppe::coale_demeny_e0(family, sex, target);
    CHECK_THAT(t.e0(), WithinAbs(target, 0.01));
    CHECK_THAT(t.e0(), WithinAbs(target, 1e-9));  // closed-form weight: exact to rounding
    CHECK((t.qx() >= 0).all());
    CHECK((t.qx() <= 1).all());
  }
  SECTION("a level's own e0 gives that level's table") {
    const LifeTable l10 = steppe::coale_demeny(family, sex, 10);
    const LifeTable t = steppe::coale_demeny_e0(family, sex, l10.e0());
    CHECK(((t.lx() - l10.lx()).abs() < 1e-12).all());
  }
  SECTION("targets outside the family's range throw") {
    CHECK_THROWS_AS(steppe::coale_demeny_e0(family, sex, lo - 0.1), steppe::domain_error);
    CHECK_THROWS_AS(steppe::coale_demeny_e0(family, sex, hi + 0.1), steppe::domain_error);
    CHECK_THROWS_AS(steppe::coale_demeny_e0(family, sex, NAN), steppe::domain_error);
  }
}

TEST_CASE("coale_demeny rejects levels outside 1..25", "[unit]") {
  CHECK_THROWS_AS(steppe::coale_demeny(CdFamily::west, Sex::female, 0), steppe::domain_error);
  CHECK_THROWS_AS(steppe::coale_demeny(CdFamily::west, Sex::female, 26), steppe::domain_error);
}

TEST_CASE("the Brass General Standard matches its printed values", "[unit]") {
  const LifeTable s = steppe::brass_general_standard(AxRule::coale_demeny(Sex::female));
  REQUIRE(s.size() == 100);
  CHECK(s.open_age() == 99);
  // printed l to 4 decimals (rounding ±0.00005), printed Ys(1) = −0.8670, Ys(5) = −0.6015
  CHECK_THAT(s.lx()[1], WithinAbs(0.8499, 0.00005));
  CHECK_THAT(s.lx()[5], WithinAbs(0.7691, 0.00005));
  CHECK_THAT(s.lx()[10], WithinAbs(0.7502, 0.00005));
  CHECK_THAT(s.lx()[50], WithinAbs(0.5106, 0.00005));
  const auto ys = [&](int x) { return 0.5 * std::log((1 - s.lx()[x]) / s.lx()[x]); };
  CHECK_THAT(ys(1), WithinAbs(-0.8670, 1e-9));
  CHECK_THAT(ys(5), WithinAbs(-0.6015, 1e-9));
  CHECK(s.lx()[99] > 0);
}

TEST_CASE("Brass relational logit", "[unit]") {
  const LifeTable std_ = steppe::brass_general_standard(AxRule::coale_demeny(Sex::female));
  SECTION("alpha = 0, beta = 1 returns the standard") {
    const LifeTable t = steppe::brass_logit(std_, 0.0, 1.0);
    CHECK(((t.lx() - std_.lx()).abs() < 1e-12).all());
    CHECK(((t.Lx() - std_.Lx()).abs() < 1e-12).all());
    CHECK_THAT(t.e0(), WithinRel(std_.e0(), 1e-12));
  }
  SECTION("e0 falls monotonically as alpha rises") {
    double previous = std::numeric_limits<double>::infinity();
    for (double alpha = -1.5; alpha <= 1.5; alpha += 0.25) {
      const double e0 = steppe::brass_logit(std_, alpha, 1.0).e0();
      CHECK(e0 < previous);
      previous = e0;
    }
  }
  SECTION("beta > 1 raises l where Ys < 0 and lowers it where Ys > 0") {
    const LifeTable t = steppe::brass_logit(std_, 0.0, 1.3);
    CHECK(t.lx()[5] > std_.lx()[5]);    // l(5) ≈ 0.77 > 0.5: Ys < 0
    CHECK(t.lx()[80] < std_.lx()[80]);  // l(80) < 0.5: Ys > 0
  }
  SECTION("works on an abridged standard too") {
    const LifeTable cd = steppe::coale_demeny(CdFamily::west, Sex::male, 12);
    CHECK(((steppe::brass_logit(cd, 0, 1).lx() - cd.lx()).abs() < 1e-12).all());
    CHECK(steppe::brass_logit(cd, 0.3, 1).e0() < cd.e0());
  }
  SECTION("brass_fit_alpha_for_e0 finds the level") {
    for (double target : {25.0, 33.3, 50.0, 68.0}) {
      const double alpha = steppe::brass_fit_alpha_for_e0(std_, 1.0, target);
      CHECK_THAT(steppe::brass_logit(std_, alpha, 1.0).e0(), WithinAbs(target, 1e-6));
    }
    CHECK_THROWS_AS(steppe::brass_fit_alpha_for_e0(std_, 1.0, 0.1), steppe::domain_error);
  }
  SECTION("bad parameters throw") {
    CHECK_THROWS_AS(steppe::brass_logit(std_, 0.0, 0.0), steppe::domain_error);
    CHECK_THROWS_AS(steppe::brass_logit(std_, NAN, 1.0), steppe::domain_error);
  }
}

TEST_CASE("data_dir honours STEPPE_DATA_DIR, else finds the source tree", "[unit]") {
  const char* saved = std::getenv("STEPPE_DATA_DIR");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("STEPPE_DATA_DIR");
  CHECK(std::filesystem::exists(steppe::data_dir() / "reference" / "mlt_coale_demeny_levels.csv"));
  ::setenv("STEPPE_DATA_DIR", "/nonexistent/steppe-data", 1);
  CHECK(steppe::data_dir() == std::filesystem::path("/nonexistent/steppe-data"));
  if (saved)
    ::setenv("STEPPE_DATA_DIR", saved_value.c_str(), 1);
  else
    ::unsetenv("STEPPE_DATA_DIR");
}

TEST_CASE("a malformed reference file names the row and column", "[unit]") {
  const auto dir = std::filesystem::temp_directory_path() / "steppe_model_life_table_test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& bad_row) {
    std::ofstream out(dir / name);
    out << "age,lx,Ys\n0,1,\n";
    for (int x = 1; x < 100; ++x)
      out << (x == 3 ? bad_row : std::to_string(x) + ",0.5,0.1") << "\n";
    return dir / name;
  };
  const auto rule = AxRule::midpoint();
  CHECK_THROWS_MATCHES(steppe::detail::read_brass_standard(write("bad_ys.csv", "3,0.5,abc"), rule),
                       steppe::input_error,
                       Catch::Predicate<steppe::input_error>(
                           [](const steppe::input_error& e) { return e.pointer() == "/row/3/Ys"; },
                           "pointer is /row/3/Ys"));
  CHECK_THROWS_MATCHES(steppe::detail::read_brass_standard(write("bad_age.csv", "7,0.5,0.1"), rule),
                       steppe::input_error,
                       Catch::Predicate<steppe::input_error>(
                           [](const steppe::input_error& e) { return e.pointer() == "/row/3/age"; },
                           "pointer is /row/3/age"));
  CHECK_THROWS_AS(steppe::detail::read_brass_standard(dir / "missing.csv", rule),
                  steppe::input_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Scenario::build's Coale-Demeny path gives LifeTable's numbers bit for bit", "[unit]") {
  // detail::coale_demeny_e0_single_year replaces coale_demeny_e0(...).to_single_year(...) and its
  // projection ratios when e0 is uncertain: the same operations, so the same bits.
  steppe::detail::SingleYearColumns cols;
  Eigen::ArrayXd ratios;
  const steppe::AgeAxis axes[] = {steppe::AgeAxis::single_year(100), steppe::AgeAxis::five_year(85),
                                  steppe::AgeAxis::single_year(80)};
  auto same = [](const Eigen::ArrayXd& a, const Eigen::ArrayXd& b) {
    if (a.size() != b.size()) return false;
    for (Eigen::Index i = 0; i < a.size(); ++i)
      if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
    return true;
  };
  for (CdFamily f : families)
    for (Sex sex : {Sex::female, Sex::male})
      for (const steppe::AgeAxis& axis : axes)
        for (double e0 = 16.0; e0 < 84.0; e0 += 0.37) {
          bool valid = true;
          try {
            (void)steppe::coale_demeny_e0(f, sex, e0);
          } catch (const steppe::domain_error&) {
            valid = false;
          }
          const int upto = axis.open_age() + axis.width;
          REQUIRE(steppe::detail::coale_demeny_e0_single_year(f, sex, e0, upto, cols) == valid);
          if (!valid) continue;
          const LifeTable single =
              steppe::coale_demeny_e0(f, sex, e0).to_single_year(std::max(upto, 95));
          CHECK(same(single.lx(), cols.lx));
          CHECK(same(single.Lx(), cols.Lx));
          CHECK(same(single.Tx(), cols.Tx));
          steppe::detail::projection_survivorship(cols, axis, ratios);
          CHECK(same(single.projection_survivorship(axis), ratios));
          const double b = single.birth_survivorship(axis.width);
          const double c = steppe::detail::birth_survivorship(cols, axis.width);
          CHECK(std::memcmp(&b, &c, sizeof(double)) == 0);
        }
}
