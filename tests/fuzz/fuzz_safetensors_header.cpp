// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a safetensors file's header (length prefix, JSON, dtypes, shapes, offsets).
#include "fuzz_support.hpp"

#include <vikcse/checkpoint/safetensors_header.hpp>

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  vikcse::fuzz::expect_typed_errors([&] {
    std::istringstream in(bytes);
    const auto header = vikcse::read_safetensors_header(in, bytes.size(), "fuzz.safetensors");
    for (const auto& e : header.entries) {
      // What the reader relies on: a span that matches the shape and lies after the previous one.
      if (e.end < e.begin) std::abort();
    }
  });
  return 0;
}
