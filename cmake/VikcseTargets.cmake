# SPDX-License-Identifier: Apache-2.0
# Helpers that build the project's own tests, examples and benchmarks.
#
# Every translation unit that includes <torch/torch.h> is slow to compile on small machines, so
# targets marked TORCH reuse a precompiled header (vikcse_torch_pch, vikcse_torch_test_pch). A build
# of one program (examples/run-demo.sh) turns that off: the header alone costs as long as the
# program's own file.

find_package(Threads REQUIRED)
option(VIKCSE_PRECOMPILED_HEADERS "TORCH tests and programs reuse a precompiled LibTorch header" ON)
# GNU gold links a test against LibTorch several times faster than the default ld.bfd (0.3 s against
# 1.8 s for methods_loss_test on 2 cores), which counts over some 90 executables. Used where the
# toolchain has it (Debian: binutils on 12, binutils-gold on 13); VIKCSE_GOLD_LINKER=OFF keeps the
# default linker.
option(VIKCSE_GOLD_LINKER "Link the tests, programs and benchmarks with GNU gold where available" ON)
if(VIKCSE_GOLD_LINKER)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=gold" VIKCSE_HAS_GOLD_LINKER)
endif()

# vikcse_test_optimisation(<target>): tests (and the compile-only checks) are optimised at -O1 in
# the optimising build types, whose -O3 stays for the programs and benchmarks. Tests run tiny models,
# and -O1 compiles a test in a quarter to a third less time than -O3 (measured on trainer_test.cpp and
# sts_engine_test.cpp); GCC reorders no floating-point arithmetic at any -O level without
# -ffast-math, so the tests check the same arithmetic. A precompiled header must be built with the
# flags of the files that use it (GCC 14 refuses a -O3 one in a -O1 file: -munroll-only-small-loops),
# so the tests have their own, vikcse_torch_test_pch.
function(vikcse_test_optimisation target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-O1>)
endfunction()

# The precompiled LibTorch: vikcse_torch_pch for the programs and benchmarks, vikcse_torch_test_pch
# (built at the tests' optimisation) for the tests and compile checks.
foreach(_pch IN ITEMS vikcse_torch_pch vikcse_torch_test_pch)
  add_library(${_pch} OBJECT "${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp")
  target_link_libraries(${_pch} PUBLIC vikcse::vikcse)
  target_precompile_headers(${_pch} PUBLIC <torch/torch.h> <fmt/format.h> <nlohmann/json.hpp>)
endforeach()
vikcse_test_optimisation(vikcse_torch_test_pch)

function(_vikcse_common_settings target)
  target_link_libraries(${target} PRIVATE vikcse::vikcse Threads::Threads)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(VIKCSE_GOLD_LINKER AND VIKCSE_HAS_GOLD_LINKER)
    target_link_options(${target} PRIVATE -fuse-ld=gold)
  endif()
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
    target_precompile_headers(${T_NAME} REUSE_FROM vikcse_torch_test_pch)
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
