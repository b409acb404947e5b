#include "group.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "emit.h"
#include "isa/error.h"
#include "transfer.h"

namespace lpu {
namespace {

// Ops whose output chunks are split over a tensor-parallel group (MoE unless its experts are placed whole).
bool sharded(OpKind k, const CompileOptions& o) {
  return k == OpKind::MatMul || k == OpKind::Embedding || (k == OpKind::MoeFFN && !o.wholeExperts);
}

int firstLayer(const Graph& g) {
  int first = -1;
  for (const GOp& op : g.ops)
    if (op.layer >= 0 && (first < 0 || op.layer < first)) first = op.layer;
  return std::max(first, 0);
}

// A stage graph's structure without its names: tensors by index, layers
// counted from the stage's first. Stages with the same key lower to the same
// tasks, tile for tile.
std::string structureKey(const Graph& g) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < g.tensors.size(); ++i) index[g.tensors[i].name] = int(i);
  nlohmann::ordered_json j = toJson(g);
  j.erase("name");
  const int first = firstLayer(g);
  for (auto& t : j["tensors"]) t["name"] = index[t["name"].get<std::string>()];
  for (auto& op : j["ops"]) {
    op.erase("name");
    for (const char* f : {"inputs", "outputs"})
      for (auto& n : op[f]) n = index[n.get<std::string>()];
    if (op.contains("layer") && op["layer"].get<int>() >= 0) op["layer"] = op["layer"].get<int>() - first;
  }
  return j.dump();
}

// "l7.q.w0_3" -> "l9.q.w0_3" for offset 2: the names of a copied stage's tensors.
std::string shiftLayer(const std::string& name, int offset) {
  size_t i = 1;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  if (name.empty() || name[0] != 'l' || i == 1 || i >= name.size() || name[i] != '.') return name;
  return fmt::format("l{}{}", std::stoi(name.substr(1, i - 1)) + offset, name.substr(i));
}

// Every queue's work `d` cycles later: its leading wait after the start barrier grows.
void delayQueues(Program& p, Cycle d) {
  if (d == 0) return;
  std::vector<uint32_t> inserted(p.queues.size(), UINT32_MAX);  // per queue: where a nop went in
  for (size_t qi = 0; qi < p.queues.size(); ++qi) {
    Queue& q = p.queues[qi];
    size_t i = 0;
    while (i < q.code.size() && (q.code[i].op == Opcode::NOTIFY || q.code[i].op == Opcode::SYNC)) ++i;
    if (i < q.code.size() && q.code[i].op == Opcode::NOP) {
      if (Cycle(q.code[i].imm) + d < 0 || Cycle(q.code[i].imm) + d > Cycle(UINT32_MAX))
        throw Error(fmt::format("internal: a copied stage's queue cannot move by {} cycles", d));
      q.code[i].imm = uint32_t(Cycle(q.code[i].imm) + d);
      continue;
    }
    if (d < 0) throw Error(fmt::format("internal: a copied stage's queue cannot move by {} cycles", d));
    Instr nop;
    nop.op = Opcode::NOP;
    nop.imm = uint32_t(d);
    q.code.insert(q.code.begin() + std::ptrdiff_t(i), nop);
    inserted[qi] = uint32_t(i);
  }
  // The issues after an inserted nop moved up one. (A copy whose queues all
  // had a leading nop keeps sharing its sources with the stage it copies.)
  if (std::any_of(inserted.begin(), inserted.end(), [](uint32_t i) { return i != UINT32_MAX; }))
    p.sources.moveUp(inserted);
}

// An earlier stage's program for a stage built alike: tensors of other
// layers, other links, `shift` cycles later.
Compiled copyStage(Compiled ck, int offset, const std::map<int, int>& links,
                   const std::map<std::string, std::string>& names, Cycle shift) {
  for (Tensor& t : ck.program.tensors) t.name = shiftLayer(t.name, offset);
  for (Queue& q : ck.program.queues) {
    if (q.id.unit != Unit::C2C) continue;
    q.id.index = links.at(q.id.index);
    for (Instr& in : q.code)
      if (in.op == Opcode::SEND || in.op == Opcode::RECV || in.op == Opcode::DESKEW)
        in.imm = uint32_t(links.at(int(in.imm)));
  }
  delayQueues(ck.program, shift);
  ck.predicted += shift;
  std::map<std::string, ActTensor> outputs;
  for (auto& [name, a] : ck.outputs) {
    a.name = names.at(name);
    outputs[a.name] = a;
  }
  ck.outputs = std::move(outputs);
  ck.wall_s = 0;
  return ck;
}

// The links of stage s's chips: the entry chip (linked to the previous
// stage's exit chip `handOverRank`), the exit chip and its link to the next
// stage, and per rank its link to rank b (b < tp), from the previous stage
// (tp) and to the next (tp + 1); -1 where none.
struct StageLinks {
  int entry = -1, exitRank = -1, exitLink = -1;
  std::vector<std::vector<int>> links;
};
StageLinks stageLinks(const GroupPlan& plan, int s, int handOverRank) {
  const int tp = plan.tp, pp = int(plan.stages.size());
  StageLinks k;
  for (int e = 0; e < tp && k.entry < 0 && s > 0; ++e)
    if (plan.link(s, e, s - 1, handOverRank) >= 0) k.entry = e;
  for (int a = 0; a < tp && k.exitRank < 0 && s + 1 < pp; ++a)
    for (int e = 0; e < tp && k.exitRank < 0; ++e)
      if (plan.link(s, a, s + 1, e) >= 0) k.exitRank = a, k.exitLink = plan.link(s, a, s + 1, e);
  if (s + 1 < pp && k.exitRank < 0) throw Error(fmt::format("no link joins the chips of stages {} and {}", s, s + 1));
  k.links.assign(size_t(tp), std::vector<int>(size_t(tp + 2), -1));
  for (int a = 0; a < tp; ++a)
    for (int b = 0; b < tp; ++b)
      if (a != b) k.links[size_t(a)][size_t(b)] = plan.link(s, a, s, b);
  if (s > 0) k.links[size_t(k.entry)][size_t(tp)] = plan.link(s, k.entry, s - 1, handOverRank);
  if (s + 1 < pp) k.links[size_t(k.exitRank)][size_t(tp + 1)] = k.exitLink;
  return k;
}

// Routes within a group of tp chips: hops[b][x] links from rank x to rank b (-1: none).
std::vector<std::vector<int>> routes(const std::vector<std::vector<int>>& links, int tp) {
  std::vector<std::vector<int>> hops(size_t(tp), std::vector<int>(size_t(tp), -1));
  for (int b = 0; b < tp; ++b) {
    std::vector<int> todo{b};
    hops[size_t(b)][size_t(b)] = 0;
    for (size_t i = 0; i < todo.size(); ++i)
      for (int y = 0; y < tp; ++y)
        if (hops[size_t(b)][size_t(y)] < 0 && links[size_t(todo[i])][size_t(y)] >= 0) {
          hops[size_t(b)][size_t(y)] = hops[size_t(b)][size_t(todo[i])] + 1;
          todo.push_back(y);
        }
  }
  return hops;
}

// Rank r's program out of its stage's schedule, `delta` cycles later:
// queues, program text (checked to fit as `name`), predicted cycles,
// outputs and SRAM use.
void finishChip(Compiled& ck, Lowerer& L, const std::vector<Task>& tasks, const Schedule& sch, int r, Cycle delta,
                const std::string& name) {
  emitQueues(L.c, tasks, sch, ck.program, r);
  delayQueues(ck.program, delta);
  L.layout_.addProgramText(ck.program);
  L.layout().checkFits(name);
  ck.predicted = 0;
  for (size_t t = 0; t < tasks.size(); ++t)
    if (tasks[t].chip == r) ck.predicted = std::max(ck.predicted, sch.placed[t].start + tasks[t].end), ++ck.tasks;
  ck.predicted += delta;
  for (const GTensor& t : L.g.tensors)
    if (t.kind == TensorKind::Output) ck.outputs[t.name] = L.act(t.name);
  ck.mxm = L.work();
  ck.sram.weights = L.layout().weightBytes();
  ck.sram.kv_cache = L.layout().cacheBytes();
  ck.sram.activations = L.layout().activationBytes();
  ck.sram.program = L.layout().programBytes();
}

// A stage compiled (or, dry, laid out) earlier: its programs' first
// cycle `delta` after the stage's input would arrive at kPrefetch, its
// first hand-over SEND (absolute), and the links its ranks used by role.
struct Memo {
  int stage;
  Cycle delta, handOver;
  std::vector<std::vector<int>> links;
};

// Stage s's programs as copies of stage m.stage's, `shift` cycles later, on its own links.
void copyStages(const GroupPlan& plan, const Memo& m, int s, const std::vector<std::vector<int>>& links, Cycle shift,
                std::vector<Compiled>& out, Cycle& predicted) {
  const int tp = plan.tp;
  const Graph& g = plan.stages[size_t(s)];
  const Graph& rg = plan.stages[size_t(m.stage)];
  const int offset = firstLayer(g) - firstLayer(rg);
  std::map<std::string, std::string> names;  // the earlier stage's tensor -> this one's
  for (size_t i = 0; i < g.tensors.size(); ++i) names[rg.tensors[i].name] = g.tensors[i].name;
  for (int r = 0; r < tp; ++r) {
    std::map<int, int> rename;  // the earlier stage's link -> this one's, by role
    for (size_t k = 0; k < links[size_t(r)].size(); ++k)
      if (links[size_t(r)][k] >= 0) rename[m.links[size_t(r)][k]] = links[size_t(r)][k];
    out[size_t(s * tp + r)] = copyStage(out[size_t(m.stage * tp + r)], offset, rename, names, shift);
    predicted = std::max(predicted, out[size_t(s * tp + r)].predicted);
  }
}

}  // namespace

// Still one function of about 200 lines: the per-stage transfer, all-gather
// and row helpers below share that stage's lowerers, routes and link loads;
// the next step is a small class holding them, one method each.
std::vector<Compiled> compileGroups(const GroupPlan& plan, const ChipConfig& c, Policy policy, Cycle& predicted) {
  const int tp = plan.tp, pp = int(plan.stages.size()), n = tp * pp;
  if (n > 100000) throw Error(fmt::format("{} chips in one schedule: the compiler takes at most 100000", n));
  for (const Graph& g : plan.stages) validate(g, g.name.empty() ? "graph" : g.name);
  std::vector<Compiled> out(static_cast<size_t>(n));
  predicted = 0;
  // Stage by stage: a stage's chips are scheduled together (their all-gathers
  // cross between them), then emitted and forgotten; the next stage takes
  // the residual no earlier than its vectors arrive. Only one stage's tasks
  // are ever held.
  //
  // A stage is scheduled as if its input arrived kPrefetch cycles in (time
  // enough to load its first weights before), then moved to when it does.
  // So a stage built like an earlier one (the same ops on the same shapes,
  // other layers; the same links), timing only, is that stage's programs
  // moved in time: compiled once.
  constexpr Cycle kPrefetch = 4096;
  std::map<std::string, Memo> memo;
  Cycle handOver = -1;    // absolute cycle of the previous stage's first SEND
  int handOverRank = -1;  // the previous stage's exit chip's rank
  for (int s = 0; s < pp; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    const Graph& g = plan.stages[size_t(s)];
    const StageLinks sl = stageLinks(plan, s, handOverRank);
    const int entry = sl.entry, exitRank = sl.exitRank, exitLink = sl.exitLink;
    const std::vector<std::vector<int>>& links = sl.links;
    const Cycle arrival = s > 0 && !plan.dryRun ? std::min(handOver, kPrefetch) : 0;
    const Cycle delta = s > 0 && !plan.dryRun ? handOver - arrival : 0;
    std::string key;
    if (plan.reuse && !plan.options[size_t(s)].values) {
      // Which link a transfer takes matters to the timing only by where its
      // C2C unit sits; the copy renames the links.
      key = fmt::format("{}|{},{},{},{}|", structureKey(g), arrival, s > 0, entry, exitRank);
      for (const auto& rank : links)
        for (int l : rank) key += fmt::format("{},", l < 0 ? -1 : c.position(linkQueue(l)));
      if (auto it = memo.find(key); it != memo.end()) {
        const Memo& m = it->second;
        copyStages(plan, m, s, links, delta - m.delta, out, predicted);
        handOver = m.handOver + delta - m.delta;
        handOverRank = exitRank;
        if (plan.progress)
          plan.progress(fmt::format("compiled stage {} of {} ({} chips each)", s + 1, pp, tp), double(s + 1) / pp);
        continue;
      }
    }
    std::vector<Task> tasks;
    std::vector<std::unique_ptr<Lowerer>> L;
    std::vector<CompileOptions> opts(size_t(tp), plan.options[size_t(s)]);
    for (int r = 0; r < tp; ++r) {
      const int k = s * tp + r;
      opts[size_t(r)].rank = r;
      opts[size_t(r)].tp = tp;
      out[size_t(k)].policy = policy;
      out[size_t(k)].precision = opts[size_t(r)].precision;
      out[size_t(k)].program.chip = c.name;
      L.push_back(std::make_unique<Lowerer>(g, c, opts[size_t(r)], out[size_t(k)].program));
      L.back()->shareTasks(&tasks, r, r << 20);
    }
    std::vector<Lowerer*> chips;
    for (auto& l : L) chips.push_back(l.get());
    Transfers xfer(c, chips);
    const std::vector<std::vector<int>> hops = routes(links, tp);
    std::map<std::pair<int, int>, int64_t> load;  // vectors routed so far per (rank, outgoing link)
    // Vector rows of `name` from rank a to rank b (both of this stage): on a
    // direct link, or over the fewest hops through other chips of the group,
    // each hop the least loaded so far.
    auto transfer = [&](int a, const std::string& name, int b, const std::vector<uint32_t>& rows,
                        const std::string& to = "") {
      if (rows.empty()) return;
      if (hops[size_t(b)][size_t(a)] < 0)
        throw Error(fmt::format("chips {} and {} of stage {} have no route within their group of {}", a, b, s, tp));
      const ActTensor& ya = L[size_t(a)]->act(name);
      const int planes = bytes(out[size_t(s * tp + a)].program.tensors[size_t(ya.tensor)].dtype);
      const int count = int(rows.size()) * planes;
      std::vector<int> path{a};
      while (path.back() != b) {
        const int x = path.back();
        int next = -1;
        for (int y = 0; y < tp; ++y)
          if (links[size_t(x)][size_t(y)] >= 0 && hops[size_t(b)][size_t(y)] == hops[size_t(b)][size_t(x)] - 1 &&
              (next < 0 || load[{x, links[size_t(x)][size_t(y)]}] < load[{x, links[size_t(x)][size_t(next)]}]))
            next = y;
        load[{x, links[size_t(x)][size_t(next)]}] += count;
        path.push_back(next);
      }
      Transfers::Sent sent = xfer.send(a, name, links[size_t(a)][size_t(path[1])], rows);
      for (size_t i = 1; i + 1 < path.size(); ++i) {
        const int m = path[i];
        sent = xfer.relay(m, links[size_t(m)][size_t(path[i - 1])], links[size_t(m)][size_t(path[i + 1])], count, sent);
        out[size_t(s * tp + m)].relayed += uint64_t(count);
      }
      xfer.receive(b, to.empty() ? name : to, links[size_t(b)][size_t(path[path.size() - 2])], rows, planes, sent);
    };
    auto dropIfOver = [&] {
      for (const auto& l : L)
        if (l->layout().overflowed()) return std::vector<Task>().swap(tasks);
    };
    auto allRows = [&](const std::string& name) {
      std::vector<uint32_t> rows(size_t(L[0]->act(name).vrows()));
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = uint32_t(i);
      return rows;
    };

    if (s > 0) {  // the residual from stage s - 1's exit chip to an entry chip, which forwards it
      const std::vector<uint32_t> rows = allRows("x");
      const int planes =
          bytes(out[size_t(s * tp + entry)].program.tensors[size_t(L[size_t(entry)]->act("x").tensor)].dtype);
      xfer.receive(entry, "x", links[size_t(entry)][size_t(tp)], rows, planes, {}, arrival + xfer.flight());
      for (int r = 0; r < tp; ++r)
        if (r != entry) transfer(entry, "x", r, rows);
    }
    // Each chip's chunks of tensor `name` (rows of 320 lanes) to every other chip of the group.
    auto allGather = [&](const std::string& name) {
      const ActTensor& y = L[0]->act(name);
      for (int a = 0; a < tp; ++a) {
        std::vector<uint32_t> rows;
        for (int64_t r = 0; r < y.rows; ++r)
          for (int64_t j = 0; j < y.chunks; ++j)
            if (L[size_t(a)]->owns(int(j))) rows.push_back(uint32_t(r * y.chunks + j));
        for (int b = 0; b < tp; ++b)
          if (a != b) transfer(a, name, b, rows);
      }
    };
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const int phases = L[0]->phases(i);
      for (int ph = 0; ph < phases; ++ph) {
        for (int r = 0; r < tp; ++r) {
          Lowerer& l = *L[size_t(r)];
          l.phase = ph;
          l.gathers().clear();
          l.reductions().clear();
          l.lower(i);
        }
        if (ph + 1 == phases) continue;
        for (const std::string& name : L[0]->reductions())  // every chip's rows to every other
          for (int a = 0; a < tp; ++a)
            for (int b = 0; b < tp; ++b)
              if (a != b) transfer(a, name, b, allRows(name), fmt::format("{}.from{}", name, a));
        const std::vector<std::string> names = L[0]->gathers();
        for (const std::string& name : names) allGather(name);
        if (names.empty()) continue;
        const int64_t chunks = L[0]->act(names[0]).chunks;  // the next phase's chunks start after these
        for (int r = 0; r < tp; ++r) L[size_t(r)]->turnChunks(int(chunks));
      }
      if (tp > 1 && g.ops[i].kind == OpKind::AttnMix) {  // all-gather of the heads' rows
        const GOp& op = g.ops[i];
        const int heads = int(op.attrs.heads), hpg = heads / int(op.attrs.kv_heads);
        const ActTensor& y = L[0]->act(op.outputs[0]);  // per-head rows: chunk h of row t
        for (int a = 0; a < tp; ++a) {
          std::vector<uint32_t> rows;
          for (int64_t t = 0; t < y.rows; ++t)
            for (int h = 0; h < heads; ++h)
              if (L[size_t(a)]->ownsKvHead(h / hpg)) rows.push_back(uint32_t(t * y.chunks + h));
          for (int b = 0; b < tp; ++b)
            if (a != b) transfer(a, op.outputs[0], b, rows);
        }
      }
      if (tp > 1 && sharded(g.ops[i].kind, plan.options[size_t(s)])) {  // all-gather of the output chunks
        allGather(g.ops[i].outputs[0]);
        const int64_t chunks = L[0]->act(g.ops[i].outputs[0]).chunks;
        for (int r = 0; r < tp; ++r) L[size_t(r)]->turnChunks(int(chunks));
      }
      dropIfOver();
    }
    Transfers::Sent handOverTask;
    if (s + 1 < pp) {  // the residual out of an exit chip linked to the next stage
      // The stage's residual: its last op's output (other outputs, like the new
      // key and value rows a host reads back, come earlier).
      const std::string handOverTensor = g.ops.back().outputs[0];
      handOverRank = exitRank;
      if (!L[0]->layout().overflowed()) {
        handOverTask = xfer.send(exitRank, handOverTensor, exitLink, allRows(handOverTensor));
        // The next stages wait for it: it, and everything it waits for, before what only this stage needs.
        tasks[size_t(handOverTask.task)].urgency = Cycle(1) << 30;
      }
    }
    auto chipName = [&](int r) {  // for "needs N bytes of SRAM"
      return tp > 1 ? fmt::format("{} (stage {} of {}, rank {} of {})", g.name, s, pp, r, tp) : g.name;
    };
    for (int r = 0; r < tp; ++r) L[size_t(r)]->layout().checkFits(chipName(r));
    if (plan.dryRun) {  // it fits: nothing scheduled
      if (!key.empty()) memo[key] = Memo{s, 0, 0, links};
      handOverRank = exitRank;
      continue;
    }
    std::function<void(double)> onPlaced;
    if (plan.progress)
      onPlaced = [&](double f) {
        plan.progress(fmt::format("scheduling stage {} of {} ({} chips each)", s + 1, pp, tp), (s + f) / pp);
      };
    const Schedule sch = schedule(c, tasks, policy, tp, onPlaced);
    if (handOverTask.task >= 0) handOver = sch.placed[size_t(handOverTask.task)].start + handOverTask.first + delta;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int r = 0; r < tp; ++r) {
      Compiled& ck = out[size_t(s * tp + r)];
      finishChip(ck, *L[size_t(r)], tasks, sch, r, delta, chipName(r));
      predicted = std::max(predicted, ck.predicted);
      ck.wall_s = wall / tp;
    }
    if (!key.empty()) memo[key] = Memo{s, delta, handOver, links};
    if (plan.progress)
      plan.progress(fmt::format("compiled stage {} of {} ({} chips each)", s + 1, pp, tp), double(s + 1) / pp);
  }
  return out;
}

}  // namespace lpu
