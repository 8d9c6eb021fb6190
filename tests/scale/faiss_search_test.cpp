// SPDX-License-Identifier: Apache-2.0
// faiss_semantic_search (vikcse/search/faiss_search.hpp) against the exact semantic_search: the
// same hits bit for bit on integer-valued embeddings full of ties (dot products of small integers
// are exact in float32 in any summation order, so ties are real), including the rows that fall
// back to exact search when a tie fills the window; the same ranked scores within a derived
// float32 bound on random embeddings, and the same rows wherever neighbouring scores are further
// apart than that bound.
#define BOOST_TEST_MODULE scale_faiss_search_test
#include <boost/test/unit_test.hpp>

#include <vikcse/search/faiss_search.hpp>
#include <vikcse/search/semantic_search.hpp>

#include <torch/torch.h>

#include <cmath>
#include <string>

static_assert(VIKCSE_HAS_FAISS_SEARCH == 1, "the test links vikcse::faiss, so FAISS headers must be found");

BOOST_AUTO_TEST_CASE(ties_on_integer_embeddings_go_to_the_lower_row_as_in_exact_search) {
  torch::manual_seed(0);
  const auto corpus = torch::randint(-2, 3, {300, 8}).to(torch::kFloat);
  const auto queries = torch::randint(-2, 3, {40, 8}).to(torch::kFloat);
  for (const std::int64_t window : {1, 4, 16, 400}) {
    for (const std::int64_t k : {1, 5, 50, 300}) {
      vikcse::SemanticSearchOptions o;
      o.top_k = k;
      o.score = vikcse::ScoreFunction::dot;
      o.query_chunk_size = 7;
      const auto exact = vikcse::semantic_search(queries, corpus, o);
      const auto got = vikcse::faiss_semantic_search(queries, corpus, o, {.tie_window = window});
      BOOST_TEST_INFO("window " << window << ", k " << k);
      BOOST_TEST(torch::equal(got.indices, exact.indices));
      BOOST_TEST(torch::equal(got.scores, exact.scores));
    }
  }
}

// Bound: a float32 cosine of unit rows of width D computed by any summation order is within
// ~sqrt(D) * eps32 of exact per computation (the probabilistic model of tests/support/float_bounds.hpp),
// and normalising each row adds as much again: 4 sqrt(D) eps32 between the two paths.
BOOST_AUTO_TEST_CASE(random_embeddings_give_the_exact_ranking_within_float_rounding) {
  torch::manual_seed(1);
  const std::int64_t d = 48;
  const auto corpus = torch::randn({3000, d});
  const auto queries = torch::randn({64, d});
  const double bound = 4 * std::sqrt(static_cast<double>(d)) * 0x1p-23;
  for (const auto score : {vikcse::ScoreFunction::cosine, vikcse::ScoreFunction::dot}) {
    vikcse::SemanticSearchOptions o;
    o.top_k = 20;
    o.score = score;
    const auto exact = vikcse::semantic_search(queries, corpus, o);
    const auto got = vikcse::faiss_semantic_search(queries, corpus, o);
    const double scale = score == vikcse::ScoreFunction::dot ? exact.scores.abs().max().item<double>() : 1.0;
    BOOST_TEST((got.scores - exact.scores).abs().max().item<double>() <= bound * scale);
    std::int64_t separated = 0;
    for (std::int64_t q = 0; q < queries.size(0); ++q) {
      for (std::int64_t j = 0; j < o.top_k; ++j) {
        const double s = exact.scores[q][j].item<double>();
        const bool above = j == 0 || exact.scores[q][j - 1].item<double>() - s > 2 * bound * scale;
        const bool below = j + 1 == o.top_k || s - exact.scores[q][j + 1].item<double>() > 2 * bound * scale;
        if (above && below) {
          ++separated;
          BOOST_TEST(got.indices[q][j].item<std::int64_t>() == exact.indices[q][j].item<std::int64_t>());
        }
      }
    }
    BOOST_TEST(separated > 1000);  // most ranks are compared
  }
}

BOOST_AUTO_TEST_CASE(edge_cases_and_errors) {
  const auto q = torch::randn({3, 4});
  const auto none = vikcse::faiss_semantic_search(q, torch::empty({0, 4}));
  BOOST_TEST(none.indices.size(1) == 0);
  const auto few = vikcse::faiss_semantic_search(q, torch::randn({2, 4}), {.top_k = 10});
  BOOST_TEST(few.indices.size(1) == 2);  // k clamps to the corpus
  try {
    (void)vikcse::faiss_semantic_search(q, torch::randn({5, 4}), {}, {.tie_window = 0});
    BOOST_FAIL("tie_window 0 accepted");
  } catch (const vikcse::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("tie_window") != std::string::npos);
  }
  try {
    (void)vikcse::faiss_semantic_search(q, torch::randn({5, 3}));
    BOOST_FAIL("width mismatch accepted");
  } catch (const vikcse::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("faiss_semantic_search") != std::string::npos);
  }
}
