// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file build_kb_options.hpp
/// vikcse_build_kb's command line. Torch-free, so that the fuzz target `fuzz_cli` can parse arbitrary
/// command lines with the program's own parser.

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace vikcse::cli::build_kb {

struct Args {
  std::optional<std::filesystem::path> clip, resnet;
  std::filesystem::path images;
  std::optional<std::filesystem::path> captions, out, eval_json;
  bool text_features = false, bf16 = false, skip_bad_images = false, eval = false, resume = true;
  std::string device = "cpu", alpha = "drop";
  int batch_size = 64, decode_threads = 2, threads = 0;
  std::optional<std::filesystem::path> finetune;  ///< write the fine-tuned CLIP here, then build with it
  int finetune_validation = 0, finetune_batch_size = 128, finetune_max_steps = 0, finetune_eval_steps = 50,
      finetune_patience = 10, finetune_warmup = 50, finetune_epochs = 20;
  double finetune_lr = 3e-6;
  int projection_dim = 0;  ///< > 0: train bias-free projectors image/text -> D and write the projected bank
  bool progress = true;
};

inline void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_build_kb: stage 1 from photos. Encodes every image (and, with --text-features, its caption) with a "
      "CLIP checkpoint (VIKCSE's visual knowledge base) or a ResNet-50 (MCSE's image features) and writes the "
      "file stage 2 reads (vikcse_reproduce --kb / --image-features)");
  app.footer(
      "Row i of the output is image i (directory: file names in byte order; list: line order) and caption line i.\n"
      "A killed run continues where it stopped when started again with the same options (finished batches are kept "
      "in OUT.partial/).\nExample: vikcse_build_kb --clip clip-vit-base-patch32 --images flickr30k-images.txt "
      "--captions flickr30k-captions.txt --out kb.safetensors");
  const char* model = "Model (one of)";
  auto* clip = app.add_option("--clip", a.clip,
                              "a Hugging Face CLIPModel directory (config.json, model.safetensors, tokenizer files, "
                              "preprocessor_config.json)")
                   ->check(CLI::ExistingDirectory)
                   ->group(model);
  auto* resnet = app.add_option("--resnet", a.resnet,
                                "a torchvision ResNet-50 state dict (.safetensors file, or a directory holding "
                                "model.safetensors): MCSE's 2048-d features")
                     ->check(CLI::ExistingPath)
                     ->group(model);
  clip->excludes(resnet);
  resnet->excludes(clip);
  const char* input = "Input";
  app.add_option("--images", a.images, "a directory of .jpg/.jpeg/.png files, or a list file with one path per line")
      ->required()
      ->check(CLI::ExistingPath)
      ->group(input);
  app.add_option("--captions", a.captions, "one caption per line, line i describing image i (needed with --clip)")
      ->check(CLI::ExistingFile)
      ->group(input);
  const char* output = "Output";
  app.add_option("--out", a.out, "the knowledge base: .safetensors (features, text_features, caption_rows, "
                                 "metadata) or .npy (image features only); written atomically")
      ->check(writable_file())
      ->group(output);
  app.add_flag("--text-features", a.text_features, "also write the captions' CLIP text features (text_features)")
      ->group(output);
  app.add_option("--projection-dim", a.projection_dim,
                 "the reference's variant: new bias-free projections into D dimensions (e.g. 768, BERT-base's width); "
                 "with --finetune they replace CLIP's and are fine-tuned with the rest of CLIP, without it they are "
                 "trained on the fixed image and caption features; the knowledge base is the projected, normalised "
                 "image rows (0: CLIP's own embedding)")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group(output);
  app.add_flag("--eval", a.eval,
               "the zero-shot retrieval check: image->text and text->image Recall@1/5/10 over these pairs (give the "
               "test split's images and captions)")
      ->group(output);
  app.add_option("--eval-json", a.eval_json, "write the retrieval results as JSON here")
      ->check(writable_file())
      ->group(output);
  const char* run = "Run";
  app.add_option("--batch-size", a.batch_size, "images per encoder call")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(run);
  app.add_flag("--bf16", a.bf16, "bfloat16 autocast (features are still written as float32)")->group(run);
  app.add_option("--device", a.device, "where the model runs: cpu, cuda or cuda:N")
      ->check(device_name())
      ->capture_default_str()
      ->group(run);
  app.add_option("--decode-threads", a.decode_threads, "threads decoding the next batch while this one is encoded")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(run);
  app.add_flag("--skip-bad-images", a.skip_bad_images,
               "leave out images that cannot be decoded (and their captions), counting and naming them, instead of "
               "stopping at the first")
      ->group(run);
  app.add_option("--alpha", a.alpha,
                 "transparent images: drop the alpha channel (transformers' load_image) or composite on white "
                 "(CLIPImageProcessor given a PIL image)")
      ->check(CLI::IsMember({"drop", "white"}))
      ->capture_default_str()
      ->group(run);
  app.add_flag_callback(
         "--no-resume", [&a] { a.resume = false; }, "do not keep finished batches in OUT.partial/ (a kill loses them)")
      ->group(run);
  const char* ft = "Fine-tuning CLIP first (optional; the reference's hyper-parameters are the defaults)";
  app.add_option("--finetune", a.finetune,
                 "fine-tune the CLIP model on these image-caption pairs with CLIP's symmetric loss (AdamW, cosine "
                 "schedule with warm-up, validation, early stopping, best weights reloaded), save it in DIR, then build "
                 "the knowledge base with it")
      ->check(writable_file())
      ->group(ft);
  app.add_option("--finetune-validation", a.finetune_validation,
                 "the last N pairs are the validation split (0: a tenth, at most 1000)")
      ->check(non_negative_integer())
      ->group(ft);
  app.add_option("--finetune-batch-size", a.finetune_batch_size, "pairs per step")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(ft);
  app.add_option("--finetune-lr", a.finetune_lr, "peak learning rate")->check(positive_real())->capture_default_str()->group(ft);
  app.add_option("--finetune-epochs", a.finetune_epochs, "passes over the training pairs")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(ft);
  app.add_option("--finetune-max-steps", a.finetune_max_steps, "stop after N steps (0: the epochs decide)")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group(ft);
  app.add_option("--finetune-warmup", a.finetune_warmup, "warm-up steps of the cosine schedule")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group(ft);
  app.add_option("--finetune-eval-steps", a.finetune_eval_steps, "validate every N steps")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(ft);
  app.add_option("--finetune-patience", a.finetune_patience, "stop after N validations without improvement")
      ->check(positive_integer())
      ->capture_default_str()
      ->group(ft);
  add_run_options(app, a.threads, a.progress);
}

/// What CLI11 cannot check of one option alone.
inline void check(const Args& a) {
  if (!a.clip && !a.resnet) throw vikcse::invalid_argument("give a model: --clip DIR or --resnet PATH");
  if (a.clip && !a.captions) throw vikcse::invalid_argument("--clip needs --captions (one caption per image)");
  if (!a.out && !a.eval) throw vikcse::invalid_argument("nothing to do: give --out FILE, --eval, or both");
  if (a.eval && !a.clip) throw vikcse::invalid_argument("--eval ranks captions against images: it needs --clip");
  if (a.text_features && !a.clip) throw vikcse::invalid_argument("--text-features needs --clip");
  if (a.finetune && !a.clip) throw vikcse::invalid_argument("--finetune fine-tunes CLIP: it needs --clip");
  if (a.projection_dim > 0 && !a.clip) {
    throw vikcse::invalid_argument("--projection-dim trains on image-caption pairs: it needs --clip");
  }
  if (a.eval_json && !a.eval) throw vikcse::invalid_argument("--eval-json needs --eval");
  if (a.out && a.out->extension() != ".safetensors" && a.out->extension() != ".npy") {
    throw vikcse::invalid_argument("--out " + a.out->string() + ": expected a .safetensors or .npy file name");
  }
  if (a.out && a.text_features && a.out->extension() == ".npy") {
    throw vikcse::invalid_argument("--text-features needs a .safetensors --out (a .npy file holds one matrix)");
  }
}

}  // namespace vikcse::cli::build_kb
