#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace lpu {

ProgressBar::ProgressBar()
    : tty_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::update(const std::string& phase, double fraction) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - start_).count();
  if (since < 1.0 || (drawn_ && std::chrono::duration<double>(now - last_).count() < 0.1)) return;
  last_ = now;
  constexpr int kWidth = 30;
  const double f = std::clamp(fraction, 0.0, 1.0);
  const int full = int(f * kWidth);
  std::fprintf(stderr, "\r[%s%s] %3.0f%% %s, %.0f s\x1b[K", std::string(size_t(full), '#').c_str(),
               std::string(size_t(kWidth - full), ' ').c_str(), f * 100, phase.c_str(), since);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  // A simulating child may have drawn on the same line: erase it too.
  if (!tty_ || std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() < 1.0) return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace lpu
