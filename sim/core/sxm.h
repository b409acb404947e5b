// SXM lane movements: for each output lane, the input lane it takes (-1:
// zero). The same movement applies to every byte plane of a value.
#pragma once
#include <vector>

#include "isa/arch/chip_config.h"
#include "isa/program.h"

namespace lpu {

std::vector<int> sxmSourceLanes(const ChipConfig& c, const Program& p, const Instr& in);

}  // namespace lpu
