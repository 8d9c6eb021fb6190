// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file progress.hpp
/// A text progress bar with rate and ETA for long loops (encoding, training). Library code never
/// prints: a program creates a `ProgressBar` on the stream of its choice (usually std::cerr) and
/// calls `advance`/`finish`; or it formats a line itself with `format_progress`. Torch-free.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace vikcse {

/// A snapshot of progress: what `format_progress` renders.
struct ProgressState {
  std::size_t done = 0;          ///< units finished
  std::size_t total = 0;         ///< units in all (0: unknown, no bar and no ETA)
  double elapsed_seconds = 0.0;  ///< wall time since the start
  std::string label;             ///< text before the bar (e.g. "STS12")
  std::string unit = "it";       ///< unit name in the rate ("sent" -> "123.4 sent/s")
  std::string extra;             ///< free text after the ETA (e.g. "loss 0.31")
  std::size_t width = 30;        ///< characters inside the bar
};

/// Formats seconds as `M:SS` or `H:MM:SS`; `--:--` when not finite or negative.
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600;
  const long long m = (total % 3600) / 60;
  const long long s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

/// Units per second so far (0 before any time has passed).
inline double progress_rate(const ProgressState& state) {
  return state.elapsed_seconds > 0 && state.done > 0 ? static_cast<double>(state.done) / state.elapsed_seconds : 0.0;
}

/// Seconds left at the current rate; NaN when unknown (no total, nothing done yet).
inline double progress_eta_seconds(const ProgressState& state) {
  const double rate = progress_rate(state);
  if (state.total == 0 || rate <= 0) return std::nan("");
  const auto left = state.total > state.done ? state.total - state.done : 0;
  return static_cast<double>(left) / rate;
}

/// One line: `label [=====>    ] 1234/5000  24.7% | 310.2 it/s | 0:03 elapsed | ETA 0:12 | extra`.
inline std::string format_progress(const ProgressState& state) {
  std::string line;
  if (!state.label.empty()) line += state.label + " ";
  if (state.total > 0) {
    const double fraction = std::clamp(static_cast<double>(state.done) / static_cast<double>(state.total), 0.0, 1.0);
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(state.width));
    std::string bar(state.width, ' ');
    std::fill_n(bar.begin(), filled, '=');
    if (filled < state.width && state.done > 0) bar[filled] = '>';
    line += fmt::format("[{}] {}/{} {:5.1f}%", bar, state.done, state.total, 100.0 * fraction);
  } else {
    line += fmt::format("{}", state.done);
  }
  line += fmt::format(" | {:.1f} {}/s | {} elapsed", progress_rate(state), state.unit,
                      format_duration(state.elapsed_seconds));
  if (state.total > 0) line += fmt::format(" | ETA {}", format_duration(progress_eta_seconds(state)));
  if (!state.extra.empty()) line += " | " + state.extra;
  return line;
}

/// Options of a `ProgressBar`.
struct ProgressBarOptions {
  std::string label;                  ///< text before the bar
  std::string unit = "it";            ///< unit name in the rate
  std::size_t width = 30;             ///< characters inside the bar
  double min_interval_seconds = 0.1;  ///< redraw at most this often (the last update always draws)
};

/// A progress bar redrawn in place (carriage return) on a stream the caller chooses.
///
/// Example:
/// ```
/// vikcse::ProgressBar bar(std::cerr, n, {.label = "encode", .unit = "sent"});
/// for (...) { ...; bar.advance(batch.size()); }
/// bar.finish();
/// ```
class ProgressBar {
public:
  /// A bar for `total` units (0: unknown total) drawn on `out`.
  ProgressBar(std::ostream& out, std::size_t total, ProgressBarOptions options = {})
      : out_(&out), options_(std::move(options)), total_(total), start_(Clock::now()) {}

  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Ends the line if `finish` was not called.
  ~ProgressBar() {
    if (!finished_) finish();
  }

  /// Adds `n` finished units and redraws (rate-limited); `extra` replaces the trailing text.
  void advance(std::size_t n = 1, std::string_view extra = {}) { set(done_ + n, extra); }

  /// Sets the number of finished units and redraws (rate-limited).
  void set(std::size_t done, std::string_view extra = {}) {
    done_ = done;
    if (!extra.empty()) extra_ = std::string(extra);
    const auto now = Clock::now();
    if (done_ >= total_ || seconds(now - last_draw_) >= options_.min_interval_seconds || !drawn_) draw(now);
  }

  /// Changes the total (e.g. when it becomes known).
  void set_total(std::size_t total) { total_ = total; }

  /// Draws the final state and ends the line.
  void finish() {
    draw(Clock::now());
    *out_ << '\n' << std::flush;
    finished_ = true;
  }

  /// The current state (for tests or custom rendering).
  [[nodiscard]] ProgressState state() const {
    return {done_, total_, seconds(Clock::now() - start_), options_.label, options_.unit, extra_, options_.width};
  }

private:
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

  void draw(Clock::time_point now) {
    auto s = state();
    s.elapsed_seconds = seconds(now - start_);
    auto line = format_progress(s);
    const std::size_t pad = last_length_ > line.size() ? last_length_ - line.size() : 0;
    last_length_ = line.size();
    *out_ << '\r' << line << std::string(pad, ' ') << std::flush;
    last_draw_ = now;
    drawn_ = true;
  }

  std::ostream* out_;
  ProgressBarOptions options_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::string extra_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::size_t last_length_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
};

}  // namespace vikcse
