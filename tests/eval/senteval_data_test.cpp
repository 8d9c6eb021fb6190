// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_senteval_data
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/eval/senteval_data.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace fs = std::filesystem;

namespace {

// A fresh SentEval-shaped directory under the system temp dir, removed at the end.
struct TempSentEval {
  fs::path root;
  TempSentEval() {
    root = fs::temp_directory_path() / ("vikcse-eval-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(root / "downstream" / "STS" / "STS13-en-test");
    fs::create_directories(root / "downstream" / "STS" / "STSBenchmark");
    fs::create_directories(root / "downstream" / "TREC");
  }
  ~TempSentEval() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  fs::path year() const { return root / "downstream" / "STS" / "STS13-en-test"; }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
};

template <typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const vikcse::data_error& e) {
    return e.what();
  }
  return "<no data_error thrown>";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(python_compatible_text_handling) {
  using namespace vikcse::detail::eval;
  // str.split(): runs of Unicode whitespace (incl. U+00A0 and U+3000) separate tokens.
  BOOST_TEST(python_split_join("  a\tb \xC2\xA0 c\xE3\x80\x80"
                               "d  ") == "a b c d");
  BOOST_TEST(python_split("").empty());
  BOOST_TEST(std::string(python_strip("\xC2\xA0 x y\r\n")) == "x y");
  // splitlines vs universal newlines: \v splits only in splitlines mode; no trailing empty line.
  BOOST_TEST(split_lines("a\r\nb\vc\n", LineMode::splitlines).size() == 3u);
  BOOST_TEST(split_lines("a\r\nb\vc\n", LineMode::universal).size() == 2u);
  BOOST_TEST(split_lines("a\n\nb", LineMode::universal).size() == 3u);
  // latin-1 byte 0xE9 is U+00E9 (UTF-8 C3 A9).
  BOOST_TEST(latin1_to_utf8("caf\xE9") == "caf\xC3\xA9");
  BOOST_TEST(*parse_python_float(" 4.25 ") == 4.25);
  BOOST_TEST(!parse_python_float("4.2x").has_value());
  BOOST_TEST(word_count("a b c") == 3u);
  BOOST_TEST(word_count("") == 0u);
}

// Pair counts of the SentEval STS files (pairs with an empty gold score dropped).
BOOST_AUTO_TEST_CASE(sts_counts_on_real_data) {
  const auto senteval = vikcse::testing::data_dir() / "senteval";
  const std::vector<std::pair<std::string, std::size_t>> expected = {{"STS12", 3108},
                                                                     {"STS13", 1500},
                                                                     {"STS14", 3750},
                                                                     {"STS15", 3000},
                                                                     {"STS16", 1186},
                                                                     {"STSBenchmark", 1379},
                                                                     {"SICKRelatedness", 4927},
                                                                     {"STSBenchmark-dev", 1500},
                                                                     {"SICKRelatedness-dev", 500}};
  for (const auto& [name, count] : expected) {
    BOOST_TEST_CONTEXT(name) {
      const auto task = vikcse::read_sts_task(senteval, name);
      BOOST_TEST(task.size() == count);
      for (const auto& subset : task.subsets) {
        BOOST_TEST(subset.first.size() == subset.size());
        BOOST_TEST(subset.second.size() == subset.size());
      }
    }
  }
  const auto sts12 = vikcse::read_sts_task(senteval, "STS12");
  BOOST_TEST(sts12.subsets.size() == 5u);
  BOOST_TEST(sts12.subsets[0].name == "MSRpar");
  BOOST_TEST(sts12.subsets[0].size() == 750u);
  BOOST_TEST(sts12.subsets[3].name == "surprise.OnWN");
  // SentEval's sort: (words(s1), words(s2), score) non-decreasing.
  const auto& msrvid = sts12.subsets[1];
  for (std::size_t i = 1; i < msrvid.size(); ++i) {
    const auto prev = std::make_tuple(vikcse::detail::eval::word_count(msrvid.first[i - 1]),
                                      vikcse::detail::eval::word_count(msrvid.second[i - 1]), msrvid.gold[i - 1]);
    const auto cur = std::make_tuple(vikcse::detail::eval::word_count(msrvid.first[i]),
                                     vikcse::detail::eval::word_count(msrvid.second[i]), msrvid.gold[i]);
    BOOST_TEST((prev <= cur));
  }
  const auto sick = vikcse::read_sts_task(senteval, "SICKRelatedness");
  BOOST_TEST(sick.subsets[0].name == "test");
  // SICK test file uses CRLF: no '\r' may leak into a sentence.
  for (const auto& s : sick.subsets[0].second) BOOST_TEST(!contains(s, "\r"));
  BOOST_TEST(sick.subsets[0].gold.front() >= 1.0);
}

BOOST_AUTO_TEST_CASE(transfer_counts_on_real_data) {
  const auto senteval = vikcse::testing::data_dir() / "senteval";
  struct Want {
    std::string name;
    std::size_t train, dev, test;
    std::int64_t classes;
  };
  const std::vector<Want> wants = {{"MR", 10662, 0, 0, 2},        {"CR", 3775, 0, 0, 2},
                                   {"SUBJ", 10000, 0, 0, 2},      {"MPQA", 10606, 0, 0, 2},
                                   {"SST2", 67349, 872, 1821, 2}, {"SST5", 8544, 1101, 2210, 5},
                                   {"TREC", 5452, 0, 500, 6},     {"MRPC", 4076, 0, 1725, 2}};
  for (const auto& want : wants) {
    BOOST_TEST_CONTEXT(want.name) {
      const auto task = vikcse::read_transfer_task(senteval, want.name);
      BOOST_TEST(task.train.size() == want.train);
      BOOST_TEST(task.dev.size() == want.dev);
      BOOST_TEST(task.test.size() == want.test);
      BOOST_TEST(task.num_classes == want.classes);
      BOOST_TEST(task.train.first.size() == want.train);
      for (auto label : task.train.labels) BOOST_TEST((label >= 0 && label < want.classes));
    }
  }
  const auto mrpc = vikcse::read_transfer_task(senteval, "MRPC");
  BOOST_TEST(mrpc.pairs);
  BOOST_TEST(mrpc.test.second.size() == 1725u);
  const auto mr = vikcse::read_transfer_task(senteval, "MR");
  std::size_t positives = 0;
  for (auto label : mr.train.labels) positives += static_cast<std::size_t>(label);
  BOOST_TEST(positives == 5331u);
}

BOOST_AUTO_TEST_CASE(empty_gold_score_drops_the_pair) {
  TempSentEval dir;
  TempSentEval::write(dir.year() / "STS.input.FNWN.txt", "a b\tc d\nx  y\tz\nlong one here\tq\n");
  TempSentEval::write(dir.year() / "STS.gs.FNWN.txt", "4.0\n\n1.5\n");
  const auto pairs = vikcse::read_sts_subset(dir.year(), "FNWN");
  BOOST_TEST(pairs.size() == 2u);
  BOOST_TEST(pairs.first[0] == "a b");
  BOOST_TEST(pairs.first[1] == "long one here");
  BOOST_TEST(pairs.gold[1] == 1.5);
}

BOOST_AUTO_TEST_CASE(bad_input_errors_name_file_and_line) {
  TempSentEval dir;
  // Missing files.
  auto missing = error_message([&] { vikcse::read_sts_subset(dir.year(), "FNWN"); });
  BOOST_TEST(contains(missing, "STS.input.FNWN.txt"));
  BOOST_TEST(contains(missing, "cannot open"));
  BOOST_CHECK_THROW(vikcse::read_sts_task(dir.root, "STS13"), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::read_sts_task(dir.root, "STS99"), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::read_transfer_task(dir.root, "NOPE"), vikcse::invalid_argument);
  // A line without a tab.
  TempSentEval::write(dir.year() / "STS.input.FNWN.txt", "a\tb\nno tab here\n");
  TempSentEval::write(dir.year() / "STS.gs.FNWN.txt", "1\n2\n");
  auto no_tab = error_message([&] { vikcse::read_sts_subset(dir.year(), "FNWN"); });
  BOOST_TEST(contains(no_tab, "STS.input.FNWN.txt:2:"));
  // A score that is not a number.
  TempSentEval::write(dir.year() / "STS.input.FNWN.txt", "a\tb\nc\td\n");
  TempSentEval::write(dir.year() / "STS.gs.FNWN.txt", "1\nfour\n");
  auto bad_score = error_message([&] { vikcse::read_sts_subset(dir.year(), "FNWN"); });
  BOOST_TEST(contains(bad_score, "STS.gs.FNWN.txt:2:"));
  BOOST_TEST(contains(bad_score, "'four'"));
  // Line counts that differ.
  TempSentEval::write(dir.year() / "STS.gs.FNWN.txt", "1\n");
  auto count = error_message([&] { vikcse::read_sts_subset(dir.year(), "FNWN"); });
  BOOST_TEST(contains(count, "expected 2 score lines"));
  // STS-B with too few columns on line 2.
  const auto stsb = dir.root / "downstream" / "STS" / "STSBenchmark" / "sts-test.csv";
  TempSentEval::write(stsb, "g\tf\ty\t1\t4.0\ta b\tc d\ng\tf\ty\t2\t3.0\tonly six\n");
  auto short_line = error_message([&] { vikcse::read_sts_benchmark(dir.root, "test"); });
  BOOST_TEST(contains(short_line, "sts-test.csv:2:"));
  BOOST_TEST(contains(short_line, "at least 7"));
  // TREC with an unknown class.
  TempSentEval::write(dir.root / "downstream" / "TREC" / "train_5500.label", "HUM:ind Who is it ?\nFOO:bar What ?\n");
  TempSentEval::write(dir.root / "downstream" / "TREC" / "TREC_10.label", "NUM:date When ?\n");
  auto trec = error_message([&] { vikcse::read_transfer_task(dir.root, "TREC"); });
  BOOST_TEST(contains(trec, "train_5500.label:2:"));
  BOOST_TEST(contains(trec, "'FOO'"));
}
