// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: both tokenizers' encode (and decode) on arbitrary bytes, invalid UTF-8 included.
// The real bert-base-uncased and roberta-base files are loaded once from $VIKCSE_DATA_DIR/tokenizers.
#include "fuzz_support.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>

#include <algorithm>
#include <optional>

namespace {
std::optional<vikcse::AutoTokenizer> bert, roberta;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* data = std::getenv("VIKCSE_DATA_DIR");
  if (data == nullptr) {
    std::fprintf(stderr, "fuzz_encode: set VIKCSE_DATA_DIR to the shared data directory\n");
    std::exit(2);
  }
  const std::filesystem::path root = std::filesystem::path(data) / "tokenizers";
  bert = vikcse::load_tokenizer(root / "bert-base-uncased");
  roberta = vikcse::load_tokenizer(root / "roberta-base");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto pair = vikcse::fuzz::split_at_nul(text);
  for (const auto* tokenizer : {&*bert, &*roberta}) {
    vikcse::fuzz::expect_typed_errors([&] {
      const auto ids = tokenizer->encode(text);
      for (const auto id : ids)
        if (id < 0 || id >= tokenizer->vocab_size()) std::abort();
      (void)tokenizer->decode(ids);
      (void)tokenizer->encode_pair(pair.first, pair.second);
      // With a limit, encoding stops after the word that reaches it: a prefix of the whole encoding.
      std::vector<std::int64_t> all, limited;
      tokenizer->encode_into(text, all);
      tokenizer->encode_into(text, limited, 8);
      if (limited.size() > all.size() || !std::equal(limited.begin(), limited.end(), all.begin()) ||
          limited.size() < std::min<std::size_t>(8, all.size())) {
        std::abort();
      }
    });
  }
  return 0;
}
