// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file python_reference.hpp
/// Running an independent Python reference script (tests/*/reference/*.py) from a test, so that
/// the C++ result is compared with a reference computed now, on this machine, instead of with
/// numbers another machine wrote. The interpreter is Debian's /usr/bin/python3 (python3-torch),
/// or $VIKCSE_PYTHON.

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace vikcse::testing {

/// The interpreter the reference scripts are run with.
inline std::string python_interpreter() {
  const char* env = std::getenv("VIKCSE_PYTHON");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/python3";
}

/// The project's tests folder (env VIKCSE_TEST_DIR, set by CTest; else ./tests).
inline std::filesystem::path tests_dir() {
  const char* dir = std::getenv("VIKCSE_TEST_DIR");
  return dir != nullptr ? dir : "tests";
}

/// True under CI=true, where a reference that cannot run is a failure, never a reason to fall back.
inline bool running_under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && (std::string(ci) == "true" || std::string(ci) == "1");
}

/// Single-quotes `s` for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  // (built with append: GCC 12 warns falsely on `"literal" + std::string&&` here)
  std::string q(1, '\'');
  for (const char c : s) q.append(c == '\'' ? "'\\''" : std::string(1, c));
  return q.append(1, '\'');
}

/// The outcome of one run of a reference script.
struct PythonRun {
  bool ok = false;      ///< exit status 0
  std::string command;  ///< the shell command that ran
  std::string output;   ///< its stdout and stderr
};

/// Runs `python_interpreter() script args...` (each argument single-quoted for the shell).
inline PythonRun run_python(const std::filesystem::path& script, const std::vector<std::string>& args) {
  const auto& quote = shell_quote;
  std::string name("vikcse-python-");
  name.append(std::to_string(::getpid())).append("-").append(script.stem().string()).append(".log");
  const auto log = std::filesystem::temp_directory_path() / name;
  PythonRun run;
  run.command = quote(python_interpreter()).append(" ").append(quote(script.string()));
  for (const auto& a : args) run.command.append(" ").append(quote(a));
  const std::string shell = run.command + " > " + quote(log.string()) + " 2>&1";
  run.ok = std::system(shell.c_str()) == 0;
  std::ifstream in(log);
  run.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  return run;
}

/// A scratch directory removed at scope exit.
struct ScratchDir {
  std::filesystem::path path;  ///< the directory
  explicit ScratchDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() / (tag + "-" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(path);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

/// JSON in, JSON out: writes `input` to `dir/name.in.json`, runs `tests/<area>/reference/<script> IN
/// OUT` and returns the JSON the script wrote.
/// @throws std::runtime_error with the command and the script's output when it fails.
inline nlohmann::json run_python_reference(const std::string& area, const std::string& script,
                                           const nlohmann::json& input, const std::filesystem::path& dir,
                                           const std::string& name) {
  const auto in = dir / (name + ".in.json");
  const auto out = dir / (name + ".out.json");
  std::ofstream(in) << input.dump();
  const auto run = run_python(tests_dir() / area / "reference" / script, {in.string(), out.string()});
  if (!run.ok) throw std::runtime_error("python reference failed: " + run.command + "\n" + run.output);
  std::ifstream result(out);
  if (!result) throw std::runtime_error("python reference wrote no " + out.string() + ": " + run.command);
  return nlohmann::json::parse(result);
}

}  // namespace vikcse::testing
