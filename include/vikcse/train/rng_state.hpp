// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file rng_state.hpp
/// The state of LibTorch's default random generators (CPU, and every CUDA device when CUDA is
/// available) saved with a training checkpoint and restored on resume, so that the dropout masks
/// after a resume are the ones an uninterrupted run would have drawn.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <mutex>
#include <vector>

namespace vikcse {

namespace detail {
/// The default generators in a fixed order: CPU first, then CUDA devices 0..n−1.
inline std::vector<at::Generator> default_generators() {
  std::vector<at::Generator> generators{at::detail::getDefaultCPUGenerator()};
  if (torch::cuda::is_available()) {
    for (std::size_t i = 0; i < torch::cuda::device_count(); ++i) {
      generators.push_back(
          at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i))));
    }
  }
  return generators;
}
}  // namespace detail

/// Writes the default generators' states to `path` (atomically).
/// @throws vikcse::checkpoint_error when the file cannot be written.
inline void save_rng_state(const std::filesystem::path& path) {
  std::vector<torch::Tensor> states;
  for (auto& g : detail::default_generators()) {
    std::lock_guard<std::mutex> lock(g.mutex());
    states.push_back(g.get_state());
  }
  detail::write_file_atomically<checkpoint_error>(path, [&](std::ofstream& out) { torch::save(states, out); });
}

/// Restores the default generators from a file of `save_rng_state`.
/// @throws vikcse::checkpoint_error naming the file when it is unreadable or was written on a
/// machine with a different number of generators (CUDA devices).
inline void load_rng_state(const std::filesystem::path& path) {
  std::vector<torch::Tensor> states;
  try {
    torch::load(states, path.string());
  } catch (const std::exception& e) {
    throw_error<checkpoint_error>("{}: cannot read the random-generator state: {}", path.string(), e.what());
  }
  auto generators = detail::default_generators();
  if (states.size() != generators.size()) {
    throw_error<checkpoint_error>(
        "{}: holds {} random-generator states, this process has {} generators (CPU + CUDA devices)", path.string(),
        states.size(), generators.size());
  }
  for (std::size_t i = 0; i < states.size(); ++i) {
    std::lock_guard<std::mutex> lock(generators[i].mutex());
    try {
      generators[i].set_state(states[i]);
    } catch (const std::exception& e) {
      throw_error<checkpoint_error>("{}: random-generator state {} does not fit this generator: {}", path.string(), i,
                                    e.what());
    }
  }
}

}  // namespace vikcse
