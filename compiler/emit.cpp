#include "emit.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "isa/formats.h"

namespace lpu {
namespace {

struct Timed {
  Cycle cycle;
  Instr instr;
  size_t id;  // which task slot (an index into the emitter's list of them)
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

// Appends the items to q as code; refs[item.id] gets each item's issue.
void emitQueue(const std::vector<Timed>& items, int queue, Queue& q, std::vector<IssueRef>& refs) {
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
    const uint32_t index = uint32_t(q.code.size() - 1);
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
    for (size_t k = 0; k <= run; ++k) refs[items[i + k].id] = IssueRef{queue, index, uint32_t(k)};
    at = items[i + run].cycle + 1;
    i += run + 1;
  }
}

// One slot's streams (bound), each with the variable and plane it belongs to.
struct VarPlane {
  StreamRef s;
  int var, plane;
};
// (A result goes on s0; operands come from s1 and s2, and from s0 for write and scatter.)
std::vector<VarPlane> varPlanes(const std::vector<StreamRef>& streams, bool read, const Task& task, const Slot& slot,
                                const Placement& pl) {
  std::vector<VarPlane> out;
  const bool s0read = slot.instr.op == Opcode::WRITE || slot.instr.op == Opcode::SCATTER;
  for (const StreamRef& s : streams)
    for (int f : {1, 2, 0}) {
      if (read ? f == 0 && !s0read : f != 0) continue;
      const int v = slot.var[f];
      if (v < 0 || pl.east[size_t(v)] != s.east) continue;
      const int p = int(s.id) - pl.streamBase[size_t(v)];
      if (p >= 0 && p < task.vars[size_t(v)].planes) {
        out.push_back({s, v, p});
        break;
      }
    }
  return out;
}

// A source as found, with its reader's slot id.
struct Stated {
  uint32_t id;
  StreamSource source;
};

// The sources in the order of their readers' issues (`order`: per slot id,
// its issue's place in the program's queue by queue order of issues), each
// issue's by stream, and one of each: x op x reads one stream twice.
std::vector<StreamSource> inIssueOrder(const std::vector<Stated>& found, const std::vector<uint32_t>& order) {
  std::vector<size_t> end(order.size() + 1, 0);  // a counting sort: per issue, where its sources end
  for (const Stated& s : found) ++end[order[s.id] + 1];
  for (size_t i = 1; i < end.size(); ++i) end[i] += end[i - 1];
  std::vector<StreamSource> out(found.size());
  for (const Stated& s : found) out[end[order[s.id]]++] = s.source;
  const auto before = [](const StreamSource& a, const StreamSource& b) {
    return std::make_pair(a.stream.east, a.stream.id) < std::make_pair(b.stream.east, b.stream.id);
  };
  const auto same = [](const StreamSource& a, const StreamSource& b) {
    return a.reader == b.reader && a.stream == b.stream && a.writer == b.writer;
  };
  size_t kept = 0;
  for (size_t i = 0, from = 0; i < order.size(); from = end[i], ++i) {
    for (size_t j = from + 1; j < end[i]; ++j)  // (few: insertion, stable)
      for (size_t k = j; k > from && before(out[k], out[k - 1]); --k) std::swap(out[k], out[k - 1]);
    for (size_t j = from; j < end[i]; ++j)
      if (kept == 0 || !same(out[kept - 1], out[j])) out[kept++] = out[j];
  }
  out.resize(kept);
  return out;
}

// Per task slot (in task order): its emitted instruction and cycle, and its
// queue's position on the chip.
struct SlotAt {
  const Timed* item = nullptr;
  int pos = 0;
};

// The producer check's sources of one task: each stream read by one of its
// slots comes from the slot of the task writing that plane of the same
// variable, the nearest one upstream whose value passes the reader's
// position in the cycle it reads (a value later replaced downstream is a
// chain, e.g. a vector rewritten in place).
void taskSources(const ChipConfig& c, const Task& task, const Placement& pl, size_t first,
                 const std::vector<IssueRef>& refs, const std::vector<SlotAt>& at, std::vector<Stated>& out) {
  struct Writer {
    int var, plane;
    Cycle stream;  // the stream slot its value travels in
    size_t slot;
    int pos;
  };
  std::vector<Writer> writers;  // sorted by (var, plane, stream slot)
  const int ls = c.lanes_per_superlane, hop = c.stream_hop;
  const auto slotOf = [&](bool east, int pos, Cycle t) { return east ? t - Cycle(pos) * hop : t + Cycle(pos) * hop; };
  for (size_t j = 0; j < task.slots.size(); ++j) {
    const SlotAt& a = at[first + j];
    const Cycle avail = a.item->cycle + c.latencyOf(info(a.item->instr.op).latency);
    for (const VarPlane& w : varPlanes(streamsWritten(a.item->instr, ls), false, task, task.slots[j], pl))
      writers.push_back({w.var, w.plane, slotOf(w.s.east, a.pos, avail), j, a.pos});
  }
  const auto key = [](const Writer& w) { return std::make_tuple(w.var, w.plane, w.stream); };
  std::sort(writers.begin(), writers.end(), [&](const Writer& x, const Writer& y) { return key(x) < key(y); });
  for (size_t i = 0; i < task.slots.size(); ++i) {
    const SlotAt& a = at[first + i];
    const int pos = a.pos;
    const Cycle t = a.item->cycle;
    for (const VarPlane& r : varPlanes(streamsRead(a.item->instr, ls), true, task, task.slots[i], pl)) {
      // (none: made elsewhere; another chip's send arrives by recv, its own slot)
      // Writers of the variable's plane into the slot passing the reader (a variable's planes flow one way).
      const auto want = std::make_tuple(r.var, r.plane, slotOf(r.s.east, pos, t));
      auto w = std::lower_bound(writers.begin(), writers.end(), want,
                                [&](const Writer& x, const decltype(want)& k) { return key(x) < k; });
      const Writer* best = nullptr;
      for (; w != writers.end() && key(*w) == want; ++w) {
        if (w->slot == i) continue;
        if (r.s.east ? w->pos > pos : w->pos < pos) continue;  // downstream of the reader
        if (!best || (r.s.east ? w->pos > best->pos : w->pos < best->pos)) best = &*w;
      }
      if (best) out.push_back({uint32_t(first + i), {refs[first + i], r.s, refs[first + best->slot]}});
    }
  }
}

// The producer check's sources of MEM words: each read takes the value of
// the last write to its word that commits by then, or the data section's.
// (Gathers and scatters address words per lane, from a stream: not stated.)
void wordSources(const ChipConfig& c, const std::vector<IssueRef>& refs, const std::vector<SlotAt>& at,
                 const std::vector<QueueId>& queueOf, std::vector<Stated>& out) {
  struct Access {
    uint64_t word;  // east, slice, address
    Cycle at;       // a read's issue, a write's commit (a read in that cycle sees it)
    bool read;
    uint32_t id;
  };
  std::vector<Access> list;
  for (size_t i = 0; i < at.size(); ++i) {
    if (!at[i].item) continue;  // another chip's
    const Instr& in = at[i].item->instr;
    const QueueId& q = queueOf[i];
    if (q.unit != Unit::MEM || (in.op != Opcode::READ && in.op != Opcode::WRITE)) continue;
    const bool read = in.op == Opcode::READ;
    const uint64_t word = (uint64_t(q.east) << 40) | (uint64_t(q.index) << 32) | in.imm;
    list.push_back({word, read ? at[i].item->cycle : at[i].item->cycle + c.latency.mem_write, read, uint32_t(i)});
  }
  std::sort(list.begin(), list.end(), [](const Access& a, const Access& b) {
    if (a.word != b.word) return a.word < b.word;
    return a.at != b.at ? a.at < b.at : !a.read && b.read;  // a write committing in a read's cycle first
  });
  IssueRef last = kInitialContents;
  for (size_t k = 0; k < list.size(); ++k) {
    if (k == 0 || list[k].word != list[k - 1].word) last = kInitialContents;
    if (list[k].read)
      out.push_back({list[k].id, {refs[list[k].id], kWordRead, last}});
    else
      last = refs[list[k].id];
  }
}

}  // namespace

void emitQueues(const ChipConfig& c, const std::vector<Task>& tasks, const Schedule& s, Program& p, int chip) {
  std::map<int, std::vector<Timed>> byQueue;
  std::vector<size_t> firstId;   // per task: its first slot's id
  std::vector<QueueId> queueOf;  // per slot id
  for (size_t t = 0; t < tasks.size(); ++t) {
    firstId.push_back(queueOf.size());
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
      byQueue[queueIndex(c, q)].push_back({pl.start + slot.rel, in, queueOf.size()});
      queueOf.push_back(q);
    }
  }
  std::vector<IssueRef> refs(queueOf.size());
  std::vector<SlotAt> at(queueOf.size());
  bool first = true;
  for (auto& [index, items] : byQueue) {
    std::sort(items.begin(), items.end(), [](const Timed& a, const Timed& b) { return a.cycle < b.cycle; });
    const int pos = c.position(queueAt(c, index));
    for (const Timed& item : items) at[item.id] = {&item, pos};
    Queue q{queueAt(c, index), {}};
    Instr barrier;
    barrier.op = Opcode::NOTIFY;  // the start barrier
    if (first) q.code.push_back(barrier);
    barrier.op = Opcode::SYNC;
    q.code.push_back(barrier);
    emitQueue(items, int(p.queues.size()), q, refs);
    p.queues.push_back(std::move(q));
    first = false;
  }
  std::vector<uint32_t> order(queueOf.size(), 0);  // per slot id: its issue's place in the program
  uint32_t issue = 0;
  for (const auto& [index, items] : byQueue)
    for (const Timed& item : items) order[item.id] = issue++;
  std::vector<Stated> found;
  for (size_t t = 0; t < tasks.size(); ++t)
    if (chip < 0 || tasks[t].chip == chip) taskSources(c, tasks[t], s.placed[t], firstId[t], refs, at, found);
  wordSources(c, refs, at, queueOf, found);
  p.sources = inIssueOrder(found, order);
  checkSources(p, "compiler");
}

}  // namespace lpu
