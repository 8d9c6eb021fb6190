// SPDX-License-Identifier: Apache-2.0
// The retrieval metrics (vikcse/eval/retrieval_metrics.hpp) against an independent numpy
// implementation run here (tests/eval/reference/retrieval_metrics.py) on a small corpus with tied
// scores, on hand-computed cases, and the BEIR reader (vikcse/eval/retrieval_data.hpp): its rules and
// every error, each naming the file and line. Torch-free.
#define BOOST_TEST_MODULE eval_retrieval
#include <boost/test/unit_test.hpp>

#include <support/python_reference.hpp>
#include <vikcse/eval/retrieval_data.hpp>
#include <vikcse/eval/retrieval_metrics.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Rankings = std::vector<std::vector<std::size_t>>;
using Relevant = std::vector<std::set<std::size_t>>;

// Corpus rows by score, best first, equal scores in row order (the tie rule of semantic_search).
Rankings rank(const std::vector<std::vector<double>>& scores, std::size_t depth) {
  Rankings out;
  for (const auto& row : scores) {
    std::vector<std::size_t> order(row.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return row[a] > row[b]; });
    order.resize(std::min(depth, order.size()));
    out.push_back(order);
  }
  return out;
}

nlohmann::json cutoffs_json(const vikcse::RetrievalCutoffs& c) {
  return {{"accuracy", c.accuracy}, {"precision", c.precision}, {"recall", c.recall},
          {"mrr", c.mrr},           {"ndcg", c.ndcg},           {"map", c.map}};
}

// Ranks `scores` here and in numpy, requires the same rankings, and compares every metric.
void check_against_numpy(const std::vector<std::vector<double>>& scores, const Relevant& relevant,
                         const vikcse::RetrievalCutoffs& cutoffs, const std::string& name) {
  vikcse::testing::ScratchDir dir("vikcse-retrieval-metrics");
  nlohmann::json relevant_json = nlohmann::json::array();
  for (const auto& r : relevant) relevant_json.push_back(std::vector<std::size_t>(r.begin(), r.end()));
  const nlohmann::json input = {{"scores", scores}, {"relevant", relevant_json}, {"cutoffs", cutoffs_json(cutoffs)}};
  const auto ref = vikcse::testing::run_python_reference("eval", "retrieval_metrics.py", input, dir.path, name);
  const auto rankings = rank(scores, cutoffs.max_k());
  BOOST_TEST((ref.at("rankings").get<Rankings>() == rankings), name << ": numpy ranks the corpus differently");
  const auto m = vikcse::retrieval_metrics(rankings, relevant, cutoffs);
  BOOST_TEST(m.queries == scores.size());
  const auto& want = ref.at("metrics");
  std::size_t compared = 0;
  for (const auto& [family, values] : vikcse::metric_families(m)) {
    for (const auto& [k, value] : *values) {
      const auto key = fmt::format("{}@{}", family, k);
      BOOST_TEST_CONTEXT(name << " " << key) {
        BOOST_REQUIRE(want.contains(key));
        BOOST_TEST(std::abs(value - want.at(key).get<double>()) <= 1e-12);
      }
      ++compared;
    }
  }
  BOOST_TEST(compared == want.size());
}

// Reads `dir` expecting a data_error and returns its message.
std::string read_error(const fs::path& dir) {
  try {
    vikcse::read_beir_directory(dir);
  } catch (const vikcse::data_error& e) {
    return e.what();
  }
  BOOST_FAIL("read_beir_directory(" << dir.string() << ") did not throw");
  return {};
}

struct Beir {
  std::string queries =
      "{\"_id\": \"q1\", \"text\": \"who paints cars\"}\n"
      "{\"_id\": \"q2\", \"text\": \"a dog with a ball\"}\n";
  std::string corpus =
      "{\"_id\": \"d1\", \"title\": \"Cars\", \"text\": \"a man paints a car\"}\n"
      "{\"_id\": \"d2\", \"title\": \"\", \"text\": \"the dog carries a ball\"}\n"
      "{\"_id\": \"d3\", \"text\": \"a cat sleeps\"}\n";
  std::string qrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n";
  bool with_qrels = true;
};

fs::path write_beir(const fs::path& root, const std::string& name, const Beir& b) {
  const auto dir = root / name;
  fs::create_directories(dir / "qrels");
  std::ofstream(dir / "queries.jsonl", std::ios::binary) << b.queries;
  std::ofstream(dir / "corpus.jsonl", std::ios::binary) << b.corpus;
  if (b.with_qrels) std::ofstream(dir / "qrels" / "test.tsv", std::ios::binary) << b.qrels;
  return dir;
}

// True when `message` names `file` at `line` (`path:line:`) and holds `expected`.
bool names(const std::string& message, const fs::path& file, std::size_t line, const std::string& expected) {
  const auto where = line == 0 ? file.string() + ":" : fmt::format("{}:{}:", file.string(), line);
  return message.find(where) != std::string::npos && message.find(expected) != std::string::npos;
}

}  // namespace

// 20 queries x 200 documents with integer scores (many ties), relevant sets of 1..12 documents (so
// @10 and @100 differ), one query whose relevant documents get no boost (hits deep in the ranking).
BOOST_AUTO_TEST_CASE(metrics_equal_the_numpy_reference) {
  std::mt19937 rng(20240611);
  const std::size_t queries = 20, docs = 200;
  std::vector<std::vector<double>> scores(queries, std::vector<double>(docs));
  Relevant relevant(queries);
  for (std::size_t q = 0; q < queries; ++q) {
    const std::size_t size = 1 + q % 12;
    while (relevant[q].size() < size) relevant[q].insert(std::uniform_int_distribution<std::size_t>(0, docs - 1)(rng));
    for (std::size_t d = 0; d < docs; ++d) {
      const bool boost = relevant[q].contains(d) && q != 7;
      scores[q][d] = static_cast<double>(std::uniform_int_distribution<int>(0, 40)(rng) +
                                         (boost ? std::uniform_int_distribution<int>(0, 30)(rng) : 0));
    }
  }
  const vikcse::RetrievalCutoffs cutoffs;
  check_against_numpy(scores, relevant, cutoffs, "corpus200");
  // The case exercises what it should: ties among the ranked hits, @100 above @10.
  const auto rankings = rank(scores, 100);
  std::size_t ties = 0;
  for (std::size_t q = 0; q < queries; ++q) {
    for (std::size_t i = 1; i < 100; ++i) ties += scores[q][rankings[q][i]] == scores[q][rankings[q][i - 1]] ? 1 : 0;
  }
  BOOST_TEST(ties > 100u);
  const auto m = vikcse::retrieval_metrics(rankings, relevant, cutoffs);
  BOOST_TEST(m.recall.at(100) > m.recall.at(10));
  BOOST_TEST(m.mrr.at(10) > 0.0);
  BOOST_TEST(m.mrr.at(10) < 1.0);

  // A corpus smaller than the cut-offs: Precision@k still divides by k, every metric as numpy's.
  std::vector<std::vector<double>> small = {{3, 1, 3, 0, 2, 2, 1}, {0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4, 5, 6, 7}};
  const Relevant small_relevant = {{2, 5}, {6}, {0, 1, 2, 3, 4, 5, 6}};
  vikcse::RetrievalCutoffs wide;
  wide.accuracy = {1, 3, 10};
  wide.precision = {1, 3, 10, 100};
  wide.recall = {2, 7, 100};
  wide.mrr = {1, 10};
  wide.ndcg = {3, 10};
  wide.map = {3, 100};
  check_against_numpy(small, small_relevant, wide, "corpus7");
}

// Cases worked out by hand from the definitions.
BOOST_AUTO_TEST_CASE(hand_computed_cases) {
  // First relevant hit at rank 3.
  const Rankings third = {{5, 7, 2, 9, 11, 1}};
  const Relevant r2 = {{2}};
  auto m = vikcse::retrieval_metrics(third, r2);
  BOOST_TEST(m.mrr.at(10) == 1.0 / 3);
  BOOST_TEST(m.accuracy.at(1) == 0.0);
  BOOST_TEST(m.accuracy.at(5) == 1.0);
  BOOST_TEST(m.precision.at(1) == 0.0);
  BOOST_TEST(m.precision.at(5) == 1.0 / 5);
  BOOST_TEST(m.recall.at(1) == 0.0);
  BOOST_TEST(m.recall.at(5) == 1.0);
  BOOST_TEST(std::abs(m.ndcg.at(10) - 0.5) < 1e-15);  // (1 / log2 4) / (1 / log2 2)
  BOOST_TEST(m.map.at(100) == 1.0 / 3);

  // Two relevant documents at ranks 1 and 3.
  m = vikcse::retrieval_metrics(Rankings{{4, 0, 8, 3}}, Relevant{{4, 8}});
  BOOST_TEST(std::abs(m.map.at(100) - (1.0 + 2.0 / 3) / 2) < 1e-15);
  BOOST_TEST(std::abs(m.ndcg.at(10) - (1.0 + 0.5) / (1.0 + 1.0 / std::log2(3.0))) < 1e-15);
  BOOST_TEST(m.mrr.at(10) == 1.0);
  BOOST_TEST(m.precision.at(5) == 2.0 / 5);  // only 4 hits: still / 5

  // The only relevant document at rank 50: nothing within 10, all of it within 100.
  Rankings deep(1);
  for (std::size_t i = 0; i < 120; ++i) deep[0].push_back(1000 + i);
  deep[0][49] = 7;
  m = vikcse::retrieval_metrics(deep, Relevant{{7}});
  BOOST_TEST(m.mrr.at(10) == 0.0);
  BOOST_TEST(m.ndcg.at(10) == 0.0);
  BOOST_TEST(m.recall.at(10) == 0.0);
  BOOST_TEST(m.recall.at(100) == 1.0);
  BOOST_TEST(m.map.at(100) == 1.0 / 50);

  // 15 relevant documents ranked 1..15: MAP@100 divides by min(100, 15) = 15, NDCG@10's ideal has 10
  // ones, Recall@10 = 10/15; MAP@10 divides by min(10, 15) = 10.
  Rankings fifteen(1);
  Relevant all15(1);
  for (std::size_t i = 0; i < 30; ++i) fifteen[0].push_back(i);
  for (std::size_t i = 0; i < 15; ++i) all15[0].insert(i);
  vikcse::RetrievalCutoffs c;
  c.map = {10, 100};
  m = vikcse::retrieval_metrics(fifteen, all15, c);
  BOOST_TEST(m.map.at(100) == 1.0);
  BOOST_TEST(m.map.at(10) == 1.0);
  BOOST_TEST(std::abs(m.ndcg.at(10) - 1.0) < 1e-15);
  BOOST_TEST(m.precision.at(10) == 1.0);
  BOOST_TEST(m.recall.at(10) == 10.0 / 15);
  BOOST_TEST(m.recall.at(100) == 1.0);

  // Means over queries: one perfect query and one that misses.
  m = vikcse::retrieval_metrics(Rankings{{1, 2}, {3, 4}}, Relevant{{1}, {9}});
  BOOST_TEST(m.queries == 2u);
  BOOST_TEST(m.mrr.at(10) == 0.5);
  BOOST_TEST(m.accuracy.at(1) == 0.5);
  BOOST_TEST(m.ndcg.at(10) == 0.5);
}

BOOST_AUTO_TEST_CASE(metric_arguments_are_checked) {
  BOOST_CHECK_THROW(vikcse::retrieval_metrics(Rankings{{1}}, Relevant{}), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::retrieval_metrics(Rankings{}, Relevant{}), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::retrieval_metrics(Rankings{{1, 2}}, Relevant{{}}), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::retrieval_metrics(Rankings{{1, 2, 1}}, Relevant{{1}}), vikcse::invalid_argument);
  vikcse::RetrievalCutoffs zero;
  zero.recall = {0};
  BOOST_CHECK_THROW(vikcse::retrieval_metrics(Rankings{{1}}, Relevant{{1}}, zero), vikcse::invalid_argument);
  BOOST_TEST(vikcse::RetrievalCutoffs{}.max_k() == 100u);
  BOOST_CHECK_THROW((void)vikcse::metric_family(vikcse::RetrievalMetrics{}, "f1"), vikcse::invalid_argument);
}

// The layout's rules: title + " " + text for a non-empty title, integer ids, score 0 not relevant,
// queries without a relevant document left out, CRLF, a BOM and trailing empty lines.
BOOST_AUTO_TEST_CASE(reader_follows_the_beir_layout) {
  vikcse::testing::ScratchDir root("vikcse-beir");
  Beir b;
  b.queries =
      "\xEF\xBB\xBF{\"_id\": \"q1\", \"text\": \"who paints cars\"}\r\n"
      "{\"_id\": 2, \"text\": \"a dog with a ball\", \"metadata\": {}}\r\n"
      "{\"_id\": \"q3\", \"text\": \"unjudged\"}\r\n"
      "{\"_id\": \"q4\", \"text\": \"judged, nothing relevant\"}\r\n\r\n  \n";
  b.corpus += "{\"_id\": \"d4\", \"title\": null, \"text\": \"a chef plays guitar\"}\n\n";
  b.qrels = "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\n2\td2\t2\r\n2\td3\t0\r\nq4\td3\t0\r\nq1\td4\t1.5\r\n";
  const auto data = vikcse::read_beir_directory(write_beir(root.path, "toy", b));
  BOOST_TEST(data.name == "toy");
  BOOST_TEST(data.queries_in_file == 4u);
  BOOST_TEST(data.judgements == 5u);
  BOOST_TEST(data.query_ids == (std::vector<std::string>{"q1", "2"}), boost::test_tools::per_element());
  BOOST_TEST(data.queries == (std::vector<std::string>{"who paints cars", "a dog with a ball"}),
             boost::test_tools::per_element());
  BOOST_TEST(data.corpus_ids == (std::vector<std::string>{"d1", "d2", "d3", "d4"}), boost::test_tools::per_element());
  BOOST_TEST(data.documents == (std::vector<std::string>{"Cars a man paints a car", "the dog carries a ball",
                                                         "a cat sleeps", "a chef plays guitar"}),
             boost::test_tools::per_element());
  BOOST_TEST((data.relevant == Relevant{{0, 3}, {1}}));
  BOOST_TEST(vikcse::beir_document_text("T", "x") == "T x");
  BOOST_TEST(vikcse::beir_document_text("", "x") == "x");
  // A directory given with a trailing slash keeps its name.
  BOOST_TEST(vikcse::read_beir_directory(root.path.string() + "/toy/").name == "toy");
}

// Every malformed input is a data_error naming the file and the line, with what was expected.
BOOST_AUTO_TEST_CASE(reader_errors_name_file_and_line) {
  vikcse::testing::ScratchDir root("vikcse-beir-errors");
  int n = 0;
  // Writes a variant of the good set and returns (its directory, the error message).
  auto error = [&](const Beir& b) {
    const auto dir = write_beir(root.path, fmt::format("case{}", n++), b);
    return std::make_pair(dir, read_error(dir));
  };
  auto q = [](const fs::path& d) { return d / "queries.jsonl"; };
  auto c = [](const fs::path& d) { return d / "corpus.jsonl"; };
  auto t = [](const fs::path& d) { return d / "qrels" / "test.tsv"; };
  {
    Beir b;
    b.with_qrels = false;
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 0, "missing; a BEIR retrieval directory holds queries.jsonl, corpus.jsonl and"), e);
  }
  {
    Beir b;
    b.corpus = "";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 0, "found an empty file (no documents: the corpus is empty)"), e);
  }
  {
    Beir b;
    b.queries = "\n\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, q(dir), 0, "found an empty file (no queries)"), e);
  }
  {
    Beir b;
    b.corpus += "{\"_id\": \"d2\", \"text\": \"again\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 4, "expected unique \"_id\"s, found \"d2\" again (first on line 2)"), e);
  }
  {
    Beir b;
    b.queries += "{\"_id\": \"q1\", \"text\": \"again\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, q(dir), 3, "found \"q1\" again (first on line 1)"), e);
  }
  {
    Beir b;
    b.corpus = "{\"_id\": \"d1\", \"text\": \"fine\"}\n{\"_id\": \"d2\", \"text\": \"broken}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 2, "expected one JSON object per line, found invalid JSON"), e);
  }
  {
    Beir b;
    b.queries = "[\"q1\", \"text\"]\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, q(dir), 1, "expected a JSON object {\"_id\": ..., \"text\": ...}, found array"), e);
  }
  {
    Beir b;
    b.queries = "{\"_id\": \"q1\", \"text\": \"x\"}\n{\"id\": \"q2\", \"text\": \"y\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, q(dir), 2, "expected a \"_id\" key, found the keys \"id\", \"text\""), e);
  }
  {
    Beir b;
    b.corpus = "{\"_id\": \"d1\", \"title\": \"t\", \"body\": \"x\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 1, "expected a \"text\" key, found the keys \"_id\", \"body\", \"title\""), e);
  }
  {
    Beir b;
    b.corpus = "{\"_id\": \"d1\", \"text\": 5}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 1, "expected \"text\" to be a string, found number 5"), e);
  }
  {
    Beir b;
    b.corpus = "{\"_id\": 1.5, \"text\": \"x\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, c(dir), 1, "expected \"_id\" to be a string or an integer, found number 1.5"), e);
  }
  {
    Beir b;
    b.queries = "{\"_id\": \"q1\", \"text\": \"x\"}\n\n{\"_id\": \"q2\", \"text\": \"y\"}\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, q(dir), 2, "found an empty line (more data follows on line 3"), e);
  }
  {
    Beir b;
    b.qrels = "q1\td1\t1\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 1, "expected the header 'query-id<TAB>corpus-id<TAB>score', found 'q1"), e);
  }
  {
    Beir b;
    b.qrels = "";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 0, "found an empty file"), e);
  }
  {
    Beir b;
    b.qrels = "query-id\tcorpus-id\tscore\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 0, "expected judgements after the header, found none"), e);
  }
  {
    Beir b;
    b.qrels += "q1\td3\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "expected 3 tab-separated columns (query-id, corpus-id, score), found 2"), e);
  }
  {
    Beir b;
    b.qrels += "q1\td3\t1\textra\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "expected 3 tab-separated columns (query-id, corpus-id, score), found 4"), e);
  }
  for (const std::string score : {"high", "nan", "inf", ""}) {
    Beir b;
    b.qrels += "q1\td3\t" + score + "\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "expected a finite number as score (column 3), found '" + score + "'"), e);
  }
  {
    Beir b;
    b.qrels += "q9\td3\t1\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "expected a query-id of " + q(dir).string() + ", found 'q9', which is not there"),
               e);
  }
  {
    Beir b;
    b.qrels += "q2\td9\t1\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "expected a corpus-id of " + c(dir).string() + ", found 'd9', which is not there"),
               e);
  }
  {
    Beir b;
    b.qrels += "q1\td1\t0\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 4, "found 'q1', 'd1' again (first on line 2)"), e);
  }
  {
    Beir b;
    b.qrels = "query-id\tcorpus-id\tscore\nq1\td1\t0\nq2\td2\t-1\n";
    const auto [dir, e] = error(b);
    BOOST_TEST(names(e, t(dir), 0, "expected at least one query with a relevant document (score > 0), found none"), e);
  }
}
