#include "compile.h"

#include <fmt/format.h>

#include <chrono>

#include "emit.h"
#include "isa/error.h"

namespace lpu {

namespace {

QueueId linkQueue(int link) { return QueueId{Unit::C2C, false, link, 0}; }

// Deskews each link the chip receives on and receives every vector: one
// task per tensor, RECV k at relative cycle k * occupancy (the sender
// spaces its SENDs so), no earlier than the first vector's arrival.
std::vector<int> addLinkTasks(Lowerer& L, const CompileOptions& o) {
  const ChipConfig& c = L.c;
  const int occ = c.c2cCyclesPerVector();
  for (const LinkRecv& r : o.recvs) {
    const ActTensor& x = L.act(r.tensor);
    const Tensor& t = L.p.tensors[size_t(x.tensor)];
    TaskBuilder d = L.builder(fmt::format("deskew.{}", r.link));
    Instr dk;
    dk.op = Opcode::DESKEW;
    dk.imm = uint32_t(r.link);
    d.issue(0, linkQueue(r.link), dk);
    const int deskew = L.addTask(d);
    TaskBuilder b = L.builder(fmt::format("recv.{}", r.tensor));
    int k = 0;
    for (uint32_t row = 0; row < t.rows; ++row)
      for (int pl = 0; pl < bytes(t.dtype); ++pl, ++k) {
        Instr rv;
        rv.op = Opcode::RECV;
        rv.imm = uint32_t(r.link);
        const auto v = b.issue(Cycle(k) * occ, linkQueue(r.link), rv);
        b.writePlane(x.tensor, row, pl, v, x.firstRow + int(row));
      }
    b.notBefore(0, r.firstArrival);
    b.dependOn(deskew, 0, 0, c.latency.c2c_deskew);
    L.addTask(b);
  }
  return {};
}

// Sends every vector of each tensor: one task, SEND k at relative cycle
// k * occupancy, each plane read to reach the link as it issues.
std::vector<int> addSendTasks(Lowerer& L, const CompileOptions& o) {
  const ChipConfig& c = L.c;
  const int occ = c.c2cCyclesPerVector();
  std::vector<int> tasks;
  for (const LinkSend& s : o.sends) {
    const ActTensor& x = L.act(s.tensor);
    const Tensor& t = L.p.tensors[size_t(x.tensor)];
    TaskBuilder d = L.builder(fmt::format("deskew.{}", s.link));
    Instr dk;
    dk.op = Opcode::DESKEW;
    dk.imm = uint32_t(s.link);
    d.issue(0, linkQueue(s.link), dk);
    const int deskew = L.addTask(d);
    TaskBuilder b = L.builder(fmt::format("send.{}", s.tensor));
    const int pos = c.position(linkQueue(s.link));
    int k = 0;
    for (uint32_t row = 0; row < t.rows; ++row)
      for (int pl = 0; pl < bytes(t.dtype); ++pl, ++k) {
        Instr sd;
        sd.op = Opcode::SEND;
        sd.imm = uint32_t(s.link);
        const Cycle at = Cycle(k) * occ;
        b.issue(at, linkQueue(s.link), sd, {b.readPlanes({{x.tensor, row, pl, x.firstRow + int(row)}}, pos, at)});
      }
    b.dependOn(deskew, 0, 0, c.latency.c2c_deskew);
    tasks.push_back(L.addTask(b));
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
  std::vector<int> sendTasks = addLinkTasks(L, o);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    L.lower(i);
    // Past a full SRAM only the bytes still needed count: drop the tasks
    // (a model many times too big would otherwise hold them all).
    if (L.layout().overflowed()) std::vector<Task>().swap(L.tasks());
  }
  const std::string what =
      g.model.empty() ? (g.name.empty() ? "the graph" : g.name) : g.model;  // for "needs N bytes of SRAM"
  L.layout().checkFits(what);
  sendTasks = addSendTasks(L, o);
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
  out.sram.weights = L.layout().weightBytes();
  out.sram.kv_cache = L.layout().cacheBytes();
  out.sram.activations = L.layout().activationBytes();
  out.sram.program = L.layout().programBytes();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lpu
