// Running a program on the simulated chip. The only entry point that uses
// SystemC; one simulation per process (SystemC cannot elaborate twice).
#pragma once
#include <string>

#include "sim/core/result.h"

namespace lpu {

struct RunRequest {
  SimOptions options;
  std::string tracePath;  // write a Chrome trace here when non-empty
};

// Checks the program against the chip, runs it to the end and returns the
// result; throws lpu::Error on bad input or the first timing violation.
SimResult simulate(const Program& p, const ChipConfig& c, const std::string& programName, const RunRequest& req);

// The cycle (from the start of the run) at which the start barrier releases,
// computed from the program text: 0 without a barrier.
Cycle staticRelease(const Program& p, const ChipConfig& c);

}  // namespace lpu
