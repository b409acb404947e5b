#include "compile.h"

#include <fmt/format.h>

#include <chrono>

#include "emit.h"
#include "isa/error.h"
#include "transfer.h"

namespace lpu {

namespace {

// Receives every vector of each tensor the chip receives (RECV k at
// relative cycle k * occupancy, as the sender spaces its SENDs), no earlier
// than the first vector's arrival.
void addRecvTasks(Transfers& x, Lowerer& L, const CompileOptions& o) {
  for (const LinkRecv& r : o.recvs) {
    const Tensor& t = L.p.tensors[size_t(L.act(r.tensor).tensor)];
    std::vector<uint32_t> rows(t.rows);
    for (uint32_t i = 0; i < t.rows; ++i) rows[i] = i;
    x.receive(0, r.tensor, r.link, rows, bytes(t.dtype), {}, r.firstArrival);
  }
}

// Sends every vector of each tensor the chip sends: one task per tensor.
std::vector<int> addSendTasks(Transfers& x, Lowerer& L, const CompileOptions& o) {
  std::vector<int> tasks;
  for (const LinkSend& s : o.sends) {
    std::vector<uint32_t> rows(L.p.tensors[size_t(L.act(s.tensor).tensor)].rows);
    for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
    tasks.push_back(x.send(0, s.tensor, s.link, rows).task);
  }
  return tasks;
}

}  // namespace

Compiled compileGraph(const Graph& g, const ChipConfig& c, const CompileOptions& o, Policy policy) {
  const auto t0 = std::chrono::steady_clock::now();
  validate(g, g.name.empty() ? "graph" : g.name);
  Compiled out;
  out.policy = policy;
  out.precision = o.precision;
  out.program.chip = c.name;
  Lowerer L(g, c, o, out.program);
  Transfers x(c, {&L});
  addRecvTasks(x, L, o);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    L.lower(i);
    // Past a full SRAM only the bytes still needed count: drop the tasks
    // (a model many times too big would otherwise hold them all).
    if (L.layout().overflowed()) std::vector<Task>().swap(L.tasks());
  }
  const std::string what =
      g.model.empty() ? (g.name.empty() ? "the graph" : g.name) : g.model;  // for "needs N bytes of SRAM"
  L.layout().checkFits(what);
  const std::vector<int> sendTasks = addSendTasks(x, L, o);
  const std::vector<Task>& tasks = L.tasks();
  const Schedule s = schedule(c, tasks, policy);
  for (int t : sendTasks) {
    int n = 0;
    Cycle first = -1;
    for (const Slot& sl : tasks[size_t(t)].slots)
      if (sl.instr.op == Opcode::SEND) ++n, first = first < 0 ? sl.rel : std::min(first, sl.rel);
    out.sendStart.push_back(s.placed[size_t(t)].start + first);
    out.sendVectors.push_back(n);
  }
  emitQueues(c, tasks, s, out.program);
  L.layout_.addProgramText(out.program);
  L.layout().checkFits(what);
  out.predicted = s.total;
  out.tasks = tasks.size();

  // Per-op cycle spans, in graph order.
  out.ops.resize(g.ops.size());
  for (size_t i = 0; i < g.ops.size(); ++i)
    out.ops[i] = {g.ops[i].name, opName(g.ops[i].kind), g.ops[i].layer, -1, -1, 0};
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (tasks[t].op < 0) continue;
    OpCycles& oc = out.ops[size_t(tasks[t].op)];
    const Cycle a = s.placed[t].start, b = a + tasks[t].end;
    oc.start = oc.start < 0 ? a : std::min(oc.start, a);
    oc.end = std::max(oc.end, b);
    ++oc.tasks;
  }
  for (const GTensor& t : g.tensors)
    if (t.kind == TensorKind::Output) out.outputs[t.name] = L.act(t.name);
  out.mxm = L.work();
  out.sram.weights = L.layout().weightBytes();
  out.sram.kv_cache = L.layout().cacheBytes();
  out.sram.activations = L.layout().activationBytes();
  out.sram.program = L.layout().programBytes();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lpu
