// The VXM's lane-wise semantics on their own: integer results wrap to 32
// bits, float results round to f32.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include "sim/core/vxm.h"

using namespace lpu;

SCENARIO("integer VXM arithmetic wraps around at 32 bits", "[unit][vxm]") {
  constexpr double kMax = std::numeric_limits<int32_t>::max(), kMin = std::numeric_limits<int32_t>::min();
  GIVEN("i32 operands") {
    THEN("add, sub and mul wrap") {
      CHECK(vxmBinary(Opcode::ADD, DType::I32, kMax, 1) == kMin);
      CHECK(vxmBinary(Opcode::ADDI, DType::I32, kMax, 2) == kMin + 1);
      CHECK(vxmBinary(Opcode::SUB, DType::I32, kMin, 1) == kMax);
      CHECK(vxmBinary(Opcode::MUL, DType::I32, 65536, 65536) == 0);  // 2^32 wraps to 0
      CHECK(vxmBinary(Opcode::MULI, DType::I32, -3, 7) == -21);
    }
    THEN("max and min compare signed values") {
      CHECK(vxmBinary(Opcode::MAX, DType::I32, -5, 3) == 3);
      CHECK(vxmBinary(Opcode::MINI, DType::I32, -5, 3) == -5);
    }
    THEN("neg of the most negative value wraps to itself; relu clamps at 0") {
      CHECK(vxmUnary(Opcode::NEG, DType::I32, kMin) == kMin);
      CHECK(vxmUnary(Opcode::ABS, DType::I32, -7) == 7);
      CHECK(vxmUnary(Opcode::RELU, DType::I32, -7) == 0);
      CHECK(vxmUnary(Opcode::RELU, DType::I32, 9) == 9);
      CHECK(vxmUnary(Opcode::MOV, DType::I8, -100) == -100);
    }
  }
}

SCENARIO("float VXM arithmetic rounds to f32", "[unit][vxm]") {
  GIVEN("f32 operands") {
    THEN("0.1 + 0.2 is the f32 sum, not the double one") {
      const double got = vxmBinary(Opcode::ADD, DType::F32, 0.1, 0.2);
      CHECK(got == double(0.1f + 0.2f));
      CHECK(got != 0.1 + 0.2);
    }
    THEN("a double operand is first rounded to f32 (mov)") {
      CHECK(vxmUnary(Opcode::MOV, DType::F32, 1.0 + 1e-12) == 1.0);
    }
    THEN("the special functions are the f32 ones") {
      CHECK(vxmUnary(Opcode::RSQRT, DType::F32, 4) == 0.5);
      CHECK(vxmUnary(Opcode::EXP, DType::F32, 1) == double(std::exp(1.0f)));
      CHECK(vxmUnary(Opcode::TANH, DType::F32, 0.5) == double(std::tanh(0.5f)));
      CHECK(vxmUnary(Opcode::RELU, DType::F32, -0.25) == 0.0);
      CHECK(vxmUnary(Opcode::ABS, DType::F32, -0.25) == 0.25);
    }
    THEN("max, min, sub and mul") {
      CHECK(vxmBinary(Opcode::MAXI, DType::F32, -1.5, 2.5) == 2.5);
      CHECK(vxmBinary(Opcode::MIN, DType::F32, -1.5, 2.5) == -1.5);
      CHECK(vxmBinary(Opcode::SUB, DType::F32, 1, 0.25) == 0.75);
      CHECK(vxmBinary(Opcode::MUL, DType::F32, 3, 1.0 / 3) == double(3.0f * float(1.0 / 3)));
    }
  }
}
