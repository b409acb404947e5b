// Instruction formats: each owns its bit layout and its assembly syntax.
// Every instruction is one 64-bit little-endian word; bits 63..56 hold the
// opcode and the fields follow from bit 55 down, in the order listed.
// Pad bits are zero; the decoder rejects a word whose pad bits are not.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "isa.h"

namespace lpu {

enum class Field : uint8_t { Pad, Dt, Dt2, Mode, S0, S1, S2, Slice, N, Imm, D, Stride };

// How an operand is written in assembly.
enum class Syntax : uint8_t {
  Stream,   // s5e / s5w
  Number,   // unsigned decimal or 0x hex
  Signed,   // signed decimal
  Value,    // #1.5 or #-3: float or integer by the dtype suffix
  Address,  // a number, or tensor[row] resolved against the data section
  Map,      // a .map name, or its index
  Slice,    // W0..W43, E0..E43
  Mode,     // set | add
};

struct BitField {
  Field field;
  int width;
};
struct Operand {
  Field field;
  Syntax syntax;
  bool optional = false;  // may be left out (only last); reads as 0
};

struct FormatSpec {
  Format format;
  std::vector<BitField> bits;     // MSB first after the opcode; widths sum to 56
  std::vector<Operand> operands;  // in assembly order
  bool dtSuffix = false;          // mnemonic.dt
  bool dt2Suffix = false;         // mnemonic.dt.dt2
};

const FormatSpec& spec(Format f);
// The width in bits of field `x` in format f (0 if the format has none).
int fieldWidth(Format f, Field x);
// The byte-plane streams an instruction's result takes from s0: bytes(dt)
// for a typed result (VXM, SXM, ACC), 1 for an untyped one (READ, GATHER,
// RECV), 0 for none (WRITE and SCATTER read s0). TRANSPOSE writes
// lanes_per_superlane streams, a chip parameter, and is not counted here.
int resultPlanes(const Instr& in);
// The streams an instruction reads and those it writes when it issues, plane
// by plane (what the simulator's units do; `lanesPerSuperlane` is the chip's,
// for TRANSPOSE). Control, CONFIG, IW and DESKEW touch none.
std::vector<StreamRef> streamsRead(const Instr& in, int lanesPerSuperlane);
std::vector<StreamRef> streamsWritten(const Instr& in, int lanesPerSuperlane);
// The operands as the reference writes them, e.g. "z, x, #imm".
std::string_view usage(Format f);

}  // namespace lpu
