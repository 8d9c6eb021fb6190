// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file auto_model.hpp
/// `AutoModel`: a BERT or RoBERTa encoder chosen by `config.json`'s `model_type`, loaded from and
/// saved to a Hugging Face checkpoint directory.

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/encoder/bert.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <memory>

namespace vikcse {

/// Options of `AutoModel::from_pretrained`.
struct LoadOptions {
  /// Throw when the checkpoint misses a model key, has an unexpected one, or a shape differs.
  /// Default: true.
  bool strict = true;
  /// Build the pooler (`pooler.dense`) only when the checkpoint has its weights. Default: true.
  bool pooler_from_checkpoint = true;
  /// Device to load onto. Default: CPU.
  torch::Device device = torch::kCPU;
  /// Parameter dtype (float32, bfloat16 or float16). Default: float32.
  torch::Dtype dtype = torch::kFloat;
};

/// A holder of a BERT-family encoder (`BertModelImpl`, or `RobertaModelImpl` for RoBERTa).
///
/// Example: `auto model = vikcse::AutoModel::from_pretrained("checkpoints/bert-base-uncased");`
///          `vikcse::EncoderOutput out = model->forward(batch);`
class AutoModel : public torch::nn::ModuleHolder<BertModelImpl> {
public:
  /// An empty holder (as LibTorch's `Module model{nullptr}`).
  AutoModel(std::nullptr_t) : ModuleHolder(nullptr) {}  // NOLINT: implicit like LibTorch holders

  /// Wraps an existing encoder.
  explicit AutoModel(std::shared_ptr<BertModelImpl> module) : ModuleHolder(std::move(module)) {}

  /// A randomly initialised encoder of `config` (RoBERTa when config.model_type is "roberta").
  explicit AutoModel(const BertConfig& config, BertModelOptions options = {}) : ModuleHolder(make(config, options)) {}

  /// Loads `config.json` and the weights of a Hugging Face checkpoint directory. The report of
  /// the load is available from `load_report()` (strict mode throws instead of reporting gaps).
  static AutoModel from_pretrained(const std::filesystem::path& dir, const LoadOptions& options = {}) {
    if (!std::filesystem::is_directory(dir)) {
      throw_error<checkpoint_error>("{}: checkpoint directory does not exist", dir.string());
    }
    auto config = BertConfig::from_json_file(dir / "config.json");
    auto tensors = read_checkpoint_tensors(dir);
    const std::string prefix = config.model_type;
    BertModelOptions model_options;
    if (options.pooler_from_checkpoint) {
      model_options.add_pooling_layer = false;
      for (const auto& [key, tensor] : tensors) {
        auto mapped = map_bert_family_key(key, prefix);
        if (mapped.model_key && mapped.model_key->rfind("pooler.", 0) == 0) model_options.add_pooling_layer = true;
      }
    }
    AutoModel model(config, model_options);
    model.report_ = std::make_shared<LoadReport>(load_state_dict(
        *model, tensors, [&](const std::string& key) { return map_bert_family_key(key, prefix); }, options.strict,
        dir.string()));
    model->to(options.device, options.dtype);
    return model;
  }

  /// Writes `config.json` and `model.safetensors` (keys without a prefix, as Hugging Face's
  /// `BertModel.save_pretrained` does), each atomically.
  void save_pretrained(const std::filesystem::path& dir) const {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot create checkpoint directory: {}", dir.string(), ec.message());
    save_state_dict(*ptr(), dir / "model.safetensors");
    get()->config().save(dir / "config.json");
  }

  /// The configuration of the encoder.
  [[nodiscard]] const BertConfig& config() const { return get()->config(); }

  /// The encoder as a plain module (for optimisers, `to(device)`, state dicts).
  [[nodiscard]] std::shared_ptr<torch::nn::Module> module() const { return ptr(); }

  /// What the last `from_pretrained` loaded; empty for a randomly initialised model.
  [[nodiscard]] const LoadReport& load_report() const {
    static const LoadReport empty;
    return report_ ? *report_ : empty;
  }

private:
  static std::shared_ptr<BertModelImpl> make(const BertConfig& config, BertModelOptions options) {
    config.validate();
    if (config.model_type == "roberta") return std::make_shared<RobertaModelImpl>(config, options);
    return std::make_shared<BertModelImpl>(config, options);
  }

  std::shared_ptr<LoadReport> report_;
};

}  // namespace vikcse
