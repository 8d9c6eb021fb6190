// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the tokenizer loaders. The first byte picks the layout (tokenizer.json,
// vocab.txt, or vocab.json + merges.txt split at the first NUL), the rest is the file content; a
// tokenizer that loads then encodes and decodes a fixed sentence and the input's own text.
#include "fuzz_support.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace fs = std::filesystem;
  const auto dir = vikcse::fuzz::scratch() / "tokenizer";
  fs::remove_all(dir);
  const std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      vikcse::fuzz::write_bytes(dir / "tokenizer.json", content);
      break;
    case 1:
      vikcse::fuzz::write_bytes(dir / "vocab.txt", content);
      break;
    default: {
      const auto [vocab, merges] = vikcse::fuzz::split_at_nul(content);
      vikcse::fuzz::write_bytes(dir / "vocab.json", vocab);
      vikcse::fuzz::write_bytes(dir / "merges.txt", merges);
    }
  }
  vikcse::fuzz::expect_typed_errors([&] {
    const auto tokenizer = vikcse::load_tokenizer(dir);
    for (std::string_view text : {std::string_view("Hello, world! A man eats an apple."), content.substr(0, 256)}) {
      const auto ids = tokenizer.encode(text);
      (void)tokenizer.decode(ids, /*skip_special_tokens=*/true);
    }
  });
  return 0;
}
