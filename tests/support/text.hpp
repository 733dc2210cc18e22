// SPDX-License-Identifier: MIT
// Test helper: split writer output into lines.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace steppe::test {

/// The lines of `s`, without their '\n'.
inline std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace steppe::test
