// `lpusim bench`: figures for the closing notes and the README, not a timed
// test: per case and scheduler, the simulated tokens/s and the wall time,
// speed and memory of compiling and simulating it.
#pragma once
#include <string>
#include <vector>

#include "models/build_graph.h"

namespace lpu {

struct BenchCase {
  std::string model;
  StepRequest step;
};

std::vector<BenchCase> defaultBenchCases();
// Runs each case with both schedulers; prints a table (or JSON lines).
void runBench(const std::vector<BenchCase>& cases, const std::string& chip, bool int8, bool json);

// A model on a multi-chip system ("" parallel: the split is chosen).
struct SystemBenchCase {
  std::string model, system, parallel;
  int64_t context = 0;
};
std::vector<SystemBenchCase> defaultSystemBenchCases();
// Runs each case (list scheduler, timing only) unless its compile would
// need more memory than the machine has (then says so and skips it).
void runSystemBench(const std::vector<SystemBenchCase>& cases, bool int8, bool json);

// A whole prompt's prefill (in chunks where it does not fit one step), on
// one chip ("" system) or a system (split chosen), timing only.
struct PrefillBenchCase {
  std::string model, system;
  int64_t prompt = 0;
  int layers = -1;  // the first N layers, alone (no embedding, head), or -1: the whole model
};
std::vector<PrefillBenchCase> defaultPrefillBenchCases();
// Runs each case (list scheduler): cycles, bound, ratio, MXM utilisation,
// time to first token, chunk, wall times and peak memory; a case too big
// for this machine's memory is skipped with the reason.
void runPrefillBench(const std::vector<PrefillBenchCase>& cases, bool int8, bool json);

}  // namespace lpu
