// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file cli.hpp
/// Option-value parsing shared by the example and benchmark programs: numbers (the whole text must
/// be a number, and the error names the option and what it got: `--steps: expected an integer,
/// got 'abc'`) and comma-separated lists.

#include <vikcse/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

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

/// Takes the value after a flag (`value()`), throwing vikcse::invalid_argument naming the flag when
/// the command line ends there.
using NextValue = std::function<std::string()>;

/// Walks a command line: `--help`/`-h` prints `usage` and exits 0; every other argument is passed to
/// `on(flag, value)`, which returns false for a flag it does not know (an error naming it).
inline void parse_options(int argc, char** argv, std::string_view usage,
                          const std::function<bool(const std::string& flag, const NextValue& value)>& on) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    const NextValue value = [&]() -> std::string {
      if (i + 1 >= argc) throw_error<invalid_argument>("{}: missing value (see --help)", flag);
      return argv[++i];
    };
    if (!on(flag, value)) throw_error<invalid_argument>("unknown option '{}' (see --help)", flag);
  }
}

/// The non-empty items of a comma-separated list (`"STS12,,STS13"` -> {"STS12", "STS13"}).
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace vikcse::cli
