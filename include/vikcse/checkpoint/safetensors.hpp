// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file safetensors.hpp
/// Reader and writer of the safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {..}}`), then the data section; offsets are relative to the data section.

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

/// One tensor entry of a safetensors header.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  ///< safetensors dtype string ("F32", "BF16", ...)
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  ///< byte offset in the data section
  std::uint64_t end = 0;    ///< one past the last byte
};

namespace detail {

struct SafetensorsDtype {
  const char* name;
  torch::ScalarType type;
  std::uint64_t size;
};

inline constexpr SafetensorsDtype safetensors_dtypes[] = {
    {"F64", torch::kDouble, 8}, {"F32", torch::kFloat, 4}, {"F16", torch::kHalf, 2},  {"BF16", torch::kBFloat16, 2},
    {"I64", torch::kLong, 8},   {"I32", torch::kInt, 4},   {"I16", torch::kShort, 2}, {"I8", torch::kChar, 1},
    {"U8", torch::kByte, 1},    {"BOOL", torch::kBool, 1},
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
    if (size < 8) {
      throw_error<checkpoint_error>("{}: file has {} bytes, a safetensors file needs at least 8 (header length)",
                                    path.string(), size);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_error<checkpoint_error>("{}: cannot open safetensors file", path.string());
    unsigned char length_bytes[8];
    in.read(reinterpret_cast<char*>(length_bytes), 8);
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
    if (header_length > size - 8) {
      throw_error<checkpoint_error>(
          "{}: header length {} is larger than the file allows ({} bytes after the "
          "8-byte length)",
          path.string(), header_length, size - 8);
    }
    std::string header(header_length, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header_length));
    if (!in) throw_error<checkpoint_error>("{}: cannot read the {}-byte header", path.string(), header_length);
    file.data_start_ = 8 + header_length;
    file.data_available_ = size - file.data_start_;
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
      throw_error<checkpoint_error>("{}: header is not valid JSON: {}", path.string(), e.what());
    }
    if (!json.is_object()) {
      throw_error<checkpoint_error>("{}: header must be a JSON object, got {}", path.string(), json.type_name());
    }
    for (const auto& [name, value] : json.items()) {
      if (name == "__metadata__") {
        if (value.is_object())
          for (const auto& [k, v] : value.items()) file.metadata_[k] = v.is_string() ? v.get<std::string>() : v.dump();
        continue;
      }
      file.entries_.push_back(parse_entry(path, name, value));
    }
    std::sort(file.entries_.begin(), file.entries_.end(),
              [](const auto& a, const auto& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    for (std::size_t i = 1; i < file.entries_.size(); ++i) {
      const auto& prev = file.entries_[i - 1];
      const auto& cur = file.entries_[i];
      if (cur.begin < prev.end) {
        throw_error<checkpoint_error>("{}: tensors '{}' [{}, {}) and '{}' [{}, {}) overlap in the data section",
                                      path.string(), prev.name, prev.begin, prev.end, cur.name, cur.begin, cur.end);
      }
    }
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
  static SafetensorsEntry parse_entry(const std::filesystem::path& path, const std::string& name,
                                      const nlohmann::json& value) {
    auto fail = [&](const std::string& what) {
      throw_error<checkpoint_error>("{}: header entry '{}': {} (got {})", path.string(), name, what, value.dump());
    };
    if (!value.is_object()) fail("expected an object with dtype, shape and data_offsets");
    SafetensorsEntry e;
    e.name = name;
    if (!value.contains("dtype") || !value["dtype"].is_string()) fail("missing string 'dtype'");
    e.dtype = value["dtype"].get<std::string>();
    const auto* dtype = detail::find_dtype(e.dtype);
    if (dtype == nullptr) {
      throw_error<checkpoint_error>(
          "{}: tensor '{}' has unknown dtype '{}' (expected one of F64, F32, F16, BF16, "
          "I64, I32, I16, I8, U8, BOOL)",
          path.string(), name, e.dtype);
    }
    if (!value.contains("shape") || !value["shape"].is_array()) fail("missing array 'shape'");
    std::uint64_t numel = 1;
    for (const auto& d : value["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) fail("shape must hold non-negative integers");
      e.shape.push_back(d.get<std::int64_t>());
      numel *= static_cast<std::uint64_t>(e.shape.back());
    }
    const auto& offsets = value.contains("data_offsets") ? value["data_offsets"] : nlohmann::json();
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail("'data_offsets' must be [begin, end] with non-negative integers");
    }
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.end < e.begin) {
      throw_error<checkpoint_error>("{}: tensor '{}' has data_offsets [{}, {}) with end before begin", path.string(),
                                    name, e.begin, e.end);
    }
    if (e.end - e.begin != numel * dtype->size) {
      throw_error<checkpoint_error>(
          "{}: tensor '{}' of dtype {} and shape {} needs {} bytes, data_offsets [{}, {}) "
          "span {}",
          path.string(), name, e.dtype, value["shape"].dump(), numel * dtype->size, e.begin, e.end, e.end - e.begin);
    }
    return e;
  }

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
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * dtype.size;
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
