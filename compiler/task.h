// A task: a rigid group of instructions at fixed cycles relative to its start,
// and every resource they use. Streams do not buffer: a value passes a slice
// once, so producer and consumer are bound by exact offsets, and a chain of
// them can only be placed whole. Tasks communicate through MEM (a row written
// by one task is read by a later one) and through MXM plane order.
#pragma once
#include <string>
#include <vector>

#include "isa/program.h"

namespace lpu {

// A value on `planes` consecutive streams flowing east or west; the
// scheduler picks the stream ids.
struct StreamVar {
  bool east = true;
  int planes = 1;
};

// The value of `var` is at position `from` in cycle avail (relative) and is
// read as far as position `to` (closed interval along its direction).
struct ValueUse {
  int var;
  Cycle avail;
  int from, to;
  int plane = -1;  // one plane of the variable, or -1 for all
};

struct Slot {
  Cycle rel;
  QueueId queue;
  bool anyVxm = false;  // any free VXM ALU; the scheduler sets queue.index
  Instr instr;
  int var[3] = {-1, -1, -1};  // stream variables bound to s0, s1, s2
  int off[3] = {0, 0, 0};     // plane of the variable (a MEM access moves one plane)
};

struct PortUse {
  int slice;  // dense slice index: east * slices_per_hemisphere + index
  int bank;
  Cycle rel;
};

struct RowAccess {
  int row;    // a MEM row id from the allocator
  Cycle rel;  // read: issue cycle; write: commit cycle
};

// t(this) + rel >= t(other) + otherRel + gap
struct Dep {
  int task;
  Cycle rel, otherRel, gap;
};

struct Task {
  std::string label;
  int op = -1, layer = -1;  // graph op, for reports
  int chip = 0;             // in a joint multi-chip schedule: whose units it uses
  Cycle urgency = 0;        // list scheduler: added to its longest path (e.g. a hand-over the next stage waits for)
  std::vector<Slot> slots;
  std::vector<StreamVar> vars;
  std::vector<ValueUse> uses;
  std::vector<PortUse> ports;
  std::vector<RowAccess> reads, writes;
  std::vector<Dep> deps;
  Cycle end = 0;  // relative cycle after its last effect (max rel + max(latency, 1))
  // An absolute bound: start + notBeforeRel >= notBefore (a vector arriving
  // from another chip in a known cycle).
  Cycle notBefore = 0, notBeforeRel = 0;
};

}  // namespace lpu
