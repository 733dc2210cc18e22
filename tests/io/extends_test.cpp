// SPDX-License-Identifier: MIT
// Scenario inheritance: RFC 7386 merge patch (the RFC's own test vectors) and "extends" chains
// that remember which file wrote each field.
#include "io/extends.hpp"

#include <catch2/catch.hpp>

#include "steppe/error.hpp"

using nlohmann::json;

namespace {
const std::string dir = STEPPE_TEST_DATA_DIR "/extends/";
}

TEST_CASE("merge_patch reproduces the examples of RFC 7386, appendix A", "[io]") {
  const auto [target, patch, result] = GENERATE(table<const char*, const char*, const char*>({
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  }));
  CHECK(steppe::detail::merge_patch(json::parse(target), json::parse(patch)) == json::parse(result));
}

TEST_CASE("extends chains merge and remember which file wrote each field", "[io]") {
  const auto child = steppe::detail::load_with_extends(dir + "child.json");
  CHECK(child.doc.at("meta").at("title") == "child");
  CHECK(child.doc.at("groups").at("kazakh").at("tfr") == 5.0);
  CHECK(child.doc.at("groups").at("kazakh").at("e0") == 30);
  CHECK_FALSE(child.doc.contains("drop"));
  CHECK_FALSE(child.doc.contains("extends"));
  CHECK(child.file_of("/groups/kazakh/tfr") == dir + "child.json");
  CHECK(child.file_of("/groups/kazakh/e0") == dir + "base.json");
  CHECK(child.file_of("/list/1") == dir + "base.json");

  const auto grand = steppe::detail::load_with_extends(dir + "sub/grandchild.json");
  CHECK(grand.doc.at("list") == json::array({9}));
  CHECK(grand.doc.at("groups").at("kazakh").at("tfr") == 5.0);
  CHECK(grand.doc.at("groups").at("non_kazakh").at("tfr") == 4);
  CHECK(grand.file_of("/list/0") == dir + "sub/grandchild.json");
  CHECK(grand.file_of("/groups/non_kazakh/tfr") == dir + "sub/grandchild.json");
  CHECK(grand.file_of("/groups/kazakh/tfr").find("child.json") != std::string::npos);
  CHECK(grand.file_of("/meta/title").find("child.json") != std::string::npos);
}

TEST_CASE("bad extends are input errors at /extends", "[io]") {
  const auto [file, says] = GENERATE(table<const char*, const char*>({
      {"cycle_a.json", "extends cycle"},
      {"extends_not_string.json", "expected the path of a base scenario"},
      {"missing_base.json", "does not exist"},
  }));
  try {
    steppe::detail::load_with_extends(dir + file);
    FAIL("no error for " << file);
  } catch (const steppe::input_error& e) {
    CHECK(e.pointer() == "/extends");
    CHECK_THAT(e.reason(), Catch::Matchers::Contains(says));
  }
  CHECK_THROWS_WITH(steppe::detail::load_with_extends(dir + "child_parse_error.json"),
                    Catch::Matchers::Contains("child_parse_error.json:: parse error"));
}

TEST_CASE("command-line overrides (set) replace a value and become its origin", "[io]") {
  auto r = steppe::detail::load_with_extends(dir + "child.json");
  steppe::detail::apply_override(r, "/groups/kazakh/tfr=4.5");
  steppe::detail::apply_override(r, "/meta/title=sensitivity");  // a bare word is a string
  steppe::detail::apply_override(r, "/list/1={\"uniform\": [1, 2]}");
  CHECK(r.doc.at("groups").at("kazakh").at("tfr") == 4.5);
  CHECK(r.doc.at("meta").at("title") == "sensitivity");
  CHECK(r.doc.at("list").at(1).at("uniform") == json::array({1, 2}));
  CHECK(r.file_of("/groups/kazakh/tfr") == "--set");
  CHECK(r.file_of("/list/1/uniform/0") == "--set");
  CHECK(r.file_of("/groups/kazakh/e0") == dir + "base.json");
  const auto [assignment, pointer] = GENERATE(table<const char*, const char*>({
      {"groups/kazakh/tfr=4", ""},               // not a pointer
      {"/groups/kazakh/tfr", ""},                // no value
      {"/groups/german/tfr=4", "/groups/german/tfr"},  // no such branch
      {"/list/7=1", "/list/7"},                  // index out of range
      {"/meta/title/x=1", "/meta/title/x"},      // parent is a string
  }));
  try {
    steppe::detail::apply_override(r, assignment);
    FAIL("accepted " << assignment);
  } catch (const steppe::input_error& e) {
    CHECK(e.file() == "--set");
    CHECK(e.pointer() == pointer);
  }
}
