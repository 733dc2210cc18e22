// SPDX-License-Identifier: MIT
// Progress bar (stderr, terminals only) and the SIGINT handler that turns Ctrl-C into a cancel.
#include "progress.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace steppe::cli {
namespace {

// Set from the signal handler: a lock-free atomic is async-signal-safe to store.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct sigaction g_previous;

constexpr auto quiet_period = std::chrono::seconds(1);
constexpr auto redraw_period = std::chrono::milliseconds(100);
constexpr int bar_width = 30;

}  // namespace

ProgressBar::ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1), start_(clock::now()) {}

void ProgressBar::update(std::uint64_t done, std::uint64_t total, const std::string& note) {
  if (!enabled_ || total == 0) return;
  const clock::time_point now = clock::now();
  if (now - start_ < quiet_period || (drawn_ && now - last_draw_ < redraw_period)) return;
  last_draw_ = now;
  drawn_ = true;
  const double f = double(done) / double(total);
  const int filled = int(f * bar_width);
  std::string bar(std::size_t(filled), '#');
  bar.resize(bar_width, '.');
  const double seconds = std::chrono::duration<double>(now - start_).count();
  // \r and "erase to end of line" (ECMA-48 EL), so a shorter line leaves no tail.
  std::fprintf(stderr, "\r[%s] %3d%%  %llu/%llu draws  %.0f s%s%s\x1b[K", bar.c_str(), int(100 * f),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
               seconds, note.empty() ? "" : "  ", note.c_str());
  std::fflush(stderr);
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

InterruptGuard::InterruptGuard() {
  g_interrupted.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process the usual way
  sigaction(SIGINT, &sa, &g_previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &g_previous, nullptr); }

const std::atomic<bool>* InterruptGuard::flag() const noexcept { return &g_interrupted; }

}  // namespace steppe::cli
