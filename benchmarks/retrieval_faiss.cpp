// SPDX-License-Identifier: Apache-2.0
// Knowledge-base retrieval at scale: vikcse::FaissRetriever (flat inner product, IVF-flat,
// HNSW-flat) against the exact peer vikcse::ExactCosineRetriever (LibTorch matrix products), on a
// bank of random unit vectors, in the same run: index build time, queries/s, recall@k against the
// exact result, and the process's peak resident memory after each phase.
#include "support/benchmark_support.hpp"

#include <vikcse/knowledge/faiss_retriever.hpp>
#include <vikcse/knowledge/retriever.hpp>
#include <vikcse/threads.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char* description = R"(retrieval_faiss: FAISS flat / IVF / HNSW top-k cosine search against exact search
(vikcse::ExactCosineRetriever) over random unit vectors, in the same run.)";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// Fraction of the exact top-k indices found among the approximate top-k, per query, averaged.
double recall(const torch::Tensor& got, const torch::Tensor& exact) {
  // [N, k, 1] == [N, 1, k] -> any over the approximate list.
  return exact.unsqueeze(2).eq(got.unsqueeze(1)).any(2).to(torch::kDouble).mean().item<double>();
}

struct Row {
  std::string method;
  std::int64_t rows = 0;
  double build_s = 0.0;
  double search_s = 0.0;
  double qps = 0.0;
  std::optional<double> recall;
  double peak_rss_mib = 0.0;
};

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 1000000, dim = 512, n_queries = 1000, k = 1, nlist = 1024, nprobe = 16, train_rows = 0;
  std::int64_t hnsw_rows = 50000, hnsw_m = 16, ef_search = 64, ef_construction = 40, seed = 0;
  std::vector<std::string> kinds{"flat", "ivf", "hnsw"};
  double query_noise = 0.0;
  int threads = 0;
  std::string json_path;
  const auto positive = vikcse::cli::positive_integer();
  CLI::App app{description, "retrieval_faiss"};
  app.option_defaults()->always_capture_default();
  app.add_option("--rows", rows, "bank rows")->check(positive);
  app.add_option("--dim", dim, "feature dimension")->check(positive);
  app.add_option("--queries", n_queries, "query count")->check(positive);
  auto* k_option = app.add_option("--k", k, "neighbours per query; recall@k is measured")->check(positive);
  app.add_option("--kinds", kinds, "index kinds to run, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"flat", "ivf", "hnsw"}));
  auto* nlist_option = app.add_option("--nlist", nlist, "IVF cells (at most --rows)")->check(positive);
  app.add_option("--nprobe", nprobe, "IVF cells visited per query (clamped to --nlist)")->check(positive);
  app.add_option("--train-rows", train_rows, "IVF k-means training rows (0: 64 * nlist)")
      ->check(vikcse::cli::non_negative_integer());
  // Debian's FAISS build inserted ~120 rows/s into HNSW at dim 512 on a shared 2-core machine.
  app.add_option("--hnsw-rows", hnsw_rows,
                 "HNSW is built on the first min(N, --rows) bank rows only, with its own exact reference on them")
      ->check(positive);
  app.add_option("--hnsw-m", hnsw_m, "HNSW neighbours per node")->check(positive);
  app.add_option("--ef-search", ef_search, "HNSW efSearch")->check(positive);
  app.add_option("--ef-construction", ef_construction, "HNSW efConstruction")->check(positive);
  app.add_option("--query-noise", query_noise,
                 "0: independent random unit queries (the hard case); X > 0: bank rows plus noise of norm ~X")
      ->check(vikcse::cli::non_negative_real());
  app.add_option("--threads", threads, "LibTorch and OpenMP threads (0: hardware)")
      ->check(vikcse::cli::non_negative_integer());
  app.add_option("--seed", seed, "random seed")->check(vikcse::cli::non_negative_integer());
  app.add_option("--json", json_path, "also write the results as JSON")->check(vikcse::cli::writable_file());
  const auto wants = [&](const std::string& kind) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  try {
    app.parse(argc, argv);
    hnsw_rows = std::min(rows, hnsw_rows);
    // Checks between options: each exact search needs k <= its bank's rows; IVF needs nlist <= rows.
    if (const auto searched = wants("hnsw") ? hnsw_rows : rows; k > searched) {
      throw CLI::ValidationError(k_option->get_name(), fmt::format("{} exceeds the {} bank rows searched{}", k,
                                                                   searched, wants("hnsw") ? " by HNSW" : ""));
    }
    if (wants("ivf") && nlist > rows) {
      throw CLI::ValidationError(nlist_option->get_name(),
                                 fmt::format("IVF needs nlist <= --rows, got nlist {} and {} rows", nlist, rows));
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  threads = vikcse::configure_threads(threads);
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);

  fmt::print("retrieval_faiss: bank {} x {} float32 ({:.0f} MiB), {} queries, k {}, {} threads, queries: {}\n", rows,
             dim, static_cast<double>(rows * dim * 4) / (1 << 20), n_queries, k, threads,
             query_noise > 0 ? fmt::format("bank rows + noise {}", query_noise) : "independent random");
  auto start = Clock::now();
  auto bank = torch::randn({rows, dim});
  bank.div_(bank.norm(2, -1, true));
  torch::Tensor queries;
  if (query_noise > 0) {
    const auto picks = torch::randint(rows, {n_queries}, torch::kLong);
    queries = bank.index_select(0, picks) + torch::randn({n_queries, dim}) * (query_noise / std::sqrt(double(dim)));
  } else {
    queries = torch::randn({n_queries, dim});
  }
  queries = queries / queries.norm(2, -1, true);
  fmt::print("data generated in {:.1f} s, peak RSS {:.0f} MiB\n", seconds_since(start), vikcse::bench::peak_rss_mib());

  std::vector<Row> results;
  auto exact_search = [&](const torch::Tensor& b, const std::string& label) {
    const vikcse::ExactCosineRetriever exact{.chunk_size = 128};
    start = Clock::now();
    auto top = exact.search(queries, b, k);
    const double s = seconds_since(start);
    results.push_back({label, b.size(0), 0.0, s, n_queries / s, std::nullopt, vikcse::bench::peak_rss_mib()});
    return top;
  };
  auto faiss_search = [&](const vikcse::FaissRetrieverOptions& options, const torch::Tensor& b,
                          const vikcse::TopK& exact, const std::string& label) {
    const vikcse::FaissRetriever retriever(options);
    start = Clock::now();
    (void)retriever.search(queries.narrow(0, 0, 1), b, k);  // builds the index (one query is negligible)
    const double build = seconds_since(start);
    start = Clock::now();
    const auto top = retriever.search(queries, b, k);
    const double s = seconds_since(start);
    results.push_back(
        {label, b.size(0), build, s, n_queries / s, recall(top.indices, exact.indices), vikcse::bench::peak_rss_mib()});
    fmt::print("  {:<34} build {:8.1f} s  search {:7.2f} s\n", label, build, s);
  };

  const auto exact_full = exact_search(bank, "exact (ExactCosineRetriever, peer)");
  fmt::print("  exact search done in {:.2f} s\n", results.back().search_s);
  if (wants("flat")) {
    faiss_search({.kind = vikcse::FaissIndexKind::flat}, bank, exact_full, "faiss flat IP");
  }
  if (wants("ivf")) {
    faiss_search({.kind = vikcse::FaissIndexKind::ivf, .nlist = nlist, .nprobe = nprobe, .train_rows = train_rows},
                 bank, exact_full, fmt::format("faiss IVF-flat nlist {} nprobe {}", nlist, nprobe));
  }
  if (wants("hnsw")) {
    const auto sub = bank.narrow(0, 0, hnsw_rows);
    const auto exact_sub = hnsw_rows == rows ? exact_full : exact_search(sub, "exact on the HNSW rows (peer)");
    faiss_search({.kind = vikcse::FaissIndexKind::hnsw,
                  .hnsw_m = hnsw_m,
                  .ef_search = ef_search,
                  .ef_construction = ef_construction},
                 sub, exact_sub, fmt::format("faiss HNSW M {} efS {} efC {}", hnsw_m, ef_search, ef_construction));
  }

  fmt::print("\n| method | bank rows | build s | search s | queries/s | recall@{} | peak RSS MiB |\n", k);
  fmt::print("|---|---:|---:|---:|---:|---:|---:|\n");
  nlohmann::json json = nlohmann::json::array();
  for (const auto& r : results) {
    fmt::print("| {} | {} | {:.1f} | {:.2f} | {:.0f} | {} | {:.0f} |\n", r.method, r.rows, r.build_s, r.search_s, r.qps,
               r.recall ? fmt::format("{:.3f}", *r.recall) : std::string("1 (reference)"), r.peak_rss_mib);
    json.push_back({{"method", r.method},
                    {"rows", r.rows},
                    {"build_s", r.build_s},
                    {"search_s", r.search_s},
                    {"queries_per_s", r.qps},
                    {"recall", r.recall ? nlohmann::json(*r.recall) : nlohmann::json(nullptr)},
                    {"peak_rss_mib", r.peak_rss_mib}});
  }
  if (!json_path.empty()) {
    std::ofstream(json_path) << json.dump(2) << '\n';
  }
  return 0;
}
