// Running a model on the simulated chip: the values a model graph needs
// (weights by checkpoint name, token ids, positions, the KV cache so far),
// reading outputs back, and greedy decoding one compiled decode step per
// token with the KV cache carried from step to step.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "compiler/bound.h"
#include "compiler/compile.h"
#include "models/build_graph.h"
#include "models/weights.h"
#include "sim/simulate.h"

namespace lpu {

// Per cache tensor name: the rows written so far, row-major [rows, cols].
using KvRows = std::map<std::string, std::vector<float>>;

// Values for a model graph: weights (views resolved) from `w`, "ids" from
// `tokens`, "pos" as context - tokens + i, and each cache's first rows from
// `kv` (the rest zero).
TensorValues modelValues(const Graph& g, const WeightSource& w, const std::vector<int>& tokens, const KvRows& kv);

// A graph output as row-major [rows, cols] floats.
std::vector<float> outputValues(const Compiled& c, const SimResult& r, const std::string& name);

// "1,2,3" as token ids, each checked against the vocabulary (--prompt).
std::vector<int> parsePrompt(const std::string& text, int64_t vocab);

// A request on the chip, step by step: each step is a prefill chunk of
// several tokens (causal attention over the cache so far and its own rows)
// or a decode step of one, compiled for its context and simulated. With
// weights (functional) the new key and value rows the chip computed are
// read back and given to the next step as its cache; without, the steps
// are timed only (no values, `logits` empty).
class ChipDecoder {
 public:
  ChipDecoder(const ModelConfig& m, const WeightSource* w, const ChipConfig& chip, Precision p, Policy policy);
  struct Step {
    std::vector<float> logits;  // [vocab]: the last token's
    int next = 0;               // the chip's argmax
    Cycle cycles = 0, predicted = 0;
    int64_t context = 0;                   // positions after the step
    double compile_s = 0, simulate_s = 0;  // wall
    Bound bound;                           // the step's resource bound (compiler/bound.h)
    size_t chips = 1;
  };
  Step step(int token) { return step(std::vector<int>{token}); }
  Step step(const std::vector<int>& tokens);
  int64_t position() const { return pos_; }
  // The shape of each step (all but mode, context and prompt): layers, head.
  StepRequest shape;

 private:
  const ModelConfig& m_;
  const WeightSource* w_;
  const ChipConfig& chip_;
  Precision precision_;
  Policy policy_;
  KvRows kv_;
  int64_t pos_ = 0;
};

// A step's request: `n` tokens after `pos` positions, a decode step (n = 1)
// or a prefill chunk, of the shape `base`.
StepRequest chunkRequest(const StepRequest& base, int64_t pos, int64_t n);

// Each KvAppend's new rows, as the chip computed them, appended to `kv`.
void readBackKv(const Graph& g, const Compiled& c, const SimResult& r, KvRows& kv);

}  // namespace lpu
