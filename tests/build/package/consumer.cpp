// SPDX-License-Identifier: Apache-2.0
// Builds against vikcse as a consumer does (installed package, build tree or add_subdirectory; see
// CMakeLists.txt beside it): a random tiny encoder, two inputs, one cosine; where the package has
// vikcse::image, first a PNG decoded (image_check.cpp).
#include <vikcse/vikcse.hpp>

#include <fmt/format.h>

#ifdef VIKCSE_CONSUMER_IMAGE
int image_check();
#endif

int main() {
#ifdef VIKCSE_CONSUMER_IMAGE
  if (image_check() != 0) return 1;
#endif
  vikcse::configure_threads();
  vikcse::BertConfig config;
  config.vocab_size = 50;
  config.hidden_size = 16;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.intermediate_size = 32;
  torch::manual_seed(0);
  vikcse::AutoModel model(config);
  model->eval();
  auto ids = torch::tensor({{2, 5, 7, 3}, {2, 5, 9, 3}}, torch::kLong);
  auto out = model->forward({ids, torch::ones_like(ids), {}, {}});
  auto cls = out.last_hidden_state.select(1, 0);
  const double cosine = torch::cosine_similarity(cls[0], cls[1], 0).item<double>();
  fmt::print("consumer: cosine similarity {:.4f} (vikcse {}.{}.{})\n", cosine, VIKCSE_VERSION_MAJOR,
             VIKCSE_VERSION_MINOR, VIKCSE_VERSION_PATCH);
  return 0;
}
