#include "partition.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "group.h"
#include "isa/error.h"
#include "layout.h"

namespace lpu {

// Parameters of each block, the embedding in the first, the head in the
// last. With tensor parallelism, as the busiest chip of the group holds
// them: a matrix of c output chunks of 320 gives one chip ceil(c / tp).
std::vector<uint64_t> blockParams(const ModelConfig& m, int tp) {
  const int nb = int(2 * m.layers);
  std::vector<uint64_t> w(size_t(nb), 0);
  uint64_t embed = 0, head = 0;
  for (const WeightSpec& s : weightSpecs(m)) {
    uint64_t n = uint64_t(s.elements());
    if (tp > 1 && s.shape.size() == 2) {  // output columns: [vocab, d] tables and GPT-2's [in, out]; else [out, in]
      const bool colsOut =
          s.role == WeightRole::Embedding || s.role == WeightRole::Position || m.family == Family::Gpt2;
      const int64_t chunks = (s.shape[colsOut ? 1 : 0] + 319) / 320;
      n = n * uint64_t((chunks + tp - 1) / tp * tp) / uint64_t(chunks);
    }
    if (s.layer >= 0) {
      const bool mlp = s.name.find("mlp") != std::string::npos || s.name.find("moe") != std::string::npos ||
                       s.name.find("ln_2") != std::string::npos || s.name.find("post_attention") != std::string::npos;
      w[size_t(2 * s.layer + (mlp ? 1 : 0))] += n;
    } else if (s.role == WeightRole::Embedding || s.role == WeightRole::Position) {
      embed += n;
    } else {
      head += n;
    }
  }
  if (m.tied_embeddings) head += uint64_t(m.vocab * m.hidden);
  w.front() += embed;
  w.back() += head;
  return w;
}

// Splits the 2 L blocks into pp contiguous stages balancing parameters
// (the embedding counts to the first stage, the head to the last): the
// smallest largest stage, by bisection on it.
std::vector<std::pair<int, int>> splitBlocks(const ModelConfig& m, int pp, int tp) {
  const int nb = int(2 * m.layers);
  if (pp > nb)
    throw Error(fmt::format("--parallel pp={}: {} has only {} blocks (attention, MLP) to split", pp, m.name, nb));
  const std::vector<uint64_t> w = blockParams(m, tp);
  auto stages = [&](uint64_t cap, std::vector<std::pair<int, int>>* out) {
    int count = 0, b0 = 0;
    uint64_t load = 0;
    for (int b = 0; b < nb; ++b) {
      if (w[size_t(b)] > cap) return pp + 1;
      if (load + w[size_t(b)] > cap || nb - b == pp - count - 1) {
        if (out) out->push_back({b0, b});
        ++count, b0 = b, load = 0;
      }
      load += w[size_t(b)];
    }
    if (out) out->push_back({b0, nb});
    return count + 1;
  };
  uint64_t lo = 0, hi = 0;
  for (uint64_t x : w) hi += x;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (stages(mid, nullptr) <= pp)
      hi = mid;
    else
      lo = mid + 1;
  }
  std::vector<std::pair<int, int>> out;
  stages(lo, &out);
  while (int(out.size()) < pp) {  // split the largest stage of several blocks until there are pp
    size_t best = 0;
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].second - out[i].first > out[best].second - out[best].first) best = i;
    const auto [a, b] = out[best];
    out[best] = {a, (a + b) / 2};
    out.insert(out.begin() + int64_t(best) + 1, {(a + b) / 2, b});
  }
  return out;
}

// The first chip of each stage's group: nodes in a chain, each holding
// chips_per_node / tp groups of tp chips in turn, entered by one group and
// left by another, consecutive nodes joined by a link from the group that
// leaves one to the group that enters the next (a depth-first search over
// nodes and entry groups). A group wider than a node takes tp /
// chips_per_node consecutive nodes (its transfers between chips that share
// no link are routed through the group's other chips).
std::vector<int> groupChain(const SystemConfig& sys, const std::vector<std::vector<LinkEnd>>& w, int tp, int pp) {
  const int cpn = std::max(sys.chips_per_node, tp), nodes = sys.chips / cpn, per = cpn / tp,
            need = (pp + per - 1) / per;
  if (need > nodes)
    throw Error(fmt::format("--parallel tp={},pp={}: {} stages of {} chips need {} nodes of {} chips, system {} has {}",
                            tp, pp, pp, tp, need * cpn / sys.chips_per_node, sys.chips_per_node, sys.name,
                            sys.chips / sys.chips_per_node));
  auto order = [&](int entry) {  // a node's groups in stage order
    std::vector<int> o{entry};
    for (int g = 0; g < per; ++g)
      if (g != entry) o.push_back(g);
    return o;
  };
  auto linked = [&](int n, int gn, int m, int gm) {
    for (int a = 0; a < tp; ++a)
      for (int b = 0; b < tp; ++b)
        if (directLink(w, n * cpn + gn * tp + a, m * cpn + gm * tp + b) >= 0) return true;
    return false;
  };
  std::vector<std::pair<int, int>> path;  // (node, entry group)
  std::vector<bool> seen(size_t(nodes), false);
  std::function<bool()> extend = [&]() -> bool {
    if (int(path.size()) == need) return true;
    const int n = path.back().first, exit = order(path.back().second).back();
    for (int m = 0; m < nodes; ++m) {
      if (seen[size_t(m)]) continue;
      for (int gm = 0; gm < per; ++gm)
        if (linked(n, exit, m, gm)) {
          seen[size_t(m)] = true;
          path.push_back({m, gm});
          if (extend()) return true;
          path.pop_back();
          seen[size_t(m)] = false;
        }
    }
    return false;
  };
  bool found = false;
  seen[0] = true;
  for (int e = 0; e < per && !found; ++e) {
    path = {{0, e}};
    found = extend();
  }
  if (!found) throw Error(fmt::format("system {}: no chain of {} linked nodes", sys.name, need));
  std::vector<int> base;
  for (int s = 0; s < pp; ++s) {
    const auto& [node, entry] = path[size_t(s / per)];
    base.push_back(node * cpn + order(entry)[size_t(s % per)] * tp);
  }
  return base;
}

// About how much memory compiling `m` in `pp` stages takes: every chip's
// program (0.06 bytes per weight byte) and one stage's schedule at a time
// (1.3 bytes per weight byte of the stage). Measured: llama-3.1-8b on 72
// chips in 9 stages, 1.8 GiB.
double compileMemoryBytes(const ModelConfig& m, Precision p, int pp) {
  const double w = double(weightBytes(m, p == Precision::Int8));
  return 256.0 * (1 << 20) + w * (0.06 + 1.3 / double(std::max(1, pp)));
}

namespace {

// Stage s's step: blocks [b0, b1) of the model, block 2i the attention and
// 2i + 1 the MLP of layer i; the first stage also embeds, the last ends
// with the head.
StepRequest stageStep(const ModelConfig& m, const StepRequest& base, int b0, int b1) {
  StepRequest r = base;
  r.firstLayer = b0 / 2;
  r.layers = (b1 - 1) / 2 - b0 / 2 + 1;
  r.startAtMlp = b0 % 2 == 1;
  r.endAfterAttention = b1 % 2 == 1;
  r.embed = base.embed && b0 == 0;
  r.head = base.head && b1 == 2 * m.layers;
  return r;
}

// The stage's residual: its last op's output (other outputs, like the new
// key and value rows a host reads back, come earlier).
std::string stageOutput(const Graph& g) {
  if (g.ops.empty() || g.tensor(g.ops.back().outputs[0]).kind != TensorKind::Output)
    throw Error("internal: a pipeline stage has no output");
  return g.ops.back().outputs[0];
}

CompiledSystem compilePipeline(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req, int pp) {
  const ChipConfig chip = sys.chipConfig();
  if (pp > sys.chips) throw Error(fmt::format("--parallel pp={}: system {} has {} chips", pp, sys.name, sys.chips));
  CompiledSystem run;
  run.split.pp = pp;
  run.bytesPerVector = chip.lanes();
  const auto w = wiring(sys, chip.c2c_links);
  run.chips = chainOrder(sys, w, pp);
  const int occ = chip.c2cCyclesPerVector();
  const auto blocks = splitBlocks(m, pp, 1);
  for (int s = 0; s < pp; ++s) {
    const StepRequest r = stageStep(m, req.step, blocks[size_t(s)].first, blocks[size_t(s)].second);
    const int n = r.layers;
    run.graphs.push_back(buildGraph(m, r));
    const Graph& g = run.graphs.back();
    CompileOptions o;
    o.precision = req.precision;
    if (req.values) o.values = req.values(g);
    if (s > 0) {
      const Compiled& prev = run.stages.back();
      const int inLink = w[size_t(run.chips[size_t(s - 1)])][size_t(run.links.back())].link;
      o.recvs.push_back({"x", inLink, prev.sendStart[0] + chip.latency.c2c_send + occ + chip.c2c_link_latency});
    }
    if (s + 1 < pp) {
      run.links.push_back(directLink(w, run.chips[size_t(s)], run.chips[size_t(s + 1)]));
      o.sends.push_back({stageOutput(g), run.links.back()});
    }
    if (req.progress) req.progress(fmt::format("compiling stage {} of {}", s + 1, pp), double(s) / pp);
    try {
      run.stages.push_back(compileGraph(g, chip, o, req.policy));
    } catch (const Error& e) {
      throw Error(
          fmt::format("stage {} of {} (layers {}..{}): {}", s, pp, r.firstLayer, r.firstLayer + n - 1, e.what()));
    }
    run.predicted = std::max(run.predicted, run.stages.back().predicted);
  }
  return run;
}

// pp stages of tp chips each (groups of a node in turn), compiled together.
CompiledSystem compileGroupsRun(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req, int pp,
                                bool dryRun = false) {
  const ChipConfig chip = sys.chipConfig();
  const int tp = req.tp;
  if (tp > sys.chips) throw Error(fmt::format("--parallel tp={}: system {} has {} chips", tp, sys.name, sys.chips));
  if (tp > sys.chips_per_node && tp % sys.chips_per_node != 0)
    throw Error(fmt::format("--parallel tp={}: a group wider than a node takes whole nodes: a multiple of {}", tp,
                            sys.chips_per_node));
  CompiledSystem run;
  run.split = {tp, pp};
  run.bytesPerVector = chip.lanes();
  const auto w = wiring(sys, chip.c2c_links);
  const std::vector<int> base = groupChain(sys, w, tp, pp);
  auto chipOf = [&](int s, int r) { return base[size_t(s)] + r; };
  GroupPlan plan;
  plan.tp = tp;
  plan.progress = req.progress;
  plan.reuse = req.reuseStages;
  plan.dryRun = dryRun;
  plan.link = [&](int s, int a, int t, int b) { return directLink(w, chipOf(s, a), chipOf(t, b)); };
  const auto blocks = splitBlocks(m, pp, tp);
  const bool whole = req.experts == MappingRequest::Experts::Whole ||
                     (req.experts == MappingRequest::Experts::Auto && m.experts > 0 && m.experts % tp == 0);
  if (m.moe() && tp > 1) run.experts = whole ? "whole" : "split";
  for (int s = 0; s < pp; ++s) {
    plan.stages.push_back(buildGraph(m, stageStep(m, req.step, blocks[size_t(s)].first, blocks[size_t(s)].second)));
    CompileOptions o;
    o.precision = req.precision;
    o.wholeExperts = whole;
    if (req.values) o.values = req.values(plan.stages.back());
    plan.options.push_back(o);
  }
  run.stages = compileGroups(plan, chip, req.policy, run.predicted);
  for (int s = 0; s < pp; ++s)
    for (int r = 0; r < tp; ++r) run.chips.push_back(chipOf(s, r)), run.graphs.push_back(plan.stages[size_t(s)]);
  return run;
}

// Without --parallel: for each tensor-parallel width (1, 2, 4, ... up to a
// node; or the one asked), the fewest pipeline stages whose every chip
// fits, starting from a lower bound on the bytes; of those, the split with
// the fewest predicted cycles per token (then the fewest chips).
CompiledSystem chooseSplit(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req) {
  const ChipConfig chip = sys.chipConfig();
  // What a chip may hold for weights and KV caches: all of SRAM but a few MiB for a step's activations.
  const uint64_t cap = Layout(chip).tileBytes(uint64_t(4) << 20);
  const uint64_t wbytes = req.precision == Precision::Int8 ? 1 : 2;  // the blocks' bytes a parameter
  std::vector<int> widths;
  if (req.tp > 0)
    widths.push_back(req.tp);
  else
    for (int tp = 1; tp <= std::min(sys.chips_per_node, sys.chips); tp *= 2) widths.push_back(tp);
  CompiledSystem best;
  std::string last, tried;
  auto note = [&](const std::string& what) { tried += (tried.empty() ? "" : ", ") + what; };  // what was compared
  for (int tp : widths) {
    const int most = std::min<int>(int(2 * m.layers),
                                   tp > 1 ? sys.chips / sys.chips_per_node * (sys.chips_per_node / tp) : sys.chips);
    const std::vector<uint64_t> w = blockParams(m, tp);  // a block's parameters on the group's busiest chip, x tp
    uint64_t largest = 0;
    for (uint64_t x : w) largest = std::max(largest, x * wbytes / uint64_t(tp));
    if (largest > cap) {
      last = fmt::format("with tp={}: a block of {} bytes a chip exceeds the {} bytes a chip holds for weights", tp,
                         largest, cap);
      note(fmt::format("tp={}: its largest block does not fit", tp));
      continue;
    }
    if (most < 1) {  // fewer chips in a node than the width
      note(fmt::format("tp={}: no node of {} chips", tp, tp));
      continue;
    }
    // The fewest stages whose every chip could hold its weights (a lower bound: no KV caches, no rounding).
    int low = 1;
    for (; low < most; ++low) {
      uint64_t worst = 0;
      for (const auto& [b0, b1] : splitBlocks(m, low, tp)) {
        uint64_t bytes = 0;
        for (int b = b0; b < b1; ++b) bytes += w[size_t(b)] * wbytes / uint64_t(tp);
        worst = std::max(worst, bytes);
      }
      if (worst <= cap) break;
    }
    MappingRequest r = req;
    r.tp = tp;
    if (tp > 1) {  // the fewest that do fit, by bisection over layouts alone (nothing scheduled)
      auto fitsAt = [&](int pp) {
        try {
          compileGroupsRun(m, sys, r, pp, true);
          return true;
        } catch (const Error& e) {
          if (std::string(e.what()).find("bytes of SRAM") == std::string::npos) throw;
          last = fmt::format("with tp={},pp={}: {}", tp, pp, e.what());
          return false;
        }
      };
      int hi = most;
      if (!fitsAt(hi)) {
        note(fmt::format("tp={}: no pp up to {} fits", tp, most));
        continue;
      }
      while (low < hi) {
        const int mid = low + (hi - low) / 2;
        if (fitsAt(mid))
          hi = mid;
        else
          low = mid + 1;
      }
    }
    bool fits = false;
    for (int pp = std::min(low, most); pp <= most && !fits; ++pp) {
      try {
        CompiledSystem run = tp > 1 ? compileGroupsRun(m, sys, r, pp) : compilePipeline(m, sys, r, pp);
        note(fmt::format("tp={},pp={} {} cycles", tp, pp, run.predicted));
        run.why = fmt::format("tp={},pp={}", tp, pp);
        if (best.stages.empty() || run.predicted < best.predicted ||
            (run.predicted == best.predicted && run.stages.size() < best.stages.size()))
          best = std::move(run);
        fits = true;
      } catch (const Error& e) {
        last = fmt::format("with tp={},pp={}: {}", tp, pp, e.what());
        if (last.find("bytes of SRAM") != std::string::npos) continue;
        throw;
      }
    }
    if (!fits) note(fmt::format("tp={}: no pp up to {} fits", tp, most));
  }
  if (best.stages.empty())
    throw Error(fmt::format("{} does not fit system {} ({} chips) with any tensor/pipeline split tried; {}", m.name,
                            sys.name, sys.chips, last));
  best.why += fmt::format(
      ": of the fewest pipeline stages that fit for each tensor-parallel width ({}), the fewest "
      "predicted cycles",
      tried);
  return best;
}

// Refuses what would exhaust the machine's memory, rather than be killed
// (without a pp: with as few stages as could hold the weights).
void checkMemory(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req) {
  int stages = req.pp;
  if (stages <= 0) {
    const double w = double(weightBytes(m, req.precision == Precision::Int8));
    const double perChip = double(Layout(sys.chipConfig()).planeBytes());
    stages = int(std::ceil(w / (perChip * std::min(sys.chips_per_node, sys.chips))));
  }
  const double need = compileMemoryBytes(m, req.precision, stages);
  const double budget = req.maxMemoryBytes > 0 ? req.maxMemoryBytes
                                               : 0.9 * double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  if (need > budget)
    throw Error(
        fmt::format("{} on {}: compiling it needs about {:.1f} GiB of memory (the programs, 0.06 bytes per "
                    "weight byte, and one stage's schedule, 1.3 bytes per weight byte of the stage), more "
                    "than the {:.1f} GiB allowed (--max-memory)",
                    m.name, sys.name, need / double(1 << 30), budget / double(1 << 30)));
}

}  // namespace

CompiledSystem compileSystem(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req) {
  checkMemory(m, sys, req);
  if (req.pp <= 0) return chooseSplit(m, sys, req);
  if (req.tp < 1) throw Error("--parallel: pp given without tp");
  CompiledSystem run = req.tp > 1 ? compileGroupsRun(m, sys, req, req.pp) : compilePipeline(m, sys, req, req.pp);
  run.why = fmt::format("tp={},pp={} as asked", req.tp, req.pp);
  return run;
}

}  // namespace lpu
