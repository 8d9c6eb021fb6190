// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file encoder_options.hpp
/// The `SentenceEncoderOptions` that the model options of `vikcse_encode` and `vikcse_search` ask for
/// (kept apart from model_options.hpp, which is torch-free).

#include "model_options.hpp"

#include <vikcse/inference/sentence_encoder.hpp>

namespace vikcse::cli {

/// The `SentenceEncoderOptions` the arguments ask for.
inline SentenceEncoderOptions encoder_options(const ModelArgs& a) {
  SentenceEncoderOptions o;
  o.pooler = a.pooler;
  o.template_text = a.template_text;
  o.tokenizer = a.tokenizer;
  o.max_length = a.max_length;
  if (a.lowercase) o.lowercase = true;
  if (a.normalize) o.normalize = true;
  o.precision = a.fp32   ? Precision::float32
                : a.bf16 ? Precision::bfloat16
                : a.int8 ? Precision::int8
                         : Precision::automatic;
  return o;
}

}  // namespace vikcse::cli
