// Lane-wise semantics of the VXM: one line per opcode. Values travel as
// doubles (exact for every element type); results are rounded to the
// instruction's type: float arithmetic for f32, wrap-around for i32.
#pragma once
#include "isa/isa.h"

namespace lpu {

double vxmUnary(Opcode op, DType t, double x);
double vxmBinary(Opcode op, DType t, double x, double y);

}  // namespace lpu
