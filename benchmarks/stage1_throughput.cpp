// SPDX-License-Identifier: Apache-2.0
// VIKCSE stage 1 throughput on the real photos of the shared data directory, against the same
// steps in Python, measured in the same run (benchmarks/peers/stage1_peer.py):
//   1. decoding + preprocessing, images/s: vikcse::read_image + preprocess_clip (CLIPImageProcessor
//      settings from openai/clip-vit-base-patch32's preprocessor_config.json) and + preprocess_resnet
//      (MCSE's torchvision pipeline), on 1 and N threads, against Pillow + numpy / torchvision in one
//      Python process (1 thread, and N threads of a ThreadPoolExecutor). The first pass's outputs of
//      both sides are compared before any time is trusted.
//   2. image encoding, images/s: vikcse::ClipModel::image_features with a random model of
//      clip-vit-base-patch32's shape (from its config.json) at batch 16, and vikcse::ResNet
//      (ResNet-50) at batch 8, float32, 1 and N intra-op threads, against an eager python3-torch
//      CLIP vision tower of the same shape built from torch.nn layers and torchvision's resnet50,
//      on the same input batches (the real images, preprocessed). Parameter counts are compared.
// Each figure is the median of --repeats timed repeats after --warmup untimed ones; each row's peer
// runs right after our measurement of that row.
#include "support/benchmark_support.hpp"

#include <vikcse/image/decode.hpp>
#include <vikcse/image/preprocess.hpp>
#include <vikcse/vikcse.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>

namespace {

constexpr const char* description =
    R"(stage1_throughput: images/s of VIKCSE stage 1 on the real photos of DATA/images: decoding + CLIP
preprocessing and decoding + MCSE's ResNet preprocessing (vikcse::read_image + preprocess_clip /
preprocess_resnet against Pillow + numpy / torchvision), and image encoding (vikcse::ClipModel
image_features, CLIP ViT-B/32 shape, batch 16; vikcse::ResNet, ResNet-50, batch 8; random weights,
float32) against eager python3-torch models of the same shape, on 1 and N threads, in the same run.
The peer is benchmarks/peers/stage1_peer.py, run with --python.)";

using Clock = std::chrono::steady_clock;

/// Median of `repeats` timed calls of `f` after `warmup` untimed ones; also every repeat.
std::pair<double, std::vector<double>> median_seconds(const std::function<void()>& f, int repeats, int warmup) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    f();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  auto sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return {median, times};
}

/// Runs `job(i)` for i in [0, count) on `threads` threads that take the next index in turn.
void run_parallel(std::size_t count, int threads, const std::function<void(std::size_t)>& job) {
  if (threads <= 1) {
    for (std::size_t i = 0; i < count; ++i) job(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < count; i = next++) job(i);
    });
  }
  for (auto& thread : pool) thread.join();
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void write_floats(const std::filesystem::path& path, const torch::Tensor& t) {
  const auto c = t.contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<std::streamsize>(c.numel() * 4));
}

std::vector<float> read_floats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::vector<float> values(static_cast<std::size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  return values;
}

std::int64_t parameter_count(const std::vector<torch::Tensor>& parameters) {
  std::int64_t n = 0;
  for (const auto& p : parameters) n += p.numel();
  return n;
}

/// One row of the table: our median and the peer's, seconds for `images` images.
struct Row {
  std::string mode, name;  // the peer's keys: preprocess/encode, clip/resnet
  std::string stage, what;
  int threads = 1;
  double images = 0;
  double ours_seconds = 0, peer_seconds = 0;
  std::vector<double> ours_repeats, peer_repeats;
  [[nodiscard]] double ours_rate() const { return ours_seconds > 0 ? images / ours_seconds : 0.0; }
  [[nodiscard]] double peer_rate() const { return peer_seconds > 0 ? images / peer_seconds : 0.0; }
};

}  // namespace

int main(int argc, char** argv) {
  const char* env_data = std::getenv("VIKCSE_DATA_DIR");
  std::string data_text = env_data != nullptr ? env_data : "../shared/data", python = "/usr/bin/python3", json_path;
  int threads = 0, repeats = 5, warmup = 1, passes = 4;
  std::int64_t clip_batch = 16, resnet_batch = 8;
  bool quick = false;
  CLI::App app{description, "stage1_throughput"};
  app.option_defaults()->always_capture_default();
  auto* data_option =
      app.add_option("--data", data_text,
                     "shared data directory, with images/ and clip/openai-clip-vit-base-patch32/ (default: "
                     "$VIKCSE_DATA_DIR, else ../shared/data)")
          ->check(CLI::ExistingDirectory);
  app.add_option("--threads", threads, "N: the threaded rows' thread count, both sides (0: hardware threads)")
      ->check(vikcse::cli::non_negative_integer());
  app.add_option("--repeats", repeats, "timed repeats per figure; the median is reported")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--warmup", warmup, "untimed repeats before the timed ones")
      ->check(vikcse::cli::non_negative_integer());
  app.add_option("--passes", passes, "passes over the image files in one preprocessing repeat")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--clip-batch", clip_batch, "CLIP encoding batch")->check(vikcse::cli::positive_integer());
  app.add_option("--resnet-batch", resnet_batch, "ResNet-50 encoding batch")->check(vikcse::cli::positive_integer());
  app.add_flag("--quick", quick,
               "smoke run: 1 pass, 1 repeat, no warm-up, batch 2, a 2-layer CLIP vision tower of width 64 and a "
               "ResNet with one block per stage (figures meaningless; checks that everything runs)");
  app.add_option("--python", python, "interpreter with Pillow, numpy, torch, torchvision; 'none' skips the peer");
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  try {
    app.parse(argc, argv);
    vikcse::cli::validate(data_option, data_text, CLI::ExistingDirectory);
    vikcse::cli::validate(data_option, (std::filesystem::path(data_text) / "images").string(), CLI::ExistingDirectory);
    vikcse::cli::validate(
        data_option,
        (std::filesystem::path(data_text) / "clip" / "openai-clip-vit-base-patch32" / "preprocessor_config.json")
            .string(),
        CLI::ExistingFile);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (quick) {
    passes = 1;
    repeats = 1;
    warmup = 0;
    clip_batch = resnet_batch = 2;
  }
  const int hardware = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (threads == 0) threads = hardware;
  const std::filesystem::path data = data_text;
  const auto clip_dir = data / "clip" / "openai-clip-vit-base-patch32";

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(data / "images")) {
    const auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    fmt::print(stderr, "stage1_throughput: no .jpg/.png files in {}\n", (data / "images").string());
    return 1;
  }
  const auto clip_options = vikcse::ClipImageOptions::from_file(clip_dir / "preprocessor_config.json");
  const vikcse::ResNetImageOptions resnet_options;
  std::vector<int> thread_counts{1};
  if (threads > 1) thread_counts.push_back(threads);

  const auto dir = std::filesystem::temp_directory_path() / fmt::format("vikcse-bench-stage1-{}", ::getpid());
  std::filesystem::create_directories(dir);
  fmt::print("stage1_throughput: {} image files of {}, {}; threads {}; median of {} repeat(s) after {} warm-up(s){}\n",
             files.size(), (data / "images").string(), cpu_model(), fmt::join(thread_counts, " and "), repeats, warmup,
             quick ? "; --quick (tiny settings, figures meaningless)" : "");

  // The peer runs right after each of our measurements, with the same settings (never at the same
  // time), so that a change of load on a shared machine affects both figures of a row alike.
  const auto script = std::filesystem::path(__FILE__).parent_path() / "peers" / "stage1_peer.py";
  std::string peer_failures;
  auto run_peer_row = [&](Row& row, const std::string& arguments) {
    if (python == "none") return nlohmann::json();
    auto output =
        vikcse::bench::run_peer(fmt::format("{} {} {} --threads {} --repeats {} --warmup {}", shell_quote(python),
                                            shell_quote(script.string()), arguments, row.threads, repeats, warmup));
    for (const auto& line : output.lines) {
      const auto key = row.mode == "preprocess" ? "pipeline" : "model";
      if (line.value("mode", std::string()) == row.mode && line.value(key, std::string()) == row.name &&
          line.value("threads", 0) == row.threads &&
          line.value(row.mode == "preprocess" ? "images" : "batch", 0.0) == row.images) {
        row.peer_seconds = line.value("seconds", 0.0);
        row.peer_repeats = line.value("repeats", std::vector<double>{});
        return line;
      }
    }
    peer_failures += fmt::format("{} ({} threads): {}\n", row.stage, row.threads, output.text);
    return nlohmann::json();
  };

  // ---- 1. decoding + preprocessing -----------------------------------------------------------
  std::vector<Row> rows;
  const std::size_t jobs = files.size() * static_cast<std::size_t>(passes);
  std::map<std::string, std::vector<vikcse::PlanarImage>> first_pass;
  std::vector<std::string> quoted_files;
  for (const auto& f : files) quoted_files.push_back(shell_quote(f.string()));
  for (const std::string pipeline : {"clip", "resnet"}) {
    std::vector<vikcse::PlanarImage> outputs(jobs);
    auto one = [&](std::size_t i) {
      const auto rgb = vikcse::read_image(files[i % files.size()]);
      outputs[i] = pipeline == "clip" ? vikcse::preprocess_clip(rgb, clip_options)
                                      : vikcse::preprocess_resnet(rgb, resnet_options);
    };
    for (int t : thread_counts) {
      Row row;
      row.mode = "preprocess";
      row.name = pipeline;
      row.stage = pipeline == "clip" ? "decode + CLIP preprocess" : "decode + ResNet preprocess";
      row.what = pipeline == "clip" ? "read_image + preprocess_clip" : "read_image + preprocess_resnet";
      row.threads = t;
      row.images = static_cast<double>(jobs);
      std::tie(row.ours_seconds, row.ours_repeats) =
          median_seconds([&] { run_parallel(jobs, t, one); }, repeats, warmup);
      // The first call also writes the peer's outputs of one pass, compared below.
      run_peer_row(row, fmt::format("preprocess --config {} --pipelines {} --passes {}{} {}",
                                    shell_quote((clip_dir / "preprocessor_config.json").string()), pipeline, passes,
                                    t == 1 ? " --out " + shell_quote(dir.string()) : std::string(),
                                    fmt::join(quoted_files, " ")));
      rows.push_back(row);
    }
    run_parallel(files.size(), 1, one);
    first_pass[pipeline].assign(outputs.begin(), outputs.begin() + static_cast<std::ptrdiff_t>(files.size()));
  }

  // Input batches for encoding: the real images, CLIP- and ResNet-preprocessed, cycled to the batch;
  // the peer reads the same batches.
  auto batch_of = [&](const std::vector<vikcse::PlanarImage>& images, std::int64_t batch) {
    std::vector<torch::Tensor> items;
    for (std::int64_t i = 0; i < batch; ++i) {
      const auto& x = images[static_cast<std::size_t>(i) % images.size()];
      items.push_back(torch::from_blob(const_cast<float*>(x.values.data()), {x.channels, x.height, x.width}).clone());
    }
    return torch::stack(items);
  };
  const auto clip_pixels = batch_of(first_pass["clip"], clip_batch);
  const auto resnet_pixels = batch_of(first_pass["resnet"], resnet_batch);
  write_floats(dir / "clip_pixels.f32", clip_pixels);
  write_floats(dir / "resnet_pixels.f32", resnet_pixels);

  // ---- 2. encoding ---------------------------------------------------------------------------
  auto clip_config = vikcse::ClipConfig::from_json_file(clip_dir / "config.json");
  if (quick) {
    clip_config.vision.hidden_size = 64;
    clip_config.vision.intermediate_size = 128;
    clip_config.vision.num_hidden_layers = 2;
    clip_config.vision.num_attention_heads = 4;
    clip_config.text.hidden_size = 32;
    clip_config.text.intermediate_size = 64;
    clip_config.text.num_hidden_layers = 1;
    clip_config.text.num_attention_heads = 2;
    clip_config.projection_dim = 32;
  }
  const auto& vision = clip_config.vision;
  auto resnet_architecture = vikcse::ResNetOptions::resnet50();
  if (quick) resnet_architecture.layers({1, 1, 1, 1});
  torch::manual_seed(0);
  std::int64_t clip_parameters = 0, resnet_parameters = 0;
  std::map<std::string, std::int64_t> peer_parameters;
  {
    vikcse::ClipModel clip(clip_config);
    clip->eval();
    clip_parameters =
        parameter_count(clip->vision_model->parameters()) + parameter_count(clip->visual_projection->parameters());
    for (int t : thread_counts) {
      torch::set_num_threads(t);
      Row row;
      row.mode = "encode";
      row.name = "clip";
      row.stage = fmt::format("CLIP {}/{} image_features, batch {}", vision.num_hidden_layers == 12 ? "ViT-B" : "ViT",
                              vision.patch_size, clip_batch);
      row.what = "ClipModel::image_features";
      row.threads = t;
      row.images = static_cast<double>(clip_batch);
      {
        torch::InferenceMode guard;
        std::tie(row.ours_seconds, row.ours_repeats) =
            median_seconds([&] { (void)clip->image_features(clip_pixels); }, repeats, warmup);
      }
      const auto line =
          run_peer_row(row, fmt::format("encode --clip-pixels {} --clip-shape {} --clip-vision {},{},{},{},{},{},{}",
                                        shell_quote((dir / "clip_pixels.f32").string()),
                                        fmt::join(clip_pixels.sizes(), ","), vision.hidden_size,
                                        vision.intermediate_size, vision.num_hidden_layers, vision.num_attention_heads,
                                        vision.patch_size, clip_config.projection_dim, vision.layer_norm_eps));
      if (!line.is_null()) peer_parameters["clip"] = line.value("parameters", std::int64_t{0});
      rows.push_back(row);
    }
  }
  {
    vikcse::ResNet resnet(resnet_architecture);
    resnet->eval();
    resnet_parameters = parameter_count(resnet->parameters());
    for (int t : thread_counts) {
      torch::set_num_threads(t);
      Row row;
      row.mode = "encode";
      row.name = "resnet";
      row.stage = fmt::format("ResNet-{} features, batch {}", quick ? "tiny" : "50", resnet_batch);
      row.what = "ResNet::forward";
      row.threads = t;
      row.images = static_cast<double>(resnet_batch);
      {
        torch::InferenceMode guard;
        std::tie(row.ours_seconds, row.ours_repeats) =
            median_seconds([&] { (void)resnet->forward(resnet_pixels); }, repeats, warmup);
      }
      const auto line = run_peer_row(
          row, fmt::format("encode --resnet-pixels {} --resnet-shape {} --resnet-layers {}",
                           shell_quote((dir / "resnet_pixels.f32").string()), fmt::join(resnet_pixels.sizes(), ","),
                           fmt::join(resnet_architecture.layers(), ",")));
      if (!line.is_null()) peer_parameters["resnet"] = line.value("parameters", std::int64_t{0});
      rows.push_back(row);
    }
  }
  const double our_rss = vikcse::bench::peak_rss_mib();

  // ---- the checks that make the times comparable: the same outputs, models of the same size ----
  std::string peer_note = "skipped (--python none)";
  std::vector<std::string> checks;
  bool agreed = true;
  if (python != "none") {
    for (const std::string pipeline : {"clip", "resnet"}) {
      const auto theirs = read_floats(dir / (pipeline + ".f32"));
      std::size_t offset = 0;
      double max_diff = 0.0;
      bool sized = true;
      for (const auto& x : first_pass[pipeline]) {
        if (offset + x.values.size() > theirs.size()) {
          sized = false;
          break;
        }
        for (std::size_t i = 0; i < x.values.size(); ++i) {
          max_diff = std::max(max_diff, static_cast<double>(std::abs(x.values[i] - theirs[offset + i])));
        }
        offset += x.values.size();
      }
      sized = sized && offset == theirs.size();
      agreed = agreed && sized && max_diff == 0.0;
      checks.push_back(
          sized ? fmt::format("{} preprocessing: max |vikcse - peer| = {:.3g} over {} values of {} files{}", pipeline,
                              max_diff, offset, files.size(), max_diff == 0.0 ? " (identical)" : " (DIFFERENT)")
                : fmt::format("{} preprocessing: peer output missing or of another size (FAILED)", pipeline));
    }
    for (const auto& [name, ours] :
         std::map<std::string, std::int64_t>{{"clip", clip_parameters}, {"resnet", resnet_parameters}}) {
      const auto it = peer_parameters.find(name);
      const bool same = it != peer_parameters.end() && it->second == ours;
      agreed = agreed && same;
      checks.push_back(fmt::format("{} parameters: vikcse {}, peer {}{}", name, ours,
                                   it == peer_parameters.end() ? std::string("missing") : std::to_string(it->second),
                                   same ? " (same)" : " (DIFFERENT)"));
    }
    peer_note = peer_failures.empty() ? "Pillow 9.4 + numpy / torchvision 0.14, python3-torch 1.13 eager"
                                      : "FAILED:\n" + peer_failures;
    agreed = agreed && peer_failures.empty();
  }
  std::filesystem::remove_all(dir);

  fmt::print("\n| stage | threads | vikcse images/s | peer images/s | ratio |\n|---|---:|---:|---:|---:|\n");
  nlohmann::json results = nlohmann::json::array();
  for (const auto& row : rows) {
    const double ratio = row.peer_seconds > 0 ? row.ours_rate() / row.peer_rate() : 0.0;
    fmt::print("| {} | {} | {:.1f} | {} | {} |\n", row.stage, row.threads, row.ours_rate(),
               row.peer_seconds > 0 ? fmt::format("{:.1f}", row.peer_rate()) : "-",
               row.peer_seconds > 0 ? fmt::format("{:.2f}x", ratio) : "-");
    results.push_back({{"stage", row.stage},
                       {"vikcse", row.what},
                       {"threads", row.threads},
                       {"images_per_repeat", row.images},
                       {"vikcse_images_per_s", row.ours_rate()},
                       {"peer_images_per_s", row.peer_rate()},
                       {"ratio_vikcse_over_peer", ratio},
                       {"vikcse_repeat_seconds", row.ours_repeats},
                       {"peer_repeat_seconds", row.peer_repeats}});
  }
  fmt::print("\npeer: {}\n", peer_note);
  fmt::print(
      "peer threads: preprocessing on 1 thread, or N threads of a ThreadPoolExecutor in one process; encoding with "
      "torch.set_num_threads(N); each row's peer ran right after vikcse's\n");
  for (const auto& check : checks) fmt::print("check: {}\n", check);
  fmt::print(
      "preprocessing: {} files x {} pass(es) per repeat; encoding: random weights, float32, eval, vikcse under "
      "InferenceMode, peer under no_grad, the same input batches; CLIP vision {} layers, hidden {}, patch {}, image "
      "{}\n"
      "ratio = vikcse images/s / peer images/s; peak RSS vikcse {:.0f} MiB\n",
      files.size(), passes, vision.num_hidden_layers, vision.hidden_size, vision.patch_size, vision.image_size,
      our_rss);
  if (!json_path.empty()) {
    nlohmann::json doc{{"benchmark", "stage1_throughput"},
                       {"cpu", cpu_model()},
                       {"hardware_threads", hardware},
                       {"threads", thread_counts},
                       {"repeats", repeats},
                       {"warmup", warmup},
                       {"passes", passes},
                       {"files", files.size()},
                       {"quick", quick},
                       {"peer", peer_note},
                       {"checks", checks},
                       {"agreed", agreed},
                       {"peak_rss_mib", our_rss},
                       {"results", results}};
    vikcse::detail::write_text_atomically(json_path, doc.dump(2) + "\n");
  }
  return agreed ? 0 : 1;
}
