// SPDX-License-Identifier: Apache-2.0
// The one-shot GPU suite's program (tests/gpu/run.sh drives it; see README.md "GPU suite"):
//   gpu_suite checks   --device D --out FILE   the CUDA tests (suite/device_checks.hpp)
//   gpu_suite encoders --device D --out DIR    our half of the transformers comparison (BERT,
//                                              RoBERTa, CLIP)
//   gpu_suite steps    --device D --out DIR    SimCSE and VIKCSE training steps, MFU
// `--rehearse` shrinks every shape so the same code runs in seconds on a CPU. A CUDA device named
// where LibTorch sees none exits 77 (CTest's skip code: gpu_suite_cuda_checks reports "skipped").
#include "suite/clip_outputs.hpp"
#include "suite/device_checks.hpp"
#include "suite/encoder_outputs.hpp"
#include "suite/results.hpp"
#include "suite/training_steps.hpp"

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/threads.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

constexpr int skipped_exit_code = 77;

struct NoCudaDevice : std::runtime_error {
  using std::runtime_error::runtime_error;
};

torch::Device parse_device(const std::string& name) {
  const torch::Device device(name);
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw NoCudaDevice(fmt::format("--device {}: this LibTorch sees no CUDA device (skipped)", name));
  }
  return device;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"The one-shot GPU suite's program (run it through tests/gpu/run.sh)", "gpu_suite"};
  app.require_subcommand(1);
  std::string device_name = "cuda";
  std::filesystem::path out;
  bool rehearse = false;
  int threads = 0;
  for (auto* sub : {app.add_subcommand("checks", "the CUDA tests, as JSON rows (pass, fail, skip)"),
                    app.add_subcommand("encoders", "random BERT/RoBERTa/CLIP checkpoints and our outputs for them"),
                    app.add_subcommand("steps", "SimCSE and VIKCSE training steps: time, tokens/s, MFU")}) {
    sub->add_option("--device", device_name, "cpu, cuda or cuda:N")->capture_default_str();
    sub->add_option("--out", out, "checks: the JSON file; encoders, steps: a folder")->required();
    sub->add_flag("--rehearse", rehearse, "tiny shapes, for a CPU run of the same code");
    sub->add_option("--threads", threads, "intra-op threads (0: all)")->capture_default_str();
  }
  CLI11_PARSE(app, argc, argv);
  vikcse::configure_threads(threads);
  const auto device = parse_device(device_name);
  const auto* sub = app.get_subcommands().front();
  const vikcse::gpu::ModelShape tiny{.layers = 2, .hidden = 32, .heads = 4, .intermediate = 64, .vocab = 200};
  if (sub->get_name() == "checks") {
    vikcse::gpu::Results results;
    const auto scratch = std::filesystem::temp_directory_path() / fmt::format("vikcse-gpu-checks-{}", ::getpid());
    std::filesystem::create_directories(scratch);
    vikcse::gpu::run_device_checks(results, device, scratch);
    std::filesystem::remove_all(scratch);
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    results.write(out, {{"device", device.str()}, {"torch", TORCH_VERSION}});
    return results.failures() == 0 ? 0 : 1;
  }
  if (sub->get_name() == "encoders") {
    vikcse::gpu::EncoderShape shape;
    if (rehearse) shape = {.model = tiny, .batch = 4, .length = 16};
    vikcse::gpu::write_encoder_outputs(out, shape, device);
    std::cout << fmt::format("encoders: BERT and RoBERTa ({} layers, hidden {}), batch {} x {}, on {}: {}\n",
                             shape.model.layers, shape.model.hidden, shape.batch, shape.length, device.str(), out.string());
    const auto clip = rehearse ? vikcse::gpu::tiny_clip_shape() : vikcse::gpu::ClipShape{};
    vikcse::gpu::write_clip_outputs(out, clip, device);
    const auto& c = clip.config;
    std::cout << fmt::format("encoders: CLIP (vision {} layers, hidden {}, {}px / {}; text {} layers, hidden {}), "
                             "{} images, {} texts x {}, on {}: {}\n",
                             c.vision.num_hidden_layers, c.vision.hidden_size, c.vision.image_size, c.vision.patch_size,
                             c.text.num_hidden_layers, c.text.hidden_size, clip.images, clip.texts,
                             c.text.max_position_embeddings, device.str(), (out / "clip").string());
    return 0;
  }
  vikcse::gpu::StepShape shape;
  std::int64_t matmul_n = 8192;
  if (rehearse) {
    shape = {.model = tiny, .simcse_batch = 4,
             .simcse_length = 32, .vikcse_batch = 4, .vikcse_length = 77, .kb_rows = 300, .kb_dim = 16, .warmup = 1,
             .iters = 2};
    matmul_n = 256;
  }
  std::filesystem::create_directories(out);
  const auto report = vikcse::gpu::time_training_steps(shape, device, out, matmul_n);
  vikcse::detail::write_text_atomically(out / "steps.json", report.dump(2) + "\n");
  for (const auto& s : report["steps"]) {
    std::cout << fmt::format("{}: {:.4f} s/step, {:.0f} tokens/s, {:.1f} TFLOP/s, MFU {:.1f}% of {:.1f} TFLOP/s\n",
                             s["method"].get<std::string>(), s["seconds_per_step"].get<double>(),
                             s["tokens_per_second"].get<double>(), s["achieved_tflops"].get<double>(),
                             100 * s["mfu"].get<double>(), report["bf16_matmul_tflops"].get<double>());
  }
  return 0;
} catch (const NoCudaDevice& e) {
  std::cerr << "gpu_suite: " << e.what() << '\n';
  return skipped_exit_code;
} catch (const std::exception& e) {
  std::cerr << "gpu_suite: " << e.what() << '\n';
  return 1;
}
