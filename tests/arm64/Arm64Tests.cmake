# ARM64 under qemu: the kernel tests and the golden-model tests built for
# aarch64 and run here with `qemu-aarch64 -L <sysroot>` (ctest -R arm64).
# Included by tests/CMakeLists.txt once the host test targets exist: the
# cross build takes their source lists, so a source added to a host test
# runs on arm64 too.
#
# tests/arm64/CMakeLists.txt is a project of its own, configured with
# cmake/aarch64-linux-gnu.cmake by the ExternalProject attnc-arm64-tests. It
# is not part of `all`: the fixture test arm64-build builds it, so `./run.sh
# demo` does not wait for it and a broken cross build fails the arm64 tests,
# not the build. Without the cross compiler (g++-aarch64-linux-gnu) or qemu
# (qemu-user), which scripts/setup.sh installs, the tests fail and say what
# is missing (no cmake re-run is needed after installing them): an untested
# target must not look like a passing one.
include(ExternalProject)

set(ATTNC_GTEST_SOURCE_DIR /usr/src/googletest CACHE PATH
  "GoogleTest's sources, built for aarch64 (Debian's googletest package)")
set(ATTNC_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH
  "The aarch64 libraries qemu-aarch64 runs against (-L)")
set(arm64_binary_dir ${CMAKE_CURRENT_BINARY_DIR}/arm64)
# The random configurations (tests/kernels/RandomAttentionTest.cpp) on arm64
# cost about as much as everything else here together: compiling their 78
# kernels for arm64 took 351 s and running them under qemu 130 s on the
# 2-core machine (docs/targets.md), which the test run cannot afford.
option(ATTNC_ARM64_RANDOM_ATTENTION
  "Also run the random attention configurations under qemu (arm64-random-attention)" OFF)

# The sources of `target` as absolute paths, joined with "|" (ExternalProject's
# LIST_SEPARATOR: a ";" would split the -D argument). INCLUDE / EXCLUDE:
# regular expressions the paths must / must not match.
function(attnc_arm64_sources var target)
  cmake_parse_arguments(ARG "" "INCLUDE;EXCLUDE" "" ${ARGN})
  get_target_property(sources ${target} SOURCES)
  get_target_property(dir ${target} SOURCE_DIR)
  set(absolute)
  foreach(source ${sources})
    get_filename_component(source ${source} ABSOLUTE BASE_DIR ${dir})
    list(APPEND absolute ${source})
  endforeach()
  if(ARG_INCLUDE)
    list(FILTER absolute INCLUDE REGEX "${ARG_INCLUDE}")
  endif()
  if(ARG_EXCLUDE)
    list(FILTER absolute EXCLUDE REGEX "${ARG_EXCLUDE}")
  endif()
  string(REPLACE ";" "|" joined "${absolute}")
  set(${var} ${joined} PARENT_SCOPE)
endfunction()

foreach(target AttncKernelSpec AttncReference attnc_runtime)
  attnc_arm64_sources(sources_${target} ${target})
endforeach()
if(ATTNC_ARM64_RANDOM_ATTENTION)
  attnc_arm64_sources(sources_kernel_tests attnc-kernel-tests)
else()
  attnc_arm64_sources(sources_kernel_tests attnc-kernel-tests
                      EXCLUDE "RandomAttentionTest\\.cpp$")
endif()
# Of attnc-runtime-tests, the golden models only: the rest checks the
# runtime's own logic, which has no target-specific code.
attnc_arm64_sources(sources_golden attnc-runtime-tests INCLUDE "Golden[^/]*$")
get_target_property(halide_include Halide::Runtime INTERFACE_INCLUDE_DIRECTORIES)
find_path(ATTNC_JSON_INCLUDE_DIR nlohmann/json.hpp)

ExternalProject_Add(attnc-arm64-tests
  SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/arm64
  BINARY_DIR ${arm64_binary_dir}
  CMAKE_GENERATOR Ninja
  LIST_SEPARATOR |
  CMAKE_ARGS
    -DCMAKE_TOOLCHAIN_FILE=${ATTNC_SOURCE_DIR}/cmake/aarch64-linux-gnu.cmake
    -DCMAKE_BUILD_TYPE=Release
    -DATTNC_AARCH64_SYSROOT=${ATTNC_AARCH64_SYSROOT}
    -DATTNC=$<TARGET_FILE:attnc>
    -DATTNC_SOURCE_DIR=${ATTNC_SOURCE_DIR}
    -DATTNC_HALIDE_INCLUDE_DIR=${halide_include}
    -DATTNC_JSON_INCLUDE_DIR=${ATTNC_JSON_INCLUDE_DIR}
    -DATTNC_GTEST_SOURCE_DIR=${ATTNC_GTEST_SOURCE_DIR}
    -DATTNC_KERNEL_SPEC_SOURCES=${sources_AttncKernelSpec}
    -DATTNC_REFERENCE_SOURCES=${sources_AttncReference}
    -DATTNC_RUNTIME_SOURCES=${sources_attnc_runtime}
    -DATTNC_KERNEL_TEST_SOURCES=${sources_kernel_tests}
    -DATTNC_ARM64_RANDOM_ATTENTION=${ATTNC_ARM64_RANDOM_ATTENTION}
    -DATTNC_GOLDEN_TEST_SOURCES=${sources_golden}
  # The kernels depend on attnc; the project's own Ninja tracks everything
  # else, so it runs on every build (a no-op build takes about a second).
  DEPENDS attnc
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  EXCLUDE_FROM_ALL ON
  BUILD_BYPRODUCTS ${arm64_binary_dir}/attnc-arm64-kernel-tests
                   ${arm64_binary_dir}/attnc-arm64-golden-tests)

# Measured on the 2-core machine, shared with other builds: docs/targets.md.
add_test(NAME arm64-build
  COMMAND ${CMAKE_COMMAND} --build ${ATTNC_BINARY_DIR} --target attnc-arm64-tests)
set_tests_properties(arm64-build PROPERTIES FIXTURES_SETUP attnc-arm64
  TIMEOUT 1800)

# The kernel matrix's longest shape, 1000, costs ~95% of its time and runs
# ~20x slower under qemu than natively; 300 (five query tiles and key blocks
# of 64, the last one partial, as in the arm64 schedules) keeps every tile
# case. With ATTNC_ARM64_RANDOM_ATTENTION, the random configurations run as
# a second test from the same program, which ctest -j2 runs alongside.
set(qemu_test bash ${CMAKE_CURRENT_SOURCE_DIR}/arm64/qemu_test.sh
    ${ATTNC_AARCH64_SYSROOT})
set(kernel_tests ${arm64_binary_dir}/attnc-arm64-kernel-tests)
set(arm64_tests arm64-kernels arm64-golden-model)
add_test(NAME arm64-kernels
  COMMAND ${qemu_test} ${kernel_tests} --gtest_filter=-RandomAttention.*)
set_tests_properties(arm64-kernels PROPERTIES
  ENVIRONMENT ATTNC_KERNEL_TEST_LONG_LENGTH=300)
if(ATTNC_ARM64_RANDOM_ATTENTION)
  add_test(NAME arm64-random-attention
    COMMAND ${qemu_test} ${kernel_tests} --gtest_filter=RandomAttention.*)
  list(APPEND arm64_tests arm64-random-attention)
endif()
add_test(NAME arm64-golden-model
  COMMAND ${qemu_test} ${arm64_binary_dir}/attnc-arm64-golden-tests)
set_tests_properties(${arm64_tests} PROPERTIES FIXTURES_REQUIRED attnc-arm64)
