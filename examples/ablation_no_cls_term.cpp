// SPDX-License-Identifier: Apache-2.0
/// @file ablation_no_cls_term.cpp
/// `vikcse_ablation`: how an ablation is written. Two ablations of VIKCSE, each in a few lines:
///
///  1. "no [CLS] term": the VIKCSE alias with the loss option `cls_term(false)`
///     (L = L_text + α L_vm / sg(|L_vm − L_text|)).
///  2. "no prompt": a NEW ALIAS of the host with the [CLS] + MLP pooler of SimCSE in place of the
///     [MASK] prompt pooler, keeping VIKCSE's knowledge base and loss.
///
/// Both train a few steps on tiny inputs made here (a random tiny BERT, a toy whitespace
/// tokenizer, a random knowledge base) and print their loss terms. Exit status 0 only when every
/// loss is finite and each run reports exactly the terms its ablation implies.

#include <vikcse/methods.hpp>
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/optimizer.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

// ---- ablation 2: a new alias of the one host (the whole definition) ----------------------------
/// VIKCSE without the prompt: [CLS] + MLP pooling (SimCSE) with VIKCSE's retrieval losses.
/// @tparam EncoderType satisfies `vikcse::Encoder`
template <vikcse::Encoder EncoderType = vikcse::BertModel>
using VIKCSENoPrompt = vikcse::SentenceEmbedder<EncoderType, vikcse::ClsPooler,
                                                vikcse::VisualKnowledgeBase<>, vikcse::KnowledgeInfoNCELoss>;
// -------------------------------------------------------------------------------------------------

namespace {

constexpr const char* usage = R"(vikcse_ablation: two VIKCSE ablations trained on tiny made-up inputs

Usage: vikcse_ablation [--steps N] [--help]
  --steps N   training steps per ablation (default 5)
)";

constexpr std::int64_t hidden = 32;
constexpr std::int64_t kb_dim = 16;
const vikcse::SpecialIds specials{.cls = 1, .sep = 2, .pad = 0, .mask = 3};

// Toy tokenizer: one id per whitespace word.
std::vector<std::int64_t> tokenize(std::string_view text) {
  std::vector<std::int64_t> ids;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) ids.push_back(4 + static_cast<std::int64_t>(std::hash<std::string>{}(w) % 90));
  return ids;
}

vikcse::BertModel tiny_bert() {
  vikcse::BertConfig c;
  c.vocab_size = 94;
  c.hidden_size = hidden;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  return vikcse::BertModel(c);
}

const std::vector<std::string> sentences{"a man plays a guitar", "the cat sleeps on the sofa", "two dogs run in the park",
                                         "a woman cuts an onion", "children play football", "a chef cooks pasta"};

/// Trains `steps` steps; returns the names of the loss terms seen (empty on a non-finite loss).
template <typename Model>
std::set<std::string> train(const char* name, Model& model, const vikcse::Collator& collator, int steps) {
  auto optimizer = vikcse::make_adamw(*model, {1e-3, 0.0});
  model->train();
  std::set<std::string> terms;
  for (int step = 1; step <= steps; ++step) {
    optimizer->zero_grad();
    const auto out = model->forward(collator.unsupervised(sentences));
    if (!std::isfinite(out.total.template item<double>())) return {};
    out.total.backward();
    optimizer->step();
    std::string line = fmt::format("{:<14} step {}: loss {:.4f}", name, step, out.total.template item<double>());
    for (const auto& [term, value] : out.terms) {
      terms.insert(term);
      line += fmt::format("  {} {:.4f}", term, value.template item<double>());
    }
    std::cout << line << '\n';
  }
  return terms;
}

}  // namespace

int main(int argc, char** argv) try {
  int steps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a == "--steps" && i + 1 < argc) {
      steps = std::stoi(argv[++i]);
    } else {
      std::cerr << "vikcse_ablation: unknown option " << a << " (see --help)\n";
      return 2;
    }
  }
  torch::manual_seed(0);
  const auto kb = torch::randn({64, kb_dim});

  // ---- ablation 1: VIKCSE without the [CLS] retrieval term (one option) -------------------------
  vikcse::VIKCSE no_cls(tiny_bert(), vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)),
                        vikcse::VisualKnowledgeBase<>(kb),
                        vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(hidden, kb_dim).cls_term(false)),
                        vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
  const auto layout = vikcse::make_prompt_layout(vikcse::PromptTemplate("this sentence of \" [X] \" means [MASK] !", "[MASK]"),
                                                 tokenize, specials);
  // VIKCSE's length: 77 tokens for the templated sequence, the sentence cut to what is left.
  const vikcse::ViewFormat prompt_format{layout, vikcse::reference_hyperparameters("vikcse", "bert-base").max_length - layout.size()};
  const vikcse::Collator prompt_collator(tokenize, {specials, prompt_format, prompt_format});
  const auto terms1 = train("no-cls-term", no_cls, prompt_collator, steps);

  // ---- ablation 2: the new alias ----------------------------------------------------------------
  VIKCSENoPrompt<> no_prompt(tiny_bert(), vikcse::ClsPooler(hidden), vikcse::VisualKnowledgeBase<>(kb),
                             vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(hidden, kb_dim)));
  const vikcse::Collator plain_collator(tokenize, {specials, {std::nullopt, 32}, {std::nullopt, 32}});
  const auto terms2 = train("no-prompt", no_prompt, plain_collator, steps);

  const bool ok1 = terms1 == std::set<std::string>{"text", "vm"};
  const bool ok2 = terms2 == std::set<std::string>{"text", "vm", "vc"};
  std::cout << fmt::format("no-cls-term: terms {{{}}} ({}), no-prompt: terms {{{}}} ({})\n", fmt::join(terms1, ", "),
                           ok1 ? "as expected" : "WRONG", fmt::join(terms2, ", "), ok2 ? "as expected" : "WRONG");
  if (!(ok1 && ok2) || steps <= 0) return 1;
  std::cout << "ablation OK\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_ablation: error: " << e.what() << '\n';
  return 1;
}
