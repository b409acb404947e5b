// One MXM plane: a lanes x lanes array (int8), or lanes/2 x lanes in fp16
// mode, with a double-buffered weight store and accumulator registers.
//   LW  rows into the shadow buffer (mxm_load cycles)
//   IW  n: the first n loaded rows become the array's weights (mxm_install)
//   ABC x: acc[a] (=|+=) x . W, int8 -> int32 or fp16 -> fp32 (mxm_pass)
//   ACC a: the accumulator onto 4 streams, then cleared (mxm_acc)
// Checks: weights installed before use and not mid-install, rows loaded
// before install, accumulator ready before it is drained, one LW and one ABC
// per cycle, the element type matching the plane's mode.
#pragma once
#include <string>
#include <vector>

#include "isa/arch/chip_config.h"
#include "types.h"

namespace lpu {

class MxmPlane {
 public:
  MxmPlane(const ChipConfig& c, std::string name, bool functional);

  void config(DType mode, Cycle t);
  // rows[i] holds row (first + i) as doubles, or is empty in timing-only mode.
  void loadRows(DType t, uint32_t first, const std::vector<std::vector<double>>& values, uint32_t n, Cycle at);
  void install(uint32_t n, Cycle t);
  void activate(DType t, const std::vector<double>& x, uint32_t acc, AccMode mode, Cycle at);
  std::vector<double> drain(DType t, uint32_t acc, Cycle at);
  int rows() const { return mode_ == DType::F16 ? lanes_ / 2 : lanes_; }

 private:
  struct Acc {
    std::vector<double> v;
    Cycle ready = 0;
    bool full = false;
    Cycle lastPass = 0;
  };
  std::string name_;
  int lanes_, loadDelay_, installDelay_, passDelay_;
  bool functional_;
  DType mode_ = DType::I8;
  std::vector<double> shadow_, active_;  // rows x lanes
  std::vector<Cycle> loadedAt_;          // -1: not loaded since the last IW
  bool installed_ = false;
  Cycle installDone_ = 0, installIssue_ = 0;
  Cycle lastLw_ = -1, lastAbc_ = -1;
  std::vector<Acc> accs_;
};

}  // namespace lpu
