#include "system_run.h"

#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "compiler/bound.h"
#include "isa/error.h"
#include "sim/cli/model_run.h"
#include "sim/cli/progress.h"

namespace lpu {

ParallelSplit parseParallel(const std::string& text) {
  ParallelSplit p;
  bool tp = false, pp = false;  // given already
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
    if (std::exchange(key == "tp" ? tp : pp, true))
      throw Error(fmt::format("--parallel: {} given twice in \"{}\"", key, text));
    (key == "tp" ? p.tp : p.pp) = int(v);
    i = j + 1;
  }
  return p;
}

namespace {

// Each chip's links in the run's own numbering (chip k is run.chips[k]).
std::vector<std::vector<LinkEnd>> runWiring(const SystemConfig& sys, const std::vector<int>& chips) {
  const int links = sys.chipConfig().c2c_links;
  const auto w = wiring(sys, links);
  std::vector<std::vector<LinkEnd>> local(chips.size(), std::vector<LinkEnd>(size_t(links)));
  for (size_t a = 0; a < chips.size(); ++a)
    for (int l = 0; l < links; ++l) {
      const LinkEnd e = w[size_t(chips[a])][size_t(l)];
      for (size_t b = 0; b < chips.size(); ++b)
        if (e.chip == chips[b]) local[a][size_t(l)] = {int(b), e.link};
    }
  return local;
}

}  // namespace

PipelineRun runPipeline(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& asked) {
  ProgressBar bar;
  PipelineRequest req = asked;
  if (bar.active() && !req.progress) req.progress = [&](const std::string& phase, double f) { bar.update(phase, f); };
  const KvRows kv = req.kv ? *req.kv : KvRows{};
  if (req.weights) req.values = [&](const Graph& g) { return modelValues(g, *req.weights, req.tokens, kv); };
  PipelineRun run;
  static_cast<CompiledSystem&>(run) = compileSystem(m, sys, req);
  if (!req.simulate) return run;
  std::vector<const Program*> progs;
  for (const Compiled& c : run.stages) progs.push_back(&c.program);
  RunRequest rr;
  rr.options.functional = req.weights != nullptr;
  if (req.progress) {
    const std::string phase = fmt::format("simulating {} chips, {} cycles", progs.size(), run.predicted);
    const double total = double(std::max<Cycle>(run.predicted, 1));
    rr.progress = [&, phase, total](Cycle now) { req.progress(phase, double(now) / total); };
  }
  run.result = simulateSystem(progs, sys.chipConfig(), runWiring(sys, run.chips), rr);
  bar.clear();
  if (run.result.cycles != run.predicted)
    throw Error(fmt::format("the simulator measured {} cycles on {} chips but the compiler predicted {}",
                            run.result.cycles, run.chips.size(), run.predicted));
  return run;
}

ChipDecoder::Step SystemDecoder::step(const std::vector<int>& tokens) {
  PipelineRequest req = base_;
  req.step = chunkRequest(base_.step, pos_, int64_t(tokens.size()));
  req.step.exposeKv = base_.weights != nullptr;
  req.tokens = tokens;
  req.kv = &kv_;
  const auto start = std::chrono::steady_clock::now();
  last_ = runPipeline(m_, sys_, req);  // throws unless the simulator measured the predicted cycles
  if (base_.pp == 0) base_.tp = last_.split.tp, base_.pp = last_.split.pp;  // keep the first step's split
  ChipDecoder::Step s;
  s.cycles = last_.result.cycles;
  s.predicted = last_.predicted;
  s.simulate_s = last_.result.wall_s;
  s.compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() - s.simulate_s;
  s.bound = systemBound(last_, sys_.chipConfig());
  s.chips = last_.stages.size();
  pos_ += int64_t(tokens.size());
  s.context = pos_;
  if (!base_.weights) return s;
  const size_t tp = size_t(std::max(1, last_.split.tp));
  bool head = !req.step.head;
  for (size_t k = 0; k < last_.stages.size(); k += tp) {  // each stage's first chip
    const Graph& g = last_.graphs[k];
    const Compiled& c = last_.stages[k];
    const SimResult& r = last_.result.chips[k];
    if (g.find("logits") && g.tensor("logits").kind == TensorKind::Output) {
      s.logits = outputValues(c, r, "logits");
      s.next = int(outputValues(c, r, "next_token").at(0));
      head = true;
    }
    readBackKv(g, c, r, kv_);
  }
  if (!head) throw Error("internal: no stage computed the logits");
  return s;
}

}  // namespace lpu
