// SPDX-License-Identifier: Apache-2.0
// ---------------------------------------------------------------------------------------------------
// ResNet (include/vikcse/vision/resnet.hpp) against torchvision, computed in the same run.
//
// CTest first runs vision_resnet_reference (reference/resnet_reference.py), which builds
// torchvision's resnet50 and a tiny Bottleneck ResNet (torchvision's ResNet class, Bottleneck and
// _make_layer; layers [2, 1, 1, 2], groups 2, stem 16) with random weights and random BatchNorm
// statistics, and writes into $VIKCSE_RESNET_REFERENCE_DIR their checkpoints (torchvision keys, the
// resnet50 one with its classifier `fc`), the input images, torchvision's float32 features and the
// float64 features of the same weights and images. Run by hand without that variable, the test runs
// the script itself into a scratch directory.
//
// The judge is torchvision's float64 evaluation (exact to ~1e-13 relative). Our float64 run must
// match it within the float64 bound below (~3e-13 of max |features| for ResNet-50, far inside 1e-10),
// our float32 run within the float32 bound, and no worse than a few times torchvision's own float32
// error. The bound (resnet_forward_bound) is derived, not fitted:
//
//     eps * (sum over the convolutions on the deepest path of sqrt(K_s) + sqrt(h * w)) * M
//
//  - each convolution output is a dot product of length K_s = C_in / groups * kh * kw, whose
//    rounding error is ~sqrt(K_s) * u times its terms' scale when the roundings behave as independent
//    random variables (Higham & Mary 2019; the model of tests/support/float_bounds.hpp), u = eps / 2;
//    the other factor 2 covers the elementwise roundings of the stage (eval BatchNorm's scale and
//    shift, the residual sum), so each convolution stage adds ~sqrt(K_s) * eps relative error;
//  - eval BatchNorm is affine and ReLU is 1-Lipschitz and positively homogeneous, so a relative
//    error made at one stage reaches the output as about the same relative error: the stages add;
//  - the deepest path is the stem and the three convolutions of every block (the downsampling
//    shortcut is one convolution beside three); the global average pool sums h * w values of the
//    last map (7 x 7 at 224 x 224) and adds sqrt(h * w) * eps;
//  - M = max |features| of the float64 reference is the output scale the relative errors refer to.
// For ResNet-50 at 224 x 224 the sum is ~1.4e3: 1.6e-4 * M in float32 (3.7e-2 for M = 227),
// 3.1e-13 * M in float64. torchvision's own float32 error on the same case is ~2.4e-7 * M: the
// probabilistic bound is approached by no real run (blocked GEMM summation and averaging across
// later layers both shrink it), so the float32 run is also held to 4 x torchvision's own float32
// error + eps32 * M, which same-arithmetic code meets and a real fault does not.
// Fault check: the tiny model with BatchNorm eps 1e-3 instead of 1e-5 must be outside both.
// ---------------------------------------------------------------------------------------------------
#define BOOST_TEST_MODULE vision_resnet_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/float_bounds.hpp>
#include <support/python_reference.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/vision/resnet.hpp>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

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
using vikcse::testing::eps64;
using vikcse::testing::expect_error;

/// The directory the reference wrote: $VIKCSE_RESNET_REFERENCE_DIR (CTest), else a scratch
/// directory the script is run into now.
const fs::path& reference_dir() {
  static std::unique_ptr<vikcse::testing::ScratchDir> scratch;
  static const fs::path dir = [] {
    const char* same_run = std::getenv("VIKCSE_RESNET_REFERENCE_DIR");
    if (same_run != nullptr && *same_run != '\0') return fs::path(same_run);
    scratch = std::make_unique<vikcse::testing::ScratchDir>("vikcse-resnet-reference");
    const auto script = vikcse::testing::tests_dir() / "vision" / "reference" / "resnet_reference.py";
    BOOST_TEST_MESSAGE("VIKCSE_RESNET_REFERENCE_DIR is not set (not run by CTest): running " << script.string());
    const auto run = vikcse::testing::run_python(script, {scratch->path.string()});
    if (!run.ok) throw std::runtime_error("reference failed: " + run.command + "\n" + run.output);
    BOOST_TEST_MESSAGE(run.output);
    return scratch->path;
  }();
  return dir;
}

/// One case the reference wrote: its checkpoint, architecture and tensors.
struct ReferenceCase {
  std::string name;
  fs::path checkpoint;            ///< the directory holding model.safetensors
  vikcse::ResNetOptions options;  ///< from config.json
  torch::Tensor images;           ///< float32 [B, 3, H, W]
  torch::Tensor torchvision32;    ///< torchvision's float32 features
  torch::Tensor exact;            ///< torchvision's float64 features (the judge)
  [[nodiscard]] fs::path weights() const { return checkpoint / "model.safetensors"; }
  [[nodiscard]] double magnitude() const { return exact.abs().max().item<double>(); }
};

const ReferenceCase& reference(const std::string& name) {
  static std::map<std::string, ReferenceCase> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  ReferenceCase c;
  c.name = name;
  c.checkpoint = reference_dir() / name;
  std::ifstream in(c.checkpoint / "config.json");
  const auto config = nlohmann::json::parse(in);
  c.options.layers(config.at("layers").get<std::vector<std::int64_t>>())
      .base_planes(config.at("base_planes").get<std::int64_t>())
      .groups(config.at("groups").get<std::int64_t>())
      .width_per_group(config.at("width_per_group").get<std::int64_t>());
  auto tensors = vikcse::SafetensorsFile::open(reference_dir() / (name + "-expected.safetensors")).load_all();
  c.images = tensors.at("images");
  c.torchvision32 = tensors.at("features");
  c.exact = tensors.at("float64.features");
  return cache.emplace(name, std::move(c)).first->second;
}

/// sum of sqrt(K_s) over the convolutions of the deepest path, plus sqrt(h * w) of the pooled map
/// (the derivation is in the header comment of this file).
double sum_sqrt_k(const vikcse::ResNetOptions& o, std::int64_t height, std::int64_t width) {
  double sum = std::sqrt(static_cast<double>(o.in_channels() * 7 * 7));
  std::int64_t channels = o.base_planes();
  for (int s = 0; s < 4; ++s) {
    const auto inner = static_cast<double>(o.stage_width(s));
    for (std::int64_t b = 0; b < o.layers()[static_cast<std::size_t>(s)]; ++b) {
      sum += std::sqrt(static_cast<double>(channels)) + std::sqrt(9.0 * inner / static_cast<double>(o.groups())) +
             std::sqrt(inner);
      channels = o.stage_channels(s);
    }
  }
  auto halve = [](std::int64_t n) { return (n + 1) / 2; };  // every stride-2 step of the network
  for (int step = 0; step < 5; ++step) {
    height = halve(height);
    width = halve(width);
  }
  return sum + std::sqrt(static_cast<double>(height * width));
}

/// The bound on max |features - exact| in a type of machine epsilon `eps`.
double resnet_forward_bound(double eps, const ReferenceCase& c) {
  return eps * sum_sqrt_k(c.options, c.images.size(2), c.images.size(3)) * c.magnitude();
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

torch::Tensor run(vikcse::ResNet& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return model->forward(images);
}

/// The checkpoint of `name` with `edit` applied, written to a file in `dir`.
/// @tparam Edit a callable taking the checkpoint's `std::map<std::string, torch::Tensor>&`
template <typename Edit>
fs::path edited_checkpoint(const std::string& name, const fs::path& dir, Edit edit) {
  auto tensors = vikcse::SafetensorsFile::open(reference(name).weights()).load_all();
  edit(tensors);
  const auto path = dir / (name + "-edited.safetensors");
  vikcse::save_safetensors(path, tensors);
  return path;
}

/// The float32 comparison of one case: our error and torchvision's against the float64 judge.
void check_float32(const ReferenceCase& c, vikcse::ResNet& model) {
  const auto ours = run(model, c.images);
  BOOST_TEST(ours.scalar_type() == torch::kFloat);
  BOOST_TEST(ours.sizes() == c.exact.sizes());
  const double err = max_diff(ours, c.exact);
  const double torchvision_err = max_diff(c.torchvision32, c.exact);
  const double bound = resnet_forward_bound(eps32, c);
  const double peer_bound = 4.0 * torchvision_err + eps32 * c.magnitude();
  BOOST_TEST_MESSAGE(fmt::format(
      "{} float32: max |ours - exact| = {:.3g} ({:.3g} of max |features| = {:.4g}); torchvision float32: {:.3g}; "
      "ratio {:.3g}; max |ours - torchvision float32| = {:.3g}; derived bound {:.3g}, peer bound {:.3g}",
      c.name, err, err / c.magnitude(), c.magnitude(), torchvision_err, err / torchvision_err,
      max_diff(ours, c.torchvision32), bound, peer_bound));
  BOOST_TEST(err <= bound, c.name << " float32 error " << err << " exceeds the derived bound " << bound);
  BOOST_TEST(torchvision_err <= bound, "torchvision's own float32 error " << torchvision_err << " exceeds " << bound);
  BOOST_TEST(err <= peer_bound, c.name << " float32 error " << err << " exceeds 4 x torchvision's own "
                                       << torchvision_err << " + eps32 * M");
}

void check_float64(const ReferenceCase& c) {
  auto model = vikcse::load_resnet(c.checkpoint, c.options, vikcse::ResNetLoadOptions().dtype(torch::kDouble));
  const auto ours = run(model, c.images.to(torch::kDouble));
  BOOST_TEST(ours.scalar_type() == torch::kDouble);
  const double err = max_diff(ours, c.exact);
  const double bound = resnet_forward_bound(eps64, c);
  BOOST_TEST_MESSAGE(fmt::format("{} float64: max |ours - exact| = {:.3g} ({:.3g} of max |features|), bound {:.3g}",
                                 c.name, err, err / c.magnitude(), bound));
  BOOST_TEST(err <= bound, c.name << " float64 error " << err << " exceeds " << bound);
  BOOST_TEST(err <= 1e-10 * c.magnitude());
}

std::set<std::string> state_keys(torch::nn::Module& module) {
  std::set<std::string> keys;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) keys.insert(item.key());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) keys.insert(item.key());
  return keys;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resnet)

BOOST_AUTO_TEST_CASE(module_names_are_torchvision_state_dict_keys) {
  for (const std::string name : {"resnet50", "tiny"}) {
    const auto c = reference(name);
    vikcse::ResNet model(c.options);
    std::set<std::string> checkpoint;
    const auto file = vikcse::SafetensorsFile::open(c.weights());
    for (const auto& e : file.entries()) {
      if (e.name.rfind("fc.", 0) != 0) checkpoint.insert(e.name);
    }
    BOOST_TEST(state_keys(*model) == checkpoint, name << ": the model's keys differ from torchvision's");
  }
  vikcse::ResNet resnet50;
  const auto keys = state_keys(*resnet50);
  for (const char* key : {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                          "layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_var", "layer3.5.bn3.bias",
                          "layer4.2.conv3.weight"}) {
    BOOST_TEST(keys.count(key) == 1U, key);
  }
  BOOST_TEST(keys.count("layer1.1.downsample.0.weight") == 0U);
  BOOST_TEST(keys.count("fc.weight") == 0U);
  BOOST_TEST(resnet50->feature_dim() == 2048);
  BOOST_TEST(!resnet50->is_training());
}

BOOST_AUTO_TEST_CASE(resnet50_float32_matches_torchvision) {
  const auto c = reference("resnet50");
  auto model = vikcse::load_resnet50(c.checkpoint);
  const auto& report = model->load_report();
  BOOST_TEST_MESSAGE("resnet50 load: " << report.summary());
  BOOST_TEST(report.clean());
  BOOST_TEST(report.ignored == (std::vector<std::string>{"fc.bias", "fc.weight"}));
  BOOST_TEST(report.loaded.size() == state_keys(*model).size());
  BOOST_TEST(!model->is_training());
  check_float32(c, model);
}

BOOST_AUTO_TEST_CASE(resnet50_float64_matches_torchvision) { check_float64(reference("resnet50")); }

BOOST_AUTO_TEST_CASE(tiny_float32_and_float64_match_torchvision) {
  const auto c = reference("tiny");
  auto model = vikcse::load_resnet(c.weights(), c.options);  // a .safetensors file, not a directory
  BOOST_TEST(model->load_report().ignored.empty());
  BOOST_TEST(model->feature_dim() == c.exact.size(1));
  check_float32(c, model);
  check_float64(c);
}

BOOST_AUTO_TEST_CASE(a_wrong_batch_norm_eps_is_outside_the_bounds) {
  const auto c = reference("tiny");
  auto options = c.options;
  auto model = vikcse::load_resnet(c.checkpoint, options.bn_eps(1e-3));
  const double err = max_diff(run(model, c.images), c.exact);
  const double bound = resnet_forward_bound(eps32, c);
  const double peer_bound = 4.0 * max_diff(c.torchvision32, c.exact) + eps32 * c.magnitude();
  BOOST_TEST_MESSAGE(
      fmt::format("tiny with BatchNorm eps 1e-3: max |ours - exact| = {:.3g} ({:.3g} x the derived "
                  "bound, {:.3g} x the peer bound)",
                  err, err / bound, err / peer_bound));
  BOOST_TEST(err > bound);
  BOOST_TEST(err > peer_bound);
}

BOOST_AUTO_TEST_CASE(to_dtype_keeps_integer_buffers_and_loads_them) {
  const auto c = reference("tiny");
  auto model = vikcse::load_resnet(c.checkpoint, c.options, vikcse::ResNetLoadOptions().dtype(torch::kDouble));
  const auto file = vikcse::SafetensorsFile::open(c.weights());
  BOOST_TEST(model->bn1->num_batches_tracked.scalar_type() == torch::kLong);
  BOOST_TEST(model->bn1->num_batches_tracked.item<std::int64_t>() ==
             file.load("bn1.num_batches_tracked").item<std::int64_t>());
  BOOST_TEST(model->bn1->running_var.scalar_type() == torch::kDouble);
  model->to(torch::kFloat);
  BOOST_TEST(model->conv1->weight.scalar_type() == torch::kFloat);
  BOOST_TEST(model->bn1->num_batches_tracked.scalar_type() == torch::kLong);
  BOOST_TEST(torch::equal(model->bn1->running_var, file.load("bn1.running_var")));
}

BOOST_AUTO_TEST_CASE(module_prefix_and_missing_batch_counters_are_accepted) {
  const auto c = reference("tiny");
  vikcse::testing::ScratchDir dir("vikcse-resnet-test");
  auto plain = vikcse::load_resnet(c.checkpoint, c.options);
  const auto want = run(plain, c.images);
  // A DataParallel state dict: every key under `module.`.
  const auto prefixed = edited_checkpoint("tiny", dir.path, [](auto& tensors) {
    std::map<std::string, torch::Tensor> renamed;
    for (auto& [key, tensor] : tensors) renamed.emplace("module." + key, tensor);
    tensors = std::move(renamed);
  });
  auto model = vikcse::load_resnet(prefixed, c.options);
  BOOST_TEST(model->load_report().clean());
  BOOST_TEST(torch::equal(run(model, c.images), want));
  // torchvision's weights from before PyTorch 0.4.1 have no num_batches_tracked.
  const auto old = edited_checkpoint("tiny", dir.path, [](auto& tensors) {
    std::erase_if(tensors,
                  [](const auto& item) { return item.first.find("num_batches_tracked") != std::string::npos; });
  });
  model = vikcse::load_resnet(old, c.options);
  BOOST_TEST(model->load_report().missing.empty());
  BOOST_TEST(model->bn1->num_batches_tracked.item<std::int64_t>() == 0);
  BOOST_TEST(torch::equal(run(model, c.images), want));
}

BOOST_AUTO_TEST_CASE(missing_unexpected_and_mismatched_keys_are_named) {
  const auto c = reference("tiny");
  vikcse::testing::ScratchDir dir("vikcse-resnet-test");
  const auto missing = edited_checkpoint("tiny", dir.path, [](auto& t) { t.erase("layer1.0.bn2.running_var"); });
  expect_error<vikcse::checkpoint_error>([&] { (void)vikcse::load_resnet(missing, c.options); },
                                         {missing.string(), "strict", "missing key: layer1.0.bn2.running_var"});
  // Not strict: the gap is reported instead.
  auto model = vikcse::load_resnet(missing, c.options, vikcse::ResNetLoadOptions().strict(false));
  BOOST_TEST(model->load_report().missing == std::vector<std::string>{"layer1.0.bn2.running_var"});

  const auto unexpected = edited_checkpoint("tiny", dir.path, [](auto& t) {
    t.emplace("layer5.0.conv1.weight", torch::zeros({2, 2}));
  });
  expect_error<vikcse::checkpoint_error>([&] { (void)vikcse::load_resnet(unexpected, c.options); },
                                         {"unexpected key: layer5.0.conv1.weight"});

  const auto mismatched = edited_checkpoint("tiny", dir.path, [](auto& t) {
    t["layer2.0.conv2.weight"] = torch::zeros({32, 32, 3, 3});  // groups 2: the model wants [32, 16, 3, 3]
  });
  expect_error<vikcse::checkpoint_error>(
      [&] { (void)vikcse::load_resnet(mismatched, c.options); },
      {"shape mismatch: layer2.0.conv2.weight expected [32, 16, 3, 3] got [32, 32, 3, 3]"});

  // The tiny checkpoint for ResNet-50's architecture: every convolution differs.
  expect_error<vikcse::checkpoint_error>([&] { (void)vikcse::load_resnet50(c.checkpoint); },
                                         {"shape mismatch: conv1.weight expected [64, 3, 7, 7] got [16, 3, 7, 7]"});
  expect_error<vikcse::checkpoint_error>([&] { (void)vikcse::load_resnet50(dir.path / "absent.safetensors"); },
                                         {"absent.safetensors"});
}

BOOST_AUTO_TEST_CASE(a_truncated_safetensors_file_names_the_tensor) {
  const auto c = reference("tiny");
  vikcse::testing::ScratchDir dir("vikcse-resnet-test");
  const auto path = dir.path / "truncated.safetensors";
  fs::copy_file(c.weights(), path);
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  // The first tensor (in data order) whose bytes are not all there any more.
  const auto file = vikcse::SafetensorsFile::open(path);
  const auto available = fs::file_size(path) - (size - file.data_size());
  std::string first_cut;
  for (const auto& e : file.entries()) {
    if (e.end > available) {
      first_cut = e.name;
      break;
    }
  }
  BOOST_REQUIRE(!first_cut.empty());
  BOOST_TEST_MESSAGE("truncated at " << size / 2 << " of " << size << " bytes: first incomplete tensor " << first_cut);
  expect_error<vikcse::checkpoint_error>([&] { (void)vikcse::load_resnet(path, c.options); },
                                         {"truncated", "'" + first_cut + "'"});
}

BOOST_AUTO_TEST_CASE(wrong_images_are_refused_with_their_sizes) {
  vikcse::ResNet model(vikcse::ResNetOptions().layers({1, 1, 1, 1}).base_planes(4).width_per_group(64));
  BOOST_TEST(run(model, torch::randn({2, 3, 40, 40})).sizes() == (std::vector<std::int64_t>{2, 128}));
  expect_error<c10::Error>(
      [&] {
        (void)run(model, torch::randn({3, 40, 40}));
      },
      {"ResNet expects images [batch, 3, height, width], got sizes [3, 40, 40]"});
  expect_error<c10::Error>(
      [&] {
        (void)run(model, torch::randn({2, 1, 40, 40}));
      },
      {"ResNet expects 3 channels", "got sizes [2, 1, 40, 40]"});
  expect_error<c10::Error>(
      [&] {
        (void)run(model, torch::randn({2, 3, 40, 40}, torch::kDouble));
      },
      {"dtype Double", "weights are Float"});
  expect_error<c10::Error>([&] { (void)run(model, torch::Tensor()); }, {"ResNet expects images"});
}

BOOST_AUTO_TEST_CASE(invalid_options_are_refused) {
  expect_error<vikcse::config_error>(
      [] {
        vikcse::ResNet model(vikcse::ResNetOptions().layers({3, 4, 6}));
      },
      {"layers must list 4 stages, got 3"});
  expect_error<vikcse::config_error>(
      [] {
        vikcse::ResNet model(vikcse::ResNetOptions().layers({3, 0, 6, 3}));
      },
      {"layers[1] = 0"});
  expect_error<vikcse::config_error>(
      [] { vikcse::ResNet model(vikcse::ResNetOptions().base_planes(1).width_per_group(16)); }, {"width 0"});
}

BOOST_AUTO_TEST_SUITE_END()
