// SPDX-License-Identifier: Apache-2.0
// Semantic search at scale: vikcse::semantic_search (exact, query x corpus blocks merged into a
// running top k) against FAISS's exact flat index (vikcse::faiss_semantic_search, IndexFlatIP)
// and against the one-matrix peer (a full [Q, N] score matrix, then topk), over a random
// corpus, in the same run. Each method runs in its own child process, so its peak resident memory
// is its own; the corpus (the same seed) is made inside each child. Printed per method: the time
// to get ready (FAISS: copying the corpus into its index), queries/s, peak memory, and the hits
// that agree with semantic_search's.
#include "support/benchmark_support.hpp"

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/search/semantic_search.hpp>
#include <vikcse/threads.hpp>
#if defined(VIKCSE_WITH_FAISS)
#include <vikcse/search/faiss_search.hpp>
#endif

#include <torch/torch.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr const char* description = R"(vikcse_bench_search: exact semantic search (vikcse::semantic_search, blocked)
against FAISS's flat index and a full score matrix, over a random corpus, in the same run.)";

using Clock = std::chrono::steady_clock;

struct Setup {
  std::int64_t rows = 1000000, dim = 768, queries = 100, k = 10, chunk = 100000;
  int threads = 0;
  std::uint64_t seed = 0;
};

struct Result {
  double ready_s = 0, qps = 0, rss_mib = 0;
};

/// Runs `method` in a child process: makes the corpus, searches, writes the hits to `hits` and
/// returns what the child measured (through a pipe).
Result run_child(const std::string& method, const Setup& s, const std::filesystem::path& hits) {
  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    Result r;
    try {
      vikcse::configure_threads(s.threads);
      torch::manual_seed(s.seed);
      const auto corpus = torch::randn({s.rows, s.dim});
      const auto queries = torch::randn({s.queries, s.dim});
      vikcse::TopK top;
      vikcse::SemanticSearchOptions o;
      o.top_k = s.k;
      o.corpus_chunk_size = s.chunk;
      const auto start = Clock::now();
      if (method == "semantic_search") {
        top = vikcse::semantic_search(queries, corpus, o);
      } else if (method == "full_matrix") {
        const auto scores = torch::mm(queries / queries.norm(2, 1, true), (corpus / corpus.norm(2, 1, true)).t());
        auto [v, i] = scores.topk(s.k, 1);
        top = {v, i};
#if defined(VIKCSE_WITH_FAISS)
      } else if (method == "faiss_flat") {
        top = vikcse::faiss_semantic_search(queries, corpus, o);
#endif
      }
      const double total = std::chrono::duration<double>(Clock::now() - start).count();
      r.qps = static_cast<double>(s.queries) / total;
      r.rss_mib = vikcse::bench::peak_rss_mib();
      vikcse::save_safetensors(hits, {{"indices", top.indices.contiguous()}});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", method.c_str(), e.what());
      _exit(1);
    }
    if (write(fd[1], &r, sizeof r) != sizeof r) _exit(1);
    _exit(0);
  }
  close(fd[1]);
  Result r;
  const auto got = read(fd[0], &r, sizeof r);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(method + " failed in its child process");
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Setup s;
  std::optional<std::filesystem::path> json_path;
  CLI::App app{description, "vikcse_bench_search"};
  const auto positive = vikcse::cli::positive_integer();
  app.add_option("--rows", s.rows, "corpus rows")->check(positive)->capture_default_str();
  app.add_option("--dim", s.dim, "embedding width")->check(positive)->capture_default_str();
  app.add_option("--queries", s.queries, "queries")->check(positive)->capture_default_str();
  app.add_option("--k", s.k, "hits per query")->check(positive)->capture_default_str();
  app.add_option("--corpus-chunk", s.chunk, "semantic_search's corpus block")->check(positive)->capture_default_str();
  app.add_option("--threads", s.threads, "intra-op threads (0: hardware)")->check(vikcse::cli::non_negative_integer());
  app.add_option("--seed", s.seed, "random seed")->check(vikcse::cli::non_negative_integer());
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<std::string> methods = {"semantic_search", "full_matrix"};
#if defined(VIKCSE_WITH_FAISS)
    methods.push_back("faiss_flat");
#else
    std::printf("(built without FAISS: the faiss_flat row is missing)\n");
#endif
    const double corpus_mib = static_cast<double>(s.rows * s.dim * 4) / (1024.0 * 1024.0);
    std::printf("corpus %lld x %lld float32 (%.0f MiB), %lld queries, top %lld, corpus block %lld rows\n",
                static_cast<long long>(s.rows), static_cast<long long>(s.dim), corpus_mib,
                static_cast<long long>(s.queries), static_cast<long long>(s.k), static_cast<long long>(s.chunk));
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("vikcse-bench-search-{}", getpid());
    std::filesystem::create_directories(dir);
    nlohmann::json out = nlohmann::json::array();
    torch::Tensor reference;
    std::printf("\n| method | queries/s | peak memory MiB | over the corpus MiB | hits equal to semantic_search |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    for (const auto& m : methods) {
      const auto hits = dir / (m + ".safetensors");
      const auto r = run_child(m, s, hits);
      const auto idx = vikcse::SafetensorsFile::open(hits).load("indices");
      if (!reference.defined()) reference = idx;
      const double agree = idx.eq(reference).to(torch::kDouble).mean().item<double>();
      std::printf("| %s | %.1f | %.0f | %.0f | %.4f |\n", m.c_str(), r.qps, r.rss_mib, r.rss_mib - corpus_mib, agree);
      out.push_back({{"method", m}, {"queries_per_s", r.qps}, {"peak_rss_mib", r.rss_mib}, {"agreement", agree}});
    }
    std::filesystem::remove_all(dir);
    std::printf(
        "\n(peak memory includes the corpus itself and LibTorch; FAISS holds a copy of the corpus in its index;\n"
        " the full matrix holds [Q, N] scores.)\n");
    if (json_path) {
      const nlohmann::json doc = {{"setup", {{"rows", s.rows}, {"dim", s.dim}, {"queries", s.queries}, {"k", s.k}}},
                                  {"results", out}};
      vikcse::detail::write_text_atomically(*json_path, doc.dump(2) + "\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vikcse_bench_search: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
