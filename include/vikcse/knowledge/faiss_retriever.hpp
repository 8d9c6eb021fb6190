// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file faiss_retriever.hpp
/// `FaissRetriever`: approximate (or exact, with a flat index) top-k cosine search over a bank of
/// unit-norm rows through FAISS (flat inner product, IVF-flat or HNSW-flat), satisfying the
/// `Retriever` concept. The index is built lazily from the bank on the first search and reused
/// while the bank is the same tensor (same data pointer, sizes, strides, dtype and version).
///
/// FAISS is optional: link the `vikcse::faiss` CMake target (created only when FAISS is found) to
/// use this header. Without the FAISS headers on the include path the header still compiles but
/// declares nothing; `VIKCSE_HAS_FAISS_RETRIEVER` is then 0 (1 when `FaissRetriever` exists).
/// This header is deliberately not included by `<vikcse/vikcse.hpp>`.

#if __has_include(<faiss/IndexFlat.h>)

#define VIKCSE_HAS_FAISS_RETRIEVER 1

#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/error.hpp>
#include <vikcse/knowledge/retriever.hpp>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vikcse {

/// The kind of FAISS index a `FaissRetriever` builds.
enum class FaissIndexKind {
  flat,  ///< `IndexFlatIP`: exact inner-product search (brute force, FAISS BLAS kernels).
  ivf,   ///< `IndexIVFFlat` over an inner-product coarse quantizer: k-means cells, `nprobe` visited.
  hnsw,  ///< `IndexHNSWFlat` with the inner-product metric: a navigable small-world graph.
};

/// The name of an index kind ("flat", "ivf", "hnsw").
[[nodiscard]] inline std::string_view to_string(FaissIndexKind kind) {
  switch (kind) {
    case FaissIndexKind::flat: return "flat";
    case FaissIndexKind::ivf: return "ivf";
    case FaissIndexKind::hnsw: return "hnsw";
  }
  return "unknown";
}

/// Options of `FaissRetriever` (a plain aggregate: `{.kind = FaissIndexKind::ivf, .nlist = 256}`).
struct FaissRetrieverOptions {
  /// Index structure. Default: `flat` (exact).
  FaissIndexKind kind = FaissIndexKind::flat;
  /// IVF: number of k-means cells; must be ≤ the bank's rows. Default: 1024.
  std::int64_t nlist = 1024;
  /// IVF: cells visited per query (1..nlist; clamped to nlist). Default: 16.
  std::int64_t nprobe = 16;
  /// IVF: rows sampled (evenly strided) to train the k-means quantizer; 0: `min(M, 64 * nlist)`.
  std::int64_t train_rows = 0;
  /// HNSW: neighbours per node (`M`). Default: 32.
  std::int64_t hnsw_m = 32;
  /// HNSW: candidate list size at query time (`efSearch`, raised to k when smaller). Default: 64.
  std::int64_t ef_search = 64;
  /// HNSW: candidate list size while inserting (`efConstruction`). Default: 40.
  std::int64_t ef_construction = 40;
};

/// Top-k cosine search through a FAISS index, built lazily from the bank and cached.
///
/// Queries are L2-normalised (norm clamped at 1e-8, as `ExactCosineRetriever` does) and the bank
/// rows are taken as already unit-norm, so inner products are cosines. Scores come back descending.
/// Approximate indices (IVF, HNSW) may miss neighbours; a query for which FAISS finds fewer than k
/// rows (label -1) is answered by exact search instead, so every returned index is valid.
///
/// Copies share the cached index (and its lock): searches through copies are serialised, which
/// is thread-safe for training use but not a concurrent serving path.
class FaissRetriever {
public:
  /// A retriever with the given index options.
  /// @throws vikcse::invalid_argument when an option is out of range.
  explicit FaissRetriever(FaissRetrieverOptions options = {}) : options_(options), state_(std::make_shared<State>()) {
    if (options_.kind == FaissIndexKind::ivf && (options_.nlist < 1 || options_.nprobe < 1)) {
      throw_error<invalid_argument>("FaissRetriever: ivf needs nlist >= 1 and nprobe >= 1, got nlist {} nprobe {}",
                                    options_.nlist, options_.nprobe);
    }
    if (options_.kind == FaissIndexKind::hnsw &&
        (options_.hnsw_m < 2 || options_.ef_search < 1 || options_.ef_construction < 1)) {
      throw_error<invalid_argument>(
          "FaissRetriever: hnsw needs hnsw_m >= 2, ef_search >= 1, ef_construction >= 1, got {}, {}, {}",
          options_.hnsw_m, options_.ef_search, options_.ef_construction);
    }
    if (options_.train_rows < 0) {
      throw_error<invalid_argument>("FaissRetriever: train_rows must be >= 0, got {}", options_.train_rows);
    }
  }

  /// @param queries `[N, D]` (any floating dtype and device); @param bank `[M, D]` rows already
  /// L2-normalised; @param k `1..M`.
  /// @return `[N, k]` scores (descending, the bank's floating dtype) and `[N, k]` int64 indices,
  /// on the queries' device.
  /// @throws vikcse::invalid_argument on shape mismatch, non-floating tensors or k outside `1..M`.
  [[nodiscard]] TopK search(const torch::Tensor& queries, const torch::Tensor& bank, std::int64_t k) const {
    if (!queries.defined() || queries.dim() != 2) {
      throw_error<invalid_argument>("FaissRetriever: queries must be [N, D], got {} dimensions",
                                    queries.defined() ? queries.dim() : 0);
    }
    if (!bank.defined() || bank.dim() != 2 || bank.size(0) == 0) {
      throw_error<invalid_argument>("FaissRetriever: the bank must be a non-empty [M, D] tensor, got {} dimensions",
                                    bank.defined() ? bank.dim() : 0);
    }
    if (!torch::isFloatingType(queries.scalar_type()) || !torch::isFloatingType(bank.scalar_type())) {
      throw_error<invalid_argument>("FaissRetriever: queries and bank must be floating tensors, got {} and {}",
                                    c10::toString(queries.scalar_type()), c10::toString(bank.scalar_type()));
    }
    if (queries.size(1) != bank.size(1)) {
      throw_error<invalid_argument>("FaissRetriever: query dimension {} differs from the bank's feature dimension {}",
                                    queries.size(1), bank.size(1));
    }
    if (k < 1 || k > bank.size(0)) {
      throw_error<invalid_argument>("FaissRetriever: k must be in 1..{} (bank rows), got {}", bank.size(0), k);
    }
    const auto n = queries.size(0);
    const auto score_dtype = bank.scalar_type();
    const auto out_device = queries.device();
    if (n == 0) {
      return {torch::empty({0, k}, torch::TensorOptions().dtype(score_dtype).device(out_device)),
              torch::empty({0, k}, torch::TensorOptions().dtype(torch::kLong).device(out_device))};
    }
    torch::NoGradGuard no_grad;
    auto q = queries.detach().to(torch::kCPU, torch::kFloat);
    q = (q / q.norm(2, -1, /*keepdim=*/true).clamp_min(1e-8)).contiguous();

    auto scores = torch::empty({n, k}, torch::kFloat);
    auto labels = torch::empty({n, k}, torch::kLong);
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      ensure_index(bank);
      if (options_.kind == FaissIndexKind::hnsw) {
        auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(state_->index.get());
        hnsw->hnsw.efSearch = static_cast<int>(std::max(options_.ef_search, k));
      }
      // FAISS labels are int64_t (`faiss::Index::idx_t` in 1.7.3, `faiss::idx_t` later).
      state_->index->search(n, q.data_ptr<float>(), k, scores.data_ptr<float>(), labels.data_ptr<std::int64_t>());
    }
    // Approximate indices can return fewer than k hits (label -1): answer those rows exactly.
    const auto missing = (labels < 0).any(1).nonzero().squeeze(1);
    if (missing.numel() > 0) {
      const auto exact =
          ExactCosineRetriever{}.search(q.index_select(0, missing), bank.detach().to(torch::kCPU, torch::kFloat), k);
      scores.index_copy_(0, missing, exact.scores);
      labels.index_copy_(0, missing, exact.indices);
    }
    return {scores.to(out_device, score_dtype), labels.to(out_device)};
  }

  /// The options this retriever was built with.
  [[nodiscard]] const FaissRetrieverOptions& options() const { return options_; }

  /// How many times an index was built (by this retriever and its copies): 1 after the first
  /// search, +1 each time a search sees a different or modified bank.
  [[nodiscard]] std::int64_t builds() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->builds;
  }

  /// Drops the cached index; the next search rebuilds it.
  void reset() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->index.reset();
    state_->bank = torch::Tensor();
  }

private:
  /// The shared, lazily built index and the identity of the bank it was built from.
  struct State {
    std::mutex mutex;
    std::unique_ptr<faiss::Index> index;
    torch::Tensor bank;  ///< kept alive so its address cannot be reused by another tensor
    std::int64_t version = -1;
    std::int64_t builds = 0;
  };

  [[nodiscard]] bool same_bank(const torch::Tensor& bank) const {
    const auto& cached = state_->bank;
    return state_->index && cached.defined() && cached.data_ptr() == bank.data_ptr() &&
           cached.sizes() == bank.sizes() && cached.strides() == bank.strides() &&
           cached.scalar_type() == bank.scalar_type() && cached.device() == bank.device() &&
           static_cast<std::int64_t>(bank._version()) == state_->version;
  }

  /// Builds the index for `bank` unless the cached one was built from the same, unmodified tensor.
  void ensure_index(const torch::Tensor& bank) const {
    if (same_bank(bank)) return;
    state_->index.reset();
    state_->bank = torch::Tensor();
    const auto rows = bank.size(0);
    const auto dim = bank.size(1);
    const auto data = bank.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const auto* x = data.data_ptr<float>();
    std::unique_ptr<faiss::Index> index;
    switch (options_.kind) {
      case FaissIndexKind::flat: {
        index = std::make_unique<faiss::IndexFlatIP>(dim);
        break;
      }
      case FaissIndexKind::ivf: {
        if (options_.nlist > rows) {
          throw_error<invalid_argument>("FaissRetriever: ivf nlist {} exceeds the bank's {} rows", options_.nlist,
                                        rows);
        }
        auto quantizer = std::make_unique<faiss::IndexFlatIP>(dim);
        auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim, static_cast<std::size_t>(options_.nlist),
                                                         faiss::METRIC_INNER_PRODUCT);
        quantizer.release();
        ivf->own_fields = true;
        ivf->nprobe = static_cast<std::size_t>(std::min(options_.nprobe, options_.nlist));
        ivf->cp.verbose = false;
        auto train =
            options_.train_rows > 0 ? std::min(options_.train_rows, rows) : std::min(rows, 64 * options_.nlist);
        train = std::max(train, options_.nlist);
        if (train == rows) {
          ivf->train(rows, x);
        } else {
          // Evenly strided rows: deterministic and representative of the whole bank.
          const auto picks = torch::linspace(0, static_cast<double>(rows - 1), train).to(torch::kLong);
          const auto sample = data.index_select(0, picks).contiguous();
          ivf->train(train, sample.data_ptr<float>());
        }
        index = std::move(ivf);
        break;
      }
      case FaissIndexKind::hnsw: {
        auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dim), static_cast<int>(options_.hnsw_m),
                                                           faiss::METRIC_INNER_PRODUCT);
        hnsw->hnsw.efConstruction = static_cast<int>(options_.ef_construction);
        hnsw->hnsw.efSearch = static_cast<int>(options_.ef_search);
        index = std::move(hnsw);
        break;
      }
    }
    index->add(rows, x);
    state_->index = std::move(index);
    state_->bank = bank;
    state_->version = static_cast<std::int64_t>(bank._version());
    ++state_->builds;
  }

  FaissRetrieverOptions options_;
  std::shared_ptr<State> state_;
};

static_assert(Retriever<FaissRetriever>);

}  // namespace vikcse

#else

/// FAISS headers are not on the include path: `FaissRetriever` is not declared.
#define VIKCSE_HAS_FAISS_RETRIEVER 0

#endif
