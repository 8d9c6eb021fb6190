// SPDX-License-Identifier: Apache-2.0
// The real (truncated) sentence-transformers all-MiniLM-L6-v2 safetensors file from ../shared/data:
// its header parses, its 105 entries map onto a BertModel of the matching config, and loading it
// fails naming the first tensor whose bytes are missing.
#define BOOST_TEST_MODULE encoder_real_checkpoint_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/vikcse.hpp>

namespace fs = std::filesystem;

namespace {

fs::path minilm() { return vikcse::testing::data_dir() / "fixtures" / "all-MiniLM-L6-v2.truncated.safetensors"; }

vikcse::BertConfig minilm_config() {
  vikcse::BertConfig config;  // all-MiniLM-L6-v2's config.json
  config.hidden_size = 384;
  config.num_hidden_layers = 6;
  config.num_attention_heads = 12;
  config.intermediate_size = 1536;
  return config;
}

}  // namespace

BOOST_AUTO_TEST_CASE(header_parses_and_maps_onto_bert_model) {
  auto file = vikcse::SafetensorsFile::open(minilm());
  // 105 header entries: 104 tensors and __metadata__ ({"format": "pt"}).
  BOOST_TEST(file.entries().size() + 1 == 105u);
  BOOST_TEST(file.metadata().at("format") == "pt");
  BOOST_TEST(file.data_size() == 90856960u);  // the header says the data ends at 90,856,960 bytes
  vikcse::BertModel model(minilm_config());
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& e : file.entries()) shapes.emplace(e.name, e.shape);
  auto report = vikcse::match_checkpoint(*model, shapes,
                                         [](const std::string& k) { return vikcse::map_bert_family_key(k, "bert"); });
  BOOST_TEST_MESSAGE("all-MiniLM-L6-v2 header vs BertModel: " << report.summary());
  BOOST_TEST(report.clean(), report.summary());
  BOOST_TEST(report.loaded.size() + report.ignored.size() == 104u);
  BOOST_TEST(report.ignored == std::vector<std::string>{"embeddings.position_ids"});
  BOOST_TEST(report.loaded.size() == model->named_parameters().size());
}

BOOST_AUTO_TEST_CASE(loading_names_the_first_tensor_whose_bytes_are_missing) {
  auto file = vikcse::SafetensorsFile::open(minilm());
  const std::uint64_t available = fs::file_size(minilm()) - 8 - 11408;
  const vikcse::SafetensorsEntry* first_missing = nullptr;
  for (const auto& e : file.entries()) {
    if (e.end > available) {
      first_missing = &e;
      break;
    }
  }
  BOOST_REQUIRE(first_missing != nullptr);
  BOOST_TEST_MESSAGE("first tensor with missing bytes: " << first_missing->name << " needs "
                                                         << first_missing->end - first_missing->begin << " bytes");
  try {
    (void)file.load_all();
    BOOST_ERROR("loading a truncated file did not fail");
  } catch (const vikcse::checkpoint_error& e) {
    const std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    BOOST_TEST(what.find("'" + first_missing->name + "'") != std::string::npos, what);
    BOOST_TEST(what.find(fmt::format("({} bytes)", first_missing->end - first_missing->begin)) != std::string::npos);
    BOOST_TEST(what.find("truncated") != std::string::npos);
  }
  // Tensors whose bytes are present still load.
  const auto& first = file.entries().front();
  BOOST_TEST(file.load(first.name).numel() > 0);
}
