# SPDX-License-Identifier: MIT
# Tests the installed package as a user would (fmt/nlohmann style): install into a staging
# prefix, configure and build the consumer project against it, run it. Chained by fixtures.
set(_stage "${CMAKE_CURRENT_BINARY_DIR}/package-stage")
set(_build "${CMAKE_CURRENT_BINARY_DIR}/package-build")
add_test(NAME package.install
         COMMAND "${CMAKE_COMMAND}" --install "${PROJECT_BINARY_DIR}" --prefix "${_stage}")
set_tests_properties(package.install PROPERTIES FIXTURES_SETUP steppe_staged)
add_test(NAME package.configure
         COMMAND "${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_SOURCE_DIR}/package" -B "${_build}"
                 "-DCMAKE_PREFIX_PATH=${_stage}" -DCMAKE_BUILD_TYPE=Release)
set_tests_properties(package.configure PROPERTIES FIXTURES_REQUIRED steppe_staged
                                                  FIXTURES_SETUP steppe_configured)
add_test(NAME package.build COMMAND "${CMAKE_COMMAND}" --build "${_build}")
set_tests_properties(package.build PROPERTIES FIXTURES_REQUIRED steppe_configured
                                              FIXTURES_SETUP steppe_built)
add_test(NAME package.run COMMAND "${_build}/consumer")
set_tests_properties(package.run PROPERTIES FIXTURES_REQUIRED steppe_built
                                            PASS_REGULAR_EXPRESSION "population 404000 -> [0-9]+, births [1-9]")
