// SPDX-License-Identifier: MIT
// Where Steppe finds its reference data (model life tables, standards) at run time.
#pragma once

#include <filesystem>

namespace steppe {

/// The root of Steppe's data folder; reference files live under `data_dir() / "reference"`.
///
/// Resolution order, evaluated on every call (cheap):
///  1. the environment variable `STEPPE_DATA_DIR`, if set and non-empty (no existence check, so a
///     wrong value fails loudly when a file is opened);
///  2. the source tree's `data/` folder (compile-time `STEPPE_SOURCE_DATA_DIR`), if it exists —
///     the case for the build tree and the tests;
///  3. the installed data folder (compile-time `STEPPE_INSTALLED_DATA_DIR`,
///     `<prefix>/share/steppe/data`).
/// @return an absolute or relative path; it need not exist in case 1 or 3.
/// @throws nothing beyond std::bad_alloc.
std::filesystem::path data_dir();

}  // namespace steppe
