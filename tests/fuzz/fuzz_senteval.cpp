// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the SentEval readers. The first byte picks the reader (an STS year subset, whose
// input and gold files are split at the first NUL; STS-B; SICK; the sentence-per-line transfer files;
// SST; TREC; MRPC), the rest is the file content.
#include "fuzz_support.hpp"

#include <vikcse/eval/senteval_data.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace fs = std::filesystem;
  namespace ev = vikcse::detail::eval;
  const auto root = vikcse::fuzz::scratch() / "senteval";
  const std::string_view content(reinterpret_cast<const char*>(data) + 1, size - 1);
  vikcse::fuzz::expect_typed_errors([&] {
    switch (data[0] % 7) {
      case 0: {
        const auto [input, gold] = vikcse::fuzz::split_at_nul(content);
        const auto year = root / "STS12-en-test";
        vikcse::fuzz::write_bytes(year / "STS.input.MSRpar.txt", input);
        vikcse::fuzz::write_bytes(year / "STS.gs.MSRpar.txt", gold);
        (void)vikcse::read_sts_subset(year, "MSRpar");
        break;
      }
      case 1:
        vikcse::fuzz::write_bytes(root / "downstream/STS/STSBenchmark/sts-dev.csv", content);
        (void)vikcse::read_sts_benchmark(root, "dev");
        break;
      case 2:
        vikcse::fuzz::write_bytes(root / "downstream/SICK/SICK_trial.txt", content);
        (void)vikcse::read_sick_relatedness(root, "dev");
        break;
      case 3: {
        vikcse::TransferSplit split;
        vikcse::fuzz::write_bytes(root / "rt-polarity.pos", content);
        ev::read_sentence_lines(root / "rt-polarity.pos", 1, split);
        break;
      }
      case 4:
        vikcse::fuzz::write_bytes(root / "sentiment-dev", content);
        (void)ev::read_sst_split(root / "sentiment-dev", /*binary=*/(size % 2) == 0, (size % 2) == 0 ? 2 : 5);
        break;
      case 5:
        vikcse::fuzz::write_bytes(root / "TREC_10.label", content);
        (void)ev::read_trec_split(root / "TREC_10.label");
        break;
      default:
        vikcse::fuzz::write_bytes(root / "msr_paraphrase_test.txt", content);
        (void)ev::read_mrpc_split(root / "msr_paraphrase_test.txt");
    }
  });
  return 0;
}
