// compile and run: the inputs loaded and checked, then one chip's step, a
// system's, or greedy decoding.
#include "sim/cli/run_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "compiler/values.h"
#include "isa/binary.h"
#include "isa/error.h"
#include "sim/cli/model_run.h"
#include "sim/cli/progress.h"
#include "sim/cli/request_run.h"
#include "sim/cli/system_run.h"
#include "sim/simulate.h"

namespace lpu {
namespace {

// The inputs both commands share, loaded and checked in this order.
struct Setup {
  ChipConfig chip;
  Policy policy = Policy::List;
  Precision precision = Precision::Int8;
  std::unique_ptr<ModelConfig> model;     // with --model
  std::unique_ptr<WeightSource> weights;  // with --model: the file's, or seeded
  bool functional = false;                // --functional, or --weights given
};

Setup setUp(const ModelArgs& a, bool prompt) {
  if (a.graphPath.empty() && a.modelName.empty()) throw Error("give a graph (--graph FILE) or a model (--model NAME)");
  Setup s;
  s.chip = loadChip(a.chipName.empty() ? "groq-tsp-v1" : a.chipName);
  parsePolicy(a.scheduler, s.policy);
  s.precision = a.precision == "fp16" ? Precision::Fp16 : Precision::Int8;
  s.functional = a.functional;
  if (!a.modelName.empty()) {
    s.model = std::make_unique<ModelConfig>(loadModel(a.modelName));
    checkStep(*s.model, a.mode, a.context, a.promptLen, a.batch, a.firstLayers);
    if (!a.weightsPath.empty()) {
      auto st = std::make_unique<SafetensorsFile>(a.weightsPath);
      st->check(*s.model);
      s.weights = std::move(st);
      s.functional = true;
    } else {
      s.weights = std::make_unique<SeededWeights>(*s.model, a.seed);
    }
  } else if (!a.weightsPath.empty() || prompt) {
    throw Error("--weights and --prompt need a model (--model)");
  }
  if (a.seedGiven && !s.functional && !prompt)
    throw Error("--seed: seeds the values of a functional run; give --functional or --prompt too");
  return s;
}

// The one-chip step: the model's graph (or the file's), compiled with values
// when functional.
struct Step {
  Graph graph;
  Compiled compiled;
};

Step compileStep(const ModelArgs& a, const Setup& s) {
  Step st;
  if (s.model) {
    StepRequest req{a.mode, a.context, a.promptLen, 0, a.firstLayers, !a.layersOnly, !a.layersOnly};
    req.batch = a.batch;
    st.graph = buildGraph(*s.model, req);
  } else {
    st.graph = loadGraph(a.graphPath);
  }
  CompileOptions opt;
  opt.precision = s.precision;
  KvRows kv;
  std::vector<int> ids(size_t(st.graph.tokens), 1);
  if (s.functional) opt.values = s.model ? modelValues(st.graph, *s.weights, ids, kv) : seededValues(a.seed);
  st.compiled = compileGraph(st.graph, s.chip, opt, s.policy);
  return st;
}

// A multi-chip run: the system and the request for the split asked (or chosen).
struct SystemSetup {
  std::unique_ptr<SystemConfig> sys;
  PipelineRequest req;
};

SystemSetup systemSetUp(const RunArgs& a, Setup& s) {
  const ModelArgs& m = a.model;
  if (!s.model) throw Error("--system, --chips and --parallel need a model (--model)");
  if (!m.chipName.empty() && a.chipsCount == 0)
    throw Error("--chip: a system preset or file names its chip; --chips N makes a system of N of --chip");
  SystemSetup ss;
  ss.sys = std::make_unique<SystemConfig>(
      a.chipsCount > 0 ? systemOfChips(a.chipsCount, m.chipName.empty() ? "groq-tsp-v1" : m.chipName)
                       : loadSystem(a.systemName.empty() ? "groq-node" : a.systemName));
  ss.sys->validate(ss.sys->name);
  const ParallelSplit split = a.parallel.empty() ? ParallelSplit{0, 0} : parseParallel(a.parallel);
  if (split.tp * std::max(split.pp, 1) > ss.sys->chips)
    throw Error(fmt::format("--parallel {}: needs {} chips, system {} has {}", a.parallel, split.tp * split.pp,
                            ss.sys->name, ss.sys->chips));
  if (!a.experts.empty() && !s.model->moe())
    throw Error(fmt::format("--experts: {} has no experts (a dense model)", s.model->name));
  if (!a.experts.empty() && !a.parallel.empty() && split.tp == 1)
    throw Error(
        fmt::format("--experts: places experts over a tensor-parallel group, and --parallel {} has tp=1", a.parallel));
  if (m.firstLayers > 0) s.model->layers = std::min<int64_t>(s.model->layers, m.firstLayers);
  PipelineRequest& preq = ss.req;
  preq.step = StepRequest{m.mode, m.context, m.promptLen, 0, -1, !m.layersOnly, !m.layersOnly};
  preq.step.batch = m.batch;
  preq.precision = s.precision;
  preq.policy = s.policy;
  preq.pp = split.pp;
  preq.tp = split.tp;
  preq.experts = a.experts == "whole"   ? PipelineRequest::Experts::Whole
                 : a.experts == "split" ? PipelineRequest::Experts::Split
                                        : PipelineRequest::Experts::Auto;
  preq.maxMemoryBytes = a.maxMemoryGib * double(1 << 30);
  return ss;
}

// Greedy decoding, one decode step per token, on one chip or a system
// (`ss.sys` set); prints each step, then the tokens generated.
void decodePrompt(const RunArgs& a, const Setup& s, SystemSetup& ss) {
  const std::vector<int> tokens = parsePrompt(a.prompt, s.model->vocab);
  if (int64_t(tokens.size()) + a.generate > s.model->max_positions)
    throw Error(fmt::format("--prompt and --generate: {} tokens and {} generated take {} positions, {} has {}",
                            tokens.size(), a.generate, int64_t(tokens.size()) + a.generate, s.model->name,
                            s.model->max_positions));
  std::unique_ptr<ChipDecoder> one;
  std::unique_ptr<SystemDecoder> many;
  if (ss.sys) {
    ss.req.weights = s.weights.get();
    many = std::make_unique<SystemDecoder>(*s.model, *ss.sys, ss.req);
  } else {
    one = std::make_unique<ChipDecoder>(*s.model, s.weights.get(), s.chip, s.precision, s.policy);
  }
  std::vector<int> out;
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  int next = 0;
  for (size_t i = 0; i < tokens.size() + size_t(a.generate); ++i) {
    const int tok = i < tokens.size() ? tokens[i] : next;
    const auto st = many ? many->step(tok) : one->step(tok);
    if (st.cycles != st.predicted)
      throw Error(fmt::format("step {}: the simulator measured {} cycles but the compiler predicted {}", i, st.cycles,
                              st.predicted));
    next = st.next;
    if (i + 1 >= tokens.size()) out.push_back(next);
    steps.push_back({{"position", i}, {"token", tok}, {"next", next}, {"cycles", st.cycles}});
    if (!a.json)
      std::cout << fmt::format("position {:>3}: token {:>6} -> {:>6}  ({} cycles)\n", i, tok, next, st.cycles);
  }
  if (int(out.size()) > a.generate) out.resize(size_t(a.generate));
  if (a.json) {
    nlohmann::ordered_json o;
    o["model"] = s.model->name;
    if (many) {
      o["system"] = ss.sys->name;
      o["chips"] = many->last().stages.size();
      o["parallel"] = {{"tp", many->last().split.tp}, {"pp", many->last().split.pp}};
    }
    o["prompt"] = tokens;
    o["generated"] = out;
    o["steps"] = steps;
    std::cout << o.dump(2) << "\n";
  } else {
    if (many)
      std::cout << fmt::format("on {} chips of {} (tp={},pp={})\n", many->last().stages.size(), ss.sys->name,
                               many->last().split.tp, many->last().split.pp);
    std::cout << "generated:";
    for (int t : out) std::cout << " " << t;
    std::cout << "\n";
  }
}

// A whole request: the prompt in chunks, then decode steps, on one chip or
// a system; the report of every step. `firstTry`: the chunk tried first
// (0: the whole prompt).
void runWholeRequest(const RunArgs& a, const Setup& s, SystemSetup& ss, int64_t firstTry = 0) {
  const ModelArgs& m = a.model;
  const WeightSource* w = s.functional ? s.weights.get() : nullptr;
  std::unique_ptr<ChipDecoder> one;
  std::unique_ptr<SystemDecoder> many;
  if (ss.sys) {
    ss.req.weights = w;
    many = std::make_unique<SystemDecoder>(*s.model, *ss.sys, ss.req);
  } else {
    one = std::make_unique<ChipDecoder>(*s.model, w, s.chip, s.precision, s.policy);
    one->shape = StepRequest{m.mode, 0, 0, 0, m.firstLayers, !m.layersOnly, !m.layersOnly};
  }
  ProgressBar bar;
  RequestPlan plan{m.promptLen, a.chunk, std::max<int64_t>(a.thenDecode, 0), firstTry};
  const RequestRun r = runRequest(
      *s.model, plan, [&](const std::vector<int>& tokens) { return many ? many->step(tokens) : one->step(tokens); },
      [&](const std::string& what) {
        if (bar.active()) bar.update(what, 0);
      });
  bar.clear();
  const ChipConfig chip = ss.sys ? ss.sys->chipConfig() : s.chip;
  nlohmann::ordered_json head;
  head["model"] = s.model->name;
  if (many) {
    head["system"] = ss.sys->name;
    head["chips"] = many->last().stages.size();
    head["parallel"] = {{"tp", many->last().split.tp}, {"pp", many->last().split.pp}};
  } else {
    head["chip"] = s.chip.name;
    head["chips"] = 1;
  }
  if (m.firstLayers > 0 || m.layersOnly)
    head["layers"] = {{"first", m.firstLayers > 0 ? m.firstLayers : s.model->layers}, {"only", m.layersOnly}};
  head["scheduler"] = policyName(s.policy);
  head["precision"] = precisionName(s.precision);
  if (a.json) {
    std::cout << requestJson(head, r, chip).dump(2) << "\n";
    return;
  }
  std::string title = fmt::format("{}: a request of {} prompt tokens", s.model->name, m.promptLen);
  if (many)
    title += fmt::format(" on {} chips of {} (tp={},pp={})", many->last().stages.size(), ss.sys->name,
                         many->last().split.tp, many->last().split.pp);
  std::cout << requestTable(title, r, chip);
}

// Greedy decoding runs whole-model decode steps of one sequence, each over
// every position so far: the options that shape a step do not apply.
void checkPromptArgs(const RunArgs& a) {
  const ModelArgs& m = a.model;
  if (m.firstLayers > 0 || m.layersOnly)
    throw Error("--first-layers and --layers-only: greedy decoding (--prompt) needs the whole model");
  if (m.batch > 1) throw Error("--batch: greedy decoding (--prompt) runs one sequence");
  if (m.context > 0) throw Error("--context: greedy decoding (--prompt) attends the positions so far");
  if (m.mode != "decode" || m.promptLen > 0)
    throw Error("--mode prefill and --prompt-len: greedy decoding (--prompt) feeds the prompt one decode step each");
}

// One step (a decode step, a batch or a prompt), on one chip or a system.
void runOneStep(const RunArgs& a, Setup& s, SystemSetup& ss, bool system) {
  if (system) {  // the split asked (or chosen), compiled and simulated whole
    if (s.functional)
      ss.req.weights = s.weights.get(),
      ss.req.tokens.assign(size_t(a.model.mode == "prefill" ? a.model.promptLen : a.model.batch), 1);
    const PipelineRun pr = runPipeline(*s.model, *ss.sys, ss.req);
    std::cout << (a.json ? systemRunJson(*s.model, *ss.sys, pr) + "\n" : systemRunTable(*s.model, *ss.sys, pr));
    return;
  }
  const Step st = compileStep(a.model, s);
  RunRequest req;
  req.options.functional = s.functional;
  req.tracePath = a.tracePath;
  const SimResult r = simulate(st.compiled.program, s.chip, s.model ? st.graph.name : a.model.graphPath, req);
  std::cout << (a.json ? runJson(st.graph, s.chip, st.compiled, r, a.layers) + "\n"
                       : runTable(st.graph, s.chip, st.compiled, r, a.layers));
  if (r.cycles != st.compiled.predicted)
    throw Error(
        fmt::format("the simulator measured {} cycles but the compiler predicted {}", r.cycles, st.compiled.predicted));
}

}  // namespace

void checkStep(const ModelConfig& m, const std::string& mode, int64_t context, int64_t promptLen, int64_t batch,
               int firstLayers) {
  const bool prefill = mode == "prefill";
  if (context > 0 && prefill)
    throw Error("--context: applies to decode steps (a prefill attends its --prompt-len tokens)");
  if (promptLen > 0 && !prefill) throw Error("--prompt-len: applies to --mode prefill");
  if (prefill && promptLen <= 0)
    throw Error(fmt::format("--mode prefill: needs --prompt-len, 1..{} for {}", m.max_positions, m.name));
  if (prefill && batch > 1) throw Error("--batch applies to decode steps (a prefill takes one prompt)");
  for (const auto& [name, v] : {std::pair{"--context", context}, std::pair{"--prompt-len", promptLen}})
    if (v > m.max_positions)
      throw Error(fmt::format("{}: {} is not in 1..{} (the positions of {})", name, v, m.max_positions, m.name));
  if (firstLayers > m.layers)
    throw Error(fmt::format("--first-layers: {} is not in 1..{} (the layers of {})", firstLayers, m.layers, m.name));
}

void compileCommand(const CompileArgs& a) {
  const Setup s = setUp(a.model, false);
  const Step st = compileStep(a.model, s);
  const Compiled& comp = st.compiled;
  writeProgram(comp.program, a.out);
  std::cout << fmt::format("{}: {} tasks, {} predicted cycles ({:.3f} us), {:.3f} s to compile\n", a.out, comp.tasks,
                           comp.predicted, double(comp.predicted) / s.chip.clock_hz * 1e6, comp.wall_s);
}

void runCommand(const RunArgs& a) {
  const bool system = !a.systemName.empty() || a.chipsCount > 0 || !a.parallel.empty();
  if (!system && !a.experts.empty())
    throw Error("--experts: applies to multi-chip runs (--system, --chips or --parallel)");
  if (!system && a.maxMemoryGib > 0)
    throw Error("--max-memory: applies to multi-chip runs (--system, --chips or --parallel)");
  if (!a.prompt.empty()) checkPromptArgs(a);
  Setup s = setUp(a.model, !a.prompt.empty());
  SystemSetup ss;
  if (system) ss = systemSetUp(a, s);
  if (!a.prompt.empty()) return decodePrompt(a, s, ss);
  const bool prefill = a.model.mode == "prefill";
  if ((a.chunk > 0 || a.thenDecode >= 0) && !prefill)
    throw Error("--chunk and --then-decode: a request starts with its prompt (--mode prefill --prompt-len N)");
  if (a.chunk > 0 || a.thenDecode >= 0) return runWholeRequest(a, s, ss);
  if (prefill && a.model.promptLen > 1) {  // a prompt too big for one step runs in chunks
    try {
      return runOneStep(a, s, ss, system);
    } catch (const Error& e) {
      if (!doesNotFit(e)) throw;
      if (a.layers || !a.tracePath.empty())
        throw Error(
            fmt::format("{} (--layers and --trace show one step; a prompt this long runs in chunks)", e.what()));
      std::cerr << fmt::format(
          "note: a prefill of {} tokens does not fit one step ({}); running it in chunks "
          "(--chunk N to choose, --then-decode N for the decode steps after)\n",
          a.model.promptLen, e.what());
      return runWholeRequest(a, s, ss, (a.model.promptLen + 1) / 2);
    }
  }
  runOneStep(a, s, ss, system);
}

}  // namespace lpu
