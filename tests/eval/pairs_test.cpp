// SPDX-License-Identifier: Apache-2.0
// The pairs TSV reader (vikcse/eval/pairs.hpp) with and without a header and on every malformed
// input, and evaluate_pairs on a tiny embedder: its Spearman and Pearson are the existing correlation
// functions (correlation.hpp) of the existing cosine (sts.hpp) against the gold scores.
#define BOOST_TEST_MODULE eval_pairs
#include <boost/test/unit_test.hpp>

#include <support/python_reference.hpp>
#include <vikcse/eval/correlation.hpp>
#include <vikcse/eval/pairs.hpp>
#include <vikcse/eval/sts.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

fs::path write(const fs::path& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read_error(const fs::path& path) {
  try {
    vikcse::read_pairs_file(path);
  } catch (const vikcse::data_error& e) {
    return e.what();
  }
  BOOST_FAIL("read_pairs_file(" << path.string() << ") did not throw");
  return {};
}

// A deterministic toy embedder: letter counts of a few letters, the length and a constant.
torch::Tensor toy_embed(const std::vector<std::string>& sentences) {
  std::vector<torch::Tensor> rows;
  for (const auto& s : sentences) {
    std::vector<float> v = {1.0F, static_cast<float>(s.size()) / 10.0F};
    for (const char letter : std::string("aeiost"))
      v.push_back(static_cast<float>(std::count(s.begin(), s.end(), letter)));
    rows.push_back(torch::tensor(v));
  }
  return torch::stack(rows);
}

const std::string kPairs =
    "a man paints a car\ta man is painting a car\t4.8\n"
    "the dog carries a ball\ta cat sleeps at home\t0.4\n"
    "a woman eats an apple\ta woman is eating\t3.6\n"
    "a chef plays guitar\tthe child throws a book\t0.0\n"
    "the child throws a book\tthe child tosses a book\t4.2\n"
    "a cat sleeps at home\ta cat is asleep in the house\t3.9\n"
    "the dog carries a ball\tthe dog carries a ball\t5\n"
    "a man paints a car\ta woman eats an apple\t1.2\n";

}  // namespace

BOOST_AUTO_TEST_CASE(reads_with_and_without_a_header) {
  vikcse::testing::ScratchDir dir("vikcse-pairs");
  const auto plain = vikcse::read_pairs_file(write(dir.path, "plain.tsv", kPairs));
  BOOST_TEST(plain.name == "plain");
  BOOST_TEST(!plain.header);
  BOOST_TEST(plain.size() == 8u);
  BOOST_TEST(plain.first.at(0) == "a man paints a car");
  BOOST_TEST(plain.second.at(5) == "a cat is asleep in the house");
  BOOST_TEST(plain.gold.at(6) == 5.0);
  // A header row, Windows line ends and trailing empty lines: the same pairs.
  std::string crlf = "sentence1\tsentence2\tscore\r\n";
  for (std::size_t start = 0, end; (end = kPairs.find('\n', start)) != std::string::npos; start = end + 1) {
    crlf += kPairs.substr(start, end - start) + "\r\n";
  }
  const auto headed = vikcse::read_pairs_file(write(dir.path, "headed.tsv", crlf + "\r\n\r\n"));
  BOOST_TEST(headed.header);
  BOOST_TEST(headed.first == plain.first, boost::test_tools::per_element());
  BOOST_TEST(headed.second == plain.second, boost::test_tools::per_element());
  BOOST_TEST(headed.gold == plain.gold, boost::test_tools::per_element());
  // Scores in any numeric form.
  const auto forms = vikcse::read_pairs_file(write(dir.path, "forms.tsv", "a\tb\t-1e-1\nc\td\t +2 \n"));
  BOOST_TEST(forms.gold == (std::vector<double>{-0.1, 2.0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_input_names_file_and_line) {
  vikcse::testing::ScratchDir dir("vikcse-pairs-errors");
  auto check = [&](const std::string& name, const std::string& text, const std::string& where,
                   const std::string& expected) {
    const auto path = write(dir.path, name, text);
    const auto e = read_error(path);
    BOOST_TEST(e.find(path.string() + where) != std::string::npos, e);
    BOOST_TEST(e.find(expected) != std::string::npos, e);
  };
  check("missing.tsv", "a\tb\t1\nc\td\n",
        ":2:", "expected 3 tab-separated columns (sentence1, sentence2, score), found 2");
  check("extra.tsv", "a\tb\t1\tx\nc\td\t2\n",
        ":1:", "expected 3 tab-separated columns (sentence1, sentence2, score), found 4");
  check("word.tsv", "s1\ts2\tscore\na\tb\t1\nc\td\thigh\n",
        ":3:", "expected a number as score (column 3), found 'high'");
  // Only the first row can be a header.
  check("late_header.tsv", "a\tb\t1\ns1\ts2\tscore\nc\td\t2\n",
        ":2:", "expected a number as score (column 3), found 'score'");
  check("nan.tsv", "a\tb\t1\nc\td\tnan\n", ":2:", "expected a finite number as score (column 3), found 'nan'");
  check("inf.tsv", "a\tb\t-inf\nc\td\t1\n", ":1:", "expected a finite number as score (column 3), found '-inf'");
  check("empty.tsv", "", ":", "found an empty file");
  check("blank.tsv", "\n \n", ":", "found an empty file");
  check("header_only.tsv", "s1\ts2\tscore\n", ":",
        "expected at least 2 sentence pairs for a correlation, found 0 "
        "(after the header row)");
  check("one.tsv", "a\tb\t1\n", ":", "expected at least 2 sentence pairs for a correlation, found 1");
  check("constant.tsv", "a\tb\t3\nc\td\t3\ne\tf\t3\n", ":",
        "expected at least two different gold scores for a correlation, found 3 pairs all scored 3");
  check("gap.tsv", "a\tb\t1\n\nc\td\t2\n", ":2:", "found an empty line (more data follows on line 3");
  const auto e = read_error(dir.path / "absent.tsv");
  BOOST_TEST(e.find("absent.tsv: cannot open file") != std::string::npos, e);
}

// evaluate_pairs = Spearman / Pearson (correlation.hpp) of the STS cosine (sts.hpp) of the two
// sentences' embeddings against the gold scores, in both cosine precisions; encoding both columns in
// one deduplicated call gives the rows of encoding each column alone.
BOOST_AUTO_TEST_CASE(correlations_are_the_existing_functions) {
  vikcse::testing::ScratchDir dir("vikcse-pairs-eval");
  const auto data = vikcse::read_pairs_file(write(dir.path, "toy.tsv", kPairs));
  const auto first = toy_embed(data.first);
  const auto second = toy_embed(data.second);
  for (const auto precision : {vikcse::CosinePrecision::float32, vikcse::CosinePrecision::float64}) {
    BOOST_TEST_CONTEXT(vikcse::to_string(precision)) {
      const auto cos = vikcse::detail::eval::senteval_cosines(first, second, precision);
      vikcse::EncodeOptions encode;
      encode.batch_size = 3;
      const auto r = vikcse::evaluate_pairs(data, vikcse::Embedder(toy_embed), encode, {.cosine = precision});
      BOOST_TEST(r.name == "toy");
      BOOST_TEST(r.n == 8u);
      BOOST_TEST(r.spearman == vikcse::spearman(cos, data.gold));
      BOOST_TEST(r.pearson == vikcse::pearson(cos, data.gold));
      BOOST_TEST((r.cosine == precision));
      const auto from_tensors = vikcse::evaluate_pairs(data, first, second, {.cosine = precision});
      BOOST_TEST(from_tensors.spearman == r.spearman);
      BOOST_TEST(from_tensors.pearson == r.pearson);
      BOOST_TEST(r.spearman > 0.3);  // letter counts do track these toy paraphrases
    }
  }
  BOOST_CHECK_THROW(vikcse::evaluate_pairs(data, first, second.narrow(0, 0, 4)), vikcse::invalid_argument);
}
