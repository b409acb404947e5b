// Chip configuration: plain structs with the groq-tsp-v1 figures as in-class
// defaults, one validate() naming the bad field, JSON in and out, and the
// bundled presets. Plain C++: the compiler links this without SystemC.
#pragma once
#include <string>
#include <vector>

#include "isa/isa.h"
#include "isa/program.h"

namespace lpu {

// Functional delays in cycles: issue to result on its stream (or committed).
// One member per row of isa/latencies.def, with its default.
struct Latency {
#define LPU_LATENCY(name, def, ...) int name = def;
#include "isa/latencies.def"
};

struct ChipConfig {
  std::string name = "groq-tsp-v1";
  std::string description = "GroqChip 1 / TSP v1 (ISCA 2020), 900 MHz, 220 MiB SRAM";
  // One member per row of chip_fields.def, with its default.
#define LPU_CHIP_FIELD(type, name, def, ...) type name = def;
#include "chip_fields.def"
  Latency latency;

  int lanes() const { return superlanes * lanes_per_superlane; }  // vector length
  int latencyOf(Lat l) const;
  int c2cCyclesPerVector() const;  // link occupancy of one vector
  uint64_t sramBytes() const;
  // Slice positions along the east-west axis, west edge = 0:
  // MXM | SXM | MEM W(n-1)..W0 | VXM | MEM E0..E(n-1) | SXM | MXM (the
  // queue table, isa/arch/queues.h, gives each unit kind's position)
  int position(const QueueId& q) const;
  int memPosition(SliceRef s) const;
  int vxmPosition() const { return mem_slices_per_hemisphere + 2; }
  int eastEdge() const { return 2 * mem_slices_per_hemisphere + 4; }
  // Throws lpu::Error("<where>: field <name>: ...") for the first bad field.
  void validate(const std::string& where) const;
};

// One documented parameter: JSON key, unit, meaning, and whether the default
// is an assumption (not a published figure).
struct FieldDoc {
  std::string key, unit, meaning;
  bool assumed;
};
const std::vector<FieldDoc>& fieldDocs();

ChipConfig presetTspV1();
ChipConfig presetTeaching();
std::vector<ChipConfig> presets();

// A preset name, or a path to a JSON file. A JSON file may name a "base"
// preset and override any fields; unknown keys are errors.
ChipConfig loadChip(const std::string& nameOrPath);
ChipConfig chipFromJson(const std::string& text, const std::string& where);
std::string chipToJson(const ChipConfig& c);

// Checks that a program's queues, streams, tensors and maps exist on the chip.
void checkProgramFits(const Program& p, const ChipConfig& c, const std::string& where);

}  // namespace lpu
