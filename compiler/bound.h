// The limits a schedule is measured against (CHIP.md, last section): the
// fewest cycles the hardware could take for a program's MXM work, whatever
// the compiler did with it. Per chip the larger of the bytes it streams into
// its MXM planes over their weight streams' rate and its useful MACs over
// the planes' rate; for a system the busiest chip of each pipeline stage,
// summed over the stages (they run in turn), plus the link latency of each
// chip-to-chip exchange on the path.
#pragma once
#include <string>
#include <vector>

#include "partition.h"

namespace lpu {

// An fp16 MAC costs the MXM four int8 MACs: the published peaks, 750 TOPS
// int8 and 188 TFLOPS fp16 (CHIP.md).
constexpr uint64_t kFp16MacCost = 4;

LPU_JSON_TYPE(MxmWork, mxm_bytes, macs_int8, macs_fp16)

// A chip's MXM peaks, from its config: bytes a cycle into its planes
// (planes x mxm_weight_streams x lanes: 20,480 for groq-tsp-v1), and int8
// MACs a cycle (planes x lanes x lanes: 409,600).
uint64_t mxmBytesPerCycle(const ChipConfig& c);
uint64_t mxmMacsPerCycle(const ChipConfig& c);

struct Bound {
  uint64_t mxm_bytes = 0, macs_int8 = 0, macs_fp16 = 0;  // summed over the chips
  Cycle bytes_cycles = 0;  // per chip ceil(bytes / bytes a cycle): of each stage's largest, the sum
  Cycle macs_cycles = 0;   // per chip ceil((int8 + 4 x fp16 MACs) / MACs a cycle): likewise
  int exchanges = 0;       // chip-to-chip exchanges on the path
  Cycle link_cycles = 0;   // exchanges x the link latency
  // Per stage the largest over its chips of max(bytes, MACs), summed, plus link_cycles.
  Cycle cycles = 0;
  // The same with each stage's work spread evenly over its chips (the
  // mapping's 320-lane chunks and kv heads left aside): the hardware's bound
  // for any split of the stages' work, never above `cycles`.
  Cycle even_cycles = 0;
  std::string limit;  // the largest of the three terms: "mxm_bytes", "macs" or "links"
};
LPU_JSON_TYPE(Bound, mxm_bytes, macs_int8, macs_fp16, bytes_cycles, macs_cycles, exchanges, link_cycles, cycles,
              even_cycles, limit)

Bound chipBound(const ChipConfig& c, const MxmWork& w);
// Exchanges: with tensor parallelism one after each block (a residual add,
// an Add op within a layer: the all-reduce of its last matmul's partial
// results), and one hand-over from each stage to the next.
Bound systemBound(const CompiledSystem& s, const ChipConfig& c);
// Programs run one after another (a request's steps): each term summed, the
// limit the largest of the sums.
Bound sequenceBound(const std::vector<Bound>& steps);
// The useful MACs (fp16 at 4x) over what `chips` could do in `cycles`.
double mxmUtilization(const ChipConfig& c, const Bound& b, Cycle cycles, size_t chips);

}  // namespace lpu
