// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_knowledge_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/knowledge/paired_images.hpp>
#include <vikcse/knowledge/retriever.hpp>
#include <vikcse/knowledge/visual_kb.hpp>

#include <torch/torch.h>

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
  auto bank = torch::nn::functional::normalize(torch::randn({50, 6}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto q = torch::randn({7, 6});
  const auto top = vikcse::ExactCosineRetriever{.chunk_size = 3}.search(q, bank, 5);
  // Brute force, one query at a time, in double precision.
  for (int i = 0; i < 7; ++i) {
    auto s = (bank.to(torch::kDouble).mv(q[i].to(torch::kDouble)) / q[i].norm().item<double>());
    const auto expected = std::get<1>(s.sort(true, 0, true)).narrow(0, 0, 5);
    BOOST_TEST(torch::equal(top.indices[i], expected));
  }
  // Duplicate rows: equal scores, lowest index wins (k = 1 and k > 1).
  auto dup = torch::cat({bank.narrow(0, 0, 2), bank.narrow(0, 0, 2), bank.narrow(0, 0, 2)}, 0);  // rows 0,2,4 equal
  const auto one = vikcse::ExactCosineRetriever{}.search(bank.narrow(0, 0, 1), dup, 1);
  BOOST_TEST(one.indices.item<std::int64_t>() == 0);
  const auto three = vikcse::ExactCosineRetriever{}.search(bank.narrow(0, 0, 1), dup, 3);
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
  msg = message_of([&] { vikcse::load_features(dir / "f.safetensors", vikcse::FeatureFileOptions{"", std::nullopt, 2048}); });
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
