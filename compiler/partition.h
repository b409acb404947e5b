// Mapping a model onto a multi-chip system: pipeline parallelism over
// blocks (a layer's attention or MLP) and tensor parallelism within a node
// (or over whole nodes, transfers relayed where chips share no link). Stage
// s runs a range of blocks on a group of tp chips (the first stage also the
// embedding, the last the head); the residual goes to the next stage over a
// C2C link, scheduled like every other resource: the receiving chip's
// program takes each vector in the cycle it arrives. The result is every
// chip's program and the system's predicted cycle count; sim/ runs them.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "compile.h"
#include "isa/arch/system_config.h"
#include "models/build_graph.h"

namespace lpu {

struct ParallelSplit {
  int tp = 1, pp = 1;
};

// Parameters of each of the 2 L blocks (block 2i the attention of layer i,
// 2i + 1 its MLP), the embedding in the first, the head in the last. With
// tensor parallelism, as the busiest chip of the group holds them, x tp: a
// matrix of c output chunks of 320 gives one chip ceil(c / tp).
std::vector<uint64_t> blockParams(const ModelConfig& m, int tp = 1);

// The blocks [first, second) of each of pp contiguous stages, balancing
// blockParams(m, tp): the smallest largest stage, by bisection on it (then
// the largest stage of several blocks halved until there are pp).
std::vector<std::pair<int, int>> splitBlocks(const ModelConfig& m, int pp, int tp);

// The first chip of each of pp stages' groups of tp chips: nodes in a
// chain, each holding chips_per_node / tp groups in turn, entered by one
// group and left by another, consecutive nodes joined by a link from the
// group that leaves one to the group that enters the next. A group wider
// than a node takes tp / chips_per_node consecutive nodes.
std::vector<int> groupChain(const SystemConfig& sys, const std::vector<std::vector<LinkEnd>>& w, int tp, int pp);

// About how much memory compiling `m` in `pp` stages takes, in bytes.
double compileMemoryBytes(const ModelConfig& m, Precision p, int pp);

struct MappingRequest {
  StepRequest step;
  Precision precision = Precision::Int8;
  Policy policy = Policy::List;
  int pp = 0;  // 0: chosen (with tp: the fewest stages that fit)
  int tp = 1;  // tensor-parallel chips (a node's, or whole nodes); 0 (with pp 0): chosen
  // tp > 1, MoE: experts placed whole (experts / tp a chip), split by output
  // columns over the group, or (auto) whole where tp divides the experts.
  enum class Experts { Auto, Whole, Split } experts = Experts::Auto;
  // Functional: the values of a stage's graph (weights, inputs, caches); null: timing only.
  std::function<TensorValues(const Graph&)> values;
  double maxMemoryBytes = 0;  // the compiler's budget; 0: 90% of the machine's memory
  bool reuseStages = true;    // tp > 1, timing only: a stage built like an earlier one is its programs moved in time
  // Hears what is being done and the fraction done (a progress bar).
  std::function<void(const std::string& phase, double fraction)> progress;
};

// Every chip's program, in stage order (stage s's tp chips at s * tp ..).
struct CompiledSystem {
  ParallelSplit split;
  std::vector<int> chips;        // system chip of each stage
  std::vector<int> links;        // link of stage s to stage s + 1
  std::vector<Graph> graphs;     // per stage (per chip with tp)
  std::vector<Compiled> stages;  // per stage (per chip with tp)
  Cycle predicted = 0;           // the system's, from the common start
  std::string why;               // how the split was chosen
  std::string experts;           // MoE over a group: "whole" or "split" ("" otherwise)
  int bytesPerVector = 0;
  // The bytes chips passed on for others (multi-hop routes).
  uint64_t relayedBytes() const {
    uint64_t n = 0;
    for (const Compiled& c : stages) n += c.relayed;
    return n * uint64_t(bytesPerVector);
  }
};

// The split asked (pp > 0) or chosen, compiled: each stage's graph built,
// laid out and scheduled. Throws lpu::Error when it does not fit, or when
// compiling would take more memory than allowed.
CompiledSystem compileSystem(const ModelConfig& m, const SystemConfig& sys, const MappingRequest& req);

}  // namespace lpu
