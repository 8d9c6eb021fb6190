// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file int8_linear.hpp
/// A linear layer with dynamically quantized int8 inputs and weights, through LibTorch's quantized
/// engines (`quantized::linear_prepack` / `quantized::linear_dynamic`): the weights are quantized
/// once, per output row, symmetric (scale = max|w_row| / 127.5, zero point 0, as PyTorch's
/// `per_channel_dynamic_qconfig`); each call quantizes its input per tensor from the input's
/// min/max to 7 bits (see `pack`), multiplies in int8 with int32 accumulation, and returns float32 with the bias added.
/// The engine picks its own CPU kernels (AVX-512 VNNI, AVX2, ...), whatever BLAS LibTorch uses for
/// float32. CPU only, inference only.

#include <vikcse/error.hpp>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// The quantized engine `Int8Linear` packs for: the first LibTorch supports of x86 (LibTorch 2.x),
/// FBGEMM, oneDNN, QNNPACK; nullopt when it supports none of them.
inline std::optional<c10::QEngine> find_int8_engine() {
  const auto supported = at::globalContext().supportedQEngines();
  for (auto engine : {c10::QEngine::X86, c10::QEngine::FBGEMM, c10::QEngine::ONEDNN, c10::QEngine::QNNPACK}) {
    for (auto s : supported) {
      if (s == engine) return engine;
    }
  }
  return std::nullopt;
}

/// `find_int8_engine()`, required. @throws vikcse::config_error when LibTorch has no such engine.
inline c10::QEngine int8_engine() {
  if (const auto engine = find_int8_engine()) return *engine;
  throw_error<config_error>(
      "int8: this LibTorch has no quantized engine (it supports none of x86, FBGEMM, "
      "oneDNN, QNNPACK)");
}

/// The engine's name as PyTorch spells it (`torch.backends.quantized.engine`).
inline std::string int8_engine_name(c10::QEngine engine) {
  switch (engine) {
    case c10::QEngine::X86: return "x86";
    case c10::QEngine::FBGEMM: return "fbgemm";
    case c10::QEngine::ONEDNN: return "onednn";
    case c10::QEngine::QNNPACK: return "qnnpack";
    default: return "none";
  }
}

/// `y = x W^T + b` with int8 dynamic quantization (see the file comment).
class Int8Linear {
public:
  Int8Linear() = default;

  /// Quantizes `weight` [out, in] (float) per output row and packs it with `bias` [out] for the
  /// engine `int8_engine()`.
  static Int8Linear pack(const torch::Tensor& weight, const torch::Tensor& bias) {
    TORCH_CHECK(weight.dim() == 2 && bias.dim() == 1 && bias.size(0) == weight.size(0),
                "Int8Linear: weight must be [out, in] and bias [out], got ", weight.sizes(), " and ", bias.sizes());
    const auto w = weight.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const auto scales = (w.abs().amax(1) / 127.5).clamp_min(1e-12).to(torch::kDouble);
    const auto zero_points = torch::zeros({w.size(0)}, torch::kLong);
    const auto q = torch::quantize_per_channel(w, scales, zero_points, 0, torch::kQInt8);
    const auto engine = int8_engine();
    auto& context = at::globalContext();
    const auto previous = context.qEngine();
    context.setQEngine(engine);
    static const auto prepack = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
    torch::jit::Stack stack{q, c10::optional<torch::Tensor>(bias.detach().to(torch::kCPU, torch::kFloat).contiguous())};
    try {
      prepack.callBoxed(&stack);
    } catch (...) {
      context.setQEngine(previous);
      throw;
    }
    context.setQEngine(previous);
    Int8Linear out;
    out.packed_ = std::move(stack.at(0));
    // 7-bit activations (reduce_range) on the x86 engines: without VNNI their kernels sum pairs of
    // u8·s8 products in 16 bits (vpmaddubsw), which saturates for 8-bit activations. Measured on an
    // AVX2 CPU with oneDNN: a [7, 32]·[48, 32]ᵀ product was 0.58 off (|y| ~ 1) with 8 bits, 0.028
    // with 7, exactly what quantizing the input to 7 bits predicts. QNNPACK ignores the flag.
    out.reduce_range_ = engine != c10::QEngine::QNNPACK;
    out.out_features_ = w.size(0);
    return out;
  }

  /// `x` [..., in] float32 on the CPU → [..., out] float32.
  torch::Tensor operator()(const torch::Tensor& x) const {
    TORCH_CHECK(!packed_.isNone(), "Int8Linear: not packed");
    static const auto linear = c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_dynamic", "");
    auto sizes = x.sizes().vec();
    torch::jit::Stack stack{x.reshape({-1, x.size(-1)}).contiguous(), packed_, reduce_range_};
    linear.callBoxed(&stack);
    sizes.back() = out_features_;
    return stack.at(0).toTensor().view(sizes);
  }

  /// Whether `pack` has filled this layer.
  [[nodiscard]] bool packed() const { return !packed_.isNone(); }

private:
  c10::IValue packed_;
  bool reduce_range_ = false;
  std::int64_t out_features_ = 0;
};

}  // namespace vikcse
