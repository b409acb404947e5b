#include "numeric.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace lpu {

uint16_t f32ToF16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = int32_t((x >> 23) & 0xffu);
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return uint16_t(sign | 0x7c00u | (mant ? 0x200u : 0u));  // inf / nan
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return uint16_t(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {                                    // subnormal or zero
    if (e < -10) return uint16_t(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into exponent: ok
  return uint16_t(sign | half);
}

float f16ToF32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while (!(m & 0x400u));
      x = sign | (uint32_t(127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

double minValue(DType t) {
  switch (t) {
    case DType::I8: return -128;
    case DType::I16: return -32768;
    case DType::I32: return -2147483648.0;
    case DType::F16: return -65504;
    case DType::F32: return -double(std::numeric_limits<float>::max());
  }
  return 0;
}

double maxValue(DType t) {
  switch (t) {
    case DType::I8: return 127;
    case DType::I16: return 32767;
    case DType::I32: return 2147483647.0;
    case DType::F16: return 65504;
    case DType::F32: return double(std::numeric_limits<float>::max());
  }
  return 0;
}

void storeElement(DType t, double v, uint8_t* out) {
  auto put = [out](uint64_t bits, int n) {
    for (int i = 0; i < n; ++i) out[i] = uint8_t(bits >> (8 * i));
  };
  switch (t) {
    case DType::I8:
    case DType::I16:
    case DType::I32: {
      double r = std::isnan(v) ? 0.0 : std::nearbyint(v);  // default mode: ties to even
      r = std::fmin(std::fmax(r, minValue(t)), maxValue(t));
      put(uint64_t(int64_t(r)), bytes(t));
      break;
    }
    case DType::F16: put(f32ToF16(float(v)), 2); break;
    case DType::F32: {
      const float f = float(v);
      uint32_t b;
      std::memcpy(&b, &f, 4);
      put(b, 4);
      break;
    }
  }
}

double loadElement(DType t, const uint8_t* in) {
  auto get = [in](int n) {
    uint64_t b = 0;
    for (int i = 0; i < n; ++i) b |= uint64_t(in[i]) << (8 * i);
    return b;
  };
  switch (t) {
    case DType::I8: return int8_t(get(1));
    case DType::I16: return int16_t(get(2));
    case DType::I32: return int32_t(get(4));
    case DType::F16: return f16ToF32(uint16_t(get(2)));
    case DType::F32: {
      const uint32_t b = uint32_t(get(4));
      float f;
      std::memcpy(&f, &b, 4);
      return f;
    }
  }
  return 0;
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform(double lo, double hi) {
  return lo + (hi - lo) * double(next() >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace lpu
