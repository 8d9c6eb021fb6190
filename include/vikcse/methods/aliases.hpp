// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file methods.hpp
/// The methods, each an alias of the one host `SentenceEmbedder<Encoder, Pooler, KnowledgeBase,
/// Loss>`. An ablation is a new alias (see examples/ablation_*.cpp).

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/encoder/bert.hpp>
#include <vikcse/knowledge/no_knowledge.hpp>
#include <vikcse/knowledge/paired_images.hpp>
#include <vikcse/knowledge/retriever.hpp>
#include <vikcse/knowledge/visual_kb.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/loss/knowledge_loss.hpp>
#include <vikcse/loss/multimodal_loss.hpp>
#include <vikcse/model/sentence_embedder.hpp>
#include <vikcse/pooler/cls_pooler.hpp>
#include <vikcse/pooler/prompt_pooler.hpp>

namespace vikcse {

/// SimCSE (Gao et al., 2021): dropout-noise positives, in-batch negatives, [CLS] + MLP in training.
/// @tparam EncoderType satisfies `vikcse::Encoder`
template <Encoder EncoderType = BertModel>
using BasicSimCSE = SentenceEmbedder<EncoderType, ClsPooler, NoKnowledge, InfoNCELoss>;
using SimCSE = BasicSimCSE<BertModel>;            ///< SimCSE over BERT
using RobertaSimCSE = BasicSimCSE<RobertaModel>;  ///< SimCSE over RoBERTa

/// PromptBERT (Jiang et al., 2022): [MASK] pooling of templated sentences, template denoising.
/// @tparam EncoderType satisfies `vikcse::Encoder`
template <Encoder EncoderType = BertModel>
using BasicPromptBERT = SentenceEmbedder<EncoderType, MaskPromptPooler, NoKnowledge, InfoNCELoss>;
using PromptBERT = BasicPromptBERT<BertModel>;        ///< PromptBERT over BERT
using PromptRoBERTa = BasicPromptBERT<RobertaModel>;  ///< PromptBERT over RoBERTa

/// MCSE (Zhang et al., 2022): SimCSE + λ-weighted text→image InfoNCE on paired image features.
/// @tparam EncoderType satisfies `vikcse::Encoder`
template <Encoder EncoderType = BertModel>
using BasicMCSE = SentenceEmbedder<EncoderType, ClsPooler, PairedImageFeatures, MultimodalInfoNCELoss>;
using MCSE = BasicMCSE<BertModel>;            ///< MCSE over BERT
using RobertaMCSE = BasicMCSE<RobertaModel>;  ///< MCSE over RoBERTa

/// VIKCSE: prompt [MASK] contrastive learning + InfoNCE over visual-knowledge rows retrieved for
/// the [MASK] and [CLS] queries, with detached adaptive weights.
/// @tparam EncoderType satisfies `vikcse::Encoder`
/// @tparam RetrieverType satisfies `vikcse::Retriever`
template <Encoder EncoderType = BertModel, Retriever RetrieverType = ExactCosineRetriever>
using BasicVIKCSE =
    SentenceEmbedder<EncoderType, MaskPromptPooler, VisualKnowledgeBase<RetrieverType>, KnowledgeInfoNCELoss>;
using VIKCSE = BasicVIKCSE<BertModel>;            ///< VIKCSE over BERT
using RobertaVIKCSE = BasicVIKCSE<RobertaModel>;  ///< VIKCSE over RoBERTa

/// The aliases over a checkpoint directory's encoder (BERT or RoBERTa chosen at run time).
using AutoSimCSE = BasicSimCSE<AutoModel>;          ///< SimCSE over AutoModel
using AutoPromptBERT = BasicPromptBERT<AutoModel>;  ///< PromptBERT over AutoModel
using AutoMCSE = BasicMCSE<AutoModel>;              ///< MCSE over AutoModel
using AutoVIKCSE = BasicVIKCSE<AutoModel>;          ///< VIKCSE over AutoModel

}  // namespace vikcse
