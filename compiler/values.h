// Seeded values for a graph's weights and inputs, when none are given:
// uniform in [-1, 1), scaled by 1/sqrt(fan-in) for matrices; integer inputs
// (token ids) uniform in 0..255, which every bundled vocabulary holds. Deterministic:
// each tensor's stream is seeded from the seed and the tensor's name.
#pragma once
#include <cstdint>

#include "lowering.h"

namespace lpu {

TensorValues seededValues(uint64_t seed);

}  // namespace lpu
