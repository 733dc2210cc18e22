// SPDX-License-Identifier: MIT
// Dims and AgeAxis: layouts, column mapping, invalid dimensions.
#include "steppe/axes.hpp"

#include <catch2/catch.hpp>

#include "steppe/population.hpp"

TEST_CASE("age axes and the column mapping", "[unit]") {
  const auto single = steppe::AgeAxis::single_year();
  CHECK(single.count == 101);
  CHECK(single.open_age() == 100);
  const auto five = steppe::AgeAxis::five_year(85);
  CHECK(five.count == 18);
  CHECK(five.open_age() == 85);
  CHECK(five.lower(3) == 15);
  const steppe::Dims dims(single, {"kazakh", "non_kazakh"});
  CHECK(dims.n_cols() == 4);
  CHECK(dims.cells() == 404);
  CHECK(steppe::Dims::col(steppe::Sex::male, 1) == 3);
  CHECK(dims.group_index("non_kazakh") == 1);
  CHECK(dims.group_index("german") == -1);
  CHECK_THROWS_AS(steppe::Dims(single, {"a", "a"}), steppe::domain_error);
  CHECK_THROWS_AS(steppe::Dims(steppe::AgeAxis{2, 10}, 1), steppe::domain_error);
  CHECK_THROWS_AS(steppe::Dims(single, std::vector<std::string>{}), steppe::domain_error);
}

TEST_CASE("Population::check names a negative cell", "[unit]") {
  steppe::Population p(steppe::Dims(steppe::AgeAxis::single_year(5), {"kazakh"}));
  REQUIRE_NOTHROW(p.check());
  p.home(steppe::Sex::male, 0)(3) = -1.0;
  CHECK_THROWS_WITH(p.check(), Catch::Matchers::Contains("kazakh") &&
                                   Catch::Matchers::Contains("male") &&
                                   Catch::Matchers::Contains("age cell 3"));
}
