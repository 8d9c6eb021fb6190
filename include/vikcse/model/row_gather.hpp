// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file row_gather.hpp
/// Data-parallel training gathers what the loss sees into the global batch: each rank pools its
/// own rows, then every row-aligned tensor of the views and of the knowledge context is replaced
/// by the rows of all ranks in rank order (this rank's rows keeping their gradient). A knowledge
/// policy of your own whose context holds rows gets data parallelism by an overload
/// `gather_rows(const YourContext&, const RowGather&)` found by argument-dependent lookup.

#include <vikcse/concepts/context.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <functional>
#include <optional>

namespace vikcse {

/// Gathers a row-aligned tensor into the global batch (in data-parallel training,
/// `DataParallel::all_gather_rows`).
using RowGather = std::function<torch::Tensor(const torch::Tensor&)>;

/// The knowledge contexts of the library, gathered: `NoContext` is global already,
/// `KnowledgeRetrieval`'s bank is the same on every rank and its keys are rows,
/// `PairedImageContext`'s features are rows.
inline NoContext gather_rows(const NoContext& context, const RowGather& /*gather*/) { return context; }
inline KnowledgeRetrieval gather_rows(const KnowledgeRetrieval& context, const RowGather& gather) {
  auto out = context;
  if (out.keys.defined()) out.keys = gather(out.keys);
  if (out.mask_keys.defined()) out.mask_keys = gather(out.mask_keys);
  return out;
}
inline PairedImageContext gather_rows(const PairedImageContext& context, const RowGather& gather) {
  return {context.features.defined() ? gather(context.features) : context.features};
}

/// Every row-aligned tensor of `views` gathered into the global batch.
inline ContrastiveViews gather_views(const ContrastiveViews& views, const RowGather& gather) {
  auto one = [&](const ViewEmbeddings& v) {
    auto rows = [&](const torch::Tensor& t) { return t.defined() ? gather(t) : t; };
    return ViewEmbeddings{rows(v.z), rows(v.h), rows(v.cls)};
  };
  ContrastiveViews out{one(views.first), one(views.second), std::nullopt};
  if (views.hard_negative) out.hard_negative = one(*views.hard_negative);
  return out;
}

}  // namespace vikcse
