// SPDX-License-Identifier: Apache-2.0
// BertModel / RobertaModel against the independent torch.nn reference
// (tests/encoder/reference/make_encoder_fixtures.py), plus dropout and dtype behaviour.
#define BOOST_TEST_MODULE encoder_model_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/vikcse.hpp>

namespace {

using vikcse::testing::fixture_dir;

struct Expected {
  std::map<std::string, torch::Tensor> tensors;
  vikcse::TokenBatch batch() const {
    return {tensors.at("input_ids"), tensors.at("attention_mask"), tensors.at("token_type_ids"), {}};
  }
};

Expected expected(const std::string& type) {
  return {vikcse::SafetensorsFile::open(fixture_dir() / "encoder" / ("tiny-" + type + "-expected.safetensors")).load_all()};
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Eval mode without autograd: the fused inference kernel (`fused`) or the op-by-op path.
void check_matches_reference(const std::string& type, bool fused = true) {
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / ("tiny-" + type));
  model->eval();
  model->encoder->fused_inference = fused;
  auto want = expected(type);
  torch::NoGradGuard no_grad;
  BOOST_TEST(model->encoder->uses_fused_kernel(torch::zeros({1}, torch::kFloat)) == fused);
  auto out = model->forward(want.batch(), /*output_hidden_states=*/true);
  const double last = max_diff(out.last_hidden_state, want.tensors.at("last_hidden_state"));
  const double pooled = max_diff(out.pooler_output, want.tensors.at("pooler_output"));
  BOOST_TEST_MESSAGE(type << (fused ? " (fused kernel)" : " (op by op)") << ": max |C++ - reference| last_hidden_state "
                          << last << ", pooler " << pooled);
  BOOST_TEST(last < 1e-5);
  BOOST_TEST(pooled < 1e-5);
  BOOST_TEST(out.hidden_states.size() == static_cast<std::size_t>(model.config().num_hidden_layers + 1));
  for (std::size_t i = 0; i < out.hidden_states.size(); ++i) {
    BOOST_TEST(max_diff(out.hidden_states[i], want.tensors.at("hidden_states." + std::to_string(i))) < 1e-5,
               "hidden state " << i);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(bert_matches_torch_nn_reference) { check_matches_reference("bert"); }

BOOST_AUTO_TEST_CASE(bert_op_by_op_path_matches_torch_nn_reference) { check_matches_reference("bert", false); }

BOOST_AUTO_TEST_CASE(roberta_op_by_op_path_matches_torch_nn_reference) { check_matches_reference("roberta", false); }

// The fused kernel serves inference only: with autograd on or in train mode the op-by-op path runs.
BOOST_AUTO_TEST_CASE(fused_kernel_only_for_inference) {
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert");
  const auto x = torch::zeros({1}, torch::kFloat);
  model->eval();
  BOOST_TEST(!model->encoder->uses_fused_kernel(x));  // autograd on
  torch::NoGradGuard no_grad;
  BOOST_TEST(model->encoder->uses_fused_kernel(x));
  BOOST_TEST(!model->encoder->uses_fused_kernel(x.to(torch::kBFloat16)));
  model->train();
  BOOST_TEST(!model->encoder->uses_fused_kernel(x));
}

BOOST_AUTO_TEST_CASE(roberta_matches_torch_nn_reference) { check_matches_reference("roberta"); }

BOOST_AUTO_TEST_CASE(roberta_position_ids_count_non_padding_tokens) {
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-roberta");
  // pad id is 1: positions start at 2 and padding keeps position 1.
  auto ids = torch::tensor({{0, 5, 7, 2, 1, 1}}, torch::kLong);
  auto positions = model->embeddings->default_position_ids({ids, {}, {}, {}});
  BOOST_TEST(torch::equal(positions, torch::tensor({{2, 3, 4, 5, 1, 1}}, torch::kLong)));
}

BOOST_AUTO_TEST_CASE(hidden_states_only_on_request) {
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert");
  auto out = model->forward(expected("bert").batch());
  BOOST_TEST(out.hidden_states.empty());
  BOOST_TEST(out.last_hidden_state.sizes() == torch::IntArrayRef({3, 9, 32}));
}

BOOST_AUTO_TEST_CASE(dropout_is_active_in_train_mode_only) {
  torch::manual_seed(7);
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert");
  auto batch = expected("bert").batch();
  model->train();
  auto a = model->forward(batch).last_hidden_state;
  auto b = model->forward(batch).last_hidden_state;
  BOOST_TEST(max_diff(a, b) > 1e-3);  // two dropout masks give two views
  model->eval();
  auto c = model->forward(batch).last_hidden_state;
  auto d = model->forward(batch).last_hidden_state;
  BOOST_TEST(max_diff(c, d) == 0.0);
}

BOOST_AUTO_TEST_CASE(reduced_precision_dtypes_stay_close_to_float32) {
  auto want = expected("bert");
  for (auto dtype : {torch::kBFloat16, torch::kHalf}) {
    vikcse::LoadOptions options;
    options.dtype = dtype;
    if (dtype == torch::kHalf) {
      // LibTorch 1.13 has no float16 matmul on CPU; float16 runs on CUDA (or newer LibTorch CPU).
      try {
        (void)torch::matmul(torch::ones({2, 2}, torch::kHalf), torch::ones({2, 2}, torch::kHalf));
      } catch (const c10::Error&) {
        if (!torch::cuda::is_available()) {
          BOOST_TEST_MESSAGE("float16 skipped: this LibTorch has no float16 matmul on CPU and no CUDA device");
          continue;
        }
        options.device = torch::kCUDA;
      }
    }
    auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert", options);
    model->eval();
    torch::NoGradGuard no_grad;
    auto out = model->forward(want.batch().to(options.device));
    BOOST_TEST(out.last_hidden_state.scalar_type() == dtype);
    auto mask = want.tensors.at("attention_mask").unsqueeze(-1).to(torch::kBool);
    const double diff = max_diff(out.last_hidden_state.to(torch::kCPU, torch::kFloat).masked_select(mask),
                                 want.tensors.at("last_hidden_state").masked_select(mask));
    BOOST_TEST_MESSAGE(c10::toString(dtype) << ": max |diff| vs float32 reference " << diff);
    BOOST_TEST(diff < 0.25);  // bf16 keeps ~3 significant digits; outputs are LayerNorm-scaled O(1)
  }
}

BOOST_AUTO_TEST_CASE(random_init_follows_hugging_face_rule) {
  vikcse::BertConfig config;
  config.hidden_size = 64;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 4;
  config.intermediate_size = 128;
  torch::manual_seed(0);
  vikcse::BertModel model(config);
  auto w = model->embeddings->word_embeddings->weight;
  BOOST_TEST(std::abs(w.std().item<double>() - 0.02) < 0.002);
  BOOST_TEST(w[config.pad_token_id].abs().sum().item<double>() == 0.0);
  BOOST_TEST(model->embeddings->LayerNorm->weight.eq(1).all().item<bool>());
}

BOOST_AUTO_TEST_CASE(bad_configs_are_rejected_with_the_key) {
  auto bad = [](auto mutate, const std::string& fragment) {
    vikcse::BertConfig config;
    mutate(config);
    try {
      config.validate("cfg");
      BOOST_ERROR("no error for " << fragment);
    } catch (const vikcse::config_error& e) {
      BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
  };
  bad([](auto& c) { c.num_attention_heads = 5; }, "num_attention_heads (5)");
  bad([](auto& c) { c.model_type = "gpt2"; }, "unsupported model_type 'gpt2'");
  bad([](auto& c) { c.hidden_act = "tanhshrink"; }, "unsupported hidden_act 'tanhshrink'");
  bad([](auto& c) { c.pad_token_id = 40000; }, "pad_token_id 40000");
}
