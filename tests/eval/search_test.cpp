// SPDX-License-Identifier: Apache-2.0
// The search layer (vikcse/search): cos_sim and dot_score against a float64 reference written out
// here, and semantic_search against brute force — exactly on integer-valued embeddings (every dot
// product is exact in float32, so ties are real ties), for every chunking; within a derived bound
// on random float embeddings.
#define BOOST_TEST_MODULE search_test
#include <boost/test/unit_test.hpp>

#include <vikcse/search/semantic_search.hpp>
#include <vikcse/search/similarity.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace {

/// float64 cosine and dot of row i of a and row j of b, by explicit sums.
double dot64(const torch::Tensor& a, std::int64_t i, const torch::Tensor& b, std::int64_t j) {
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  double s = 0;
  for (std::int64_t d = 0; d < a.size(1); ++d) s += x[i][d].item<double>() * y[j][d].item<double>();
  return s;
}
double cos64(const torch::Tensor& a, std::int64_t i, const torch::Tensor& b, std::int64_t j) {
  const double n = std::sqrt(dot64(a, i, a, i)) * std::sqrt(dot64(b, j, b, j));
  return n > 0 ? dot64(a, i, b, j) / n : 0.0;
}

/// Brute force: every score of query q, ranked by (score descending, index ascending).
std::vector<std::pair<double, std::int64_t>> ranked(const torch::Tensor& q, std::int64_t row, const torch::Tensor& c,
                                                    bool cosine) {
  std::vector<std::pair<double, std::int64_t>> all;
  for (std::int64_t j = 0; j < c.size(0); ++j) all.emplace_back(cosine ? cos64(q, row, c, j) : dot64(q, row, c, j), j);
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  return all;
}

// float32 error of a cosine of unit-normalised D-dim vectors: the normalisation (a square root and
// a division, ~2 eps each) and the D-term sum (D eps) each contribute at most their count times
// eps32 of the magnitude 1, so (D + 4) eps32 bounds it; D = 16 gives 2.4e-6.
constexpr std::int64_t kDim = 16;
const double kCosBound = (kDim + 4) * std::numeric_limits<float>::epsilon();

}  // namespace

BOOST_AUTO_TEST_CASE(cos_sim_and_dot_score_match_float64_sums) {
  torch::manual_seed(1);
  const auto a = torch::randn({5, kDim});
  auto b = torch::randn({7, kDim});
  b[3].zero_();  // a zero row scores 0, not NaN
  const auto c = vikcse::cos_sim(a, b);
  const auto d = vikcse::dot_score(a, b);
  BOOST_TEST((c.sizes() == torch::IntArrayRef{5, 7}));
  double worst_cos = 0, worst_dot = 0;
  for (std::int64_t i = 0; i < 5; ++i) {
    for (std::int64_t j = 0; j < 7; ++j) {
      worst_cos = std::max(worst_cos, std::abs(c[i][j].item<double>() - cos64(a, i, b, j)));
      // a dot product of D terms of size |a_d b_d|: its float32 error is at most D eps32 sum|a_d b_d|
      double mag = 0;
      for (std::int64_t k = 0; k < kDim; ++k) mag += std::abs(a[i][k].item<double>() * b[j][k].item<double>());
      worst_dot = std::max(worst_dot, std::abs(d[i][j].item<double>() - dot64(a, i, b, j)) / (mag + 1e-30));
    }
  }
  BOOST_TEST_MESSAGE("max |cos - float64| = " << worst_cos << ", max relative dot error = " << worst_dot);
  BOOST_TEST(worst_cos <= kCosBound);
  BOOST_TEST(worst_dot <= kDim * std::numeric_limits<float>::epsilon());
  BOOST_TEST(c[0][3].item<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(semantic_search_equals_brute_force_with_ties_for_every_chunking) {
  // Entries in {-2..2}, 4 dims: 625 possible rows for 300 corpus rows, so many rows repeat and many
  // scores tie; every product and sum is a small integer, exact in float32.
  torch::manual_seed(2);
  const auto corpus = torch::randint(-2, 3, {300, 4}).to(torch::kFloat);
  const auto queries = torch::randint(-2, 3, {13, 4}).to(torch::kFloat);
  const std::int64_t k = 25;
  std::vector<std::vector<std::pair<double, std::int64_t>>> want;
  for (std::int64_t q = 0; q < queries.size(0); ++q) want.push_back(ranked(queries, q, corpus, false));
  std::size_t ties = 0;
  for (const auto& w : want) {
    for (std::size_t r = 0; r + 1 < static_cast<std::size_t>(k); ++r) ties += w[r].first == w[r + 1].first;
  }
  BOOST_TEST_MESSAGE(ties << " tied neighbours among the expected top " << k);
  BOOST_TEST(ties > 50U);  // the check is about ties
  const std::vector<std::pair<std::int64_t, std::int64_t>> chunkings = {{1, 1}, {3, 7}, {5, 64}, {100, 500000}};
  for (const auto& [qc, cc] : chunkings) {
    const auto hits = vikcse::semantic_search(
        queries, corpus,
        {.top_k = k, .score = vikcse::ScoreFunction::dot, .query_chunk_size = qc, .corpus_chunk_size = cc});
    BOOST_TEST((hits.indices.sizes() == torch::IntArrayRef{13, k}));
    for (std::int64_t q = 0; q < queries.size(0); ++q) {
      for (std::int64_t r = 0; r < k; ++r) {
        const auto& [score, index] = want[static_cast<std::size_t>(q)][static_cast<std::size_t>(r)];
        BOOST_TEST(hits.indices[q][r].item<std::int64_t>() == index, "chunks " << qc << "x" << cc << " q " << q);
        BOOST_TEST(hits.scores[q][r].item<double>() == score);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(semantic_search_cosine_matches_brute_force_within_the_float_bound) {
  torch::manual_seed(3);
  const auto corpus = torch::randn({400, kDim});
  const auto queries = torch::randn({9, kDim}) * 3.0;  // the scale must not matter
  const std::int64_t k = 10;
  const auto hits = vikcse::semantic_search(queries, corpus, {.top_k = k, .corpus_chunk_size = 37});
  std::size_t compared = 0;
  for (std::int64_t q = 0; q < queries.size(0); ++q) {
    const auto want = ranked(queries, q, corpus, true);
    for (std::int64_t r = 0; r < k; ++r) {
      const auto& [score, index] = want[static_cast<std::size_t>(r)];
      BOOST_TEST(std::abs(hits.scores[q][r].item<double>() - score) <= kCosBound);
      // The rank is decided only where the float64 gaps to both neighbours exceed twice the bound.
      const bool decided = (r == 0 || want[r - 1].first - score > 2 * kCosBound) &&
                           score - want[static_cast<std::size_t>(r) + 1].first > 2 * kCosBound;
      if (decided) {
        BOOST_TEST(hits.indices[q][r].item<std::int64_t>() == index);
        ++compared;
      }
    }
  }
  BOOST_TEST(compared > 80U);
}

BOOST_AUTO_TEST_CASE(semantic_search_clamps_k_and_names_bad_input) {
  const auto corpus = torch::randn({4, 3});
  const auto queries = torch::randn({2, 3});
  const auto hits = vikcse::semantic_search(queries, corpus, {.top_k = 10});
  BOOST_TEST((hits.indices.sizes() == torch::IntArrayRef{2, 4}));  // at most the corpus size
  const auto empty = vikcse::semantic_search(queries, torch::empty({0, 3}));
  BOOST_TEST((empty.indices.sizes() == torch::IntArrayRef{2, 0}));
  auto expect = [](const std::function<void()>& f, const std::string& part) {
    try {
      f();
      BOOST_ERROR("no error, expected one naming: " << part);
    } catch (const vikcse::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(part) != std::string::npos, e.what());
    }
  };
  expect([&] { vikcse::semantic_search(queries, torch::randn({4, 5})); }, "dimensions 3 and 5");
  expect([&] { vikcse::semantic_search(queries, corpus, {.top_k = 0}); }, "top_k (0)");
  auto bad = corpus.clone();
  bad[1][2] = std::nan("");
  expect([&] { vikcse::semantic_search(queries, bad); }, "corpus embeddings hold NaN");
  expect([&] { vikcse::cos_sim(torch::randn({3}), corpus); }, "1 dimensions");
}
