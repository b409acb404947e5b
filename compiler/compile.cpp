#include "compile.h"

#include <fmt/format.h>

#include <chrono>

#include "emit.h"
#include "isa/error.h"

namespace lpu {

Compiled compileGraph(const Graph& g, const ChipConfig& c, const CompileOptions& o, Policy policy) {
  const auto t0 = std::chrono::steady_clock::now();
  validate(g, g.name.empty() ? "graph" : g.name);
  Compiled out;
  out.policy = policy;
  out.precision = o.precision;
  out.program.chip = c.name;
  Lowerer L(g, c, o, out.program);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    L.lower(i);
    // Past a full SRAM only the bytes still needed count: drop the tasks
    // (a model many times too big would otherwise hold them all).
    if (L.layout().overflowed()) std::vector<Task>().swap(L.tasks());
  }
  L.layout().checkFits(g.model.empty() ? (g.name.empty() ? "the graph" : g.name) : g.model);
  const std::vector<Task>& tasks = L.tasks();
  const Schedule s = schedule(c, tasks, policy);
  emitQueues(c, tasks, s, out.program);
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
  for (const Queue& q : out.program.queues) out.sram.program += q.code.size() * 8;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lpu
