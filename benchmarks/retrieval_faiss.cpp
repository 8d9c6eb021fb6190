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

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char* help = R"(retrieval_faiss: FAISS flat / IVF / HNSW top-k cosine search against exact search
(vikcse::ExactCosineRetriever) over random unit vectors, in the same run.

  --rows N             bank rows (default 1000000)
  --dim N              feature dimension (default 512)
  --queries N          query count (default 1000)
  --k N                neighbours per query; recall@k is measured (default 1)
  --kinds LIST         comma-separated subset of flat,ivf,hnsw (default flat,ivf,hnsw)
  --nlist N            IVF cells (default 1024)
  --nprobe N           IVF cells visited per query (default 16)
  --train-rows N       IVF k-means training rows (default 64 * nlist)
  --hnsw-rows N        HNSW is built on the first N bank rows only, with its own exact reference on
                       those rows (default min(rows, 50000): Debian's FAISS build inserted ~120 rows/s at dim 512 on a
                       shared 2-core machine)
  --hnsw-m N           HNSW neighbours per node (default 16)
  --ef-search N        HNSW efSearch (default 64)
  --ef-construction N  HNSW efConstruction (default 40)
  --query-noise X      0: queries are independent random unit vectors (the hard case for approximate
                       search); X > 0: each query is a bank row plus Gaussian noise of norm ~X (default 0)
  --threads N          LibTorch and OpenMP threads (default: hardware)
  --seed N             random seed (default 0)
  --json FILE          also write the results as JSON
)";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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
  vikcse::bench::Args args(argc, argv, help);
  const auto rows = args.get_int("--rows", 1000000);
  const auto dim = args.get_int("--dim", 512);
  const auto n_queries = args.get_int("--queries", 1000);
  const auto k = args.get_int("--k", 1);
  const auto kinds_text = args.get("--kinds", "flat,ivf,hnsw");
  const auto nlist = args.get_int("--nlist", 1024);
  const auto nprobe = args.get_int("--nprobe", 16);
  const auto train_rows = args.get_int("--train-rows", 0);
  const auto hnsw_rows = std::min<long long>(rows, args.get_int("--hnsw-rows", 50000));
  const auto hnsw_m = args.get_int("--hnsw-m", 16);
  const auto ef_search = args.get_int("--ef-search", 64);
  const auto ef_construction = args.get_int("--ef-construction", 40);
  const double query_noise = std::stod(args.get("--query-noise", "0"));
  const int threads = vikcse::configure_threads(static_cast<int>(args.get_int("--threads", 0)));
  const auto seed = args.get_int("--seed", 0);
  const auto json_path = args.get("--json", "");
  args.check_unknown();
  if (rows < 1 || dim < 1 || n_queries < 1 || k < 1 || k > rows) {
    fmt::print(stderr, "error: need rows, dim, queries >= 1 and 1 <= k <= rows (see --help)\n");
    return 2;
  }
  const auto wants = [&](const std::string& kind) { return kinds_text.find(kind) != std::string::npos; };
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
  fmt::print("data generated in {:.1f} s, peak RSS {:.0f} MiB\n", seconds_since(start),
             vikcse::bench::peak_rss_mib());

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
    results.push_back({label, b.size(0), build, s, n_queries / s, recall(top.indices, exact.indices),
                       vikcse::bench::peak_rss_mib()});
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
                 sub, exact_sub,
                 fmt::format("faiss HNSW M {} efS {} efC {}", hnsw_m, ef_search, ef_construction));
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
