// SPDX-License-Identifier: Apache-2.0
// ---------------------------------------------------------------------------------------------------
// CLIPModel (include/vikcse/vision/clip_model.hpp) against an independent torch.nn reference computed
// in the same run (reference/clip_reference.py: nn.TransformerEncoderLayer with norm_first and a
// quick-GELU activation, nn.Conv2d patches, nn.Embedding, nn.LayerNorm, nn.Linear; not a transcription
// of the C++). CTest runs the script first into $VIKCSE_CLIP_REFERENCE_DIR; run by hand, the test runs
// it itself into a scratch directory.
//
// The judge is the reference's float64 evaluation. Our float64 run must agree to 1e-12 relative; our
// float32 run within the bound of tests/support/float_bounds.hpp, eps32 * stages * sqrt(K) * M:
//  - each block of a pre-LN tower adds two dot-product stages (attention and feed-forward; K is the
//    larger of hidden and intermediate width), the embedding with its LayerNorm one, the final
//    LayerNorm with the projection one more: stages = 2 L + 2;
//  - the residual stream is renormalised by the final LayerNorm, so each stage's rounding, ~sqrt(K) u
//    relative (Higham & Mary 2019) plus as much from the elementwise operations, reaches the output
//    as about the same relative error of the output scale M = max |features|;
//  - the logits exp(s) * cos(t, i): a relative perturbation r of a vector moves its cosine by at most
//    r, so |d logit| <= exp(s) * (r_text + r_image + 2 sqrt(P) eps32), r = sqrt(P) * bound / min |row|.
// Fault check: the same weights run with GELU instead of quick-GELU must be far outside the bound.
// ---------------------------------------------------------------------------------------------------
#define BOOST_TEST_MODULE vision_clip_model_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/float_bounds.hpp>
#include <support/python_reference.hpp>
#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/vision/clip_model.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;
using vikcse::testing::eps32;
using vikcse::testing::expect_error;

const fs::path& reference_dir() {
  static std::unique_ptr<vikcse::testing::ScratchDir> scratch;
  static const fs::path dir = [] {
    const char* same_run = std::getenv("VIKCSE_CLIP_REFERENCE_DIR");
    if (same_run != nullptr && *same_run != '\0') return fs::path(same_run);
    scratch = std::make_unique<vikcse::testing::ScratchDir>("vikcse-clip-reference");
    const auto script = vikcse::testing::tests_dir() / "vision" / "reference" / "clip_reference.py";
    BOOST_TEST_MESSAGE("VIKCSE_CLIP_REFERENCE_DIR is not set (not run by CTest): running " << script.string());
    const auto run = vikcse::testing::run_python(script, {scratch->path.string()});
    if (!run.ok) throw std::runtime_error("reference failed: " + run.command + "\n" + run.output);
    return scratch->path;
  }();
  return dir;
}

const std::map<std::string, torch::Tensor>& expected() {
  static const auto tensors =
      vikcse::SafetensorsFile::open(reference_dir() / "tiny-clip-expected.safetensors").load_all();
  return tensors;
}
const torch::Tensor& want(const std::string& key) { return expected().at(key); }

vikcse::ClipModel load(const fs::path& dir, torch::ScalarType dtype = torch::kFloat32) {
  vikcse::ClipLoadOptions o;
  o.dtype = dtype;
  return vikcse::ClipModel(vikcse::ClipModelImpl::from_pretrained(dir, o));
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// The float32 bound of one tower's projected features (see the file comment).
double feature_bound(const vikcse::ClipTowerConfig& tower, const torch::Tensor& exact) {
  const auto k = static_cast<int>(std::max(tower.hidden_size, tower.intermediate_size));
  const auto stages = static_cast<int>(2 * tower.num_hidden_layers + 2);
  return vikcse::testing::encoder_forward_bound(eps32, stages, k, exact.abs().max().item<double>());
}

/// The relative perturbation of the rows of `exact` that `bound` per element allows.
double relative(double bound, const torch::Tensor& exact) {
  return std::sqrt(static_cast<double>(exact.size(1))) * bound / exact.norm(2, 1).min().item<double>();
}

struct Outputs {
  torch::Tensor image, text, text_unmasked, logits;
};

Outputs run(vikcse::ClipModel& model, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  Outputs o;
  const auto pixels = want("pixel_values").to(dtype);
  o.image = model->image_features(pixels);
  o.text = model->text_features(want("input_ids"), want("attention_mask"));
  o.text_unmasked = model->text_features(want("input_ids"));
  o.logits = model->forward(want("input_ids"), want("attention_mask"), pixels).logits_per_text;
  return o;
}

fs::path copy_checkpoint(const vikcse::testing::ScratchDir& dir, const std::string& name = "tiny-clip") {
  const auto out = dir.path / name;
  fs::create_directories(out);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(reference_dir() / name / f, out / f);
  return out;
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j;
  {
    std::ifstream in(dir / "config.json");
    in >> j;
  }
  edit(j);
  std::ofstream(dir / "config.json") << j.dump(2);
}

}  // namespace

BOOST_AUTO_TEST_CASE(module_names_are_the_checkpoint_keys) {
  const auto config = vikcse::ClipConfig::from_json_file(reference_dir() / "tiny-clip" / "config.json");
  vikcse::ClipModel model(config);
  std::set<std::string> ours;
  for (const auto& p : model->named_parameters()) ours.insert(p.key());
  std::set<std::string> theirs;
  for (const auto& [key, t] : vikcse::SafetensorsFile::open(reference_dir() / "tiny-clip" / "model.safetensors").load_all()) {
    theirs.insert(key);
  }
  BOOST_TEST(ours == theirs, boost::test_tools::per_element());
  BOOST_TEST(ours.count("vision_model.pre_layrnorm.weight") == 1u);
  BOOST_TEST(ours.count("text_model.encoder.layers.1.mlp.fc2.bias") == 1u);
}

BOOST_AUTO_TEST_CASE(float64_matches_the_reference) {
  auto model = load(reference_dir() / "tiny-clip", torch::kDouble);
  const auto o = run(model, torch::kDouble);
  for (const auto& [ours, key] : {std::pair{o.image, "image_features.f64"}, std::pair{o.text, "text_features.f64"},
                                  std::pair{o.text_unmasked, "text_features_unmasked.f64"},
                                  std::pair{o.logits, "logits_per_text.f64"}}) {
    const double scale = want(key).abs().max().item<double>();
    const double d = max_diff(ours, want(key));
    BOOST_TEST_MESSAGE(fmt::format("{}: float64 max |ours - reference| = {:.3g} (scale {:.3g})", key, d, scale));
    BOOST_TEST(d <= 1e-12 * scale, key << ": " << d);
  }
}

BOOST_AUTO_TEST_CASE(float32_is_within_the_derived_bound) {
  auto model = load(reference_dir() / "tiny-clip");
  const auto o = run(model, torch::kFloat32);
  const auto& c = model->config();
  const double image_bound = feature_bound(c.vision, want("image_features.f64"));
  const double text_bound = feature_bound(c.text, want("text_features.f64"));
  const double logit_bound = std::exp(c.logit_scale_init_value) *
                             (relative(image_bound, want("image_features.f64")) +
                              relative(text_bound, want("text_features.f64")) +
                              2 * std::sqrt(static_cast<double>(c.projection_dim)) * eps32);
  for (const auto& [ours, key, bound] :
       {std::tuple{o.image, "image_features", image_bound}, std::tuple{o.text, "text_features", text_bound},
        std::tuple{o.text_unmasked, "text_features_unmasked", text_bound},
        std::tuple{o.logits, "logits_per_text", logit_bound}}) {
    const std::string k = key;
    const double d = max_diff(ours, want(k + ".f64"));
    const double peer = max_diff(want(k + ".f32"), want(k + ".f64"));
    BOOST_TEST_MESSAGE(fmt::format("{}: float32 ours {:.3g}, torch.nn reference {:.3g}, bound {:.3g}", k, d, peer,
                                   bound));
    BOOST_TEST(d <= bound, k << ": " << d << " > " << bound);
  }
  // the same weights with GELU instead of quick-GELU: a real fault lands far outside the bound
  vikcse::testing::ScratchDir dir("vikcse-clip-fault");
  const auto copy = copy_checkpoint(dir);
  edit_config(copy, [](nlohmann::json& j) { j["vision_config"]["hidden_act"] = "gelu"; });
  auto faulty = load(copy);
  torch::NoGradGuard no_grad;
  const double moved = max_diff(faulty->image_features(want("pixel_values")), want("image_features.f64"));
  BOOST_TEST_MESSAGE(fmt::format("GELU instead of quick-GELU moves the image features by {:.3g} ({:.0f} bounds)", moved,
                                 moved / image_bound));
  BOOST_TEST(moved > 10 * image_bound);
}

BOOST_AUTO_TEST_CASE(a_real_eos_token_id_pools_at_its_first_occurrence) {
  // openai's configs carry the placeholder eos_token_id 2 (pool at the highest id); another value
  // pools at the first position holding it, as transformers does for newer checkpoints.
  vikcse::testing::ScratchDir dir("vikcse-clip-eos");
  const auto copy = copy_checkpoint(dir);
  edit_config(copy, [](nlohmann::json& j) { j["text_config"]["eos_token_id"] = 7; });
  auto model = load(copy, torch::kDouble);
  torch::NoGradGuard no_grad;
  const auto text = model->text_features(want("input_ids"), want("attention_mask"));
  const double scale = want("text_features_eos7.f64").abs().max().item<double>();
  BOOST_TEST(max_diff(text, want("text_features_eos7.f64")) <= 1e-12 * scale);
  BOOST_TEST(max_diff(text, want("text_features.f64")) > 1e-3 * scale);  // a different position indeed
}

BOOST_AUTO_TEST_CASE(the_verbose_legacy_config_and_position_id_buffers_load_the_same) {
  auto compact = load(reference_dir() / "tiny-clip");
  auto legacy = load(reference_dir() / "tiny-clip-legacy");
  const auto& ignored = legacy->load_report().ignored;
  BOOST_TEST(std::set<std::string>(ignored.begin(), ignored.end()) ==
                 (std::set<std::string>{"text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"}),
             boost::test_tools::per_element());
  const auto a = run(compact, torch::kFloat32);
  const auto b = run(legacy, torch::kFloat32);
  BOOST_TEST(torch::equal(a.image, b.image));
  BOOST_TEST(torch::equal(a.text, b.text));
}

BOOST_AUTO_TEST_CASE(openai_clip_vit_base_patch32_configs_read_alike) {
  const auto dir = vikcse::testing::data_dir() / "clip" / "openai-clip-vit-base-patch32";
  const auto now = vikcse::ClipConfig::from_json_file(dir / "config.json");
  const auto hub = vikcse::ClipConfig::from_json_file(dir / "legacy-format" / "config.json");
  BOOST_TEST(now.to_json() == hub.to_json());
  // what the files say (checked against their text by this test, not restated from memory)
  std::ifstream in(dir / "config.json");
  const auto j = nlohmann::json::parse(in);
  BOOST_TEST(now.vision.patch_size == j["vision_config"]["patch_size"].get<std::int64_t>());
  BOOST_TEST(now.text.hidden_size == j["text_config"]["hidden_size"].get<std::int64_t>());
  BOOST_TEST(now.vision.num_channels == 3);  // the verbose file's null means the default
  BOOST_TEST(now.projection_dim == j["projection_dim"].get<std::int64_t>());
}

BOOST_AUTO_TEST_CASE(save_pretrained_round_trips) {
  auto model = load(reference_dir() / "tiny-clip");
  vikcse::testing::ScratchDir dir("vikcse-clip-save");
  model->save_pretrained(dir.path / "saved");
  auto again = load(dir.path / "saved");
  BOOST_TEST(again->load_report().clean());
  const auto a = run(model, torch::kFloat32);
  const auto b = run(again, torch::kFloat32);
  BOOST_TEST(torch::equal(a.image, b.image));
  BOOST_TEST(torch::equal(a.logits, b.logits));
}

BOOST_AUTO_TEST_CASE(replaced_projections_are_new_bias_free_and_saved) {
  auto model = load(reference_dir() / "tiny-clip");
  const auto towers = model->text_model->parameters().size() + model->vision_model->parameters().size();
  torch::manual_seed(5);
  model->replace_projections(40);
  BOOST_TEST(model->config().projection_dim == 40);
  BOOST_TEST(model->visual_projection->weight.sizes() == torch::IntArrayRef({40, 48}));
  BOOST_TEST(model->text_projection->weight.sizes() == torch::IntArrayRef({40, 32}));
  BOOST_TEST(!model->visual_projection->bias.defined());
  // transformers' initialisation: std width^-1/2 (48^-1/2 = 0.144); 1920 draws put the sample std within 10%
  const double std_v = model->visual_projection->weight.std().item<double>();
  BOOST_TEST(std::abs(std_v * std::sqrt(48.0) - 1.0) < 0.1, std_v);
  BOOST_TEST(model->parameters().size() == towers + 3);  // the towers, two projections, logit_scale
  torch::NoGradGuard no_grad;
  BOOST_TEST(model->image_features(want("pixel_values")).size(1) == 40);
  vikcse::testing::ScratchDir dir("vikcse-clip-projection");
  model->save_pretrained(dir.path / "saved");
  auto again = load(dir.path / "saved");
  BOOST_TEST(again->config().projection_dim == 40);
  BOOST_TEST(torch::equal(again->visual_projection->weight, model->visual_projection->weight));
  BOOST_CHECK_THROW(model->replace_projections(0), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_named) {
  auto model = load(reference_dir() / "tiny-clip");
  torch::NoGradGuard no_grad;
  expect_error<vikcse::invalid_argument>([&] { (void)model->image_features(torch::zeros({1, 3, 31, 32})); },
                                         {"pixel_values must be [batch, 3, 32, 32], got [1, 3, 31, 32]"});
  expect_error<vikcse::invalid_argument>([&] { (void)model->text_features(torch::zeros({1, 17}, torch::kLong)); },
                                         {"input_ids must be [batch, length] with 1 <= length <= 16, got [1, 17]"});
  expect_error<vikcse::invalid_argument>([&] { (void)model->text_features(torch::full({1, 3}, 99, torch::kLong)); },
                                         {"token ids must lie in [0, 99) (vocab_size), found 99..99"});
  vikcse::testing::ScratchDir dir("vikcse-clip-bad");
  const auto copy = copy_checkpoint(dir);
  edit_config(copy, [](nlohmann::json& j) { j["vision_config"]["image_size"] = 30; });
  expect_error<vikcse::config_error>([&] { (void)load(copy); },
                                     {"vision_config.image_size (30) is not a multiple of patch_size (8)"});
  edit_config(copy, [](nlohmann::json& j) {
    j["vision_config"]["image_size"] = 32;
    j["model_type"] = "bert";
  });
  expect_error<vikcse::config_error>([&] { (void)load(copy); }, {"model_type is \"bert\", expected \"clip\""});
  edit_config(copy, [](nlohmann::json& j) {
    j["model_type"] = "clip";
    j["text_config"]["num_hidden_layers"] = 3;
  });
  expect_error<vikcse::checkpoint_error>([&] { (void)load(copy); },
                                         {"does not match the model", "missing key: text_model.encoder.layers.2."});
  // a truncated weight file names the tensor whose bytes are missing
  edit_config(copy, [](nlohmann::json& j) { j["text_config"]["num_hidden_layers"] = 2; });
  fs::resize_file(copy / "model.safetensors", fs::file_size(copy / "model.safetensors") - 100);
  expect_error<vikcse::checkpoint_error>([&] { (void)load(copy); }, {"model.safetensors"});
  expect_error<vikcse::checkpoint_error>([&] { (void)load(dir.path / "nowhere"); },
                                         {"CLIP checkpoint directory does not exist"});
}
