// SPDX-License-Identifier: Apache-2.0
// vikcse::SentenceEncoder (inference/sentence_encoder.hpp) and the sentence-transformers layout
// (inference/sentence_transformers.hpp, save_sentence_transformers.hpp): the three kinds of model
// directory embed as the evaluation path does, a saved model embeds as its recipe evaluates, the
// sentence-transformers files carry that library's field names and an independent float64 reader
// of the format (tests/inference/reference) gives the same vectors, and bad directories are
// refused by name.
#define BOOST_TEST_MODULE inference_sentence_encoder_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/float_bounds.hpp>
#include <support/python_reference.hpp>
#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/inference/save_sentence_transformers.hpp>
#include <vikcse/inference/sentence_encoder.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using vikcse::testing::expect_error;
using vikcse::testing::fixture_dir;
using vikcse::testing::ScratchDir;

namespace {

// Sentences over the tiny vocabulary, with a duplicate and different lengths.
const std::vector<std::string> sentences = {"a man eats an apple .", "the dog is in the park",
                                            "this sentence means ball", "a man eats an apple .",
                                            "two woman plays guitar in the street at home"};

fs::path vocab_dir() { return fixture_dir() / "methods" / "tiny-vocab"; }

// A plain Hugging Face checkpoint: the tiny BERT fixture and the tiny vocabulary.
void make_hf_dir(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fixture_dir() / "encoder" / "tiny-bert" / f, dir / f);
  fs::copy_file(vocab_dir() / "vocab.txt", dir / "vocab.txt");
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

void write_json(const fs::path& p, const nlohmann::json& j) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << j.dump(2);
}

// Asserts bitwise equality of two float tensors.
void expect_equal(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  BOOST_TEST_INFO(what);
  BOOST_REQUIRE(a.sizes() == b.sizes());
  BOOST_TEST(torch::equal(a, b));
}

// Float32: the evaluation embedder's arithmetic (SentenceEncoderOptions defaults to automatic).
vikcse::SentenceEncoderOptions exact() {
  vikcse::SentenceEncoderOptions o;
  o.precision = vikcse::Precision::float32;
  return o;
}

vikcse::EncodeOptions batches_of(std::int64_t n) {
  vikcse::EncodeOptions o;
  o.batch_size = n;
  return o;
}

// The ids SentenceEncoder feeds the model ([CLS] sentence [SEP], right-padded), for the reference.
void write_inputs(const fs::path& path, const std::vector<std::string>& s) {
  const auto tok = vikcse::AutoTokenizer::from_directory(vocab_dir());
  std::vector<std::vector<std::int64_t>> rows;
  for (const auto& x : s) rows.push_back(tok.encode(x));
  const auto batch = vikcse::pad_token_rows(rows, tok.special_tokens().pad);
  vikcse::save_safetensors(path, {{"input_ids", batch.input_ids}, {"attention_mask", batch.attention_mask}});
}

// Runs the independent reader on `dir` and checks `ours` against it. Bound, from the analysis of
// tests/support/float_bounds.hpp: the float32 last hidden state of the 2-layer fixture is within
// b0 = eps32 * 5 * sqrt(64) * M of exact (M = max |h|, K = max(hidden 32, intermediate 64)); a
// pooling mode averages or selects, adding rounding well below b0. A Dense layer `W` (1-Lipschitz
// activation) multiplies an input error by at most max_i sum_j |W_ij| and adds its own dot-product
// rounding, sqrt(in) * eps32 * max_i sum_j |W_ij| * M. Normalize: |x/|x| - y/|y|| <= 2 |x - y| / |y|,
// and |x - y| <= sqrt(D) * (elementwise bound).
void expect_reference(const fs::path& dir, const torch::Tensor& ours, const torch::Tensor& dense_weight,
                      bool normalized) {
  ScratchDir scratch("vikcse-st-ref");
  fs::create_directories(scratch.path);
  write_inputs(scratch.path / "in.safetensors", sentences);
  const auto run = vikcse::testing::run_python(
      vikcse::testing::tests_dir() / "inference" / "reference" / "sentence_transformers_reference.py",
      {dir.string(), (scratch.path / "in.safetensors").string(), (scratch.path / "out.safetensors").string()});
  BOOST_REQUIRE_MESSAGE(run.ok, run.command << "\n" << run.output);
  const auto out = vikcse::SafetensorsFile::open(scratch.path / "out.safetensors").load_all();
  const auto expected = out.at("embeddings");
  const double magnitude = out.at("magnitude")[0].item<double>();
  double bound = vikcse::testing::encoder_forward_bound(vikcse::testing::eps32, 5, 64, magnitude);
  if (dense_weight.defined()) {
    const double gain = dense_weight.abs().sum(1).max().item<double>();
    bound = (bound + std::sqrt(static_cast<double>(dense_weight.size(1))) * vikcse::testing::eps32 * magnitude) * gain;
  }
  if (normalized)
    bound = 2 * std::sqrt(static_cast<double>(ours.size(1))) * bound / out.at("norms").min().item<double>();
  BOOST_REQUIRE(ours.sizes() == expected.sizes());
  const double diff = (ours.to(torch::kDouble) - expected).abs().max().item<double>();
  BOOST_TEST_MESSAGE(dir.filename().string() << ": max |ours - float64 reference| = " << diff << ", bound " << bound);
  BOOST_TEST(diff <= bound);
  BOOST_TEST(diff > 0.0);  // float32 against float64: a zero would mean the reference ran our numbers
}

}  // namespace

// A plain checkpoint with a named pooler embeds exactly as vikcse_eval's embedder (make_embedder on
// AutoModel) for the same pooler and batching, rows in input order, duplicates equal.
BOOST_AUTO_TEST_CASE(a_hugging_face_checkpoint_embeds_as_the_evaluation_embedder) {
  torch::manual_seed(0);
  ScratchDir dir("vikcse-se-hf");
  make_hf_dir(dir.path);
  const auto tok = std::make_shared<const vikcse::AutoTokenizer>(vikcse::AutoTokenizer::from_directory(dir.path));
  for (const char* name : {"cls", "cls_before_pooler", "avg", "avg_first_last", "max", "mean_sqrt_len", "weighted_mean",
                           "last_token", "mask"}) {
    auto o = exact();
    o.pooler = name;
    vikcse::EmbedderOptions eo;
    eo.pooler.kind = vikcse::parse_pooler_kind(name);
    const std::string tpl = "this sentence : \" [X] \" means [MASK] .";
    if (eo.pooler.kind == vikcse::PoolerKind::mask) {
      o.template_text = tpl;
      eo.layout = vikcse::make_prompt_layout(vikcse::PromptTemplate(tpl, "[MASK]"), vikcse::tokenize_function(tok),
                                             tok->special_tokens());
    }
    const auto encoder = vikcse::SentenceEncoder::load(dir.path, o);
    BOOST_TEST((encoder.source() == vikcse::ModelSource::hugging_face));
    const auto ours = encoder.encode(sentences, batches_of(2));
    const auto eval =
        vikcse::encode_sentences(vikcse::make_embedder(vikcse::AutoModel::from_pretrained(dir.path),
                                                       vikcse::tokenize_function(tok), tok->special_tokens(), eo),
                                 sentences, batches_of(2));
    expect_equal(ours, eval, name);
    BOOST_TEST(ours.size(1) == encoder.dimension());
    BOOST_TEST(torch::equal(ours[0], ours[3]));
  }
  // The new poolers against their definitions on one unpadded row (3 real tokens of 7 in a batch).
  auto model = vikcse::AutoModel::from_pretrained(dir.path);
  model->eval();
  const auto batch =
      vikcse::pad_token_rows({tok->encode("a man"), tok->encode("the dog is in the park")}, tok->special_tokens().pad);
  torch::NoGradGuard no_grad;
  const auto out = model->forward(batch, false);
  const auto h = out.last_hidden_state[0].narrow(0, 0, 4);  // [CLS] a man [SEP]
  auto pooled = [&](vikcse::PoolerKind kind) {
    vikcse::PoolerOptions p;
    p.kind = kind;
    return vikcse::pool(out, batch, p)[0];
  };
  BOOST_TEST(torch::allclose(pooled(vikcse::PoolerKind::max), std::get<0>(h.max(0)), 0, 0));
  BOOST_TEST(torch::allclose(pooled(vikcse::PoolerKind::mean_sqrt_len), h.sum(0) / 2.0, 1e-6, 1e-6));
  const auto w = torch::arange(1, 5, torch::kFloat).unsqueeze(1);
  BOOST_TEST(torch::allclose(pooled(vikcse::PoolerKind::weighted_mean), (h * w).sum(0) / 10.0, 1e-6, 1e-6));
  BOOST_TEST(torch::equal(pooled(vikcse::PoolerKind::last_token), h[3]));
}

// Each precision embeds as the evaluation embedder on the same model in that precision (bfloat16
// weights, or the encoder's int8 projections), and differs from float32 (it really ran reduced);
// automatic, the default, resolves as inference/precision.hpp says. int8 is refused off the CPU,
// naming the directory.
BOOST_AUTO_TEST_CASE(each_precision_embeds_as_the_evaluation_embedder_in_that_precision) {
  torch::manual_seed(0);
  ScratchDir dir("vikcse-se-precision");
  make_hf_dir(dir.path);
  const auto tok = std::make_shared<const vikcse::AutoTokenizer>(vikcse::AutoTokenizer::from_directory(dir.path));
  vikcse::EmbedderOptions eo;
  eo.pooler.kind = vikcse::PoolerKind::avg;
  auto o = exact();
  o.pooler = "avg";
  const auto fp32 = vikcse::SentenceEncoder::load(dir.path, o).encode(sentences, batches_of(2));
  for (auto precision : {vikcse::Precision::bfloat16, vikcse::Precision::int8}) {
    o.precision = precision;
    const auto encoder = vikcse::SentenceEncoder::load(dir.path, o);
    BOOST_TEST((encoder.precision() == precision));
    BOOST_TEST(encoder.description().find(vikcse::to_string(precision)) != std::string::npos, encoder.description());
    const auto ours = encoder.encode(sentences, batches_of(2));
    auto model = vikcse::AutoModel::from_pretrained(dir.path);
    if (precision == vikcse::Precision::bfloat16) model->to(torch::kBFloat16);
    if (precision == vikcse::Precision::int8) model->encoder->quantize_int8();
    const auto eval = vikcse::encode_sentences(
        vikcse::make_embedder(model, vikcse::tokenize_function(tok), tok->special_tokens(), eo), sentences,
        batches_of(2));
    expect_equal(ours, eval.to(torch::kFloat), vikcse::to_string(precision));
    BOOST_TEST(ours.scalar_type() == torch::kFloat);
    BOOST_TEST(!torch::equal(ours, fp32));
  }
  // automatic: bf16 on bf16 hardware, else int8 on the CPU (Debian's LibTorch has quantized engines); float32 on a GPU.
  const auto chosen = vikcse::resolve_precision(vikcse::Precision::automatic, torch::kCPU);
  BOOST_TEST((chosen == (vikcse::cpu_has_bf16_hardware() ? vikcse::Precision::bfloat16 : vikcse::Precision::int8)));
  BOOST_TEST((vikcse::resolve_precision(vikcse::Precision::automatic, torch::Device(torch::kCUDA)) ==
              vikcse::Precision::float32));
  BOOST_TEST((vikcse::resolve_precision(vikcse::Precision::float32, torch::kCPU) == vikcse::Precision::float32));
  o.precision = vikcse::Precision::automatic;
  BOOST_TEST((vikcse::SentenceEncoder::load(dir.path, o).precision() == chosen));
  BOOST_TEST((vikcse::SentenceEncoderOptions{}.precision == vikcse::Precision::automatic));

  o.precision = vikcse::Precision::int8;
  o.device = torch::Device(torch::kCUDA);
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir.path, o); },
               {dir.path.string(), "int8 runs on the CPU only"});
}

// A checkpoint written by this library (save_model_checkpoint with the recipe's settings) embeds
// with no option as its recipe evaluates: SimCSE ([CLS] before the head), a SimCSE whose head
// applies at evaluation, PromptBERT ([MASK] in its first template) and VIKCSE (lower-cased).
BOOST_AUTO_TEST_CASE(a_saved_checkpoint_embeds_as_its_recipe_evaluates) {
  const auto tok =
      std::make_shared<const vikcse::WordPieceTokenizer>(vikcse::WordPieceTokenizer::from_directory(vocab_dir()));
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  ScratchDir scratch("vikcse-se-saved");
  auto check = [&](auto recipe, const std::string& name) {
    const auto dir = scratch.path / name;
    vikcse::SaveOptions save;
    save.embedding = recipe.embedding_settings();
    save.tokenizer_files = {vocab_dir() / "vocab.txt"};
    vikcse::save_model_checkpoint(*recipe.model, dir, save);
    const auto encoder = vikcse::SentenceEncoder::load(dir, exact());
    BOOST_TEST((encoder.source() == vikcse::ModelSource::vikcse));
    auto eval = recipe.eval;
    if constexpr (requires { recipe.model->pooler->options.denoise_at_eval(); }) eval.denoise = false;
    expect_equal(encoder.encode(sentences, batches_of(2)),
                 vikcse::encode_sentences(recipe.embedder(eval), sentences, batches_of(2)), name);
    return encoder.settings();
  };
  torch::manual_seed(1);
  const auto simcse = check(vikcse::make_simcse(vikcse::BertModel(config), tok), "simcse");
  BOOST_TEST((simcse.pooler == vikcse::PoolerKind::cls_before_pooler));
  BOOST_TEST(!simcse.head);
  auto with_head = vikcse::make_simcse(vikcse::BertModel(config), tok);
  with_head.model->pooler->options.mlp_only_train(false);
  {
    torch::NoGradGuard no_grad;
    with_head.model->pooler->mlp->dense->weight.normal_(0.0, 0.3);
  }
  const auto head = check(with_head, "simcse-head");
  BOOST_TEST((head.pooler == vikcse::PoolerKind::cls));
  BOOST_TEST(head.head);
  const auto prompt = check(vikcse::make_promptbert(vikcse::BertModel(config), tok), "promptbert");
  BOOST_TEST((prompt.pooler == vikcse::PoolerKind::mask));
  BOOST_TEST(prompt.layout.has_value());
  auto o = vikcse::recipe_options("vikcse", *tok);
  o.lowercase_eval = true;
  const auto kb =
      torch::nn::functional::normalize(torch::randn({16, 8}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto vik = check(vikcse::make_vikcse(vikcse::BertModel(config), tok, kb, o), "vikcse");
  BOOST_TEST(vik.lowercase);
  // The caller's options override the saved ones: another pooler drops the saved head.
  auto avg = exact();
  avg.pooler = "avg";
  avg.normalize = true;
  const auto e = vikcse::SentenceEncoder::load(scratch.path / "simcse-head", avg);
  BOOST_TEST(!e.settings().head);
  const auto rows = e.encode(sentences);
  BOOST_TEST(torch::allclose(rows.norm(2, 1), torch::ones({5}), 1e-6, 1e-6));
  // The identity follows the settings, not the path.
  fs::copy(scratch.path / "simcse", scratch.path / "simcse-copy");
  BOOST_TEST(vikcse::SentenceEncoder::load(scratch.path / "simcse", exact()).identity() ==
             vikcse::SentenceEncoder::load(scratch.path / "simcse-copy", exact()).identity());
  BOOST_TEST(vikcse::SentenceEncoder::load(scratch.path / "simcse", exact()).identity() != e.identity());
}

// save_sentence_transformers writes the layout with sentence-transformers' own field names; the
// directory loads back (through vikcse_embedding.json, and as a pure sentence-transformers model
// once that file is removed) to the host's vectors, and the independent float64 reader of the
// format agrees within the derived bound.
BOOST_AUTO_TEST_CASE(save_sentence_transformers_round_trips_and_matches_an_independent_reader) {
  const auto tok =
      std::make_shared<const vikcse::WordPieceTokenizer>(vikcse::WordPieceTokenizer::from_directory(vocab_dir()));
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  ScratchDir scratch("vikcse-st-save");
  torch::manual_seed(2);
  auto recipe = vikcse::make_simcse(vikcse::BertModel(config), tok);
  recipe.model->pooler->options.mlp_only_train(false);  // [CLS] + trained MLP at evaluation
  {
    torch::NoGradGuard no_grad;
    recipe.model->pooler->mlp->dense->weight.normal_(0.0, 0.3);
    recipe.model->pooler->mlp->dense->bias.uniform_(-0.5, 0.5);
  }
  vikcse::SentenceTransformersSaveOptions save;
  save.embedding = recipe.embedding_settings();
  save.embedding->normalize = true;
  save.tokenizer_files = {vocab_dir() / "vocab.txt"};
  const auto dir = scratch.path / "st";
  vikcse::save_sentence_transformers(*recipe.model, dir, save);

  const auto modules = read_json(dir / "modules.json");
  BOOST_REQUIRE(modules.size() == 4u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"", "sentence_transformers.models.Transformer"},
      {"1_Pooling", "sentence_transformers.models.Pooling"},
      {"2_Dense", "sentence_transformers.models.Dense"},
      {"3_Normalize", "sentence_transformers.models.Normalize"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(modules[i]["idx"].get<int>() == static_cast<int>(i));
    BOOST_TEST(modules[i]["name"].get<std::string>() == std::to_string(i));
    BOOST_TEST(modules[i]["path"].get<std::string>() == expected[i].first);
    BOOST_TEST(modules[i]["type"].get<std::string>() == expected[i].second);
  }
  const auto pooling = read_json(dir / "1_Pooling" / "config.json");
  std::set<std::string> keys;
  for (const auto& [k, v] : pooling.items()) keys.insert(k);
  BOOST_TEST(
      (keys == std::set<std::string>{"word_embedding_dimension", "pooling_mode_cls_token", "pooling_mode_mean_tokens",
                                     "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                                     "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken", "include_prompt"}));
  BOOST_TEST(pooling["pooling_mode_cls_token"].get<bool>());
  BOOST_TEST(!pooling["pooling_mode_mean_tokens"].get<bool>());
  BOOST_TEST(pooling["word_embedding_dimension"].get<int>() == 32);
  const auto dense = read_json(dir / "2_Dense" / "config.json");
  BOOST_TEST(dense["in_features"].get<int>() == 32);
  BOOST_TEST(dense["out_features"].get<int>() == 32);
  BOOST_TEST(dense["bias"].get<bool>());
  BOOST_TEST(dense["activation_function"].get<std::string>() == "torch.nn.modules.activation.Tanh");
  const auto dense_weights = vikcse::SafetensorsFile::open(dir / "2_Dense" / "model.safetensors");
  BOOST_TEST(dense_weights.contains("linear.weight"));
  BOOST_TEST(dense_weights.contains("linear.bias"));
  const auto bert = read_json(dir / "sentence_bert_config.json");
  BOOST_TEST(bert["max_seq_length"].get<int>() == 40);  // the fixture's max_position_embeddings
  BOOST_TEST(!bert["do_lower_case"].get<bool>());
  BOOST_TEST(fs::is_directory(dir / "3_Normalize"));

  auto eval = recipe.eval;
  const auto host = vikcse::encode_sentences(recipe.embedder(eval), sentences, batches_of(2));
  const auto host_normalized = host / host.norm(2, 1, true);
  const auto saved = vikcse::SentenceEncoder::load(dir, exact());
  BOOST_TEST((saved.source() == vikcse::ModelSource::vikcse));
  const auto a = saved.encode(sentences, batches_of(2));
  expect_equal(a, saved.encode(sentences, batches_of(2)), "repeatable");
  BOOST_TEST(torch::allclose(a, host_normalized, 1e-6, 1e-6));
  fs::remove(dir / vikcse::embedding_settings_file_name);
  const auto st = vikcse::SentenceEncoder::load(dir, exact());
  BOOST_TEST((st.source() == vikcse::ModelSource::sentence_transformers));
  const auto b = st.encode(sentences, batches_of(2));
  // The trained MLP as [CLS] head and as a Dense layer after cls pooling is the same arithmetic.
  expect_equal(a, b, "vikcse_embedding.json and modules.json");
  expect_reference(dir, b, recipe.model->pooler->mlp->dense->weight.detach(), true);

  // Mean pooling without a head: Transformer -> Pooling(mean), no Dense.
  auto mean = vikcse::make_simcse(vikcse::BertModel(config), tok);
  auto settings = vikcse::embedding_settings_of(*mean.model);
  settings.pooler = vikcse::PoolerKind::avg;
  vikcse::SentenceTransformersSaveOptions mean_save;
  mean_save.embedding = settings;
  mean_save.tokenizer_files = {vocab_dir() / "vocab.txt"};
  vikcse::save_sentence_transformers(*mean.model, scratch.path / "mean", mean_save);
  BOOST_TEST(read_json(scratch.path / "mean" / "modules.json").size() == 2u);
  fs::remove(scratch.path / "mean" / vikcse::embedding_settings_file_name);
  expect_reference(scratch.path / "mean",
                   vikcse::SentenceEncoder::load(scratch.path / "mean", exact()).encode(sentences), {}, false);
}

// A sentence-transformers directory written by hand from the format's documentation (max pooling,
// a Dense layer with the Identity activation and no bias, then Normalize, lower-casing, and the
// Transformer in a subfolder) loads and agrees with the independent reader.
BOOST_AUTO_TEST_CASE(a_hand_written_sentence_transformers_directory_loads) {
  ScratchDir scratch("vikcse-st-hand");
  const auto dir = scratch.path;
  make_hf_dir(dir / "0_Transformer");
  write_json(
      dir / "modules.json",
      nlohmann::json::array(
          {{{"idx", 0}, {"name", "0"}, {"path", "0_Transformer"}, {"type", "sentence_transformers.models.Transformer"}},
           {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}},
           {{"idx", 2}, {"name", "2"}, {"path", "2_Dense"}, {"type", "sentence_transformers.models.Dense"}},
           {{"idx", 3}, {"name", "3"}, {"path", "3_Normalize"}, {"type", "sentence_transformers.models.Normalize"}}}));
  write_json(dir / "0_Transformer" / "sentence_bert_config.json", {{"max_seq_length", 16}, {"do_lower_case", true}});
  write_json(dir / "1_Pooling" / "config.json", {{"word_embedding_dimension", 32},
                                                 {"pooling_mode_cls_token", false},
                                                 {"pooling_mode_mean_tokens", false},
                                                 {"pooling_mode_max_tokens", true},
                                                 {"pooling_mode_mean_sqrt_len_tokens", false}});
  write_json(dir / "2_Dense" / "config.json", {{"in_features", 32},
                                               {"out_features", 8},
                                               {"bias", false},
                                               {"activation_function", "torch.nn.modules.linear.Identity"}});
  torch::manual_seed(3);
  const auto w = torch::randn({8, 32});
  vikcse::save_safetensors(dir / "2_Dense" / "model.safetensors", {{"linear.weight", w}});
  fs::create_directories(dir / "3_Normalize");
  const auto e = vikcse::SentenceEncoder::load(dir, exact());
  BOOST_TEST((e.source() == vikcse::ModelSource::sentence_transformers));
  BOOST_TEST(e.settings().lowercase);
  BOOST_TEST(e.settings().max_length == 16);
  BOOST_TEST(e.dimension() == 8);
  const auto rows = e.encode(sentences);
  BOOST_TEST(rows.size(1) == 8);
  // Upper case reaches the same ids as the lower-case text (do_lower_case); alone in its batch the
  // row has another padded length, so the float32 results agree to rounding, not bit for bit.
  BOOST_TEST(torch::allclose(e.encode({"A MAN EATS AN APPLE ."}), rows[0].unsqueeze(0), 1e-5, 1e-6));
  expect_reference(dir, rows, w, true);
}

BOOST_AUTO_TEST_CASE(bad_directories_are_refused_by_name) {
  ScratchDir scratch("vikcse-se-bad");
  const auto dir = scratch.path / "hf";
  make_hf_dir(dir);
  expect_error([&] { (void)vikcse::SentenceEncoder::load(scratch.path / "missing", exact()); },
               {"missing", "does not exist"});
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, exact()); },
               {"plain Hugging Face checkpoint", "name a pooler"});
  auto mask = exact();
  mask.pooler = "mask";
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, mask); }, {"'mask' needs a prompt template"});
  auto unknown = exact();
  unknown.pooler = "mean";
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, unknown); }, {"unknown pooler 'mean'"});
  // A tokenizer with more ids than the embedding matrix (bert-base-uncased against a 99-row model).
  const auto big = vikcse::testing::data_dir() / "tokenizers" / "bert-base-uncased";
  if (fs::exists(big)) {
    auto o = exact();
    o.pooler = "avg";
    o.tokenizer = big;
    expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, o); }, {"30522 ids", "99 rows"});
  }
  // sentence-transformers files: two pooling modes, an unknown module, a Dense of the wrong shape.
  write_json(
      dir / "modules.json",
      nlohmann::json::array(
          {{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
           {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}}}));
  write_json(dir / "1_Pooling" / "config.json",
             {{"word_embedding_dimension", 32}, {"pooling_mode_cls_token", true}, {"pooling_mode_mean_tokens", true}});
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, exact()); },
               {"1_Pooling/config.json", "2 pooling modes are on", "pooling_mode_cls_token, pooling_mode_mean_tokens"});
  write_json(dir / "modules.json",
             nlohmann::json::array(
                 {{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
                  {{"idx", 1}, {"name", "1"}, {"path", "1_LSTM"}, {"type", "sentence_transformers.models.LSTM"}}}));
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, exact()); }, {"modules.json", "1_LSTM", "models.LSTM"});
  std::ofstream(dir / "modules.json") << "[{\"idx\": 0,";
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, exact()); }, {"modules.json", "not valid JSON"});
  fs::remove(dir / "modules.json");
  // vikcse_embedding.json with a bad value names the file and key.
  write_json(dir / vikcse::embedding_settings_file_name,
             {{"format", "vikcse-embedding"}, {"version", 1}, {"pooler", 3}});
  expect_error([&] { (void)vikcse::SentenceEncoder::load(dir, exact()); },
               {"vikcse_embedding.json", "'pooler'", "wrong type"});

  // [MASK] prompt pooling has no sentence-transformers module: refused before anything is written.
  const auto tok =
      std::make_shared<const vikcse::WordPieceTokenizer>(vikcse::WordPieceTokenizer::from_directory(vocab_dir()));
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  auto prompt = vikcse::make_promptbert(vikcse::BertModel(config), tok);
  vikcse::SentenceTransformersSaveOptions save;
  save.embedding = prompt.embedding_settings();
  expect_error([&] { vikcse::save_sentence_transformers(*prompt.model, scratch.path / "prompt", save); },
               {"[MASK] prompt pooling", "no sentence-transformers module", "save_model_checkpoint"});
  BOOST_TEST(!fs::exists(scratch.path / "prompt"));
}
