// SPDX-License-Identifier: Apache-2.0
// Tokens per second of vikcse's WordPiece (bert-base-uncased) and byte-level BPE (roberta-base)
// tokenizers, one thread and batched over several threads, against Hugging Face's tokenizers
// (the npm package `tokenizers`: Rust with Node bindings, tests/tokenizer/reference/bench_peer.js)
// on the same sentences in the same run. Both sides add special tokens and do not pad.
#include "support/benchmark_support.hpp"

#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#ifndef VIKCSE_TOKENIZER_REFERENCE_DIR
#define VIKCSE_TOKENIZER_REFERENCE_DIR "tests/tokenizer/reference"
#endif

namespace {

constexpr const char* description = R"(tokenizer_throughput: tokens/s of vikcse's tokenizers against Hugging Face's (npm
`tokenizers`) on the same sentences, in the same run.)";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Measure {
  std::size_t tokens = 0;
  double seconds = 0;
  [[nodiscard]] double rate() const { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0; }
};

template <typename Tok>
Measure single_thread(const Tok& tok, const std::vector<std::string>& sentences, int repeats) {
  Measure m;
  m.seconds = 1e300;
  for (int r = 0; r <= repeats; ++r) {  // pass 0 warms up
    std::size_t tokens = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& s : sentences) tokens += tok.encode(s).size();
    const double s = seconds_since(t0);
    if (r > 0) m.seconds = std::min(m.seconds, s);
    m.tokens = tokens;
  }
  return m;
}

template <typename Tok>
Measure batched(const Tok& tok, const std::vector<std::string>& sentences, int repeats, unsigned threads) {
  vikcse::BatchEncodingOptions o;
  o.truncation = vikcse::Truncation::none;  // as the peer: no truncation, no padding
  o.threads = threads;
  Measure m;
  m.seconds = 1e300;
  for (int r = 0; r <= repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto rows = vikcse::encode_all(tok, sentences, o);
    const double s = seconds_since(t0);
    if (r > 0) m.seconds = std::min(m.seconds, s);
    m.tokens = 0;
    for (const auto& row : rows) m.tokens += row.size();
  }
  return m;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_data = std::getenv("VIKCSE_DATA_DIR");
  std::string data_text = env_data != nullptr ? env_data : "../shared/data", file_text, node = "node", json_path;
  int repeats = 5;
  unsigned threads = 2;
  CLI::App app{description, "tokenizer_throughput"};
  app.option_defaults()->always_capture_default();
  auto* data_option =
      app.add_option("--data", data_text,
                     "shared data directory, with tokenizers/ (default: $VIKCSE_DATA_DIR, else ../shared/data)")
          ->check(CLI::ExistingDirectory);
  auto* file_option =
      app.add_option("--file", file_text, "sentences, one per line (default: DIR/corpora/wiki1m-subset.txt)")
          ->check(CLI::ExistingFile);
  app.add_option("--repeats", repeats, "timed passes; the best is reported")->check(vikcse::cli::positive_integer());
  app.add_option("--threads", threads, "threads of the batch mode, both sides")->check(vikcse::cli::positive_integer());
  app.add_option("--node", node, "node executable; 'none' skips the peer");
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  try {
    app.parse(argc, argv);
    // The defaults are checked too (CLI11 checks given values only), and the tokenizers the program reads.
    vikcse::cli::validate(data_option, data_text, CLI::ExistingDirectory);
    if (file_text.empty()) {
      file_text = (std::filesystem::path(data_text) / "corpora" / "wiki1m-subset.txt").string();
      vikcse::cli::validate(file_option, file_text, CLI::ExistingFile);
    }
    for (const char* name : {"bert-base-uncased", "roberta-base"}) {
      vikcse::cli::validate(data_option, (std::filesystem::path(data_text) / "tokenizers" / name).string(),
                            CLI::ExistingDirectory);
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::filesystem::path data = data_text, file = file_text;

  std::vector<std::string> sentences;
  {
    const std::string bytes = vikcse::detail::read_file_bytes(file);
    for (auto line : vikcse::detail::split_lines(bytes)) sentences.emplace_back(line);
  }
  const auto bert = vikcse::WordPieceTokenizer::from_directory(data / "tokenizers" / "bert-base-uncased");
  const auto roberta = vikcse::ByteLevelBpeTokenizer::from_directory(data / "tokenizers" / "roberta-base");

  nlohmann::json results;
  results["file"] = file.string();
  results["sentences"] = sentences.size();
  results["threads"] = threads;
  results["repeats"] = repeats;
  std::map<std::string, std::pair<Measure, Measure>> ours;
  ours["bert"] = {single_thread(bert, sentences, repeats), batched(bert, sentences, repeats, threads)};
  ours["roberta"] = {single_thread(roberta, sentences, repeats), batched(roberta, sentences, repeats, threads)};

  // The peer, in the same run: one thread, then `threads` threads.
  const std::filesystem::path ref_dir = VIKCSE_TOKENIZER_REFERENCE_DIR;
  nlohmann::json peer_single, peer_batch;
  std::string peer_note;
  if (node == "none") {
    peer_note = "peer skipped (--node none)";
  } else if (!std::filesystem::exists(ref_dir / "node_modules" / "tokenizers")) {
    peer_note = fmt::format("peer skipped: the npm package 'tokenizers' is not installed; run `npm ci` in {}",
                            ref_dir.string());
  } else {
    const std::string base = fmt::format("cd {} && ", shell_quote(ref_dir.string()));
    const std::string script = fmt::format("{} bench_peer.js {} {}", shell_quote(node),
                                           shell_quote(std::filesystem::absolute(file).string()), repeats);
    auto single = vikcse::bench::run_peer(base + "TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 " + script);
    auto multi = vikcse::bench::run_peer(base + fmt::format("RAYON_NUM_THREADS={} ", threads) + script);
    if (single.lines.empty() || multi.lines.empty()) {
      peer_note = "peer failed: " + single.text + multi.text;
    } else {
      peer_single = single.lines.back();
      peer_batch = multi.lines.back();
    }
  }

  fmt::print("Tokenizers: {} ({} sentences), special tokens added, no padding; best of {} passes\n",
             file.filename().string(), sentences.size(), repeats);
  fmt::print("{:<10} {:<14} {:>16} {:>28} {:>8}\n", "tokenizer", "mode", "vikcse tok/s", "HF tokenizers (npm) tok/s",
             "ratio");
  bool counts_agree = true;
  for (const auto& [name, m] : ours) {
    for (int mode = 0; mode < 2; ++mode) {
      const Measure& mine = mode == 0 ? m.first : m.second;
      const auto& peer = mode == 0 ? peer_single : peer_batch;
      const std::string mode_name = mode == 0 ? "1 thread" : fmt::format("batch, {} thr", threads);
      nlohmann::json row = {{"tokenizer", name},
                            {"mode", mode_name},
                            {"tokens", mine.tokens},
                            {"vikcse_seconds", mine.seconds},
                            {"vikcse_tokens_per_s", mine.rate()}};
      if (!peer.is_null() && peer.contains(name)) {
        const double peer_tokens = peer[name]["tokens"].get<double>();
        const double peer_rate = peer_tokens / peer[name]["seconds"].get<double>();
        counts_agree = counts_agree && static_cast<std::size_t>(peer_tokens) == mine.tokens;
        row["peer_tokens_per_s"] = peer_rate;
        row["ratio"] = mine.rate() / peer_rate;
        fmt::print("{:<10} {:<14} {:>16.0f} {:>28.0f} {:>7.2f}x\n", name, mode_name, mine.rate(), peer_rate,
                   mine.rate() / peer_rate);
      } else {
        fmt::print("{:<10} {:<14} {:>16.0f} {:>28} {:>8}\n", name, mode_name, mine.rate(), "-", "-");
      }
      results["rows"].push_back(row);
    }
  }
  if (!peer_note.empty()) fmt::print("{}\n", peer_note);
  if (!counts_agree) {
    fmt::print(stderr, "error: token counts differ between vikcse and the peer\n");
    return 1;
  }
  if (!json_path.empty()) {
    std::ofstream(json_path) << results.dump(2) << "\n";
  }
  return 0;
}
