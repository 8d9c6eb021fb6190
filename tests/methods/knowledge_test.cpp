// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_knowledge_test
#include <boost/test/unit_test.hpp>

#include <support/float_bounds.hpp>
#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/knowledge/kb_builder.hpp>
#include <vikcse/knowledge/paired_images.hpp>
#include <vikcse/knowledge/retriever.hpp>
#include <vikcse/knowledge/visual_kb.hpp>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("vikcse_knowledge_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}
template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
}  // namespace

BOOST_AUTO_TEST_CASE(exact_topk_matches_brute_force_and_breaks_ties_low_first) {
  torch::manual_seed(3);
  auto bank =
      torch::nn::functional::normalize(torch::randn({50, 6}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto q = torch::randn({7, 6});
  const auto top = vikcse::ExactCosineRetriever{.chunk_size = 3}.search(q, bank, 5);
  // Brute force, one query at a time, in double precision. The float32 ranking must equal it only
  // where float32 rounding cannot reorder two rows: a float32 cosine of 6-vectors is off by about
  // sqrt(6) * eps32 (tests/support/float_bounds.hpp), twice that counting the bank's own float32
  // normalisation; so the first 6 scores of every query must be more than 10 times that apart
  // (the closest pair is 1.6e-4 apart, 270 times), or this comparison would test rounding, not code.
  const double rounding = 2.0 * std::sqrt(6.0) * vikcse::testing::eps32;
  double min_gap = 1.0;
  for (int i = 0; i < 7; ++i) {
    auto s = (bank.to(torch::kDouble).mv(q[i].to(torch::kDouble)) / q[i].norm().item<double>());
    const auto [sorted, order] = s.sort(true, 0, true);
    const auto expected = order.narrow(0, 0, 5);
    BOOST_TEST(torch::equal(top.indices[i], expected));
    const auto first = sorted.narrow(0, 0, 6);
    min_gap = std::min(min_gap, (first.narrow(0, 0, 5) - first.narrow(0, 1, 5)).min().item<double>());
  }
  BOOST_TEST_MESSAGE("smallest gap between consecutive top-6 scores: " << min_gap << " (rounding " << rounding << ")");
  BOOST_TEST(min_gap > 10.0 * rounding);
  // Duplicate rows: equal scores, lowest index wins (k = 1 and k > 1). Rows and query are unit
  // vectors e0, e1, so every score is exactly 0 or 1 in any summation order: the ties are exact on
  // every machine (duplicated random rows could differ by an ulp where a BLAS kernel sums the
  // columns of a block in another order than those of the remainder).
  const auto e = torch::eye(6);
  const auto dup = torch::cat({e.narrow(0, 0, 2), e.narrow(0, 0, 2), e.narrow(0, 0, 2)}, 0);  // rows 0,2,4 equal
  const auto one = vikcse::ExactCosineRetriever{}.search(e.narrow(0, 0, 1), dup, 1);
  BOOST_TEST(one.indices.item<std::int64_t>() == 0);
  const auto three = vikcse::ExactCosineRetriever{}.search(e.narrow(0, 0, 1) * 3.0, dup, 3);
  BOOST_TEST((three.indices[0][0].item<std::int64_t>() == 0 && three.indices[0][1].item<std::int64_t>() == 2 &&
              three.indices[0][2].item<std::int64_t>() == 4));
  BOOST_CHECK_THROW(vikcse::ExactCosineRetriever{}.search(q, bank, 51), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::ExactCosineRetriever{}.search(torch::randn({2, 5}), bank, 1), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(knowledge_base_normalises_and_retrieves) {
  auto features = torch::tensor({{3.0f, 0.0f}, {0.0f, 2.0f}, {1.0f, 1.0f}});
  vikcse::VisualKnowledgeBase<> kb(features);
  BOOST_TEST(kb->size() == 3);
  BOOST_TEST(kb->feature_dim() == 2);
  BOOST_TEST(torch::allclose(kb->bank.norm(2, 1), torch::ones({3})));
  const auto top = kb->search(torch::tensor({{0.1f, 5.0f}, {4.0f, 3.9f}}), 1);
  BOOST_TEST(top.indices[0][0].item<std::int64_t>() == 1);
  BOOST_TEST(top.indices[1][0].item<std::int64_t>() == 2);
  BOOST_TEST(kb->named_buffers().contains("bank"));
  auto nan = features.clone();
  nan[1][1] = std::nanf("");
  BOOST_CHECK_THROW(vikcse::VisualKnowledgeBase<>{nan}, vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::VisualKnowledgeBase<>{torch::empty({0, 4})}, vikcse::data_error);
}

BOOST_AUTO_TEST_CASE(feature_files_round_trip_and_validate) {
  const auto dir = temp_dir();
  torch::manual_seed(5);
  const auto f = torch::randn({4, 3});
  vikcse::save_npy(dir / "f.npy", f);
  BOOST_TEST(torch::equal(vikcse::load_features(dir / "f.npy"), f));
  vikcse::save_safetensors(dir / "f.safetensors", {{"features", f}, {"ids", torch::arange(4)}});
  BOOST_TEST(torch::equal(vikcse::load_features(dir / "f.safetensors"), f));
  // Rows must match the caption count.
  auto msg = message_of([&] { vikcse::load_features(dir / "f.npy", vikcse::FeatureFileOptions{"", 5, std::nullopt}); });
  BOOST_TEST(msg.find("has 4 feature rows but 5 were expected") != std::string::npos, msg);
  // Wrong dimension.
  msg = message_of([&] {
    vikcse::load_features(dir / "f.safetensors", vikcse::FeatureFileOptions{"", std::nullopt, 2048});
  });
  BOOST_TEST(msg.find("feature dimension is 3, expected 2048") != std::string::npos, msg);
  // NaN is reported with its position.
  auto bad = f.clone();
  bad[2][1] = std::nanf("");
  vikcse::save_npy(dir / "nan.npy", bad);
  msg = message_of([&] { vikcse::load_features(dir / "nan.npy"); });
  BOOST_TEST(msg.find("row 2, column 1") != std::string::npos, msg);
  // Not a feature file / missing / wrong type.
  std::ofstream(dir / "junk.npy") << "hello";
  BOOST_CHECK_THROW(vikcse::load_features(dir / "junk.npy"), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::load_features(dir / "missing.npy"), vikcse::data_error);
  std::ofstream(dir / "f.txt") << "1 2";
  BOOST_CHECK_THROW(vikcse::load_features(dir / "f.txt"), vikcse::data_error);
  // A .npy written by NumPy (fixture made by reference/make_npy_fixture.py, float64 [2, 3]).
  const auto np = vikcse::load_features(vikcse::testing::fixture_dir() / "methods" / "numpy_features.npy");
  BOOST_TEST(torch::equal(np, torch::tensor({{0.5f, -1.0f, 2.0f}, {3.25f, 0.0f, -0.125f}})));
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(paired_image_features_check_the_batch) {
  vikcse::PairedImageFeatures paired(vikcse::PairedImageFeaturesOptions(5));
  vikcse::TrainingBatch batch;
  batch.first.input_ids = torch::ones({3, 4}, torch::kLong);
  BOOST_TEST(!paired->context(batch).features.defined());
  batch.image_features = torch::randn({3, 5});
  BOOST_TEST(paired->context(batch).features.size(0) == 3);
  batch.image_features = torch::randn({3, 4});
  BOOST_CHECK_THROW(paired->context(batch), vikcse::invalid_argument);
  batch.image_features = torch::full({3, 5}, std::nanf(""));
  BOOST_CHECK_THROW(paired->context(batch), vikcse::invalid_argument);
}

// ---- VIKCSE stage 1 (kb_builder.hpp) ----------------------------------------------------------

namespace {
/// Tiny paired data: 12 concepts; image i and caption i are different noisy random maps of the
/// same concept, so an image projector and a text projector can align them.
struct Paired {
  torch::Tensor img, txt, which;
};
Paired paired_features(std::int64_t m = 96) {
  torch::manual_seed(5);
  const auto concepts = torch::randn({12, 10});
  const auto which = torch::randint(0, 12, {m}, torch::kLong);
  const auto c = concepts.index_select(0, which);
  const auto img = torch::mm(c, torch::randn({10, 24})) + 0.1 * torch::randn({m, 24});
  const auto txt = torch::mm(c, torch::randn({10, 16})) + 0.1 * torch::randn({m, 16});
  return {img, txt, which};
}
}  // namespace

BOOST_AUTO_TEST_CASE(stage1_without_projectors_is_the_normalised_image_features) {
  [[maybe_unused]] const auto [img, txt, which_] = paired_features();
  const auto kb = vikcse::KnowledgeBaseBuilder().build(img, txt);
  BOOST_TEST(kb.bank.sizes() == img.sizes());
  BOOST_TEST(torch::allclose(kb.bank, img / img.norm(2, 1, true)));
  BOOST_TEST(kb.text_bank.sizes() == txt.sizes());
  BOOST_TEST(kb.epoch_losses.empty());
}

BOOST_AUTO_TEST_CASE(stage1_projectors_lower_the_symmetric_infonce_and_write_a_stage2_bank) {
  [[maybe_unused]] const auto [img, txt, which_] = paired_features();
  vikcse::KnowledgeBaseBuilder builder(
      vikcse::KnowledgeBaseBuilderOptions().projection_dim(8).batch_size(32).epochs(30).learning_rate(1e-2));
  std::int64_t calls = 0;
  builder.on_epoch([&](std::int64_t, double) { ++calls; });
  const auto kb = builder.build(img, txt);
  BOOST_TEST(calls == 30);
  BOOST_REQUIRE(kb.epoch_losses.size() == 30u);
  BOOST_TEST_MESSAGE("stage 1 loss: first epoch " << kb.epoch_losses.front() << ", last " << kb.epoch_losses.back());
  // A training outcome on seeded synthetic data, not a stored figure: the loss falls to ~0.16 of
  // its first epoch (6.9 -> 1.1), so rounding differences between machines cannot reach 0.7.
  BOOST_TEST(kb.epoch_losses.back() < 0.7 * kb.epoch_losses.front());
  BOOST_TEST((kb.bank.sizes() == std::vector<std::int64_t>{96, 8}));
  BOOST_TEST((kb.text_bank.sizes() == std::vector<std::int64_t>{96, 8}));
  BOOST_TEST((kb.image_projection.sizes() == std::vector<std::int64_t>{8, 24}));
  BOOST_TEST((kb.text_projection.sizes() == std::vector<std::int64_t>{8, 16}));
  BOOST_TEST(torch::allclose(kb.bank.norm(2, 1), torch::ones({96}), 1e-5, 1e-5));
  BOOST_TEST(torch::allclose(kb.text_bank.norm(2, 1), torch::ones({96}), 1e-5, 1e-5));
  // The loss printed per epoch is the symmetric InfoNCE of the final projectors on a full batch.
  BOOST_TEST(vikcse::symmetric_info_nce(kb.bank, kb.text_bank, 0.07).item<double>() > 0.0);
  // Aligned: each caption's nearest image shares its concept far more often than chance (1/12).
  const auto nearest = torch::mm(kb.text_bank, kb.bank.t()).argmax(1);
  const auto which = paired_features().which;
  const auto same = (which.index_select(0, nearest) == which).to(torch::kFloat).mean().item<double>();
  BOOST_TEST_MESSAGE("captions whose nearest image shares their concept: " << same);
  BOOST_TEST(same > 0.5);  // 1.0 on these draws: far from the threshold on any machine

  const auto dir = temp_dir();
  for (const char* name : {"kb.npy", "kb.safetensors"}) {
    vikcse::save_knowledge_base(dir / name, kb);
    const auto back = vikcse::load_features(dir / name, {.key = "features", .expected_rows = 96, .expected_dim = 8});
    BOOST_TEST(torch::equal(back, kb.bank));
    vikcse::VisualKnowledgeBase<> stage2(back);  // usable by stage 2
    BOOST_TEST(stage2->feature_dim() == 8);
  }
  BOOST_CHECK_THROW(vikcse::save_knowledge_base(dir / "kb.txt", kb), vikcse::data_error);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(stage1_rejects_bad_input) {
  [[maybe_unused]] const auto [img, txt, which_] = paired_features();
  vikcse::KnowledgeBaseBuilder with_proj(vikcse::KnowledgeBaseBuilderOptions().projection_dim(8));
  BOOST_CHECK_THROW(with_proj.build(img), vikcse::invalid_argument);                  // projectors need captions
  BOOST_CHECK_THROW(with_proj.build(img, txt.narrow(0, 0, 50)), vikcse::data_error);  // row mismatch
  auto bad = img.clone();
  bad[3][2] = std::nan("");
  const auto msg = message_of([&] { vikcse::KnowledgeBaseBuilder().build(bad); });
  BOOST_TEST(msg.find("row 3, column 2") != std::string::npos);
  BOOST_CHECK_THROW(vikcse::KnowledgeBaseBuilder().build(torch::randn({4})), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::KnowledgeBaseBuilder().build(torch::randn({0, 4})), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::KnowledgeBaseBuilder(vikcse::KnowledgeBaseBuilderOptions().projection_dim(8).batch_size(1))
                        .build(img, txt),
                    vikcse::invalid_argument);
}
