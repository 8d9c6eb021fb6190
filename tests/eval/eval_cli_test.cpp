// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_cli
#include <boost/test/unit_test.hpp>

#include <eval/trained_checkpoint.hpp>
#include <support/python_reference.hpp>
#include <support/test_data.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/train/checkpoint.hpp>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// vikcse_eval (VIKCSE_EVAL_PROGRAM) end to end on scratch checkpoints and SentEval-shaped files
// written here, with the tiny BERT configuration and vocabulary of tests/data.

namespace fs = std::filesystem;
using vikcse::testing::fixture_dir;
using vikcse::testing::shell_quote;

namespace {

struct Run {
  int rc = -1;
  std::string output;   // stdout and stderr
  nlohmann::json json;  // the --json report when one was written
};

// Sentences over the tiny vocabulary (tests/data/methods/tiny-vocab).
std::vector<std::string> sentences() {
  const std::vector<std::string> subjects = {"a man", "a woman", "the dog", "a cat", "the child", "a chef"};
  const std::vector<std::string> actions = {"eats an apple", "carries a ball", "throws a book",
                                            "paints a car",  "plays guitar",   "sleeps at home"};
  std::vector<std::string> out;
  for (const auto& s : subjects) {
    for (const auto& a : actions) out.push_back(s + " " + a + " .");
  }
  return out;
}

// <root>/downstream with STSBenchmark (24 test pairs) and MR (18 + 18 sentences).
fs::path write_senteval(const fs::path& root) {
  const auto s = sentences();
  const auto sts = root / "downstream" / "STS" / "STSBenchmark";
  fs::create_directories(sts);
  std::ofstream test(sts / "sts-test.csv");
  for (std::size_t i = 0; i < 24; ++i) {
    test << fmt::format("main\tfile\t2012\t{}\t{:.1f}\t{}\t{}\n", i, static_cast<double>((i * 5) % 24) / 4.8, s[i],
                        s[(i * 7 + 3) % s.size()]);
  }
  const auto mr = root / "downstream" / "MR";
  fs::create_directories(mr);
  std::ofstream pos(mr / "rt-polarity.pos");
  std::ofstream neg(mr / "rt-polarity.neg");
  for (std::size_t i = 0; i < s.size(); ++i) (i % 2 == 0 ? pos : neg) << s[i] << "\n";
  return root;
}

Run eval(const fs::path& scratch, const std::vector<std::string>& args, const std::string& name) {
  const char* program = std::getenv("VIKCSE_EVAL_PROGRAM");
  BOOST_REQUIRE_MESSAGE(program != nullptr, "VIKCSE_EVAL_PROGRAM is not set (CTest sets it)");
  const auto log = scratch / (name + ".log");
  const auto json = scratch / (name + ".json");
  std::string command = shell_quote(program);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " --no-progress --threads 1 --json " + shell_quote(json.string());
  command += " > " + shell_quote(log.string()) + " 2>&1";
  Run r;
  const int status = std::system(command.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(log);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (fs::exists(json)) {
    std::ifstream j(json);
    r.json = nlohmann::json::parse(j);
    fs::remove(json);
  }
  BOOST_TEST_MESSAGE(name << ": rc " << r.rc << "\n" << r.output);
  return r;
}

std::vector<std::string> common(const fs::path& model, const fs::path& senteval) {
  return {"--model",    model.string(),   "--tokenizer", (fixture_dir() / "methods" / "tiny-vocab").string(),
          "--senteval", senteval.string()};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::size_t files_in(const fs::path& dir) {
  std::size_t n = 0;
  if (fs::exists(dir)) {
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  }
  return n;
}

double sts_spearman(const Run& r) { return r.json.at("sts").at(0).at("spearman").at("all").get<double>(); }

}  // namespace

// Weights rewritten in the same directory are re-encoded, not served from the cache.
BOOST_AUTO_TEST_CASE(cache_is_keyed_by_the_weights_contents) {
  vikcse::testing::ScratchDir dir("vikcse-eval-cli-cache");
  const auto senteval = write_senteval(dir.path / "senteval");
  const auto model = dir.path / "model";
  const auto config = vikcse::BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  torch::manual_seed(1);
  vikcse::AutoModel(config).save_pretrained(model);
  const auto args = common(model, senteval) + std::vector<std::string>{"--tasks", "STSBenchmark", "--pooler", "avg"};
  const auto cache = std::vector<std::string>{"--cache", (dir.path / "cache").string()};
  const auto first = eval(dir.path, args + cache, "first");
  BOOST_REQUIRE(first.rc == 0);
  const auto entries = files_in(dir.path / "cache");
  BOOST_TEST(entries >= 1u);
  const auto again = eval(dir.path, args + cache, "again");  // unchanged weights: served from the cache
  BOOST_TEST(sts_spearman(again) == sts_spearman(first));
  BOOST_TEST(files_in(dir.path / "cache") == entries);

  vikcse::AutoModel(config).save_pretrained(model);  // other weights, same directory, same file sizes
  const auto rewritten = eval(dir.path, args + cache, "rewritten");
  BOOST_REQUIRE(rewritten.rc == 0);
  const auto fresh = eval(dir.path, args, "fresh");  // no cache at all
  BOOST_TEST(sts_spearman(rewritten) == sts_spearman(fresh));
  BOOST_TEST(sts_spearman(rewritten) != sts_spearman(first));
  BOOST_TEST(files_in(dir.path / "cache") == 2 * entries);
}

// --pooler cls on a checkpoint saved by the library applies its trained MLP and says so; on a plain
// Hugging Face checkpoint it keeps BERT's pretrained pooler and says that.
BOOST_AUTO_TEST_CASE(cls_pooler_names_and_uses_its_head) {
  vikcse::testing::ScratchDir dir("vikcse-eval-cli-cls");
  const auto senteval = write_senteval(dir.path / "senteval");
  const auto ckpt = dir.path / "simcse";
  vikcse::testing::save_trained_simcse(ckpt);
  const auto tasks = std::vector<std::string>{"--tasks", "STSBenchmark", "--pooler", "cls"};
  const auto trained = eval(dir.path, common(ckpt, senteval) + tasks, "trained");
  BOOST_REQUIRE(trained.rc == 0);
  // The same encoder without the heads file: BERT's pooler, and other numbers.
  const auto plain = dir.path / "plain";
  fs::create_directories(plain);
  for (const auto* f : {"config.json", "model.safetensors"}) fs::copy_file(ckpt / f, plain / f);
  const auto bert = eval(dir.path, common(plain, senteval) + tasks, "bert");
  BOOST_REQUIRE(bert.rc == 0);
  BOOST_TEST(sts_spearman(bert) != sts_spearman(trained));
  const auto& meta = trained.json.at("metadata");
  BOOST_TEST(trained.output.find("cls head: trained MLP head") != std::string::npos);
  BOOST_TEST(meta.value("cls_head", std::string()).find("vikcse_heads.safetensors") != std::string::npos);
  BOOST_TEST(meta.at("pooler").get<std::string>() == "cls:head=trained-mlp");
  BOOST_TEST(bert.output.find("cls head: BERT's pretrained pooler") != std::string::npos);
  BOOST_TEST(bert.json.at("metadata").at("pooler").get<std::string>() == "cls:head=bert-pooler");
}

// --mode fast reports SentEval's devacc and test mode its acc, each named as such in the caption and
// in the JSON; --seed drives the folds and classifiers, is printed and recorded, and reproduces.
BOOST_AUTO_TEST_CASE(transfer_mode_labels_and_seed) {
  vikcse::testing::ScratchDir dir("vikcse-eval-cli-transfer");
  const auto senteval = write_senteval(dir.path / "senteval");
  const auto args = common(fixture_dir() / "encoder" / "tiny-bert", senteval) +
                    std::vector<std::string>{"--tasks", "MR", "--pooler", "avg"};
  const auto fast7 = eval(dir.path, args + std::vector<std::string>{"--mode", "fast", "--seed", "7"}, "fast7");
  BOOST_REQUIRE(fast7.rc == 0);
  BOOST_TEST(fast7.output.find("Transfer (cross-validation accuracy (dev split for SST), SentEval devacc; fast mode, "
                               "seed 7)") != std::string::npos);
  BOOST_TEST(fast7.output.find("test accuracy") == std::string::npos);
  BOOST_TEST(fast7.json.at("tables").value("transfer_metric", std::string()) == "devacc");
  BOOST_TEST(fast7.json.at("metadata").value("seed", std::uint64_t{0}) == 7u);
  const auto& mr = fast7.json.at("transfer").at(0);
  const auto table = fast7.json.at("tables").at("transfer").get<std::string>();
  BOOST_TEST(table.find(fmt::format("| {:.2f} |", mr.at("devacc").get<double>())) != std::string::npos);
  BOOST_TEST(fast7.output.find(table) != std::string::npos);

  const auto fast7b = eval(dir.path, args + std::vector<std::string>{"--mode", "fast", "--seed", "7"}, "fast7b");
  BOOST_TEST(fast7b.json.at("transfer") == fast7.json.at("transfer"));
  const auto fast8 = eval(dir.path, args + std::vector<std::string>{"--mode", "fast", "--seed", "8"}, "fast8");
  BOOST_TEST(fast8.json.at("metadata").value("seed", std::uint64_t{0}) == 8u);
  BOOST_TEST(fast8.json.at("transfer") != fast7.json.at("transfer"));

  const auto test = eval(dir.path, args + std::vector<std::string>{"--mode", "test"}, "test");
  BOOST_REQUIRE(test.rc == 0);
  BOOST_TEST(test.output.find("Transfer (test accuracy, SentEval acc; test mode, seed 1111)") != std::string::npos);
  BOOST_TEST(test.json.at("tables").value("transfer_metric", std::string()) == "acc");
  BOOST_TEST(test.json.at("metadata").value("seed", std::uint64_t{0}) == 1111u);
  const auto acc = test.json.at("transfer").at(0).at("acc").get<double>();
  BOOST_TEST(test.json.at("tables").at("transfer").get<std::string>().find(fmt::format("| {:.2f} |", acc)) !=
             std::string::npos);
  const auto bad = eval(dir.path, args + std::vector<std::string>{"--seed", "-3"}, "bad");
  BOOST_TEST(bad.rc != 0);
  BOOST_TEST(bad.output.find("--seed: expected an integer >= 0, got '-3'") != std::string::npos, bad.output);
}
