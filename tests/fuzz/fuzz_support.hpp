// SPDX-License-Identifier: Apache-2.0
#pragma once

// What every fuzz target shares: the contract (the code under test returns, or throws one of the
// project's typed errors; anything else aborts, which libFuzzer reports as a crash with its input),
// and a scratch directory for the readers that take paths.

#include <vikcse/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace vikcse::fuzz {

/// Runs `body`; a vikcse error (or vikcse::invalid_argument) is an accepted outcome, any other
/// exception is a bug: it is printed and the process aborts so that libFuzzer keeps the input.
template <typename Body>
void expect_typed_errors(Body&& body) {
  try {
    body();
  } catch (const vikcse::error&) {
  } catch (const vikcse::invalid_argument&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: a foreign exception escaped: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: a non-std exception escaped\n");
    std::abort();
  }
}

/// A directory of this process's own under $TMPDIR (or /tmp), made on first use.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto d = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / ("vikcse-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

/// Writes `bytes` to `path`, replacing it.
inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The part of `bytes` before the first NUL and the part after it (empty when there is none): how a
/// target that reads two files takes both from one input.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view bytes) {
  const auto at = bytes.find('\0');
  if (at == std::string_view::npos) return {bytes, {}};
  return {bytes.substr(0, at), bytes.substr(at + 1)};
}

}  // namespace vikcse::fuzz
