// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file cli_checks.hpp
/// The checks every program (examples and benchmarks) puts on its CLI11 options, with messages
/// that say what was expected: `--iters: expected an integer >= 1, got '0'`.

#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vikcse::cli {

/// Exit status of every program: 0 done, 1 a runtime error (a file, a model, the data), 2 a usage
/// error (an unknown option, a bad value, a missing one: the command line itself is wrong), 130
/// stopped by Ctrl-C.
inline constexpr int exit_runtime_error = 1;
inline constexpr int exit_usage_error = 2;
inline constexpr int exit_interrupted = 130;

/// Parses the command line. Returns nothing when the program should go on, else its exit status:
/// 0 after --help, `exit_usage_error` after a bad command line (CLI11 has printed the message,
/// `--steps: expected an integer >= 1, got '0'`, and where --help is).
inline std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage_error;
  }
}

/// Runs a program's checks across options (what CLI11 cannot say of one option: "give one of --model
/// or --random-model"). Returns nothing when they pass, else `exit_usage_error` after printing
/// `program: <message> (see --help)`; `checks` throws vikcse::invalid_argument to fail.
template <class Checks>
std::optional<int> check_usage(std::string_view program, Checks&& checks) {
  try {
    std::forward<Checks>(checks)();
    return std::nullopt;
  } catch (const vikcse::invalid_argument& e) {
    std::cerr << program << ": " << e.what() << " (see --help)\n";
    return exit_usage_error;
  }
}

// CLI::PositiveNumber would print the range of a double in its message, which reads badly for a count.

/// CLI11 check: an integer in [min, max]. `description` is what --help shows after the type.
inline CLI::Validator integer_in(long long min, long long max, std::string description) {
  return CLI::Validator(
      [min, max](std::string& input) -> std::string {
        long long value = 0;
        if (CLI::detail::lexical_cast(input, value) && value >= min && value <= max) return {};
        if (max == std::numeric_limits<long long>::max()) {
          return fmt::format("expected an integer >= {}, got '{}'", min, input);
        }
        return fmt::format("expected an integer in [{}, {}], got '{}'", min, max, input);
      },
      std::move(description));
}
/// CLI11 check: an integer >= 1 (counts, sizes).
inline CLI::Validator positive_integer() { return integer_in(1, std::numeric_limits<long long>::max(), "POSITIVE"); }
/// CLI11 check: an integer >= 0 (where 0 means "the default", e.g. --threads 0: hardware).
inline CLI::Validator non_negative_integer() {
  return integer_in(0, std::numeric_limits<long long>::max(), "NONNEGATIVE");
}
/// CLI11 check: a real number > 0 (rates, scales).
inline CLI::Validator positive_real() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        double value = 0;
        if (CLI::detail::lexical_cast(input, value) && value > 0) return {};
        return fmt::format("expected a number > 0, got '{}'", input);
      },
      "POSITIVE");
}
/// CLI11 check: a real number >= 0.
inline CLI::Validator non_negative_real() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        double value = 0;
        if (CLI::detail::lexical_cast(input, value) && value >= 0) return {};
        return fmt::format("expected a number >= 0, got '{}'", input);
      },
      "NONNEGATIVE");
}
/// CLI11 check: a file that can be created or replaced: not a directory, in a directory that exists
/// (so that a --json FILE typo fails at once, not after the measurements).
inline CLI::Validator writable_file() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        const std::filesystem::path path(input);
        if (input.empty()) return "expected a file name";
        if (std::filesystem::is_directory(path)) return fmt::format("'{}' is a directory", input);
        const auto parent = path.parent_path();
        if (!parent.empty() && !std::filesystem::is_directory(parent)) {
          return fmt::format("directory '{}' does not exist", parent.string());
        }
        return {};
      },
      "");
}

/// CLI11 check of `--device`: cpu, cuda or cuda:N.
inline CLI::Validator device_name() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        const auto digits = [](std::string_view s) {
          return !s.empty() && s.size() < 4 && s.find_first_not_of("0123456789") == std::string_view::npos;
        };
        if (v == "cpu" || v == "cuda" || (v.starts_with("cuda:") && digits(std::string_view(v).substr(5)))) return {};
        return fmt::format("'{}' is not a device: expected cpu, cuda or cuda:N", v);
      },
      "cpu|cuda|cuda:N");
}

/// `--threads N` (intra-op threads; 0: all cores or OMP_NUM_THREADS) and `--no-progress`, in the
/// "Run" group of every program that encodes sentences.
inline void add_run_options(CLI::App& app, int& threads, bool& progress) {
  app.add_option("--threads", threads, "intra-op threads (0: all cores or OMP_NUM_THREADS)")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group("Run");
  app.add_flag_callback(
         "--no-progress", [&progress] { progress = false; }, "no progress display on stderr")
      ->group("Run");
}

/// Applies `check` to `value` (an option's default, or a check that depends on other options) and
/// throws CLI11's ValidationError naming `option`, so that `app.exit(e)` reports it as CLI11 does.
inline void validate(const CLI::Option* option, std::string value, const CLI::Validator& check) {
  if (auto message = check(value); !message.empty()) throw CLI::ValidationError(option->get_name(), message);
}

}  // namespace vikcse::cli
