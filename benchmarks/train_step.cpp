// SPDX-License-Identifier: Apache-2.0
// One unsupervised SimCSE training step (BERT-base shape, batch 64 duplicated into two dropout
// views, [CLS] -> MLP head, InfoNCE with τ 0.05, backward, clipping at 1.0, AdamW) in vikcse,
// against the same step on the same weights in python3-torch eager
// (benchmarks/peers/train_step_eager.py), in the same run. `--bf16`: both run the forward pass
// under bf16 autocast and the loss in float32 (TrainerOptions::bf16's recipe).
#include "support/benchmark_support.hpp"

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/vikcse.hpp>

#include <filesystem>
#include <optional>

namespace {

constexpr const char* description = R"(train_step: seconds per unsupervised SimCSE training step (forward of two views,
InfoNCE, backward, gradient clipping, AdamW) of a BERT-base-shaped encoder, vikcse against
python3-torch eager on the same weights, in the same run.)";

}  // namespace

int main(int argc, char** argv) {
  vikcse::BertConfig config;
  std::int64_t batch_size = 64, seq = 32, layers = config.num_hidden_layers;
  int iters = 3, threads = 0;
  bool bf16 = false;
  std::string python = "/usr/bin/python3", json_path;
  CLI::App app{description, "train_step"};
  app.option_defaults()->always_capture_default();
  app.add_option("--batch", batch_size, "sentences per step (2N rows go through the encoder)")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--seq", seq, "tokens per sentence")
      ->check(vikcse::cli::integer_in(1, config.max_position_embeddings,
                                      fmt::format("in [1, {}]", config.max_position_embeddings)));
  app.add_option("--iters", iters, "timed steps, after 1 warm-up step")->check(vikcse::cli::positive_integer());
  app.add_option("--layers", layers, "encoder layers")->check(vikcse::cli::positive_integer());
  app.add_option("--threads", threads, "intra-op threads for both (0: hardware)")
      ->check(vikcse::cli::non_negative_integer());
  app.add_flag("--bf16", bf16, "bf16 autocast for the forward pass, loss in float32 (both sides)");
  app.add_option("--python", python, "interpreter with torch; 'none' skips the peer");
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  CLI11_PARSE(app, argc, argv);
  threads = vikcse::configure_threads(threads);

  torch::manual_seed(0);
  config.num_hidden_layers = layers;
  vikcse::AutoModel model(config, {.add_pooling_layer = false});
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("vikcse-bench-train-{}", ::getpid());
  model.save_pretrained(dir);
  torch::nn::Linear mlp(config.hidden_size, config.hidden_size);
  std::vector<torch::Tensor> params = model->parameters();
  for (auto& p : mlp->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(3e-5).weight_decay(0.0));
  model->train();
  auto ids = torch::randint(1000, config.vocab_size, {batch_size, seq}, torch::kLong);
  ids = torch::cat({ids, ids});
  vikcse::TokenBatch batch{ids, torch::ones_like(ids), torch::zeros_like(ids), {}};
  auto step = [&] {
    std::optional<vikcse::detail::AutocastGuard> autocast;
    if (bf16) autocast.emplace(torch::kCPU, true, torch::kBFloat16);
    auto z = torch::tanh(mlp(model->forward(batch).last_hidden_state.select(1, 0)));
    auto loss = vikcse::info_nce(z.narrow(0, 0, batch_size), z.narrow(0, batch_size, batch_size));
    autocast.reset();
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    optimizer.step();
  };
  const double ours = vikcse::bench::seconds_per_call(step, iters);
  const double our_rss = vikcse::bench::peak_rss_mib();

  double peer = 0.0, peer_rss = 0.0;
  std::string peer_note = "skipped (--python none)";
  if (python != "none") {
    const auto script = std::filesystem::path(__FILE__).parent_path() / "peers" / "train_step_eager.py";
    auto output = vikcse::bench::run_peer(fmt::format("{} {} {} --batch {} --seq {} --iters {} --threads {}{}", python,
                                                      script.string(), dir.string(), batch_size, seq, iters, threads,
                                                      bf16 ? " --bf16" : ""));
    for (const auto& line : output.lines) {
      peer = line.value("seconds_per_step", 0.0);
      peer_rss = line.value("peak_rss_mib", 0.0);
    }
    peer_note = peer > 0 ? "python3-torch eager, same weights and step" : "FAILED: " + output.text;
  }
  std::filesystem::remove_all(dir);

  fmt::print("train_step: SimCSE step, BERT-base shape ({} layers), batch {} x 2 views, seq {}, {} threads, {}\n",
             layers, batch_size, seq, threads, bf16 ? "bf16 autocast (loss in float32)" : "float32");
  fmt::print("vikcse: {:.3f} s/step ({:.1f} sentences/s), peak RSS {:.0f} MiB\n", ours,
             static_cast<double>(batch_size) / ours, our_rss);
  if (peer > 0) {
    fmt::print("peer:   {:.3f} s/step ({:.1f} sentences/s), peak RSS {:.0f} MiB\n", peer,
               static_cast<double>(batch_size) / peer, peer_rss);
    fmt::print("ratio (vikcse speed / peer speed): {:.2f}x\n", peer / ours);
  }
  fmt::print("peer: {}\n", peer_note);
  if (!json_path.empty()) {
    nlohmann::json doc{{"benchmark", "train_step"},
                       {"threads", threads},
                       {"batch", batch_size},
                       {"seq", seq},
                       {"precision", bf16 ? "bf16" : "float32"},
                       {"vikcse_seconds_per_step", ours},
                       {"peer_seconds_per_step", peer},
                       {"ratio_vikcse_over_peer", peer > 0 ? peer / ours : 0.0},
                       {"peak_rss_mib", our_rss},
                       {"peer_peak_rss_mib", peer_rss},
                       {"peer", peer_note}};
    vikcse::detail::write_text_atomically(json_path, doc.dump(2) + "\n");
  }
  return 0;
}
