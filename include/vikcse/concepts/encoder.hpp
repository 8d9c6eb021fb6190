// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file encoder.hpp
/// The `Encoder` concept: a LibTorch module holder that turns a `TokenBatch` into an
/// `EncoderOutput` (BertModel, RobertaModel, AutoModel satisfy it).

#include <vikcse/types.hpp>

#include <torch/nn/module.h>

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace vikcse {

/// A LibTorch module holder (`torch::nn::ModuleHolder<Impl>`): `M::ContainedType` derives from
/// `torch::nn::Module`, `m.ptr()` gives the shared module, and `M` is copyable (holders share).
template <typename M>
concept TorchModuleHolder = requires(const M& m) {
  typename M::ContainedType;
  requires std::derived_from<typename M::ContainedType, torch::nn::Module>;
  { m.ptr() } -> std::convertible_to<std::shared_ptr<typename M::ContainedType>>;
}
&&std::copy_constructible<M>;

/// An encoder policy.
///
/// Requirements: `TorchModuleHolder<E>`;
/// `e->forward(const TokenBatch&, bool output_hidden_states) -> EncoderOutput` (dropout in train
/// mode only). That is all the host calls.
template <typename E>
concept Encoder = TorchModuleHolder<E> && requires(E e, const TokenBatch& batch) {
  { e->forward(batch, true) } -> std::same_as<EncoderOutput>;
};

/// An encoder whose width the method recipes can read to size the heads and losses
/// (vikcse/methods/recipes.hpp): `e->hidden_size() -> std::int64_t`.
template <typename E>
concept SizedEncoder = Encoder<E> && requires(E e) {
  { e->hidden_size() } -> std::convertible_to<std::int64_t>;
};

}  // namespace vikcse
