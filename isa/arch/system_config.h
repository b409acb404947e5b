// A multi-chip system: chips of one kind wired by C2C links into a
// software-scheduled Dragonfly (CHIP.md, "Multi-chip"): nodes of chips
// fully connected by local links, the nodes of a rack connected by global
// links, racks by the remaining links. Plain struct with the published
// figures as defaults, one validate() naming the bad field, JSON in and out.
#pragma once
#include <string>
#include <vector>

#include "chip_config.h"

namespace lpu {

struct SystemConfig {
  std::string name = "groq-node";
  std::string description = "one GroqNode: 8 chips, fully connected";
  std::string chip = "groq-tsp-v1";  // chip preset name (or JSON file)
  int chips = 8;                     // chips in the system
  int chips_per_node = 8;            // fully connected by chips_per_node - 1 local links each
  int nodes_per_rack = 9;            // connected by the global links
  int global_links = 4;              // per chip, to the other nodes of its rack
  // Link figures, applied to the chip's C2C fields (published figures; latency assumed).
  int lanes_per_link = 4;
  double gbps_per_lane = 30;
  int hop_latency = 300;  // cycles on the wire, per hop [assumed]
  int deskew = 216;       // cycles to align a link (published mean)

  void validate(const std::string& where) const;
  // The chip with this system's link figures.
  ChipConfig chipConfig() const;
};

std::vector<SystemConfig> systemPresets();
// A preset name, or a path to a JSON file (may name a "base" preset).
SystemConfig loadSystem(const std::string& nameOrPath);
SystemConfig systemFromJson(const std::string& text, const std::string& where);
std::string systemToJson(const SystemConfig& s);
// A system of n chips of the given kind, wired like the presets.
SystemConfig systemOfChips(int n, const std::string& chip);

// The far end of a link: chip and link index; chip -1 if unconnected.
struct LinkEnd {
  int chip = -1, link = -1;
};
// wiring[c][l]: where link l of chip c leads. Symmetric by construction.
std::vector<std::vector<LinkEnd>> wiring(const SystemConfig& s, int linksPerChip);
// The link of chip a that leads directly to chip b, or -1.
int directLink(const std::vector<std::vector<LinkEnd>>& w, int a, int b);
// n chips in an order where consecutive chips share a direct link (a
// pipeline); throws lpu::Error if the system has no such path.
std::vector<int> chainOrder(const SystemConfig& s, const std::vector<std::vector<LinkEnd>>& w, int n);

}  // namespace lpu
