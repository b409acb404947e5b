// What a simulation run reports, and its renderings (JSON, table, trace).
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chip.h"

namespace lpu {

struct OutputValue {
  std::string name;
  DType dtype;
  uint32_t rows, cols;
  std::vector<uint8_t> bytes;  // rows*cols little-endian elements; empty if timing-only
  std::string checksum;        // FNV-1a-64 of bytes, hex
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(OutputValue, name, dtype, rows, cols, bytes, checksum)

struct SimResult {
  std::string program, chip;
  Cycle cycles = 0;  // start barrier release to the last retirement
  double clock_hz = 0;
  bool functional = true;
  std::array<UnitStats, kUnitCount> units{};
  std::array<int, kUnitCount> queues{};  // queues per unit class, for utilisation
  std::vector<OutputValue> outputs;
  SourceStats sources;  // the producer check
  double wall_s = 0;
  double seconds() const { return double(cycles) / clock_hz; }
};
// (The simulation process hands its result over in this form; resultJson is the report.)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SimResult, program, chip, cycles, clock_hz, functional, units, queues, outputs,
                                   sources, wall_s)

SimResult collectResult(const Chip& chip, const std::string& programName, Cycle release);

std::string resultJson(const SimResult& r, size_t maxValues = 4096);
std::string resultTable(const SimResult& r);
// Chrome trace format (chrome://tracing, ui.perfetto.dev): one track per queue,
// 1 cycle = 1 us on the time axis.
std::string traceJson(const Chip& chip);
// Writes each output as DIR/<name>.npy.
void dumpOutputs(const SimResult& r, const std::string& dir);

}  // namespace lpu
