// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: config.json of a BERT/RoBERTa checkpoint.
#include "fuzz_support.hpp"

#include <vikcse/encoder/bert_config.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = vikcse::fuzz::scratch() / "config.json";
  vikcse::fuzz::write_bytes(path, {reinterpret_cast<const char*>(data), size});
  vikcse::fuzz::expect_typed_errors([&] {
    const auto config = vikcse::BertConfig::from_json_file(path);
    config.require_tokenizer_fits(30522, "a tokenizer of 30522 ids");
  });
  return 0;
}
