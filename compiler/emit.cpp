#include "emit.h"

#include <algorithm>
#include <map>

#include "isa/formats.h"

namespace lpu {
namespace {

struct Timed {
  Cycle cycle;
  Instr instr;
};

// Does b continue a run from a: same instruction but the immediate, spaced d, stepped by stride?
bool continues(const Timed& a, const Timed& b, Cycle d, int64_t stride) {
  Instr x = b.instr;
  x.imm = a.instr.imm;
  return x == a.instr && b.cycle - a.cycle == d && int64_t(b.instr.imm) - int64_t(a.instr.imm) == stride;
}

// What one REPEAT can hold, from its format's field widths: n more issues,
// d cycles apart (at least 1), stepped by a signed stride.
struct RepeatLimits {
  uint32_t maxN;
  Cycle maxD;
  int64_t minStride, maxStride;
};

RepeatLimits repeatLimits() {
  const auto width = [](Field f) { return fieldWidth(Format::Repeat, f); };
  const int64_t half = int64_t(1) << (width(Field::Stride) - 1);
  return {uint32_t((uint64_t(1) << width(Field::N)) - 1), (Cycle(1) << width(Field::D)) - 1, -half, half - 1};
}

void emitQueue(const std::vector<Timed>& items, Queue& q) {
  const RepeatLimits lim = repeatLimits();
  Cycle at = 0;
  for (size_t i = 0; i < items.size();) {
    if (items[i].cycle > at) {
      Instr nop;
      nop.op = Opcode::NOP;
      nop.imm = uint32_t(items[i].cycle - at);
      q.code.push_back(nop);
    }
    q.code.push_back(items[i].instr);
    size_t run = 0;
    if (i + 1 < items.size()) {
      const Cycle d = items[i + 1].cycle - items[i].cycle;
      const int64_t stride = int64_t(items[i + 1].instr.imm) - int64_t(items[i].instr.imm);
      if (d >= 1 && d <= lim.maxD && stride >= lim.minStride && stride <= lim.maxStride)
        while (i + run + 1 < items.size() && run < lim.maxN && continues(items[i + run], items[i + run + 1], d, stride))
          ++run;
      if (run > 0) {
        Instr r;
        r.op = Opcode::REPEAT;
        r.n = uint32_t(run);
        r.d = uint16_t(d);
        r.stride = int16_t(stride);
        q.code.push_back(r);
      }
    }
    at = items[i + run].cycle + 1;
    i += run + 1;
  }
}

}  // namespace

void emitQueues(const ChipConfig& c, const std::vector<Task>& tasks, const Schedule& s, Program& p, int chip) {
  std::map<int, std::vector<Timed>> byQueue;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (chip >= 0 && tasks[t].chip != chip) continue;
    const Placement& pl = s.placed[t];
    for (size_t i = 0; i < tasks[t].slots.size(); ++i) {
      const Slot& slot = tasks[t].slots[i];
      Instr in = slot.instr;
      StreamRef* fields[3] = {&in.s0, &in.s1, &in.s2};
      for (int f = 0; f < 3; ++f)
        if (slot.var[f] >= 0) {
          *fields[f] =
              StreamRef{uint8_t(pl.streamBase[size_t(slot.var[f])] + slot.off[f]), pl.east[size_t(slot.var[f])]};
        }
      QueueId q = slot.queue;
      if (slot.anyVxm) q = QueueId{Unit::VXM, false, pl.vxmAlu[i], 0};
      byQueue[queueIndex(c, q)].push_back({pl.start + slot.rel, in});
    }
  }
  bool first = true;
  for (auto& [index, items] : byQueue) {
    std::sort(items.begin(), items.end(), [](const Timed& a, const Timed& b) { return a.cycle < b.cycle; });
    Queue q{queueAt(c, index), {}};
    Instr barrier;
    barrier.op = Opcode::NOTIFY;  // the start barrier
    if (first) q.code.push_back(barrier);
    barrier.op = Opcode::SYNC;
    q.code.push_back(barrier);
    emitQueue(items, q);
    p.queues.push_back(std::move(q));
    first = false;
  }
}

}  // namespace lpu
