// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file load_report.hpp
/// What happened when a checkpoint was mapped onto a model.

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vikcse {

/// A key whose tensor shape differs between the model and the checkpoint.
struct ShapeMismatch {
  std::string key;
  std::vector<std::int64_t> expected;  ///< the model's shape
  std::vector<std::int64_t> got;       ///< the checkpoint's shape
};

/// The result of loading a checkpoint into a model.
struct LoadReport {
  std::vector<std::string> loaded;      ///< model keys filled from the checkpoint
  std::vector<std::string> missing;     ///< model keys the checkpoint lacks
  std::vector<std::string> unexpected;  ///< checkpoint keys that match no model key
  std::vector<std::string> ignored;     ///< checkpoint keys deliberately skipped (task heads, buffers)
  std::vector<ShapeMismatch> mismatched;

  /// True when every model key was loaded and nothing unexpected or mismatched was found.
  [[nodiscard]] bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }

  /// A human-readable multi-line summary (lists are cut after `limit` entries each).
  [[nodiscard]] std::string summary(std::size_t limit = 10) const {
    std::string out = fmt::format("loaded {} tensors, {} missing, {} unexpected, {} shape-mismatched, {} ignored",
                                  loaded.size(), missing.size(), unexpected.size(), mismatched.size(), ignored.size());
    auto list = [&](const char* title, const std::vector<std::string>& keys) {
      for (std::size_t i = 0; i < keys.size() && i < limit; ++i) out += fmt::format("\n  {} key: {}", title, keys[i]);
      if (keys.size() > limit) out += fmt::format("\n  ... and {} more {} keys", keys.size() - limit, title);
    };
    list("missing", missing);
    list("unexpected", unexpected);
    for (std::size_t i = 0; i < mismatched.size() && i < limit; ++i) {
      out += fmt::format("\n  shape mismatch: {} expected [{}] got [{}]", mismatched[i].key,
                         fmt::join(mismatched[i].expected, ", "), fmt::join(mismatched[i].got, ", "));
    }
    return out;
  }
};

}  // namespace vikcse
