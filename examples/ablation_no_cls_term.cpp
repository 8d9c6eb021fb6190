// SPDX-License-Identifier: Apache-2.0
/// @file ablation_no_cls_term.cpp
/// `vikcse_ablation`: how an ablation is written. Two ablations of VIKCSE, each in a few lines:
///
///  1. "no [CLS] term": the VIKCSE alias with the loss option `cls_term(false)`
///     (L = L_text + α L_vm / sg(|L_vm − L_text|)).
///  2. "no prompt": a NEW ALIAS of the host with the [CLS] + MLP pooler of SimCSE in place of the
///     [MASK] prompt pooler, keeping VIKCSE's knowledge base and loss.
///
/// Each is built by a recipe (vikcse/methods/recipes.hpp), which derives the sizes, the mask id,
/// the layouts and the pass mode. Both train a few steps on tiny inputs made here (a random tiny
/// BERT, a WordPiece vocabulary trained on the sentences, a random knowledge base) and print their
/// loss terms. Exit status 0 only when every loss is finite and each run reports exactly the terms
/// its ablation implies.

#include "support/cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/methods/aliases.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/tokenizer/trainer.hpp>

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
using VIKCSENoPrompt = vikcse::SentenceEmbedder<EncoderType, vikcse::ClsPooler, vikcse::VisualKnowledgeBase<>,
                                                vikcse::KnowledgeInfoNCELoss>;
// -------------------------------------------------------------------------------------------------

namespace {

vikcse::BertModel tiny_bert(std::int64_t vocab_size) {
  vikcse::BertConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 128;
  return vikcse::BertModel(c);
}

const std::vector<std::string> sentences{"a man plays a guitar",     "the cat sleeps on the sofa",
                                         "two dogs run in the park", "a woman cuts an onion",
                                         "children play football",   "a chef cooks pasta"};

/// Trains `steps` steps; returns the names of the loss terms seen (empty on a non-finite loss).
template <typename Model>
std::set<std::string> train(const char* name, Model model, const vikcse::Collator& collator, int steps) {
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
  CLI::App app{"vikcse_ablation: two VIKCSE ablations trained on tiny made-up inputs"};
  int steps = 5;
  app.add_option("--steps", steps, "training steps per ablation")
      ->check(vikcse::cli::positive_integer())
      ->capture_default_str();
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  auto words = sentences;
  words.emplace_back("this sentence of \" \" means !");  // the template's words
  const auto tokenizer = std::make_shared<const vikcse::WordPieceTokenizer>(
      vikcse::train_wordpiece(words, {.vocab_size = 200, .min_frequency = 1}));
  torch::manual_seed(0);
  const auto kb = torch::randn({64, 16});

  // ---- ablation 1: VIKCSE without the [CLS] retrieval term (one option) -------------------------
  auto no_cls = vikcse::make_vikcse(tiny_bert(tokenizer->vocab_size()), tokenizer, kb);
  no_cls.model->loss->options.cls_term(false);
  const auto terms1 = train("no-cls-term", no_cls.model, *no_cls.collator, steps);

  // ---- ablation 2: the new alias, built by the generic recipe (plain input, SimCSE's cap) -------
  const auto no_prompt = vikcse::make_method<VIKCSENoPrompt<>>(tiny_bert(tokenizer->vocab_size()), tokenizer,
                                                               vikcse::recipe_options("simcse", *tokenizer), kb);
  const auto terms2 = train("no-prompt", no_prompt.model, *no_prompt.collator, steps);

  const bool ok1 = terms1 == std::set<std::string>{"text", "vm"};
  const bool ok2 = terms2 == std::set<std::string>{"text", "vm", "vc"};
  std::cout << fmt::format("no-cls-term: terms {{{}}} ({}), no-prompt: terms {{{}}} ({})\n", fmt::join(terms1, ", "),
                           ok1 ? "as expected" : "WRONG", fmt::join(terms2, ", "), ok2 ? "as expected" : "WRONG");
  if (!(ok1 && ok2)) return 1;
  std::cout << "ablation OK\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_ablation: error: " << e.what() << '\n';
  return 1;
}
