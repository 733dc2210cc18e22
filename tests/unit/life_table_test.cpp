// SPDX-License-Identifier: MIT
// Specification of steppe::LifeTable: factories, hand-checked columns, validation, projections.
#include "steppe/life_table.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "steppe/error.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using steppe::AgeAxis;
using steppe::AxRule;
using steppe::LifeTable;
using steppe::Sex;
using Arr = Eigen::ArrayXd;

namespace {

Arr arr(std::initializer_list<double> v) {
  Arr a(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) a[i++] = x;
  return a;
}

Arr abridged_ages(int open_age) {  // 0, 1, 5, 10, …, open_age
  Arr a(open_age / 5 + 2);
  a[0] = 0, a[1] = 1;
  for (Eigen::Index i = 2; i < a.size(); ++i) a[i] = 5.0 * double(i - 1);
  return a;
}

/// A smooth Gompertz-Makeham-like abridged table for the conversion tests.
LifeTable gompertz_abridged() {
  const Arr ages = abridged_ages(85);
  const Arr mx = 0.002 + 0.00005 * (0.09 * ages).exp() + 0.05 * (-ages).exp();
  return LifeTable::from_mx(ages, mx, AxRule::coale_demeny(Sex::female));
}

}  // namespace

TEST_CASE("a constant hazard gives e(x) = 1/m at every age", "[unit]") {
  // With a(x) the exact constant-hazard value, L(x) = ∫ l over [x, x+n) exactly and the open
  // interval's l/m is the exponential tail, so T(x) = l(x)/m and e(x) = 1/m in closed form.
  const double m = 0.02;
  const Arr ages = GENERATE(Arr(Arr::LinSpaced(101, 0, 100)), abridged_ages(85));
  const LifeTable t =
      LifeTable::from_mx(ages, Arr::Constant(ages.size(), m), AxRule::constant_hazard());
  CHECK_THAT(t.e0(), WithinRel(1.0 / m, 1e-12));
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    CHECK_THAT(t.ex()[i], WithinRel(1.0 / m, 1e-12));
    CHECK_THAT(t.lx()[i], WithinRel(std::exp(-m * ages[i]), 1e-12));
    CHECK_THAT(t.mx()[i], WithinRel(m, 1e-12));
  }
}

TEST_CASE("from_qx: a 3-age table checked by hand", "[unit]") {
  // ages 0, 1, 5+; q = 0.1, 0.2; a = 0.3, 2.0; m(5+) = 0.5
  // l = 1, 0.9, 0.72        d = 0.1, 0.18, 0.72
  // L0 = 1·0.9 + 0.3·0.1 = 0.93;  L1 = 4·0.72 + 2·0.18 = 3.24;  L5 = 0.72/0.5 = 1.44
  // T = 5.61, 4.68, 1.44    e = 5.61, 4.68/0.9 = 5.2, 2.0
  // m = 0.1/0.93, 0.18/3.24, 0.5;  a(5+) = 1/0.5 = 2
  const LifeTable t =
      LifeTable::from_qx(arr({0, 1, 5}), arr({0.1, 0.2, 1}), AxRule::given(arr({0.3, 2.0})), 0.5);
  const double tol = 1e-12;
  CHECK(t.size() == 3);
  CHECK(t.n()[0] == 1);
  CHECK(t.n()[1] == 4);
  CHECK(std::isinf(t.n()[2]));
  CHECK_THAT(t.qx()[2], WithinAbs(1.0, tol));
  CHECK_THAT(t.lx()[1], WithinAbs(0.9, tol));
  CHECK_THAT(t.lx()[2], WithinAbs(0.72, tol));
  CHECK_THAT(t.dx()[1], WithinAbs(0.18, tol));
  CHECK_THAT(t.dx()[2], WithinAbs(0.72, tol));
  CHECK_THAT(t.Lx()[0], WithinAbs(0.93, tol));
  CHECK_THAT(t.Lx()[1], WithinAbs(3.24, tol));
  CHECK_THAT(t.Lx()[2], WithinAbs(1.44, tol));
  CHECK_THAT(t.Tx()[0], WithinAbs(5.61, tol));
  CHECK_THAT(t.Tx()[1], WithinAbs(4.68, tol));
  CHECK_THAT(t.e0(), WithinAbs(5.61, tol));
  CHECK_THAT(t.ex()[1], WithinAbs(5.2, tol));
  CHECK_THAT(t.ex()[2], WithinAbs(2.0, tol));
  CHECK_THAT(t.mx()[0], WithinAbs(0.1 / 0.93, tol));
  CHECK_THAT(t.mx()[1], WithinAbs(0.18 / 3.24, tol));
  CHECK_THAT(t.ax()[2], WithinAbs(2.0, tol));
}

TEST_CASE("from_mx: a 3-age single-year table checked by hand", "[unit]") {
  // ages 0, 1, 2+; m = 0.1, 0.2, 0.5; a = 0.5 (midpoint): q = n·m/(1 + (n − a)·m)
  // q0 = 0.1/1.05 = 2/21, q1 = 0.2/1.1 = 2/11
  // l = 1, 19/21, (19/21)(9/11) = 171/231
  // L0 = (1 + 19/21)/2 = 20/21;  L1 = (209/231 + 171/231)/2 = 190/231;  L2 = (171/231)/0.5 =
  // 342/231 T0 = 220/231 + 190/231 + 342/231 = 752/231
  const LifeTable t = LifeTable::from_mx(arr({0, 1, 2}), arr({0.1, 0.2, 0.5}), AxRule::midpoint());
  const double tol = 1e-12;
  CHECK_THAT(t.qx()[0], WithinAbs(2.0 / 21, tol));
  CHECK_THAT(t.qx()[1], WithinAbs(2.0 / 11, tol));
  CHECK_THAT(t.lx()[2], WithinAbs(171.0 / 231, tol));
  CHECK_THAT(t.Lx()[0], WithinAbs(20.0 / 21, tol));
  CHECK_THAT(t.Lx()[1], WithinAbs(190.0 / 231, tol));
  CHECK_THAT(t.Lx()[2], WithinAbs(342.0 / 231, tol));
  CHECK_THAT(t.e0(), WithinAbs(752.0 / 231, tol));
  // m round-trips: d/L equals the input rates
  CHECK_THAT(t.mx()[0], WithinAbs(0.1, tol));
  CHECK_THAT(t.mx()[1], WithinAbs(0.2, tol));
  CHECK_THAT(t.mx()[2], WithinAbs(0.5, tol));
}

TEST_CASE("from_lx: a 4-age abridged table with radix 1000 checked by hand", "[unit]") {
  // l = 1000, 900, 800, 600 → 1, 0.9, 0.8, 0.6;  q = 0.1, 1/9, 0.25;  d = 0.1, 0.1, 0.2, 0.6
  // a = 0.2, 1.5, 2.5; m(10+) = 0.25
  // L0 = 0.9 + 0.2·0.1 = 0.92;  L1 = 4·0.8 + 1.5·0.1 = 3.35;  L5 = 5·0.6 + 2.5·0.2 = 3.5;
  // L10 = 0.6/0.25 = 2.4;  T = 10.17, 9.25, 5.9, 2.4;  e = 10.17, 9.25/0.9, 5.9/0.8 = 7.375, 4
  const LifeTable t = LifeTable::from_lx(arr({0, 1, 5, 10}), arr({1000, 900, 800, 600}),
                                         AxRule::given(arr({0.2, 1.5, 2.5, 99})), 0.25);
  const double tol = 1e-12;
  CHECK_THAT(t.lx()[0], WithinAbs(1.0, tol));
  CHECK_THAT(t.lx()[3], WithinAbs(0.6, tol));
  CHECK_THAT(t.qx()[1], WithinAbs(1.0 / 9, tol));
  CHECK_THAT(t.qx()[2], WithinAbs(0.25, tol));
  CHECK_THAT(t.Lx()[0], WithinAbs(0.92, tol));
  CHECK_THAT(t.Lx()[1], WithinAbs(3.35, tol));
  CHECK_THAT(t.Lx()[2], WithinAbs(3.5, tol));
  CHECK_THAT(t.Lx()[3], WithinAbs(2.4, tol));
  CHECK_THAT(t.Tx()[1], WithinAbs(9.25, tol));
  CHECK_THAT(t.e0(), WithinAbs(10.17, tol));
  CHECK_THAT(t.ex()[1], WithinAbs(9.25 / 0.9, tol));
  CHECK_THAT(t.ex()[2], WithinAbs(7.375, tol));
  CHECK_THAT(t.ex()[3], WithinAbs(4.0, tol));
  CHECK_THAT(t.ax()[3], WithinAbs(4.0, tol));  // open a = 1/m, the given 99 is ignored
}

TEST_CASE("from_lx without open_mx continues the last closed hazard", "[unit]") {
  // l = 1, 0.9, 0.8 (ages 0, 1, 2+), midpoint: m(1) = 0.1/0.85, so L(2+) = 0.8·0.85/0.1 = 6.8
  const LifeTable t = LifeTable::from_lx(arr({0, 1, 2}), arr({1, 0.9, 0.8}), AxRule::midpoint());
  CHECK_THAT(t.mx()[2], WithinAbs(0.1 / 0.85, 1e-12));
  CHECK_THAT(t.Lx()[2], WithinAbs(6.8, 1e-12));
}

TEST_CASE("Coale-Demeny a0 and 4a1 follow Preston et al. Table 3.3", "[unit]") {
  const Arr ages = arr({0, 1, 5, 10});
  SECTION("from q0 (Coale-Demeny 1983 form), female, q0 < 0.1") {
    const auto t = LifeTable::from_qx(ages, arr({0.05, 0.02, 0.01, 1}),
                                      AxRule::coale_demeny(Sex::female), 0.1);
    CHECK_THAT(t.ax()[0], WithinAbs(0.05 + 3.0 * 0.05, 1e-12));
    CHECK_THAT(t.ax()[1], WithinAbs(1.524 - 1.625 * 0.05, 1e-12));
    CHECK_THAT(t.ax()[2], WithinAbs(2.5, 1e-12));
  }
  SECTION("from q0, male, q0 >= 0.1") {
    const auto t =
        LifeTable::from_qx(ages, arr({0.2, 0.02, 0.01, 1}), AxRule::coale_demeny(Sex::male), 0.1);
    CHECK_THAT(t.ax()[0], WithinAbs(0.330, 1e-12));
    CHECK_THAT(t.ax()[1], WithinAbs(1.352, 1e-12));
  }
  SECTION("from m0 (Preston form), female and male") {
    const Arr mx = arr({0.05, 0.005, 0.002, 0.1});
    const auto f = LifeTable::from_mx(ages, mx, AxRule::coale_demeny(Sex::female));
    CHECK_THAT(f.ax()[0], WithinAbs(0.053 + 2.800 * 0.05, 1e-12));
    CHECK_THAT(f.ax()[1], WithinAbs(1.522 - 1.518 * 0.05, 1e-12));
    const auto m = LifeTable::from_mx(ages, mx, AxRule::coale_demeny(Sex::male));
    CHECK_THAT(m.ax()[0], WithinAbs(0.045 + 2.684 * 0.05, 1e-12));
    CHECK_THAT(m.ax()[1], WithinAbs(1.651 - 2.816 * 0.05, 1e-12));
  }
  SECTION("single-year tables: a0 by Coale-Demeny, 0.5 from age 1") {
    const auto t = LifeTable::from_qx(arr({0, 1, 2, 3}), arr({0.2, 0.02, 0.01, 1}),
                                      AxRule::coale_demeny(Sex::female), 0.1);
    CHECK_THAT(t.ax()[0], WithinAbs(0.350, 1e-12));
    CHECK_THAT(t.ax()[1], WithinAbs(0.5, 1e-12));
  }
}

TEST_CASE("bad inputs throw domain_error naming function, argument, index and value", "[unit]") {
  const Arr ages = arr({0, 1, 5, 10});
  const auto mid = AxRule::midpoint();
  using steppe::domain_error;
  CHECK_THROWS_WITH(LifeTable::from_qx(ages, arr({0.1, 1.3, 0.1, 1}), mid),
                    Equals("LifeTable::from_qx: qx[1] = 1.3, expected a probability in [0, 1]"));
  CHECK_THROWS_AS(LifeTable::from_qx(ages, arr({-0.1, 0.1, 0.1, 1}), mid), domain_error);
  CHECK_THROWS_WITH(LifeTable::from_mx(ages, arr({0.1, -0.01, 0.1, 0.2}), mid),
                    Contains("LifeTable::from_mx: mx[1] = -0.01"));
  CHECK_THROWS_AS(LifeTable::from_mx(ages, arr({0.1, 0.01, 0.1, 0}), mid), domain_error);
  CHECK_THROWS_AS(LifeTable::from_mx(ages, arr({0.1, NAN, 0.1, 0.2}), mid), domain_error);
  CHECK_THROWS_WITH(LifeTable::from_mx(ages, arr({3.0, 0.01, 0.1, 0.2}), mid),
                    Contains("mx[0] = 3"));  // a·m > 1 would make q > 1
  CHECK_THROWS_WITH(LifeTable::from_qx(arr({0, 5, 5, 10}), arr({0.1, 0.1, 0.1, 1}), mid),
                    Contains("ages[2] = 5"));
  CHECK_THROWS_AS(LifeTable::from_qx(arr({1, 5, 10}), arr({0.1, 0.1, 1}), mid), domain_error);
  CHECK_THROWS_AS(LifeTable::from_qx(arr({0, 1.5, 10}), arr({0.1, 0.1, 1}), mid), domain_error);
  CHECK_THROWS_WITH(LifeTable::from_qx(ages, arr({0.1, 0.1, 1}), mid),
                    Contains("qx has 3 entries, expected 4"));
  CHECK_THROWS_AS(LifeTable::from_lx(ages, arr({1, 0.9, 0.95, 0.5}), mid), domain_error);
  CHECK_THROWS_AS(LifeTable::from_lx(ages, arr({0, 0, 0, 0}), mid), domain_error);
  CHECK_THROWS_AS(LifeTable::from_lx(ages, arr({1, 0.9, 0.8, 0.5}), mid, -1.0), domain_error);
  CHECK_THROWS_WITH(
      LifeTable::from_qx(ages, arr({0.1, 0.1, 0.1, 1}), AxRule::given(arr({0.5, 4.5, 2.5}))),
      Contains("ax[1] = 4.5"));
  // the open rate cannot be inferred when the last closed interval has no deaths
  CHECK_THROWS_WITH(LifeTable::from_qx(ages, arr({0.1, 0.1, 0, 1}), mid), Contains("open_mx"));
}

TEST_CASE("to_single_year keeps l(x) exact at the abridged ages", "[unit]") {
  const LifeTable ab = gompertz_abridged();
  const LifeTable sy = ab.to_single_year(100);
  REQUIRE(sy.size() == 101);
  CHECK(sy.open_age() == 100);
  for (Eigen::Index i = 0; i < ab.size(); ++i) {
    const auto x = static_cast<Eigen::Index>(ab.age()[i]);
    CHECK_THAT(sy.lx()[x], WithinRel(ab.lx()[i], 1e-12));
  }
  // one-year rows are kept (a0 included); person-years above the old open age are unchanged
  CHECK_THAT(sy.ax()[0], WithinAbs(ab.ax()[0], 1e-15));
  CHECK_THAT(sy.Tx()[85], WithinRel(ab.Tx()[ab.size() - 1], 1e-12));
  // within an interval ln l is linear: l(2) = l(1)·(l(5)/l(1))^(1/4)
  CHECK_THAT(sy.lx()[2], WithinRel(ab.lx()[1] * std::pow(ab.lx()[2] / ab.lx()[1], 0.25), 1e-12));

  SECTION("omega below the open age closes the table at omega with the same T(omega)") {
    const LifeTable s70 = ab.to_single_year(70);
    REQUIRE(s70.size() == 71);
    CHECK_THAT(s70.Tx()[70], WithinRel(sy.Tx()[70], 1e-12));
    CHECK_THAT(s70.e0(), WithinRel(sy.e0(), 1e-12));
  }
}

TEST_CASE("projection_survivorship on a 4-cell hand table", "[unit]") {
  // single years 0..5+, l = 1, .9, .85, .8, .7, .5, a = 0.5, m(5+) = 0.5:
  // L = .95, .875, .825, .75, .6, 1.0;  T(2) = 3.175, T(3) = 2.35, T(4) = 1.6
  const LifeTable t = LifeTable::from_lx(arr({0, 1, 2, 3, 4, 5}), arr({1, .9, .85, .8, .7, .5}),
                                         AxRule::midpoint(), 0.5);
  const Arr s = t.projection_survivorship(AgeAxis{1, 4});  // cells 0, 1, 2, 3+
  REQUIRE(s.size() == 4);
  CHECK_THAT(s[0], WithinAbs(.875 / .95, 1e-12));    // L1/L0
  CHECK_THAT(s[1], WithinAbs(.825 / .875, 1e-12));   // L2/L1
  CHECK_THAT(s[2], WithinAbs(2.35 / 3.175, 1e-12));  // T(3)/T(2): last closed cell → open
  CHECK_THAT(s[3], WithinAbs(1.6 / 2.35, 1e-12));    // T(4)/T(3): open cell stays open
  CHECK_THAT(t.birth_survivorship(1), WithinAbs(.95, 1e-12));      // L0/l0
  CHECK_THAT(t.birth_survivorship(5), WithinAbs(4.0 / 5, 1e-12));  // (T0 − T5)/5

  SECTION("an axis reaching past the open age uses the exponential tail") {
    // T(x) = T(5)·e^{−0.5(x − 5)} for x ≥ 5; axis {1, 7}: O = 6, element 6 = T(7)/T(6) = e^{−0.5}
    const Arr s7 = t.projection_survivorship(AgeAxis{1, 7});
    CHECK_THAT(s7[6], WithinAbs(std::exp(-0.5), 1e-12));
    CHECK_THAT(s7[4], WithinAbs((1.0 - std::exp(-0.5)) / 0.6, 1e-12));  // L5/L4
  }
}

TEST_CASE("projection_survivorship of an abridged table", "[unit]") {
  const LifeTable ab = gompertz_abridged();
  SECTION("5-year axis: cells are sums of table L") {
    const Arr s = ab.projection_survivorship(AgeAxis::five_year(80));
    REQUIRE(s.size() == 17);
    CHECK((s >= 0).all());
    CHECK((s <= 1).all());
    CHECK_THAT(s[0], WithinRel(ab.Lx()[2] / (ab.Lx()[0] + ab.Lx()[1]), 1e-12));
    CHECK_THAT(s[1], WithinRel(ab.Lx()[3] / ab.Lx()[2], 1e-12));
    CHECK_THAT(s[15], WithinRel(ab.Tx()[17] / ab.Tx()[16], 1e-12));  // T(80)/T(75)
    CHECK_THAT(s[16], WithinRel(ab.Tx()[18] / ab.Tx()[17], 1e-12));  // T(85)/T(80)
    CHECK_THAT(ab.birth_survivorship(5), WithinRel((ab.Lx()[0] + ab.Lx()[1]) / 5, 1e-12));
  }
  SECTION("single-year axis goes through to_single_year") {
    const Arr s = ab.projection_survivorship(AgeAxis::single_year(90));
    const Arr expected = ab.to_single_year(91).projection_survivorship(AgeAxis::single_year(90));
    REQUIRE(s.size() == 91);
    CHECK((s >= 0).all());
    CHECK((s <= 1).all());
    CHECK(((s - expected).abs() < 1e-15).all());
    CHECK_THAT(ab.birth_survivorship(1), WithinRel(ab.Lx()[0], 1e-12));
  }
  SECTION("invalid axes and widths throw") {
    CHECK_THROWS_AS(ab.projection_survivorship(AgeAxis{0, 10}), steppe::domain_error);
    CHECK_THROWS_AS(ab.projection_survivorship(AgeAxis{5, 1}), steppe::domain_error);
    CHECK_THROWS_AS(ab.birth_survivorship(0), steppe::domain_error);
  }
}
