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

}  // namespace lpu
