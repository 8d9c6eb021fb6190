// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file precision.hpp
/// The arithmetic a `SentenceEncoder` runs its encoder in, and the rule `automatic` follows.
///
/// `automatic` (the default) takes the fastest precision whose STS change the library has measured
/// within |ΔSpearman| <= 0.1 (x100) of float32 (`benchmarks/sentence_encoder_throughput` prints it
/// for each precision, in the same run as the float32 baseline and its peers):
///  - a CPU with AVX512-BF16 or AMX-BF16: bfloat16;
///  - any other CPU with a LibTorch quantized engine: int8 (`Int8Linear`);
///  - a GPU, or a CPU without a quantized engine: float32.
/// `float32` gives the model's exact function (what `vikcse_eval` evaluates by default). int8
/// quantizes each batch's activations with one scale, so a sentence's vector depends slightly on its
/// batch-mates (bfloat16 and float32 do not); choose `float32` where that matters.

#include <vikcse/encoder/int8_linear.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace vikcse {

/// The arithmetic of the encoder; the embeddings are float32 in every case.
enum class Precision {
  automatic,  ///< the rule of the file comment (default)
  float32,    ///< the model as trained
  bfloat16,   ///< every weight and activation in bfloat16: fast on CPUs with AVX512-BF16 and on GPUs
  int8        ///< the layers' projections with dynamically quantized int8 inputs and weights (`Int8Linear`),
              ///< the rest float32; CPU only, fast on any x86 CPU (its own kernels, not the BLAS)
};

/// The precision's name on the command line and in reports: `auto`, `fp32`, `bf16`, `int8`.
inline const char* to_string(Precision p) {
  switch (p) {
    case Precision::automatic: return "auto";
    case Precision::bfloat16: return "bf16";
    case Precision::int8: return "int8";
    default: return "fp32";
  }
}

/// Whether this CPU multiplies bfloat16 in hardware (`avx512_bf16` or `amx_bf16` in /proc/cpuinfo).
/// Without it LibTorch's bfloat16 matrix products run tens of times slower than float32.
inline bool cpu_has_bf16_hardware() {
  static const bool has = [] {
    std::ifstream in("/proc/cpuinfo");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find(" avx512_bf16") != std::string::npos || text.find(" amx_bf16") != std::string::npos;
  }();
  return has;
}

/// What `automatic` means on `device` (see the file comment); other precisions are returned as given.
inline Precision resolve_precision(Precision p, const torch::Device& device) {
  if (p != Precision::automatic) return p;
  if (!device.is_cpu()) return Precision::float32;
  if (cpu_has_bf16_hardware()) return Precision::bfloat16;
  return find_int8_engine() ? Precision::int8 : Precision::float32;
}

}  // namespace vikcse
