// A model on a multi-chip system: the stages compiled by the mapping
// (compiler/partition.h), all chips run in one simulation, the system's
// cycle count checked against the compiler's prediction; and greedy
// decoding over such runs.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/partition.h"
#include "models/build_graph.h"
#include "models/weights.h"
#include "sim/cli/model_run.h"
#include "sim/simulate.h"

namespace lpu {

// "pp=4", "tp=1,pp=8"; throws lpu::Error naming what is wrong.
ParallelSplit parseParallel(const std::string& text);

// The compiled system (compiler/partition.h) and its simulation.
struct PipelineRun : CompiledSystem {
  SystemSimResult result;
  uint64_t c2cBytes() const { return result.c2c_vectors * uint64_t(bytesPerVector); }
};

// The mapping's request; `values` is set from the weights, tokens and KV rows.
struct PipelineRequest : MappingRequest {
  const WeightSource* weights = nullptr;  // functional when set
  std::vector<int> tokens;
  const KvRows* kv = nullptr;  // with weights: the cache rows of earlier steps
  bool simulate = true;
};

// Compiles the model over the system (compileSystem: the split asked or
// chosen) and simulates every chip together; throws if predicted !=
// simulated, never silently.
PipelineRun runPipeline(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& req);

// A request on a system, step by step as ChipDecoder's: each step (a decode
// step or a prefill chunk) runs over all its chips, the split chosen at the
// first step, then kept; functional (weights in the request) each stage's
// new key and value rows are read back from its first chip and carried to
// the next step, as on one chip.
class SystemDecoder {
 public:
  SystemDecoder(const ModelConfig& m, const SystemConfig& sys, const PipelineRequest& base)
      : m_(m), sys_(sys), base_(base) {}
  ChipDecoder::Step step(int token) { return step(std::vector<int>{token}); }
  ChipDecoder::Step step(const std::vector<int>& tokens);  // a decode step, or a prefill chunk (as ChipDecoder's)
  StepRequest& shape() { return base_.step; }
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
