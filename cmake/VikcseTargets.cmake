# SPDX-License-Identifier: Apache-2.0
# Helpers that build the project's own tests, examples and benchmarks.
#
# Every translation unit that includes <torch/torch.h> is slow to compile on small machines, so
# targets marked TORCH reuse one precompiled header (target vikcse_torch_pch). A build of one program
# (examples/run-demo.sh) turns that off: the header alone costs as long as the program's own file.

find_package(Threads REQUIRED)
option(VIKCSE_PRECOMPILED_HEADERS "TORCH tests and programs reuse one precompiled header" ON)

add_library(vikcse_torch_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp")
target_link_libraries(vikcse_torch_pch PUBLIC vikcse::vikcse)
target_precompile_headers(vikcse_torch_pch PUBLIC <torch/torch.h> <fmt/format.h> <nlohmann/json.hpp>)

function(_vikcse_common_settings target)
  target_link_libraries(${target} PRIVATE vikcse::vikcse Threads::Threads)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()

# vikcse_test_optimisation(<target>): tests (and the compile-only checks) are optimised at -O1 in
# the optimising build types, whose -O3 stays for the programs and benchmarks. Tests run tiny models,
# and -O1 compiles a test in a quarter to a third less time than -O3 (measured on trainer_test.cpp and
# sts_engine_test.cpp); GCC reorders no floating-point arithmetic at any -O level without
# -ffast-math, so the tests check the same arithmetic. The precompiled header built at -O3 serves -O1
# too (both define __OPTIMIZE__; GCC warns under -Winvalid-pch when it cannot use it).
function(vikcse_test_optimisation target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-O1>)
endfunction()

# vikcse_add_test(NAME <name> SOURCES <files...> [TORCH] [DATA] [LABELS <labels...>])
#   TORCH: the test includes <torch/torch.h>; it reuses the shared precompiled header.
#   DATA:  the test reads ../shared/data (VIKCSE_DATA_DIR); it exits 77 (skipped) when the
#          directory is missing, except under CI=true where that is a failure.
function(vikcse_add_test)
  cmake_parse_arguments(T "TORCH;DATA" "NAME;TIMEOUT" "SOURCES;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  _vikcse_common_settings(${T_NAME})
  find_package(Boost REQUIRED COMPONENTS unit_test_framework)
  target_link_libraries(${T_NAME} PRIVATE Boost::unit_test_framework)
  target_compile_definitions(${T_NAME} PRIVATE BOOST_TEST_DYN_LINK)
  target_include_directories(${T_NAME} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  vikcse_test_optimisation(${T_NAME})
  if(T_TORCH AND VIKCSE_PRECOMPILED_HEADERS)
    target_precompile_headers(${T_NAME} REUSE_FROM vikcse_torch_pch)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --log_level=message --report_level=short)
  set(_labels ${T_LABELS})
  if(T_DATA)
    list(APPEND _labels data)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 900)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT}
    LABELS "${_labels}"
    ENVIRONMENT "VIKCSE_TEST_DIR=${PROJECT_SOURCE_DIR}/tests;VIKCSE_DATA_DIR_DEFAULT=${VIKCSE_DATA_DIR}")
endfunction()

# The programs' one command-line parser: CLI11 (Debian's libcli11-dev, header-only). The library
# itself does not depend on it.
find_package(CLI11 CONFIG REQUIRED)

# vikcse_add_program(NAME <name> SOURCES <files...> [TORCH])
function(vikcse_add_program)
  cmake_parse_arguments(P "TORCH" "NAME" "SOURCES" ${ARGN})
  add_executable(${P_NAME} ${P_SOURCES})
  _vikcse_common_settings(${P_NAME})
  target_link_libraries(${P_NAME} PRIVATE CLI11::CLI11)
  if(P_TORCH AND VIKCSE_PRECOMPILED_HEADERS)
    target_precompile_headers(${P_NAME} REUSE_FROM vikcse_torch_pch)
  endif()
endfunction()
