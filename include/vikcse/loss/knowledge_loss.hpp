// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file knowledge_loss.hpp
/// `KnowledgeInfoNCELoss` (VIKCSE stage 2, README.md#vikcse-1):
///
///     L_text = InfoNCE(z_0, z_1)                       z_k: [MASK] vectors after the MLP head
///     I^m_k  = KB[top1(P_m(z_k))],  I^c_k = KB[top1(P_c(c_k))]      c_k: raw [CLS] states
///     L_vm   = InfoNCE(I^m_0, I^m_1),  L_vc = InfoNCE(I^c_0, I^c_1)
///     L      = L_text + α L_vm / sg(|L_vm − L_text|) + β L_vc / sg(|L_vc − L_text|)
///
/// `kb_grad_mode` decides whether the retrieved knowledge carries gradient:
/// * `none` — the reference code: retrieval is a constant lookup, so ∇L = ∇L_text exactly.
/// * `straight_through` — **extension (not in the paper or reference code)**: the retrieved row
///   keeps its value but passes the gradient to the normalised query (`row + q̂ − sg(q̂)`), so the
///   visual terms train the projectors and the encoder.
/// * `soft` — **extension**: the retrieved vector is the softmax(cos/τ_soft)-weighted mean of the
///   top `soft_top_k` rows; the weights depend on the query, so the gradient reaches the encoder.
/// * `contrast` — **extension**: each view's projected query is contrasted with the rows retrieved
///   for the batch, its own row the positive: `L_v = ½ [InfoNCE(q_0, I_0) + InfoNCE(q_1, I_1)]`,
///   as MCSE contrasts a caption with its image. The logits hold the query, so the term trains the
///   projector and the encoder towards the retrieved knowledge.
///
/// `retrieval_key` decides what picks the rows:
/// * `query` — the reference: the projected query itself.
/// * `batch_keys` — **extension**: the batch's own keys (`TrainingBatch::knowledge_keys`, e.g. the
///   stage-1 CLIP text features of its sentences), so the row retrieved for a sentence is what the
///   image–text model of stage 1 matches it with, whatever the encoder being trained makes of it.
///   With `straight_through` both views get the same row and the term's gradient nearly vanishes;
///   `contrast` is the mode that learns from such rows.

#include <vikcse/concepts/context.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>
#include <vikcse/heads/tanh_projection.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace vikcse {

/// How retrieved knowledge-base rows take part in back-propagation.
enum class KbGradMode {
  none,              ///< reference behaviour: constants (visual terms have zero gradient)
  straight_through,  ///< extension: value of the row, gradient of the normalised query
  soft,              ///< extension: softmax-weighted mean of the top rows (differentiable weights)
  contrast,          ///< extension: the projected query contrasted with the batch's retrieved rows
};

/// What retrieves the knowledge-base rows of a term.
enum class RetrievalKey {
  query,       ///< reference: the projected query of the view
  batch_keys,  ///< extension: the batch's `knowledge_keys` (the same row for both views of a sentence)
};

/// Which vector queries the knowledge base for the `[MASK]` term (README.md#reference-bugs).
enum class MaskQuerySource {
  mlp_output,  ///< the reference code: `P_m(z)` with z the MLP output
  raw_hidden,  ///< the paper figure: `P_m(h_mask)`
};

/// Parses `none` / `straight_through` / `soft` / `contrast`. @throws vikcse::config_error.
inline KbGradMode parse_kb_grad_mode(std::string_view name) {
  if (name == "none") return KbGradMode::none;
  if (name == "straight_through") return KbGradMode::straight_through;
  if (name == "soft") return KbGradMode::soft;
  if (name == "contrast") return KbGradMode::contrast;
  throw_error<config_error>("unknown kb_grad_mode '{}': expected none, straight_through, soft or contrast", name);
}

/// Parses `query` / `batch_keys`. @throws vikcse::config_error.
inline RetrievalKey parse_retrieval_key(std::string_view name) {
  if (name == "query") return RetrievalKey::query;
  if (name == "batch_keys") return RetrievalKey::batch_keys;
  throw_error<config_error>("unknown retrieval_key '{}': expected query or batch_keys", name);
}

/// Options of `KnowledgeInfoNCELoss`.
struct KnowledgeInfoNCELossOptions {
  /// @param hidden_size encoder H (projector input); @param kb_dim knowledge-base feature size D.
  KnowledgeInfoNCELossOptions(std::int64_t hidden_size, std::int64_t kb_dim)
      : hidden_size_(hidden_size), kb_dim_(kb_dim) {}
  /// Encoder hidden size H. Example: 768.
  TORCH_ARG(std::int64_t, hidden_size);
  /// Knowledge-base feature size D (projector output). Example: 512.
  TORCH_ARG(std::int64_t, kb_dim);
  /// τ of all three InfoNCE terms. Default: 0.05.
  TORCH_ARG(double, temperature) = 0.05;
  /// Weight α of the [MASK]-retrieval term. Default: 0.5.
  TORCH_ARG(double, alpha) = 0.5;
  /// Weight β of the [CLS]-retrieval term. Default: 0.5.
  TORCH_ARG(double, beta) = 0.5;
  /// Divide each visual term by `sg(|L_v − L_text|)` (reference); false: constant α, β. Default: true.
  TORCH_ARG(bool, adaptive) = true;
  /// Lower bound of the adaptive denominator (guards V7's division by ~0). Default: 1e-12.
  TORCH_ARG(double, adaptive_eps) = 1e-12;
  /// Include the [MASK]-retrieval term L_vm. Default: true.
  TORCH_ARG(bool, mask_term) = true;
  /// Include the [CLS]-retrieval term L_vc. Default: true.
  TORCH_ARG(bool, cls_term) = true;
  /// Rows retrieved per query: 1 = reference; n > 1 = "Test3" (ranks 1..n−1 of both views become
  /// extra negatives shared by all rows). Default: 1.
  TORCH_ARG(std::int64_t, top_n) = 1;
  /// Gradient through the retrieved rows. Default: none (reference).
  TORCH_ARG(KbGradMode, kb_grad_mode) = KbGradMode::none;
  /// `soft` mode: rows mixed per query. Default: 8.
  TORCH_ARG(std::int64_t, soft_top_k) = 8;
  /// `soft` mode: softmax temperature over the cosine scores. Default: 0.05.
  TORCH_ARG(double, soft_temperature) = 0.05;
  /// Query of the [MASK] term. Default: mlp_output (reference code).
  TORCH_ARG(MaskQuerySource, mask_query_source) = MaskQuerySource::mlp_output;
  /// What retrieves the rows. Default: query (reference).
  TORCH_ARG(RetrievalKey, retrieval_key) = RetrievalKey::query;
};

/// VIKCSE's loss. Submodules `mask_projector` (P_m) and `cls_projector` (P_c), Linear H→D + tanh.
class KnowledgeInfoNCELossImpl : public torch::nn::Cloneable<KnowledgeInfoNCELossImpl> {
public:
  explicit KnowledgeInfoNCELossImpl(const KnowledgeInfoNCELossOptions& options) : options(options) { reset(); }

  void reset() override {
    if (options.top_n() < 1) throw_error<config_error>("VIKCSE loss: top_n must be >= 1, got {}", options.top_n());
    if (options.kb_grad_mode() == KbGradMode::soft && options.soft_top_k() < 2) {
      throw_error<config_error>("VIKCSE loss: kb_grad_mode soft needs soft_top_k >= 2, got {}", options.soft_top_k());
    }
    mask_projector = register_module("mask_projector",
                                     TanhProjection(TanhProjectionOptions(options.hidden_size(), options.kb_dim())));
    cls_projector = register_module("cls_projector",
                                    TanhProjection(TanhProjectionOptions(options.hidden_size(), options.kb_dim())));
  }

  /// Terms `text`, `vm`, `vc` (the unweighted InfoNCE values).
  /// @throws vikcse::invalid_argument when the knowledge base's dimension is not `kb_dim`, or when
  /// `retrieval_key` is `batch_keys` and the batch's keys are missing or do not fit its rows.
  LossOutput forward(const ContrastiveViews& views, const KnowledgeRetrieval& kb) {
    if (kb.bank.size(1) != options.kb_dim()) {
      throw_error<invalid_argument>("VIKCSE loss: knowledge-base features have dimension {}, the projectors output {}",
                                    kb.bank.size(1), options.kb_dim());
    }
    const InfoNCEOptions nce{options.temperature()};
    auto text = info_nce(views.first.z, views.second.z, nce);
    LossOutput out{text, {{"text", text.detach()}}};
    auto add_term = [&](const char* name, const torch::Tensor& q0, const torch::Tensor& q1,
                        const torch::Tensor& batch_keys, double weight) {
      const bool by_keys = options.retrieval_key() == RetrievalKey::batch_keys;
      if (by_keys) check_keys(name, batch_keys, q0);
      auto [i0, e0] = retrieve(kb, by_keys ? batch_keys : q0, q0);
      auto [i1, e1] = retrieve(kb, by_keys ? batch_keys : q1, q1);
      torch::Tensor extras;
      if (e0.defined()) extras = torch::cat({e0, e1}, 0);
      auto term = options.kb_grad_mode() == KbGradMode::contrast
                      ? (info_nce(q0, i0, nce, {}, extras) + info_nce(q1, i1, nce, {}, extras)) / 2.0
                      : info_nce(i0, i1, nce, {}, extras);
      out.terms[name] = term.detach();
      const auto scale = options.adaptive() ? weight / (term - text).abs().detach().clamp_min(options.adaptive_eps())
                                            : torch::full({}, weight, term.options());
      out.total = out.total + scale * term;
    };
    if (options.mask_term()) {
      const bool raw = options.mask_query_source() == MaskQuerySource::raw_hidden;
      add_term("vm", mask_projector(raw ? views.first.h : views.first.z),
               mask_projector(raw ? views.second.h : views.second.z), kb.mask_keys, options.alpha());
    }
    if (options.cls_term()) {
      add_term("vc", cls_projector(views.first.cls), cls_projector(views.second.cls), kb.keys, options.beta());
    }
    return out;
  }
  /// τ.
  [[nodiscard]] double temperature() const { return options.temperature(); }

  KnowledgeInfoNCELossOptions options;
  TanhProjection mask_projector{nullptr};
  TanhProjection cls_projector{nullptr};

private:
  void check_keys(const char* term, const torch::Tensor& keys, const torch::Tensor& q) const {
    if (!keys.defined()) {
      throw_error<invalid_argument>(
          "VIKCSE loss: retrieval_key batch_keys retrieves with the batch's knowledge_keys (e.g. stage-1 text "
          "features of its sentences), but this batch has none (TrainingBatch::knowledge_keys is undefined)");
    }
    if (keys.dim() != 2 || keys.size(0) != q.size(0) || keys.size(1) != options.kb_dim()) {
      throw_error<invalid_argument>(
          "VIKCSE loss: the batch's knowledge_keys for term {} are {}, expected [{}, {}] "
          "(one key per row, in the knowledge base's dimension)",
          term, c10::str(keys.sizes()), q.size(0), options.kb_dim());
    }
  }

  /// The positive row `[N, D]` per query and, for top_n > 1, the extra negatives `[N·(n−1), D]`:
  /// the rows nearest to `key` (the query itself, or the batch's keys), built with the query `q`.
  std::pair<torch::Tensor, torch::Tensor> retrieve(const KnowledgeRetrieval& kb, const torch::Tensor& key,
                                                   const torch::Tensor& q) const {
    const auto mode = options.kb_grad_mode();
    const auto n = options.top_n();
    const auto searched = mode == KbGradMode::soft ? std::max(n, options.soft_top_k()) : n;
    const auto k = std::min<std::int64_t>(searched, kb.bank.size(0));
    if (n > kb.bank.size(0)) {
      throw_error<invalid_argument>("VIKCSE loss: top_n {} exceeds the knowledge base's {} rows", n, kb.bank.size(0));
    }
    // The search runs in float32 under mixed precision too, so bf16 rounding never changes which
    // rows are retrieved; the projected query stays in the autocast dtype for the gradient path.
    const auto top = [&] {
      const detail::AutocastGuard float32(key.device().type(), /*enabled=*/false);
      return kb.search(detail::at_least_float32(key), k);
    }();
    const auto d = kb.bank.size(1);
    const auto rows = kb.bank.detach().index_select(0, top.indices.reshape(-1)).view({q.size(0), k, d});
    const auto qn = q / q.norm(2, -1, true).clamp_min(1e-8);
    torch::Tensor positive;
    switch (mode) {
      case KbGradMode::none:
      case KbGradMode::contrast: positive = rows.select(1, 0); break;
      case KbGradMode::straight_through: positive = rows.select(1, 0) + (qn - qn.detach()); break;
      case KbGradMode::soft: {
        const auto w = torch::softmax((rows * qn.unsqueeze(1)).sum(-1) / options.soft_temperature(), 1);
        positive = (w.unsqueeze(-1) * rows).sum(1);
        break;
      }
    }
    torch::Tensor extras;
    if (n > 1) extras = rows.narrow(1, 1, n - 1).reshape({-1, d});
    return {positive, extras};
  }
};
/// Holder of `KnowledgeInfoNCELossImpl`.
TORCH_MODULE(KnowledgeInfoNCELoss);

}  // namespace vikcse
