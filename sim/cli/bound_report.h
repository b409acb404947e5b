// The resource bound's keys in a run's report (compiler/bound.h):
// bound_cycles, its parts, cycles / bound_cycles and the MXM utilisation.
#pragma once
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "compiler/bound.h"

namespace lpu {

inline double boundRatio(const Bound& b, Cycle cycles) { return b.cycles > 0 ? double(cycles) / double(b.cycles) : 0; }

inline void addBoundJson(nlohmann::ordered_json& o, const ChipConfig& c, const Bound& b, Cycle cycles, size_t chips) {
  o["bound_cycles"] = b.cycles;
  o["bound"] = b;
  o["bound"].erase("cycles");
  o["bound_ratio"] = boundRatio(b, cycles);
  o["mxm_utilization"] = mxmUtilization(c, b, cycles, chips);
}

inline std::string boundLine(const ChipConfig& c, const Bound& b, Cycle cycles, size_t chips) {
  return fmt::format(
      "bound {} cycles ({}: MXM bytes {} cycles, MACs {} cycles, links {} cycles), {:.2f}x; MXM utilisation "
      "{:.1f}%\n",
      b.cycles, b.limit, b.bytes_cycles, b.macs_cycles, b.link_cycles, boundRatio(b, cycles),
      100 * mxmUtilization(c, b, cycles, chips));
}

}  // namespace lpu
