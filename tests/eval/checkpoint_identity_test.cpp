// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_checkpoint_identity
#include <boost/test/unit_test.hpp>

#include <eval/trained_checkpoint.hpp>
#include <support/expect_error.hpp>
#include <support/python_reference.hpp>
#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/cls_head.hpp>
#include <vikcse/eval/embedding_cache.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>
#include <vikcse/train/checkpoint.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using vikcse::testing::expect_error;
using vikcse::testing::fixture_dir;

namespace {

const std::vector<std::string> sentences = {"a man eats an apple .", "the dog is in the park",
                                            "this sentence means ball"};

std::shared_ptr<const vikcse::WordPieceTokenizer> tiny_tokenizer() {
  return std::make_shared<const vikcse::WordPieceTokenizer>(
      vikcse::WordPieceTokenizer::from_directory(fixture_dir() / "methods" / "tiny-vocab"));
}

/// The `cls` embedder of `model` with `head`, on the tiny tokenizer.
template <typename Model>
vikcse::Embedder cls_embedder(Model model, std::function<torch::Tensor(const torch::Tensor&)> head) {
  const auto tok = tiny_tokenizer();
  vikcse::EmbedderOptions options;
  options.pooler.kind = vikcse::PoolerKind::cls;
  options.pooler.head = std::move(head);
  return vikcse::make_embedder(model, vikcse::tokenize_function(tok), tok->special_tokens(), options);
}

/// The padded batch of `s` (framed with [CLS]/[SEP]), as the embedder builds it.
vikcse::TokenBatch tokenize(const std::vector<std::string>& s) {
  return vikcse::encode_token_batch(*tiny_tokenizer(), s);
}

using vikcse::testing::save_trained_simcse;

}  // namespace

// `cls` on a checkpoint written by this library: [CLS] through the saved MLP, tanh(W h + b), not the
// encoder's pooler_output (BERT's untrained pretrained pooler, saved in model.safetensors).
//
// Bound: the expected value is computed in float64 from the same float32 h, W, b. Our float32
// linear layer accumulates H products, each partial sum rounded: |error| <= (H + 2) eps32 *
// (|h| |W|^T + |b|) elementwise; tanh is 1-Lipschitz and its float32 evaluation adds a few ulps
// (4 eps32 allowed).
BOOST_AUTO_TEST_CASE(cls_applies_the_trained_mlp_of_a_saved_checkpoint) {
  vikcse::testing::ScratchDir dir("vikcse-cls-head");
  const auto ckpt = dir.path / "simcse";
  save_trained_simcse(ckpt);
  BOOST_REQUIRE(fs::exists(ckpt / vikcse::heads_file_name));
  const auto head = vikcse::load_cls_head(ckpt);
  BOOST_TEST((head.source == vikcse::ClsHeadSource::trained_mlp));
  BOOST_TEST(head.id() == "trained-mlp");
  BOOST_TEST(head.description.find("trained MLP") != std::string::npos);
  BOOST_TEST(head.description.find(vikcse::heads_file_name) != std::string::npos);

  auto model = vikcse::AutoModel::from_pretrained(ckpt);
  const auto got = cls_embedder(model, head.apply)(sentences);

  const auto heads = vikcse::SafetensorsFile::open(ckpt / vikcse::heads_file_name);
  const auto w = heads.load("pooler.mlp.dense.weight").to(torch::kDouble);
  const auto b = heads.load("pooler.mlp.dense.bias").to(torch::kDouble);
  torch::NoGradGuard no_grad;
  model->eval();
  const auto out = model->forward(tokenize(sentences));
  const auto h = out.last_hidden_state.select(1, 0).to(torch::kDouble);
  const auto want = torch::tanh(h.matmul(w.t()) + b);
  const double eps = std::numeric_limits<float>::epsilon();
  const auto hidden = static_cast<double>(w.size(1));
  const auto bound = (hidden + 2) * eps * (h.abs().matmul(w.abs().t()) + b.abs()) + 4 * eps;
  BOOST_TEST(((got.to(torch::kDouble) - want).abs() <= bound).all().item<bool>(),
             "max |got - tanh(W h + b)| = " << (got.to(torch::kDouble) - want).abs().max().item<double>());
  // ... and it is not the encoder's pooler output.
  const double off = (got - out.pooler_output).abs().max().item<double>();
  BOOST_TEST(off > 100 * bound.max().item<double>(), "cls equals pooler_output up to " << off);
}

// A plain Hugging Face checkpoint (no heads file) keeps BERT's pretrained pooler; so does a heads
// file without an MLP; an incomplete or misshapen MLP is an error naming the file and the key.
BOOST_AUTO_TEST_CASE(cls_keeps_bert_pooler_without_a_trained_head) {
  const auto hf = fixture_dir() / "encoder" / "tiny-bert";
  const auto head = vikcse::load_cls_head(hf);
  BOOST_TEST((head.source == vikcse::ClsHeadSource::bert_pooler));
  BOOST_TEST(!head.apply);
  BOOST_TEST(head.description.find("BERT's pretrained pooler") != std::string::npos);
  auto model = vikcse::AutoModel::from_pretrained(hf);
  const auto got = cls_embedder(model, head.apply)(sentences);
  torch::NoGradGuard no_grad;
  model->eval();
  BOOST_TEST(torch::equal(got, model->forward(tokenize(sentences)).pooler_output));

  vikcse::testing::ScratchDir dir("vikcse-cls-head-bad");
  const auto heads = dir.path / vikcse::heads_file_name;
  vikcse::save_safetensors(heads, {{"loss.scale", torch::ones({1})}});
  const auto none = vikcse::load_cls_head(dir.path);
  BOOST_TEST((none.source == vikcse::ClsHeadSource::bert_pooler));
  BOOST_TEST(none.description.find("has no pooler.mlp.dense.weight") != std::string::npos);
  vikcse::save_safetensors(heads, {{"pooler.mlp.dense.weight", torch::ones({4, 4})}});
  expect_error([&] { (void)vikcse::load_cls_head(dir.path); },
               {heads.string(), "'pooler.mlp.dense.weight'", "not 'pooler.mlp.dense.bias'"});
  vikcse::save_safetensors(
      heads, {{"pooler.mlp.dense.weight", torch::ones({4, 3})}, {"pooler.mlp.dense.bias", torch::ones({4})}});
  expect_error([&] { (void)vikcse::load_cls_head(dir.path); }, {heads.string(), "square", "[4, 3]"});
  vikcse::save_safetensors(
      heads, {{"pooler.mlp.dense.weight", torch::ones({4, 4})}, {"pooler.mlp.dense.bias", torch::ones({3})}});
  expect_error([&] { (void)vikcse::load_cls_head(dir.path); }, {heads.string(), "'pooler.mlp.dense.bias'", "[3]"});
}

// XXH64 known answers (the xxHash specification's values) and streaming = one shot.
BOOST_AUTO_TEST_CASE(xxh64_known_answers_and_streaming) {
  BOOST_TEST(vikcse::Xxh64::of("") == 0xEF46DB3751D8E999ULL);
  BOOST_TEST(vikcse::Xxh64::of("abc") == 0x44BC2CF5AD770999ULL);
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 255));
  for (const std::size_t step : {1, 3, 7, 31, 32, 33, 1000}) {
    vikcse::Xxh64 h(5);
    for (std::size_t i = 0; i < data.size(); i += step) h.update(data.data() + i, std::min(step, data.size() - i));
    BOOST_TEST(h.digest() == vikcse::Xxh64::of(data, 5), "step " << step);
  }
  BOOST_TEST(vikcse::Xxh64::of(data) != vikcse::Xxh64::of(data.substr(1)));
}

// The content hashes behind the cache key: a rewrite with other weights of the very same size changes
// the checkpoint hash, an identical rewrite does not; tokenizer files are hashed apart; a directory
// without such files is an error naming it.
BOOST_AUTO_TEST_CASE(content_hashes_follow_the_bytes) {
  vikcse::testing::ScratchDir dir("vikcse-content-hash");
  const auto ckpt = dir.path / "ckpt";
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  torch::manual_seed(1);
  vikcse::AutoModel(config).save_pretrained(ckpt);
  const auto first = vikcse::checkpoint_content_hash(ckpt);
  const auto size = fs::file_size(ckpt / "model.safetensors");
  vikcse::AutoModel(config).save_pretrained(ckpt);  // the generator moved on: other weights, same layout
  BOOST_TEST(fs::file_size(ckpt / "model.safetensors") == size);
  const auto second = vikcse::checkpoint_content_hash(ckpt);
  BOOST_TEST(second != first);
  BOOST_TEST(vikcse::checkpoint_content_hash(ckpt) == second);
  save_trained_simcse(ckpt);  // adds vikcse_heads.safetensors
  const auto with_heads = vikcse::checkpoint_content_hash(ckpt);
  save_trained_simcse(ckpt);  // the same bytes again
  BOOST_TEST(vikcse::checkpoint_content_hash(ckpt) == with_heads);
  {
    auto heads = vikcse::SafetensorsFile::open(ckpt / vikcse::heads_file_name).load_all();
    heads.at("pooler.mlp.dense.bias").add_(1.0);
    vikcse::save_safetensors(ckpt / vikcse::heads_file_name, heads);
  }
  BOOST_TEST(vikcse::checkpoint_content_hash(ckpt) != with_heads);

  const auto tok = dir.path / "tok";
  fs::create_directories(tok);
  fs::copy_file(fixture_dir() / "methods" / "tiny-vocab" / "vocab.txt", tok / "vocab.txt");
  const auto vocab_hash = vikcse::tokenizer_content_hash(tok);
  std::ofstream(tok / "vocab.txt", std::ios::app) << "extra\n";
  BOOST_TEST(vikcse::tokenizer_content_hash(tok) != vocab_hash);
  std::ofstream(tok / "notes.md") << "not a tokenizer file\n";
  const auto after_notes = vikcse::tokenizer_content_hash(tok);
  std::ofstream(tok / "notes.md") << "still not one\n";
  BOOST_TEST(vikcse::tokenizer_content_hash(tok) == after_notes);
  expect_error([&] { (void)vikcse::tokenizer_content_hash(ckpt); }, {ckpt.string(), "no tokenizer files"});
  expect_error([&] { (void)vikcse::checkpoint_content_hash(dir.path / "missing"); }, {"missing", "not a directory"});
}

// The heads file names the pooler that owns `pooler.mlp`: a PromptBERT checkpoint's MLP sits on the
// [MASK] vector, so `cls` must not apply it to [CLS] and falls back to BERT's pooler.
BOOST_AUTO_TEST_CASE(cls_ignores_the_mlp_of_a_mask_pooler) {
  const auto dir = fs::temp_directory_path() / ("vikcse_cls_mask_owner_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  vikcse::PromptBERT prompt(vikcse::BertModel(config),
                            vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(config.hidden_size, 4)),
                            vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  vikcse::SaveOptions options;
  vikcse::save_model_checkpoint(*prompt, dir, options);
  const auto file = vikcse::SafetensorsFile::open(dir / vikcse::heads_file_name);
  BOOST_TEST(file.contains("pooler.mlp.dense.weight"));
  BOOST_TEST(file.metadata().at("vikcse_pooler") == "mask");
  const auto head = vikcse::load_cls_head(dir);
  BOOST_TEST(head.id() == "bert-pooler");
  BOOST_TEST(head.description.find("'mask' pooler") != std::string::npos, head.description);
  // A SimCSE checkpoint records `cls` and keeps its trained head.
  fs::remove_all(dir);
  save_trained_simcse(dir);
  BOOST_TEST(vikcse::SafetensorsFile::open(dir / vikcse::heads_file_name).metadata().at("vikcse_pooler") == "cls");
  BOOST_TEST(vikcse::load_cls_head(dir).id() == "trained-mlp");
  fs::remove_all(dir);
}

// A checkpoint written over an older one is only the new model's: a model without heads must not
// leave the earlier model's heads file behind, or loading the directory back fails (or, worse, a
// reader takes the old head for the new model's).
BOOST_AUTO_TEST_CASE(a_checkpoint_without_heads_replaces_an_older_heads_file) {
  const auto dir = fs::temp_directory_path() / ("vikcse_stale_heads_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  vikcse::SaveOptions options;
  vikcse::PromptBERT with_head(vikcse::BertModel(config),
                               vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(config.hidden_size, 4)),
                               vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  vikcse::save_model_checkpoint(*with_head, dir, options);
  BOOST_TEST(fs::exists(dir / vikcse::heads_file_name));
  vikcse::PromptBERT no_head(
      vikcse::BertModel(config),
      vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(config.hidden_size, 4).mlp(false)),
      vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  BOOST_TEST(no_head->named_parameters().size() == no_head->encoder->named_parameters().size());
  vikcse::save_model_checkpoint(*no_head, dir, options);
  BOOST_TEST(!fs::exists(dir / vikcse::heads_file_name));
  BOOST_CHECK_NO_THROW(vikcse::load_model_checkpoint(*no_head, dir));
  fs::remove_all(dir);
}
