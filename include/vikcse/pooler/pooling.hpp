// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file pooling.hpp
/// Inference poolers (README.md#poolers-and-heads): functions from an `EncoderOutput` (+ the `TokenBatch` it
/// was computed from) to sentence embeddings `[B, H]`. Let h^l be the output of layer l (h^0 the
/// embedding output, `hidden_states[l]`) and m the attention mask.
///
/// | pooler              | definition                                                    |
/// |---------------------|---------------------------------------------------------------|
/// | `cls`               | head(h^last[:, 0]); head = BERT's pooler (`pooler_output`) or a given MLP |
/// | `cls_before_pooler` | h^last[:, 0]                                                  |
/// | `avg`               | masked mean of h^last (includes [CLS]/[SEP])                  |
/// | `avg_top2`          | masked mean of (h^last + h^{last-1}) / 2                      |
/// | `avg_first_last`    | masked mean of (h^first + h^last) / 2, first = h^0 or h^1     |
/// | `mask`              | h^last at the (unique) mask-token position of each row        |
/// | `max`               | per-dimension max of h^last over positions with m = 1         |
/// | `mean_sqrt_len`     | masked sum of h^last / sqrt(number of positions with m = 1)   |
/// | `weighted_mean`     | sum_t t·m_t·h^last_t / sum_t t·m_t, positions t counted from 1 |
/// | `last_token`        | h^last at the last position with m = 1 (right padding)        |
///
/// The last four are sentence-transformers' `Pooling` modes (`max_tokens`, `mean_sqrt_len_tokens`,
/// `weightedmean_tokens`, `lasttoken`) with their definitions; `cls_before_pooler` is its `cls_token`
/// and `avg` its `mean_tokens`.

#include <vikcse/error.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

namespace vikcse {

/// Which layer is "first" for `avg_first_last`.
enum class FirstLayer {
  embeddings,  ///< h^0, the embedding output (PromptBERT code; SimCSE paper numbers)
  layer1,      ///< h^1, the first transformer layer (SimCSE's current code)
};

namespace detail::pooler {

inline const torch::Tensor& pooling_mask(const EncoderOutput& output, const TokenBatch& batch) {
  if (batch.attention_mask.defined()) return batch.attention_mask;
  if (output.attention_mask.defined()) return output.attention_mask;
  throw_error<invalid_argument>("pooling: neither the batch nor the encoder output has an attention mask");
}

inline void require_last(const EncoderOutput& output, const char* pooler) {
  if (!output.last_hidden_state.defined() || output.last_hidden_state.dim() != 3) {
    throw_error<invalid_argument>("pooler '{}': expected last_hidden_state [B, T, H]", pooler);
  }
}

inline const torch::Tensor& hidden_state(const EncoderOutput& output, std::size_t index, const char* pooler) {
  if (output.hidden_states.size() <= index) {
    throw_error<invalid_argument>(
        "pooler '{}': needs hidden_states[{}] but the encoder output has {} hidden states (run the encoder with "
        "output_hidden_states = true)",
        pooler, index, output.hidden_states.size());
  }
  return output.hidden_states[index];
}

}  // namespace detail::pooler

/// Mean of `states` `[B, T, H]` over positions where `mask` `[B, T]` is 1.
/// @throws vikcse::invalid_argument when a row has no position with mask 1.
inline torch::Tensor masked_mean(const torch::Tensor& states, const torch::Tensor& mask) {
  const auto m = mask.to(states.dtype()).unsqueeze(-1);
  const auto counts = m.sum(1);
  if ((counts == 0).any().item<bool>())
    throw_error<invalid_argument>("masked_mean: a row has an all-zero attention mask");
  return (states * m).sum(1) / counts;
}

/// `cls_before_pooler`: the last layer's state at position 0 ([CLS] / `<s>`).
inline torch::Tensor cls_before_pooler(const EncoderOutput& output) {
  detail::pooler::require_last(output, "cls_before_pooler");
  return output.last_hidden_state.select(1, 0);
}

/// `cls`: the [CLS] state through a head. Without `head`, BERT's pretrained pooler output
/// (`tanh(dense(h[:, 0]))`) is used; with `head` (e.g. a SimCSE MLP), `head(h^last[:, 0])`.
/// @throws vikcse::invalid_argument when no head is given and the encoder has no pooling layer.
inline torch::Tensor cls_pooler(const EncoderOutput& output,
                                const std::function<torch::Tensor(const torch::Tensor&)>& head = nullptr) {
  if (head) return head(cls_before_pooler(output));
  if (!output.pooler_output.defined()) {
    throw_error<invalid_argument>(
        "pooler 'cls': the encoder output has no pooler_output (model built without a pooling layer); give an MLP "
        "head or use 'cls_before_pooler'");
  }
  return output.pooler_output;
}

/// `avg`: masked mean of the last layer (special tokens included).
inline torch::Tensor avg_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "avg");
  return masked_mean(output.last_hidden_state, detail::pooler::pooling_mask(output, batch));
}

/// `avg_top2`: masked mean of the average of the last two layers. Needs hidden states.
inline torch::Tensor avg_top2_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "avg_top2");
  if (output.hidden_states.size() < 3) {
    throw_error<invalid_argument>(
        "pooler 'avg_top2': needs at least 3 hidden states (embeddings + 2 layers), got {} (run the encoder with "
        "output_hidden_states = true)",
        output.hidden_states.size());
  }
  const auto& second_last = output.hidden_states[output.hidden_states.size() - 2];
  return masked_mean((output.last_hidden_state + second_last) / 2.0, detail::pooler::pooling_mask(output, batch));
}

/// `avg_first_last`: masked mean of the average of the first and the last layer; `first` chooses
/// the embedding output or the first transformer layer. Needs hidden states.
inline torch::Tensor avg_first_last_pooler(const EncoderOutput& output, const TokenBatch& batch,
                                           FirstLayer first = FirstLayer::embeddings) {
  detail::pooler::require_last(output, "avg_first_last");
  const auto& h_first = detail::pooler::hidden_state(output, first == FirstLayer::embeddings ? 0 : 1, "avg_first_last");
  return masked_mean((h_first + output.last_hidden_state) / 2.0, detail::pooler::pooling_mask(output, batch));
}

/// Position of the mask token in each row of `input_ids` `[B, T]` (`[B]` int64).
/// On the CPU, a row with no or several mask tokens throws, naming the row. On a GPU the check is
/// a device-side assertion (`_assert_async`), so that a training step does not wait for the GPU
/// here; such a row cannot come from the collator, which drops rows whose mask token was cut.
/// @throws vikcse::invalid_argument naming the first row that has no or several mask tokens (CPU).
inline torch::Tensor mask_positions(const torch::Tensor& input_ids, std::int64_t mask_token_id) {
  const auto is_mask = input_ids.eq(mask_token_id);
  const auto counts = is_mask.sum(1);
  if (!input_ids.is_cpu()) {
    at::_assert_async(counts.eq(1).all());
    return is_mask.to(torch::kLong).argmax(1);
  }
  const auto bad = (counts != 1).nonzero();
  if (bad.size(0) > 0) {
    const auto row = bad[0][0].item<std::int64_t>();
    throw_error<invalid_argument>(
        "pooler 'mask': row {} has {} mask tokens (id {}), expected exactly 1 (template without a mask token, or the "
        "mask truncated away?)",
        row, counts[row].item<std::int64_t>(), mask_token_id);
  }
  return is_mask.to(torch::kLong).argmax(1);
}

/// `mask`: the last layer's state at the mask-token position of each row (PromptBERT h_mask).
inline torch::Tensor mask_pooler(const EncoderOutput& output, const TokenBatch& batch, std::int64_t mask_token_id) {
  detail::pooler::require_last(output, "mask");
  if (!batch.input_ids.defined()) throw_error<invalid_argument>("pooler 'mask': the batch has no input_ids");
  const auto positions = mask_positions(batch.input_ids, mask_token_id).to(output.last_hidden_state.device());
  const auto rows = torch::arange(output.last_hidden_state.size(0),
                                  torch::TensorOptions().dtype(torch::kLong).device(positions.device()));
  return output.last_hidden_state.index({rows, positions});
}

/// `max`: the largest value of each dimension of h^last over the positions whose mask is 1 (a masked
/// position counts as -1e9, as sentence-transformers sets it).
inline torch::Tensor max_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "max");
  const auto& h = output.last_hidden_state;
  const auto keep = detail::pooler::pooling_mask(output, batch).to(h.device()).unsqueeze(-1).to(torch::kBool);
  return h.masked_fill(keep.logical_not(), -1e9).amax(1);
}

/// `mean_sqrt_len`: the masked sum of h^last divided by the square root of the row's token count.
inline torch::Tensor mean_sqrt_len_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "mean_sqrt_len");
  const auto& h = output.last_hidden_state;
  const auto m = detail::pooler::pooling_mask(output, batch).to(h.device(), h.scalar_type()).unsqueeze(-1);
  return (h * m).sum(1) / m.sum(1).clamp_min(1e-9).sqrt();
}

/// `weighted_mean`: position-weighted mean of h^last, position t (from 1) weighing t.
inline torch::Tensor weighted_mean_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "weighted_mean");
  const auto& h = output.last_hidden_state;
  const auto m = detail::pooler::pooling_mask(output, batch).to(h.device(), h.scalar_type());
  const auto w = (m * torch::arange(1, h.size(1) + 1, m.options()).unsqueeze(0)).unsqueeze(-1);
  return (h * w).sum(1) / w.sum(1).clamp_min(1e-9);
}

/// `last_token`: h^last at the position before the first masked one (the last position when no
/// position is masked), i.e. the last real token of a right-padded row.
inline torch::Tensor last_token_pooler(const EncoderOutput& output, const TokenBatch& batch) {
  detail::pooler::require_last(output, "last_token");
  const auto& h = output.last_hidden_state;
  const auto mask = detail::pooler::pooling_mask(output, batch).to(h.device(), torch::kLong);
  const auto [smallest, first_zero] = mask.min(1);
  const auto last = torch::where(smallest.eq(0), first_zero, torch::full_like(first_zero, h.size(1))) - 1;
  const auto rows = torch::arange(h.size(0), last.options());
  return h.index({rows, last.clamp_min(0)});
}

}  // namespace vikcse
