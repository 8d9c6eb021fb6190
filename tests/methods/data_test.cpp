// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_data_test
#include <boost/test/unit_test.hpp>

#include <vikcse/train/data.hpp>

#include "support/test_data.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

// The training-data readers (line corpus, the reference's CSV-parsed corpus, supervised CSV) and
// the batch sources (shuffled batches, MCSE's mixed sampling).

namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("vikcse_data_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// The first field of each row of Python's own `csv` module (tab delimiter, `"` quotes), with an
/// empty field as " " and empty rows dropped: the independent reference of the CSV-compatible
/// reader, run now, on this machine. Rows come back hex-encoded, byte for byte, through a file in a
/// scratch directory (never beside `file`: the shared data may be read-only and is not ours to write).
std::vector<std::string> python_csv_rows(const fs::path& file) {
  const auto json_path = (temp_dir("python_csv") / (file.filename().string() + ".python.json")).string();
  const auto command = fmt::format(
      "/usr/bin/python3 -c \"import csv, json, sys; rows = csv.reader(open(sys.argv[1], newline='', "
      "encoding='utf-8', errors='surrogateescape'), delimiter='\\t', quotechar='\\\"'); "
      "json.dump([(r[0] or ' ').encode('utf-8', 'surrogateescape').hex() for r in rows if r], "
      "open(sys.argv[2], 'w'))\" '{}' '{}'",
      file.string(), json_path);
  BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "python3 csv reference failed: " << command);
  std::ifstream in(json_path);
  std::vector<std::string> rows;
  for (const auto& r : nlohmann::json::parse(in)) {
    const auto hex = r.get<std::string>();
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    rows.push_back(std::move(bytes));
  }
  return rows;
}

}  // namespace

BOOST_AUTO_TEST_CASE(csv_compatible_corpus_equals_python_csv) {
  const auto dir = temp_dir("csv");
  // Quote-initiated lines that swallow the next lines, doubled quotes, text after a closing quote,
  // quotes inside a field, CR LF, a blank line, a quoted empty field, and a quote open at the end.
  const std::string torture =
      "plain line\n"
      "\"quoted start swallows\nthe next line\" and keeps going\n"
      "a \"quote\" inside\r\n"
      "\"doubled \"\" quote\"\n"
      "\n"
      "\"\"\n"
      "ends with a quote\"\n"
      "Zürich café\n"
      "\"open quote runs\nto the end";
  std::ofstream(dir / "torture.txt", std::ios::binary) << torture;
  const auto ours = vikcse::read_corpus_csv_compatible(dir / "torture.txt");
  const auto python = python_csv_rows(dir / "torture.txt");
  BOOST_TEST(ours == python, boost::test_tools::per_element());
  BOOST_TEST(ours.size() == 8U);
  BOOST_TEST(ours[1] == "quoted start swallows\nthe next line and keeps going");
  // The real wiki1m subset: the reference's CSV parse keeps fewer rows than there are lines.
  const auto wiki = vikcse::testing::data_dir() / "corpora" / "wiki1m-subset.txt";
  const auto rows = vikcse::read_corpus_csv_compatible(wiki);
  const auto python_rows = python_csv_rows(wiki);
  BOOST_TEST(rows.size() == python_rows.size());
  BOOST_TEST(rows == python_rows);
  BOOST_TEST(rows.size() < vikcse::read_corpus(wiki, true).size());
  BOOST_CHECK_THROW(vikcse::read_corpus_csv_compatible(dir / "missing.txt"), vikcse::data_error);
  std::ofstream(dir / "blank.txt") << "\n\n";
  BOOST_CHECK_THROW(vikcse::read_corpus_csv_compatible(dir / "blank.txt"), vikcse::data_error);
  fs::remove_all(dir.parent_path());
}

BOOST_AUTO_TEST_CASE(data_readers_and_mixed_sampling) {
  const auto dir = temp_dir("data");
  std::ofstream(dir / "corpus.txt") << "first sentence\r\nsecond one\n\nfourth\n";
  try {
    vikcse::read_corpus(dir / "corpus.txt");
    BOOST_FAIL("an empty line must be an error");
  } catch (const vikcse::data_error& e) {
    BOOST_TEST(std::string(e.what()).find("corpus.txt:3: empty line") != std::string::npos, e.what());
  }
  std::size_t skipped = 0;
  const auto lines = vikcse::read_corpus(dir / "corpus.txt", true, &skipped);
  BOOST_TEST(lines.size() == 3U);
  BOOST_TEST(lines[0] == "first sentence");
  BOOST_TEST(skipped == 1U);
  std::ofstream(dir / "empty.txt") << "";
  BOOST_CHECK_THROW(vikcse::read_corpus(dir / "empty.txt"), vikcse::data_error);
  std::ofstream(dir / "nli.csv") << "sent0,sent1,hard_neg\n\"a, quoted\",b,c\n\"multi\nline\",\"say \"\"hi\"\"\",z\n";
  const auto t = vikcse::read_supervised_csv(dir / "nli.csv");
  BOOST_TEST(t.sent0.size() == 2U);
  BOOST_TEST(t.sent0[0] == "a, quoted");
  BOOST_TEST(t.sent0[1] == "multi\nline");
  BOOST_TEST(t.sent1[1] == "say \"hi\"");
  BOOST_TEST(t.hard_neg[1] == "z");
  std::ofstream(dir / "bad.csv") << "sent0,sent1,hard_neg\na,b\n";
  BOOST_CHECK_THROW(vikcse::read_supervised_csv(dir / "bad.csv"), vikcse::data_error);
  // Mixed sampling: T = 6 text batches, P = 2 paired -> k = 3, paired at steps 0, 3, 6.
  std::vector<std::string> kinds;
  auto make = [&](const char* kind, std::int64_t n) {
    return vikcse::BatchSource{n, [kind, &kinds](std::int64_t e, std::int64_t i) {
                                 kinds.push_back(fmt::format("{}{}:{}", kind, e, i));
                                 return vikcse::TrainingBatch{};
                               }};
  };
  const auto mixed = vikcse::mixed_batches(make("t", 6), make("p", 2));
  BOOST_TEST(mixed.steps_per_epoch == 8);
  for (std::int64_t s = 0; s < 8; ++s) mixed.batch(0, s);
  const std::vector<std::string> expected{"p0:0", "t0:0", "t0:1", "p0:1", "t0:2", "t0:3", "p1:0", "t0:4"};
  BOOST_TEST(kinds == expected, boost::test_tools::per_element());
  fs::remove_all(dir);
}

// MCSE's two loaders cycle forever: over several epochs the paired draws run through all P paired
// batches before any repeats (and likewise for text), also across epoch boundaries. Here T = 7,
// P = 2, k = 3: an epoch of 9 steps holds 3 paired draws, more than P, so an epoch-aligned restart
// would draw paired batches twice and skip text batches.
BOOST_AUTO_TEST_CASE(mixed_sampling_cycles_both_sources_across_epochs) {
  std::map<std::string, std::vector<std::int64_t>> draws;  // per source: pass * batches + index
  auto make = [&](const std::string& kind, std::int64_t n) {
    return vikcse::BatchSource{n, [kind, n, &draws](std::int64_t pass, std::int64_t i) {
                                 draws[kind].push_back(pass * n + i);
                                 return vikcse::TrainingBatch{};
                               }};
  };
  const auto mixed = vikcse::mixed_batches(make("text", 7), make("paired", 2));
  BOOST_REQUIRE(mixed.steps_per_epoch == 9);
  const std::int64_t epochs = 3;
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t s = 0; s < mixed.steps_per_epoch; ++s) mixed.batch(e, s);
  }
  // Draw n of a source is its n-th batch in cycling order: 0, 1, 2, ... with no gap or repeat.
  for (const auto& [kind, seq] : draws) {
    BOOST_TEST_CONTEXT(kind) {
      for (std::size_t n = 0; n < seq.size(); ++n) BOOST_TEST(seq[n] == static_cast<std::int64_t>(n));
    }
  }
  BOOST_TEST(draws["paired"].size() == 9U);  // steps 0, 3, 6 of each epoch
  BOOST_TEST(draws["text"].size() == 18U);
}
