#include "bench.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "isa/error.h"
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
  return {{"tiny-llama", whole(256)},    {"tiny-gpt2", whole(256)},        {"tiny-moe", whole(256)},
          {"gpt2", layers(1024, 1)},     {"llama-3.2-1b", layers(1024, 1)}};
}

void runBench(const std::vector<BenchCase>& cases, const std::string& chipName, bool int8, bool json) {
  const ChipConfig chip = loadChip(chipName);
  if (!json)
    std::cout << fmt::format("{:<52} {:<9} {:>10} {:>12} {:>10} {:>10} {:>14} {:>9}\n", "case", "scheduler", "cycles",
                             "tokens/s", "compile s", "simulate s", "sim cycles/s", "peak MiB");
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
      if (json) {
        nlohmann::ordered_json j{{"case", g.name},         {"scheduler", policyName(pol)}, {"precision", int8 ? "int8" : "fp16"},
                                 {"cycles", r.cycles},     {"tokens_per_s", tps},         {"compile_wall_s", comp.wall_s},
                                 {"simulate_wall_s", simWall}, {"sim_cycles_per_s", double(r.cycles) / simWall},
                                 {"peak_mib", peakMiB()}};
        std::cout << j.dump() << "\n";
      } else {
        std::cout << fmt::format("{:<52} {:<9} {:>10} {:>12.1f} {:>10.3f} {:>10.3f} {:>14.0f} {:>9.0f}\n", g.name,
                                 policyName(pol), r.cycles, tps, comp.wall_s, simWall, double(r.cycles) / simWall,
                                 peakMiB());
      }
      std::cout.flush();
    }
  }
}

}  // namespace lpu
