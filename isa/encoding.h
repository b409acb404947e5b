// Binary encoding of one instruction as a 64-bit word, driven by formats.h.
#pragma once
#include <cstdint>
#include <string>

#include "isa.h"

namespace lpu {

uint64_t encode(const Instr& in);

// Decodes one word; throws lpu::Error("<where>: ...") naming what is wrong
// (unknown opcode, nonzero pad bits, invalid dtype or mode).
Instr decode(uint64_t word, const std::string& where);

}  // namespace lpu
