// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file test_data.hpp
/// Locations of test inputs. Fixtures committed with the project live in tests/data; real data
/// (SentEval, vocabularies, corpora) lives outside the project: env VIKCSE_DATA_DIR, else the CMake
/// option VIKCSE_DATA_DIR (by default ../shared/data beside the checkout, when it exists).

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace vikcse::testing {

/// The project's own fixtures (tests/data).
inline std::filesystem::path fixture_dir() {
  const char* dir = std::getenv("VIKCSE_TEST_DIR");
  return std::filesystem::path(dir != nullptr ? dir : "tests") / "data";
}

/// The real-data directory: env VIKCSE_DATA_DIR, else the CMake option VIKCSE_DATA_DIR.
/// When it does not exist the test cannot run: under CI=true that is a failure (exit 1); elsewhere
/// the process exits 77, which CTest reports as skipped, never as passed.
inline std::filesystem::path data_dir() {
  const char* env = std::getenv("VIKCSE_DATA_DIR");
  const char* fallback = std::getenv("VIKCSE_DATA_DIR_DEFAULT");
  const std::filesystem::path dir = env != nullptr && *env != 0 ? env : (fallback != nullptr ? fallback : "");
  if (!dir.empty() && std::filesystem::is_directory(dir)) return dir;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") {
    std::cerr << "FAILED: data directory " << (dir.empty() ? "(none configured)" : dir.string())
              << " is missing (CI=true requires it; set VIKCSE_DATA_DIR)\n";
    std::exit(1);
  }
  std::cerr << "SKIPPED: data directory " << (dir.empty() ? "(none configured)" : dir.string())
            << " is missing (set VIKCSE_DATA_DIR to run this test)\n";
  std::exit(77);
}

}  // namespace vikcse::testing
