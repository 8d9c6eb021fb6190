// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a .npy file's header (magic, version, dict, dtype, shape against the file size).
#include "fuzz_support.hpp"

#include <vikcse/knowledge/npy_header.hpp>

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  vikcse::fuzz::expect_typed_errors([&] {
    std::istringstream in(bytes);
    const auto header = vikcse::read_npy_header(in, bytes.size(), "fuzz.npy");
    // The promise the reader allocates on: the data fits in the file.
    if (header.data_offset + header.data_bytes > bytes.size()) std::abort();
  });
  return 0;
}
