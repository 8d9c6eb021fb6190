// SPDX-License-Identifier: Apache-2.0
// bfloat16 inference vs float32 on the real STS tasks: the same encoder, the same sentences, the
// same length-sorted batches; Spearman x100 of each precision, their difference, wall time and
// speed-up. It answers "may I encode in bf16 on this CPU?" with the criterion |ΔSpearman| <= 0.1
// (x100 scale, the papers' unit). The model is a checkpoint (--model) or a random encoder of a
// config's shape (--random-model, e.g. bert-base-uncased's config.json).
#include "support/benchmark_support.hpp"

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/util/progress.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* description = R"(bf16_sts: STS Spearman and speed of bfloat16 vs float32 inference of one encoder,
judged by |ΔSpearman| <= 0.1 (x100 scale).)";
constexpr const char* footer =
    R"(A random encoder's CLS vectors are nearly parallel, so its Spearman is dominated by noise; avg
pooling of a random encoder still ranks pairs by shared words, which makes the comparison meaningful.)";

/// The tasks of --tasks all.
const std::vector<std::string> all_tasks = {"STS12", "STS13",        "STS14",          "STS15",
                                            "STS16", "STSBenchmark", "SICKRelatedness"};

}  // namespace

int main(int argc, char** argv) try {
  std::string senteval, model_text, json_path;
  std::string random_text = "../shared/data/tokenizers/bert-base-uncased", pooler = "avg";
  std::int64_t layers = 0, batch_size = 128;
  std::vector<std::string> tasks{"STS16", "STSBenchmark"};
  int threads = 0;
  CLI::App app{description, "bf16_sts"};
  app.footer(footer);
  app.option_defaults()->always_capture_default();
  app.add_option("--senteval", senteval, "SentEval data directory (holds downstream/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* model_option =
      app.add_option("--model", model_text, "Hugging Face checkpoint (config.json, weights, tokenizer files)")
          ->check(CLI::ExistingDirectory);
  auto* random_option =
      app.add_option("--random-model", random_text,
                     "random weights of DIR/config.json (+ DIR's tokenizer files); used when --model is absent")
          ->check(CLI::ExistingDirectory)
          ->excludes(model_option);
  app.add_option("--layers", layers, "with --random-model: override num_hidden_layers (0: the config's)")
      ->check(vikcse::cli::non_negative_integer())
      ->excludes(model_option);
  app.add_option("--pooler", pooler, "pooler of the sentence vectors (mask: use vikcse_eval --bf16 with a template)")
      ->check(CLI::IsMember({"avg", "cls", "cls_before_pooler", "avg_first_last", "avg_top2"}));
  std::vector<std::string> task_names = all_tasks;
  task_names.insert(task_names.end(), {"STSBenchmark-dev", "SICKRelatedness-dev", "all"});
  app.add_option("--tasks", tasks,
                 "comma list of STS12..STS16, STSBenchmark, SICKRelatedness (also STSBenchmark-dev, "
                 "SICKRelatedness-dev); 'all': the seven test tasks")
      ->type_name("LIST")
      ->delimiter(',')
      ->check(CLI::IsMember(task_names).description(""));
  app.add_option("--batch-size", batch_size, "sentences per encoder call")->check(vikcse::cli::positive_integer());
  app.add_option("--threads", threads, "intra-op threads (0: hardware)")->check(vikcse::cli::non_negative_integer());
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  try {
    app.parse(argc, argv);
    // The default --random-model must exist too when it is used.
    if (model_text.empty()) vikcse::cli::validate(random_option, random_text, CLI::ExistingDirectory);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (std::find(tasks.begin(), tasks.end(), "all") != tasks.end()) tasks = all_tasks;
  threads = vikcse::configure_threads(threads);
  const std::filesystem::path model_dir = model_text, random_dir = random_text;

  const auto dir = model_dir.empty() ? random_dir : model_dir;
  vikcse::AutoModel model(nullptr);
  std::string model_name;
  if (!model_dir.empty()) {
    model = vikcse::AutoModel::from_pretrained(model_dir);
    model_name = model_dir.string();
  } else {
    auto config = vikcse::BertConfig::from_json_file(random_dir / "config.json");
    if (layers > 0) config.num_hidden_layers = layers;
    torch::manual_seed(0);
    model = vikcse::AutoModel(config);
    model_name = fmt::format("random {} ({} layers, hidden {})", random_dir.string(), config.num_hidden_layers,
                             config.hidden_size);
  }
  auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(dir));
  vikcse::EmbedderOptions embed_options;
  embed_options.pooler.kind = vikcse::parse_pooler_kind(pooler);  // not mask: use vikcse_eval --bf16 for that
  embed_options.max_length = model.config().max_position_embeddings;
  embed_options.truncate = false;  // as SentEval: a longer sentence is an error
  const auto embedder = vikcse::make_embedder(model, vikcse::tokenize_function(tokenizer),
                                              vikcse::require_special_tokens(*tokenizer), embed_options);
  vikcse::EncodeOptions encode;
  encode.batch_size = batch_size;
  encode.length = [tokenizer](const std::string& s) { return tokenizer->encode(s).size(); };

  struct Row {
    std::string task;
    double spearman[2] = {0, 0}, seconds[2] = {0, 0};
    double max_cos_diff = 0;
  };
  std::vector<Row> rows;
  const torch::Dtype dtypes[2] = {torch::kFloat32, torch::kBFloat16};
  for (const auto& name : tasks) {
    const auto task = vikcse::read_sts_task(senteval, name);
    const auto sentences = vikcse::sts_sentences(task);
    const auto n = static_cast<std::int64_t>(task.size());
    Row row{name};
    torch::Tensor cosines[2];
    for (int d = 0; d < 2; ++d) {
      model->to(dtypes[d]);
      vikcse::ProgressBar bar(std::cerr, sentences.size(),
                              {.label = fmt::format("{} {}", name, d == 0 ? "fp32" : "bf16"), .unit = "sent"});
      auto options = encode;
      options.on_progress = [&](std::size_t done, std::size_t total) {
        bar.set_total(total);
        bar.set(done);
      };
      const auto start = std::chrono::steady_clock::now();
      const auto e = vikcse::encode_sentences(embedder, sentences, options);
      row.seconds[d] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.finish();
      const auto result =
          vikcse::evaluate_sts(task, e.narrow(0, 0, n), e.narrow(0, n, n), {.alignment_uniformity = false});
      row.spearman[d] = 100.0 * result.spearman.all;
      cosines[d] = torch::cosine_similarity(e.narrow(0, 0, n), e.narrow(0, n, n), 1);
    }
    row.max_cos_diff = (cosines[0] - cosines[1]).abs().max().item<double>();
    rows.push_back(row);
  }
  model->to(torch::kFloat32);

  fmt::print("model: {}; pooler {}; {} thread(s); AVX512-BF16 in /proc/cpuinfo: {}\n", model_name, pooler, threads, [] {
    std::ifstream in("/proc/cpuinfo");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("avx512_bf16") != std::string::npos ? "yes" : "no";
  }());
  fmt::print("| {:<16} | {:>13} | {:>13} | {:>10} | {:>13} | {:>7} | {:>7} | {:>8} |\n", "task", "fp32 Spearman",
             "bf16 Spearman", "|Δ| x100", "max |Δcos|", "fp32 s", "bf16 s", "speed-up");
  nlohmann::json out = {
      {"model", model_name}, {"pooler", pooler}, {"threads", threads}, {"tasks", nlohmann::json::array()}};
  double worst = 0;
  for (const auto& r : rows) {
    const double delta = std::abs(r.spearman[0] - r.spearman[1]);
    worst = std::max(worst, delta);
    fmt::print("| {:<16} | {:>13.2f} | {:>13.2f} | {:>10.3f} | {:>13.2g} | {:>7.1f} | {:>7.1f} | {:>7.2f}x |\n",
               vikcse::sts_column_name(r.task), r.spearman[0], r.spearman[1], delta, r.max_cos_diff, r.seconds[0],
               r.seconds[1], r.seconds[0] / r.seconds[1]);
    out["tasks"].push_back({{"task", r.task},
                            {"fp32_spearman_x100", r.spearman[0]},
                            {"bf16_spearman_x100", r.spearman[1]},
                            {"abs_delta_x100", delta},
                            {"max_abs_cosine_delta", r.max_cos_diff},
                            {"fp32_seconds", r.seconds[0]},
                            {"bf16_seconds", r.seconds[1]}});
  }
  fmt::print("largest |ΔSpearman| = {:.3f} (x100 scale): bf16 {} the 0.1 criterion\npeak RSS: {:.0f} MiB\n", worst,
             worst <= 0.1 ? "MEETS" : "does NOT meet", vikcse::bench::peak_rss_mib());
  out["max_abs_delta_x100"] = worst;
  out["meets_criterion"] = worst <= 0.1;
  out["peak_rss_mib"] = vikcse::bench::peak_rss_mib();
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << '\n';
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bf16_sts: error: " << e.what() << '\n';
  return 1;
}
