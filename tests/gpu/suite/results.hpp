// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file results.hpp
/// What the GPU suite's checks report: one row per check (pass, fail or skip, with what was
/// measured), written as JSON for tests/gpu/run.sh. The suite runs where Boost is not installed,
/// so it carries this small recorder instead of Boost.Test.

#include <vikcse/detail/atomic_file.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <utility>

namespace vikcse::gpu {

/// A failed expectation inside a check; its message says what was expected and what was found.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throws `CheckFailed` with the formatted message unless `condition` holds.
template <typename... Args>
void expect(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw CheckFailed(fmt::format(format, std::forward<Args>(args)...));
}

/// Thrown by a check that cannot run here (no CUDA device, a CPU-only LibTorch).
struct CheckSkipped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The rows of one run, printed as they finish and written as JSON at the end.
class Results {
public:
  /// Runs `check`; its returned string is the row's detail (what was measured). Any exception but
  /// `CheckSkipped` fails the row with the exception's message.
  void run(const std::string& name, const std::function<std::string()>& check) {
    nlohmann::json row{{"name", name}};
    try {
      row["status"] = "pass";
      row["detail"] = check();
    } catch (const CheckSkipped& e) {
      row["status"] = "skip";
      row["detail"] = e.what();
    } catch (const std::exception& e) {
      row["status"] = "fail";
      row["detail"] = e.what();
      ++failures_;
    }
    std::cout << fmt::format("[{}] {}: {}\n", row["status"].get<std::string>(), name,
                             row["detail"].get<std::string>())
              << std::flush;
    rows_.push_back(std::move(row));
  }
  /// Rows that failed.
  [[nodiscard]] int failures() const { return failures_; }
  /// Writes `{"checks": [...], "failures": n, ...extra}` to `path` (temporary file, then rename).
  void write(const std::filesystem::path& path, nlohmann::json extra = nlohmann::json::object()) const {
    extra["checks"] = rows_;
    extra["failures"] = failures_;
    detail::write_text_atomically(path, extra.dump(2) + "\n");
  }

private:
  nlohmann::json rows_ = nlohmann::json::array();
  int failures_ = 0;
};

}  // namespace vikcse::gpu
