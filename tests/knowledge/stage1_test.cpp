// SPDX-License-Identifier: Apache-2.0
// Stage 1 from photos: a tiny random CLIP (CLIP's real tokenizer and vocabulary size, tiny towers)
// builds a knowledge base from the 15 photos of ../shared/data/images and the first 15 Flickr30k
// captions; the rows equal the model run image by image; the file round-trips through stage 2's
// loader and VIKCSE trains on it; a stopped run resumes to the same bytes; bad images are named
// with their row or skipped with their captions; Recall@k equals numpy's.
#define BOOST_TEST_MODULE knowledge_stage1_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/float_bounds.hpp>
#include <support/python_reference.hpp>
#include <support/spawn_self.hpp>
#include <support/test_data.hpp>
#include <support/tiny_model.hpp>
#include <vikcse/eval/image_text_retrieval.hpp>
#include <vikcse/knowledge/image_features.hpp>
#include <vikcse/knowledge/image_list.hpp>
#include <vikcse/knowledge/stage1_encoders.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using vikcse::testing::expect_error;

fs::path clip_files() { return vikcse::testing::data_dir() / "clip" / "openai-clip-vit-base-patch32"; }

/// A tiny random CLIPModel with CLIP's tokenizer files and a 32-pixel preprocessing, written to `dir`.
void write_tiny_clip(const fs::path& dir) {
  vikcse::ClipConfig c;
  c.text.hidden_size = 32;
  c.text.intermediate_size = 37;
  c.text.num_hidden_layers = 1;
  c.text.num_attention_heads = 4;
  c.vision.hidden_size = 32;
  c.vision.intermediate_size = 37;
  c.vision.num_hidden_layers = 1;
  c.vision.num_attention_heads = 4;
  c.vision.image_size = 32;
  c.vision.patch_size = 8;
  c.projection_dim = 16;
  torch::manual_seed(7);
  vikcse::ClipModel model(c);
  model->save_pretrained(dir);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::copy_file(clip_files() / f, dir / f, fs::copy_options::overwrite_existing);
  }
  std::ifstream in(clip_files() / "preprocessor_config.json");
  auto pre = nlohmann::json::parse(in);
  pre["size"]["shortest_edge"] = 32;
  pre["crop_size"] = {{"height", 32}, {"width", 32}};
  std::ofstream(dir / "preprocessor_config.json") << pre.dump(2);
}

struct TinyClip {
  vikcse::testing::ScratchDir dir{"vikcse-stage1-clip"};
  TinyClip() { write_tiny_clip(dir.path); }
  [[nodiscard]] vikcse::Stage1Encoder encoder(vikcse::Stage1Precision precision = {}) const {
    auto model = vikcse::ClipModel(vikcse::ClipModelImpl::from_pretrained(dir.path));
    auto tok = std::make_shared<const vikcse::ByteLevelBpeTokenizer>(
        vikcse::ByteLevelBpeTokenizer::from_directory(dir.path));
    return vikcse::clip_stage1_encoder(model, tok,
                                       vikcse::ClipImageOptions::from_file(dir.path / "preprocessor_config.json"),
                                       precision, "tiny");
  }
};

const TinyClip& tiny() {
  static const TinyClip t;
  return t;
}

std::vector<fs::path> photos() { return vikcse::list_images(vikcse::testing::data_dir() / "images"); }

std::vector<std::string> captions(std::size_t n) {
  std::ifstream in(vikcse::testing::data_dir() / "corpora" / "flickr30k-captions.txt");
  std::vector<std::string> out;
  std::string line;
  while (out.size() < n && std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(write_tiny_clip_checkpoint) {
  // Also the helper of build_kb_cli_test.sh: `-- --tiny-clip-out DIR` writes the checkpoint there.
  const auto out = vikcse::testing::worker_argument("--tiny-clip-out");
  vikcse::testing::ScratchDir scratch("vikcse-stage1-write");
  const fs::path dir = out.empty() ? scratch.path / "clip" : fs::path(out);
  write_tiny_clip(dir);
  auto model = vikcse::ClipModelImpl::from_pretrained(dir);
  BOOST_TEST(model->load_report().clean());
  BOOST_TEST(vikcse::ByteLevelBpeTokenizer::from_directory(dir).vocab_size() == model->config().text.vocab_size);
}

BOOST_AUTO_TEST_CASE(a_knowledge_base_from_the_photos_feeds_stage_2) {
  const auto images = photos();
  BOOST_TEST_REQUIRE(images.size() == 15u);
  const auto texts = captions(images.size());
  const auto encoder = tiny().encoder();
  vikcse::Stage1Options o;
  o.batch_size = 4;
  o.decode_threads = 2;
  std::vector<std::size_t> progress;
  o.on_progress = [&](std::size_t done, std::size_t total) {
    BOOST_TEST(total == 15u);
    progress.push_back(done);
  };
  const auto kb = vikcse::extract_stage1_features(images, &texts, encoder, o);
  BOOST_TEST(progress == (std::vector<std::size_t>{4, 8, 12, 15}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(kb.image.sizes() == torch::IntArrayRef({15, 16}));
  BOOST_TEST_REQUIRE(kb.text.sizes() == torch::IntArrayRef({15, 16}));
  BOOST_TEST(kb.rows == (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}),
             boost::test_tools::per_element());
  BOOST_TEST(torch::allclose(kb.image.norm(2, 1), torch::ones({15}), 1e-6, 1e-6));
  // each row is the model on that one image, decoded and preprocessed alone
  for (std::size_t i : {0u, 7u, 14u}) {
    const auto pixels = encoder.preprocess(vikcse::read_image(images[i]));
    const auto alone = encoder.encode_images(
        torch::from_blob(const_cast<float*>(pixels.values.data()), {1, 3, 32, 32}, torch::kFloat).clone());
    const auto unit = torch::nn::functional::normalize(alone, torch::nn::functional::NormalizeFuncOptions().dim(1));
    BOOST_TEST(torch::allclose(kb.image[static_cast<std::int64_t>(i)], unit[0], 1e-5, 1e-6), "row " << i);
  }
  // the file stage 2 reads
  vikcse::testing::ScratchDir dir("vikcse-stage1-kb");
  const auto path = dir.path / "kb.safetensors";
  vikcse::save_stage1_features(path, kb, {{"model", encoder.identity}});
  const auto loaded = vikcse::load_features(path, {.key = {}, .expected_rows = 15, .expected_dim = 16});
  BOOST_TEST(torch::equal(loaded, kb.image));
  BOOST_TEST(torch::equal(
      vikcse::load_features(path, {.key = "text_features", .expected_rows = 15, .expected_dim = 16}), kb.text));
  BOOST_TEST(vikcse::SafetensorsFile::open(path).metadata().at("model") == encoder.identity);
  vikcse::save_stage1_features(dir.path / "kb.npy", {kb.image, {}, kb.rows, {}, 0, true}, {});
  BOOST_TEST(torch::equal(vikcse::load_features(dir.path / "kb.npy"), kb.image));
  expect_error<vikcse::data_error>([&] { vikcse::save_stage1_features(dir.path / "kb.npy", kb, {}); },
                                   {"kb.npy: a .npy file holds one matrix"});
  // stage 2: VIKCSE retrieves from this bank and trains
  const auto tok = std::make_shared<const vikcse::WordPieceTokenizer>(
      vikcse::WordPieceTokenizer::from_directory(vikcse::testing::fixture_dir() / "methods" / "tiny-vocab"));
  torch::manual_seed(0);
  auto r = vikcse::make_vikcse(
      vikcse::BertModel(vikcse::testing::tiny_bert_config({.vocab_size = 99, .hidden_size = 16, .max_position_embeddings = 96})),
      tok, loaded);
  BOOST_TEST(r.model->loss->options.kb_dim() == 16);
  torch::optim::AdamW opt(r.model->parameters(), torch::optim::AdamWOptions(1e-3));
  const auto before = r.model->parameters().front().clone();
  const std::vector<std::string> sentences = {"the sentence means this", "this sentence of the", "of the this"};
  r.model->train();
  for (int step = 0; step < 2; ++step) {
    const auto out = r.model->forward(r.collator->unsupervised(sentences));
    BOOST_TEST(std::isfinite(out.total.item<double>()));
    BOOST_TEST(out.terms.contains("vm"));
    opt.zero_grad();
    out.total.backward();
    opt.step();
  }
  BOOST_TEST(!torch::equal(before, r.model->parameters().front()));
}

BOOST_AUTO_TEST_CASE(a_stopped_build_resumes_to_the_same_features) {
  const auto images = photos();
  const auto texts = captions(images.size());
  const auto encoder = tiny().encoder();
  vikcse::Stage1Options straight;
  straight.batch_size = 4;
  const auto whole = vikcse::extract_stage1_features(images, &texts, encoder, straight);
  vikcse::testing::ScratchDir dir("vikcse-stage1-resume");
  auto o = straight;
  o.resume_dir = dir.path / "kb.safetensors.partial";
  o.stop_after_batches = 2;
  const auto first = vikcse::extract_stage1_features(images, &texts, encoder, o);
  BOOST_TEST(!first.complete);
  BOOST_TEST(fs::exists(o.resume_dir / "batch-000001.safetensors"));
  BOOST_TEST(!fs::exists(o.resume_dir / "batch-000002.safetensors"));
  o.stop_after_batches = 0;
  const auto second = vikcse::extract_stage1_features(images, &texts, encoder, o);
  BOOST_TEST(second.complete);
  BOOST_TEST(second.batches_loaded == 2u);
  BOOST_TEST(torch::equal(second.image, whole.image));
  BOOST_TEST(torch::equal(second.text, whole.text));
  BOOST_TEST(second.rows == whole.rows, boost::test_tools::per_element());
  // another batch size (or model, or image list) is refused, not mixed in
  auto other = o;
  other.batch_size = 5;
  expect_error<vikcse::data_error>([&] { (void)vikcse::extract_stage1_features(images, &texts, encoder, other); },
                                   {"manifest.json: the unfinished run there used batch_size = 4, this one 5"});
}

// --bf16: the model under bfloat16 autocast, against the float32 run of the same model and photos.
// The tiny towers have 1 block (stages 2 L + 2 = 4) and K = max(hidden 32, intermediate 37) = 37; the
// rows are unit vectors (M = 1), so float_bounds.hpp's bound is eps_bf16 * 4 * sqrt(37) = 0.19 per
// element, and a row that was not computed in bfloat16 at all would change by 0.
BOOST_AUTO_TEST_CASE(bf16_autocast_stays_within_its_bound) {
  const auto images = photos();
  const auto texts = captions(images.size());
  vikcse::Stage1Options o;
  o.batch_size = 8;
  const auto f32 = vikcse::extract_stage1_features(images, &texts, tiny().encoder(), o);
  const auto bf16 = vikcse::extract_stage1_features(images, &texts, tiny().encoder({torch::kCPU, true}), o);
  const double bound = vikcse::testing::encoder_forward_bound(vikcse::testing::eps_bf16, 4, 37, 1.0);
  const double image = (bf16.image - f32.image).abs().max().item<double>();
  const double text = (bf16.text - f32.text).abs().max().item<double>();
  BOOST_TEST_MESSAGE(fmt::format("bf16 autocast: image rows {:.3g}, text rows {:.3g} from float32 (bound {:.3g})",
                                 image, text, bound));
  BOOST_TEST(bf16.image.scalar_type() == torch::kFloat);
  BOOST_TEST(image <= bound);
  BOOST_TEST(text <= bound);
  BOOST_TEST(image > 0.0);  // the products did run in bfloat16
}

BOOST_AUTO_TEST_CASE(bad_images_are_named_with_their_row_or_skipped_with_their_captions) {
  vikcse::testing::ScratchDir dir("vikcse-stage1-bad");
  auto images = photos();
  { std::ofstream(dir.path / "empty.jpg"); }
  {
    std::ifstream in(images[0], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir.path / "truncated.jpg", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  images.insert(images.begin() + 2, dir.path / "empty.jpg");
  images.insert(images.begin() + 9, dir.path / "truncated.jpg");
  const auto texts = captions(images.size());
  const auto encoder = tiny().encoder();
  vikcse::Stage1Options o;
  o.batch_size = 4;
  expect_error<vikcse::data_error>([&] { (void)vikcse::extract_stage1_features(images, &texts, encoder, o); },
                                   {"image 3 of 17 (", "empty.jpg", "--skip-bad-images"});
  o.skip_bad_images = true;
  const auto kb = vikcse::extract_stage1_features(images, &texts, encoder, o);
  BOOST_TEST_REQUIRE(kb.skipped.size() == 2u);
  BOOST_TEST(kb.skipped[0].find("empty.jpg") != std::string::npos);
  BOOST_TEST(kb.skipped[1].find("truncated.jpg") != std::string::npos);
  BOOST_TEST(kb.image.size(0) == 15);
  BOOST_TEST(kb.rows.size() == 15u);
  BOOST_TEST((std::find(kb.rows.begin(), kb.rows.end(), 2) == kb.rows.end()));
  BOOST_TEST((std::find(kb.rows.begin(), kb.rows.end(), 9) == kb.rows.end()));
  // the caption rows that remain are those of the images that remain: row 3 of the output is image 4
  const auto alone = encoder.encode_texts({texts[4]});
  BOOST_TEST(torch::allclose(kb.text[3], torch::nn::functional::normalize(
                                             alone, torch::nn::functional::NormalizeFuncOptions().dim(1))[0],
                             1e-5, 1e-6));
  // counts must agree, and an image list must not have holes
  const std::vector<std::string> short_texts(texts.begin(), texts.begin() + 3);
  expect_error<vikcse::data_error>(
      [&] { (void)vikcse::extract_stage1_features(images, &short_texts, encoder, o); },
      {"17 images but 3 captions"});
  std::ofstream(dir.path / "list.txt") << images[0].string() << "\n\n" << images[1].string() << "\n";
  expect_error<vikcse::data_error>([&] { (void)vikcse::list_images(dir.path / "list.txt"); },
                                   {"list.txt line 2: expected an image path, got a blank line"});
  std::ofstream(dir.path / "list.txt") << "missing.png\n";
  expect_error<vikcse::data_error>([&] { (void)vikcse::list_images(dir.path / "list.txt"); },
                                   {"list.txt line 1: image '", "missing.png' does not exist"});
}

BOOST_AUTO_TEST_CASE(recall_at_k_equals_numpy) {
  torch::manual_seed(3);
  auto image = torch::randn({40, 6}, torch::kDouble);
  auto text = image + 1.2 * torch::randn({40, 6}, torch::kDouble);
  text[5] = image[6];  // ties: a caption equally close to two images
  text[6] = image[6];
  const auto r = vikcse::image_text_recall(image, text, {1, 5, 10});
  auto rows = [](const torch::Tensor& t) {
    nlohmann::json j = nlohmann::json::array();
    for (std::int64_t i = 0; i < t.size(0); ++i) {
      std::vector<double> row(t[i].data_ptr<double>(), t[i].data_ptr<double>() + t.size(1));
      j.push_back(row);
    }
    return j;
  };
  vikcse::testing::ScratchDir dir("vikcse-recall");
  const auto ref = vikcse::testing::run_python_reference(
      "knowledge", "recall_reference.py",
      {{"image", rows(image.contiguous())}, {"text", rows(text.contiguous())}, {"ks", {1, 5, 10}}}, dir.path, "recall");
  for (std::int64_t k : {1, 5, 10}) {
    BOOST_TEST(r.image_to_text.at(k) == ref["image_to_text"][std::to_string(k)].get<double>(), "i2t R@" << k);
    BOOST_TEST(r.text_to_image.at(k) == ref["text_to_image"][std::to_string(k)].get<double>(), "t2i R@" << k);
  }
  BOOST_TEST(r.text_to_image.at(10) > r.text_to_image.at(1));
  BOOST_CHECK_THROW((void)vikcse::image_text_recall(image, text.narrow(0, 0, 5)), vikcse::invalid_argument);
}
