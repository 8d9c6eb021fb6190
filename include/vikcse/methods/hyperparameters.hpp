// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file hyperparameters.hpp
/// The reference settings of each method and backbone: what the published runs used (SimCSE's
/// README table and `run_unsup_example.sh`, MCSE's `run_wiki_flickr.sh`, PromptBERT's `run.sh`,
/// VIKCSE's stored notebook run). `vikcse_reproduce` takes its defaults from here and prints them
/// with `--dry-run`; the README's "Reference hyper-parameters" section explains each value.
/// Torch-free.
///
/// Example:
/// ```
/// const auto s = vikcse::reference_hyperparameters("vikcse", "bert-base");
/// s.batch_size;  // 128
/// ```

#include <vikcse/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// What a method's `max_length` counts.
enum class LengthLimit {
  whole_sequence,      ///< every token, special tokens included (SimCSE, MCSE: 32)
  sentence,            ///< the sentence's tokens only; the template comes on top (PromptBERT: 32)
  templated_sequence,  ///< the whole templated sequence (VIKCSE: 77); see `Truncation` for where it cuts
};

/// How the model is selected during training.
enum class Selection {
  stsb_dev,      ///< Spearman on STS-B dev (SimCSE, PromptBERT, MCSE; the library's default)
  sts_test_avg,  ///< average of the seven STS test sets (VIKCSE's reference code; reproduction only)
};

/// The reference setting of one (method, backbone).
struct ReferenceSettings {
  std::string method;                                      ///< simcse, promptbert, mcse, vikcse
  std::string backbone;                                    ///< bert-base, bert-large, roberta-base, roberta-large
  std::int64_t batch_size = 0;                             ///< sentences per step
  double learning_rate = 0;                                ///< peak learning rate (linear decay to 0, no warm-up)
  std::int64_t epochs = 0;                                 ///< passes over the corpus (MCSE: over its mixed sampling)
  double weight_decay = 0;                                 ///< AdamW decay (not on biases / LayerNorm weights)
  std::int64_t eval_steps = 0;                             ///< evaluate every N steps
  std::uint64_t seed = 0;                                  ///< seed of the published run
  std::int64_t max_length = 0;                             ///< token cap, counted as `length_limit` says
  LengthLimit length_limit = LengthLimit::whole_sequence;  ///< what `max_length` counts
  bool pad_to_max_length = false;                          ///< the reference pads every row to `max_length`
  double temperature = 0.05;                               ///< τ of every InfoNCE term
  double lambda = 0;                                       ///< MCSE: weight of the text–image term (0: none)
  double alpha = 0;                                        ///< VIKCSE: weight of the [MASK]-retrieval term (0: none)
  double beta = 0;                                         ///< VIKCSE: weight of the [CLS]-retrieval term (0: none)
  std::vector<std::string> templates;         ///< prompt templates of view 0 and view 1 (empty: plain input)
  bool denoise = false;                       ///< PromptBERT's template denoising in training
  std::string train_pooler;                   ///< the training representation
  std::string eval_pooler;                    ///< the evaluation representation
  Selection selection = Selection::stsb_dev;  ///< how the published run selected its checkpoint
  std::string source;                         ///< where these values come from
};

/// The name of a selection mode as `vikcse_reproduce --select-on` spells it.
inline std::string_view selection_name(Selection s) { return s == Selection::stsb_dev ? "stsb-dev" : "sts-test-avg"; }

/// The name of a length limit, for printing.
inline std::string_view length_limit_name(LengthLimit l) {
  switch (l) {
    case LengthLimit::whole_sequence: return "whole sequence";
    case LengthLimit::sentence: return "sentence tokens";
    case LengthLimit::templated_sequence: return "whole templated sequence";
  }
  return "?";
}

/// The reference setting of `method` (simcse, promptbert, mcse, vikcse) on `backbone`
/// (bert-base, bert-large, roberta-base, roberta-large).
/// @throws vikcse::config_error naming an unknown method or backbone.
inline ReferenceSettings reference_hyperparameters(std::string_view method, std::string_view backbone) {
  const bool roberta = backbone == "roberta-base" || backbone == "roberta-large";
  const bool large = backbone == "bert-large" || backbone == "roberta-large";
  if (!roberta && backbone != "bert-base" && backbone != "bert-large") {
    throw_error<config_error>("unknown backbone '{}' (expected bert-base, bert-large, roberta-base or roberta-large)",
                              backbone);
  }
  ReferenceSettings s;
  s.method = std::string(method);
  s.backbone = std::string(backbone);
  if (method == "simcse") {
    // SimCSE README / run_unsup_example.sh: batch 64 (BERT) or 512 (RoBERTa); lr per backbone.
    s.batch_size = roberta ? 512 : 64;
    s.learning_rate = roberta ? (large ? 3e-5 : 1e-5) : (large ? 1e-5 : 3e-5);
    s.epochs = 1;
    s.eval_steps = 125;
    s.seed = 42;
    s.max_length = 32;
    s.train_pooler = "cls + MLP head (training only)";
    s.eval_pooler = "cls_before_pooler";
    s.source = "SimCSE README table and run_unsup_example.sh";
  } else if (method == "promptbert") {
    // PromptBERT run.sh, unsupervised: two templates, δ denoising, sentence cut to 32 tokens.
    s.batch_size = 256;
    s.learning_rate = 1e-5;
    s.epochs = 1;
    s.eval_steps = 125;
    s.seed = 42;
    s.max_length = 32;
    s.length_limit = LengthLimit::sentence;
    s.templates = roberta ? std::vector<std::string>{"promptbert-roberta-t1", "promptbert-roberta-t2"}
                          : std::vector<std::string>{"promptbert-bert-t1", "promptbert-bert-t2"};
    s.denoise = true;
    s.train_pooler = "[MASK] - δ, + MLP head (training only)";
    s.eval_pooler = "[MASK] of T1: selection with δ subtracted, report raw with a period appended";
    s.source = "PromptBERT run.sh (unsup-bert / unsup-roberta)";
  } else if (method == "mcse") {
    // MCSE run_wiki_flickr.sh (train_mix.py): the scripts, not train_mix.py's defaults.
    s.batch_size = 64;
    s.learning_rate = 3e-5;
    s.epochs = 3;
    s.eval_steps = 125;
    s.seed = 0;
    s.max_length = 32;
    s.lambda = 0.01;
    s.train_pooler = "cls + MLP head (training only); grounding heads on raw [CLS]";
    s.eval_pooler = "cls_before_pooler";
    s.source = roberta ? "MCSE run_wiki_flickr.sh (its BERT setting; the RoBERTa values are not in the repository)"
                       : "MCSE run_wiki_flickr.sh";
  } else if (method == "vikcse") {
    // VIKCSE prompt_contrastive.ipynb, the stored BERT-base run (cell 2 gives RoBERTa the same values).
    s.batch_size = 128;
    s.learning_rate = 3e-6;
    s.epochs = 2;
    s.weight_decay = 1e-6;
    s.eval_steps = 50;
    s.seed = 42;
    s.max_length = 77;
    s.length_limit = LengthLimit::templated_sequence;
    s.pad_to_max_length = true;
    s.alpha = 0.5;
    s.beta = 0.5;
    s.templates = roberta ? std::vector<std::string>{"vikcse-25", "vikcse-25"}
                          : std::vector<std::string>{"vikcse-23", "vikcse-23"};
    s.train_pooler = "[MASK] + MLP head (training only); raw [CLS] for the [CLS] term";
    s.eval_pooler = "raw [MASK] of the training template, lower-cased sentence";
    s.selection = Selection::sts_test_avg;
    s.source = "VIKCSE prompt_contrastive.ipynb (stored BERT-base wiki+flickr run)";
  } else {
    throw_error<config_error>("unknown method '{}' (expected simcse, promptbert, mcse or vikcse)", method);
  }
  return s;
}

}  // namespace vikcse
