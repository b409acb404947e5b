#include "mxm.h"

#include <fmt/format.h>

namespace lpu {

MxmPlane::MxmPlane(const ChipConfig& c, std::string name, bool functional)
    : name_(std::move(name)),
      lanes_(c.lanes()),
      loadDelay_(c.latency.mxm_load),
      installDelay_(c.latency.mxm_install),
      passDelay_(c.latency.mxm_pass),
      functional_(functional),
      loadedAt_(size_t(c.lanes()), -1),
      accs_(size_t(c.mxm_accumulators)) {
  if (functional_) {
    shadow_.assign(size_t(lanes_) * size_t(lanes_), 0.0);
    active_ = shadow_;
  }
}

void MxmPlane::config(DType mode, Cycle) {
  mode_ = mode;
  installed_ = false;
  std::fill(loadedAt_.begin(), loadedAt_.end(), -1);
}

void MxmPlane::loadRows(DType t, uint32_t first, const std::vector<std::vector<double>>& values, uint32_t n, Cycle at) {
  if (t != mode_)
    throw Violation(fmt::format("{} is in {} mode; lw.{} needs `config.{}` first", name_, dtypeName(mode_),
                                dtypeName(t), dtypeName(t)));
  if (at == lastLw_) throw Violation(fmt::format("{} takes one lw per cycle", name_));
  lastLw_ = at;
  if (first + n > uint32_t(rows()))
    throw Violation(fmt::format("rows {}..{} are outside {} ({} rows in {} mode)", first, first + n - 1, name_, rows(),
                                dtypeName(mode_)));
  for (uint32_t i = 0; i < n; ++i) {
    loadedAt_[first + i] = at + loadDelay_;
    if (functional_ && !values[i].empty())
      std::copy(values[i].begin(), values[i].end(), shadow_.begin() + long(size_t(first + i) * size_t(lanes_)));
  }
}

void MxmPlane::install(uint32_t n, Cycle t) {
  if (n == 0 || n > uint32_t(rows()))
    throw Violation(fmt::format("iw {}: {} holds 1..{} rows in {} mode", n, name_, rows(), dtypeName(mode_)));
  for (uint32_t r = 0; r < n; ++r) {
    if (loadedAt_[r] < 0)
      throw Violation(
          fmt::format("installs {} rows into {} but row {} was not loaded since the last install", n, name_, r));
    if (loadedAt_[r] > t)
      throw Violation(fmt::format("installs {} rows into {} but row {} is still loading until cycle {}", n, name_, r,
                                  loadedAt_[r]));
  }
  if (functional_) {
    std::copy(shadow_.begin(), shadow_.begin() + long(size_t(n) * size_t(lanes_)), active_.begin());
    std::fill(active_.begin() + long(size_t(n) * size_t(lanes_)), active_.end(), 0.0);
  }
  std::fill(loadedAt_.begin(), loadedAt_.end(), -1);
  installed_ = true;
  installIssue_ = t;
  installDone_ = t + installDelay_;
}

void MxmPlane::activate(DType t, const std::vector<double>& x, uint32_t acc, AccMode mode, Cycle at) {
  if (t != mode_)
    throw Violation(fmt::format("{} is in {} mode; abc.{} needs `config.{}` first", name_, dtypeName(mode_),
                                dtypeName(t), dtypeName(t)));
  if (!installed_) throw Violation(fmt::format("{} has no weights installed (lw then iw first)", name_));
  if (at < installDone_)
    throw Violation(fmt::format("{} is installing the weights of the iw in cycle {} until cycle {}", name_,
                                installIssue_, installDone_));
  if (at == lastAbc_) throw Violation(fmt::format("{} takes one abc per cycle", name_));
  lastAbc_ = at;
  Acc& a = accs_[acc];
  if (mode == AccMode::Add && !a.full)
    throw Violation(fmt::format("adds into accumulator {} of {}, which holds nothing (use set)", acc, name_));
  if (mode == AccMode::Set && a.full)
    throw Violation(
        fmt::format("sets accumulator {} of {}, which still holds the result of the abc in cycle {} "
                    "(drain it with acc first)",
                    acc, name_, a.lastPass));
  if (functional_ && !x.empty()) {
    std::vector<double> y(size_t(lanes_), 0.0);
    const int k = rows();
    for (int col = 0; col < lanes_; ++col) {
      if (mode_ == DType::I8) {
        int64_t s = 0;
        for (int r = 0; r < k; ++r)
          s += int64_t(x[size_t(r)]) * int64_t(active_[size_t(r) * size_t(lanes_) + size_t(col)]);
        y[size_t(col)] = double(s);
      } else {
        float s = 0;
        for (int r = 0; r < k; ++r) s += float(x[size_t(r)]) * float(active_[size_t(r) * size_t(lanes_) + size_t(col)]);
        y[size_t(col)] = s;
      }
    }
    if (mode == AccMode::Set || a.v.empty()) a.v.assign(size_t(lanes_), 0.0);
    for (size_t i = 0; i < y.size(); ++i)
      a.v[i] = mode_ == DType::I8 ? double(int32_t(uint32_t(int64_t(a.v[i]) + int64_t(y[i]))))
                                  : double(float(a.v[i]) + float(y[i]));
  }
  a.full = true;
  a.lastPass = at;
  a.ready = at + passDelay_;
}

std::vector<double> MxmPlane::drain(DType t, uint32_t acc, Cycle at) {
  const DType want = mode_ == DType::I8 ? DType::I32 : DType::F32;
  if (t != want)
    throw Violation(
        fmt::format("{} in {} mode accumulates {}, not {}", name_, dtypeName(mode_), dtypeName(want), dtypeName(t)));
  Acc& a = accs_[acc];
  if (!a.full)
    throw Violation(fmt::format("accumulator {} of {} holds no result (no abc since it was drained)", acc, name_));
  if (at < a.ready)
    throw Violation(fmt::format("drains accumulator {} of {} in cycle {} but the abc of cycle {} completes in cycle {}",
                                acc, name_, at, a.lastPass, a.ready));
  a.full = false;
  std::vector<double> out;
  out.swap(a.v);
  return out;
}

}  // namespace lpu
