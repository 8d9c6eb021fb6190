// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file threads.hpp
/// LibTorch starts with one intra-op thread on some builds; this sets the count from the hardware.

#include <ATen/Parallel.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace vikcse {

/// Sets LibTorch's intra-op thread count to the number of hardware threads, unless the user set
/// `OMP_NUM_THREADS` or passes a positive `threads`. Returns the count now in force.
inline int configure_threads(int threads = 0) {
  if (threads <= 0) {
    if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && std::atoi(env) > 0) {
      threads = std::atoi(env);
    } else {
      threads = static_cast<int>(std::thread::hardware_concurrency());
    }
  }
  if (threads <= 0) threads = 1;
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace vikcse
