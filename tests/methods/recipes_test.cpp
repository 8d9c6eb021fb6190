// SPDX-License-Identifier: Apache-2.0
// The method recipes (vikcse/methods/recipes.hpp): each builds its alias with the sizes, mask id,
// layouts and pass mode derived from the encoder, the tokenizer and the knowledge features, and
// the pieces that must agree do agree (collator, denoiser, evaluation input).
#define BOOST_TEST_MODULE methods_recipes_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <support/tiny_model.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace {

std::shared_ptr<const vikcse::WordPieceTokenizer> tokenizer() {
  return std::make_shared<const vikcse::WordPieceTokenizer>(
      vikcse::WordPieceTokenizer::from_directory(vikcse::testing::fixture_dir() / "methods" / "tiny-vocab"));
}

vikcse::BertModel encoder(std::int64_t hidden = 16) {
  return vikcse::BertModel(
      vikcse::testing::tiny_bert_config({.vocab_size = 99, .hidden_size = hidden, .max_position_embeddings = 96}));
}

const std::vector<std::string> sentences = {"the sentence means this", "this sentence of the"};

}  // namespace

BOOST_AUTO_TEST_CASE(simcse_recipe_is_plain_input_cut_to_32_with_the_encoder_width) {
  torch::manual_seed(0);
  auto r = vikcse::make_simcse(encoder(24), tokenizer());
  BOOST_TEST(r.layouts.empty());
  BOOST_TEST(r.model->pooler->options.hidden_size() == 24);
  BOOST_TEST(r.model->options.views_in_one_pass());
  BOOST_TEST(r.collator->options().first.max_length == 32);
  BOOST_TEST(!r.collator->options().first.layout.has_value());
  const auto step = r.collator->unsupervised(sentences);
  BOOST_TEST(step.first.input_ids[0][0].item<std::int64_t>() == tokenizer()->special_tokens().cls);
  BOOST_TEST(std::isfinite(r.model->forward(step).total.item<double>()));
  BOOST_TEST(r.embedder()(sentences).size(1) == 24);
}

BOOST_AUTO_TEST_CASE(promptbert_recipe_shares_its_two_layouts_with_the_denoiser_and_evaluation) {
  torch::manual_seed(0);
  const auto tok = tokenizer();
  auto r = vikcse::make_promptbert(encoder(), tok);
  BOOST_REQUIRE(r.layouts.size() == 2u);
  BOOST_TEST(r.layouts[0].prefix != r.layouts[1].prefix);  // T1 and T2 differ
  BOOST_TEST(r.model->pooler->options.mask_token_id() == tok->special_tokens().mask);
  const auto& denoise = r.model->pooler->options.denoise_layouts();
  BOOST_REQUIRE(denoise.size() == 2u);
  BOOST_TEST((denoise[0].prefix == r.layouts[0].prefix && denoise[1].suffix == r.layouts[1].suffix));
  BOOST_TEST((r.collator->options().first.layout->prefix == r.layouts[0].prefix));
  BOOST_TEST((r.collator->options().second.layout->prefix == r.layouts[1].prefix));
  BOOST_TEST(r.collator->options().first.max_length == 32);    // PromptBERT caps the sentence
  BOOST_TEST((r.eval.layout->prefix == r.layouts[0].prefix));  // evaluation under T1
  const auto step = r.collator->unsupervised(sentences);
  BOOST_TEST(std::isfinite(r.model->forward(step).total.item<double>()));
}

BOOST_AUTO_TEST_CASE(mcse_recipe_sizes_the_image_head_from_the_features) {
  torch::manual_seed(0);
  const auto images = torch::randn({5, 12});
  auto r = vikcse::make_mcse(encoder(), tokenizer(), images);
  BOOST_TEST(r.model->knowledge->options.feature_dim() == 12);
  BOOST_TEST(r.model->loss->options.image_dim() == 12);
  BOOST_TEST(r.model->loss->options.hidden_size() == 16);
  auto step = r.collator->unsupervised(sentences);
  step.image_features = images.narrow(0, 0, 2);
  BOOST_TEST(std::isfinite(r.model->forward(step).total.item<double>()));
  BOOST_CHECK_THROW((void)vikcse::make_mcse(encoder(), tokenizer(), torch::Tensor()), vikcse::config_error);
}

BOOST_AUTO_TEST_CASE(vikcse_recipe_takes_one_template_two_passes_and_the_kb_width) {
  torch::manual_seed(0);
  const auto kb = torch::randn({30, 10});
  const auto tok = tokenizer();
  auto r = vikcse::make_vikcse(encoder(), tok, kb);
  BOOST_TEST(!r.model->options.views_in_one_pass());  // VIKCSE's reference: one pass per view
  BOOST_TEST(r.model->loss->options.kb_dim() == 10);
  BOOST_TEST(r.model->loss->options.hidden_size() == 16);
  BOOST_TEST(r.model->pooler->options.mask_token_id() == tok->special_tokens().mask);
  BOOST_TEST(r.model->pooler->options.denoise_layouts().empty());  // no denoising
  const auto& first = r.collator->options().first;
  const auto& second = r.collator->options().second;
  BOOST_TEST((first.layout->prefix == second.layout->prefix && first.layout->suffix == second.layout->suffix));
  BOOST_TEST(first.max_length == 77 - first.layout->size());  // the sentence gets what the template leaves
  BOOST_TEST(!first.pad_to_max_length);                       // the library pads to the batch, not to 77
  const auto step = r.collator->unsupervised(sentences);
  BOOST_TEST(step.first.input_ids.size(1) < 77);
  const auto out = r.model->forward(step);
  BOOST_TEST(out.terms.contains("vm"));
  BOOST_TEST(out.terms.contains("vc"));
  // The reference switches reach the views: whole-sequence cut and padding to 77.
  auto reference = vikcse::recipe_options("vikcse", *tok);
  reference.truncation = vikcse::Truncation::whole_sequence;
  reference.pad_to_max_length = true;
  auto ref = vikcse::make_vikcse(encoder(), tok, kb, reference);
  BOOST_TEST(ref.collator->unsupervised(sentences).first.input_ids.size(1) == 77);
}

// The text-only ablation of a VIKCSE run: `knowledge_terms = false` drops L_vm and L_vc and
// changes nothing else: the same projectors are made (the same random streams), and with
// kb_grad_mode none the total and every gradient equal the run with the terms (whose visual terms
// are constants), bit for bit.
BOOST_AUTO_TEST_CASE(vikcse_recipe_without_knowledge_terms_is_the_text_only_ablation) {
  const auto kb = torch::randn({30, 10});
  const auto tok = tokenizer();
  auto make = [&](bool terms) {
    auto o = vikcse::recipe_options("vikcse", *tok);
    o.knowledge_terms = terms;
    torch::manual_seed(3);
    return vikcse::make_vikcse(encoder(), tok, kb, o);
  };
  auto with = make(true);
  auto without = make(false);
  BOOST_TEST(!without.model->loss->options.mask_term());
  BOOST_TEST(!without.model->loss->options.cls_term());
  const auto p_with = with.model->named_parameters();
  const auto p_without = without.model->named_parameters();
  BOOST_TEST(p_with.size() == p_without.size());
  for (const auto& item : p_with) BOOST_TEST(torch::equal(item.value(), p_without[item.key()]), item.key());
  const auto step = with.collator->unsupervised(sentences);
  torch::manual_seed(5);
  const auto out_with = with.model->forward(step);
  torch::manual_seed(5);
  const auto out_without = without.model->forward(step);
  BOOST_TEST(out_with.terms.contains("vm"));
  BOOST_TEST(!out_without.terms.contains("vm"));
  BOOST_TEST(!out_without.terms.contains("vc"));
  out_with.total.backward();
  out_without.total.backward();
  std::size_t compared = 0;
  for (const auto& item : p_with) {
    const auto& g = item.value().grad();
    const auto& h = p_without[item.key()].grad();
    BOOST_TEST(g.defined() == h.defined(), item.key());
    if (g.defined() && h.defined()) {
      BOOST_TEST(torch::equal(g, h), item.key());
      ++compared;
    }
  }
  BOOST_TEST(compared > 10U);
}

BOOST_AUTO_TEST_CASE(a_custom_alias_is_one_call_and_mismatches_are_errors) {
  torch::manual_seed(0);
  const auto tok = tokenizer();
  const auto kb = torch::randn({30, 10});
  using NoPrompt = vikcse::SentenceEmbedder<vikcse::BertModel, vikcse::ClsPooler, vikcse::VisualKnowledgeBase<>,
                                            vikcse::KnowledgeInfoNCELoss>;
  auto r = vikcse::make_method<NoPrompt>(encoder(), tok, vikcse::recipe_options("simcse", *tok), kb);
  BOOST_TEST(r.layouts.empty());
  BOOST_TEST(!r.model->options.views_in_one_pass());  // it retrieves, like VIKCSE
  BOOST_TEST(std::isfinite(r.model->forward(r.collator->unsupervised(sentences)).total.item<double>()));
  // A prompt pooler without a template, templates for a pooler without a prompt, a KB without features.
  BOOST_CHECK_THROW((void)vikcse::make_method<vikcse::PromptBERT>(encoder(), tok, vikcse::RecipeOptions{}),
                    vikcse::config_error);
  BOOST_CHECK_THROW(
      (void)vikcse::make_method<vikcse::SimCSE>(encoder(), tok, vikcse::recipe_options("promptbert", *tok)),
      vikcse::config_error);
  BOOST_CHECK_THROW((void)vikcse::make_vikcse(encoder(), tok, torch::Tensor()), vikcse::config_error);
}
