// Running a program on the simulated chip. The only entry point that uses
// SystemC; one simulation per process (SystemC cannot elaborate twice).
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "isa/arch/system_config.h"
#include "sim/core/result.h"

namespace lpu {

struct RunRequest {
  SimOptions options;
  std::string tracePath;  // write a Chrome trace here when non-empty
  // When set (multi-chip runs), hears the simulated cycle now and then,
  // from the process that simulates.
  std::function<void(Cycle)> progress;
};

// Checks the program against the chip, runs it to the end and returns the
// result; throws lpu::Error on bad input or the first timing violation.
SimResult simulate(const Program& p, const ChipConfig& c, const std::string& programName, const RunRequest& req);

struct SystemSimResult {
  Cycle cycles = 0;              // common barrier release to the last retirement on any chip
  std::vector<SimResult> chips;  // per chip
  uint64_t c2c_vectors = 0;      // vectors sent on all links
  uint64_t c2c_busy = 0;         // link-cycles carrying them
  double wall_s = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SystemSimResult, cycles, chips, c2c_vectors, c2c_busy, wall_s)

// Runs one program per chip, all in one simulation, with the chips' links
// wired as given (wires[chip][link]); throws "chip N: ..." on a violation.
SystemSimResult simulateSystem(const std::vector<const Program*>& programs, const ChipConfig& c,
                               const std::vector<std::vector<LinkEnd>>& wires, const RunRequest& req);

// The cycle (from the start of the run) at which the start barrier releases,
// computed from the program text: 0 without a barrier.
Cycle staticRelease(const Program& p, const ChipConfig& c);

}  // namespace lpu
