// SPDX-License-Identifier: Apache-2.0
// SentenceEncoder::encode in each precision (float32, bfloat16, int8) on the real STS sentences:
// sentences/s and the STS Spearman change of each precision against float32, with two peers on the
// same weights and the very same token batches, in the same run: python3-torch eager
// (benchmarks/peers/encoder_eager.py) and ONNX Runtime (benchmarks/peers/onnxruntime/ort_encoder.js
// on an ONNX export made by benchmarks/peers/export_onnx.py). It prints each goal and whether this
// run met it.
#include "support/benchmark_support.hpp"

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/inference/sentence_encoder.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/util/progress.hpp>

#include <nlohmann/json.hpp>
#include <range/v3/algorithm/stable_sort.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* description =
    R"(sentence_encoder_throughput: SentenceEncoder::encode in float32, bfloat16 and int8 on the STS sentences
(sentences/s, STS Spearman and its change against float32), against the same weights and the same
token batches in python3-torch eager and in ONNX Runtime, in the same run.)";
constexpr const char* footer =
    R"(The peers get the token ids vikcse's batches hold (distinct sentences, sorted by length, --batch-size per
batch) and mean-pool last_hidden_state; vikcse's time also includes tokenising. The ONNX Runtime peer
needs `npm ci` in benchmarks/peers/onnxruntime (skipped with a note otherwise). A random encoder's CLS
vectors are nearly parallel, so the default pooler is avg, which still ranks pairs by shared words.)";

/// The criterion for a precision's STS change (x100 scale, the papers' unit).
constexpr double spearman_tolerance = 0.1;
/// Agreement needed to call a peer "the same function" on float32 mean-pooled vectors.
constexpr double peer_tolerance = 1e-3;

struct Measured {
  std::string engine, precision;
  double seconds = 0;            ///< one pass over the sentences
  std::vector<double> spearman;  ///< per task, x100
  double max_cos_delta = 0;      ///< against vikcse float32, over every task pair
  double max_abs_diff = -1;      ///< peers: against vikcse float32 embeddings; -1: not compared
  double peak_rss_mib = 0;
  std::string note, version;
};

}  // namespace

int main(int argc, char** argv) try {
  std::string senteval, model_text, json_path, pooler;
  std::string random_text = "../shared/data/tokenizers/bert-base-uncased";
  std::string python = "/usr/bin/python3", node = "/usr/bin/node";
  std::int64_t layers = 0, batch_size = 64;
  std::vector<std::string> tasks{"STSBenchmark"}, precisions;
  int threads = 0, iters = 1;
  CLI::App app{description, "sentence_encoder_throughput"};
  app.footer(footer);
  app.option_defaults()->always_capture_default();
  app.add_option("--senteval", senteval, "SentEval data directory (holds downstream/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* model_option =
      app.add_option("--model", model_text, "a model directory SentenceEncoder loads (peers: only with --pooler avg)")
          ->check(CLI::ExistingDirectory);
  auto* random_option =
      app.add_option("--random-model", random_text,
                     "random weights of DIR/config.json with DIR's tokenizer files; used when --model is absent")
          ->check(CLI::ExistingDirectory)
          ->excludes(model_option);
  app.add_option("--layers", layers, "with --random-model: override num_hidden_layers (0: the config's)")
      ->check(vikcse::cli::non_negative_integer())
      ->excludes(model_option);
  app.add_option("--pooler", pooler, "pooler (default: avg for a random model, the model's own for --model)")
      ->check(CLI::IsMember([] {
        std::vector<std::string> names;
        for (auto kind : vikcse::all_pooler_kinds) names.emplace_back(vikcse::to_string(kind));
        return names;
      }()));
  app.add_option("--tasks", tasks, "comma list of STS tasks (STS12..STS16, STSBenchmark, SICKRelatedness)")
      ->type_name("LIST")
      ->delimiter(',')
      ->check(CLI::IsMember({"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness",
                             "STSBenchmark-dev", "SICKRelatedness-dev"}));
  app.add_option("--precisions", precisions,
                 "comma list of fp32, bf16, int8; fp32 always runs (the baseline). Default: all three on a CPU with "
                 "AVX512-BF16 or AMX, else fp32 and int8 (bf16 matrix products without them run ~40x slower than fp32)")
      ->type_name("LIST")
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}));
  app.add_option("--batch-size", batch_size, "sentences per encoder call")->check(vikcse::cli::positive_integer());
  app.add_option("--iters", iters, "timed passes over the sentences (after one warm-up batch)")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--threads", threads, "intra-op threads for vikcse and both peers (0: hardware)")
      ->check(vikcse::cli::non_negative_integer());
  app.add_option("--python", python, "interpreter with torch; 'none' skips the eager peer and ONNX Runtime");
  app.add_option("--node", node, "Node.js for the ONNX Runtime peer; 'none' skips it");
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  try {
    app.parse(argc, argv);
    if (model_text.empty()) vikcse::cli::validate(random_option, random_text, CLI::ExistingDirectory);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  threads = vikcse::configure_threads(threads);
  const bool bf16_hardware = vikcse::cpu_has_bf16_hardware();
  std::string bf16_note;
  if (precisions.empty()) {
    precisions = {"fp32", "int8"};
    if (bf16_hardware)
      precisions.insert(precisions.begin() + 1, "bf16");
    else
      bf16_note =
          "bf16 not run: this CPU has neither AVX512-BF16 nor AMX (/proc/cpuinfo); --precisions fp32,bf16 forces it";
  }
  if (std::find(precisions.begin(), precisions.end(), "fp32") == precisions.end())
    precisions.insert(precisions.begin(), "fp32");

  // The model directory: the caller's, or random weights saved with the tokenizer files.
  const auto scratch = fs::temp_directory_path() / fmt::format("vikcse-bench-sentence-encoder-{}", ::getpid());
  fs::create_directories(scratch);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{scratch};
  fs::path dir = model_text;
  std::string model_name = model_text;
  if (model_text.empty()) {
    auto config = vikcse::BertConfig::from_json_file(fs::path(random_text) / "config.json");
    if (layers > 0) config.num_hidden_layers = layers;
    torch::manual_seed(0);
    vikcse::AutoModel random(config);
    dir = scratch / "model";
    random.save_pretrained(dir);
    for (const auto& entry : fs::directory_iterator(random_text)) {
      if (entry.path().filename() != "config.json") fs::copy_file(entry.path(), dir / entry.path().filename());
    }
    model_name =
        fmt::format("random {} ({} layers, hidden {})", random_text, config.num_hidden_layers, config.hidden_size);
    if (pooler.empty()) pooler = "avg";
  }

  // The sentences: every distinct sentence of the tasks, first-seen order; each task's pairs as rows.
  std::vector<vikcse::StsTaskData> task_data;
  std::vector<std::string> corpus;
  std::unordered_map<std::string, std::int64_t> row_of;
  std::vector<std::vector<std::int64_t>> task_rows;
  for (const auto& name : tasks) {
    task_data.push_back(vikcse::read_sts_task(senteval, name));
    auto& rows = task_rows.emplace_back();
    for (const auto& s : vikcse::sts_sentences(task_data.back())) {
      const auto [it, added] = row_of.emplace(s, static_cast<std::int64_t>(corpus.size()));
      if (added) corpus.push_back(s);
      rows.push_back(it->second);
    }
  }
  auto spearman_of = [&](const torch::Tensor& e, std::size_t t) {
    const auto n = static_cast<std::int64_t>(task_data[t].size());
    const auto rows = torch::tensor(task_rows[t], torch::kLong);
    const auto all = e.index_select(0, rows);
    return std::pair{100.0 * vikcse::evaluate_sts(task_data[t], all.narrow(0, 0, n), all.narrow(0, n, n),
                                                  {.alignment_uniformity = false})
                                 .spearman.all,
                     torch::cosine_similarity(all.narrow(0, 0, n), all.narrow(0, n, n), 1)};
  };

  vikcse::SentenceEncoderOptions load_options;
  if (!pooler.empty()) load_options.pooler = pooler;
  std::vector<Measured> results;
  torch::Tensor fp32_embeddings;
  std::vector<torch::Tensor> fp32_cosines;
  std::string model_description;
  // From the float32 encoder, for the peers: its tokenizer, and whether its settings are plain
  // mean pooling (what the peers compute).
  std::optional<vikcse::AutoTokenizer> tokenizer;
  bool peers_apply = false;
  std::int64_t max_length = 0, width = 0;
  for (const auto& name : precisions) {
    auto options = load_options;
    options.precision = name == "bf16"   ? vikcse::Precision::bfloat16
                        : name == "int8" ? vikcse::Precision::int8
                                         : vikcse::Precision::float32;
    const auto encoder = vikcse::SentenceEncoder::load(dir, options);
    if (name == "fp32") {
      model_description = encoder.description();
      tokenizer.emplace(encoder.tokenizer());
      const auto& settings = encoder.settings();
      width = encoder.model().config().hidden_size;
      max_length = settings.max_length;
      peers_apply = settings.pooler == vikcse::PoolerKind::avg && !settings.head && settings.layout == std::nullopt &&
                    !settings.lowercase && !settings.append_period && encoder.dimension() == width;
    }
    vikcse::EncodeOptions encode;
    encode.batch_size = batch_size;
    (void)encoder.encode({corpus.begin(), corpus.begin() + std::min<std::ptrdiff_t>(batch_size, corpus.size())},
                         encode);  // warm-up
    Measured m{"vikcse SentenceEncoder", name};
    torch::Tensor e;
    for (int i = 0; i < iters; ++i) {
      vikcse::ProgressBar bar(std::cerr, corpus.size(), {.label = fmt::format("vikcse {}", name), .unit = "sent"});
      encode.on_progress = [&](std::size_t done, std::size_t total) {
        bar.set_total(total);
        bar.set(done);
      };
      const auto start = std::chrono::steady_clock::now();
      e = encoder.encode(corpus, encode);
      m.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
      bar.finish();
    }
    if (name == "fp32") fp32_embeddings = e;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      auto [rho, cosines] = spearman_of(e, t);
      m.spearman.push_back(rho);
      if (name == "fp32") fp32_cosines.push_back(cosines);
      m.max_cos_delta = std::max(m.max_cos_delta, (cosines - fp32_cosines[t]).abs().max().item<double>());
    }
    m.peak_rss_mib = vikcse::bench::peak_rss_mib();
    results.push_back(m);
  }

  // The peers: the same weights and the batches encode_sentences forms (distinct sentences, stable
  // sort by byte length, batch_size per batch), mean-pooled.
  std::vector<std::size_t> order(corpus.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  ranges::stable_sort(order, std::less<>{}, [&](std::size_t i) { return corpus[i].size(); });
  const auto batches_path = scratch / "batches.json";
  {
    nlohmann::json batches = nlohmann::json::array();
    const auto pad = tokenizer->special_tokens().pad;
    for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(batch_size)) {
      std::vector<std::vector<std::int64_t>> rows;
      for (std::size_t i = start; i < std::min(order.size(), start + static_cast<std::size_t>(batch_size)); ++i) {
        auto ids = tokenizer->encode(corpus[order[i]]);
        if (static_cast<std::int64_t>(ids.size()) > max_length) {
          const auto last = ids.back();
          ids.resize(static_cast<std::size_t>(max_length));
          ids.back() = last;
        }
        rows.push_back(std::move(ids));
      }
      const auto b = vikcse::pad_token_rows(rows, pad);
      const auto ids = b.input_ids.contiguous(), mask = b.attention_mask.contiguous();
      batches.push_back(
          {{"shape", {ids.size(0), ids.size(1)}},
           {"ids", std::vector<std::int64_t>(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel())},
           {"mask",
            std::vector<std::int64_t>(mask.data_ptr<std::int64_t>(), mask.data_ptr<std::int64_t>() + mask.numel())}});
    }
    std::ofstream(batches_path) << nlohmann::json{{"batches", batches}}.dump();
  }
  auto read_peer = [&](Measured& m, const std::string& command, const fs::path& out) {
    const auto output = vikcse::bench::run_peer(command);
    for (const auto& line : output.lines) {
      if (line.contains("seconds_per_pass")) m.seconds = line["seconds_per_pass"].get<double>();
      if (line.contains("ort_version") && line["ort_version"].is_string())
        m.version = line["ort_version"].get<std::string>();
      m.peak_rss_mib = std::max(m.peak_rss_mib, line.value("peak_rss_mib", 0.0));
    }
    std::error_code ec;
    const auto bytes = fs::file_size(out, ec);
    if (m.seconds <= 0 || ec || bytes != corpus.size() * static_cast<std::size_t>(width) * sizeof(float)) {
      m.seconds = 0;
      m.note = "FAILED: " + output.text;
      return;
    }
    std::vector<float> values(bytes / sizeof(float));
    std::ifstream(out, std::ios::binary)
        .read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
    const auto in_batch_order =
        torch::from_blob(values.data(), {static_cast<std::int64_t>(corpus.size()), width}, torch::kFloat).clone();
    std::vector<std::int64_t> inverse(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<std::int64_t>(i);
    const auto e = in_batch_order.index_select(0, torch::tensor(inverse, torch::kLong));
    m.max_abs_diff = (e - fp32_embeddings).abs().max().item<double>();
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      auto [rho, cosines] = spearman_of(e, t);
      m.spearman.push_back(rho);
      m.max_cos_delta = std::max(m.max_cos_delta, (cosines - fp32_cosines[t]).abs().max().item<double>());
    }
  };
  const auto peers = fs::path(__FILE__).parent_path() / "peers";
  Measured eager{"python3-torch eager", "fp32"}, ort{"ONNX Runtime", "fp32"};
  if (!peers_apply) {
    eager.note = ort.note = "skipped: the peers mean-pool, and this model's settings are not plain avg pooling";
  } else if (python == "none") {
    eager.note = ort.note = "skipped (--python none)";
  } else {
    std::cerr << "peer: python3-torch eager\n";
    read_peer(eager,
              fmt::format("{} {} {} --batches {} --out {} --iters {} --threads {}", python,
                          (peers / "encoder_eager.py").string(), dir.string(), batches_path.string(),
                          (scratch / "eager.f32").string(), iters, threads),
              scratch / "eager.f32");
    const auto ort_dir = peers / "onnxruntime";
    if (node == "none") {
      ort.note = "skipped (--node none)";
    } else if (!fs::exists(ort_dir / "node_modules" / "onnxruntime-node")) {
      ort.note = fmt::format("skipped: onnxruntime-node is not installed; run `npm ci` in {}", ort_dir.string());
    } else {
      std::cerr << "peer: ONNX Runtime (export, then encode)\n";
      const auto onnx = scratch / "model.onnx";
      const auto exported = vikcse::bench::run_peer(
          fmt::format("{} {} {} {}", python, (peers / "export_onnx.py").string(), dir.string(), onnx.string()));
      int opset = 0;
      for (const auto& line : exported.lines) opset = std::max(opset, line.value("opset", 0));
      if (opset == 0) {
        ort.note = "FAILED (ONNX export): " + exported.text;
      } else {
        read_peer(ort,
                  fmt::format("{} {} {} --batches {} --out {} --iters {} --threads {}", node,
                              (ort_dir / "ort_encoder.js").string(), onnx.string(), batches_path.string(),
                              (scratch / "ort.f32").string(), iters, threads),
                  scratch / "ort.f32");
        if (ort.note.empty())
          ort.note = fmt::format(
              "onnxruntime-node {} (CPU, graph optimization 'all') on an ONNX export (opset {}) of the "
              "same weights",
              ort.version, opset);
      }
    }
  }
  results.push_back(eager);
  results.push_back(ort);

  // Report.
  const double n = static_cast<double>(corpus.size());
  const auto& base = results.front();
  fmt::print("model: {}\n{}\n{} distinct sentences of {}; batch {}; {} thread(s); {} timed pass(es)\n\n", model_name,
             model_description, corpus.size(), fmt::join(tasks, ", "), batch_size, threads, iters);
  std::string header =
      fmt::format("| {:<22} | {:<4} | {:>8} | {:>9} | {:>10}", "engine", "prec", "sent/s", "vs ORT", "vs eager");
  for (const auto& t : tasks) header += fmt::format(" | {:>12}", vikcse::sts_column_name(t));
  header += fmt::format(" | {:>9} | {:>10} | {:>9} |", "|Δ| x100", "max |Δcos|", "peak MiB");
  fmt::print("{}\n", header);
  auto rate = [&](const Measured& m) { return m.seconds > 0 ? n / m.seconds : 0.0; };
  nlohmann::json rows = nlohmann::json::array();
  double worst_delta[3] = {0, 0, 0};  // fp32, bf16, int8
  for (const auto& m : results) {
    if (m.seconds <= 0) continue;
    std::string line = fmt::format("| {:<22} | {:<4} | {:>8.1f} | {:>9} | {:>10}", m.engine, m.precision, rate(m),
                                   ort.seconds > 0 ? fmt::format("{:.2f}x", rate(m) / rate(ort)) : "-",
                                   eager.seconds > 0 ? fmt::format("{:.2f}x", rate(m) / rate(eager)) : "-");
    double delta = 0;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      line += fmt::format(" | {:>12.2f}", m.spearman[t]);
      delta = std::max(delta, std::abs(m.spearman[t] - base.spearman[t]));
    }
    if (m.engine == base.engine) worst_delta[m.precision == "bf16" ? 1 : m.precision == "int8" ? 2 : 0] = delta;
    line += fmt::format(" | {:>9.3f} | {:>10.2g} | {:>9.0f} |", delta, m.max_cos_delta, m.peak_rss_mib);
    fmt::print("{}\n", line);
    rows.push_back({{"engine", m.engine},
                    {"precision", m.precision},
                    {"sentences_per_s", rate(m)},
                    {"spearman_x100", m.spearman},
                    {"max_abs_spearman_delta_x100", delta},
                    {"max_abs_cosine_delta", m.max_cos_delta},
                    {"max_abs_embedding_diff", m.max_abs_diff},
                    {"peak_rss_mib", m.peak_rss_mib}});
  }
  fmt::print("\neager: {}\nONNX Runtime: {}\n", eager.note.empty() ? "python3-torch on the same weights" : eager.note,
             ort.note.empty() ? "on an ONNX export of the same weights" : ort.note);
  for (const auto* m : {&eager, &ort}) {
    if (m->max_abs_diff >= 0)
      fmt::print("{} {} vikcse fp32: max |diff| = {:.2e} over every mean-pooled vector\n", m->engine,
                 m->max_abs_diff <= peer_tolerance ? "agrees with" : "DISAGREES with", m->max_abs_diff);
  }
  // The goals.
  nlohmann::json goals = nlohmann::json::array();
  auto goal = [&](const std::string& text, bool measured, bool met, const std::string& figure) {
    fmt::print("goal: {:<58} {}\n", text,
               !measured ? "not measured" : fmt::format("{} ({})", met ? "MET" : "NOT met", figure));
    goals.push_back({{"goal", text}, {"measured", measured}, {"met", met}, {"figure", figure}});
  };
  // The default: SentenceEncoderOptions{}.precision, automatic, as it resolves on this machine.
  const std::string chosen =
      vikcse::to_string(vikcse::resolve_precision(vikcse::SentenceEncoderOptions{}.precision, torch::kCPU));
  const Measured* default_run = nullptr;
  for (const auto& m : results)
    if (m.engine == base.engine && m.precision == chosen) default_run = &m;
  goal(fmt::format("default encode (auto: {} here) >= 1.0x ONNX Runtime fp32", chosen),
       ort.seconds > 0 && default_run != nullptr, default_run != nullptr && rate(*default_run) >= rate(ort),
       fmt::format("{:.2f}x", ort.seconds > 0 && default_run ? rate(*default_run) / rate(ort) : 0.0));
  goal("fp32 >= 1.0x ONNX Runtime fp32", ort.seconds > 0, rate(base) >= rate(ort),
       fmt::format("{:.2f}x", ort.seconds > 0 ? rate(base) / rate(ort) : 0.0));
  goal("fp32 >= 1.0x python3-torch eager", eager.seconds > 0, rate(base) >= rate(eager),
       fmt::format("{:.2f}x", eager.seconds > 0 ? rate(base) / rate(eager) : 0.0));
  for (const auto& m : results) {
    if (m.engine != base.engine || m.precision == "fp32") continue;
    const double d = worst_delta[m.precision == "bf16" ? 1 : 2];
    goal(fmt::format("{} |ΔSpearman| <= {} (x100)", m.precision, spearman_tolerance), true, d <= spearman_tolerance,
         fmt::format("{:.3f}; {:.2f}x fp32's speed", d, rate(m) / rate(base)));
  }
  if (!json_path.empty()) {
    const nlohmann::json doc{{"benchmark", "sentence_encoder_throughput"},
                             {"model", model_name},
                             {"description", model_description},
                             {"tasks", tasks},
                             {"sentences", corpus.size()},
                             {"batch_size", batch_size},
                             {"threads", threads},
                             {"results", rows},
                             {"goals", goals},
                             {"int8_engine", vikcse::int8_engine_name(vikcse::int8_engine())},
                             {"bf16_hardware", bf16_hardware}};
    vikcse::detail::write_text_atomically(json_path, doc.dump(2) + "\n");
  }
  fmt::print("int8 engine: {}\n", vikcse::int8_engine_name(vikcse::int8_engine()));
  if (!bf16_note.empty()) fmt::print("{}\n", bf16_note);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "sentence_encoder_throughput: error: " << e.what() << '\n';
  return 1;
}
