#include "group.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>

#include "emit.h"
#include "isa/error.h"

namespace lpu {
namespace {

QueueId linkQueue(int link) { return QueueId{Unit::C2C, false, link, 0}; }

bool sharded(OpKind k) { return k == OpKind::MatMul || k == OpKind::Embedding || k == OpKind::MoeFFN; }

}  // namespace

std::vector<Compiled> compileGroups(const GroupPlan& plan, const ChipConfig& c, Policy policy, Cycle& predicted) {
  const auto t0 = std::chrono::steady_clock::now();
  const int tp = plan.tp, pp = int(plan.stages.size()), n = tp * pp, occ = c.c2cCyclesPerVector();
  if (n > 2048) throw Error(fmt::format("{} chips in one schedule: the compiler takes at most 2048", n));
  for (const Graph& g : plan.stages) validate(g, g.name.empty() ? "graph" : g.name);
  std::vector<Compiled> out(static_cast<size_t>(n));
  std::vector<CompileOptions> opts;
  for (int k = 0; k < n; ++k) {
    opts.push_back(plan.options[size_t(k / tp)]);
    opts.back().rank = k % tp;
    opts.back().tp = tp;
  }
  std::vector<std::unique_ptr<Lowerer>> L;
  std::vector<Task> tasks;
  for (int k = 0; k < n; ++k) {
    out[size_t(k)].policy = policy;
    out[size_t(k)].precision = opts[size_t(k)].precision;
    out[size_t(k)].program.chip = c.name;
    L.push_back(std::make_unique<Lowerer>(plan.stages[size_t(k / tp)], c, opts[size_t(k)], out[size_t(k)].program));
    L.back()->shareTasks(&tasks, k, k << 20);
  }
  auto linkOf = [&](int a, int b) {
    const int l = plan.link(a / tp, a % tp, b / tp, b % tp);
    if (l < 0) throw Error(fmt::format("internal: chips {} and {} of the plan share no link", a, b));
    return l;
  };
  std::map<std::pair<int, int>, int> deskew;  // (chip, link) -> task
  auto deskewed = [&](int k, int link) {
    auto it = deskew.find({k, link});
    if (it != deskew.end()) return it->second;
    TaskBuilder d = L[size_t(k)]->builder(fmt::format("deskew.{}", link));
    Instr dk;
    dk.op = Opcode::DESKEW;
    dk.imm = uint32_t(link);
    d.issue(0, linkQueue(link), dk);
    return deskew[{k, link}] = L[size_t(k)]->addTask(d);
  };
  // Vector rows (all planes) of tensor `from` on chip a into tensor `to` on chip b.
  auto transfer = [&](int a, const std::string& from, int b, const std::string& to,
                      const std::vector<uint32_t>& rows) {
    if (rows.empty()) return;
    const ActTensor& ya = L[size_t(a)]->act(from);
    const ActTensor& yb = L[size_t(b)]->act(to);
    const int planes = bytes(out[size_t(a)].program.tensors[size_t(ya.tensor)].dtype);
    const int la = linkOf(a, b), lb = linkOf(b, a);
    const int da = deskewed(a, la), db = deskewed(b, lb);
    TaskBuilder sb = L[size_t(a)]->builder(fmt::format("send.{}.{}to{}", from, a, b));
    const int pos = c.position(linkQueue(la));
    Cycle at = 0;
    for (uint32_t row : rows)
      for (int pl = 0; pl < planes; ++pl, at += occ) {
        Instr sd;
        sd.op = Opcode::SEND;
        sd.imm = uint32_t(la);
        sb.issue(at, linkQueue(la), sd, {sb.readPlanes({{ya.tensor, row, pl, ya.firstRow + int(row)}}, pos, at)});
      }
    sb.dependOn(da, 0, 0, c.latency.c2c_deskew);
    const int send = L[size_t(a)]->addTask(sb);
    const Cycle sendRel = sb.rel(0);
    TaskBuilder rb = L[size_t(b)]->builder(fmt::format("recv.{}.{}from{}", to, b, a));
    at = 0;
    for (uint32_t row : rows)
      for (int pl = 0; pl < planes; ++pl, at += occ) {
        Instr rv;
        rv.op = Opcode::RECV;
        rv.imm = uint32_t(lb);
        const auto v = rb.issue(at, linkQueue(lb), rv, {}, 1, c.latency.c2c_recv);
        rb.writePlane(yb.tensor, row, pl, v, yb.firstRow + int(row));
      }
    rb.dependOn(send, 0, sendRel, c.latency.c2c_send + occ + c.c2c_link_latency);
    rb.dependOn(db, 0, 0, c.latency.c2c_deskew);
    L[size_t(b)]->addTask(rb);
  };
  auto dropIfOver = [&] {
    for (const auto& l : L)
      if (l->layout().overflowed()) return std::vector<Task>().swap(tasks);
  };

  for (int s = 0; s < pp; ++s) {
    const Graph& g = plan.stages[size_t(s)];
    if (s > 0) {  // the residual from stage s - 1: one chip to an entry chip, which forwards it
      int from = -1, entry = -1;
      for (int a = 0; a < tp && from < 0; ++a)
        for (int e = 0; e < tp && from < 0; ++e)
          if (plan.link(s - 1, a, s, e) >= 0) from = (s - 1) * tp + a, entry = s * tp + e;
      if (from < 0) throw Error(fmt::format("no link joins the chips of stages {} and {}", s - 1, s));
      std::string outName;
      for (const GTensor& t : plan.stages[size_t(s - 1)].tensors)
        if (t.kind == TensorKind::Output && !t.integer) outName = t.name;
      std::vector<uint32_t> rows(size_t(L[size_t(entry)]->act("x").vrows()));
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = uint32_t(i);
      transfer(from, outName, entry, "x", rows);
      for (int r = 0; r < tp; ++r)
        if (s * tp + r != entry) transfer(entry, "x", s * tp + r, "x", rows);
    }
    // Each chip's chunks of tensor `name` (rows of 320 lanes) to every other chip of the group.
    auto allGather = [&](const std::string& name) {
      const ActTensor& y = L[size_t(s * tp)]->act(name);
      for (int a = 0; a < tp; ++a) {
        std::vector<uint32_t> rows;
        for (int64_t r = 0; r < y.rows; ++r)
          for (int64_t j = 0; j < y.chunks; ++j)
            if (L[size_t(s * tp + a)]->owns(int(j))) rows.push_back(uint32_t(r * y.chunks + j));
        for (int b = 0; b < tp; ++b)
          if (a != b) transfer(s * tp + a, name, s * tp + b, name, rows);
      }
    };
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const int phases = L[size_t(s * tp)]->phases(i);
      for (int ph = 0; ph < phases; ++ph) {
        for (int r = 0; r < tp; ++r) {
          Lowerer& l = *L[size_t(s * tp + r)];
          l.phase = ph;
          l.gathers().clear();
          l.lower(i);
        }
        if (ph + 1 == phases) continue;
        const std::vector<std::string> names = L[size_t(s * tp)]->gathers();
        for (const std::string& name : names) allGather(name);
        if (names.empty()) continue;
        const int64_t chunks = L[size_t(s * tp)]->act(names[0]).chunks;  // the next phase's chunks start after these
        for (int r = 0; r < tp; ++r) L[size_t(s * tp + r)]->turnChunks(int(chunks));
      }
      if (tp > 1 && g.ops[i].kind == OpKind::AttnMix) {  // all-gather of the heads' rows
        const GOp& op = g.ops[i];
        const int heads = op.attrs.at("heads").get<int>(), hpg = heads / op.attrs.at("kv_heads").get<int>();
        const ActTensor& y = L[size_t(s * tp)]->act(op.outputs[0]);  // per-head rows: chunk h of row t
        for (int a = 0; a < tp; ++a) {
          std::vector<uint32_t> rows;
          for (int64_t t = 0; t < y.rows; ++t)
            for (int h = 0; h < heads; ++h)
              if (L[size_t(s * tp + a)]->ownsKvHead(h / hpg)) rows.push_back(uint32_t(t * y.chunks + h));
          for (int b = 0; b < tp; ++b)
            if (a != b) transfer(s * tp + a, op.outputs[0], s * tp + b, op.outputs[0], rows);
        }
      }
      if (tp > 1 && sharded(g.ops[i].kind)) {  // all-gather of the output chunks
        allGather(g.ops[i].outputs[0]);
        const int64_t chunks = L[size_t(s * tp)]->act(g.ops[i].outputs[0]).chunks;
        for (int r = 0; r < tp; ++r) L[size_t(s * tp + r)]->turnChunks(int(chunks));
      }
      dropIfOver();
    }
    if (plan.progress) plan.progress(fmt::format("lowering {} chips", n), double(s + 1) / pp);
  }
  for (int k = 0; k < n; ++k) {
    const Graph& g = plan.stages[size_t(k / tp)];
    L[size_t(k)]->layout().checkFits(
        tp > 1 ? fmt::format("{} (one chip of a tensor-parallel group of {})", g.model.empty() ? g.name : g.model, tp)
               : g.model.empty() ? g.name : g.model);
  }
  std::function<void(double)> onPlaced;
  if (plan.progress)
    onPlaced = [&](double f) { plan.progress(fmt::format("scheduling {} tasks on {} chips", tasks.size(), n), f); };
  const Schedule sch = schedule(c, tasks, policy, n, onPlaced);
  predicted = sch.total;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int k = 0; k < n; ++k) {
    if (plan.progress) plan.progress(fmt::format("writing the programs of {} chips", n), double(k) / n);
    Compiled& ck = out[size_t(k)];
    emitQueues(c, tasks, sch, ck.program, k);
    ck.predicted = 0;
    for (size_t t = 0; t < tasks.size(); ++t)
      if (tasks[t].chip == k) ck.predicted = std::max(ck.predicted, sch.placed[t].start + tasks[t].end), ++ck.tasks;
    for (const GTensor& t : plan.stages[size_t(k / tp)].tensors)
      if (t.kind == TensorKind::Output) ck.outputs[t.name] = L[size_t(k)]->act(t.name);
    ck.sram.weights = L[size_t(k)]->layout().weightBytes();
    ck.sram.kv_cache = L[size_t(k)]->layout().cacheBytes();
    ck.sram.activations = L[size_t(k)]->layout().activationBytes();
    for (const Queue& q : ck.program.queues) ck.sram.program += q.code.size() * 8;
    ck.wall_s = wall / n;
  }
  return out;
}

}  // namespace lpu
