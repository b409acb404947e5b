// Running a model on the simulated chip: the values a model graph needs
// (weights by checkpoint name, token ids, positions, the KV cache so far),
// reading outputs back, and greedy decoding one compiled decode step per
// token with the KV cache carried from step to step.
#pragma once
#include <map>
#include <string>
#include <vector>

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

// Greedy decoding on the chip: each token is one decode step, compiled for
// its context length and simulated; the new key and value rows the chip
// computed are read back and given to the next step as its cache.
class ChipDecoder {
 public:
  ChipDecoder(const ModelConfig& m, const WeightSource& w, const ChipConfig& chip, Precision p, Policy policy);
  struct Step {
    std::vector<float> logits;  // [vocab]
    int next = 0;               // the chip's argmax
    Cycle cycles = 0, predicted = 0;
  };
  Step step(int token);
  int64_t position() const { return pos_; }

 private:
  const ModelConfig& m_;
  const WeightSource& w_;
  const ChipConfig& chip_;
  Precision precision_;
  Policy policy_;
  KvRows kv_;
  int64_t pos_ = 0;
};

}  // namespace lpu
