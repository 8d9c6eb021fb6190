// SPDX-License-Identifier: Apache-2.0
// Int8Linear (dynamic int8 quantization through LibTorch's quantized engine) and the encoder's int8
// mode built from it.
//  - One layer: |int8 - float32| stays inside the bound the quantization steps give (derived
//    below, per output element), and is not zero (the product really ran in int8).
//  - The encoder: quantize_int8 gives what the same int8 products give when the test composes BERT's
//    layer itself from the public submodules (separate query/key/value, attention written out), so a
//    mis-wired projection, residual or LayerNorm fails; training and gradients keep the float path.
#define BOOST_TEST_MODULE int8_linear
#include <boost/test/unit_test.hpp>

#include <support/tiny_model.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/encoder/int8_linear.hpp>

#include <torch/torch.h>

#include <cmath>

namespace {

/// Per output element j, with x̂ = x + δx and ŵ = w + δw the quantized values:
///     |x̂·ŵ_j - x·w_j| <= Σ_i |x_i| |δw_ji| + |w_ji| |δx_i| + |δx_i| |δw_ji|
/// where |δw_ji| <= s_j / 2 (s_j = max_i |w_ji| / 127.5, rounding to nearest; the clamp at -128 is
/// never reached since |w / s| <= 127.5) and |δx_i| <= s_x (s_x = (max(x, 0) - min(x, 0)) / levels,
/// levels 255, or 127 with reduce_range; half a step of rounding plus up to half a step of zero-point
/// nudging). The float32 accumulation of K products adds K·eps32·Σ|x||w| at worst, below 1e-4 of the rest.
torch::Tensor quantization_bound(const torch::Tensor& x, const torch::Tensor& w, bool reduce_range) {
  const double levels = reduce_range ? 127.0 : 255.0;
  const double sx = (std::max(x.max().item<double>(), 0.0) - std::min(x.min().item<double>(), 0.0)) / levels;
  const auto sw = w.abs().amax(1) / 127.5;  // [out]
  const auto k = static_cast<double>(x.size(1));
  return x.abs().sum(1, true) * (sw / 2).unsqueeze(0) + (w.abs().sum(1) * sx + sx * (sw / 2) * k).unsqueeze(0);
}

bool engine_reduces_range() { return vikcse::int8_engine() != c10::QEngine::QNNPACK; }

}  // namespace

BOOST_AUTO_TEST_CASE(int8_linear_stays_within_the_quantization_bound) {
  torch::manual_seed(3);
  for (auto [rows, in, out] : {std::tuple{7, 32, 48}, std::tuple{64, 768, 96}}) {
    const auto x = torch::randn({rows, in}) * 2.0 + 0.3;
    const auto w = torch::randn({out, in}) * 0.05;
    const auto b = torch::randn({out});
    const auto exact = torch::nn::functional::linear(x, w, b);
    const auto layer = vikcse::Int8Linear::pack(w, b);
    const auto got = layer(x);
    BOOST_REQUIRE(got.sizes() == exact.sizes());
    const auto diff = (got - exact).abs();
    const auto bound = quantization_bound(x, w, engine_reduces_range());
    BOOST_TEST_MESSAGE(fmt::format("engine {}: [{}x{}]·[{}x{}]ᵀ max |int8 - fp32| {:.3e}, smallest margin {:.3e}",
                                   vikcse::int8_engine_name(vikcse::int8_engine()), rows, in, out, in,
                                   diff.max().item<double>(), (bound - diff).min().item<double>()));
    BOOST_TEST((diff <= bound).all().item<bool>());
    BOOST_TEST(diff.max().item<double>() > 0.0);  // quantized, not a float32 product
    // Leading dimensions are kept.
    const auto batched = layer(x.view({1, rows, in}));
    BOOST_TEST(torch::equal(batched.view({rows, out}), got));
  }
}

BOOST_AUTO_TEST_CASE(int8_linear_checks_its_shapes) {
  BOOST_CHECK_THROW(vikcse::Int8Linear::pack(torch::randn({4, 3}), torch::randn({5})), c10::Error);
  vikcse::Int8Linear empty;
  BOOST_TEST(!empty.packed());
  BOOST_CHECK_THROW(empty(torch::randn({2, 3})), c10::Error);
}

namespace {

/// One BERT layer written out from its submodules, each projection through its own Int8Linear.
torch::Tensor reference_layer(vikcse::BertLayerImpl& l, const torch::Tensor& x, const torch::Tensor& bias,
                              std::int64_t heads) {
  auto int8 = [](const torch::nn::Linear& m, const torch::Tensor& t) {
    return vikcse::Int8Linear::pack(m->weight, m->bias)(t);
  };
  const auto& self = l.attention->self;
  const auto b = x.size(0), t = x.size(1), h = x.size(2), d = h / heads;
  auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, d}).permute({0, 2, 1, 3}); };
  const auto q = split(int8(self->query, x)), k = split(int8(self->key, x)), v = split(int8(self->value, x));
  const auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d)) + bias;
  const auto context = torch::matmul(torch::softmax(scores, -1), v).permute({0, 2, 1, 3}).reshape({b, t, h});
  const auto attended =
      torch::layer_norm(int8(l.attention->output->dense, context) + x, {h}, l.attention->output->LayerNorm->weight,
                        l.attention->output->LayerNorm->bias, 1e-12);
  const auto inner = torch::gelu(int8(l.intermediate->dense, attended));
  return torch::layer_norm(int8(l.output->dense, inner) + attended, {h}, l.output->LayerNorm->weight,
                           l.output->LayerNorm->bias, 1e-12);
}

}  // namespace

BOOST_AUTO_TEST_CASE(int8_encoder_matches_the_layers_written_out) {
  torch::manual_seed(5);
  auto config = vikcse::testing::tiny_bert_config(
      {.vocab_size = 60, .hidden_size = 32, .num_hidden_layers = 2, .num_attention_heads = 4, .intermediate_size = 64});
  vikcse::BertModel model(config);
  model->eval();
  auto ids = torch::randint(5, 60, {3, 9}, torch::kLong);
  auto mask = torch::ones_like(ids);
  mask.index_put_({2, torch::indexing::Slice(6, torch::indexing::None)}, 0);  // one padded row
  const vikcse::TokenBatch batch{ids, mask, torch::zeros_like(ids), {}};

  torch::NoGradGuard no_grad;
  const auto fp32 = model->forward(batch).last_hidden_state;
  model->encoder->quantize_int8();
  BOOST_TEST(model->encoder->is_int8());
  const auto out = model->forward(batch, /*output_hidden_states=*/true);

  auto x = model->embeddings(batch);
  const auto bias = (1.0 - mask.to(torch::kFloat)).mul(std::numeric_limits<float>::lowest()).view({3, 1, 1, 9});
  for (std::size_t i = 0; i < model->encoder->layer->size(); ++i) {
    x = reference_layer(*(*model->encoder->layer)[i]->as<vikcse::BertLayerImpl>(), x, bias, config.num_attention_heads);
    // Same int8 products; only the float32 attention and LayerNorm order differ (~1e-6), which can
    // move an activation across a rounding edge of the next quantization: one step, s_x·|w| ≈ 1e-3.
    const auto diff = (out.hidden_states[i + 1] - x).abs().max().item<double>();
    BOOST_TEST_MESSAGE(fmt::format("layer {}: max |encoder - written out| = {:.3e}", i, diff));
    BOOST_TEST(diff <= 1e-2);
  }
  BOOST_TEST(torch::equal(out.last_hidden_state, out.hidden_states.back()));
  // Quantized, but still the same function: far closer to float32 than a wrong wiring would be.
  const auto change = (out.last_hidden_state - fp32).abs().max().item<double>();
  BOOST_TEST_MESSAGE(fmt::format("max |int8 - fp32| on the last hidden state: {:.3e}", change));
  BOOST_TEST(change > 0.0);

  // Training or gradients take the float weights.
  {
    torch::AutoGradMode grad(true);
    BOOST_TEST(!model->encoder->uses_int8(fp32));
    const auto with_grad = model->forward(batch).last_hidden_state.detach();
    BOOST_TEST((with_grad - fp32).abs().max().item<double>() < change / 10);  // the float path
  }
  model->encoder->clear_int8();
  BOOST_TEST(!model->encoder->is_int8());
  BOOST_TEST(torch::allclose(model->forward(batch).last_hidden_state, fp32));
}
