// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file benchmark_support.hpp
/// Shared pieces of the benchmark programs: timing, peak memory, running a peer program and
/// reading its JSON-lines output. Their command lines use the checks of examples/support/cli_checks.hpp.

#include "../../examples/support/cli_checks.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vikcse::bench {

/// Peak resident memory of this process so far, MiB.
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

/// Mean seconds of `iters` calls of `f` after `warmup` untimed calls.
inline double seconds_per_call(const std::function<void()>& f, int iters, int warmup = 1) {
  for (int i = 0; i < warmup; ++i) f();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
}

/// Output of a peer program: its JSON lines, and the whole text (for error messages).
struct PeerOutput {
  std::vector<nlohmann::json> lines;
  std::string text;
};

/// Runs `command` (stderr merged) and keeps every stdout line that parses as a JSON object.
inline PeerOutput run_peer(const std::string& command) {
  PeerOutput out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) return out;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe.get()) != nullptr) {
    out.text += buffer;
    auto parsed = nlohmann::json::parse(buffer, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) out.lines.push_back(parsed);
  }
  return out;
}

}  // namespace vikcse::bench
