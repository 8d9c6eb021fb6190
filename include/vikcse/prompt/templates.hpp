// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file templates.hpp
/// The prompt templates of the reference code as named tables (README.md#promptbert, #vikcse-1):
/// the 26 VIKCSE templates of `add_prompt` (`prompt_contrastive.ipynb`, cell 4; `[S]` is the
/// sentence) and the PromptBERT templates of `run.sh` (`[X]` is the sentence). Each entry keeps
/// the reference string verbatim, with its placeholder, so that `PromptTemplate` can be built
/// from it. Torch-free.
///
/// Example:
/// ```
/// const auto& t = vikcse::vikcse_template(23);           // This sentence of " [S] " means [MASK] !
/// vikcse::PromptTemplate tpl(std::string(t.text), "[MASK]", {.placeholder = std::string(t.placeholder)});
/// ```

#include <vikcse/error.hpp>
#include <vikcse/prompt/template.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace vikcse {

/// The encoder family a reference template was written for.
enum class TemplateFamily {
  bert,     ///< written with `[MASK]` (BERT WordPiece)
  roberta,  ///< written with `<mask>` (RoBERTa byte-level BPE)
};

/// One reference template.
struct TemplateEntry {
  std::string_view name;         ///< stable name, e.g. `vikcse-23`, `promptbert-bert-t1`
  std::string_view text;         ///< the reference string, verbatim
  std::string_view placeholder;  ///< the sentence placeholder in `text` (`[S]` or `[X]`)
  std::string_view mask_token;   ///< the mask token written in `text` (`[MASK]` or `<mask>`)
  TemplateFamily family;         ///< the family it was written for
  std::string_view note;         ///< where it is used
};

/// The 26 templates of VIKCSE's `add_prompt` (index = the reference `idx`). idx 23 (BERT) and
/// idx 25 (RoBERTa) are the ones of the stored runs (README.md#vikcse-1). Note the spaces the
/// reference puts inside the quotes of idx 13, 14, 16 and 22–25, and the literal square brackets
/// around the sentence in idx 0–12 (`"[[S]]"` wraps the sentence in `[` `]`).
inline constexpr std::array<TemplateEntry, 26> vikcse_templates{{
    {"vikcse-0", R"(This sentence : "[ [S] ]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study"},
    {"vikcse-1", R"(This sentence : "[[S]]" means <mask> !)", "[S]", "<mask>", TemplateFamily::roberta,
     "template study (RoBERTa)"},
    {"vikcse-2", R"("[[S]]" is [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study: X is [MASK]"},
    {"vikcse-3", R"("[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study: X means [MASK]"},
    {"vikcse-4", R"("[[S]]" represents [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study: X represents [MASK]"},
    {"vikcse-5", R"("[[S]]" stands for [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study: X stands for [MASK]"},
    {"vikcse-6", R"(Text : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-7", R"(Sentence : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-8", R"(Statement : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-9", R"(The statement : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-10", R"(The sentence : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-11", R"(This statement : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study"},
    {"vikcse-12", R"(This sentence : "[[S]]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-13", R"(This sentence : " [S] " means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study (BERT)"},
    {"vikcse-14", R"(This sentence of " [S] " means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study (BERT)"},
    {"vikcse-15", R"(This sentence "[S]" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-16", R"(This sentence : " [S] " means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-17", R"(This sentence [ [S] ] means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study: brackets"},
    {"vikcse-18", R"(This sentence ( [S] ) means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study: parentheses"},
    {"vikcse-19", R"(This sentence { [S] } means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study: braces"},
    {"vikcse-20", R"(This sentence "{ [S] }" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert, "template study"},
    {"vikcse-21", R"(This sentence : "{ [S] }" means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "template study"},
    {"vikcse-22", R"(This sentence : " [S] " means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "ending punctuation study (BERT)"},
    {"vikcse-23", R"(This sentence of " [S] " means [MASK] !)", "[S]", "[MASK]", TemplateFamily::bert,
     "VIKCSE BERT runs"},
    {"vikcse-24", R"(This sentence : ' [S] ' means <mask> !)", "[S]", "<mask>", TemplateFamily::roberta,
     "template study (RoBERTa)"},
    {"vikcse-25", R"(The sentence : ' [S] ' means <mask> !)", "[S]", "<mask>", TemplateFamily::roberta,
     "VIKCSE RoBERTa runs"},
}};

/// The PromptBERT templates of `run.sh` (README.md#promptbert): T1 (view 1 and evaluation), T2 (view 2),
/// and the no-training baseline template. The RoBERTa templates put a space on each side of the
/// sentence inside the quotes (`run.sh` writes `'_*sent_0*_'`, `_` being a space), so the closing
/// quote is `Ġ'` and the sentence's first token carries its `Ġ`; the BERT ones glue the quotes on.
inline constexpr std::array<TemplateEntry, 5> promptbert_templates{{
    {"promptbert-bert-t1", R"(This sentence of "[X]" means [MASK].)", "[X]", "[MASK]", TemplateFamily::bert,
     "unsup view 1, supervised, evaluation"},
    {"promptbert-bert-t2", R"(This sentence : "[X]" means [MASK].)", "[X]", "[MASK]", TemplateFamily::bert,
     "unsup view 2"},
    {"promptbert-roberta-t1", R"(This sentence : ' [X] ' means <mask>.)", "[X]", "<mask>", TemplateFamily::roberta,
     "unsup view 1, supervised, evaluation"},
    {"promptbert-roberta-t2", R"(The sentence : ' [X] ' means <mask>.)", "[X]", "<mask>", TemplateFamily::roberta,
     "unsup view 2"},
    {"promptbert-bert-baseline", R"(This sentence : "[X]" means [MASK].)", "[X]", "[MASK]", TemplateFamily::bert,
     "no-training baseline (bert-prompt)"},
}};

/// VIKCSE template `idx` (0–25). @throws vikcse::config_error for another index.
inline const TemplateEntry& vikcse_template(std::size_t idx) {
  if (idx >= vikcse_templates.size()) {
    throw_error<config_error>("VIKCSE template index {} does not exist (expected 0..{})", idx,
                              vikcse_templates.size() - 1);
  }
  return vikcse_templates[idx];
}

/// A template of either table by name (`vikcse-23`, `promptbert-bert-t1`, ...).
/// @throws vikcse::config_error naming the unknown name.
inline const TemplateEntry& find_template(std::string_view name) {
  for (const auto& t : vikcse_templates) {
    if (t.name == name) return t;
  }
  for (const auto& t : promptbert_templates) {
    if (t.name == name) return t;
  }
  throw_error<config_error>(
      "unknown prompt template '{}' (expected vikcse-0..vikcse-25 or promptbert-bert-t1/t2, "
      "promptbert-roberta-t1/t2, promptbert-bert-baseline)",
      name);
}

/// A `PromptTemplate` of `entry` for a tokenizer whose mask token is `mask_token` (`[MASK]` or
/// `<mask>`): the written mask token is replaced by the tokenizer's when they differ.
/// @throws vikcse::config_error (see `PromptTemplate`).
inline PromptTemplate make_template(const TemplateEntry& entry, const std::string& mask_token,
                                    PromptTemplateOptions options = {}) {
  options.placeholder = std::string(entry.placeholder);
  options.written_mask_token = std::string(entry.mask_token);
  return PromptTemplate(std::string(entry.text), mask_token, std::move(options));
}

}  // namespace vikcse
