#include "compile.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

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
  // Weight tiles that do not fit their planes' slices go to the slices
  // nearer the VXM, loading 12 rows a cycle a hemisphere for both of its
  // planes: placed in graph order, those would be the last op's (gpt2's
  // logits, whose loads are what the token waits for). So when a first
  // lowering spills, the graph is lowered again with the first layers'
  // tiles there instead, three quarters as many bytes (the last op's may
  // then spill a little). gpt2 at context 1024 (50.5 MB spilled): 52,769
  // cycles as placed first; with the first layers' tiles taking 0.3, 0.45,
  // 0.6, 0.75, 0.8 or all of that, 52,342, 51,411, 51,381, 51,480, 51,370,
  // 52,374. One llama-2-70b layer on a node and llama-3.1-8b on a rack do
  // not spill.
  std::optional<Lowerer> Lopt;
  std::optional<Transfers> xopt;
  // Lowers the graph afresh into out.program; `spillFirst`: Layout::setSpillFirst.
  auto lowerInto = [&](uint64_t spillFirst) {
    out.program = Program{};
    out.program.chip = c.name;
    Lopt.emplace(g, c, o, out.program);
    xopt.emplace(c, std::vector<Lowerer*>{&*Lopt});
    Lowerer& L = *Lopt;
    L.layout_.setSpillFirst(spillFirst);
    addRecvTasks(*xopt, L, o);
    for (size_t i = 0; i < g.ops.size(); ++i) {
      L.lower(i);
      // Past a full SRAM only the bytes still needed count: drop the tasks
      // (a model many times too big would otherwise hold them all).
      if (L.layout().overflowed()) std::vector<Task>().swap(L.tasks());
    }
  };
  lowerInto(0);
  const uint64_t spill = Lopt->layout().overflowed() ? 0 : Lopt->layout().spilledBytes() / 4 * 3;
  if (spill > 0) {
    lowerInto(spill);
    if (Lopt->layout().overflowed()) lowerInto(0);  // it no longer fits so: as placed first
  }
  Lowerer& L = *Lopt;
  Transfers& x = *xopt;
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
