// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file safetensors.hpp
/// Reader and writer of the safetensors format (the header: `safetensors_header.hpp`).

#include <vikcse/checkpoint/safetensors_header.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace vikcse {

namespace detail {

/// The LibTorch type of each safetensors dtype (their sizes: `safetensors_dtype_size`).
struct SafetensorsDtype {
  const char* name;
  torch::ScalarType type;
};

inline constexpr SafetensorsDtype safetensors_dtypes[] = {
    {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf}, {"BF16", torch::kBFloat16},
    {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
    {"U8", torch::kByte},    {"BOOL", torch::kBool},
};

inline const SafetensorsDtype* find_dtype(const std::string& name) {
  for (const auto& d : safetensors_dtypes)
    if (name == d.name) return &d;
  return nullptr;
}

inline const SafetensorsDtype& find_dtype(torch::ScalarType type, const std::string& tensor) {
  for (const auto& d : safetensors_dtypes)
    if (type == d.type) return d;
  throw_error<checkpoint_error>("tensor '{}': dtype {} cannot be stored in safetensors", tensor, c10::toString(type));
}

}  // namespace detail

/// A safetensors file whose header has been read and validated. Tensor data is read on demand.
///
/// Example: `auto file = vikcse::SafetensorsFile::open("model.safetensors");`
///          `torch::Tensor w = file.load("embeddings.word_embeddings.weight");`
class SafetensorsFile {
public:
  /// Reads and validates the header: its length against the file size, the JSON, each entry's
  /// dtype, shape and offsets (inside the data section, consistent with the shape, not overlapping).
  /// Data that the file does not hold (a truncated file) is reported by `load`, naming the tensor.
  static SafetensorsFile open(const std::filesystem::path& path) {
    SafetensorsFile file;
    file.path_ = path;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot read safetensors file: {}", path.string(), ec.message());
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_error<checkpoint_error>("{}: cannot open safetensors file", path.string());
    auto header = read_safetensors_header(in, size, path.string());
    file.data_start_ = header.data_start;
    file.data_available_ = size - file.data_start_;
    file.entries_ = std::move(header.entries);
    file.metadata_ = std::move(header.metadata);
    for (std::size_t i = 0; i < file.entries_.size(); ++i) file.index_[file.entries_[i].name] = i;
    return file;
  }

  /// Header entries in data order.
  [[nodiscard]] const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  /// The `__metadata__` map.
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// The file this header came from.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Whether the header has a tensor `name`.
  [[nodiscard]] bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The bytes of data that the data section should hold (end offset of the last tensor).
  [[nodiscard]] std::uint64_t data_size() const { return entries_.empty() ? 0 : entries_.back().end; }

  /// The entry of tensor `name`; throws checkpoint_error when absent.
  [[nodiscard]] const SafetensorsEntry& entry(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw_error<checkpoint_error>("{}: no tensor named '{}'", path_.string(), name);
    return entries_[it->second];
  }

  /// Reads tensor `name` (CPU, its stored dtype). Throws when the file does not hold its bytes,
  /// naming the tensor, the bytes expected and the bytes present.
  [[nodiscard]] torch::Tensor load(const std::string& name) const {
    const auto& e = entry(name);
    require_bytes(e);
    const auto& dtype = *detail::find_dtype(e.dtype);
    auto tensor = torch::empty(e.shape, torch::TensorOptions().dtype(dtype.type));
    std::ifstream in(path_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(data_start_ + e.begin));
    in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) throw_error<checkpoint_error>("{}: reading tensor '{}' failed", path_.string(), name);
    return tensor;
  }

  /// Checks that the file holds every tensor's bytes; the error names the first tensor (in data
  /// order) whose bytes are missing.
  void require_complete() const {
    for (const auto& e : entries_) require_bytes(e);
  }

  /// Reads every tensor.
  [[nodiscard]] std::map<std::string, torch::Tensor> load_all() const {
    require_complete();
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& e : entries_) tensors.emplace(e.name, load(e.name));
    return tensors;
  }

private:
  void require_bytes(const SafetensorsEntry& e) const {
    if (e.end > data_available_) {
      throw_error<checkpoint_error>(
          "{}: file is truncated: tensor '{}' needs data bytes [{}, {}) ({} bytes) but the data section holds only "
          "{} bytes (the header says the data ends at {}; file size should be {} bytes)",
          path_.string(), e.name, e.begin, e.end, e.end - e.begin, data_available_, data_size(),
          data_start_ + data_size());
    }
  }

  std::filesystem::path path_;
  std::uint64_t data_start_ = 0;
  std::uint64_t data_available_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

/// Writes `tensors` as a safetensors file, atomically (temp file, then rename). Tensors are
/// stored contiguous, little-endian, in name order; the header is padded with spaces to 8 bytes.
inline void save_safetensors(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors,
                             const std::map<std::string, std::string>& metadata = {}) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const auto& dtype = detail::find_dtype(t.scalar_type(), name);
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * safetensors_dtype_size(dtype.name);
    header[name] = {{"dtype", dtype.name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  detail::write_file_atomically<checkpoint_error>(path, [&](std::ofstream& out) {
    std::uint64_t length = text.size();
    unsigned char length_bytes[8];
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>((length >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  });
}

}  // namespace vikcse
