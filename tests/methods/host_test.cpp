// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_host_test
#include <boost/test/unit_test.hpp>

#include <vikcse/methods.hpp>
#include <vikcse/methods/embedder.hpp>
#include <vikcse/train/collator.hpp>

#include <torch/torch.h>

#include <functional>
#include <sstream>

namespace {

vikcse::BertConfig tiny_config(double dropout = 0.1) {
  vikcse::BertConfig c;
  c.vocab_size = 120;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 96;
  c.hidden_dropout_prob = dropout;
  c.attention_probs_dropout_prob = dropout;
  return c;
}

// A toy tokenizer: one id per whitespace word (ids 110..119 are reserved for template words).
std::vector<std::int64_t> toy_tokenize(std::string_view text) {
  std::vector<std::int64_t> ids;
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) {
    if (w == "this") ids.push_back(110);
    else if (w == "means") ids.push_back(111);
    else if (w == "\"") ids.push_back(112);
    else if (w == ".") ids.push_back(113);
    else ids.push_back(5 + static_cast<std::int64_t>(std::hash<std::string>{}(w) % 95));
  }
  return ids;
}

const vikcse::SpecialIds ids{.cls = 1, .sep = 2, .pad = 0, .mask = 3};

vikcse::PromptLayout layout() {
  return vikcse::make_prompt_layout(vikcse::PromptTemplate("this \" [X] \" means [MASK] .", "[MASK]"), toy_tokenize, ids);
}

const std::vector<std::string> sentences{"a man plays a guitar", "the cat sleeps", "two dogs run in the park today"};

vikcse::Collator plain_collator() { return vikcse::Collator(toy_tokenize, {.specials = ids, .first = {}, .second = {}}); }
vikcse::Collator prompt_collator() {
  vikcse::ViewFormat f{layout(), 32};
  return vikcse::Collator(toy_tokenize, {.specials = ids, .first = f, .second = f});
}

vikcse::VIKCSE make_vikcse(vikcse::KbGradMode mode, double dropout = 0.1) {
  torch::manual_seed(11);
  vikcse::BertModel encoder(tiny_config(dropout));
  vikcse::MaskPromptPooler pooler(vikcse::MaskPromptPoolerOptions(16, ids.mask));
  vikcse::VisualKnowledgeBase<> kb(torch::randn({20, 8}));
  vikcse::KnowledgeInfoNCELoss loss(vikcse::KnowledgeInfoNCELossOptions(16, 8).kb_grad_mode(mode).soft_top_k(4));
  return vikcse::VIKCSE(encoder, pooler, kb, loss, vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
}

std::vector<torch::Tensor> encoder_grads(torch::nn::Module& encoder, const torch::Tensor& loss) {
  auto params = encoder.parameters();
  std::vector<torch::Tensor> used;
  for (auto& p : params) used.push_back(p);
  return torch::autograd::grad({loss}, used, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
}

}  // namespace

BOOST_AUTO_TEST_CASE(simcse_step_equals_manual_computation_without_dropout) {
  torch::manual_seed(1);
  vikcse::SimCSE model(vikcse::BertModel(tiny_config(0.0)), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());
  model->train();
  const auto batch = plain_collator().unsupervised(sentences);
  const auto out = model->forward(batch);
  // Without dropout both views are equal: L = InfoNCE(z, z) with z = MLP(h[:, 0]).
  const auto h = model->encoder->forward(batch.first).last_hidden_state.select(1, 0);
  const auto z = model->pooler->mlp(h);
  BOOST_TEST(out.total.item<double>() == vikcse::info_nce(z, z).item<double>(), boost::test_tools::tolerance(1e-5));
  // Registered names: encoder keys are Hugging Face keys under "encoder.".
  BOOST_TEST(model->named_parameters().contains("encoder.embeddings.word_embeddings.weight"));
  BOOST_TEST(model->named_parameters().contains("pooler.mlp.dense.weight"));
  // Eval embedding = raw [CLS] (mlp_only_train).
  model->eval();
  torch::NoGradGuard no_grad;
  BOOST_TEST(torch::allclose(model->embed(batch.first), h, 1e-5, 1e-6));
}

BOOST_AUTO_TEST_CASE(supervised_simcse_uses_hard_negatives) {
  torch::manual_seed(2);
  vikcse::SimCSE model(vikcse::BertModel(tiny_config(0.0)), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());
  const auto batch = plain_collator().pair(sentences, {"a person plays music", "a cat is asleep", "dogs run"},
                                           {"nobody plays", "the dog barks", "cats sit at home"});
  BOOST_REQUIRE(batch.hard_negative.has_value());
  const auto v = model->views(batch);
  BOOST_REQUIRE(v.hard_negative.has_value());
  const auto out = model->forward(batch);
  BOOST_TEST(out.total.item<double>() ==
                 vikcse::info_nce(v.first.z, v.second.z, {}, v.hard_negative->z).item<double>(),
             boost::test_tools::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(vikcse_kb_grad_mode_none_gives_exactly_the_text_gradient) {
  auto model = make_vikcse(vikcse::KbGradMode::none);
  model->train();
  const auto batch = prompt_collator().unsupervised(sentences);
  const auto views = model->views(batch);
  const auto out = model->loss->forward(views, model->knowledge->context(batch));
  BOOST_TEST(out.terms.count("vm") == 1U);
  BOOST_TEST(out.terms.count("vc") == 1U);
  const auto text = vikcse::info_nce(views.first.z, views.second.z);
  BOOST_TEST(text.item<double>() == out.terms.at("text").item<double>());
  const auto g_total = encoder_grads(*model->encoder, out.total);
  const auto g_text = encoder_grads(*model->encoder, text);
  std::size_t compared = 0;
  for (std::size_t i = 0; i < g_total.size(); ++i) {
    if (!g_text[i].defined()) continue;
    BOOST_TEST(torch::equal(g_total[i], g_text[i]));
    ++compared;
  }
  BOOST_TEST(compared > 10U);
}

BOOST_AUTO_TEST_CASE(vikcse_extension_modes_let_knowledge_reach_the_encoder) {
  for (auto mode : {vikcse::KbGradMode::straight_through, vikcse::KbGradMode::soft}) {
    auto model = make_vikcse(mode);
    model->train();
    const auto batch = prompt_collator().unsupervised(sentences);
    const auto views = model->views(batch);
    const auto out = model->loss->forward(views, model->knowledge->context(batch));
    const auto g_total = encoder_grads(*model->encoder, out.total);
    const auto g_text = encoder_grads(*model->encoder, vikcse::info_nce(views.first.z, views.second.z));
    double diff = 0.0;
    for (std::size_t i = 0; i < g_total.size(); ++i) {
      if (g_text[i].defined()) diff += (g_total[i] - g_text[i]).abs().sum().item<double>();
    }
    BOOST_TEST(diff > 1e-6);
    const auto gp = torch::autograd::grad({out.total}, {model->loss->cls_projector->dense->weight}, {}, true);
    BOOST_TEST(gp[0].abs().sum().item<double>() > 0.0);
  }
}

BOOST_AUTO_TEST_CASE(vikcse_training_is_deterministic_under_a_seed) {
  auto run = [] {
    auto model = make_vikcse(vikcse::KbGradMode::none);
    model->train();
    torch::manual_seed(99);
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
    std::vector<double> losses;
    const auto batch = prompt_collator().unsupervised(sentences);
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      auto out = model->forward(batch);
      out.total.backward();
      opt.step();
      losses.push_back(out.total.item<double>());
    }
    return losses;
  };
  const auto a = run();
  const auto b = run();
  BOOST_TEST(a == b, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(promptbert_delta_is_the_template_alone) {
  torch::manual_seed(4);
  vikcse::BertModel encoder(tiny_config(0.0));
  const auto l = layout();
  vikcse::MaskPromptPooler pooler(vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l, l}));
  vikcse::PromptBERT model(encoder, pooler, vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  model->train();
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const auto delta = model->pooler->template_bias(l, 4, encode, torch::kCPU);
  BOOST_TEST(delta.size(0) == 4);
  // δ_0 = the template with no sentence at its natural positions.
  auto ids_t = l.prefix;
  ids_t.insert(ids_t.end(), l.suffix.begin(), l.suffix.end());
  vikcse::TokenBatch only{torch::tensor(ids_t).unsqueeze(0), torch::ones({1, l.size()}, torch::kLong), {}, {}};
  const auto h0 = model->encoder->forward(only).last_hidden_state[0][static_cast<std::int64_t>(l.prefix.size()) +
                                                                     l.mask_offset()];
  BOOST_TEST(torch::allclose(delta[0], h0, 1e-5, 1e-6));
  BOOST_TEST(!torch::allclose(delta[0], delta[3], 1e-3, 1e-3));  // shifted suffix positions differ
  BOOST_TEST(delta.requires_grad());
  // Denoised views: h - δ_ℓ, ℓ = sentence length.
  const auto batch = prompt_collator().unsupervised(sentences);
  const auto v = model->views(batch);
  const auto raw = vikcse::mask_pooler(model->encoder->forward(batch.first), batch.first, ids.mask);
  const auto d5 = model->pooler->template_bias(l, 8, encode, torch::kCPU);
  BOOST_TEST(torch::allclose(v.first.h[0], raw[0] - d5[5], 1e-5, 1e-6));  // "a man plays a guitar": 5 tokens
  BOOST_TEST(torch::allclose(v.first.h[1], raw[1] - d5[3], 1e-5, 1e-6));
  // Frozen δ carries no gradient; the loss still trains.
  vikcse::MaskPromptPooler frozen(
      vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l}).denoise_grad(false));
  BOOST_TEST(!frozen->template_bias(l, 2, encode, torch::kCPU).requires_grad());
  const auto out = model->forward(batch);
  BOOST_TEST(std::isfinite(out.total.item<double>()));
}

// PromptBERT's protocol (METHODS.md §4.5, P1): select with δ subtracted, report the raw [MASK]
// vector with '.' appended.
BOOST_AUTO_TEST_CASE(promptbert_embedder_selects_denoised_and_reports_raw_with_period) {
  torch::manual_seed(5);
  vikcse::BertModel encoder(tiny_config(0.1));
  const auto l = layout();
  vikcse::PromptBERT model(encoder, vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l})),
                           vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  model->train();  // the embedder switches to eval mode itself and back
  const std::vector<std::string> batch_sentences{"a man plays a guitar", "is it raining ?"};
  const auto select = vikcse::make_embedder(model, toy_tokenize, ids, {.layout = l, .max_length = 64, .denoise = true, .append_period = false});
  const auto report = vikcse::make_embedder(model, toy_tokenize, ids,
                                            {.layout = l, .max_length = 64, .denoise = false, .append_period = true});
  const auto selected = select(batch_sentences);
  const auto reported = report(batch_sentences);
  BOOST_TEST(model->is_training());
  BOOST_TEST(!model->pooler->options.denoise_at_eval());  // restored after each call

  model->eval();
  torch::NoGradGuard no_grad;
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const vikcse::ViewFormat f{l, 64 - l.size()};
  const vikcse::Collator collator(toy_tokenize, {.specials = ids, .first = f, .second = f});
  auto raw_of = [&](const std::vector<std::string>& s) {
    std::vector<std::vector<std::int64_t>> rows;
    for (const auto& x : s) rows.push_back(collator.row(x, f));
    const auto b = collator.pad(rows);
    return vikcse::mask_pooler(model->encoder->forward(b), b, ids.mask);
  };
  // Selection: raw − δ_ℓ (ℓ = 5 and 4 sentence tokens).
  const auto raw = raw_of(batch_sentences);
  const auto delta = model->pooler->template_bias(l, 6, encode, torch::kCPU);
  BOOST_TEST(torch::allclose(selected[0], raw[0] - delta[5], 1e-5, 1e-6));
  BOOST_TEST(torch::allclose(selected[1], raw[1] - delta[4], 1e-5, 1e-6));
  // Report: the raw vector of "a man plays a guitar." and of the unchanged "is it raining ?".
  const auto with_period = raw_of({"a man plays a guitar.", "is it raining ?"});
  BOOST_TEST(torch::allclose(reported, with_period, 1e-5, 1e-6));
  // (the period changes the input: a tiny freshly initialised encoder moves the [MASK] state a little)
  BOOST_TEST((reported[0] - raw[0]).abs().max().item<double>() > 1e-5);
  // A pooler without denoising cannot be asked to denoise.
  vikcse::SimCSE simcse(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  BOOST_CHECK_THROW((void)vikcse::make_embedder(simcse, toy_tokenize, ids, {.layout = std::nullopt, .max_length = 512, .denoise = true, .append_period = false}),
                    vikcse::config_error);
  BOOST_TEST(vikcse::append_period_if_missing("a b") == "a b.");
  BOOST_TEST(vikcse::append_period_if_missing("a b'") == "a b'");
  BOOST_TEST(vikcse::append_period_if_missing("").empty());
}

BOOST_AUTO_TEST_CASE(mcse_paired_and_text_steps) {
  torch::manual_seed(5);
  vikcse::MCSE model(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::PairedImageFeatures(6),
                     vikcse::MultimodalInfoNCELoss(vikcse::MultimodalInfoNCELossOptions(16, 6).proj_dim(4)));
  model->train();
  auto batch = plain_collator().unsupervised(sentences);
  const auto text = model->forward(batch);
  BOOST_TEST(text.terms.count("inter") == 0U);
  batch.image_features = torch::randn({3, 6});
  const auto paired = model->forward(batch);
  BOOST_TEST(paired.terms.count("inter") == 1U);
  paired.total.backward();
  BOOST_TEST(model->loss->image_head->dense->weight.grad().abs().sum().item<double>() > 0.0);
}

BOOST_AUTO_TEST_CASE(collation_truncation_and_bad_input) {
  const auto long_sentence = std::string(200, 'x') + " " + "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10";
  // Sentence-only truncation keeps the template (and its [MASK]).
  vikcse::ViewFormat f{layout(), 4};
  vikcse::Collator c(toy_tokenize, {.specials = ids, .first = f, .second = f});
  const auto b = c.unsupervised({long_sentence, "short"});
  BOOST_TEST(b.first.input_ids.size(1) == layout().size() + 4);
  BOOST_TEST(b.first.input_ids.eq(ids.mask).sum(1).eq(1).all().item<bool>());
  // Plain whole-sequence truncation to max_length.
  vikcse::Collator p(toy_tokenize, {.specials = ids, .first = {std::nullopt, 5}, .second = {std::nullopt, 5}});
  const auto pb = p.unsupervised({long_sentence});
  BOOST_TEST(pb.first.input_ids.size(1) == 5);
  BOOST_TEST(pb.first.input_ids[0][4].item<std::int64_t>() == ids.sep);
  // Empty lines, templates without exactly one mask.
  BOOST_CHECK_THROW(c.unsupervised({"fine", "   "}), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::PromptTemplate("this [X] means nothing", "[MASK]"), vikcse::config_error);
  BOOST_CHECK_THROW(vikcse::PromptTemplate("[MASK] [X] [MASK]", "[MASK]"), vikcse::config_error);
  // A template whose text tokenises to a mask id.
  auto bad_tok = [](std::string_view t) { auto v = toy_tokenize(t); v.push_back(3); return v; };
  BOOST_CHECK_THROW(vikcse::make_prompt_layout(vikcse::PromptTemplate("[X] means [MASK]", "[MASK]"), bad_tok, ids),
                    vikcse::config_error);
}
