// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file process_group.hpp
/// `ProcessGroup`: a thin, value-semantic handle over LibTorch's c10d collectives (Gloo on CPU,
/// NCCL in CUDA builds) with a rendezvous through a `FileStore` (a file every rank can reach) or a
/// `TCPStore` (rank 0 hosts it). `make_process_group` creates one; a world of one process needs no
/// store and every collective is then the identity.
///
/// Building: LibTorch's `ProcessGroupGloo.hpp` is only active with `USE_C10D_GLOO` defined and
/// includes Gloo's headers (Debian: `libgloo-dev`); this header defines `USE_C10D_GLOO` itself when
/// the Gloo headers are found, and programs link Gloo (`/usr/lib/libgloo.so`, CMake package
/// `Gloo`, target `gloo`) next to LibTorch. NCCL is used only when `USE_C10D_NCCL` is defined (a
/// CUDA LibTorch build) and `nccl.h` (Debian: `libnccl-dev`) is there too.
/// `VIKCSE_HAS_C10D_GLOO` is 1 when Gloo is usable; without Gloo the header still compiles, and
/// `make_process_group` with `world_size > 1` throws.

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

#if __has_include(<gloo/algorithm.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#define VIKCSE_HAS_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#else
#define VIKCSE_HAS_C10D_GLOO 0
#endif

#if VIKCSE_HAS_C10D_GLOO && defined(USE_C10D_NCCL) && __has_include(<nccl.h>) && \
    __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#define VIKCSE_HAS_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define VIKCSE_HAS_C10D_NCCL 0
#endif

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse {

/// The c10d backend a `ProcessGroup` runs its collectives on.
enum class DistributedBackend {
  gloo,  ///< CPU tensors (and CUDA tensors through host copies); always available with Gloo.
  nccl,  ///< CUDA tensors; only in CUDA builds of LibTorch (`VIKCSE_HAS_C10D_NCCL`).
};

/// Options of `make_process_group` (a plain aggregate).
struct ProcessGroupOptions {
  /// This process's rank, `0..world_size-1`.
  int rank = 0;
  /// Number of processes. Default: 1 (no store, collectives are the identity).
  int world_size = 1;
  /// Rendezvous through a `c10d::FileStore` at this path (same path for every rank, on a file
  /// system they all see; it must not hold an old store). Empty: use the TCP store below.
  std::string file_store;
  /// Rendezvous through a `c10d::TCPStore` hosted by rank 0 at `tcp_host:tcp_port` (used when
  /// `file_store` is empty). Default: 127.0.0.1:29500.
  std::string tcp_host = "127.0.0.1";
  /// Port of the TCP store. Default: 29500 (PyTorch's `MASTER_PORT` default).
  std::uint16_t tcp_port = 29500;
  /// Address or hostname Gloo binds its transport to. Empty: Gloo's default device (this host's
  /// name if it resolves, else the loopback address). Use "127.0.0.1" for single-machine runs.
  std::string gloo_hostname;
  /// Timeout of the rendezvous and of every collective. Default: 300 s.
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  /// Backend. Default: Gloo.
  DistributedBackend backend = DistributedBackend::gloo;
  /// This process's index on its machine (torchrun's LOCAL_RANK): not used by the group; a CUDA
  /// program picks its device with it. Default: 0.
  int local_rank = 0;
};

namespace detail {

/// The integer in environment variable `name`, or nullopt when it is unset or empty.
/// @throws vikcse::invalid_argument when it is not an integer in [minimum, maximum].
inline std::optional<long long> integer_from_env(const char* name, long long minimum, long long maximum) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  const std::string_view s(text);
  long long value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < minimum || value > maximum) {
    throw_error<invalid_argument>("environment variable {}: expected an integer in [{}, {}], got '{}'", name, minimum,
                                  maximum, s);
  }
  return value;
}

}  // namespace detail

/// `defaults` with what torchrun's environment variables say: RANK and WORLD_SIZE (set together;
/// WORLD_SIZE unset means a world of one), MASTER_ADDR and MASTER_PORT (the TCP store rank 0
/// hosts), LOCAL_RANK. Unset variables keep `defaults`' values.
/// @throws vikcse::invalid_argument naming the variable when one is malformed, when only one of
///         RANK and WORLD_SIZE is set, or when RANK is not below WORLD_SIZE.
[[nodiscard]] inline ProcessGroupOptions process_group_options_from_env(ProcessGroupOptions defaults = {}) {
  auto options = std::move(defaults);
  const auto world = detail::integer_from_env("WORLD_SIZE", 1, 1 << 20);
  const auto rank = detail::integer_from_env("RANK", 0, (1 << 20) - 1);
  if (world.has_value() != rank.has_value()) {
    throw_error<invalid_argument>(
        "environment: RANK and WORLD_SIZE must be set together (RANK is {}, WORLD_SIZE is {})", rank ? "set" : "unset",
        world ? "set" : "unset");
  }
  if (world) {
    if (*rank >= *world) {
      throw_error<invalid_argument>("environment: RANK {} must be below WORLD_SIZE {}", *rank, *world);
    }
    options.world_size = static_cast<int>(*world);
    options.rank = static_cast<int>(*rank);
  }
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') options.tcp_host = addr;
  if (const auto port = detail::integer_from_env("MASTER_PORT", 1, 65535)) {
    options.tcp_port = static_cast<std::uint16_t>(*port);
  }
  if (const auto local = detail::integer_from_env("LOCAL_RANK", 0, (1 << 20) - 1)) {
    options.local_rank = static_cast<int>(*local);
  }
  return options;
}

namespace detail {

/// The collectives `ProcessGroup` needs, over whichever c10d class implements them (LibTorch 1.x
/// `c10d::ProcessGroup` subclasses, 2.x `c10d::Backend` subclasses).
class Collectives {
public:
  virtual ~Collectives() = default;
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  virtual void all_gather(std::vector<torch::Tensor>& out, const torch::Tensor& input) = 0;
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  virtual void barrier() = 0;
};

#if VIKCSE_HAS_C10D_GLOO
/// `Collectives` over a c10d backend object `Impl` (held by `c10::intrusive_ptr`).
template <typename Impl>
class C10dCollectives final : public Collectives {
public:
  C10dCollectives(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Impl> impl)
      : store_(std::move(store)), impl_(std::move(impl)) {}

  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    impl_->allreduce(tensors, options)->wait();
  }
  void all_gather(std::vector<torch::Tensor>& out, const torch::Tensor& input) override {
    std::vector<std::vector<torch::Tensor>> outputs{out};
    std::vector<torch::Tensor> inputs{input};
    impl_->allgather(outputs, inputs)->wait();
    out = outputs.front();
  }
  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    impl_->broadcast(tensors, options)->wait();
  }
  void barrier() override { impl_->barrier()->wait(); }

private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Impl> impl_;
};
#endif

}  // namespace detail

/// A group of processes running collectives together (copies share the same group).
///
/// Every collective must be called by every rank in the same order with matching shapes.
/// Collectives run on the tensors' own device; Gloo needs CPU tensors (or CUDA via host copies
/// in CUDA builds), NCCL CUDA tensors. Errors of the transport surface as `c10::Error`.
class ProcessGroup {
public:
  /// A world of one process: every collective is the identity.
  ProcessGroup() = default;

  /// Wraps collectives for `rank` of `world_size` (use `make_process_group`).
  ProcessGroup(int rank, int world_size, std::shared_ptr<detail::Collectives> collectives)
      : rank_(rank), world_size_(world_size), collectives_(std::move(collectives)) {}

  /// This process's rank.
  [[nodiscard]] int rank() const { return rank_; }
  /// Number of processes in the group.
  [[nodiscard]] int world_size() const { return world_size_; }

  /// Sums `tensors` element-wise over all ranks, in place (each must be contiguous).
  void all_reduce_sum_(std::vector<torch::Tensor>& tensors) const {
    if (collectives_ && !tensors.empty()) collectives_->all_reduce_sum(tensors);
  }

  /// The `world_size` tensors, one per rank in rank order, each shaped like `tensor` (the same
  /// shape and dtype on every rank). The results do not require grad.
  [[nodiscard]] std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) const {
    const auto input = tensor.detach().contiguous();
    if (!collectives_) return {input.clone()};
    std::vector<torch::Tensor> out;
    out.reserve(static_cast<std::size_t>(world_size_));
    for (int r = 0; r < world_size_; ++r) out.push_back(torch::empty_like(input));
    collectives_->all_gather(out, input);
    return out;
  }

  /// Overwrites `tensors` on every rank with rank `root`'s values, in place.
  /// @throws vikcse::invalid_argument when `root` is not a rank.
  void broadcast_(std::vector<torch::Tensor>& tensors, int root = 0) const {
    if (root < 0 || root >= world_size_) {
      throw_error<invalid_argument>("ProcessGroup::broadcast_: root must be in 0..{}, got {}", world_size_ - 1, root);
    }
    if (collectives_ && !tensors.empty()) collectives_->broadcast(tensors, root);
  }

  /// Blocks until every rank reached the barrier.
  void barrier() const {
    if (collectives_) collectives_->barrier();
  }

private:
  int rank_ = 0;
  int world_size_ = 1;
  std::shared_ptr<detail::Collectives> collectives_;
};

/// Creates the process group described by `options`; blocks until all ranks joined.
/// @throws vikcse::invalid_argument on a bad rank/world size, an unavailable backend, or
///         (world_size > 1) a build without Gloo; c10::Error when the rendezvous fails or times out.
[[nodiscard]] inline ProcessGroup make_process_group(const ProcessGroupOptions& options) {
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    throw_error<invalid_argument>(
        "make_process_group: rank must be in 0..world_size-1 with world_size >= 1, got "
        "rank {} and world_size {}",
        options.rank, options.world_size);
  }
  if (options.timeout.count() <= 0) {
    throw_error<invalid_argument>("make_process_group: timeout must be positive, got {} ms", options.timeout.count());
  }
  if (options.backend == DistributedBackend::nccl && !VIKCSE_HAS_C10D_NCCL) {
    throw_error<invalid_argument>(
        "make_process_group: backend nccl requested, but this LibTorch build has no c10d NCCL (USE_C10D_NCCL); "
        "use gloo");
  }
  if (options.world_size == 1) return ProcessGroup{};
#if VIKCSE_HAS_C10D_GLOO
  c10::intrusive_ptr<c10d::Store> store;
  if (!options.file_store.empty()) {
    store = c10::make_intrusive<c10d::FileStore>(options.file_store, options.world_size);
  } else {
    c10d::TCPStoreOptions tcp;
    tcp.port = options.tcp_port;
    tcp.isServer = options.rank == 0;
    tcp.numWorkers = static_cast<std::size_t>(options.world_size);
    tcp.waitWorkers = true;
    tcp.timeout = options.timeout;
    detail::use_classic_tcp_store(tcp);
    store = c10::make_intrusive<c10d::TCPStore>(options.tcp_host, tcp);
  }
  store->setTimeout(options.timeout);
  std::shared_ptr<detail::Collectives> collectives;
#if VIKCSE_HAS_C10D_NCCL
  if (options.backend == DistributedBackend::nccl) {
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = options.timeout;
    auto impl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank, options.world_size, nccl_options);
    collectives = std::make_shared<detail::C10dCollectives<c10d::ProcessGroupNCCL>>(store, std::move(impl));
  }
#endif
  if (!collectives) {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
    gloo_options->devices.push_back(options.gloo_hostname.empty()
                                        ? c10d::ProcessGroupGloo::createDefaultDevice()
                                        : c10d::ProcessGroupGloo::createDeviceForHostname(options.gloo_hostname));
    auto impl = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size, gloo_options);
    collectives = std::make_shared<detail::C10dCollectives<c10d::ProcessGroupGloo>>(store, std::move(impl));
  }
  return ProcessGroup{options.rank, options.world_size, std::move(collectives)};
#else
  throw_error<invalid_argument>(
      "make_process_group: world_size {} needs c10d Gloo, but <gloo/algorithm.h> or "
      "<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp> was not found at compile time",
      options.world_size);
#endif
}

}  // namespace vikcse
