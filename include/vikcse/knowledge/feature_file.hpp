// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file feature_file.hpp
/// Reading and writing `[rows, dim]` feature matrices (image features for MCSE, knowledge-base
/// features for VIKCSE) as NumPy `.npy` or `.safetensors` files, with validation: 2-D, finite,
/// expected row count (e.g. the caption count) and dimension.

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/knowledge/npy_header.hpp>

#include <torch/torch.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vikcse {

/// What `load_features` checks.
struct FeatureFileOptions {
  /// Tensor name inside a safetensors file. Default: empty = the only tensor, or `features`.
  std::string key;
  /// Required row count (e.g. lines of the caption file); nullopt: any.
  std::optional<std::int64_t> expected_rows;
  /// Required feature dimension; nullopt: any.
  std::optional<std::int64_t> expected_dim;
};

namespace detail {

/// Reads a `.npy` file (header checked by `read_npy_header`) as a float32 tensor of its shape.
inline torch::Tensor read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open feature file", path.string());
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw_error<data_error>("{}: cannot read the file size: {}", path.string(), ec.message());
  const auto header = read_npy_header(in, size, path.string());
  if (header.shape.size() != 2) {
    throw_error<data_error>("{}: expected a 2-D [rows, dim] array, got shape ({})", path.string(),
                            fmt::format("{}", fmt::join(header.shape, ", ")) + (header.shape.size() == 1 ? "," : ""));
  }
  const auto dtype = header.item_size == 4 ? torch::kFloat : header.item_size == 8 ? torch::kDouble : torch::kHalf;
  auto t = torch::empty(header.shape, torch::TensorOptions().dtype(dtype));
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(header.data_bytes));
  if (in.gcount() != static_cast<std::streamsize>(header.data_bytes)) {
    throw_error<data_error>("{}: .npy data truncated: {} bytes expected, {} read", path.string(), header.data_bytes,
                            in.gcount());
  }
  return t.to(torch::kFloat);
}

inline torch::Tensor read_safetensors_features(const std::filesystem::path& path, const std::string& key) {
  const auto file = SafetensorsFile::open(path);
  std::string name = key;
  if (name.empty()) {
    if (file.entries().size() == 1) {
      name = file.entries().front().name;
    } else if (file.contains("features")) {
      name = "features";
    } else {
      throw_error<data_error>("{}: holds {} tensors and none is named 'features'; pass the tensor name", path.string(),
                              file.entries().size());
    }
  }
  if (!file.contains(name)) throw_error<data_error>("{}: no tensor named '{}'", path.string(), name);
  return file.load(name).to(torch::kFloat);
}

}  // namespace detail

/// Checks a feature matrix: 2-D, every value finite, optional row count and dimension.
/// @param source names the file or origin in error messages.
/// @throws vikcse::data_error naming the source, the expectation and what was found (for NaN/Inf:
///         the first bad row and column).
inline void validate_features(const torch::Tensor& features, const std::string& source,
                              const FeatureFileOptions& options = {}) {
  if (!features.defined() || features.dim() != 2) {
    throw_error<data_error>("{}: expected a [rows, dim] feature matrix, got {} dimensions", source,
                            features.defined() ? features.dim() : 0);
  }
  if (options.expected_rows && features.size(0) != *options.expected_rows) {
    throw_error<data_error>("{}: has {} feature rows but {} were expected (one per caption/sentence line)", source,
                            features.size(0), *options.expected_rows);
  }
  if (options.expected_dim && features.size(1) != *options.expected_dim) {
    throw_error<data_error>("{}: feature dimension is {}, expected {}", source, features.size(1),
                            *options.expected_dim);
  }
  const auto bad = (~torch::isfinite(features)).nonzero();
  if (bad.size(0) > 0) {
    throw_error<data_error>("{}: non-finite value (NaN or Inf) at row {}, column {} ({} non-finite values in all)",
                            source, bad[0][0].item<std::int64_t>(), bad[0][1].item<std::int64_t>(), bad.size(0));
  }
}

/// Loads a `[rows, dim]` float32 matrix from `.npy` or `.safetensors` (chosen by extension) and
/// validates it (`validate_features`).
/// @throws vikcse::data_error (or checkpoint_error for a malformed safetensors file).
inline torch::Tensor load_features(const std::filesystem::path& path, const FeatureFileOptions& options = {}) {
  if (!std::filesystem::is_regular_file(path))
    throw_error<data_error>("{}: feature file does not exist", path.string());
  const auto ext = path.extension().string();
  torch::Tensor t;
  if (ext == ".npy") {
    t = detail::read_npy(path);
  } else if (ext == ".safetensors") {
    t = detail::read_safetensors_features(path, options.key);
  } else {
    throw_error<data_error>("{}: unknown feature file type '{}' (expected .npy or .safetensors)", path.string(), ext);
  }
  validate_features(t, path.string(), options);
  return t;
}

/// Writes a 2-D tensor as a version-1 float32 `.npy` stream (header padded to 64 bytes, as numpy).
/// @throws vikcse::invalid_argument for a tensor that is not 2-D.
inline void write_npy(std::ostream& out, const torch::Tensor& features) {
  if (!features.defined() || features.dim() != 2) {
    throw_error<invalid_argument>("write_npy: expected a 2-D tensor, got {} dimensions",
                                  features.defined() ? features.dim() : 0);
  }
  const auto t = features.detach().to(torch::kCPU, torch::kFloat).contiguous();
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", t.size(0), t.size(1));
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  const char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(lb, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
}

/// Writes a float32 2-D tensor as a version-1 `.npy` file, atomically (temp file, then rename).
/// @throws vikcse::data_error naming the file when it cannot be written.
inline void save_npy(const std::filesystem::path& path, const torch::Tensor& features) {
  if (!features.defined() || features.dim() != 2) {
    throw_error<invalid_argument>("save_npy: {}: expected a 2-D tensor", path.string());
  }
  detail::write_file_atomically<data_error>(path, [&](std::ofstream& out) { write_npy(out, features); });
}

}  // namespace vikcse
