#include "system_run.h"

#include <fmt/format.h>

#include "isa/error.h"
#include "sim/cli/model_run.h"

namespace lpu {

ParallelSplit parseParallel(const std::string& text) {
  ParallelSplit p;
  size_t i = 0;
  while (i < text.size()) {
    const size_t j = std::min(text.find(',', i), text.size());
    const std::string part = text.substr(i, j - i);
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    char* end = nullptr;
    const long v = eq == std::string::npos ? 0 : std::strtol(part.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || (key != "tp" && key != "pp") || !end || *end || v < 1 || v > 100000)
      throw Error(fmt::format("--parallel: \"{}\" is not tp=N or pp=N with N >= 1 (e.g. tp=8,pp=16)", part));
    (key == "tp" ? p.tp : p.pp) = int(v);
    i = j + 1;
  }
  return p;
}

namespace {

// The residual a stage hands on: its graph's (real-valued) output.
std::string stageOutput(const Graph& g) {
  for (const GTensor& t : g.tensors)
    if (t.kind == TensorKind::Output && !t.integer) return t.name;
  throw Error("internal: a pipeline stage has no output");
}

PipelineRun compilePipeline(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& req, int pp,
                            const KvRows& kv) {
  const ChipConfig chip = sys.chipConfig();
  if (pp > m.layers)
    throw Error(fmt::format("--parallel pp={}: {} has only {} layers to split", pp, m.name, m.layers));
  if (pp > sys.chips) throw Error(fmt::format("--parallel pp={}: system {} has {} chips", pp, sys.name, sys.chips));
  PipelineRun run;
  run.split.pp = pp;
  run.bytesPerVector = chip.lanes();
  const auto w = wiring(sys, chip.c2c_links);
  run.chips = chainOrder(sys, w, pp);
  const int occ = chip.c2cCyclesPerVector();
  int first = 0;
  for (int s = 0; s < pp; ++s) {
    const int n = int(m.layers) / pp + (s < int(m.layers) % pp ? 1 : 0);
    StepRequest r = req.step;
    r.firstLayer = first;
    r.layers = n;
    r.embed = s == 0;
    r.head = s == pp - 1;
    first += n;
    run.graphs.push_back(buildGraph(m, r));
    const Graph& g = run.graphs.back();
    CompileOptions o;
    o.precision = req.precision;
    if (req.weights) o.values = modelValues(g, *req.weights, req.tokens, kv);
    if (s > 0) {
      const Compiled& prev = run.stages.back();
      const int inLink = w[size_t(run.chips[size_t(s - 1)])][size_t(run.links.back())].link;
      o.recvs.push_back({"x", inLink, prev.sendStart[0] + chip.latency.c2c_send + occ + chip.c2c_link_latency});
    }
    if (s + 1 < pp) {
      run.links.push_back(directLink(w, run.chips[size_t(s)], run.chips[size_t(s + 1)]));
      o.sends.push_back({stageOutput(g), run.links.back()});
    }
    try {
      run.stages.push_back(compileGraph(g, chip, o, req.policy));
    } catch (const Error& e) {
      throw Error(fmt::format("stage {} of {} (layers {}..{}): {}", s, pp, r.firstLayer, r.firstLayer + n - 1, e.what()));
    }
    run.predicted = std::max(run.predicted, run.stages.back().predicted);
  }
  return run;
}

}  // namespace

PipelineRun runPipeline(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& req) {
  KvRows kv;
  PipelineRun run;
  if (req.pp > 0) {
    run = compilePipeline(m, sys, req, req.pp, kv);
    run.why = fmt::format("pp={} as asked", req.pp);
  } else {  // the fewest stages whose every chip fits
    std::string last;
    for (int pp = 1; pp <= std::min<int>(int(m.layers), sys.chips); ++pp) {
      try {
        run = compilePipeline(m, sys, req, pp, kv);
        run.why = fmt::format("pp={}: the fewest pipeline stages (one chip each) whose layers fit a chip's SRAM{}", pp,
                              pp > 1 ? fmt::format("; pp={} does not fit", pp - 1) : "");
        break;
      } catch (const Error& e) {
        last = e.what();
        if (last.find("bytes of SRAM") == std::string::npos) throw;
      }
    }
    if (run.stages.empty())
      throw Error(fmt::format("{} does not fit system {} with pipeline parallelism alone (tensor parallelism is not "
                              "implemented yet): {}",
                              m.name, sys.name, last));
  }
  if (!req.simulate) return run;
  std::vector<const Program*> progs;
  for (const Compiled& c : run.stages) progs.push_back(&c.program);
  // The links between consecutive stages, in the stages' own numbering.
  const ChipConfig chip = sys.chipConfig();
  const auto w = wiring(sys, chip.c2c_links);
  std::vector<std::vector<LinkEnd>> local(run.chips.size(), std::vector<LinkEnd>(size_t(chip.c2c_links)));
  for (size_t a = 0; a < run.chips.size(); ++a)
    for (int l = 0; l < chip.c2c_links; ++l) {
      const LinkEnd e = w[size_t(run.chips[a])][size_t(l)];
      for (size_t b = 0; b < run.chips.size(); ++b)
        if (e.chip == run.chips[b]) local[a][size_t(l)] = {int(b), e.link};
    }
  RunRequest rr;
  rr.options.functional = req.weights != nullptr;
  run.result = simulateSystem(progs, chip, local, rr);
  if (run.result.cycles != run.predicted)
    throw Error(fmt::format("the simulator measured {} cycles on {} chips but the compiler predicted {}",
                            run.result.cycles, run.chips.size(), run.predicted));
  return run;
}

}  // namespace lpu
