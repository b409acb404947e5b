#include "bound.h"

#include <algorithm>

namespace lpu {
namespace {

Cycle ceilDiv(uint64_t a, uint64_t b) { return Cycle((a + b - 1) / b); }

int planes(const ChipConfig& c) { return 2 * c.mxm_planes_per_hemisphere; }

void setLimit(Bound& b) {
  b.limit = b.link_cycles > std::max(b.bytes_cycles, b.macs_cycles) ? "links"
            : b.macs_cycles > b.bytes_cycles                        ? "macs"
                                                                    : "mxm_bytes";
}

}  // namespace

uint64_t mxmBytesPerCycle(const ChipConfig& c) {
  return uint64_t(planes(c)) * uint64_t(c.mxm_weight_streams) * uint64_t(c.lanes());
}

uint64_t mxmMacsPerCycle(const ChipConfig& c) {
  return uint64_t(planes(c)) * uint64_t(c.lanes()) * uint64_t(c.lanes());
}

Bound chipBound(const ChipConfig& c, const MxmWork& w) {
  Bound b;
  b.mxm_bytes = w.mxm_bytes, b.macs_int8 = w.macs_int8, b.macs_fp16 = w.macs_fp16;
  if (planes(c) > 0) {  // a chip without planes has no MXM work to bound
    b.bytes_cycles = ceilDiv(w.mxm_bytes, mxmBytesPerCycle(c));
    b.macs_cycles = ceilDiv(w.macs_int8 + kFp16MacCost * w.macs_fp16, mxmMacsPerCycle(c));
  }
  b.cycles = b.even_cycles = std::max(b.bytes_cycles, b.macs_cycles);
  setLimit(b);
  return b;
}

Bound systemBound(const CompiledSystem& s, const ChipConfig& c) {
  const size_t tp = size_t(std::max(1, s.split.tp)), pp = s.stages.size() / tp;
  Bound b;
  for (size_t st = 0; st < pp; ++st) {
    Cycle bytes = 0, macs = 0, most = 0;
    MxmWork stage;  // the stage's chips together
    for (size_t r = 0; r < tp; ++r) {
      const MxmWork& w = s.stages[st * tp + r].mxm;
      const Bound k = chipBound(c, w);
      stage.mxm_bytes += w.mxm_bytes, stage.macs_int8 += w.macs_int8, stage.macs_fp16 += w.macs_fp16;
      bytes = std::max(bytes, k.bytes_cycles), macs = std::max(macs, k.macs_cycles), most = std::max(most, k.cycles);
    }
    b.mxm_bytes += stage.mxm_bytes, b.macs_int8 += stage.macs_int8, b.macs_fp16 += stage.macs_fp16;
    b.bytes_cycles += bytes, b.macs_cycles += macs, b.cycles += most;
    if (planes(c) > 0)
      b.even_cycles += std::max(ceilDiv(stage.mxm_bytes, tp * mxmBytesPerCycle(c)),
                                ceilDiv(stage.macs_int8 + kFp16MacCost * stage.macs_fp16, tp * mxmMacsPerCycle(c)));
    if (st > 0) ++b.exchanges;  // the residual from the previous stage
    if (tp > 1 && st * tp < s.graphs.size())
      for (const GOp& op : s.graphs[st * tp].ops) b.exchanges += op.kind == OpKind::Add && op.layer >= 0 ? 1 : 0;
  }
  b.link_cycles = Cycle(b.exchanges) * c.c2c_link_latency;
  b.cycles += b.link_cycles, b.even_cycles += b.link_cycles;
  setLimit(b);
  return b;
}

Bound sequenceBound(const std::vector<Bound>& steps) {
  Bound b;
  for (const Bound& s : steps) {
    b.mxm_bytes += s.mxm_bytes, b.macs_int8 += s.macs_int8, b.macs_fp16 += s.macs_fp16;
    b.bytes_cycles += s.bytes_cycles, b.macs_cycles += s.macs_cycles;
    b.exchanges += s.exchanges, b.link_cycles += s.link_cycles;
    b.cycles += s.cycles, b.even_cycles += s.even_cycles;
  }
  setLimit(b);
  return b;
}

double mxmUtilization(const ChipConfig& c, const Bound& b, Cycle cycles, size_t chips) {
  const double peak = double(cycles) * double(chips) * double(mxmMacsPerCycle(c));
  return peak > 0 ? double(b.macs_int8 + kFp16MacCost * b.macs_fp16) / peak : 0.0;
}

}  // namespace lpu
