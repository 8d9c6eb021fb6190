// SPDX-License-Identifier: Apache-2.0
// The C++ snippets of README.md, line for line (check_readme_snippets.py fails when a README line
// is missing here or out of order), wrapped in just enough declarations to compile. The build of
// this file is the check that they compile; nothing here runs. Not clang-formatted: the lines are
// the README's.

// clang-format off

#include <vikcse/vikcse.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace readme {

// "Methods: one host, four aliases"
namespace aliases {
using namespace vikcse;
using SimCSE     = SentenceEmbedder<BertModel, ClsPooler,        NoKnowledge,                  InfoNCELoss>;
using PromptBERT = SentenceEmbedder<BertModel, MaskPromptPooler, NoKnowledge,                  InfoNCELoss>;
using MCSE       = SentenceEmbedder<BertModel, ClsPooler,        PairedImageFeatures,          MultimodalInfoNCELoss>;
using VIKCSE     = SentenceEmbedder<BertModel, MaskPromptPooler, VisualKnowledgeBase<ExactCosineRetriever>,
                                    KnowledgeInfoNCELoss>;
static_assert(std::is_same_v<SimCSE, vikcse::SimCSE> && std::is_same_v<PromptBERT, vikcse::PromptBERT> &&
              std::is_same_v<MCSE, vikcse::MCSE> && std::is_same_v<VIKCSE, vikcse::VIKCSE>);
}  // namespace aliases

// "The recipes"
template <vikcse::Encoder E>  // an ablation: VIKCSE's knowledge terms on SimCSE's [CLS] pooler
using NoPrompt = vikcse::SentenceEmbedder<E, vikcse::ClsPooler, vikcse::VisualKnowledgeBase<>,
                                          vikcse::KnowledgeInfoNCELoss>;

// "Using the library"
[[maybe_unused]] void using_the_library(const vikcse::TokenBatch& batch) {
  vikcse::configure_threads();  // LibTorch may start with 1 intra-op thread: use the hardware
  auto model = vikcse::AutoModel::from_pretrained("bert-base-uncased/");  // config.json + weights
  model->eval();
  vikcse::EncoderOutput out = model->forward(batch, /*output_hidden_states=*/true);
  model.save_pretrained("out/");         // config.json + model.safetensors, loadable by transformers
  (void)out;
}

[[maybe_unused]] void recipes(const std::filesystem::path& dir, const torch::Tensor& kb,
                              const std::vector<std::string>& sentences) {
  auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(dir));
  auto vikcse_run = vikcse::make_vikcse(vikcse::AutoModel::from_pretrained(dir), tokenizer, kb);
  vikcse::TrainingBatch step = vikcse_run.collator->unsupervised(sentences);
  vikcse::Embedder embed = vikcse_run.embedder();  // the evaluation input that matches training
  auto ablation = vikcse::make_method<NoPrompt<vikcse::AutoModel>>(vikcse::AutoModel::from_pretrained(dir), tokenizer,
                                                                   vikcse::recipe_options("simcse", *tokenizer), kb);
  (void)step;
  (void)embed;
  (void)ablation;
}

// "Using embeddings"
[[maybe_unused]] void search(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& queries,
                             const torch::Tensor& corpus) {
auto scores = vikcse::cos_sim(a, b);  // [N, M]; vikcse::dot_score(a, b) for dot products
auto hits = vikcse::semantic_search(queries, corpus, {.top_k = 5});
// hits.indices[q][r]: the corpus row of rank r for query q; hits.scores[q][r]: its cosine
  (void)scores;
  (void)hits;
}

// "Using a trained model"
template <typename Recipe>
[[maybe_unused]] void using_a_trained_model(const std::vector<std::string>& sentences,
                                            const std::vector<std::string>& queries, Recipe& recipe) {
auto model = vikcse::SentenceEncoder::load("runs/simcse/best");  // settings from the directory
torch::Tensor emb = model.encode(sentences);                     // [N, D] float32, input order
auto hits = vikcse::semantic_search(model.encode(queries), emb, {.top_k = 10});
vikcse::save_sentence_transformers(*recipe.model, "export/", {.embedding = recipe.embedding_settings()});
auto exact = vikcse::SentenceEncoder::load("runs/simcse/best", {.precision = vikcse::Precision::float32});
  (void)hits;
  (void)exact;
}
template void using_a_trained_model(const std::vector<std::string>&, const std::vector<std::string>&,
                                    vikcse::Recipe<vikcse::SimCSE>&);

}  // namespace readme
// clang-format on
