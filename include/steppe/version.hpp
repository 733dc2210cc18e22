// SPDX-License-Identifier: MIT
// The library's version (semantic; 0.x: the API may still change between minor versions).
#pragma once

#define STEPPE_VERSION_MAJOR 0
#define STEPPE_VERSION_MINOR 1
#define STEPPE_VERSION_PATCH 0

namespace steppe {
inline constexpr const char* version = "0.1.0";
}  // namespace steppe
