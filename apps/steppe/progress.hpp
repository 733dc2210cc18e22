// SPDX-License-Identifier: MIT
// Terminal feedback for long runs: a progress bar on stderr and Ctrl-C as a cancel request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace steppe::cli {

/// A one-line progress bar on stderr. Silent unless stderr is a terminal and the work has lasted
/// more than a second, so pipes, logs and quick runs see nothing. Redraws at most ten times a
/// second. Not thread-safe: call update() from one thread at a time (run_draws calls its
/// progress callback so).
class ProgressBar {
 public:
  ProgressBar();
  ~ProgressBar() { clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `done` of `total` units of work, with an optional note ("combination 2 of 4").
  void update(std::uint64_t done, std::uint64_t total, const std::string& note = "");
  /// Erases the bar if it was drawn (before anything else goes to stderr).
  void clear();

 private:
  using clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  clock::time_point start_, last_draw_;
};

/// While alive, Ctrl-C (SIGINT) sets flag() instead of ending the process, so the run can stop
/// cleanly and write nothing. The handler resets itself: a second Ctrl-C ends the process as
/// usual. One at a time (it owns the process's SIGINT disposition).
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The cancel flag for RunOptions::cancel.
  const std::atomic<bool>* flag() const noexcept;
  bool interrupted() const noexcept { return flag()->load(); }
};

}  // namespace steppe::cli
