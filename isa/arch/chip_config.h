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
// Defaults are assumptions (not public); see fieldDocs() for each meaning.
struct Latency {
  int icu_notify = 4;
  int mem_read = 4;
  int mem_write = 4;
  int vxm_alu = 4;
  int vxm_special = 12;
  int vxm_convert = 4;
  int mxm_load = 1;
  int mxm_install = 4;
  int mxm_pass = 28;
  int mxm_acc = 4;
  int sxm_shift = 4;
  int sxm_permute = 6;
  int sxm_transpose = 12;
  int c2c_send = 2;
  int c2c_recv = 2;
  int c2c_deskew = 216;
};

struct ChipConfig {
  std::string name = "groq-tsp-v1";
  std::string description = "GroqChip 1 / TSP v1 (ISCA 2020), 900 MHz, 220 MiB SRAM";
  double clock_hz = 900e6;
  int superlanes = 20;
  int lanes_per_superlane = 16;
  int streams_per_direction = 32;
  int stream_hop = 1;
  int mem_slices_per_hemisphere = 44;
  int mem_banks_per_slice = 2;
  int mem_words_per_bank = 4096;
  int mem_ports_per_bank = 1;
  int vxm_alus = 16;
  int mxm_planes_per_hemisphere = 2;
  int mxm_queues_per_plane = 3;
  int mxm_weight_streams = 16;
  int mxm_accumulators = 4;
  int sxm_queues_per_hemisphere = 14;
  int c2c_links = 16;
  int c2c_lanes_per_link = 4;
  double c2c_gbps_per_lane = 30;
  int c2c_link_latency = 300;
  Latency latency;

  int lanes() const { return superlanes * lanes_per_superlane; }  // vector length
  int latencyOf(Lat l) const;
  int c2cCyclesPerVector() const;  // link occupancy of one vector
  uint64_t sramBytes() const;
  // Slice positions along the east-west axis, west edge = 0:
  // MXM | SXM | MEM W(n-1)..W0 | VXM | MEM E0..E(n-1) | SXM | MXM
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
