#include "bench.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "isa/arch/system_config.h"
#include "isa/error.h"
#include "sim/cli/bound_report.h"
#include "sim/cli/request_run.h"
#include "sim/cli/system_run.h"
#include "sim/simulate.h"

namespace lpu {
namespace {

// Peak resident memory of this process and of its largest finished child
// (each simulation runs in a child), in MiB.
double peakMiB() {
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  return double(std::max(self.ru_maxrss, kids.ru_maxrss)) / 1024.0;
}

StepRequest layers(int64_t context, int n) {
  StepRequest r;
  r.context = context;
  r.layers = n;
  r.embed = r.head = false;
  return r;
}

StepRequest whole(int64_t context) {
  StepRequest r;
  r.context = context;
  return r;
}

}  // namespace

std::vector<BenchCase> defaultBenchCases() {
  return {{"tiny-llama", whole(256)}, {"tiny-gpt2", whole(256)}, {"tiny-moe", whole(256)},
          {"gpt2", whole(1024)},      {"gpt2", layers(1024, 1)}, {"llama-3.2-1b", layers(1024, 1)}};
}

void runBench(const std::vector<BenchCase>& cases, const std::string& chipName, bool int8, bool json) {
  const ChipConfig chip = loadChip(chipName);
  if (!json)
    std::cout << fmt::format("{:<52} {:<9} {:>10} {:>9} {:>7} {:>6} {:>12} {:>10} {:>10} {:>14} {:>9}\n", "case",
                             "scheduler", "cycles", "bound", "ratio", "MXM %", "tokens/s", "compile s", "simulate s",
                             "sim cycles/s", "peak MiB");
  for (const BenchCase& bc : cases) {
    const ModelConfig m = loadModel(bc.model);
    const Graph g = buildGraph(m, bc.step);
    for (Policy pol : {Policy::List, Policy::InOrder}) {
      CompileOptions o;
      o.precision = int8 ? Precision::Int8 : Precision::Fp16;
      const Compiled comp = compileGraph(g, chip, o, pol);
      RunRequest run;
      run.options.functional = false;
      const auto t0 = std::chrono::steady_clock::now();
      const SimResult r = simulate(comp.program, chip, g.name, run);
      const double simWall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r.cycles != comp.predicted)
        throw Error(fmt::format("{}: the simulator measured {} cycles but the compiler predicted {}", g.name, r.cycles,
                                comp.predicted));
      const double tps = double(g.tokens) / r.seconds();
      const Bound bound = chipBound(chip, comp.mxm);
      const double util = mxmUtilization(chip, bound, r.cycles, 1);
      if (json) {
        nlohmann::ordered_json j{{"case", g.name},
                                 {"scheduler", policyName(pol)},
                                 {"precision", int8 ? "int8" : "fp16"},
                                 {"cycles", r.cycles},
                                 {"bound_cycles", bound.cycles},
                                 {"bound_ratio", boundRatio(bound, r.cycles)},
                                 {"mxm_utilization", util},
                                 {"tokens_per_s", tps},
                                 {"compile_wall_s", comp.wall_s},
                                 {"simulate_wall_s", simWall},
                                 {"sim_cycles_per_s", double(r.cycles) / simWall},
                                 {"peak_mib", peakMiB()}};
        std::cout << j.dump() << "\n";
      } else {
        std::cout << fmt::format(
            "{:<52} {:<9} {:>10} {:>9} {:>7.2f} {:>6.1f} {:>12.1f} {:>10.3f} {:>10.3f} {:>14.0f} {:>9.0f}\n", g.name,
            policyName(pol), r.cycles, bound.cycles, boundRatio(bound, r.cycles), 100 * util, tps, comp.wall_s, simWall,
            double(r.cycles) / simWall, peakMiB());
      }
      std::cout.flush();
    }
  }
}

std::vector<SystemBenchCase> defaultSystemBenchCases() {
  // Llama-2-70B on groq-576: tp=8,pp=54 is what the split chooser picks (the fewest stages that fit);
  // Mixtral-8x7B there: tp=8,pp=32, one expert whole on each chip of a group.
  return {{"gpt2", "groq-node", "", 1024},
          {"llama-3.1-8b", "groq-rack", "tp=8,pp=9", 4096},
          {"llama-2-70b", "groq-576", "tp=8,pp=54", 4096},
          {"mixtral-8x7b", "groq-576", "tp=8,pp=32", 4096}};
}

void runSystemBench(const std::vector<SystemBenchCase>& cases, bool int8, bool json) {
  if (!json)
    std::cout << fmt::format("{:<14} {:<10} {:>5} {:<10} {:>9} {:>9} {:>7} {:>6} {:>10} {:>10} {:>10} {:>16} {:>9}\n",
                             "model", "system", "chips", "split", "cycles", "bound", "ratio", "MXM %", "tokens/s",
                             "compile s", "simulate s", "chip-cycles/s", "peak MiB");
  for (const SystemBenchCase& bc : cases) {
    const ModelConfig m = loadModel(bc.model);
    const bool count = !bc.system.empty() && bc.system.find_first_not_of("0123456789") == std::string::npos;
    const SystemConfig sys = count ? systemOfChips(std::stoi(bc.system), "groq-tsp-v1") : loadSystem(bc.system);
    PipelineRequest req;
    req.step.context = bc.context;
    req.precision = int8 ? Precision::Int8 : Precision::Fp16;
    if (!bc.parallel.empty()) {
      const ParallelSplit s = parseParallel(bc.parallel);
      req.tp = s.tp, req.pp = s.pp;
    } else {
      req.tp = 0;
    }
    PipelineRun r;
    try {
      r = runPipeline(m, sys, req);
    } catch (const Error& e) {  // too big for the system, or for this machine's memory: say so, go on
      const std::string what = e.what();
      if (what.find("bytes of SRAM") == std::string::npos && what.find("GiB of memory") == std::string::npos) throw;
      const std::string why = fmt::format("skipped: {}", what);
      if (json)
        std::cout << nlohmann::ordered_json{{"model", bc.model}, {"system", sys.name}, {"skipped", why}}.dump() << "\n";
      else
        std::cout << fmt::format("{:<14} {:<10} {}\n", bc.model, sys.name, why);
      std::cout.flush();
      continue;
    }
    double compile = 0;
    for (const Compiled& c : r.stages) compile += c.wall_s;
    const double hz = sys.chipConfig().clock_hz, tps = hz / double(r.result.cycles);
    const double speed = double(r.result.cycles) * double(r.chips.size()) / r.result.wall_s;
    const std::string split = fmt::format("tp={},pp={}", r.split.tp, r.split.pp);
    const Bound bound = systemBound(r, sys.chipConfig());
    const double util = mxmUtilization(sys.chipConfig(), bound, r.result.cycles, r.chips.size());
    if (json) {
      nlohmann::ordered_json j{{"model", bc.model},
                               {"system", bc.system},
                               {"chips", r.chips.size()},
                               {"parallel", split},
                               {"context", bc.context},
                               {"cycles", r.result.cycles},
                               {"bound_cycles", bound.cycles},
                               {"bound_ratio", boundRatio(bound, r.result.cycles)},
                               {"mxm_utilization", util},
                               {"tokens_per_s", tps},
                               {"compile_wall_s", compile},
                               {"simulate_wall_s", r.result.wall_s},
                               {"sim_chip_cycles_per_s", speed},
                               {"peak_mib", peakMiB()}};
      std::cout << j.dump() << "\n";
    } else {
      std::cout << fmt::format(
          "{:<14} {:<10} {:>5} {:<10} {:>9} {:>9} {:>7.2f} {:>6.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>16.3g} {:>9.0f}\n",
          bc.model, bc.system, r.chips.size(), split, r.result.cycles, bound.cycles, boundRatio(bound, r.result.cycles),
          100 * util, tps, compile, r.result.wall_s, speed, peakMiB());
    }
    std::cout.flush();
  }
}

std::vector<PrefillBenchCase> defaultPrefillBenchCases() {
  return {{"llama-3.2-1b", "", 512, 1}, {"gpt2", "", 1024, -1}, {"llama-3.1-8b", "groq-rack", 2048, -1}};
}

void runPrefillBench(const std::vector<PrefillBenchCase>& cases, bool int8, bool json) {
  if (!json)
    std::cout << fmt::format("{:<40} {:>5} {:>6} {:>10} {:>9} {:>7} {:>6} {:>9} {:>10} {:>10} {:>9}\n", "case", "chips",
                             "chunk", "cycles", "bound", "ratio", "MXM %", "TTFT ms", "compile s", "simulate s",
                             "peak MiB");
  for (const PrefillBenchCase& bc : cases) {
    ModelConfig m = loadModel(bc.model);
    const Precision p = int8 ? Precision::Int8 : Precision::Fp16;
    StepRequest shape;
    shape.layers = bc.layers;
    shape.embed = shape.head = bc.layers < 0;
    std::string name = fmt::format("{} prefill {}", bc.model, bc.prompt);
    if (bc.layers > 0) name += fmt::format(", {} layer(s)", bc.layers);
    std::unique_ptr<SystemConfig> sys;
    ChipConfig chip = loadChip("groq-tsp-v1");
    std::unique_ptr<ChipDecoder> one;
    std::unique_ptr<SystemDecoder> many;
    if (bc.system.empty()) {
      one = std::make_unique<ChipDecoder>(m, nullptr, chip, p, Policy::List);
      one->shape = shape;
    } else {
      sys = std::make_unique<SystemConfig>(loadSystem(bc.system));
      chip = sys->chipConfig();
      name += " on " + bc.system;
      if (bc.layers > 0) m.layers = std::min<int64_t>(m.layers, bc.layers);
      PipelineRequest req;
      req.step = shape;
      req.step.layers = -1;
      req.precision = p;
      many = std::make_unique<SystemDecoder>(m, *sys, req);
    }
    RequestRun r;
    try {
      r = runRequest(
          m, RequestPlan{bc.prompt, 0, 0},
          [&](const std::vector<int>& t) { return many ? many->step(t) : one->step(t); },
          [&](const std::string& what) { std::cerr << name << ": " << what << "\n"; });  // a step can take minutes
    } catch (const Error& e) {  // too big for the system, or for this machine's memory: say so, go on
      const std::string what = e.what();
      if (!doesNotFit(e) && what.find("GiB of memory") == std::string::npos) throw;
      if (json)
        std::cout << nlohmann::ordered_json{{"case", name}, {"skipped", what}}.dump() << "\n";
      else
        std::cout << fmt::format("{:<40} skipped: {}\n", name, what);
      std::cout.flush();
      continue;
    }
    const auto j = requestJson({}, r, chip);
    const size_t chips = r.prefill.front().chips;
    if (json) {
      nlohmann::ordered_json o{{"case", name},
                               {"chips", chips},
                               {"chunk_tokens", j["chunk_tokens"]},
                               {"prefill_steps", j["prefill_steps"]},
                               {"cycles", j["prefill_cycles"]},
                               {"bound_cycles", j["prefill_bound_cycles"]},
                               {"bound_ratio", j["prefill_bound_ratio"]},
                               {"mxm_utilization", j["prefill_mxm_utilization"]},
                               {"ttft_s", j["ttft_s"]},
                               {"compile_wall_s", j["compile_wall_s"]},
                               {"simulate_wall_s", j["simulate_wall_s"]},
                               {"peak_mib", peakMiB()}};
      if (many) o["parallel"] = fmt::format("tp={},pp={}", many->last().split.tp, many->last().split.pp);
      std::cout << o.dump() << "\n";
    } else {
      std::cout << fmt::format(
          "{:<40} {:>5} {:>6} {:>10} {:>9} {:>7.2f} {:>6.1f} {:>9.3f} {:>10.1f} {:>10.1f} {:>9.0f}\n", name, chips,
          j["chunk_tokens"].get<int64_t>(), j["prefill_cycles"].get<Cycle>(), j["prefill_bound_cycles"].get<Cycle>(),
          j["prefill_bound_ratio"].get<double>(), 100 * j["prefill_mxm_utilization"].get<double>(),
          1e3 * j["ttft_s"].get<double>(), j["compile_wall_s"].get<double>(), j["simulate_wall_s"].get<double>(),
          peakMiB());
    }
    std::cout.flush();
  }
}

}  // namespace lpu
