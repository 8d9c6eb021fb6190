// SPDX-License-Identifier: Apache-2.0
// Must compile (sanity pair of the compile-fail tests): an ablation alias of the same host.
#include <vikcse/methods/aliases.hpp>

using SimCSEWithPrompt =
    vikcse::SentenceEmbedder<vikcse::BertModel, vikcse::MaskPromptPooler, vikcse::NoKnowledge, vikcse::InfoNCELoss>;
template class vikcse::SentenceEmbedderImpl<vikcse::BertModel, vikcse::MaskPromptPooler, vikcse::NoKnowledge,
                                            vikcse::InfoNCELoss>;
int main() { return 0; }
