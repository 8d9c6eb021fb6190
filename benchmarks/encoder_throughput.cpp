// SPDX-License-Identifier: Apache-2.0
// Encode throughput of a BERT-base-shaped random encoder (inference, float32, CPU), against the
// same weights in Debian's python3-torch eager mode (benchmarks/peers/encoder_eager.py) and in ONNX
// Runtime (npm onnxruntime-node on an ONNX export made with python3-torch:
// benchmarks/peers/export_onnx.py, benchmarks/peers/onnxruntime/ort_encoder.js), measured one after
// the other in the same run. ONNX Runtime's output on a small fixed input is compared with vikcse's
// first. Also measures this machine's float32 GEMM rate and reports the model's FLOP/s as a
// fraction of it, and optionally bfloat16.
#include "support/benchmark_support.hpp"

#include <vikcse/vikcse.hpp>

#include <filesystem>
#include <fstream>

namespace {

constexpr const char* description = R"(encoder_throughput: sentences/s and tokens/s of a BERT-base-shaped random encoder
(vikcse on LibTorch) against the same weights in python3-torch eager and in ONNX Runtime, in the same run.
The ONNX Runtime peer needs `npm ci` in benchmarks/peers/onnxruntime (skipped with a note otherwise);
the ONNX file is exported from the same weights with the --python interpreter.)";

/// FLOPs of one forward pass (2 per multiply-add): the linear layers, QK^T and PV.
double forward_flops(const vikcse::BertConfig& c, std::int64_t batch, std::int64_t seq) {
  const double tokens = static_cast<double>(batch * seq);
  const double h = static_cast<double>(c.hidden_size), f = static_cast<double>(c.intermediate_size);
  const double per_layer = 2.0 * tokens * (4.0 * h * h + 2.0 * h * f) + 2.0 * 2.0 * tokens * seq * h;
  return per_layer * static_cast<double>(c.num_hidden_layers);
}

/// What the ONNX Runtime peer gave: seconds per batch for each length (0 where missing), its peak
/// RSS, and the largest |difference| of its last_hidden_state from ours on the check input.
struct OrtPeer {
  std::vector<double> seconds;
  double peak_rss_mib = 0.0;
  double max_abs_diff = -1.0;  // -1: not compared
  std::string version;
  std::string note;
};

/// Agreement needed to call ORT "the same function" (float32, different kernels and fusions).
constexpr double ort_tolerance = 1e-3;

}  // namespace

int main(int argc, char** argv) {
  vikcse::BertConfig config;  // bert-base-uncased shape
  std::int64_t batch_size = 64, layers = config.num_hidden_layers;
  std::vector<std::int64_t> seqs{32, 128};
  int iters = 5, threads = 0;
  bool bf16 = false, fast_path = false;
  std::string python = "/usr/bin/python3", node = "/usr/bin/node", json_path;
  CLI::App app{description, "encoder_throughput"};
  app.option_defaults()->always_capture_default();
  app.add_option("--batch", batch_size, "batch size")->check(vikcse::cli::positive_integer());
  app.add_option("--seq", seqs, "sequence lengths, comma-separated")
      ->delimiter(',')
      ->check(vikcse::cli::integer_in(1, config.max_position_embeddings,
                                      fmt::format("in [1, {}]", config.max_position_embeddings)));
  app.add_option("--iters", iters, "timed batches per length")->check(vikcse::cli::positive_integer());
  app.add_option("--layers", layers, "encoder layers (12: BERT-base)")->check(vikcse::cli::positive_integer());
  app.add_option("--threads", threads, "intra-op threads for vikcse and both peers (0: hardware)")
      ->check(vikcse::cli::non_negative_integer());
  app.add_flag("--bf16", bf16, "also time vikcse in bfloat16");
  app.add_flag("--peer-fast-path", fast_path, "let the peer use nn.TransformerEncoderLayer's fused inference kernel");
  app.add_option("--python", python,
                 "interpreter with torch; 'none' skips the eager peer and the ONNX export (so also ONNX Runtime)");
  app.add_option("--node", node, "Node.js for the ONNX Runtime peer; 'none' skips it");
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  CLI11_PARSE(app, argc, argv);
  threads = vikcse::configure_threads(threads);
  config.num_hidden_layers = layers;
  torch::manual_seed(0);

  auto a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  const double gemm =
      2.0 * 2048.0 * 2048.0 * 2048.0 / vikcse::bench::seconds_per_call([&] { (void)torch::mm(a, b); }, 5);

  vikcse::AutoModel model(config);
  model->eval();
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("vikcse-bench-encoder-{}", ::getpid());
  model.save_pretrained(dir);

  fmt::print("encoder_throughput: BERT-base shape ({} layers, hidden {}), batch {}, {} threads\n",
             config.num_hidden_layers, config.hidden_size, batch_size, threads);
  fmt::print("machine float32 GEMM rate: {:.1f} GFLOP/s\n\n", gemm / 1e9);
  auto time_model = [&](vikcse::AutoModel& m, std::int64_t seq) {
    auto ids = torch::randint(1000, config.vocab_size, {batch_size, seq}, torch::kLong);
    vikcse::TokenBatch batch{ids, torch::ones_like(ids), torch::zeros_like(ids), {}};
    torch::InferenceMode guard;
    return vikcse::bench::seconds_per_call([&] { (void)m->forward(batch); }, iters);
  };
  std::vector<double> ours, ours_bf16;
  for (auto seq : seqs) ours.push_back(time_model(model, seq));
  const double our_rss = vikcse::bench::peak_rss_mib();
  if (bf16) {  // a separate copy: casting `model` there and back would round its weights to bf16
    auto bf16_model = vikcse::AutoModel::from_pretrained(dir);
    bf16_model->eval();
    bf16_model->to(torch::kBFloat16);
    for (auto seq : seqs) ours_bf16.push_back(time_model(bf16_model, seq));
  }

  std::vector<double> peer(seqs.size(), 0.0);
  double peer_rss = 0.0;
  std::string peer_note = "skipped (--python none)";
  if (python != "none") {
    const auto script = std::filesystem::path(__FILE__).parent_path() / "peers" / "encoder_eager.py";
    const auto command =
        fmt::format("{} {} {} --batch {} --seq {} --iters {} --threads {}{}", python, script.string(), dir.string(),
                    batch_size, fmt::join(seqs, " "), iters, threads, fast_path ? " --fast-path" : "");
    auto output = vikcse::bench::run_peer(command);
    std::size_t found = 0;
    for (const auto& line : output.lines) {
      for (std::size_t i = 0; i < seqs.size(); ++i) {
        if (line.value("seq", -1LL) == seqs[i]) {
          peer[i] = line.value("seconds_per_batch", 0.0);
          ++found;
        }
      }
      peer_rss = std::max(peer_rss, line.value("peak_rss_mib", 0.0));
    }
    peer_note = found == seqs.size()
                    ? fmt::format("python3-torch eager{} on the same weights", fast_path ? " (fused fast path)" : "")
                    : "FAILED: " + output.text;
  }

  // ONNX Runtime peer: export the same weights to ONNX (python3-torch), check ORT's output against
  // ours on a small fixed input with one padded row, then time it with the same batch, lengths,
  // iterations and threads. Runs after the eager peer, never at the same time.
  const auto peers = std::filesystem::path(__FILE__).parent_path() / "peers";
  const auto ort_dir = peers / "onnxruntime";
  OrtPeer ort;
  ort.seconds.assign(seqs.size(), 0.0);
  if (node == "none") {
    ort.note = "skipped (--node none)";
  } else if (python == "none") {
    ort.note = "skipped (the ONNX export needs python3-torch; --python none)";
  } else if (!std::filesystem::exists(ort_dir / "node_modules" / "onnxruntime-node")) {
    ort.note = fmt::format("skipped: onnxruntime-node is not installed; run `npm ci` in {}", ort_dir.string());
  } else {
    const auto onnx = dir / "model.onnx";
    auto exported = vikcse::bench::run_peer(
        fmt::format("{} {} {} {}", python, (peers / "export_onnx.py").string(), dir.string(), onnx.string()));
    int opset = 0;
    for (const auto& line : exported.lines) opset = std::max(opset, line.value("opset", 0));
    const auto script = (ort_dir / "ort_encoder.js").string();
    if (opset == 0) {
      ort.note = "FAILED (ONNX export): " + exported.text;
    } else {
      // Check input: batch 2, length 8, fixed ids; the second row ends in 3 padding tokens.
      constexpr std::int64_t check_batch = 2, check_seq = 8, check_padded = 3;
      std::vector<std::int64_t> check_ids, check_mask;
      for (std::int64_t i = 0; i < check_batch * check_seq; ++i) {
        const bool padded = i / check_seq == check_batch - 1 && i % check_seq >= check_seq - check_padded;
        check_ids.push_back(padded ? 0 : 1000 + (97 * i) % (config.vocab_size - 1000));
        check_mask.push_back(padded ? 0 : 1);
      }
      auto ids = torch::tensor(check_ids, torch::kLong).view({check_batch, check_seq});
      vikcse::TokenBatch batch{
          ids, torch::tensor(check_mask, torch::kLong).view({check_batch, check_seq}), torch::zeros_like(ids), {}};
      torch::Tensor ours_hidden;
      {
        torch::InferenceMode guard;
        ours_hidden = model->forward(batch).last_hidden_state.clone();
      }
      const auto check_path = dir / "ort_check.json";
      auto checked = vikcse::bench::run_peer(
          fmt::format("{} {} {} --threads {} --check-shape {},{} --check-ids {} --check-mask {} --check-out {}", node,
                      script, onnx.string(), threads, check_batch, check_seq, fmt::join(check_ids, ","),
                      fmt::join(check_mask, ","), check_path.string()));
      for (const auto& line : checked.lines) {
        if (line.contains("ort_version")) ort.version = line["ort_version"].get<std::string>();
      }
      if (std::filesystem::exists(check_path)) {
        std::ifstream in(check_path);
        const auto doc = nlohmann::json::parse(in, nullptr, false);
        if (!doc.is_discarded() && doc.contains("last_hidden_state")) {
          auto values = doc["last_hidden_state"].get<std::vector<float>>();
          if (static_cast<std::int64_t>(values.size()) == ours_hidden.numel()) {
            const auto theirs = torch::from_blob(values.data(), ours_hidden.sizes(), torch::kFloat);
            ort.max_abs_diff = (theirs - ours_hidden).abs().max().item<double>();
          }
        }
      }
      if (ort.max_abs_diff < 0) {
        ort.note = "FAILED (agreement check): " + checked.text;
      } else {
        auto timed = vikcse::bench::run_peer(fmt::format(
            "{} {} {} --batch {} --seq {} --iters {} --warmup 1 "
            "--threads {} --vocab {}",
            node, script, onnx.string(), batch_size, fmt::join(seqs, " "), iters, threads, config.vocab_size));
        std::size_t found = 0;
        for (const auto& line : timed.lines) {
          for (std::size_t i = 0; i < seqs.size(); ++i) {
            if (line.value("seq", -1LL) == seqs[i]) {
              ort.seconds[i] = line.value("seconds_per_batch", 0.0);
              ++found;
            }
          }
          ort.peak_rss_mib = std::max(ort.peak_rss_mib, line.value("peak_rss_mib", 0.0));
        }
        ort.note = found == seqs.size()
                       ? fmt::format(
                             "onnxruntime-node {} (CPU, graph optimization 'all', intra-op threads {}) on an "
                             "ONNX export (opset {}) of the same weights",
                             ort.version, threads, opset)
                       : "FAILED: " + timed.text;
      }
    }
  }
  std::filesystem::remove_all(dir);

  nlohmann::json results = nlohmann::json::array();
  fmt::print("{:>5} | {:>13} | {:>12} | {:>7} | {:>11} | {:>12} | {:>6} | {:>10} | {:>6}{}\n", "seq", "vikcse sent/s",
             "tokens/s", "MFU", "peer sent/s", "peer tok/s", "ratio", "ORT sent/s", "vs ORT",
             bf16 ? " | bf16 sent/s" : "");
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const double sentences = static_cast<double>(batch_size) / ours[i];
    const double mfu = forward_flops(config, batch_size, seqs[i]) / ours[i] / gemm;
    const double peer_sentences = peer[i] > 0 ? static_cast<double>(batch_size) / peer[i] : 0.0;
    const double ratio = peer[i] > 0 ? peer[i] / ours[i] : 0.0;
    const double ort_sentences = ort.seconds[i] > 0 ? static_cast<double>(batch_size) / ort.seconds[i] : 0.0;
    const double ort_ratio = ort.seconds[i] > 0 ? ort.seconds[i] / ours[i] : 0.0;
    const double bf16_sentences = bf16 ? static_cast<double>(batch_size) / ours_bf16[i] : 0.0;
    fmt::print(
        "{:>5} | {:>13.1f} | {:>12.0f} | {:>6.1f}% | {:>11.1f} | {:>12.0f} | {:>5.2f}x | {:>10.1f} | "
        "{:>5.2f}x{}\n",
        seqs[i], sentences, sentences * static_cast<double>(seqs[i]), 100.0 * mfu, peer_sentences,
        peer_sentences * static_cast<double>(seqs[i]), ratio, ort_sentences, ort_ratio,
        bf16 ? fmt::format(" | {:>11.1f}", bf16_sentences) : "");
    results.push_back({{"seq", seqs[i]},
                       {"batch", batch_size},
                       {"vikcse_sentences_per_s", sentences},
                       {"vikcse_tokens_per_s", sentences * static_cast<double>(seqs[i])},
                       {"vikcse_fraction_of_gemm_rate", mfu},
                       {"peer_sentences_per_s", peer_sentences},
                       {"ratio_vikcse_over_peer", ratio},
                       {"ort_sentences_per_s", ort_sentences},
                       {"ratio_vikcse_over_ort", ort_ratio},
                       {"vikcse_bf16_sentences_per_s", bf16_sentences}});
  }
  fmt::print("\npeer: {}\nORT: {}\n", peer_note, ort.note);
  if (ort.max_abs_diff >= 0) {
    fmt::print("ORT {} vikcse: max |diff| = {:.2e} on last_hidden_state (batch 2, length 8, one row padded){}\n",
               ort.max_abs_diff <= ort_tolerance ? "agrees with" : "DISAGREES with", ort.max_abs_diff,
               ort.max_abs_diff <= ort_tolerance ? "" : fmt::format(" > {:.0e}", ort_tolerance));
  }
  fmt::print(
      "ratio = vikcse throughput / peer throughput; vs ORT = vikcse throughput / ORT throughput;\n"
      "MFU = model FLOP/s / measured GEMM FLOP/s\n"
      "peak RSS: vikcse {:.0f} MiB, peer {:.0f} MiB, ORT {:.0f} MiB\n",
      our_rss, peer_rss, ort.peak_rss_mib);
  if (!json_path.empty()) {
    nlohmann::json doc{{"benchmark", "encoder_throughput"},
                       {"threads", threads},
                       {"gemm_gflops", gemm / 1e9},
                       {"peer", peer_note},
                       {"peak_rss_mib", our_rss},
                       {"peer_peak_rss_mib", peer_rss},
                       {"ort", ort.note},
                       {"ort_version", ort.version},
                       {"ort_peak_rss_mib", ort.peak_rss_mib},
                       {"ort_max_abs_diff", ort.max_abs_diff},
                       {"results", results}};
    vikcse::detail::write_text_atomically(json_path, doc.dump(2) + "\n");
  }
  return 0;
}
