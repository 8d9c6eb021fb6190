// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_concepts_test
#include <boost/test/unit_test.hpp>

#include <vikcse/methods/aliases.hpp>

#include <torch/torch.h>

// Archetypes: a minimal type satisfying each concept, and one per missing requirement. They are the
// specification of a policy: each has exactly what the host calls (README.md, "Writing your own policy").

namespace arch {

using vikcse::EncoderOutput;
using vikcse::TokenBatch;

// ---- Encoder
struct GoodEncoderImpl : torch::nn::Module {
  EncoderOutput forward(const TokenBatch&, bool) { return {}; }
};
TORCH_MODULE(GoodEncoder);
struct NoHiddenSizeImpl : torch::nn::Module {
  EncoderOutput forward(const TokenBatch&, bool) { return {}; }
};
TORCH_MODULE(NoHiddenSize);
struct WrongOutputImpl : torch::nn::Module {
  torch::Tensor forward(const TokenBatch&, bool) { return {}; }
  std::int64_t hidden_size() const { return 4; }
};
TORCH_MODULE(WrongOutput);
struct NotAModule {  // forward/hidden_size but not a module holder
  EncoderOutput forward(const TokenBatch&, bool) { return {}; }
  std::int64_t hidden_size() const { return 4; }
};

// ---- Pooler / PromptPooler
struct GoodPoolerImpl : torch::nn::Module {
  torch::Tensor forward(const EncoderOutput&, const TokenBatch&) { return {}; }
  torch::Tensor head(const torch::Tensor& x) { return x; }
  bool needs_hidden_states() const { return false; }
};
TORCH_MODULE(GoodPooler);
struct NoHeadPoolerImpl : torch::nn::Module {
  torch::Tensor forward(const EncoderOutput&, const TokenBatch&) { return {}; }
  bool needs_hidden_states() const { return false; }
};
TORCH_MODULE(NoHeadPooler);
struct GoodPromptPoolerImpl : GoodPoolerImpl {
  torch::Tensor denoise(const torch::Tensor& x, const TokenBatch&, std::int64_t, const vikcse::EncodeFunction&) {
    return x;
  }
  std::int64_t mask_token_id() const { return 103; }
};
TORCH_MODULE(GoodPromptPooler);

// ---- KnowledgeBase / Retriever
struct Ctx {};
struct GoodKnowledgeImpl : torch::nn::Module {
  using context_type = Ctx;
  Ctx context(const vikcse::TrainingBatch&) { return {}; }
};
TORCH_MODULE(GoodKnowledge);
struct NoContextTypeImpl : torch::nn::Module {
  Ctx context(const vikcse::TrainingBatch&) { return {}; }
};
TORCH_MODULE(NoContextType);
struct GoodRetriever {
  vikcse::TopK search(const torch::Tensor&, const torch::Tensor&, std::int64_t) const { return {}; }
};
struct BadRetriever {
  torch::Tensor search(const torch::Tensor&, const torch::Tensor&, std::int64_t) const { return {}; }
};

// ---- ContrastiveLoss
struct GoodLossImpl : torch::nn::Module {
  vikcse::LossOutput forward(const vikcse::ContrastiveViews&, const Ctx&) { return {}; }
};
TORCH_MODULE(GoodLoss);
struct NoForwardLossImpl : torch::nn::Module {};
TORCH_MODULE(NoForwardLoss);

}  // namespace arch

// Encoder
static_assert(vikcse::Encoder<arch::GoodEncoder>);
static_assert(vikcse::Encoder<vikcse::BertModel>);
static_assert(vikcse::Encoder<vikcse::RobertaModel>);
static_assert(vikcse::Encoder<vikcse::AutoModel>);
static_assert(vikcse::Encoder<arch::NoHiddenSize>);        // the host never asks an encoder for its width ...
static_assert(!vikcse::SizedEncoder<arch::NoHiddenSize>);  // ... the recipes do
static_assert(!vikcse::SizedEncoder<arch::GoodEncoder>);
static_assert(vikcse::SizedEncoder<vikcse::AutoModel>);
static_assert(!vikcse::Encoder<arch::WrongOutput>);
static_assert(!vikcse::Encoder<arch::NotAModule>);
// Pooler
static_assert(vikcse::Pooler<arch::GoodPooler>);
static_assert(!vikcse::PromptPooler<arch::GoodPooler>);
static_assert(!vikcse::Pooler<arch::NoHeadPooler>);
static_assert(vikcse::PromptPooler<arch::GoodPromptPooler>);
static_assert(vikcse::Pooler<vikcse::ClsPooler> && !vikcse::PromptPooler<vikcse::ClsPooler>);
static_assert(vikcse::PromptPooler<vikcse::MaskPromptPooler>);
// KnowledgeBase / Retriever
static_assert(vikcse::KnowledgeBase<arch::GoodKnowledge>);
static_assert(!vikcse::KnowledgeBase<arch::NoContextType>);
static_assert(!vikcse::RetrievingKnowledgeBase<arch::GoodKnowledge>);
static_assert(vikcse::KnowledgeBase<vikcse::NoKnowledge>);
static_assert(vikcse::KnowledgeBase<vikcse::PairedImageFeatures>);
static_assert(vikcse::RetrievingKnowledgeBase<vikcse::VisualKnowledgeBase<>>);
static_assert(vikcse::Retriever<arch::GoodRetriever>);
static_assert(!vikcse::Retriever<arch::BadRetriever>);
static_assert(vikcse::Retriever<vikcse::ExactCosineRetriever>);
// ContrastiveLoss / ContrastiveLossFor
static_assert(vikcse::ContrastiveLoss<arch::GoodLoss>);
static_assert(vikcse::ContrastiveLoss<arch::NoForwardLoss>);                           // a module holder ...
static_assert(!vikcse::ContrastiveLossFor<arch::NoForwardLoss, arch::GoodKnowledge>);  // ... that cannot take a step
static_assert(vikcse::ContrastiveLossFor<arch::GoodLoss, arch::GoodKnowledge>);
static_assert(!vikcse::ContrastiveLossFor<arch::GoodLoss, vikcse::NoKnowledge>);
static_assert(vikcse::ContrastiveLossFor<vikcse::InfoNCELoss, vikcse::NoKnowledge>);
static_assert(vikcse::ContrastiveLossFor<vikcse::InfoNCELoss, vikcse::VisualKnowledgeBase<>>);
static_assert(vikcse::ContrastiveLossFor<vikcse::MultimodalInfoNCELoss, vikcse::PairedImageFeatures>);
static_assert(!vikcse::ContrastiveLossFor<vikcse::MultimodalInfoNCELoss, vikcse::NoKnowledge>);
static_assert(vikcse::ContrastiveLossFor<vikcse::KnowledgeInfoNCELoss, vikcse::VisualKnowledgeBase<>>);
static_assert(!vikcse::ContrastiveLossFor<vikcse::KnowledgeInfoNCELoss, vikcse::NoKnowledge>);
static_assert(!vikcse::ContrastiveLossFor<vikcse::KnowledgeInfoNCELoss, vikcse::PairedImageFeatures>);
// The aliases are one host.
static_assert(std::is_same_v<vikcse::SimCSE, vikcse::SentenceEmbedder<vikcse::BertModel, vikcse::ClsPooler,
                                                                      vikcse::NoKnowledge, vikcse::InfoNCELoss>>);
static_assert(std::is_same_v<vikcse::VIKCSE::Impl::loss_type, vikcse::KnowledgeInfoNCELoss>);
static_assert(std::is_same_v<vikcse::RobertaVIKCSE::Impl::encoder_type, vikcse::RobertaModel>);

BOOST_AUTO_TEST_CASE(archetype_host_composes_and_runs) {
  // A host over archetypes only: the concepts are all the host needs.
  vikcse::SentenceEmbedder<arch::GoodEncoder, arch::GoodPooler, arch::GoodKnowledge, arch::GoodLoss> host(
      arch::GoodEncoder{}, arch::GoodPooler{}, arch::GoodKnowledge{}, arch::GoodLoss{});
  BOOST_TEST(host->named_children().size() == 4U);
  BOOST_TEST(host->named_children().contains("knowledge"));
}
