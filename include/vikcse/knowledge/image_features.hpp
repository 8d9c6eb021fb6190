// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file image_features.hpp
/// Stage 1 from photos: image (and caption) features of a whole image–caption set, in batches, with
/// the decoding of the next batch overlapped with the encoding of this one, resumable after a kill.
///
/// The model is the caller's (`Stage1Encoder`: CLIP, ResNet-50, ...); this file owns the loop:
///  - decoding + preprocessing run on `decode_threads` threads (torch-free code), one batch ahead;
///  - a finished batch is written at once to `resume_dir` as `batch-NNNNNN.safetensors` (atomically,
///    with its caption rows), next to a `manifest.json` naming the model, the preprocessing, the
///    batch size and digests of the image list and captions; a new run with the same manifest loads
///    those batches and encodes only the rest, one with another manifest is refused;
///  - a file that cannot be decoded stops the run with an error naming it and its row ("image 20000 of
///    29000"), or, with `skip_bad_images`, is left out (its caption too, so rows stay paired) and counted.

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/image/decode.hpp>
#include <vikcse/image/image.hpp>
#include <vikcse/knowledge/feature_file.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vikcse {

/// The model side of stage 1, supplied by the caller.
struct Stage1Encoder {
  /// Decoded RGB image -> the model's input `[3, S, S]` (called on the decoding threads).
  std::function<PlanarImage(const Image&)> preprocess;
  /// `[B, 3, S, S]` float32 pixels (CPU) -> `[B, D]` features.
  std::function<torch::Tensor(const torch::Tensor&)> encode_images;
  /// Captions -> `[B, Dt]` features; empty: image features only.
  std::function<torch::Tensor(const std::vector<std::string>&)> encode_texts;
  /// Names the model and its preprocessing; stored in the manifest and the output's metadata.
  std::string identity;
  /// L2-normalise every row (CLIP's image_embeds / text_embeds); false keeps the raw features (ResNet).
  bool normalize = true;
};

/// Settings of `extract_stage1_features`.
struct Stage1Options {
  std::int64_t batch_size = 64;  ///< images per encoder call
  int decode_threads = 2;        ///< threads decoding and preprocessing the next batch
  bool skip_bad_images = false;  ///< leave undecodable images (and their captions) out instead of failing
  DecodeOptions decode;          ///< how files become RGB (alpha rule, EXIF orientation)
  /// Where finished batches are kept; empty: the run is not resumable.
  std::filesystem::path resume_dir;
  /// Called after each batch with (rows done, rows in all), also for batches loaded from `resume_dir`.
  std::function<void(std::size_t, std::size_t)> on_progress;
  /// For tests of resumption: stop (as a kill would) after encoding this many batches; 0: never.
  std::size_t stop_after_batches = 0;
};

/// What `extract_stage1_features` returns.
struct Stage1Features {
  torch::Tensor image;                ///< `[N, D]` float32, one row per kept image
  torch::Tensor text;                 ///< `[N, Dt]` float32 of their captions, or undefined
  std::vector<std::int64_t> rows;     ///< the caption row (image index) of each output row
  std::vector<std::string> skipped;   ///< "path: reason" of each image left out
  std::size_t batches_loaded = 0;     ///< batches taken from `resume_dir` instead of encoded
  bool complete = true;               ///< false when `stop_after_batches` ended the run early
};

namespace detail {

/// FNV-1a 64 of a list of strings (each followed by '\n'), as hex: the manifest's digests.
inline std::string digest_lines(const std::vector<std::string>& lines) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& s : lines) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ '\n') * 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", h);
}

/// The decoded and preprocessed images of rows [begin, end): values or an error message each.
struct DecodedBatch {
  std::vector<std::optional<PlanarImage>> images;
  std::vector<std::string> errors;  ///< "" where the image decoded
};

inline DecodedBatch decode_batch(const std::vector<std::filesystem::path>& paths, std::size_t begin, std::size_t end,
                                 const Stage1Encoder& encoder, const Stage1Options& options) {
  DecodedBatch out;
  const std::size_t n = end - begin;
  out.images.resize(n);
  out.errors.assign(n, std::string());
  auto work = [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      try {
        out.images[i] = encoder.preprocess(read_image(paths[begin + i], options.decode));
      } catch (const std::exception& e) {
        out.errors[i] = e.what();
      }
    }
  };
  const std::size_t threads = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(options.decode_threads, 1)), 1, n);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, n * t / threads, n * (t + 1) / threads);
  work(0, n / threads);
  for (auto& th : pool) th.join();
  return out;
}

inline torch::Tensor l2_rows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1));
}

}  // namespace detail

/// Image features (and caption features when `texts` is given and the encoder has `encode_texts`)
/// of `images`, row-aligned with `texts`. See the file comment for batching, resumption and bad files.
/// @throws vikcse::data_error for a count mismatch, an undecodable image (without `skip_bad_images`,
///         naming the file and its row), or a `resume_dir` left by another model, image list or
///         batch size; vikcse::invalid_argument for bad options.
inline Stage1Features extract_stage1_features(const std::vector<std::filesystem::path>& images,
                                              const std::vector<std::string>* texts, const Stage1Encoder& encoder,
                                              const Stage1Options& options) {
  namespace fs = std::filesystem;
  if (options.batch_size <= 0) throw_error<invalid_argument>("stage 1: batch_size must be positive, got {}", options.batch_size);
  if (!encoder.preprocess || !encoder.encode_images) {
    throw_error<invalid_argument>("stage 1: the encoder needs preprocess and encode_images");
  }
  if (images.empty()) throw_error<data_error>("stage 1: no images");
  const bool with_text = texts != nullptr && static_cast<bool>(encoder.encode_texts);
  if (texts != nullptr && texts->size() != images.size()) {
    throw_error<data_error>("stage 1: {} images but {} captions: row i of each must describe the same image",
                            images.size(), texts->size());
  }
  const std::size_t total = images.size();
  const auto batch = static_cast<std::size_t>(options.batch_size);
  const std::size_t batches = (total + batch - 1) / batch;

  // the resume directory: a manifest that must match, then one file per finished batch
  const bool resumable = !options.resume_dir.empty();
  if (resumable) {
    std::vector<std::string> names;
    names.reserve(images.size());
    for (const auto& p : images) names.push_back(p.string());
    const nlohmann::json manifest = {{"identity", encoder.identity},
                                     {"batch_size", options.batch_size},
                                     {"rows", total},
                                     {"text", with_text},
                                     {"normalize", encoder.normalize},
                                     {"skip_bad_images", options.skip_bad_images},
                                     {"images", detail::digest_lines(names)},
                                     {"captions", texts != nullptr ? detail::digest_lines(*texts) : ""}};
    const auto path = options.resume_dir / "manifest.json";
    if (fs::exists(path)) {
      nlohmann::json old;
      try {
        std::ifstream in(path);
        in >> old;
      } catch (const nlohmann::json::exception& e) {
        throw_error<data_error>("{}: not valid JSON ({}); remove the directory to start again", path.string(), e.what());
      }
      for (const auto& [key, value] : manifest.items()) {
        if (!old.contains(key) || old[key] != value) {
          throw_error<data_error>("{}: the unfinished run there used {} = {}, this one {}; rerun with the same model, "
                                  "images, captions and batch size, or remove the directory",
                                  path.string(), key, old.contains(key) ? old[key].dump() : "nothing", value.dump());
        }
      }
    } else {
      std::error_code ec;
      fs::create_directories(options.resume_dir, ec);
      if (ec) throw_error<data_error>("{}: cannot create: {}", options.resume_dir.string(), ec.message());
      detail::write_text_atomically<data_error>(path, manifest.dump(2) + "\n");
    }
  }
  auto chunk_path = [&](std::size_t b) { return options.resume_dir / fmt::format("batch-{:06d}.safetensors", b); };

  Stage1Features out;
  std::vector<torch::Tensor> image_parts, text_parts;
  std::size_t done_rows = 0, encoded = 0;
  std::future<detail::DecodedBatch> next;
  auto start_decoding = [&](std::size_t b) {
    const std::size_t begin = b * batch, end = std::min(total, begin + batch);
    return std::async(std::launch::async, [&, begin, end] { return detail::decode_batch(images, begin, end, encoder, options); });
  };
  auto pending = [&](std::size_t b) { return !(resumable && fs::exists(chunk_path(b))); };
  // the first batch still to encode starts decoding at once
  std::size_t first = 0;
  while (first < batches && !pending(first)) ++first;
  if (first < batches) next = start_decoding(first);

  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t begin = b * batch, end = std::min(total, begin + batch);
    torch::Tensor img, txt, rows_t;
    std::vector<std::string> skipped;
    if (!pending(b)) {  // finished by an earlier run
      const auto file = SafetensorsFile::open(chunk_path(b));
      img = file.load("image");
      if (with_text) txt = file.load("text");
      rows_t = file.load("rows");
      if (file.metadata().contains("skipped")) {
        for (const auto& s : nlohmann::json::parse(file.metadata().at("skipped"))) skipped.push_back(s.get<std::string>());
      }
      ++out.batches_loaded;
    } else {
      if (options.stop_after_batches > 0 && encoded == options.stop_after_batches) {
        out.complete = false;
        if (next.valid()) next.wait();
        break;
      }
      auto decoded = next.get();
      std::size_t following = b + 1;
      while (following < batches && !pending(following)) ++following;
      if (following < batches) next = start_decoding(following);  // overlaps with the encoding below
      std::vector<torch::Tensor> pixels;
      std::vector<std::int64_t> kept;
      std::vector<std::string> captions;
      for (std::size_t i = 0; i < decoded.images.size(); ++i) {
        const std::size_t row = begin + i;
        if (!decoded.images[i]) {
          if (!options.skip_bad_images) {
            if (next.valid()) next.wait();
            throw_error<data_error>("image {} of {} ({}): {} (pass skip_bad_images / --skip-bad-images to leave "
                                    "undecodable images out)",
                                    row + 1, total, images[row].string(), decoded.errors[i]);
          }
          skipped.push_back(fmt::format("{}: {}", images[row].string(), decoded.errors[i]));
          continue;
        }
        auto& p = *decoded.images[i];
        pixels.push_back(torch::from_blob(p.values.data(), {p.channels, p.height, p.width}, torch::kFloat).clone());
        kept.push_back(static_cast<std::int64_t>(row));
        if (with_text) captions.push_back((*texts)[row]);
      }
      rows_t = torch::tensor(kept, torch::kLong);
      if (kept.empty()) {
        img = torch::empty({0, 0});
        if (with_text) txt = torch::empty({0, 0});
      } else {
        torch::NoGradGuard no_grad;
        img = encoder.encode_images(torch::stack(pixels)).to(torch::kCPU, torch::kFloat);
        if (encoder.normalize) img = detail::l2_rows(img);
        if (with_text) {
          txt = encoder.encode_texts(captions).to(torch::kCPU, torch::kFloat);
          if (encoder.normalize) txt = detail::l2_rows(txt);
        }
      }
      if (resumable) {
        std::map<std::string, torch::Tensor> tensors = {{"image", img.contiguous()}, {"rows", rows_t}};
        if (with_text) tensors.emplace("text", txt.contiguous());
        save_safetensors(chunk_path(b), tensors, {{"skipped", nlohmann::json(skipped).dump()}});
      }
      ++encoded;
    }
    if (img.size(0) > 0) {
      image_parts.push_back(img);
      if (with_text) text_parts.push_back(txt);
    }
    const auto* kept_rows = rows_t.data_ptr<std::int64_t>();
    out.rows.insert(out.rows.end(), kept_rows, kept_rows + rows_t.size(0));
    out.skipped.insert(out.skipped.end(), skipped.begin(), skipped.end());
    done_rows = end;
    if (options.on_progress) options.on_progress(done_rows, total);
  }
  if (image_parts.empty() && out.complete) throw_error<data_error>("stage 1: no image could be decoded");
  if (!image_parts.empty()) {
    out.image = torch::cat(image_parts);
    if (with_text) out.text = torch::cat(text_parts);
  }
  return out;
}

/// Writes stage 1's result as the knowledge-base file stage 2 reads (`load_features`): `.safetensors`
/// with `features` (the image rows), `text_features` when present and `caption_rows` (int64: the caption
/// line of each row), plus `metadata`; or `.npy` with the image rows only. Atomic (temp file, rename).
/// @throws vikcse::data_error for another extension, or text features asked of a `.npy` file.
inline void save_stage1_features(const std::filesystem::path& path, const Stage1Features& features,
                                 std::map<std::string, std::string> metadata) {
  const auto ext = path.extension().string();
  metadata["rows"] = std::to_string(features.rows.size());
  metadata["skipped"] = std::to_string(features.skipped.size());
  if (ext == ".safetensors") {
    std::map<std::string, torch::Tensor> tensors = {{"features", features.image.contiguous()},
                                                    {"caption_rows", torch::tensor(features.rows, torch::kLong)}};
    if (features.text.defined()) tensors.emplace("text_features", features.text.contiguous());
    save_safetensors(path, tensors, metadata);
  } else if (ext == ".npy") {
    if (features.text.defined()) {
      throw_error<data_error>("{}: a .npy file holds one matrix; write .safetensors to keep the text features too",
                              path.string());
    }
    save_npy(path, features.image);
  } else {
    throw_error<data_error>("{}: expected a .safetensors or .npy file name, got extension '{}'", path.string(), ext);
  }
}

}  // namespace vikcse
