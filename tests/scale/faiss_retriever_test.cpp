// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE scale_faiss_retriever_test
#include <boost/test/unit_test.hpp>

#include <vikcse/knowledge/faiss_retriever.hpp>
#include <vikcse/knowledge/retriever.hpp>

#include <torch/torch.h>

#include <string>

static_assert(VIKCSE_HAS_FAISS_RETRIEVER == 1, "the test links vikcse::faiss, so FAISS headers must be found");

namespace {

torch::Tensor unit_rows(const torch::Tensor& x) { return x / x.norm(2, -1, true); }

/// `rows` points around `centers` random unit centres (noise `spread`), unit-normalised.
torch::Tensor clustered(std::int64_t centers, std::int64_t rows, std::int64_t dim, double spread, std::uint64_t seed) {
  torch::manual_seed(seed);
  const auto c = unit_rows(torch::randn({centers, dim}));
  const auto assign = torch::arange(rows) % centers;
  return unit_rows(c.index_select(0, assign) + spread * torch::randn({rows, dim}));
}

double recall_at_1(const vikcse::TopK& got, const vikcse::TopK& exact) {
  return got.indices.select(1, 0).eq(exact.indices.select(1, 0)).to(torch::kDouble).mean().item<double>();
}

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const vikcse::invalid_argument& e) {
    return e.what();
  }
  return "<no vikcse::invalid_argument thrown>";
}

}  // namespace

BOOST_AUTO_TEST_CASE(flat_matches_exact_cosine_search) {
  torch::manual_seed(7);
  const auto bank = unit_rows(torch::randn({500, 32}));
  const auto queries = torch::randn({60, 32}) * 3.0;  // not normalised: both retrievers normalise
  const vikcse::FaissRetriever faiss_retriever({.kind = vikcse::FaissIndexKind::flat});
  const auto got = faiss_retriever.search(queries, bank, 5);
  const auto want = vikcse::ExactCosineRetriever{}.search(queries, bank, 5);
  BOOST_TEST(got.indices.sizes() == want.indices.sizes());
  BOOST_TEST(got.indices.scalar_type() == torch::kLong);
  BOOST_TEST(got.indices.equal(want.indices));
  // Same-run, both float32: two inner products of 32-d unit vectors in different summation orders
  // differ by <~ 2 * sqrt(32) * eps32 = 1.3e-6 (tests/support/float_bounds.hpp); 1e-5 is 7 times that.
  BOOST_TEST(torch::allclose(got.scores, want.scores, /*rtol=*/0.0, /*atol=*/1e-5));
  // Scores descend along each row.
  BOOST_TEST((got.scores.narrow(1, 0, 4) >= got.scores.narrow(1, 1, 4)).all().item<bool>());
}

BOOST_AUTO_TEST_CASE(ivf_and_hnsw_have_high_recall_on_clustered_data) {
  const auto bank = clustered(/*centers=*/32, /*rows=*/4000, /*dim=*/24, /*spread=*/0.3, /*seed=*/1);
  torch::manual_seed(2);
  const auto queries = unit_rows(bank.narrow(0, 0, 200) + 0.1 * torch::randn({200, 24}));
  const auto exact = vikcse::ExactCosineRetriever{}.search(queries, bank, 1);

  const vikcse::FaissRetriever ivf({.kind = vikcse::FaissIndexKind::ivf, .nlist = 32, .nprobe = 8});
  const auto ivf_hits = ivf.search(queries, bank, 1);
  // Recall is a property of the index on this seeded data (0.995 and 1.0 measured), computed in the
  // same run against the exact search; the thresholds leave room for FAISS's k-means rounding.
  BOOST_TEST_MESSAGE("ivf recall@1 " << recall_at_1(ivf_hits, exact));
  BOOST_TEST(recall_at_1(ivf_hits, exact) >= 0.9);

  const vikcse::FaissRetriever hnsw({.kind = vikcse::FaissIndexKind::hnsw, .hnsw_m = 16, .ef_search = 64});
  const auto hnsw_hits = hnsw.search(queries, bank, 1);
  BOOST_TEST_MESSAGE("hnsw recall@1 " << recall_at_1(hnsw_hits, exact));
  BOOST_TEST(recall_at_1(hnsw_hits, exact) >= 0.95);
  // Whatever is found, its score is the true cosine of that row.
  const auto rescored = (queries * bank.index_select(0, hnsw_hits.indices.select(1, 0))).sum(1);
  BOOST_TEST(torch::allclose(hnsw_hits.scores.select(1, 0), rescored, 0.0, 1e-5));
}

BOOST_AUTO_TEST_CASE(index_is_reused_for_the_same_bank_and_rebuilt_when_it_changes) {
  torch::manual_seed(3);
  auto bank = unit_rows(torch::randn({200, 16}));
  const auto queries = torch::randn({10, 16});
  const vikcse::FaissRetriever retriever;
  BOOST_TEST(retriever.builds() == 0);
  (void)retriever.search(queries, bank, 3);
  (void)retriever.search(queries.narrow(0, 0, 4), bank, 1);
  BOOST_TEST(retriever.builds() == 1);

  const auto copy = retriever;  // copies share the cached index
  (void)copy.search(queries, bank, 2);
  BOOST_TEST(retriever.builds() == 1);

  // An in-place change bumps the version counter: the index is rebuilt and sees the new rows.
  bank.neg_();
  const auto after = retriever.search(queries, bank, 3);
  BOOST_TEST(retriever.builds() == 2);
  BOOST_TEST(after.indices.equal(vikcse::ExactCosineRetriever{}.search(queries, bank, 3).indices));

  // A different tensor (even with equal values) is a different bank.
  const auto other = bank.clone();
  (void)retriever.search(queries, other, 3);
  BOOST_TEST(retriever.builds() == 3);
  // A view with other sizes is a different bank too.
  (void)retriever.search(queries, other.narrow(0, 0, 100), 3);
  BOOST_TEST(retriever.builds() == 4);

  retriever.reset();
  (void)retriever.search(queries, other, 3);
  BOOST_TEST(retriever.builds() == 5);
}

BOOST_AUTO_TEST_CASE(rows_an_approximate_index_cannot_fill_fall_back_to_exact_search) {
  const auto bank = clustered(/*centers=*/8, /*rows=*/400, /*dim=*/16, /*spread=*/0.2, /*seed=*/4);
  const auto queries = bank.narrow(0, 0, 20);
  // One probed cell holds ~50 rows, fewer than k = 120: FAISS pads with -1.
  const vikcse::FaissRetriever ivf({.kind = vikcse::FaissIndexKind::ivf, .nlist = 8, .nprobe = 1});
  const auto got = ivf.search(queries, bank, 120);
  const auto want = vikcse::ExactCosineRetriever{}.search(queries, bank, 120);
  BOOST_TEST((got.indices >= 0).all().item<bool>());
  BOOST_TEST(torch::allclose(got.scores, want.scores, 0.0, 1e-5));
}

BOOST_AUTO_TEST_CASE(empty_query_batch_and_dtypes) {
  torch::manual_seed(5);
  const auto bank = unit_rows(torch::randn({50, 8}, torch::kDouble));
  const vikcse::FaissRetriever retriever;
  const auto none = retriever.search(torch::empty({0, 8}), bank, 4);
  BOOST_TEST(none.scores.sizes() == torch::IntArrayRef({0, 4}));
  BOOST_TEST(none.indices.scalar_type() == torch::kLong);
  const auto queries = torch::randn({6, 8}, torch::kDouble);
  const auto got = retriever.search(queries, bank, 2);
  BOOST_TEST(got.scores.scalar_type() == torch::kDouble);  // the bank's dtype, as the exact retriever
  BOOST_TEST(got.indices.equal(vikcse::ExactCosineRetriever{}.search(queries, bank, 2).indices));
}

BOOST_AUTO_TEST_CASE(bad_inputs_give_clear_errors) {
  torch::manual_seed(6);
  const auto bank = unit_rows(torch::randn({20, 8}));
  const vikcse::FaissRetriever retriever;
  auto msg = message_of([&] { (void)retriever.search(torch::randn({3, 9}), bank, 1); });
  BOOST_TEST(msg.find("query dimension 9 differs from the bank's feature dimension 8") != std::string::npos, msg);
  msg = message_of([&] { (void)retriever.search(torch::randn({3, 8}), bank, 21); });
  BOOST_TEST(msg.find("k must be in 1..20 (bank rows), got 21") != std::string::npos, msg);
  msg = message_of([&] { (void)retriever.search(torch::randn({3, 8}), bank, 0); });
  BOOST_TEST(msg.find("got 0") != std::string::npos, msg);
  msg = message_of([&] { (void)retriever.search(torch::randn({8}), bank, 1); });
  BOOST_TEST(msg.find("queries must be [N, D], got 1 dimensions") != std::string::npos, msg);
  msg = message_of([&] { (void)retriever.search(torch::randn({3, 8}), torch::empty({0, 8}), 1); });
  BOOST_TEST(msg.find("non-empty [M, D]") != std::string::npos, msg);
  msg = message_of([&] { (void)retriever.search(torch::ones({3, 8}, torch::kLong), bank, 1); });
  BOOST_TEST(msg.find("must be floating") != std::string::npos, msg);

  const vikcse::FaissRetriever ivf({.kind = vikcse::FaissIndexKind::ivf, .nlist = 64});
  msg = message_of([&] { (void)ivf.search(torch::randn({3, 8}), bank, 1); });
  BOOST_TEST(msg.find("ivf nlist 64 exceeds the bank's 20 rows") != std::string::npos, msg);
  msg = message_of([] { vikcse::FaissRetriever({.kind = vikcse::FaissIndexKind::hnsw, .hnsw_m = 1}); });
  BOOST_TEST(msg.find("hnsw_m >= 2") != std::string::npos, msg);
  msg = message_of([] { vikcse::FaissRetriever({.kind = vikcse::FaissIndexKind::ivf, .nprobe = 0}); });
  BOOST_TEST(msg.find("nprobe >= 1") != std::string::npos, msg);
}
