// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file cli.hpp
/// Number parsing for the example programs' options: the whole text must be a number, and the
/// error names the option and what it got (`--steps: expected an integer, got 'abc'`).

#include <vikcse/error.hpp>

#include <cstdint>
#include <string>

namespace vikcse::cli {

/// `value` as an integer; throws vikcse::invalid_argument naming `flag` otherwise.
inline std::int64_t to_int(const std::string& flag, const std::string& value) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    throw_error<invalid_argument>("{}: expected an integer, got '{}'", flag, value);
  }
  return v;
}

/// `value` as a floating-point number; throws vikcse::invalid_argument naming `flag` otherwise.
inline double to_double(const std::string& flag, const std::string& value) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size()) {
    throw_error<invalid_argument>("{}: expected a number, got '{}'", flag, value);
  }
  return v;
}

}  // namespace vikcse::cli
