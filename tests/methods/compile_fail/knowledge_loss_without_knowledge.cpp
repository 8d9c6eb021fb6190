// SPDX-License-Identifier: Apache-2.0
// Must NOT compile: VIKCSE's knowledge-based loss composed with NoKnowledge.
#include <vikcse/methods/aliases.hpp>

using Broken = vikcse::SentenceEmbedder<vikcse::BertModel, vikcse::MaskPromptPooler, vikcse::NoKnowledge,
                                        vikcse::KnowledgeInfoNCELoss>;
template class vikcse::SentenceEmbedderImpl<vikcse::BertModel, vikcse::MaskPromptPooler, vikcse::NoKnowledge,
                                            vikcse::KnowledgeInfoNCELoss>;
int main() { return 0; }
