#include "scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <queue>
#include <tuple>

#include "isa/error.h"

namespace lpu {

const char* policyName(Policy p) { return p == Policy::InOrder ? "in-order" : "list"; }

bool parsePolicy(const std::string& s, Policy& out) {
  if (s == "in-order")
    out = Policy::InOrder;
  else if (s == "list")
    out = Policy::List;
  else
    return false;
  return true;
}

namespace {

class Placer {
 public:
  explicit Placer(const ChipConfig& c)
      : c_(c),
        queues_(size_t(queueCount(c))),
        ports_(size_t(2 * c.mem_slices_per_hemisphere * c.mem_banks_per_slice)),
        streams_(c.streams_per_direction, c.stream_hop),
        occ_(c.c2cCyclesPerVector()) {}

  // What fits() needs of a task that does not depend on the cycle tried:
  // its own queue clashes, the earlier VXM slots in the same cycle, its own
  // uses of each bank port in a cycle, its values used only where made, and
  // the window [start + first, start + last) of everything it holds.
  // Throws if the task conflicts with itself.
  void prepare(const Task& task) {
    first_ = 0, last_ = task.end;
    for (const Slot& sl : task.slots) first_ = std::min(first_, sl.rel), last_ = std::max(last_, sl.rel + holds(sl));
    for (const ValueUse& u : task.uses) first_ = std::min(first_, u.avail);
    for (const PortUse& u : task.ports) first_ = std::min(first_, u.rel), last_ = std::max(last_, u.rel + 1);
    std::map<std::pair<int, Cycle>, size_t> queues;
    std::map<Cycle, std::vector<size_t>> vxm;
    sameCycleVxm_.assign(task.slots.size(), {});
    for (size_t i = 0; i < task.slots.size(); ++i) {
      const Slot& s = task.slots[i];
      if (s.anyVxm) {
        sameCycleVxm_[i] = vxm[s.rel];
        vxm[s.rel].push_back(i);
      } else if (!queues.emplace(std::make_pair(queueIndex(c_, s.queue), s.rel), i).second) {
        throw Error(fmt::format("internal: task {} uses queue {} twice at relative cycle {}", task.label,
                                formatQueueId(s.queue), s.rel));
      }
    }
    std::map<std::tuple<int, int, Cycle>, int> ports;
    portSelf_.assign(task.ports.size(), 0);
    for (size_t i = 0; i < task.ports.size(); ++i)
      portSelf_[i] = ports[{task.ports[i].slice, task.ports[i].bank, task.ports[i].rel}]++;
    local_.assign(task.vars.size(), true);
    usesOf_.assign(task.vars.size(), {});
    for (size_t i = 0; i < task.uses.size(); ++i) {
      const ValueUse& u = task.uses[i];
      if (u.from != u.to) local_[size_t(u.var)] = false;
      usesOf_[size_t(u.var)].push_back(i);
    }
  }

  // Tries start cycle t (after prepare(task)); on success fills `p` (stream
  // ids, ALUs); on failure sets `next`, the first later start that might
  // fit (every start before it fails for the same resource), and why()
  // names the first resource that was taken.
  Cycle next = 0;
  bool fits(const Task& task, Cycle t, Placement& p) {
    p.start = t;
    next = t + 1;
    p.vxmAlu.assign(task.slots.size(), -1);
    for (size_t i = 0; i < task.slots.size(); ++i) {
      const Slot& s = task.slots[i];
      const Cycle at = t + s.rel;
      if (!s.anyVxm) {
        const CycleSet& q = queues_[size_t(queueIndex(c_, s.queue))];
        for (Cycle k = 0; k < holds(s); ++k)
          if (q.has(at + k)) {
            // Every start that puts this slot's window over the taken cycle,
            // or over the taken ones after it, fails the same way.
            next = q.nextFree(at + k) - s.rel;
            fail_ = {Fail::Queue, i};
            return false;
          }
        continue;
      }
      int alu = -1;
      for (int a = 0; a < c_.vxm_alus && alu < 0; ++a) {
        if (queues_[size_t(queueIndex(c_, QueueId{Unit::VXM, false, a, 0}))].has(at)) continue;
        bool taken = false;  // by an earlier slot of this task in the same cycle
        for (size_t j : sameCycleVxm_[i]) taken |= p.vxmAlu[j] == a;
        if (!taken) alu = a;
      }
      if (alu < 0) {
        fail_ = {Fail::Alu, i};
        return false;
      }
      p.vxmAlu[i] = alu;
    }
    for (size_t i = 0; i < task.ports.size(); ++i) {
      const PortUse& u = task.ports[i];
      const int n = ports_[size_t(u.slice * c_.mem_banks_per_slice + u.bank)].count(t + u.rel) + portSelf_[i];
      if (n >= c_.mem_ports_per_bank) {
        fail_ = {Fail::Bank, i};
        return false;
      }
    }
    p.streamBase.assign(task.vars.size(), -1);
    p.east.assign(task.vars.size(), true);
    // A value read only where it is made (a VXM result feeding the VXM) may
    // take a stream of either direction (local_); others flow the way they must.
    pending_.clear();
    pendingAt_.clear();
    for (size_t v = 0; v < task.vars.size(); ++v) {
      const StreamVar& sv = task.vars[v];
      // Either way: the direction with the lowest free streams (the less busy).
      for (int d = 0; d < (local_[v] ? 2 : 1); ++d) {
        const bool east = d == 0 ? sv.east : !sv.east;
        const int most = p.streamBase[v] < 0 ? c_.streams_per_direction : p.streamBase[v];
        for (int base = 0; base + sv.planes <= most; ++base)
          if (varFits(task, int(v), east, base, t)) {
            if (p.streamBase[v] < 0 || base < p.streamBase[v]) p.streamBase[v] = base, p.east[v] = east;
            break;
          }
      }
      if (p.streamBase[v] < 0) {
        fail_ = {Fail::Streams, v};
        return false;
      }
      const bool east = p.east[v];
      for (size_t ui : usesOf_[v]) {
        const ValueUse& u = task.uses[ui];
        for (int k = 0; k < sv.planes; ++k)
          if (u.plane < 0 || u.plane == k) {
            const Pending r{east, p.streamBase[v] + k, streams_.slotOf(east, u.from, t + u.avail),
                            std::min(u.from, u.to), std::max(u.from, u.to)};
            pending_.push_back(r);
            pendingAt_[pendingKey(r.east, r.stream, r.slot)].push_back(pending_.size() - 1);
          }
      }
    }
    return true;
  }

  std::string why(const Task& task) const {
    const size_t i = fail_.index;
    switch (fail_.kind) {
      case Fail::Queue:
        return fmt::format("queue {} at relative cycle {}", formatQueueId(task.slots[i].queue), task.slots[i].rel);
      case Fail::Alu: return fmt::format("no free VXM ALU at relative cycle {}", task.slots[i].rel);
      case Fail::Bank:
        return fmt::format("bank {} of slice {} at relative cycle {}", task.ports[i].bank, task.ports[i].slice,
                           task.ports[i].rel);
      case Fail::Streams: return fmt::format("no free streams for value {} ({} planes)", i, task.vars[i].planes);
    }
    return "";
  }

  void reserve(const Task& task, const Placement& p) {
    for (size_t i = 0; i < task.slots.size(); ++i) {
      QueueId q = task.slots[i].queue;
      if (task.slots[i].anyVxm) q = QueueId{Unit::VXM, false, p.vxmAlu[i], 0};
      for (Cycle k = 0; k < holds(task.slots[i]); ++k)
        queues_[size_t(queueIndex(c_, q))].add(p.start + task.slots[i].rel + k);
    }
    for (const PortUse& u : task.ports) ports_[size_t(u.slice * c_.mem_banks_per_slice + u.bank)].add(p.start + u.rel);
    for (const Pending& r : pending_) streams_.take(r.east, r.stream, r.slot, r.lo, r.hi);
    horizon_ = std::max(horizon_, p.start + last_);
  }
  // The first start at which the prepared task's window lies after every
  // reservation: if it does not fit there, it conflicts with itself.
  Cycle pastReservations() const { return horizon_ - first_ + 1; }

 private:
  // Cycles a slot holds its queue: a SEND its link for a vector's time on the wire.
  Cycle holds(const Slot& s) const { return s.instr.op == Opcode::SEND ? occ_ : 1; }
  struct Pending {
    bool east;
    int stream;
    int64_t slot;
    int lo, hi;
  };
  bool varFits(const Task& task, int v, bool east, int base, Cycle t) const {
    const StreamVar& sv = task.vars[size_t(v)];
    for (size_t ui : usesOf_[size_t(v)]) {
      const ValueUse& u = task.uses[ui];
      const int64_t slot = streams_.slotOf(east, u.from, t + u.avail);
      const int lo = std::min(u.from, u.to), hi = std::max(u.from, u.to);
      for (int k = 0; k < sv.planes; ++k) {
        if (u.plane >= 0 && u.plane != k) continue;
        if (!streams_.free(east, base + k, slot, lo, hi)) return false;
        const auto it = pendingAt_.find(pendingKey(east, base + k, slot));  // this task's own, placed just before
        if (it == pendingAt_.end()) continue;
        for (size_t i : it->second)
          if (pending_[i].lo <= hi && lo <= pending_[i].hi) return false;
      }
    }
    return true;
  }
  static uint64_t pendingKey(bool east, int stream, int64_t slot) {
    return (uint64_t(slot) << 8) ^ (uint64_t(stream) << 1) ^ uint64_t(east);
  }

  struct Fail {
    enum Kind { Queue, Alu, Bank, Streams } kind = Queue;
    size_t index = 0;  // the slot, port use or value
  } fail_;
  const ChipConfig& c_;
  std::vector<CycleSet> queues_, ports_;
  StreamTable streams_;
  Cycle occ_;  // cycles a SEND holds its link
  std::vector<Pending> pending_;
  std::vector<bool> local_;
  std::vector<std::vector<size_t>> usesOf_;
  std::unordered_map<uint64_t, std::vector<size_t>> pendingAt_;
  std::vector<std::vector<size_t>> sameCycleVxm_;
  std::vector<int> portSelf_;
  Cycle horizon_ = 0;  // the cycle after the last one any reservation holds
  Cycle first_ = 0, last_ = 0;
};

// Longest path from each task to the end, through its dependents.
std::vector<Cycle> priorities(const std::vector<Task>& tasks, const std::vector<std::vector<int>>& users) {
  std::vector<Cycle> prio(tasks.size(), 0);
  for (size_t i = tasks.size(); i-- > 0;) {
    Cycle best = 0;
    for (int u : users[i]) best = std::max(best, prio[size_t(u)]);
    prio[i] = tasks[i].end + best + tasks[i].urgency;
  }
  return prio;
}

}  // namespace

Schedule schedule(const ChipConfig& c, const std::vector<Task>& tasks, Policy policy, int chips,
                  const std::function<void(double)>& progress) {
  // Dependences: explicit ones, and MEM rows (a read waits for the commit of
  // every earlier write of its row: several tasks may write parts of a row,
  // as KV-cache appends of several tokens do).
  std::vector<std::vector<int>> users(tasks.size()), preds(tasks.size());
  std::unordered_map<int, std::vector<int>> writers;  // row -> tasks
  for (size_t i = 0; i < tasks.size(); ++i) {
    for (const Dep& d : tasks[i].deps) {
      if (d.task < 0 || size_t(d.task) >= i)
        throw Error(fmt::format("internal: task {} depends on a later task", tasks[i].label));
      preds[i].push_back(d.task);
    }
    for (const RowAccess& r : tasks[i].reads) {
      const auto it = writers.find(r.row);
      if (it != writers.end()) preds[i].insert(preds[i].end(), it->second.begin(), it->second.end());
    }
    for (const RowAccess& w : tasks[i].writes) {
      auto& ws = writers[w.row];
      if (ws.empty() || ws.back() != int(i)) ws.push_back(int(i));
    }
    for (int p : preds[i]) users[size_t(p)].push_back(int(i));
  }
  const auto prio = priorities(tasks, users);

  Schedule s;
  s.placed.resize(tasks.size());
  std::unordered_map<int, Cycle> ready;  // row -> commit cycle
  std::vector<Placer> placers;
  for (int i = 0; i < chips; ++i) placers.emplace_back(c);
  Cycle last = 0;
  size_t placedCount = 0;
  auto place = [&](size_t i) {
    const Task& t = tasks[i];
    Cycle earliest = std::max<Cycle>(policy == Policy::InOrder ? last : 0, t.notBefore - t.notBeforeRel);
    for (const Dep& d : t.deps)
      earliest = std::max(earliest, s.placed[size_t(d.task)].start + d.otherRel + d.gap - d.rel);
    for (const RowAccess& r : t.reads) {
      const auto it = ready.find(r.row);
      if (it != ready.end()) earliest = std::max(earliest, it->second - r.rel);
    }
    Placement p;
    Placer& placer = placers[size_t(t.chip)];
    placer.prepare(t);
    Cycle at = std::max<Cycle>(earliest, 0);
    const Cycle limit = std::max(at, placer.pastReservations());
    while (!placer.fits(t, at, p)) {
      if (at >= limit) {
        std::string slots;
        for (const Slot& sl : t.slots)
          slots += fmt::format(" {}@{}:{}", formatQueueId(sl.queue), sl.rel, info(sl.instr.op).mnemonic);
        throw Error(fmt::format("internal: task {} can never be placed: {} (slots:{})", t.label, placer.why(t), slots));
      }
      at = std::min(std::max(placer.next, at + 1), limit);
    }
    placer.reserve(t, p);
    for (const RowAccess& w : t.writes) ready[w.row] = std::max(ready[w.row], at + w.rel);
    s.placed[i] = std::move(p);
    s.total = std::max(s.total, at + t.end);
    last = at;
    if (progress && ++placedCount % 4096 == 0) progress(double(placedCount) / double(tasks.size()));
  };
  if (policy == Policy::InOrder) {
    for (size_t i = 0; i < tasks.size(); ++i) place(i);
    return s;
  }
  std::vector<int> waiting(tasks.size());
  std::priority_queue<std::pair<Cycle, int>> readyQ;  // (priority, -index): longest path first, then creation order
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::sort(preds[i].begin(), preds[i].end());
    preds[i].erase(std::unique(preds[i].begin(), preds[i].end()), preds[i].end());
    waiting[i] = int(preds[i].size());
    if (!waiting[i]) readyQ.push({prio[i], -int(i)});
  }
  for (auto& u : users) {
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
  }
  while (!readyQ.empty()) {
    const size_t i = size_t(-readyQ.top().second);
    readyQ.pop();
    place(i);
    for (int u : users[i])
      if (--waiting[size_t(u)] == 0) readyQ.push({prio[size_t(u)], -u});
  }
  return s;
}

}  // namespace lpu
