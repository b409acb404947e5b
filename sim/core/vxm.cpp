#include "vxm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lpu {
namespace {

int32_t wrap(int64_t v) { return int32_t(uint32_t(uint64_t(v))); }

}  // namespace

double vxmUnary(Opcode op, DType t, double x) {
  if (t == DType::F32) {
    const float f = float(x);
    switch (op) {
      case Opcode::NEG: return -f;
      case Opcode::ABS: return std::fabs(f);
      case Opcode::RELU: return f > 0.0f ? f : 0.0f;
      case Opcode::TANH: return std::tanh(f);
      case Opcode::EXP: return std::exp(f);
      case Opcode::RSQRT: return 1.0f / std::sqrt(f);
      default: return f;  // MOV
    }
  }
  const int64_t i = int64_t(x);
  switch (op) {
    case Opcode::NEG: return wrap(-i);
    case Opcode::ABS: return wrap(i < 0 ? -i : i);
    case Opcode::RELU: return i > 0 ? i : 0;
    default: return x;  // MOV
  }
}

double vxmBinary(Opcode op, DType t, double x, double y) {
  if (t == DType::F32) {
    const float a = float(x), b = float(y);
    switch (op) {
      case Opcode::ADD:
      case Opcode::ADDI: return a + b;
      case Opcode::SUB: return a - b;
      case Opcode::MUL:
      case Opcode::MULI: return a * b;
      case Opcode::MAX:
      case Opcode::MAXI: return std::max(a, b);
      case Opcode::MIN:
      case Opcode::MINI: return std::min(a, b);
      default: return a;
    }
  }
  const int64_t a = int64_t(x), b = int64_t(y);
  switch (op) {
    case Opcode::ADD:
    case Opcode::ADDI: return wrap(a + b);
    case Opcode::SUB: return wrap(a - b);
    case Opcode::MUL:
    case Opcode::MULI: return wrap(a * b);
    case Opcode::MAX:
    case Opcode::MAXI: return std::max(a, b);
    case Opcode::MIN:
    case Opcode::MINI: return std::min(a, b);
    default: return double(a);
  }
}

}  // namespace lpu
