// SPDX-License-Identifier: Apache-2.0
/// @file build_kb.cpp
/// `vikcse_build_kb`: VIKCSE's stage 1 (and MCSE's image features) from photos, no Python.
///
///   vikcse_build_kb --clip clip-vit-base-patch32 --images flickr30k-images/ --captions captions.txt
///                   --out kb.safetensors [--text-features] [--batch-size 64] [--bf16] [--device cuda]
///   vikcse_build_kb --resnet resnet50.safetensors --images images.txt --out mcse-features.safetensors
///   vikcse_build_kb --clip DIR --images test-images.txt --captions test-captions.txt --eval
///
/// The output is what stage 2 reads: `vikcse_reproduce --method vikcse --kb kb.safetensors` or, for
/// MCSE, `--captions captions.txt --image-features mcse-features.safetensors`.

#include "support/build_kb_options.hpp"
#include "support/cli_checks.hpp"
#include "support/device.hpp"
#include "support/model_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/eval/image_text_retrieval.hpp>
#include <vikcse/knowledge/image_features.hpp>
#include <vikcse/knowledge/image_list.hpp>
#include <vikcse/knowledge/kb_builder.hpp>
#include <vikcse/knowledge/stage1_encoders.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/version.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using vikcse::cli::build_kb::Args;

/// The CLIP model, its tokenizer and its preprocessing from a Hugging Face directory.
vikcse::Stage1Encoder clip_encoder(const fs::path& dir, const vikcse::Stage1Precision& precision, bool text,
                                   vikcse::ClipImageOptions& image_options) {
  auto model = vikcse::ClipModel(vikcse::ClipModelImpl::from_pretrained(dir));
  if (fs::exists(dir / "preprocessor_config.json")) {
    image_options = vikcse::ClipImageOptions::from_file(dir / "preprocessor_config.json");
  } else {
    std::cerr << "vikcse_build_kb: " << (dir / "preprocessor_config.json").string()
              << " is missing: using openai/clip-vit-base-patch32's preprocessing\n";
  }
  std::shared_ptr<const vikcse::ByteLevelBpeTokenizer> tokenizer;
  if (text) {
    tokenizer = std::make_shared<const vikcse::ByteLevelBpeTokenizer>(vikcse::ByteLevelBpeTokenizer::from_directory(dir));
    if (tokenizer->vocab_size() > model->config().text.vocab_size) {
      throw vikcse::config_error(fmt::format("{}: the tokenizer has {} ids but the text tower has {} (vocab_size)",
                                             dir.string(), tokenizer->vocab_size(), model->config().text.vocab_size));
    }
  }
  return vikcse::clip_stage1_encoder(model, tokenizer, image_options, precision, fs::absolute(dir).string());
}

std::string percent(double v) { return fmt::format("{:6.2f}", v); }

/// Fine-tunes the CLIP of `a.clip` on the pairs (the last ones validate), saves it with the
/// tokenizer and preprocessing files in `a.finetune`, and returns that directory.
fs::path finetune_clip(const Args& a, const std::vector<fs::path>& images, const std::vector<std::string>& captions,
                       const vikcse::Stage1Precision& precision, const vikcse::DecodeOptions& decode) {
  const fs::path source = *a.clip;
  auto model = vikcse::ClipModelImpl::from_pretrained(source);
  auto tokenizer = std::make_shared<const vikcse::ByteLevelBpeTokenizer>(vikcse::ByteLevelBpeTokenizer::from_directory(source));
  const auto image_options = fs::exists(source / "preprocessor_config.json")
                                 ? vikcse::ClipImageOptions::from_file(source / "preprocessor_config.json")
                                 : vikcse::ClipImageOptions();
  const auto n = static_cast<std::int64_t>(images.size());
  const std::int64_t validation =
      a.finetune_validation > 0 ? a.finetune_validation : std::min<std::int64_t>(1000, std::max<std::int64_t>(1, n / 10));
  if (validation >= n) {
    throw vikcse::invalid_argument(fmt::format("--finetune-validation {} leaves no training pair of {}", validation, n));
  }
  std::vector<std::int64_t> train(static_cast<std::size_t>(n - validation)), held(static_cast<std::size_t>(validation));
  std::iota(train.begin(), train.end(), 0);
  std::iota(held.begin(), held.end(), n - validation);
  vikcse::ClipFinetuner tuner(vikcse::ClipFinetuneOptions()
                                  .learning_rate(a.finetune_lr)
                                  .batch_size(a.finetune_batch_size)
                                  .validation_batch_size(a.finetune_batch_size)
                                  .epochs(a.finetune_epochs)
                                  .max_steps(a.finetune_max_steps > 0 ? a.finetune_max_steps : -1)
                                  .warmup_steps(a.finetune_warmup)
                                  .eval_steps(a.finetune_eval_steps)
                                  .patience(a.finetune_patience)
                                  .device(precision.device));
  tuner.on_progress([&](const vikcse::ClipFinetuneProgress& p) {
    if (!p.validation_loss && p.step != p.total) return;  // a line per validation (logs stay short)
    std::cerr << fmt::format("fine-tune step {}/{}: loss {:.4f}, lr {:.3g}{}, best step {}, ETA {}\n", p.step, p.total,
                             p.loss, p.learning_rate,
                             p.validation_loss ? fmt::format(", validation {:.4f}", *p.validation_loss) : std::string(),
                             p.best_step, vikcse::format_duration(p.eta_seconds));
  });
  if (a.projection_dim > 0) {  // the reference's variant: new bias-free projections, trained with all of CLIP
    model->replace_projections(a.projection_dim);
    std::cerr << fmt::format("CLIP's projections replaced by new bias-free ones into {} dimensions\n",
                             a.projection_dim);
  }
  std::cerr << fmt::format("fine-tuning CLIP on {} pairs, validating on {}\n", train.size(), held.size());
  const auto batches = vikcse::clip_photo_batches(
      std::make_shared<const std::vector<fs::path>>(images), std::make_shared<const std::vector<std::string>>(captions),
      tokenizer, image_options, decode, static_cast<std::size_t>(model->config().text.max_position_embeddings),
      a.decode_threads);
  const auto report = tuner.fit(*model, batches, train, held);
  const fs::path out = *a.finetune;
  model->save_pretrained(out);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                        "preprocessor_config.json"}) {
    if (fs::exists(source / f)) fs::copy_file(source / f, out / f, fs::copy_options::overwrite_existing);
  }
  nlohmann::json j = {{"steps", report.steps},
                      {"best_step", report.best_step},
                      {"best_validation_loss", report.best_validation_loss},
                      {"stopped_early", report.stopped_early},
                      {"validation_steps", report.validation_steps},
                      {"validation_losses", report.validation_losses},
                      {"train_pairs", train.size()},
                      {"validation_pairs", held.size()}};
  vikcse::detail::write_text_atomically<vikcse::data_error>(out / "finetune_report.json", j.dump(2) + "\n");
  std::cerr << fmt::format("fine-tuned CLIP saved in {} (best validation loss {:.4f} at step {}{})\n", out.string(),
                           report.best_validation_loss, report.best_step, report.stopped_early ? ", stopped early" : "");
  return out;
}

int run(const Args& a) {
  vikcse::configure_threads(a.threads);
  const auto start = std::chrono::steady_clock::now();
  vikcse::Stage1Precision precision{vikcse::cli::resolve_device(a.device), a.bf16};
  const auto images = vikcse::list_images(a.images);
  std::vector<std::string> captions;
  if (a.captions) captions = vikcse::cli::read_lines(a.captions->string(), /*refuse_empty=*/false);
  if (a.captions && captions.size() != images.size()) {
    throw vikcse::data_error(fmt::format("{} has {} captions but {} lists {} images: line i must describe image i",
                                         a.captions->string(), captions.size(), a.images.string(), images.size()));
  }
  const bool want_text = a.clip && (a.text_features || a.eval || a.projection_dim > 0);
  vikcse::DecodeOptions decode;
  decode.alpha = a.alpha == "white" ? vikcse::AlphaMode::composite_on_white : vikcse::AlphaMode::drop;
  const fs::path clip_dir = a.finetune ? finetune_clip(a, images, captions, precision, decode) : a.clip.value_or(fs::path());
  vikcse::ClipImageOptions clip_image;
  const auto encoder = a.clip ? clip_encoder(clip_dir, precision, want_text, clip_image)
                              : vikcse::resnet_stage1_encoder(vikcse::load_resnet50(*a.resnet), {}, precision,
                                                              fs::absolute(*a.resnet).string());
  vikcse::Stage1Options options;
  options.batch_size = a.batch_size;
  options.decode_threads = a.decode_threads;
  options.skip_bad_images = a.skip_bad_images;
  options.decode = decode;
  if (a.out && a.resume) options.resume_dir = fs::path(a.out->string() + ".partial");
  vikcse::cli::EncodeProgress progress("stage 1", "img");
  if (a.progress) options.on_progress = std::ref(progress);
  std::cerr << fmt::format("{} images{} with {} on {}{}, batch {}\n", images.size(),
                           want_text ? " and their captions" : "", a.clip ? "CLIP" : "ResNet-50",
                           precision.device.str(), a.bf16 ? " (bf16 autocast)" : "", a.batch_size);
  const auto features = vikcse::extract_stage1_features(images, want_text ? &captions : nullptr, encoder, options);
  if (features.batches_loaded > 0) {
    std::cerr << fmt::format("resumed: {} finished batches taken from {}\n", features.batches_loaded,
                             options.resume_dir.string());
  }
  for (const auto& s : features.skipped) std::cerr << "skipped: " << s << "\n";
  auto written = features;
  if (a.projection_dim > 0 && !a.finetune) {  // the variant without fine-tuning: projectors on fixed features
    vikcse::KnowledgeBaseBuilder builder(vikcse::KnowledgeBaseBuilderOptions().projection_dim(a.projection_dim));
    builder.on_epoch([](std::int64_t epoch, double loss) {
      std::cerr << fmt::format("projectors: epoch {} loss {:.4f}\n", epoch, loss);
    });
    const auto kb = builder.build(features.image, features.text);
    written.image = kb.bank;
    written.text = kb.text_bank;
  }
  if (a.out) {
    std::map<std::string, std::string> metadata = {{"format", "vikcse stage-1 features"},
                                                   {"model", encoder.identity},
                                                   {"images", a.images.string()},
                                                   {"normalized", encoder.normalize ? "true" : "false"},
                                                   {"vikcse_version", fmt::format("{}.{}.{}", VIKCSE_VERSION_MAJOR, VIKCSE_VERSION_MINOR, VIKCSE_VERSION_PATCH)}};
    if (a.captions) metadata["captions"] = a.captions->string();
    if (a.projection_dim > 0) metadata["projection_dim"] = std::to_string(a.projection_dim);
    auto file = written;
    if (!a.text_features) file.text = torch::Tensor();
    vikcse::save_stage1_features(*a.out, file, metadata);
    if (!options.resume_dir.empty()) fs::remove_all(options.resume_dir);
    std::cerr << fmt::format("wrote {}: features [{}, {}]{}{}\n", a.out->string(), file.image.size(0),
                             file.image.size(1),
                             file.text.defined() ? fmt::format(", text_features [{}, {}]", file.text.size(0),
                                                               file.text.size(1))
                                                    : std::string(),
                             features.skipped.empty() ? std::string()
                                                      : fmt::format(", {} images skipped", features.skipped.size()));
  }
  if (a.eval) {
    const auto r = vikcse::image_text_recall(written.image, written.text);
    std::cout << fmt::format("Zero-shot retrieval over {} image-caption pairs\n\n", r.pairs);
    std::cout << "| direction    |   R@1  |   R@5  |  R@10  |\n|--------------|--------|--------|--------|\n";
    std::cout << fmt::format("| image → text | {} | {} | {} |\n", percent(r.image_to_text.at(1)),
                             percent(r.image_to_text.at(5)), percent(r.image_to_text.at(10)));
    std::cout << fmt::format("| text → image | {} | {} | {} |\n", percent(r.text_to_image.at(1)),
                             percent(r.text_to_image.at(5)), percent(r.text_to_image.at(10)));
    if (a.eval_json) {
      nlohmann::json j = {{"pairs", r.pairs}, {"skipped", features.skipped.size()}, {"model", encoder.identity}};
      for (const auto& [k, v] : r.image_to_text) j["image_to_text"][fmt::format("R@{}", k)] = v;
      for (const auto& [k, v] : r.text_to_image) j["text_to_image"][fmt::format("R@{}", k)] = v;
      vikcse::detail::write_text_atomically<vikcse::data_error>(*a.eval_json, j.dump(2) + "\n");
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("done in {:.1f} s ({:.1f} images/s)\n", seconds,
                           static_cast<double>(images.size()) / std::max(seconds, 1e-9));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  Args args;
  vikcse::cli::build_kb::add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  if (const auto code = vikcse::cli::check_usage("vikcse_build_kb", [&] { vikcse::cli::build_kb::check(args); })) {
    return *code;
  }
  try {
    return run(args);
  } catch (const vikcse::invalid_argument& e) {
    std::cerr << "vikcse_build_kb: " << e.what() << "\n";
    return vikcse::cli::exit_runtime_error;
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_build_kb: error: " << e.what() << "\n";
    return vikcse::cli::exit_runtime_error;
  }
}
