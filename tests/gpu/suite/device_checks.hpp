// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file device_checks.hpp
/// The suite's CUDA tests: what only a run on a GPU can show about the library. Each check runs
/// on `device`; in the rehearsal that is the CPU, so the code paths run (and cannot rot) while the
/// CUDA-only ones report "skip". Bounds are derived next to each check.

#include "model_shape.hpp"
#include "results.hpp"
#include "synthetic_text.hpp"

#include <support/float_bounds.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/train/trainer.hpp>

#if VIKCSE_GPU_SUITE_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/util/Exception.h>
#endif

#include <fmt/ranges.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace vikcse::gpu {

/// A tiny BERT (dropout 0, so a CPU and a GPU run compute the same function).
inline BertConfig tiny_config(std::int64_t vocab) {
  auto c = bert_config({.layers = 2, .hidden = 32, .heads = 4, .intermediate = 64, .vocab = vocab});
  c.max_position_embeddings = 96;
  c.hidden_dropout_prob = 0.0;
  c.attention_probs_dropout_prob = 0.0;
  return c;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble)).abs().max().item<double>();
}

/// Runs every device check on `device` into `results`.
inline void run_device_checks(Results& results, const torch::Device& device, const std::filesystem::path& scratch) {
  const bool cuda = device.is_cuda();
  const auto tokenizer = synthetic_tokenizer(200);
  torch::manual_seed(0);
  const auto sentences = synthetic_sentences(8, 20, 200);
  const auto kb = torch::randn({300, 24});

  // The encoder on the device computes what it computes on the CPU. Both sides round in float32
  // (cuBLAS leaves TF32 off unless asked), so each of the 2L+1 stages adds at most
  // eps32 * sqrt(K) * M per side (tests/support/float_bounds.hpp's derivation): bound
  // 2 * eps32 * (2L+1) * sqrt(K) * M with K = max(H, intermediate) and M the largest |state|.
  results.run("encoder_on_device_equals_cpu", [&] {
    torch::manual_seed(1);
    AutoModel cpu_model(tiny_config(200));
    cpu_model->eval();
    AutoModel dev_model(tiny_config(200));
    {
      torch::NoGradGuard no_grad;
      const auto from = cpu_model->named_parameters();
      for (auto& p : dev_model->named_parameters()) p.value().copy_(from[p.key()]);
    }
    dev_model->to(device);
    dev_model->eval();
    torch::NoGradGuard no_grad;
    const auto ids = torch::randint(15, 200, {4, 40}, torch::kLong);
    auto mask = torch::ones_like(ids);
    mask.index_put_({torch::indexing::Slice(0, 2), torch::indexing::Slice(30, torch::indexing::None)}, 0);
    const TokenBatch batch{ids, mask, torch::zeros_like(ids), {}};
    const auto want = cpu_model->forward(batch).last_hidden_state;
    const auto got = dev_model->forward(batch.to(device)).last_hidden_state;
    const auto& c = cpu_model.config();
    const double bound = 2 * testing::encoder_forward_bound(
                                 testing::eps32, static_cast<int>(2 * c.num_hidden_layers + 1),
                                 static_cast<int>(std::max(c.hidden_size, c.intermediate_size)),
                                 want.abs().max().item<double>());
    const double diff = max_abs_diff(got, want);
    expect(diff <= bound, "max |device - cpu| {:.3g} above the bound {:.3g}", diff, bound);
    expect(got.device() == device, "the output is on {}, expected {}", got.device().str(), device.str());
    return fmt::format("max |device - cpu| {:.3g} (bound {:.3g})", diff, bound);
  });

  // The Trainer brings each batch to the model's device and trains there: a VIKCSE run of 6 steps
  // with checkpoints, resumed after step 3, ends where the straight run ends. Exact on the CPU;
  // on CUDA, kernels may reduce in another order between the two processes' worth of launches, so
  // the bound is AdamW's own: 3 steps of at most lr each per parameter (|Δθ| ≤ 3 * lr), far below
  // what a resume that lost the optimizer state or the step count would change (its first step
  // moves each parameter by about lr).
  results.run("trainer_trains_and_resumes_on_device", [&] {
    // A run of 6 steps, stopped after `stop_after` (0: never) as Ctrl-C stops one, or resumed.
    auto train = [&](std::int64_t stop_after, const std::filesystem::path& out, const std::filesystem::path& resume) {
      torch::manual_seed(2);
      auto r = make_vikcse(AutoModel(tiny_config(200)), tokenizer, kb);
      r.model->to(device);
      const auto collator = r.collator;
      BatchSource source{4, [&, collator](std::int64_t, std::int64_t i) {
                           std::vector<std::string> two{sentences[static_cast<std::size_t>(2 * i)],
                                                        sentences[static_cast<std::size_t>(2 * i + 1)]};
                           return collator->unsupervised(two);
                         }};
      Trainer trainer(TrainerOptions()
                          .learning_rate(1e-3)
                          .max_steps(6)
                          .eval_steps(0)
                          .save_steps(3)
                          .output_dir(out)
                          .resume_from(resume));
      std::int64_t calls = 0;
      trainer.stop_when([&] { return stop_after > 0 && ++calls >= stop_after; });
      const auto result = trainer.fit(r.model, source);
      for (const auto& p : r.model->parameters())
        expect(p.device() == device, "a parameter moved to {}", p.device().str());
      expect(std::isfinite(result.final_loss), "final loss {}", result.final_loss);
      return std::make_pair(r.model, result);
    };
    const auto a = scratch / "trainer-straight";
    const auto b = scratch / "trainer-resumed";
    auto [straight, straight_result] = train(0, a, {});
    const auto stopped = train(3, b, {}).second;
    expect(stopped.interrupted && stopped.steps == 3, "the stopped run ended at step {}", stopped.steps);
    auto [resumed, resumed_result] = train(0, b, b / "last");
    double diff = 0;
    const auto want = straight->named_parameters();
    for (const auto& p : resumed->named_parameters()) diff = std::max(diff, max_abs_diff(p.value(), want[p.key()]));
    const double bound = cuda ? 3 * 1e-3 : 0.0;
    expect(resumed_result.steps == 6, "the resumed run ended at step {}, expected 6", resumed_result.steps);
    expect(diff <= bound, "max |resumed - straight| {:.3g} above {:.3g}", diff, bound);
    return fmt::format("6 steps, resumed after 3: max |resumed - straight| parameter {:.3g} (bound {:.3g}); loss "
                       "{:.4f}",
                       diff, bound, straight_result.final_loss);
  });

  // A leaf weight is cast to bf16 once per autocast region and cached (CUDA); an optimizer step
  // between two regions must be seen by the second, so the guard clears the cache when the
  // outermost region ends. Negating a weight negates a bf16 product exactly.
  results.run("autocast_regions_see_updated_weights", [&] {
    torch::manual_seed(3);
    auto weight = torch::randn({6, 8}, torch::TensorOptions().device(device)).requires_grad_(true);
    const auto x = torch::randn({5, 8}, torch::TensorOptions().device(device));
    torch::Tensor before;
    {
      const detail::AutocastGuard on(device.type(), true);
      before = torch::nn::functional::linear(x, weight).detach();
    }
    {
      torch::NoGradGuard no_grad;
      weight.mul_(-1.0);
    }
    const detail::AutocastGuard on(device.type(), true);
    const auto after = torch::nn::functional::linear(x, weight).detach();
    expect(after.scalar_type() == torch::kBFloat16, "autocast gave {}", c10::toString(after.scalar_type()));
    expect(torch::equal(after, -before), "the second region used the cached weight of the first");
    return std::string("bf16 product after the update is the exact negation");
  });

  // InfoNCE switches autocast off and computes in float32: under autocast on the device it equals
  // the float32 loss of the same bf16 inputs bit for bit.
  results.run("info_nce_in_float32_under_autocast", [&] {
    torch::manual_seed(4);
    const auto opts = torch::TensorOptions().device(device);
    const auto a = torch::randn({16, 32}, opts).to(torch::kBFloat16);
    const auto b = torch::randn({16, 32}, opts).to(torch::kBFloat16);
    const auto exact = info_nce(a.to(torch::kFloat), b.to(torch::kFloat), {0.05});
    const detail::AutocastGuard on(device.type(), true);
    const auto loss = info_nce(a, b, {0.05});
    expect(loss.scalar_type() == torch::kFloat, "loss dtype {}", c10::toString(loss.scalar_type()));
    expect(torch::equal(loss, exact), "loss {} differs from float32 {}", loss.item<double>(), exact.item<double>());
    return fmt::format("loss {:.6f} equal to float32", loss.item<double>());
  });

  // The knowledge-base search on the device finds the CPU's rows wherever the best row leads the
  // second by more than the float error of a cosine (4 * D * eps32 covers both sides' dot products).
  results.run("kb_search_on_device_equals_cpu", [&] {
    torch::manual_seed(5);
    const auto bank = torch::randn({2000, 64});
    const auto queries = torch::randn({256, 64});
    VisualKnowledgeBase<> cpu_kb(bank);
    VisualKnowledgeBase<> dev_kb(bank);
    dev_kb->to(device);
    const auto want = cpu_kb->search(queries, 2);
    const auto got = dev_kb->search(queries.to(device), 1);
    const auto gap = (want.scores.select(1, 0) - want.scores.select(1, 1));
    const auto clear = gap > 4 * 64 * testing::eps32;
    const auto same = got.indices.select(1, 0).to(torch::kCPU).eq(want.indices.select(1, 0));
    const auto wrong = (clear & ~same).sum().item<std::int64_t>();
    expect(wrong == 0, "{} of {} clear-cut queries retrieved another row", wrong, clear.sum().item<std::int64_t>());
    return fmt::format("{} queries, {} clear-cut, all equal", queries.size(0), clear.sum().item<std::int64_t>());
  });

  // One VIKCSE training step (forward, backward, clipping, AdamW) queues on the GPU without a
  // host synchronisation. CUDA's sync-debug mode warns at each synchronising call; the warnings
  // are counted per phase of the step, so a failure says where to look.
  results.run("vikcse_step_without_host_sync", [&]() -> std::string {
#if VIKCSE_GPU_SUITE_CUDA && VIKCSE_TORCH_AT_LEAST(2, 0)
    if (!cuda) throw CheckSkipped("needs a CUDA device");
    torch::manual_seed(6);
    auto r = make_vikcse(AutoModel(tiny_config(200)), tokenizer, kb);
    r.model->to(device);
    r.model->train();
    auto optimizer = make_adamw(*r.model, {1e-3});
    const auto batch = r.collator->unsupervised(sentences).to(device);
    auto step = [&](auto&& count) {
      optimizer->zero_grad();
      auto out = r.model->forward(batch);
      count("forward");
      out.total.backward();
      count("backward");
      (void)clip_grad_norm(r.model->parameters(), 1.0);
      count("clipping");
      optimizer->step();
      count("AdamW");
    };
    step([](const char*) {});  // warm-up: the first step allocates AdamW's state
    torch::cuda::synchronize();
    struct Counter : c10::WarningHandler {
      int n = 0;
      void process(const c10::Warning& /*warning*/) override { ++n; }
    } counter;
    std::vector<std::string> found;
    {
      c10::WarningUtils::WarningHandlerGuard guard(&counter);
      struct Restore {
        ~Restore() { c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED); }
      } restore;
      c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_WARN);
      step([&](const char* phase) {
        if (counter.n > 0) found.push_back(fmt::format("{} {}", phase, counter.n));
        counter.n = 0;
      });
    }
    expect(found.empty(), "synchronising calls per phase: {}", fmt::join(found, ", "));
    return "no synchronising call in forward, backward, clipping and AdamW";
#else
    (void)cuda;
    throw CheckSkipped("needs LibTorch 2.x with CUDA (c10_cuda)");
#endif
  });
}

}  // namespace vikcse::gpu
