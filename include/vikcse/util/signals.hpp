// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file signals.hpp
/// How a program stops cleanly. `install_stop_handlers()` makes the first Ctrl-C (SIGINT) or
/// SIGTERM only raise a flag, which a long loop polls with `stop_requested()` (the `Trainer` stops
/// after the step in progress, saves a complete `last/` and says how to resume); a second one
/// kills the process at once, which is safe because checkpoints are only ever put in place whole.
/// It also ignores SIGXFSZ, so that a write beyond the file-size limit (`ulimit -f`) fails with
/// EFBIG, which the writer reports naming the file, instead of killing the process without a word.
/// Torch-free.

#include <atomic>
#include <csignal>

namespace vikcse {

namespace detail {

inline std::atomic<int>& stop_signal() {
  static std::atomic<int> signal_number{0};
  return signal_number;
}

extern "C" inline void vikcse_on_stop_signal(int signal_number) {
  detail::stop_signal().store(signal_number);
  std::signal(signal_number, SIG_DFL);  // the second Ctrl-C ends the process at once
}

}  // namespace detail

/// Installs the handlers described in the file comment. Call once, early in `main`.
inline void install_stop_handlers() {
  static_assert(std::atomic<int>::is_always_lock_free, "the flag is written from a signal handler");
  (void)detail::stop_signal();  // constructed before any handler can run
  std::signal(SIGINT, detail::vikcse_on_stop_signal);
  std::signal(SIGTERM, detail::vikcse_on_stop_signal);
  std::signal(SIGXFSZ, SIG_IGN);
}

/// Whether Ctrl-C or SIGTERM arrived since `install_stop_handlers()`.
inline bool stop_requested() { return detail::stop_signal().load() != 0; }

/// The signal that asked to stop (SIGINT, SIGTERM), or 0.
inline int stop_signal_number() { return detail::stop_signal().load(); }

}  // namespace vikcse
