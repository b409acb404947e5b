#include "encoding.h"

#include <fmt/format.h>

#include "error.h"
#include "formats.h"

namespace lpu {
namespace {

uint64_t streamBits(StreamRef s) { return (uint64_t(s.east) << 5) | (s.id & 31u); }
StreamRef streamFrom(uint64_t b) { return StreamRef{uint8_t(b & 31u), bool(b >> 5)}; }

uint64_t getField(const Instr& in, Field f) {
  switch (f) {
    case Field::Pad: return 0;
    case Field::Dt: return uint64_t(in.dt);
    case Field::Dt2: return uint64_t(in.dt2);
    case Field::Mode: return uint64_t(in.mode);
    case Field::S0: return streamBits(in.s0);
    case Field::S1: return streamBits(in.s1);
    case Field::S2: return streamBits(in.s2);
    case Field::Slice: return (uint64_t(in.slice.east) << 7) | (in.slice.index & 127u);
    case Field::N: return in.n;
    case Field::Imm: return in.imm;
    case Field::D: return in.d;
    case Field::Stride: return uint16_t(in.stride);
  }
  return 0;
}

void setField(Instr& in, Field f, uint64_t v) {
  switch (f) {
    case Field::Pad: break;
    case Field::Dt: in.dt = DType(v); break;
    case Field::Dt2: in.dt2 = DType(v); break;
    case Field::Mode: in.mode = AccMode(v); break;
    case Field::S0: in.s0 = streamFrom(v); break;
    case Field::S1: in.s1 = streamFrom(v); break;
    case Field::S2: in.s2 = streamFrom(v); break;
    case Field::Slice: in.slice = SliceRef{bool(v >> 7), uint8_t(v & 127u)}; break;
    case Field::N: in.n = uint32_t(v); break;
    case Field::Imm: in.imm = uint32_t(v); break;
    case Field::D: in.d = uint16_t(v); break;
    case Field::Stride: in.stride = int16_t(uint16_t(v)); break;
  }
}

}  // namespace

uint64_t encode(const Instr& in) {
  const OpInfo& oi = info(in.op);
  uint64_t w = uint64_t(in.op) << 56;
  int pos = 56;
  for (const BitField& b : spec(oi.format).bits) {
    pos -= b.width;
    const uint64_t mask = (uint64_t(1) << b.width) - 1;
    w |= (getField(in, b.field) & mask) << pos;
  }
  return w;
}

Instr decode(uint64_t word, const std::string& where) {
  const uint8_t code = uint8_t(word >> 56);
  const OpInfo* oi = findOp(code);
  if (!oi) throw Error(fmt::format("{}: unknown opcode 0x{:02x} in word 0x{:016x}", where, code, word));
  Instr in;
  in.op = oi->op;
  int pos = 56;
  for (const BitField& b : spec(oi->format).bits) {
    pos -= b.width;
    const uint64_t v = (word >> pos) & ((uint64_t(1) << b.width) - 1);
    if (b.field == Field::Pad && v != 0)
      throw Error(fmt::format("{}: {} word 0x{:016x} has nonzero reserved bits", where, oi->mnemonic, word));
    if ((b.field == Field::Dt || b.field == Field::Dt2) &&
        (v >= kDTypeCount || (b.field == Field::Dt && !allows(oi->dtypes, DType(v)))))
      throw Error(fmt::format("{}: {} word 0x{:016x} has invalid element type {}", where, oi->mnemonic, word, v));
    if (b.field == Field::Mode && v > 1)
      throw Error(fmt::format("{}: {} word 0x{:016x} has invalid mode {}", where, oi->mnemonic, word, v));
    setField(in, b.field, v);
  }
  return in;
}

}  // namespace lpu
