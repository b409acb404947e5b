// A model on a multi-chip system: pipeline parallelism over blocks (a
// layer's attention or MLP) and tensor parallelism within a node (or over
// whole nodes, transfers relayed where chips share no link). Stage s
// runs a range of blocks on a group of tp chips (the first stage also the
// embedding, the last the head); the residual goes to the next stage over
// a C2C link, scheduled like every other resource: the receiving chip's
// program takes each vector in the cycle it arrives. All chips run in one
// simulation, and the system's cycle count is predicted exactly.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "models/build_graph.h"
#include "models/weights.h"
#include "sim/cli/model_run.h"
#include "sim/simulate.h"

namespace lpu {

struct ParallelSplit {
  int tp = 1, pp = 1;
};
// "pp=4", "tp=1,pp=8"; throws lpu::Error naming what is wrong.
ParallelSplit parseParallel(const std::string& text);

struct PipelineRun {
  ParallelSplit split;
  std::vector<int> chips;        // system chip of each stage
  std::vector<int> links;        // link of stage s to stage s + 1
  std::vector<Graph> graphs;     // per stage (per chip with tp)
  std::vector<Compiled> stages;  // per stage (per chip with tp)
  Cycle predicted = 0;           // the system's, from the common start
  SystemSimResult result;
  std::string why;      // how the split was chosen
  std::string experts;  // MoE over a group: "whole" or "split" ("" otherwise)
  uint64_t c2cBytes() const { return result.c2c_vectors * uint64_t(bytesPerVector); }
  // Of those, the bytes chips passed on for others (multi-hop routes).
  uint64_t relayedBytes() const {
    uint64_t n = 0;
    for (const Compiled& c : stages) n += c.relayed;
    return n * uint64_t(bytesPerVector);
  }
  int bytesPerVector = 0;
};

struct PipelineRequest {
  StepRequest step;
  Precision precision = Precision::Int8;
  Policy policy = Policy::List;
  int pp = 0;  // 0: chosen (with tp: the fewest stages that fit)
  int tp = 1;  // tensor-parallel chips (a node's, or whole nodes); 0 (with pp 0): chosen
  // tp > 1, MoE: experts placed whole (experts / tp a chip), split by output
  // columns over the group, or (auto) whole where tp divides the experts.
  enum class Experts { Auto, Whole, Split } experts = Experts::Auto;
  const WeightSource* weights = nullptr;  // functional when set
  std::vector<int> tokens;
  const KvRows* kv = nullptr;  // with weights: the cache rows of earlier steps
  bool simulate = true;
  double maxMemoryBytes = 0;  // the compiler's budget; 0: 90% of the machine's memory
  bool reuseStages = true;    // tp > 1, timing only: a stage built like an earlier one is its programs moved in time
  // Hears what is being done and the fraction done (a progress bar).
  std::function<void(const std::string& phase, double fraction)> progress;
};

// Splits the model's blocks over `pp` stages (balancing parameters) on a
// chain of the system's chips, each stage on tp chips, compiles and
// simulates; throws if predicted != simulated, never silently.
PipelineRun runPipeline(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& req);

// Greedy decoding on a system: each token is one decode step over all its
// chips (the split chosen at the first step, then kept); each stage's new
// key and value rows are read back from its first chip and carried to the
// next step, as on one chip.
class SystemDecoder {
 public:
  SystemDecoder(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& base)
      : m_(m), sys_(sys), base_(base) {}
  ChipDecoder::Step step(int token);
  const PipelineRun& last() const { return last_; }

 private:
  const ModelConfig& m_;
  const SystemConfig& sys_;
  PipelineRequest base_;
  KvRows kv_;
  int64_t pos_ = 0;
  PipelineRun last_;
};

// The run as JSON (the single-chip keys, and chips, parallel, c2c_bytes,
// c2c_busy, batch, per-chip stages) and as a short table.
std::string systemRunJson(const ModelConfig& m, const SystemConfig& sys, const PipelineRun& r);
std::string systemRunTable(const ModelConfig& m, const SystemConfig& sys, const PipelineRun& r);

}  // namespace lpu
