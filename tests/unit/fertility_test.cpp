// SPDX-License-Identifier: MIT
// Fertility: ASFR from TFR × pattern, mapping 5-year patterns onto an age axis, the reference file.
#include "steppe/fertility.hpp"

#include <catch2/catch.hpp>

#include "steppe/error.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;

TEST_CASE("asfr_from_tfr: width · Σ asfr = TFR, by hand", "[unit]") {
  const AgeAxis five = AgeAxis::five_year(50);  // 0-4 … 45-49, 50+: 11 cells
  Eigen::ArrayXd share = Eigen::ArrayXd::Zero(11);
  share[4] = 0.25;  // 20-24
  share[5] = 0.5;   // 25-29
  share[6] = 0.25;  // 30-34
  const Eigen::ArrayXd asfr = steppe::asfr_from_tfr(6.0, share, five);
  CHECK(asfr[4] == 0.3);  // 6 · 0.25 / 5
  CHECK(asfr[5] == 0.6);  // 6 · 0.5 / 5
  CHECK(asfr[0] == 0.0);
  CHECK_THAT(5 * asfr.sum(), WithinRel(6.0, 1e-15));
  CHECK_THAT(steppe::tfr_of(asfr, five), WithinRel(6.0, 1e-15));

  const AgeAxis single = AgeAxis::single_year(100);
  Eigen::ArrayXd s1 = Eigen::ArrayXd::Zero(101);
  s1.segment(20, 10).setConstant(0.1);
  const Eigen::ArrayXd a1 = steppe::asfr_from_tfr(4.5, s1, single);
  CHECK_THAT(a1[25], WithinAbs(0.45, 1e-15));
  CHECK_THAT(a1.sum(), WithinRel(4.5, 1e-14));
}

TEST_CASE("asfr_from_tfr rejects impossible input", "[unit]") {
  const AgeAxis five = AgeAxis::five_year(50);
  Eigen::ArrayXd share = Eigen::ArrayXd::Zero(11);
  share[5] = 1.0;
  CHECK_THROWS_AS(steppe::asfr_from_tfr(-1.0, share, five), steppe::domain_error);
  CHECK_THROWS_WITH(steppe::asfr_from_tfr(-1.0, share, five),
                    Catch::Matchers::Contains("tfr") && Catch::Matchers::Contains("-1"));
  CHECK_THROWS_AS(steppe::asfr_from_tfr(std::nan(""), share, five), steppe::domain_error);
  CHECK_THROWS_AS(steppe::asfr_from_tfr(5.0, share.head(10), five), steppe::domain_error);
  Eigen::ArrayXd off = share;
  off[6] = 1e-5;  // sums to 1.00001
  CHECK_THROWS_WITH(steppe::asfr_from_tfr(5.0, off, five),
                    Catch::Matchers::Contains("summing to 1"));
  off[6] = 5e-7;  // within 1e-6: accepted
  CHECK_NOTHROW(steppe::asfr_from_tfr(5.0, off, five));
  Eigen::ArrayXd neg = share;
  neg[6] = -0.1;
  neg[5] = 1.1;
  CHECK_THROWS_AS(steppe::asfr_from_tfr(5.0, neg, five), steppe::domain_error);
  Eigen::ArrayXd infants = share;
  infants[0] = 0.5;
  infants[5] = 0.5;
  CHECK_THROWS_WITH(steppe::asfr_from_tfr(5.0, infants, five),
                    Catch::Matchers::Contains("pattern_share[0]"));
}

TEST_CASE("5-year patterns map onto 5-year cells directly and onto single years evenly", "[unit]") {
  const steppe::FertilityPattern p{"test", {15, 20, 25}, {0.2, 0.5, 0.3}};
  const Eigen::ArrayXd five = steppe::pattern_on_axis(p, AgeAxis::five_year(85));
  CHECK(five[3] == 0.2);
  CHECK(five[4] == 0.5);
  CHECK(five[5] == 0.3);
  CHECK_THAT(five.sum(), WithinAbs(1.0, 1e-15));

  const Eigen::ArrayXd one = steppe::pattern_on_axis(p, AgeAxis::single_year(100));
  for (int x = 15; x < 20; ++x) CHECK_THAT(one[x], WithinAbs(0.04, 1e-15));
  for (int x = 20; x < 25; ++x) CHECK_THAT(one[x], WithinAbs(0.1, 1e-15));
  CHECK(one[14] == 0.0);
  CHECK(one[30] == 0.0);
  CHECK_THAT(one.sum(), WithinAbs(1.0, 1e-14));

  // Groups at or above the open age fall into the open cell.
  const Eigen::ArrayXd open = steppe::pattern_on_axis(p, AgeAxis::single_year(22));
  CHECK_THAT(open[22], WithinAbs(0.3 + 0.3, 1e-15));  // ages 22-24 of 20-24 (3 × 0.1) + 25-29
  CHECK_THAT(open.sum(), WithinAbs(1.0, 1e-14));

  CHECK_THROWS_AS(steppe::pattern_on_axis({"bad", {17}, {1.0}}, AgeAxis::five_year(85)),
                  steppe::domain_error);
  CHECK_THROWS_AS(steppe::pattern_on_axis({"infants", {0}, {1.0}}, AgeAxis::five_year(85)),
                  steppe::domain_error);
}

TEST_CASE("reference patterns: names, normalisation, TFR 6 on 5-year groups", "[unit]") {
  const auto names = steppe::fertility_pattern_names();
  CHECK(names == std::vector<std::string>{"booth_1984_standard", "coale_trussell_natural_n_a",
                                          "hutterite_marital_20_49", "ussr_adh_1926",
                                          "ussr_adh_1927", "ussr_adh_1928",
                                          "kazakhstan_wpp2019_1950_55"});
  for (const auto& name : names) {
    CAPTURE(name);
    for (const AgeAxis axis : {AgeAxis::five_year(85), AgeAxis::single_year(100)}) {
      const Eigen::ArrayXd s = steppe::fertility_pattern(name, axis);
      CHECK_THAT(s.sum(), WithinAbs(1.0, 1e-12));
      CHECK(s[0] == 0.0);
      const Eigen::ArrayXd asfr = steppe::asfr_from_tfr(6.0, s, axis);
      CHECK_THAT(axis.width * asfr.sum(), WithinRel(6.0, 1e-12));
    }
  }
  // Booth standard, 20-24: 24.1475 % of the listed percentages (which sum to 99.9999).
  const Eigen::ArrayXd booth =
      steppe::fertility_pattern("booth_1984_standard", AgeAxis::five_year(85));
  CHECK_THAT(booth[4], WithinAbs(0.241475, 2e-6));
  CHECK_THAT(steppe::asfr_from_tfr(6.0, booth, AgeAxis::five_year(85))[4],
             WithinAbs(6.0 * 0.241475 / 5, 3e-6));
  // ADH USSR 1926 reaches 50-54.
  CHECK(steppe::fertility_pattern("ussr_adh_1926", AgeAxis::five_year(85))[10] > 0.009);
  CHECK_THROWS_WITH(steppe::fertility_pattern("booth", AgeAxis::five_year(85)),
                    Catch::Matchers::Contains("booth_1984_standard"));
}
