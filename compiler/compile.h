// The compiler's entry point: a graph and a chip in, a program with exact
// issue cycles and the predicted cycle count out.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "isa/arch/json_type.h"
#include "lowering.h"
#include "scheduler.h"

namespace lpu {

struct SramUse {
  uint64_t weights = 0, kv_cache = 0, activations = 0, program = 0;
  uint64_t total() const { return weights + kv_cache + activations + program; }
};
LPU_JSON_TYPE(SramUse, weights, kv_cache, activations, program)

struct OpCycles {
  std::string name, kind;
  int layer;
  Cycle start, end;  // first and last cycle of its tasks
  size_t tasks;
};

struct Compiled {
  Program program;
  Cycle predicted = 0;  // cycles from the start barrier to the last effect
  Policy policy = Policy::List;
  Precision precision = Precision::Int8;
  SramUse sram;
  MxmWork mxm;  // for the resource bound (bound.h)
  std::vector<OpCycles> ops;
  size_t tasks = 0;
  double wall_s = 0;
  // Where each graph output lives (to read its values back from the chip).
  std::map<std::string, ActTensor> outputs;
  // Per CompileOptions::sends: the cycle of its first SEND, and its vectors
  // (one byte plane each, c2cCyclesPerVector() apart).
  std::vector<Cycle> sendStart;
  std::vector<int> sendVectors;
  // Vectors this chip passed on for others (a hop of a multi-hop route).
  uint64_t relayed = 0;
};

Compiled compileGraph(const Graph& g, const ChipConfig& c, const CompileOptions& o, Policy policy);

}  // namespace lpu
