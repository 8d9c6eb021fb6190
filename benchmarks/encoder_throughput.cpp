// SPDX-License-Identifier: Apache-2.0
// Encode throughput of a BERT-base-shaped random encoder (inference, float32, CPU), against the
// same weights in Debian's python3-torch eager mode (benchmarks/peers/encoder_eager.py), run one
// after the other in this process's run. Also measures this machine's float32 GEMM rate and
// reports the model's FLOP/s as a fraction of it.
#include <vikcse/vikcse.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Args {
  std::int64_t batch = 64;
  std::vector<std::int64_t> seqs{32, 128};
  int iters = 5;
  int layers = 12;
  int threads = 0;
  std::string python = "/usr/bin/python3";
  std::string peer_script;
  std::string json;
  bool peer_fast_path = false;
};

void usage() {
  fmt::print(
      "encoder_throughput: sentences/s and tokens/s of a BERT-base-shaped random encoder (vikcse, LibTorch)\n"
      "against the same weights in python3-torch eager, in the same run.\n\n"
      "  --batch N         batch size (default 64)\n"
      "  --seq A,B         sequence lengths (default 32,128)\n"
      "  --iters N         timed batches per length (default 5)\n"
      "  --layers N        encoder layers (default 12, BERT-base)\n"
      "  --threads N       intra-op threads for both (default: hardware)\n"
      "  --peer-script F   path of benchmarks/peers/encoder_eager.py (default: next to the source)\n"
      "  --peer-fast-path  let the peer use nn.TransformerEncoderLayer's fused inference kernel\n"
      "  --python P        interpreter with torch (default /usr/bin/python3); 'none' skips the peer\n"
      "  --json FILE       also write the results as JSON\n");
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

template <typename F>
double seconds_per_call(F&& f, int iters) {
  f();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
}

/// Multiply-adds of one forward pass, counted as 2 FLOPs each: the linear layers, QK^T and PV.
double forward_flops(const vikcse::BertConfig& c, std::int64_t batch, std::int64_t seq) {
  const double tokens = static_cast<double>(batch * seq);
  const double h = static_cast<double>(c.hidden_size), f = static_cast<double>(c.intermediate_size);
  const double per_layer = 2.0 * tokens * (4.0 * h * h + 2.0 * h * f) + 2.0 * 2.0 * batch * seq * seq * h;
  return per_layer * static_cast<double>(c.num_hidden_layers);
}

std::string run_command(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe.get()) != nullptr) out += buffer;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.peer_script = (std::filesystem::path(__FILE__).parent_path() / "peers" / "encoder_eager.py").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "error: {} needs a value (see --help)\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (a == "--batch") {
      args.batch = std::stoll(value());
    } else if (a == "--seq") {
      args.seqs.clear();
      std::string list = value();
      for (std::size_t p = 0; p < list.size();) {
        auto q = list.find(',', p);
        args.seqs.push_back(std::stoll(list.substr(p, q - p)));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    } else if (a == "--iters") {
      args.iters = std::stoi(value());
    } else if (a == "--layers") {
      args.layers = std::stoi(value());
    } else if (a == "--threads") {
      args.threads = std::stoi(value());
    } else if (a == "--python") {
      args.python = value();
    } else if (a == "--peer-script") {
      args.peer_script = value();
    } else if (a == "--peer-fast-path") {
      args.peer_fast_path = true;
    } else if (a == "--json") {
      args.json = value();
    } else {
      fmt::print(stderr, "error: unknown argument '{}' (see --help)\n", a);
      return 2;
    }
  }
  const int threads = vikcse::configure_threads(args.threads);
  torch::manual_seed(0);

  // This machine's float32 GEMM rate (2048^3 matmul).
  auto a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  const double gemm = 2.0 * 2048.0 * 2048.0 * 2048.0 / seconds_per_call([&] { (void)torch::mm(a, b); }, 5);

  vikcse::BertConfig config;  // bert-base-uncased shape
  config.num_hidden_layers = args.layers;
  vikcse::AutoModel model(config);
  model->eval();
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("vikcse-bench-encoder-{}", ::getpid());
  model.save_pretrained(dir);

  nlohmann::json results = nlohmann::json::array();
  fmt::print("encoder_throughput: BERT-base shape ({} layers, hidden {}), batch {}, float32, {} threads\n",
             config.num_hidden_layers, config.hidden_size, args.batch, threads);
  fmt::print("machine float32 GEMM rate: {:.1f} GFLOP/s\n\n", gemm / 1e9);
  std::vector<double> ours;
  for (auto seq : args.seqs) {
    auto ids = torch::randint(1000, config.vocab_size, {args.batch, seq}, torch::kLong);
    vikcse::TokenBatch batch{ids, torch::ones_like(ids), torch::zeros_like(ids), {}};
    torch::InferenceMode guard;
    ours.push_back(seconds_per_call([&] { (void)model->forward(batch); }, args.iters));
  }
  const double our_rss = peak_rss_mib();

  std::vector<double> peer(args.seqs.size(), 0.0);
  double peer_rss = 0.0;
  std::string peer_note = "skipped (--python none)";
  if (args.python != "none") {
    std::string seqs;
    for (auto s : args.seqs) seqs += " " + std::to_string(s);
    const auto command = fmt::format("{} {} {} --batch {} --seq{} --iters {} --threads {}{} 2>&1", args.python,
                                     args.peer_script, dir.string(), args.batch, seqs, args.iters, threads,
                                     args.peer_fast_path ? " --fast-path" : "");
    const auto output = run_command(command);
    std::size_t found = 0;
    for (std::size_t p = 0; p < output.size();) {
      auto q = output.find('\n', p);
      auto line = output.substr(p, q - p);
      p = q == std::string::npos ? output.size() : q + 1;
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("seq")) continue;
      for (std::size_t i = 0; i < args.seqs.size(); ++i) {
        if (parsed["seq"].get<std::int64_t>() == args.seqs[i]) {
          peer[i] = parsed["seconds_per_batch"].get<double>();
          ++found;
        }
      }
      peer_rss = std::max(peer_rss, parsed.value("peak_rss_mib", 0.0));
    }
    peer_note = found == args.seqs.size()
                    ? fmt::format("python3-torch {} eager{}", "1.13", args.peer_fast_path ? " (fused fast path)" : "")
                    : "FAILED: " + output;
  }
  std::filesystem::remove_all(dir);

  fmt::print("{:>5} | {:>13} | {:>12} | {:>9} | {:>13} | {:>12} | {:>6}\n", "seq", "vikcse sent/s", "tokens/s",
             "MFU", "peer sent/s", "tokens/s", "ratio");
  fmt::print("{:-<5}-+-{:-<13}-+-{:-<12}-+-{:-<9}-+-{:-<13}-+-{:-<12}-+-{:-<6}\n", "", "", "", "", "", "", "");
  for (std::size_t i = 0; i < args.seqs.size(); ++i) {
    const double sentences = static_cast<double>(args.batch) / ours[i];
    const double tokens = sentences * static_cast<double>(args.seqs[i]);
    const double mfu = forward_flops(config, args.batch, args.seqs[i]) / ours[i] / gemm;
    const double peer_sentences = peer[i] > 0 ? static_cast<double>(args.batch) / peer[i] : 0.0;
    fmt::print("{:>5} | {:>13.1f} | {:>12.0f} | {:>8.1f}% | {:>13.1f} | {:>12.0f} | {:>5.2f}x\n", args.seqs[i],
               sentences, tokens, 100.0 * mfu, peer_sentences, peer_sentences * static_cast<double>(args.seqs[i]),
               peer[i] > 0 ? peer[i] / ours[i] : 0.0);
    results.push_back({{"seq", args.seqs[i]},
                       {"batch", args.batch},
                       {"vikcse_sentences_per_s", sentences},
                       {"vikcse_tokens_per_s", tokens},
                       {"vikcse_fraction_of_gemm_rate", mfu},
                       {"peer_sentences_per_s", peer_sentences},
                       {"ratio_vikcse_over_peer", peer[i] > 0 ? peer[i] / ours[i] : 0.0}});
  }
  fmt::print("\npeer: {}\npeak RSS: vikcse {:.0f} MiB, peer {:.0f} MiB (MFU = model FLOP/s / measured GEMM FLOP/s)\n",
             peer_note, our_rss, peer_rss);
  if (!args.json.empty()) {
    nlohmann::json doc{{"benchmark", "encoder_throughput"}, {"threads", threads}, {"gemm_gflops", gemm / 1e9},
                       {"peer", peer_note}, {"peak_rss_mib", our_rss}, {"peer_peak_rss_mib", peer_rss},
                       {"results", results}};
    vikcse::detail::write_text_atomically(args.json, doc.dump(2) + "\n");
  }
  return 0;
}
