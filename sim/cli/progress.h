// A one-line progress bar on stderr for long runs: drawn only when stderr
// is a terminal and the run has lasted a second, redrawn at most ten times
// a second, erased when done. Elsewhere (pipes, CI logs) it prints nothing.
#pragma once
#include <chrono>
#include <string>

namespace lpu {

class ProgressBar {
 public:
  ProgressBar();
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // fraction in [0, 1] of the current phase, e.g. "compiling 72 chips".
  void update(const std::string& phase, double fraction);
  void clear();
  bool active() const { return tty_; }

 private:
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lpu
