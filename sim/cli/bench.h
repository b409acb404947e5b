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

}  // namespace lpu
