// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file atomic_file.hpp
/// Writes a file so that readers never see it half written: write a temporary file beside the
/// target, flush it, then rename it over the target.

#include <vikcse/error.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <string_view>

namespace vikcse::detail {

/// Calls `write` with a stream on a temporary file next to `target`, then renames it to `target`.
/// On any failure the temporary file is removed and `ErrorType` is thrown naming the file.
template <typename ErrorType = error>
void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ofstream&)>& write) {
  std::random_device device;
  auto temp = target;
  temp += fmt::format(".tmp-{:08x}", device());
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw_error<ErrorType>("cannot open '{}' for writing", temp.string());
      write(out);
      out.flush();
      if (!out) throw_error<ErrorType>("writing '{}' failed (disk full?)", temp.string());
    }
    std::filesystem::rename(temp, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

/// Writes `content` to `target` atomically.
template <typename ErrorType = error>
void write_text_atomically(const std::filesystem::path& target, std::string_view content) {
  write_file_atomically<ErrorType>(target, [&](std::ofstream& out) { out.write(content.data(), content.size()); });
}

}  // namespace vikcse::detail
