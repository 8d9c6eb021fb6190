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
  // (built with append: GCC 12 warns falsely on `"literal" + std::string&&` here)
  for (const auto& a : args) command.append(" ").append(shell_quote(a));
  command.append(" --no-progress --threads 1 --json ").append(shell_quote(json.string()));
  command.append(" > ").append(shell_quote(log.string())).append(" 2>&1");
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

namespace {

// A pairs TSV with a header row: 12 pairs of the tiny-vocabulary sentences.
fs::path write_pairs(const fs::path& root) {
  const auto s = sentences();
  const auto path = root / "my-pairs.tsv";
  std::ofstream out(path);
  out << "sentence1\tsentence2\tscore\n";
  for (std::size_t i = 0; i < 12; ++i) out << fmt::format("{}\t{}\t{}\n", s[i], s[(i * 5 + 1) % s.size()], i % 5);
  return path;
}

// A BEIR directory: 6 queries (one without a relevant document), 20 documents (some with a title),
// judgements with scores 0, 1 and 2.
fs::path write_beir(const fs::path& root) {
  const auto s = sentences();
  const auto dir = root / "toy-beir";
  fs::create_directories(dir / "qrels");
  std::ofstream queries(dir / "queries.jsonl");
  for (std::size_t q = 0; q < 6; ++q)
    queries << nlohmann::json{{"_id", fmt::format("q{}", q)}, {"text", s[q * 5]}}.dump() << "\n";
  std::ofstream corpus(dir / "corpus.jsonl");
  for (std::size_t d = 0; d < 20; ++d) {
    corpus << nlohmann::json{{"_id", fmt::format("d{}", d)},
                             {"title", d % 3 == 0 ? "the park" : ""},
                             {"text", s[d + 7]}}
                  .dump()
           << "\n";
  }
  std::ofstream qrels(dir / "qrels" / "test.tsv");
  qrels << "query-id\tcorpus-id\tscore\n";
  for (std::size_t q = 0; q < 5; ++q) {
    for (std::size_t j = 0; j <= q; ++j) qrels << fmt::format("q{}\td{}\t{}\n", q, (q * 7 + j * 3) % 20, 1 + j % 2);
  }
  qrels << "q5\td4\t0\n";  // judged, not relevant: q5 is not evaluated
  return dir;
}

std::vector<std::string> tiny_model() {
  return {"--model",     (fixture_dir() / "encoder" / "tiny-bert").string(),
          "--tokenizer", (fixture_dir() / "methods" / "tiny-vocab").string(),
          "--pooler",    "avg"};
}

}  // namespace

// --pairs and --retrieval without --senteval: their tables are printed and their results are in the
// JSON under "pairs" and "retrieval", every metric a fraction; with --senteval both come on top of STS.
BOOST_AUTO_TEST_CASE(pairs_and_retrieval_on_your_data) {
  vikcse::testing::ScratchDir dir("vikcse-eval-cli-yours");
  const auto pairs = write_pairs(dir.path);
  const auto beir = write_beir(dir.path);
  const auto run =
      eval(dir.path, tiny_model() + std::vector<std::string>{"--pairs", pairs.string(), "--retrieval", beir.string()},
           "yours");
  BOOST_REQUIRE(run.rc == 0);
  BOOST_TEST(run.output.find("Pairs (Spearman and Pearson x 100 of the float32 cosine vs the gold score)\n"
                             "| Pairs    | n  | Spearman | Pearson |\n") != std::string::npos);
  const auto& p = run.json.at("pairs").at(0);
  BOOST_TEST(p.at("name").get<std::string>() == "my-pairs");
  BOOST_TEST(p.at("n").get<int>() == 12);
  BOOST_TEST(p.at("cosine").get<std::string>() == "float32");
  const auto pairs_table = run.json.at("tables").at("pairs").get<std::string>();
  BOOST_TEST(pairs_table.find(fmt::format("| my-pairs | 12 | {:.2f}", 100 * p.at("spearman").get<double>())) !=
             std::string::npos);
  BOOST_TEST(run.output.find(pairs_table) != std::string::npos);

  BOOST_TEST(run.output.find("Retrieval (x 100; corpus ranked by cosine, relevant = qrels score > 0") !=
             std::string::npos);
  BOOST_TEST(run.output.find("| Retrieval | Queries | Docs | MRR@10 | NDCG@10 | MAP@100 | Recall@1 | Recall@5 | "
                             "Recall@10 | Recall@100 |") != std::string::npos);
  BOOST_TEST(run.output.find("| Retrieval | Accuracy@1 | Accuracy@5 | Accuracy@10 | Precision@1 | Precision@5 | "
                             "Precision@10 |") != std::string::npos);
  BOOST_TEST(run.output.find("toy-beir: 5 of 6 queries evaluated (the others have no relevant document)") !=
             std::string::npos);
  const auto& r = run.json.at("retrieval").at(0);
  BOOST_TEST(r.at("name").get<std::string>() == "toy-beir");
  BOOST_TEST(r.at("queries").get<int>() == 5);
  BOOST_TEST(r.at("queries_in_file").get<int>() == 6);
  BOOST_TEST(r.at("documents").get<int>() == 20);
  BOOST_TEST(r.at("relevant").get<int>() == 15);
  std::vector<std::string> keys;
  for (const auto& [key, value] : r.at("metrics").items()) {
    keys.push_back(key);
    BOOST_TEST((value.get<double>() >= 0.0 && value.get<double>() <= 1.0), key);
  }
  const std::vector<std::string> expected = {"accuracy@1", "accuracy@10", "accuracy@5",   "map@100",     "mrr@10",
                                             "ndcg@10",    "precision@1", "precision@10", "precision@5", "recall@1",
                                             "recall@10",  "recall@100",  "recall@5"};
  BOOST_TEST(keys == expected, boost::test_tools::per_element());
  // 20 documents < 100: every relevant document is within the first 100.
  BOOST_TEST(r.at("metrics").at("recall@100").get<double>() == 1.0);
  const auto retrieval_table = run.json.at("tables").at("retrieval").get<std::string>();
  BOOST_TEST(retrieval_table.find(fmt::format("| toy-beir  | 5       | 20   | {:.2f}",
                                              100 * r.at("metrics").at("mrr@10").get<double>())) != std::string::npos,
             retrieval_table);
  BOOST_TEST(run.output.find(retrieval_table) != std::string::npos);
  BOOST_TEST(run.json.at("sts").empty());
  BOOST_TEST(!run.json.at("metadata").contains("senteval"));

  // With SentEval: STS and the pairs table side by side, the same pairs numbers.
  const auto senteval = write_senteval(dir.path / "senteval");
  const auto both = eval(dir.path,
                         tiny_model() + std::vector<std::string>{"--senteval", senteval.string(), "--tasks",
                                                                 "STSBenchmark", "--pairs", pairs.string()},
                         "both");
  BOOST_REQUIRE(both.rc == 0);
  BOOST_TEST(both.json.at("sts").size() == 1u);
  BOOST_TEST(both.json.at("pairs").at(0) == p);
  BOOST_TEST(both.json.at("retrieval").empty());
  const auto sts_table = both.json.at("tables").at("sts").get<std::string>();
  BOOST_TEST(sts_table.starts_with("| STS-B"));
  BOOST_TEST(both.output.find(sts_table) != std::string::npos);
  BOOST_TEST(both.output.find(both.json.at("tables").at("pairs").get<std::string>()) != std::string::npos);
}

// Nothing to evaluate, --tasks without --senteval, and a bad line in the user's files: clear errors.
BOOST_AUTO_TEST_CASE(your_data_errors_are_clear) {
  vikcse::testing::ScratchDir dir("vikcse-eval-cli-yours-bad");
  const auto none = eval(dir.path, tiny_model(), "none");
  BOOST_TEST(none.rc == 2);
  BOOST_TEST(none.output.find("vikcse_eval: nothing to evaluate: give at least one of --senteval DIR, --pairs "
                              "FILE.tsv or --retrieval DIR") != std::string::npos,
             none.output);
  const auto pairs = write_pairs(dir.path);
  const auto tasks =
      eval(dir.path, tiny_model() + std::vector<std::string>{"--pairs", pairs.string(), "--tasks", "sts"}, "tasks");
  BOOST_TEST(tasks.rc != 0);
  BOOST_TEST(tasks.output.find("--tasks requires --senteval") != std::string::npos, tasks.output);

  std::ofstream(pairs, std::ios::app) << "a man eats\ta woman eats\tvery similar\n";
  const auto bad_pairs =
      eval(dir.path, tiny_model() + std::vector<std::string>{"--pairs", pairs.string()}, "bad_pairs");
  BOOST_TEST(bad_pairs.rc == 1);
  BOOST_TEST(bad_pairs.output.find(fmt::format("vikcse_eval: error: {}:14: expected a number as score (column 3), "
                                               "found 'very similar'",
                                               pairs.string())) != std::string::npos,
             bad_pairs.output);

  const auto beir = write_beir(dir.path);
  std::ofstream(beir / "qrels" / "test.tsv", std::ios::app) << "q1\td77\t1\n";
  const auto bad_beir =
      eval(dir.path, tiny_model() + std::vector<std::string>{"--retrieval", beir.string()}, "bad_beir");
  BOOST_TEST(bad_beir.rc == 1);
  BOOST_TEST(bad_beir.output.find(fmt::format("{}:18: expected a corpus-id of {}, found 'd77', which is not there",
                                              (beir / "qrels" / "test.tsv").string(),
                                              (beir / "corpus.jsonl").string())) != std::string::npos,
             bad_beir.output);
}
