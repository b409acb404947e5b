#include "sim/cli/preset_info.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "isa/arch/system_config.h"

namespace lpu {

std::string chipsTable() {
  std::string s = fmt::format("{:<14} {:>6} {:>9} {:>10} {:>8} {:>11} {:>10}  {}\n", "name", "lanes", "MEM slc",
                              "SRAM MiB", "MHz", "MXM planes", "C2C links", "description");
  for (const ChipConfig& c : presets())
    s += fmt::format("{:<14} {:>6} {:>9} {:>10.2f} {:>8.0f} {:>11} {:>10}  {}\n", c.name, c.lanes(),
                     2 * c.mem_slices_per_hemisphere, double(c.sramBytes()) / (1 << 20), c.clock_hz / 1e6,
                     2 * c.mxm_planes_per_hemisphere, c.c2c_links, c.description);
  return s;
}

std::string fieldsTable() {
  std::string s = fmt::format("{:<26} {:<15} {:<10} {}\n", "field", "unit", "default", "meaning");
  const ChipConfig c;
  const auto j = nlohmann::json::parse(chipToJson(c));
  for (const FieldDoc& f : fieldDocs()) {
    const auto dot = f.key.find('.');
    const auto& v = dot == std::string::npos ? j[f.key] : j[f.key.substr(0, dot)][f.key.substr(dot + 1)];
    s += fmt::format("{:<26} {:<15} {:<10} {}{}\n", f.key, f.unit, v.dump(), f.meaning,
                     f.assumed ? " [assumed: not public]" : "");
  }
  return s;
}

std::string systemsTable() {
  std::string s = fmt::format("{:<16} {:>7} {:>6} {:>6} {:>7} {:>10} {:>9}  {}\n", "name", "chips", "node", "rack",
                              "global", "link GB/s", "hop cyc", "description");
  for (const auto& sy : systemPresets())
    s += fmt::format("{:<16} {:>7} {:>6} {:>6} {:>7} {:>10.1f} {:>9}  {}\n", sy.name, sy.chips, sy.chips_per_node,
                     sy.nodes_per_rack, sy.global_links, sy.lanes_per_link * sy.gbps_per_lane / 8, sy.hop_latency,
                     sy.description);
  return s;
}

}  // namespace lpu
