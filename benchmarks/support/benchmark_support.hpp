// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file benchmark_support.hpp
/// Shared pieces of the benchmark programs: timing, peak memory, running a peer program and
/// reading its JSON-lines output, and a small command-line reader.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
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

/// A minimal `--name value` / `--flag` reader with `--help`.
class Args {
public:
  Args(int argc, char** argv, std::string help) : help_(std::move(help)) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        fmt::print("{}", help_);
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0) fail(fmt::format("unexpected argument '{}'", a));
      if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        values_[a] = argv[++i];
      } else {
        values_[a] = "";
      }
    }
  }

  /// The value of `--name`, or `fallback`.
  [[nodiscard]] std::string get(const std::string& name, const std::string& fallback) {
    used_.push_back(name);
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  [[nodiscard]] long long get_int(const std::string& name, long long fallback) {
    const auto text = get(name, std::to_string(fallback));
    try {
      return std::stoll(text);
    } catch (const std::exception&) {
      fail(fmt::format("{} expects an integer, got '{}'", name, text));
    }
  }
  [[nodiscard]] bool flag(const std::string& name) {
    used_.push_back(name);
    return values_.count(name) != 0;
  }
  /// Comma-separated integers.
  [[nodiscard]] std::vector<long long> get_ints(const std::string& name, const std::string& fallback) {
    std::vector<long long> out;
    const auto text = get(name, fallback);
    for (std::size_t p = 0; p < text.size();) {
      auto q = text.find(',', p);
      try {
        out.push_back(std::stoll(text.substr(p, q - p)));
      } catch (const std::exception&) {
        fail(fmt::format("{} expects comma-separated integers, got '{}'", name, text));
      }
      p = q == std::string::npos ? text.size() : q + 1;
    }
    return out;
  }
  /// Fails on any option that no `get`/`flag` asked for.
  void check_unknown() const {
    for (const auto& [name, value] : values_) {
      if (std::find(used_.begin(), used_.end(), name) == used_.end()) fail(fmt::format("unknown option '{}'", name));
    }
  }

private:
  [[noreturn]] static void fail(const std::string& message) {
    fmt::print(stderr, "error: {} (see --help)\n", message);
    std::exit(2);
  }

  std::string help_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
};

}  // namespace vikcse::bench
