// Element storage: how values of each DType are laid out as little-endian
// bytes, with the chip's rounding (nearest, ties to even) and saturation.
#pragma once
#include <cstdint>

#include "isa.h"

namespace lpu {

uint16_t f32ToF16(float f);
float f16ToF32(uint16_t h);

// Converts v to type t (rounding and saturating integers) and stores bytes(t)
// little-endian bytes at out.
void storeElement(DType t, double v, uint8_t* out);
double loadElement(DType t, const uint8_t* in);

// Integer types hold exactly this range.
double minValue(DType t);
double maxValue(DType t);

// Deterministic, platform-independent random numbers for seeded fills.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform(double lo, double hi);  // [lo, hi)
 private:
  uint64_t state_;
};

}  // namespace lpu
