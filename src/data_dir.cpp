// SPDX-License-Identifier: MIT
// data_dir(): environment override, then the source tree, then the installed data folder.
#include "steppe/data_dir.hpp"

#include <cstdlib>
#include <system_error>

#ifndef STEPPE_SOURCE_DATA_DIR
#define STEPPE_SOURCE_DATA_DIR ""
#endif
#ifndef STEPPE_INSTALLED_DATA_DIR
#define STEPPE_INSTALLED_DATA_DIR ""
#endif

namespace steppe {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("STEPPE_DATA_DIR"); env != nullptr && *env != '\0')
    return std::filesystem::path(env);
  const std::filesystem::path source(STEPPE_SOURCE_DATA_DIR);
  std::error_code ec;  // an unreadable source dir just means "not the build tree"
  if (!source.empty() && std::filesystem::is_directory(source, ec)) return source;
  return std::filesystem::path(STEPPE_INSTALLED_DATA_DIR);
}

}  // namespace steppe
