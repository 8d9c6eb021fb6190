// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_sts_engine
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/eval/senteval.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
namespace tt = boost::test_tools;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("vikcse-eval-engine-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// A deterministic fake model: embedding = [bytes, words, first char, 1] -- and it records every batch.
struct FakeEmbedder {
  std::vector<std::vector<std::string>> batches;
  torch::Tensor operator()(const std::vector<std::string>& sentences) {
    batches.push_back(sentences);
    auto out = torch::empty({static_cast<std::int64_t>(sentences.size()), 4}, torch::kFloat);
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto& s = sentences[i];
      out[i][0] = static_cast<float>(s.size());
      out[i][1] = static_cast<float>(vikcse::detail::eval::word_count(s));
      out[i][2] = s.empty() ? 0.0F : static_cast<float>(static_cast<unsigned char>(s[0]));
      out[i][3] = 1.0F;
    }
    return out;
  }
};

nlohmann::json load_fixture() {
  std::ifstream in(vikcse::testing::fixture_dir() / "eval" / "sts_fixture.json");
  BOOST_REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

torch::Tensor matrix(const nlohmann::json& rows) {
  const auto n = static_cast<std::int64_t>(rows.size());
  const auto d = static_cast<std::int64_t>(rows.at(0).size());
  auto t = torch::empty({n, d}, torch::kDouble);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) t[i][j] = rows[i][j].get<double>();
  }
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(encode_sorts_batches_and_restores_order) {
  FakeEmbedder fake;
  const std::vector<std::string> sentences = {"a much longer sentence here", "b", "cc dd", "b", "eee", "ff gg hh"};
  vikcse::EncodeOptions options;
  options.batch_size = 2;
  std::size_t last_done = 0;
  options.on_progress = [&](std::size_t done, std::size_t total) {
    last_done = done;
    BOOST_TEST(total == 5u);  // "b" appears twice and is encoded once
  };
  const auto e = vikcse::encode_sentences(std::ref(fake), sentences, options);
  BOOST_TEST(e.size(0) == 6);
  BOOST_TEST(last_done == 5u);
  BOOST_TEST(fake.batches.size() == 3u);
  BOOST_TEST(fake.batches[0] == (std::vector<std::string>{"b", "eee"}));  // shortest first
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    BOOST_TEST(e[static_cast<std::int64_t>(i)][0].item<float>() == static_cast<float>(sentences[i].size()));
  }
  // Unsorted, no dedupe: batches in input order.
  FakeEmbedder plain;
  options.sort_by_length = false;
  options.deduplicate = false;
  options.on_progress = nullptr;
  (void)vikcse::encode_sentences(std::ref(plain), sentences, options);
  BOOST_TEST(plain.batches.size() == 3u);
  BOOST_TEST(plain.batches[0][0] == sentences[0]);
  // A wrong shape from the embedder is a clear error.
  auto bad = [](const std::vector<std::string>& s) {
    return torch::zeros({static_cast<std::int64_t>(s.size()) + 1, 3});
  };
  BOOST_CHECK_THROW(vikcse::encode_sentences(bad, sentences, {}), vikcse::invalid_argument);
}

// Pearson/Spearman per subset, all/mean/wmean, alignment and uniformity equal the independent
// numpy/scipy/torch computation of tests/eval/reference/make_sts_fixture.py.
BOOST_AUTO_TEST_CASE(sts_protocol_matches_reference) {
  const auto fixture = load_fixture();
  vikcse::StsTaskData task{"toy", {}};
  std::vector<torch::Tensor> firsts, seconds;
  for (const auto& s : fixture.at("subsets")) {
    vikcse::StsPairs pairs{s.at("name").get<std::string>(), {}, {}, s.at("gold").get<std::vector<double>>()};
    pairs.first.assign(pairs.gold.size(), "x");
    pairs.second.assign(pairs.gold.size(), "y");
    task.subsets.push_back(pairs);
    firsts.push_back(matrix(s.at("first")));
    seconds.push_back(matrix(s.at("second")));
  }
  // The fixture's cosines are float64 (make_sts_fixture.py); SentEval's float32 arithmetic, the default,
  // is compared with its own reference in sts_precision_test.cpp. The fixture comes from another
  // machine: in float64 on float32 inputs, cosines differ by summation order only in their last
  // bits (~16 eps64 for 16-wide vectors), identical vectors give identical cosines in any order (so
  // ties are the same ties), and correlations, alignment and uniformity over 240 pairs stay within
  // ~1e-13 relative; the 1e-9 relative tolerance keeps a 1e4 margin over that and is far below a real
  // difference such as one rank swap (~1e-4 at n = 240).
  vikcse::StsEvalOptions options;
  options.cosine = vikcse::CosinePrecision::float64;
  const auto r = vikcse::evaluate_sts(task, torch::cat(firsts), torch::cat(seconds), options);
  BOOST_TEST(r.n == 240u);
  for (std::size_t i = 0; i < r.subsets.size(); ++i) {
    const auto& want = fixture.at("subsets").at(i);
    BOOST_TEST_CONTEXT(r.subsets[i].name) {
      BOOST_TEST(r.subsets[i].pearson == want.at("pearson").get<double>(), tt::tolerance(1e-9));
      BOOST_TEST(r.subsets[i].spearman == want.at("spearman").get<double>(), tt::tolerance(1e-9));
      BOOST_TEST(r.subsets[i].alignment == want.at("alignment").get<double>(), tt::tolerance(1e-9));
      BOOST_TEST(r.subsets[i].uniformity == want.at("uniformity").get<double>(), tt::tolerance(1e-9));
    }
  }
  auto check = [&](const vikcse::StsAggregate& got, const char* metric) {
    BOOST_TEST_CONTEXT(metric) {
      const auto& want = fixture.at(metric);
      BOOST_TEST(got.all == want.at("all").get<double>(), tt::tolerance(1e-9));
      BOOST_TEST(got.mean == want.at("mean").get<double>(), tt::tolerance(1e-9));
      BOOST_TEST(got.wmean == want.at("wmean").get<double>(), tt::tolerance(1e-9));
    }
  };
  check(r.pearson, "pearson");
  check(r.spearman, "spearman");
  check(r.alignment, "alignment");
  check(r.uniformity, "uniformity");
  BOOST_CHECK_THROW(vikcse::evaluate_sts(task, torch::cat(firsts), torch::cat(firsts).narrow(0, 0, 10)),
                    vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(report_table_and_json_round_trip) {
  vikcse::EvalReport report;
  report.metadata = {{"model", "toy"}};
  const std::vector<std::pair<std::string, double>> values = {
      {"STS12", 0.6840}, {"STS13", 0.8241},        {"STS14", 0.7438},          {"STS15", 0.8091},
      {"STS16", 0.7856}, {"STSBenchmark", 0.7685}, {"SICKRelatedness", 0.7224}};
  for (const auto& [name, v] : values) {
    vikcse::StsTaskResult r;
    r.name = name;
    r.n = 10;
    r.spearman = {v, v, v};
    r.pearson = {v / 2, v / 2, v / 2};
    r.subsets.push_back({"test", 10, v / 2, v, std::nan(""), std::nan("")});
    report.sts.push_back(r);
  }
  // SimCSE-unsup-BERT-base's published row: Avg. = mean of the rounded numbers = 76.25.
  const std::string expected =
      "| STS12 | STS13 | STS14 | STS15 | STS16 | STS-B | SICK-R | Avg.  |\n"
      "|-------|-------|-------|-------|-------|-------|--------|-------|\n"
      "| 68.40 | 82.41 | 74.38 | 80.91 | 78.56 | 76.85 | 72.24  | 76.25 |\n";
  BOOST_TEST(vikcse::format_sts_table(report.sts) == expected);
  report.transfer.push_back({"MRPC", 70.5, 71.25, 80.1, 4076, 1725, 1e-4});
  BOOST_TEST(vikcse::format_transfer_table(report.transfer).find("| 71.25 | 71.25 |") != std::string::npos);

  TempDir dir;
  const auto path = dir.path / "report.json";
  vikcse::write_report_json(path, report);
  std::ifstream in(path);
  const auto json = nlohmann::json::parse(in);
  BOOST_TEST(json.at("sts").at(0).at("subsets").at(0).at("alignment").is_null());  // NaN -> null
  const auto back = vikcse::report_from_json(json);
  BOOST_TEST(vikcse::to_json(back) == vikcse::to_json(report));
  BOOST_TEST(back.transfer.at(0).f1.value() == 80.1);
  BOOST_TEST(json.at("tables").at("transfer_metric").get<std::string>() == "acc");
  BOOST_TEST(std::isnan(back.sts.at(0).subsets.at(0).alignment));
  BOOST_CHECK_THROW(vikcse::report_from_json(nlohmann::json::object()), vikcse::data_error);
  // A fast-mode report leads with devacc: its table shows devacc and says so; the key round-trips.
  report.transfer_metric = vikcse::TransferMetric::devacc;
  const auto fast = vikcse::to_json(report);
  BOOST_TEST(fast.at("tables").at("transfer_metric").get<std::string>() == "devacc");
  BOOST_TEST(fast.at("tables").at("transfer").get<std::string>().find("| 70.50 | 70.50 |") != std::string::npos);
  BOOST_TEST((vikcse::report_from_json(fast).transfer_metric == vikcse::TransferMetric::devacc));
  auto wrong = fast;
  wrong["tables"]["transfer_metric"] = "accuracy";
  BOOST_CHECK_THROW(vikcse::report_from_json(wrong), vikcse::data_error);
  BOOST_TEST((vikcse::reported_transfer_metric(vikcse::TransferMode::fast) == vikcse::TransferMetric::devacc));
  BOOST_TEST((vikcse::reported_transfer_metric(vikcse::TransferMode::test) == vikcse::TransferMetric::acc));
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
  BOOST_TEST(files == 1u);
}

// The tables of the user-data evaluations (pairs files, retrieval) and their JSON round trip; a
// report written before they existed (no "pairs"/"retrieval" keys) still reads.
BOOST_AUTO_TEST_CASE(pairs_and_retrieval_tables_and_json_round_trip) {
  vikcse::EvalReport report;
  report.metadata = {{"model", "toy"}};
  report.pairs.push_back({"my-pairs", "/data/my-pairs.tsv", 120, 0.81234, 0.79496, vikcse::CosinePrecision::float32});
  report.pairs.push_back({"x", "/data/x.tsv", 7, std::nan(""), std::nan(""), vikcse::CosinePrecision::float64});
  BOOST_TEST(vikcse::format_pairs_table(report.pairs) ==
             "| Pairs    | n   | Spearman | Pearson |\n"
             "|----------|-----|----------|---------|\n"
             "| my-pairs | 120 | 81.23    | 79.50   |\n"
             "| x        | 7   | nan      | nan     |\n");
  vikcse::RetrievalResult r;
  r.name = "scifact";
  r.path = "/data/scifact";
  r.queries_in_file = 1109;
  r.documents = 5183;
  r.relevant = 339;
  r.metrics.queries = 300;
  r.metrics.mrr = {{10, 0.5}};
  r.metrics.ndcg = {{10, 0.55}};
  r.metrics.map = {{100, 0.48}};
  r.metrics.recall = {{1, 0.3}, {5, 0.6}, {10, 0.7}, {100, 0.9}};
  r.metrics.accuracy = {{1, 0.4}, {5, 0.7}, {10, 0.8}};
  r.metrics.precision = {{1, 0.4}, {5, 0.14}, {10, 0.08}};
  auto other = r;
  other.name = "nfc";
  other.metrics.recall.erase(100);
  report.retrieval = {r, other};
  BOOST_TEST(
      vikcse::format_retrieval_table(report.retrieval) ==
      "| Retrieval | Queries | Docs | MRR@10 | NDCG@10 | MAP@100 | Recall@1 | Recall@5 | Recall@10 | Recall@100 |\n"
      "|-----------|---------|------|--------|---------|---------|----------|----------|-----------|------------|\n"
      "| scifact   | 300     | 5183 | 50.00  | 55.00   | 48.00   | 30.00    | 60.00    | 70.00     | 90.00      |\n"
      "| nfc       | 300     | 5183 | 50.00  | 55.00   | 48.00   | 30.00    | 60.00    | 70.00     | -          |\n"
      "\n"
      "| Retrieval | Accuracy@1 | Accuracy@5 | Accuracy@10 | Precision@1 | Precision@5 | Precision@10 |\n"
      "|-----------|------------|------------|-------------|-------------|-------------|--------------|\n"
      "| scifact   | 40.00      | 70.00      | 80.00       | 40.00       | 14.00       | 8.00         |\n"
      "| nfc       | 40.00      | 70.00      | 80.00       | 40.00       | 14.00       | 8.00         |\n");
  const auto json = vikcse::to_json(report);
  BOOST_TEST(json.at("retrieval").at(0).at("metrics").at("ndcg@10").get<double>() == 0.55);
  BOOST_TEST(json.at("retrieval").at(0).at("queries").get<int>() == 300);
  BOOST_TEST(json.at("pairs").at(1).at("spearman").is_null());
  BOOST_TEST(json.at("tables").at("pairs").get<std::string>() == vikcse::format_pairs_table(report.pairs));
  const auto back = vikcse::report_from_json(json);
  BOOST_TEST(vikcse::to_json(back) == json);
  BOOST_TEST(back.retrieval.at(1).metrics.recall.size() == 3u);
  BOOST_TEST(std::isnan(back.pairs.at(1).pearson));
  auto old = json;
  old.erase("pairs");
  old.erase("retrieval");
  BOOST_TEST(vikcse::report_from_json(old).pairs.empty());
  auto wrong = json;
  wrong["retrieval"][0]["metrics"]["ndcg@ten"] = 0.5;
  BOOST_CHECK_THROW(vikcse::report_from_json(wrong), vikcse::data_error);
  wrong = json;
  wrong["retrieval"][0]["metrics"]["f1@10"] = 0.5;
  BOOST_CHECK_THROW(vikcse::report_from_json(wrong), vikcse::data_error);
}

BOOST_AUTO_TEST_CASE(embedding_cache_round_trip_and_errors) {
  TempDir dir;
  vikcse::EmbeddingCache cache(dir.path / "cache");
  const vikcse::EmbeddingCacheKey key{"bert-random", "cls_before_pooler", "STS12"};
  const std::vector<std::string> sentences = {"a b", "c", "d e f"};
  BOOST_TEST(!cache.load(key, sentences).has_value());
  const auto e = torch::arange(12, torch::kFloat).reshape({3, 4}) / 7.0;
  const auto file = cache.store(key, sentences, e);
  const auto hit = cache.load(key, sentences);
  BOOST_REQUIRE(hit.has_value());
  BOOST_TEST(torch::equal(*hit, e));
  // A different pooler or different sentences is a different entry.
  BOOST_TEST(!cache.load({"bert-random", "avg", "STS12"}, sentences).has_value());
  BOOST_TEST(!cache.load(key, {"a b", "c", "d e g"}).has_value());
  // A truncated file is an error that names the file and the byte counts.
  fs::resize_file(file, fs::file_size(file) - 5);
  try {
    (void)cache.load(key, sentences);
    BOOST_FAIL("expected data_error");
  } catch (const vikcse::data_error& error) {
    const std::string message = error.what();
    BOOST_TEST(message.find(file.filename().string()) != std::string::npos);
    BOOST_TEST(message.find("expected 48 bytes") != std::string::npos);
  }
  BOOST_CHECK_THROW(cache.store(key, sentences, torch::zeros({2, 4})), vikcse::invalid_argument);
}

// The engine on a tiny SentEval-shaped directory: STS-B test via the real reader, a fake model,
// results equal a direct computation, and a second run is served from the cache.
BOOST_AUTO_TEST_CASE(engine_runs_tasks_and_uses_the_cache) {
  TempDir dir;
  const auto stsb = dir.path / "senteval" / "downstream" / "STS" / "STSBenchmark";
  fs::create_directories(stsb);
  std::ofstream(stsb / "sts-test.csv") << "g\tf\t2012\t1\t5.0\tA man plays .\tA man plays guitar .\n"
                                          "g\tf\t2012\t2\t0.5\tDogs run\tThe economy shrank sharply this year\n"
                                          "g\tf\t2012\t3\t3.0\tHi there\tHello there friend\n"
                                          "g\tf\t2012\t4\t1.0\tx\ty z w v u t\n";
  FakeEmbedder fake;
  vikcse::SentEvalOptions options;
  options.senteval_dir = dir.path / "senteval";
  options.cache_dir = dir.path / "cache";
  options.model_id = "fake";
  options.pooler_id = "none";
  std::size_t progress_calls = 0;
  options.on_progress = [&](std::string_view dataset, std::size_t, std::size_t) {
    BOOST_TEST(dataset == "STSBenchmark");
    ++progress_calls;
  };
  vikcse::SentEval engine(std::ref(fake), options);
  const auto report = engine.run({"STSBenchmark"});
  BOOST_REQUIRE(report.sts.size() == 1u);
  BOOST_TEST(report.sts[0].n == 4u);
  BOOST_TEST(progress_calls >= 1u);
  const auto direct = vikcse::evaluate_sts(vikcse::read_sts_task(options.senteval_dir, "STSBenchmark"), std::ref(fake));
  BOOST_TEST(report.sts[0].spearman.all == direct.spearman.all);
  const auto calls = fake.batches.size();
  vikcse::SentEval again(std::ref(fake), options);
  const auto cached = again.run({"STSBenchmark"});
  BOOST_TEST(fake.batches.size() == calls);  // no new embedder call: served from the cache
  BOOST_TEST(cached.sts[0].spearman.all == report.sts[0].spearman.all);
  BOOST_TEST(vikcse::expand_task_names({"sts", "STS12", "MR"}).size() == 8u);
  BOOST_TEST(vikcse::expand_task_names({"all"}).size() == 14u);
}

// Transfer tasks through the engine: MRPC layout (pairs, |u-v| and u*v features, F1) with a fake
// model whose embedding separates paraphrases (same first word) from non-paraphrases.
BOOST_AUTO_TEST_CASE(engine_runs_a_pair_transfer_task) {
  TempDir dir;
  const auto mrpc = dir.path / "senteval" / "downstream" / "MRPC";
  fs::create_directories(mrpc);
  auto write = [&](const char* name, int rows, int offset) {
    std::ofstream out(mrpc / name);
    out << "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
    for (int i = 0; i < rows; ++i) {
      const int label = (i + offset) % 2;
      const auto a = fmt::format("w{} x{}", i % 7, i);
      const auto b = label == 1 ? fmt::format("w{} y", i % 7) : fmt::format("v{} y", i % 5);
      out << label << "\t" << i << "\t" << i + 1000 << "\t" << a << "\t" << b << "\n";
    }
  };
  write("msr_paraphrase_train.txt", 60, 0);
  write("msr_paraphrase_test.txt", 20, 1);
  // Embedding: one-hot of the first word's hash bucket (paraphrases share it, so |u-v| = 0).
  auto embed = [](const std::vector<std::string>& sentences) {
    auto out = torch::zeros({static_cast<std::int64_t>(sentences.size()), 16});
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto first = sentences[i].substr(0, sentences[i].find(' '));
      out[static_cast<std::int64_t>(i)][static_cast<std::int64_t>(std::hash<std::string>{}(first) % 16)] = 1.0F;
    }
    return out;
  };
  vikcse::SentEvalOptions options;
  options.senteval_dir = dir.path / "senteval";
  options.transfer = vikcse::TransferOptions::for_mode(vikcse::TransferMode::fast);
  options.transfer.kfold = 3;
  vikcse::SentEval engine(embed, options);
  const auto report = engine.run({"MRPC"});
  BOOST_REQUIRE(report.transfer.size() == 1u);
  const auto& r = report.transfer[0];
  BOOST_TEST(r.name == "MRPC");
  BOOST_TEST(r.ndev == 60u);
  BOOST_TEST(r.ntest == 20u);
  BOOST_REQUIRE(r.f1.has_value());
  BOOST_TEST(r.acc >= 90.0);
  BOOST_TEST(*r.f1 >= 90.0);
  // Deterministic: the same run gives the same numbers.
  const auto again = vikcse::SentEval(embed, options).run({"MRPC"});
  BOOST_TEST(again.transfer[0].acc == r.acc);
  BOOST_TEST(again.transfer[0].devacc == r.devacc);
  // Fast mode leads with devacc; the seed and the mode are recorded.
  BOOST_TEST((report.transfer_metric == vikcse::TransferMetric::devacc));
  BOOST_TEST(report.metadata.at("seed").get<std::uint64_t>() == 1111u);
  BOOST_TEST(report.metadata.at("transfer_mode").get<std::string>() == "fast");
  BOOST_TEST(report.metadata.at("sts_cosine").get<std::string>() == "float32");
}
