// SPDX-License-Identifier: Apache-2.0
// Hugging Face checkpoint directories: safetensors reading/writing, key mapping, strict loading,
// the legacy pytorch_model.bin path, atomic save, and every bad input with its message.
#define BOOST_TEST_MODULE checkpoint_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/test_data.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>

#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using vikcse::testing::expect_error;
using vikcse::testing::fixture_dir;

namespace {

/// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("vikcse-checkpoint-{}-{}", ::getpid(), counter()++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

void write_raw(const fs::path& path, std::uint64_t header_length, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((header_length >> (8 * i)) & 0xff));
  out << header << data;
}

void write_safetensors_text(const fs::path& path, const std::string& header, std::size_t data_bytes) {
  write_raw(path, header.size(), header, std::string(data_bytes, '\0'));
}

torch::Tensor run(vikcse::AutoModel model) {
  auto want = vikcse::SafetensorsFile::open(fixture_dir() / "encoder" / "tiny-bert-expected.safetensors").load_all();
  model->eval();
  torch::NoGradGuard no_grad;
  return model->forward({want.at("input_ids"), want.at("attention_mask"), want.at("token_type_ids"), {}})
      .last_hidden_state;
}

}  // namespace

BOOST_AUTO_TEST_CASE(safetensors_round_trip_keeps_dtype_shape_and_bytes) {
  TempDir dir;
  std::map<std::string, torch::Tensor> tensors{{"a", torch::randn({3, 4})},
                                               {"b", torch::arange(6, torch::kLong).view({2, 3})},
                                               {"c", torch::randn({5}).to(torch::kBFloat16)},
                                               {"d", torch::tensor({true, false})}};
  vikcse::save_safetensors(dir.path / "x.safetensors", tensors, {{"format", "pt"}});
  auto file = vikcse::SafetensorsFile::open(dir.path / "x.safetensors");
  BOOST_TEST(file.metadata().at("format") == "pt");
  BOOST_TEST(file.entries().size() == 4u);
  for (const auto& [name, t] : tensors) {
    auto back = file.load(name);
    BOOST_TEST(back.scalar_type() == t.scalar_type());
    BOOST_TEST(torch::equal(back, t), name);
  }
  // No temporary files are left behind by the atomic write.
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_CASE(bad_safetensors_files_name_the_problem) {
  TempDir dir;
  const auto p = dir.path / "bad.safetensors";
  write_raw(p, 1000, "{}", "");
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"bad.safetensors", "header length 1000", "larger than"});
  write_safetensors_text(p, "{not json", 0);
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"bad.safetensors", "not valid JSON"});
  write_safetensors_text(p, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})", 12);
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"'w'", "needs 8 bytes", "span 12"});
  write_safetensors_text(
      p,
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      12);
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"overlap", "'w'", "'v'"});
  write_safetensors_text(p, R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8);
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"'w'", "unknown dtype 'Q4'"});
  write_safetensors_text(p, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8);
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"'w'", "end before begin"});
  write_safetensors_text(p, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);  // data out of range
  auto file = vikcse::SafetensorsFile::open(p);
  expect_error([&] { (void)file.load("w"); }, {"truncated", "'w'", "[0, 16)", "16 bytes", "holds only 8"});
  write_raw(p, 3, "{}", "");
  std::ofstream(p, std::ios::binary | std::ios::trunc) << "abc";
  expect_error([&] { vikcse::SafetensorsFile::open(p); }, {"3 bytes", "at least 8"});
}

BOOST_AUTO_TEST_CASE(save_then_load_gives_identical_outputs) {
  TempDir dir;
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert");
  model.save_pretrained(dir.path / "saved");
  BOOST_TEST(fs::exists(dir.path / "saved" / "config.json"));
  auto again = vikcse::AutoModel::from_pretrained(dir.path / "saved");
  BOOST_TEST(again.load_report().clean());
  BOOST_TEST(torch::equal(run(model), run(again)));
  BOOST_TEST(again.config().layer_norm_eps == 1e-12);
}

BOOST_AUTO_TEST_CASE(saves_for_the_python_reference) {
  // tests/encoder/reference/check_saved_checkpoint.py loads this directory with the torch.nn
  // reference (CTest test encoder_saved_checkpoint_loads_in_reference runs after this one).
  const char* out = std::getenv("VIKCSE_SAVED_CHECKPOINT");
  if (out == nullptr) return;
  auto model = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-roberta");
  model.save_pretrained(out);
  BOOST_TEST(fs::exists(fs::path(out) / "model.safetensors"));
}

BOOST_AUTO_TEST_CASE(legacy_pytorch_model_bin_with_prefix_gamma_beta_and_head) {
  for (const std::string type : {"bert", "roberta"}) {
    auto from_bin = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / ("tiny-" + type + "-bin"));
    auto from_st = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / ("tiny-" + type));
    const auto& report = from_bin.load_report();
    BOOST_TEST(report.clean(), report.summary());
    BOOST_TEST(report.ignored.size() == 1u);  // the MLM head bias
    for (const auto& item : from_st->named_parameters()) {
      BOOST_TEST(torch::equal(item.value(), from_bin->named_parameters()[item.key()]), item.key());
    }
  }
}

BOOST_AUTO_TEST_CASE(sharded_index_and_missing_pooler) {
  TempDir dir;
  auto tensors =
      vikcse::SafetensorsFile::open(fixture_dir() / "encoder" / "tiny-bert" / "model.safetensors").load_all();
  std::map<std::string, torch::Tensor> shard1, shard2;
  nlohmann::json map;
  for (const auto& [k, v] : tensors) {
    if (k.rfind("pooler.", 0) == 0) continue;  // a checkpoint saved without the pooler (SimCSE)
    auto& shard = k.rfind("encoder.layer.1", 0) == 0 ? shard2 : shard1;
    shard.emplace("bert." + k, v);
    map["bert." + k] = &shard == &shard1 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  vikcse::save_safetensors(dir.path / "model-00001-of-00002.safetensors", shard1);
  vikcse::save_safetensors(dir.path / "model-00002-of-00002.safetensors", shard2);
  std::ofstream(dir.path / "model.safetensors.index.json") << nlohmann::json{{"weight_map", map}}.dump();
  fs::copy_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json", dir.path / "config.json");
  auto model = vikcse::AutoModel::from_pretrained(dir.path);
  BOOST_TEST(!model->has_pooler());
  BOOST_TEST(model.load_report().clean());
  auto reference = vikcse::AutoModel::from_pretrained(fixture_dir() / "encoder" / "tiny-bert");
  BOOST_TEST(torch::equal(run(model), run(reference)));
}

BOOST_AUTO_TEST_CASE(bad_checkpoint_directories_name_the_problem) {
  TempDir dir;
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path / "nope"); }, {"nope", "does not exist"});
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); }, {"config.json", "missing config.json"});
  std::ofstream(dir.path / "config.json") << R"({"model_type": "gpt2"})";
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); }, {"config.json", "unsupported model_type 'gpt2'"});
  std::ofstream(dir.path / "config.json") << R"({"model_type": "bert", "hidden_size": "large"})";
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); },
               {"config.json", "'hidden_size'", "expected an integer in", "got \"large\""});
  std::ofstream(dir.path / "config.json") << R"({"model_type": "bert", "hidden_size": 1e300})";  // no float-to-int UB
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); },
               {"config.json", "'hidden_size'", "expected an integer in", "got 1e+300"});
  std::ofstream(dir.path / "config.json") << R"({"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
      "num_attention_heads": 4, "intermediate_size": 37, "vocab_size": 99, "max_position_embeddings": 40})";
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); }, {"no weights found", "model.safetensors"});
  // Weights whose shapes disagree with the config: 64 intermediate units instead of 37.
  std::ofstream(dir.path / "config.json", std::ios::trunc) << R"({"model_type": "bert", "hidden_size": 32,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 99,
      "max_position_embeddings": 40})";
  fs::copy_file(fixture_dir() / "encoder" / "tiny-bert" / "model.safetensors", dir.path / "model.safetensors");
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); },
               {"strict", "encoder.layer.0.intermediate.dense.weight", "expected [64, 32] got [37, 32]"});
  vikcse::LoadOptions lenient;
  lenient.strict = false;
  auto model = vikcse::AutoModel::from_pretrained(dir.path, lenient);
  BOOST_TEST(model.load_report().mismatched.size() == 6u);  // intermediate + output dense of 2 layers, w and b
  // A pickle file that is not a zip state dict.
  fs::remove(dir.path / "model.safetensors");
  std::ofstream(dir.path / "pytorch_model.bin") << "this is not a pickle";
  expect_error([&] { vikcse::AutoModel::from_pretrained(dir.path); }, {"pytorch_model.bin", "pickle loader"});
}

BOOST_AUTO_TEST_CASE(unexpected_keys_fail_in_strict_mode) {
  TempDir dir;
  auto tensors =
      vikcse::SafetensorsFile::open(fixture_dir() / "encoder" / "tiny-bert" / "model.safetensors").load_all();
  tensors.emplace("encoder.layer.7.attention.self.query.weight", torch::zeros({32, 32}));
  tensors.erase("embeddings.LayerNorm.bias");
  vikcse::save_safetensors(dir.path / "model.safetensors", tensors);
  fs::copy_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json", dir.path / "config.json");
  expect_error(
      [&] { vikcse::AutoModel::from_pretrained(dir.path); },
      {"unexpected key: encoder.layer.7.attention.self.query.weight", "missing key: embeddings.LayerNorm.bias"});
}
