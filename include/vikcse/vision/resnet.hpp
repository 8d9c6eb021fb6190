// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file resnet.hpp
/// `ResNet`: torchvision's ResNet with Bottleneck blocks (ResNet-50/101/152, ResNeXt, Wide ResNet)
/// as a LibTorch module without its classifier `fc`, giving the global-average-pooled features
/// MCSE pairs with its captions (2048 values per image for ResNet-50). Registered module names are
/// torchvision's state-dict keys (`conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`,
/// `layer4.2.bn3.running_var`, ...), so a torchvision state dict saved as safetensors loads one to
/// one (`load_resnet`, `load_resnet50`).

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/load_report.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vikcse {

/// The architecture of a Bottleneck ResNet, in torchvision's terms
/// (`torchvision.models.resnet.ResNet(Bottleneck, layers, groups=..., width_per_group=...)`).
///
/// Example: `auto options = vikcse::ResNetOptions::resnet50();`
///          `auto tiny = vikcse::ResNetOptions().layers({1, 1, 1, 1}).base_planes(8).width_per_group(16);`
struct ResNetOptions {
  /// Bottleneck blocks in each of the four stages `layer1` .. `layer4`. Default: {3, 4, 6, 3}
  /// (ResNet-50; ResNet-101 is {3, 4, 23, 3}, ResNet-152 {3, 8, 36, 3}).
  TORCH_ARG(std::vector<std::int64_t>, layers) = std::vector<std::int64_t>{3, 4, 6, 3};
  /// Channels of the stem (`conv1`, `bn1`) and the `planes` of stage 1; stage i (0-based) has
  /// planes `base_planes * 2^i` and outputs `4 * base_planes * 2^i` channels. torchvision fixes it
  /// at 64; a smaller value gives the same structure at a fraction of the cost (tests). Default: 64.
  TORCH_ARG(std::int64_t, base_planes) = 64;
  /// torchvision's `width_per_group`: a block's inner width is
  /// `int(planes * width_per_group / 64) * groups`. Default: 64 (128: Wide ResNet-50-2).
  TORCH_ARG(std::int64_t, width_per_group) = 64;
  /// Groups of each block's 3x3 convolution (torchvision's `groups`). Default: 1 (32: ResNeXt).
  TORCH_ARG(std::int64_t, groups) = 1;
  /// Channels of the input images. Default: 3.
  TORCH_ARG(std::int64_t, in_channels) = 3;
  /// BatchNorm epsilon (torchvision's `nn.BatchNorm2d` default). Default: 1e-5.
  TORCH_ARG(double, bn_eps) = 1e-5;

public:
  /// torchvision's `resnet50`: Bottleneck, {3, 4, 6, 3}, width 64; 2048 features.
  static ResNetOptions resnet50() { return ResNetOptions(); }
  /// torchvision's `resnet101`: {3, 4, 23, 3}.
  static ResNetOptions resnet101() { return ResNetOptions().layers({3, 4, 23, 3}); }
  /// torchvision's `resnet152`: {3, 8, 36, 3}.
  static ResNetOptions resnet152() { return ResNetOptions().layers({3, 8, 36, 3}); }

  /// Output channels of stage `stage` (0-based): `4 * base_planes * 2^stage`.
  [[nodiscard]] std::int64_t stage_channels(int stage) const { return 4 * base_planes() * (std::int64_t{1} << stage); }
  /// Inner (3x3) width of the blocks of stage `stage`, as torchvision computes it.
  [[nodiscard]] std::int64_t stage_width(int stage) const {
    return base_planes() * (std::int64_t{1} << stage) * width_per_group() / 64 * groups();
  }
  /// The length of the feature vector: the last stage's channels (2048 for ResNet-50).
  [[nodiscard]] std::int64_t feature_dim() const { return stage_channels(3); }

  /// Throws config_error naming the first invalid field.
  void validate() const {
    if (layers().size() != 4) {
      throw_error<config_error>("ResNetOptions: layers must list 4 stages, got {} ([{}])", layers().size(),
                                fmt::join(layers(), ", "));
    }
    for (std::size_t i = 0; i < layers().size(); ++i) {
      if (layers()[i] < 1) throw_error<config_error>("ResNetOptions: layers[{}] = {}, must be >= 1", i, layers()[i]);
    }
    if (base_planes() < 1) throw_error<config_error>("ResNetOptions: base_planes = {}, must be >= 1", base_planes());
    if (groups() < 1) throw_error<config_error>("ResNetOptions: groups = {}, must be >= 1", groups());
    if (in_channels() < 1) throw_error<config_error>("ResNetOptions: in_channels = {}, must be >= 1", in_channels());
    if (!(bn_eps() > 0.0)) throw_error<config_error>("ResNetOptions: bn_eps = {}, must be > 0", bn_eps());
    if (stage_width(0) < 1) {
      throw_error<config_error>("ResNetOptions: base_planes {} with width_per_group {} gives blocks of width 0",
                                base_planes(), width_per_group());
    }
  }
};

namespace detail {

/// A convolution without bias, as torchvision's `conv1x1` / `conv3x3` / stem.
inline torch::nn::Conv2d resnet_conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                                     std::int64_t groups = 1) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).groups(groups).bias(false));
}

/// A BatchNorm2d with running statistics (`weight`, `bias`, `running_mean`, `running_var`,
/// `num_batches_tracked`), as torchvision's `nn.BatchNorm2d`.
inline torch::nn::BatchNorm2d resnet_norm(std::int64_t channels, double eps) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(eps));
}

}  // namespace detail

/// torchvision's `Bottleneck` (ResNet v1.5: the stride is on the 3x3 convolution):
/// `relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + downsample(x))`.
/// Keys: `conv1`, `bn1`, `conv2`, `bn2`, `conv3`, `bn3`, and `downsample.0` (1x1 convolution),
/// `downsample.1` (BatchNorm) when the stride or the channel count changes.
class ResNetBottleneckImpl : public torch::nn::Module {
public:
  /// @param in_channels channels of the block's input
  /// @param width inner width (the 3x3 convolution's channels)
  /// @param out_channels channels of the output (4 * planes)
  /// @param stride stride of the 3x3 convolution and of the downsampling shortcut
  /// @param groups groups of the 3x3 convolution
  /// @param eps BatchNorm epsilon
  ResNetBottleneckImpl(std::int64_t in_channels, std::int64_t width, std::int64_t out_channels, std::int64_t stride,
                       std::int64_t groups, double eps) {
    conv1 = register_module("conv1", detail::resnet_conv(in_channels, width, 1, 1));
    bn1 = register_module("bn1", detail::resnet_norm(width, eps));
    conv2 = register_module("conv2", detail::resnet_conv(width, width, 3, stride, groups));
    bn2 = register_module("bn2", detail::resnet_norm(width, eps));
    conv3 = register_module("conv3", detail::resnet_conv(width, out_channels, 1, 1));
    bn3 = register_module("bn3", detail::resnet_norm(out_channels, eps));
    if (stride != 1 || in_channels != out_channels) {
      downsample =
          register_module("downsample", torch::nn::Sequential(detail::resnet_conv(in_channels, out_channels, 1, stride),
                                                              detail::resnet_norm(out_channels, eps)));
    }
  }

  /// [B, in_channels, H, W] -> [B, out_channels, H / stride, W / stride].
  torch::Tensor forward(const torch::Tensor& x) {
    auto out = torch::relu(bn1(conv1(x)));
    out = torch::relu(bn2(conv2(out)));
    out = bn3(conv3(out));
    return torch::relu(out + (downsample ? downsample->forward(x) : x));
  }

  torch::nn::Conv2d conv1{nullptr};           ///< 1x1, in_channels -> width
  torch::nn::BatchNorm2d bn1{nullptr};        ///< after conv1
  torch::nn::Conv2d conv2{nullptr};           ///< 3x3 with the block's stride and groups, width -> width
  torch::nn::BatchNorm2d bn2{nullptr};        ///< after conv2
  torch::nn::Conv2d conv3{nullptr};           ///< 1x1, width -> out_channels
  torch::nn::BatchNorm2d bn3{nullptr};        ///< after conv3
  torch::nn::Sequential downsample{nullptr};  ///< 1x1 convolution + BatchNorm; empty when the shortcut is the identity
};
TORCH_MODULE(ResNetBottleneck);

/// torchvision's ResNet with Bottleneck blocks and without `fc`: images [B, C, H, W] -> the
/// global-average-pooled features [B, feature_dim] (2048 for ResNet-50), i.e. torchvision's
/// `model.fc = nn.Identity(); model(images)`.
///
/// The module is built in eval mode: BatchNorm normalises with its running statistics, as a
/// frozen feature extractor needs; `train()` switches it to batch statistics, as in torchvision.
/// `to(dtype)` converts the floating-point parameters and buffers only (as PyTorch's
/// `Module.to`), so `num_batches_tracked` stays int64. Weights start as torchvision initialises
/// them (Kaiming-normal convolutions, BatchNorm 1/0); load real ones with `load_resnet`.
///
/// Example: `vikcse::ResNet net(vikcse::ResNetOptions::resnet50());`
///          `torch::Tensor features = net->forward(images);  // [B, 2048]`
class ResNetImpl : public torch::nn::Module {
public:
  /// Builds the network of `options` (validated: throws config_error).
  explicit ResNetImpl(ResNetOptions options = ResNetOptions()) : options_(std::move(options)) {
    options_.validate();
    conv1 = register_module(
        "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(options_.in_channels(), options_.base_planes(), 7)
                                       .stride(2)
                                       .padding(3)
                                       .bias(false)));
    bn1 = register_module("bn1", detail::resnet_norm(options_.base_planes(), options_.bn_eps()));
    std::int64_t channels = options_.base_planes();
    torch::nn::Sequential* stages[] = {&layer1, &layer2, &layer3, &layer4};
    for (int s = 0; s < 4; ++s) {
      torch::nn::Sequential stage;
      for (std::int64_t b = 0; b < options_.layers()[static_cast<std::size_t>(s)]; ++b) {
        const std::int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        stage->push_back(ResNetBottleneck(channels, options_.stage_width(s), options_.stage_channels(s), stride,
                                          options_.groups(), options_.bn_eps()));
        channels = options_.stage_channels(s);
      }
      *stages[s] = register_module(fmt::format("layer{}", s + 1), stage);
    }
    init_weights();
    eval();
  }

  /// Features of `images` [B, in_channels, H, W] (the parameters' dtype and device): [B, feature_dim].
  /// Throws c10::Error naming the expected and given sizes or dtype.
  torch::Tensor forward(const torch::Tensor& images) {
    return torch::flatten(torch::adaptive_avg_pool2d(feature_map(images), {1, 1}), 1);
  }

  /// The last stage's output before pooling: [B, feature_dim, H / 32, W / 32] (rounded up).
  torch::Tensor feature_map(const torch::Tensor& images) {
    TORCH_CHECK(images.defined() && images.dim() == 4, "ResNet expects images [batch, ", options_.in_channels(),
                ", height, width], got sizes ", images.defined() ? images.sizes() : torch::IntArrayRef{});
    TORCH_CHECK(images.size(1) == options_.in_channels(), "ResNet expects ", options_.in_channels(),
                " channels in dimension 1 of images [batch, channels, height, width], got sizes ", images.sizes());
    TORCH_CHECK(images.scalar_type() == conv1->weight.scalar_type(), "ResNet images have dtype ", images.scalar_type(),
                " but the weights are ", conv1->weight.scalar_type(), "; convert the images or call to(dtype)");
    TORCH_CHECK(images.device() == conv1->weight.device(), "ResNet images are on ", images.device(),
                " but the weights are on ", conv1->weight.device());
    auto x = torch::relu(bn1(conv1(images)));
    x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
    x = layer1->forward(x);
    x = layer2->forward(x);
    x = layer3->forward(x);
    return layer4->forward(x);
  }

  /// torchvision's initialisation: convolutions Kaiming-normal (fan_out, ReLU), BatchNorm weight 1,
  /// bias 0, running statistics 0/1.
  void init_weights() {
    torch::NoGradGuard no_grad;
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* conv = module->as<torch::nn::Conv2d>()) {
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      } else if (auto* norm = module->as<torch::nn::BatchNorm2d>()) {
        norm->reset_parameters();
      }
    }
  }

  /// Converts the floating-point parameters and buffers to `dtype`; integer buffers
  /// (`num_batches_tracked`) keep theirs.
  void to(torch::Dtype dtype, bool non_blocking = false) override { convert(std::nullopt, dtype, non_blocking); }
  /// Moves to `device` and converts the floating-point parameters and buffers to `dtype`.
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override {
    convert(device, dtype, non_blocking);
  }
  using torch::nn::Module::to;  // to(device): every tensor moves, none changes dtype

  /// The architecture.
  [[nodiscard]] const ResNetOptions& options() const { return options_; }
  /// The length of the feature vector (2048 for ResNet-50).
  [[nodiscard]] std::int64_t feature_dim() const { return options_.feature_dim(); }

  /// What the `load_resnet` that built this model loaded (ignored keys: the classifier `fc`);
  /// empty for a model not loaded from a checkpoint.
  [[nodiscard]] const LoadReport& load_report() const { return load_report_; }
  /// Records the report of the load that filled this model (called by `load_resnet`).
  void set_load_report(LoadReport report) { load_report_ = std::move(report); }

  torch::nn::Conv2d conv1{nullptr};       ///< the stem: 7x7, stride 2, in_channels -> base_planes
  torch::nn::BatchNorm2d bn1{nullptr};    ///< after the stem (then ReLU and a 3x3 max pool of stride 2)
  torch::nn::Sequential layer1{nullptr};  ///< stage 1: `layers[0]` ResNetBottleneck blocks, stride 1
  torch::nn::Sequential layer2{nullptr};  ///< stage 2: `layers[1]` blocks, the first of stride 2
  torch::nn::Sequential layer3{nullptr};  ///< stage 3: `layers[2]` blocks, the first of stride 2
  torch::nn::Sequential layer4{nullptr};  ///< stage 4: `layers[3]` blocks, the first of stride 2

private:
  void convert(std::optional<torch::Device> device, torch::Dtype dtype, bool non_blocking) {
    auto move = [&](torch::Tensor& t) {
      const auto target = t.is_floating_point() ? dtype : t.scalar_type();
      t.set_data(device ? t.to(*device, target, non_blocking) : t.to(target, non_blocking));
    };
    for (auto& item : named_parameters(/*recurse=*/true)) move(item.value());
    for (auto& item : named_buffers(/*recurse=*/true)) move(item.value());
  }

  ResNetOptions options_;
  LoadReport load_report_;
};
TORCH_MODULE(ResNet);

/// Options of `load_resnet`.
struct ResNetLoadOptions {
  /// Throw checkpoint_error when a model key is missing, a checkpoint key is unexpected or a shape
  /// differs (the message lists them with both shapes). Default: true.
  TORCH_ARG(bool, strict) = true;
  /// Device to load onto. Default: CPU.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Dtype of the floating-point parameters and buffers (float32, float64, bfloat16, float16).
  /// Default: float32.
  TORCH_ARG(torch::Dtype, dtype) = torch::kFloat;
};

/// How a torchvision ResNet state-dict key maps onto `ResNetImpl`: the key itself, without one
/// leading `module.` (a state dict saved from `nn.DataParallel` / `DistributedDataParallel`); the
/// classifier `fc.weight` / `fc.bias` is ignored (the model has no `fc`; it is listed under
/// `LoadReport::ignored`).
inline MappedKey map_resnet_key(const std::string& key) {
  std::string k = key.rfind("module.", 0) == 0 ? key.substr(7) : key;
  if (k.rfind("fc.", 0) == 0) return {std::nullopt};
  return {k};
}

namespace detail {

/// The tensors of a ResNet checkpoint: a `.safetensors` file, a `torch.save` state-dict file, or a
/// directory read by `read_checkpoint_tensors`.
inline std::map<std::string, torch::Tensor> read_resnet_tensors(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) return read_checkpoint_tensors(path);
  if (!fs::exists(path))
    throw_error<checkpoint_error>("{}: no such ResNet checkpoint file or directory", path.string());
  if (path.extension() == ".safetensors") return SafetensorsFile::open(path).load_all();
  return read_torch_pickle(path);
}

}  // namespace detail

/// Loads a torchvision ResNet checkpoint into a `ResNet` of `options`, returned in eval mode.
///
/// `path` is a `.safetensors` file, a `torch.save(state_dict)` file (`.pth`, `.pt`, `.bin`) or a
/// directory holding `model.safetensors` (or shards, or `pytorch_model.bin`). Keys are
/// torchvision's (`map_resnet_key`: the classifier `fc.*` is ignored, a `module.` prefix dropped).
/// A checkpoint without `num_batches_tracked` (torchvision's weights from before PyTorch 0.4.1) is
/// accepted and the counters stay 0, as PyTorch's BatchNorm loader does; the counter is not used
/// in eval mode. Strict mode (default) throws checkpoint_error naming every missing, unexpected
/// or shape-mismatched key with both shapes; otherwise the gaps are in `load_report()`.
/// A truncated safetensors file throws checkpoint_error naming the first tensor whose bytes are
/// missing.
///
/// Example: `auto net = vikcse::load_resnet("weights/resnet50.safetensors");`
///          `torch::Tensor features = net->forward(images);  // [B, 2048], images ImageNet-normalised`
inline ResNet load_resnet(const std::filesystem::path& path, const ResNetOptions& options = ResNetOptions::resnet50(),
                          const ResNetLoadOptions& load = ResNetLoadOptions()) {
  const auto tensors = detail::read_resnet_tensors(path);
  ResNet model(options);
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& [key, tensor] : tensors) shapes.emplace(key, tensor.sizes().vec());
  auto report = match_checkpoint(*model, shapes, map_resnet_key);
  std::erase_if(report.missing, [](const std::string& key) {
    const std::string counter = "num_batches_tracked";
    return key.size() >= counter.size() && key.compare(key.size() - counter.size(), counter.size(), counter) == 0;
  });
  if (load.strict() && !report.clean()) {
    throw_error<checkpoint_error>("{}: checkpoint does not match the ResNet (strict mode): {}", path.string(),
                                  report.summary());
  }
  load_state_dict(*model, tensors, map_resnet_key, /*strict=*/false, path.string());
  model->to(load.device(), load.dtype());
  model->eval();
  model->set_load_report(std::move(report));
  return model;
}

/// `load_resnet` with torchvision's ResNet-50 architecture: the 2048-d image features of MCSE.
///
/// Example: `auto net = vikcse::load_resnet50("weights/resnet50");  // a directory with model.safetensors`
inline ResNet load_resnet50(const std::filesystem::path& path, const ResNetLoadOptions& load = ResNetLoadOptions()) {
  return load_resnet(path, ResNetOptions::resnet50(), load);
}

}  // namespace vikcse
