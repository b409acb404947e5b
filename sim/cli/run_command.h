// `lpusim compile` and `lpusim run`: a graph, or one step of a model, compiled
// for one chip (or split over a system) and simulated; greedy decoding with
// --prompt. The options are what the command line gave (sim/cli/main.cpp).
#pragma once
#include <cstdint>
#include <string>

#include "compiler/compile.h"
#include "models/graph.h"
#include "models/model_config.h"
#include "sim/core/result.h"

namespace lpu {

// What to compile: a graph file or a model's step, for which chip and how.
struct ModelArgs {
  std::string graphPath, modelName, weightsPath, chipName;
  std::string mode = "decode", precision = "int8", scheduler = "list";
  int64_t context = 0, promptLen = 0, batch = 1;
  int firstLayers = -1;
  bool layersOnly = false, functional = false;
  uint64_t seed = 1;
  bool seedGiven = false;  // --seed given: it must matter (values carried)
};

struct CompileArgs {
  ModelArgs model;
  std::string out;  // the binary program to write
};

struct RunArgs {
  ModelArgs model;
  bool json = false, layers = false;
  std::string tracePath;
  std::string prompt;  // token ids, fed one decode step each
  int generate = 0;    // tokens generated greedily after the prompt
  // A whole request (prefill): tokens per prefill step (0: chosen) and decode steps after it (-1: none asked).
  int64_t chunk = 0;
  int64_t thenDecode = -1;
  // A multi-chip system: a preset or file, or a number of chips, and the split.
  std::string systemName, parallel, experts;  // experts "": auto
  int chipsCount = 0;
  double maxMemoryGib = 0;
};

// Checks the options that shape a model's step against the model and the
// mode (0 or -1: not given): the context and prompt length within its
// positions, the first layers within its layers, the prompt length given
// exactly for a prefill. Throws lpu::Error naming the option and its range.
void checkStep(const ModelConfig& m, const std::string& mode, int64_t context, int64_t promptLen, int64_t batch,
               int firstLayers);

// Each prints its report on stdout; throws lpu::Error on bad input, or when
// the simulated cycles differ from the predicted ones (after the report).
void compileCommand(const CompileArgs& a);
void runCommand(const RunArgs& a);

// The single-chip run's report (sim/cli/run_report.cpp): JSON, or a table;
// with `layers`, the cycle span of each layer; the bound as `chip` sets it.
std::string runJson(const Graph& g, const ChipConfig& chip, const Compiled& c, const SimResult& r, bool layers);
std::string runTable(const Graph& g, const ChipConfig& chip, const Compiled& c, const SimResult& r, bool layers);

}  // namespace lpu
