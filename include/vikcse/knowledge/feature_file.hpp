// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file feature_file.hpp
/// Reading and writing `[rows, dim]` feature matrices (image features for MCSE, knowledge-base
/// features for VIKCSE) as NumPy `.npy` or `.safetensors` files, with validation: 2-D, finite,
/// expected row count (e.g. the caption count) and dimension.

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

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

/// Parses a `.npy` header and returns the float32 `[rows, dim]` matrix.
inline torch::Tensor read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open feature file", path.string());
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw_error<data_error>("{}: not a .npy file (bad magic; expected \\x93NUMPY)", path.string());
  }
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  } else {
    throw_error<data_error>("{}: unsupported .npy version {}", path.string(), major);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) throw_error<data_error>("{}: truncated .npy header", path.string());
  auto field = [&](const std::string& key) -> std::string {
    const auto pos = header.find("'" + key + "'");
    if (pos == std::string::npos)
      throw_error<data_error>("{}: .npy header has no '{}': {}", path.string(), key, header);
    auto start = header.find(':', pos) + 1;
    while (start < header.size() && header[start] == ' ') ++start;
    std::size_t end = start;
    if (header[start] == '(') {
      end = header.find(')', start) + 1;
    } else {
      end = header.find_first_of(",}", start);
    }
    return header.substr(start, end - start);
  };
  const auto descr = field("descr");
  const auto order = field("fortran_order");
  const auto shape = field("shape");
  if (order.find("False") == std::string::npos) {
    throw_error<data_error>("{}: Fortran-ordered .npy arrays are not supported (expected fortran_order False)",
                            path.string());
  }
  torch::ScalarType dtype;
  if (descr.find("<f4") != std::string::npos) {
    dtype = torch::kFloat;
  } else if (descr.find("<f8") != std::string::npos) {
    dtype = torch::kDouble;
  } else if (descr.find("<f2") != std::string::npos) {
    dtype = torch::kHalf;
  } else {
    throw_error<data_error>("{}: .npy dtype {} is not supported (expected <f4, <f8 or <f2)", path.string(), descr);
  }
  std::vector<std::int64_t> dims;
  std::string number;
  for (char c : shape) {
    if (c >= '0' && c <= '9') {
      number.push_back(c);
    } else if (!number.empty()) {
      dims.push_back(std::stoll(number));
      number.clear();
    }
  }
  if (dims.size() != 2) {
    throw_error<data_error>("{}: expected a 2-D [rows, dim] array, got shape {}", path.string(), shape);
  }
  auto t = torch::empty(dims, torch::TensorOptions().dtype(dtype));
  const auto bytes = static_cast<std::streamsize>(t.numel() * t.element_size());
  in.read(static_cast<char*>(t.data_ptr()), bytes);
  if (in.gcount() != bytes) {
    throw_error<data_error>("{}: .npy data truncated: shape {} needs {} bytes, file holds {}", path.string(), shape,
                            bytes, in.gcount());
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
