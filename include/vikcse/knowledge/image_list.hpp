// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file image_list.hpp
/// The photos of stage 1, in row order: row i of the knowledge base is image i, described by line i
/// of the caption file. Either a directory (its `.jpg`, `.jpeg` and `.png` files, case-insensitive,
/// in byte order of their names: name them so that this order is the captions' order) or a list file
/// (one path per line, relative paths taken from the list's own folder; a final '\r' is dropped;
/// blank lines are an error, since they would shift every later row).

#include <vikcse/error.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vikcse {

/// The images of `source` (a directory or a list file) in row order.
/// @throws vikcse::data_error naming the source: missing, an empty directory, a blank line of a list
///         (with its number), or a listed file that does not exist.
inline std::vector<std::filesystem::path> list_images(const std::filesystem::path& source) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  if (fs::is_directory(source)) {
    for (const auto& entry : fs::directory_iterator(source)) {
      if (!entry.is_regular_file()) continue;
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });
    if (out.empty()) throw_error<data_error>("{}: the directory holds no .jpg, .jpeg or .png file", source.string());
    return out;
  }
  std::ifstream in(source);
  if (!in) throw_error<data_error>("{}: neither a directory of images nor a readable list file", source.string());
  const fs::path base = source.parent_path();
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      throw_error<data_error>("{} line {}: expected an image path, got a blank line (rows must stay aligned with the "
                              "captions)",
                              source.string(), number);
    }
    fs::path p(line);
    if (p.is_relative()) p = base / p;
    if (!fs::is_regular_file(p)) {
      throw_error<data_error>("{} line {}: image '{}' does not exist", source.string(), number, p.string());
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) throw_error<data_error>("{}: the list names no image", source.string());
  return out;
}

}  // namespace vikcse
