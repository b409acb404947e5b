// Small helpers for the in-process unit tests of sim/core (2xx): vectors,
// origins and a describer that names an origin "q<queue>@<issue>".
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sim/core/types.h"

namespace lpu::test {

inline Plane lanes(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }
inline Origin who(int queue, Cycle issue) { return Origin{queue, Instr{}, issue}; }
inline std::string name(const Origin& o) { return "q" + std::to_string(o.queue) + "@" + std::to_string(o.issue); }

}  // namespace lpu::test
