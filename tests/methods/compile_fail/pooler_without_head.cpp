// SPDX-License-Identifier: Apache-2.0
// Must NOT compile: a pooler policy without the required head().
#include <vikcse/methods/aliases.hpp>

struct HeadlessImpl : torch::nn::Module {
  torch::Tensor forward(const vikcse::EncoderOutput& o, const vikcse::TokenBatch&) { return o.last_hidden_state; }
  bool needs_hidden_states() const { return false; }
};
TORCH_MODULE(Headless);
template class vikcse::SentenceEmbedderImpl<vikcse::BertModel, Headless, vikcse::NoKnowledge, vikcse::InfoNCELoss>;
int main() { return 0; }
