#include "formats.h"

#include <array>

namespace lpu {
namespace {

using F = Field;
using S = Syntax;

// 63    56 55                                                         0
// +--------+-----------------------------------------------------------+
// | opcode |                       format fields                       |
// +--------+-----------------------------------------------------------+
const std::array<FormatSpec, 19>& table() {
  static const std::array<FormatSpec, 19> t = {{
      // Bare       | op:8 | 0:56 |                                   sync
      {Format::Bare, {{F::Pad, 56}}, {}},
      // Count      | op:8 | 0:24 | n:32 |                            nop 5
      {Format::Count, {{F::Pad, 24}, {F::Imm, 32}}, {{F::Imm, S::Number}}},
      // Repeat     | op:8 | n:24 | d:16 | stride:16 |               repeat 7, 1, 1
      {Format::Repeat,
       {{F::N, 24}, {F::D, 16}, {F::Stride, 16}},
       {{F::N, S::Number}, {F::D, S::Number}, {F::Stride, S::Signed, true}}},
      // SliceAddr  | op:8 | 0:16 | slice:8 | addr:32 |              ifetch W3, 120
      {Format::SliceAddr, {{F::Pad, 16}, {F::Slice, 8}, {F::Imm, 32}}, {{F::Slice, S::Slice}, {F::Imm, S::Number}}},
      // DtOnly     | op:8 | dt:4 | 0:52 |                            config.f16
      {Format::DtOnly, {{F::Dt, 4}, {F::Pad, 52}}, {}, true},
      // MemStream  | op:8 | 0:18 | s0:6 | addr:32 |                 read x[3], s0e
      {Format::MemStream, {{F::Pad, 18}, {F::S0, 6}, {F::Imm, 32}}, {{F::Imm, S::Address}, {F::S0, S::Stream}}},
      // StreamMap  | op:8 | 0:12 | s0:6 | s1:6 | 0:32 |             gather s0w, s2e
      {Format::StreamMap,
       {{F::Pad, 12}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 32}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}}},
      // Unary      | op:8 | dt:4 | 0:4 | s0:6 | s1:6 | 0:36 |       exp.f32 s4w, s0e
      {Format::Unary,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 36}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}},
       true},
      // Convert    | op:8 | dt:4 | dt2:4 | s0:6 | s1:6 | 0:36 |     cvt.f32.i32 s4w, s0e
      {Format::Convert,
       {{F::Dt, 4}, {F::Dt2, 4}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 36}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}},
       true,
       true},
      // Binary     | op:8 | dt:4 | 0:4 | s0:6 | s1:6 | s2:6 | 0:30 | add.f32 s8w, s0e, s4e
      {Format::Binary,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::S1, 6}, {F::S2, 6}, {F::Pad, 30}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}, {F::S2, S::Stream}},
       true},
      // Immediate  | op:8 | dt:4 | 0:4 | s0:6 | s1:6 | 0:4 | imm:32 | muli.f32 s4w, s0e, #0.5
      {Format::Immediate,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 4}, {F::Imm, 32}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}, {F::Imm, S::Value}},
       true},
      // LoadW      | op:8 | dt:4 | 0:4 | s1:6 | n:10 | row:32 |      lw.i8 s0w, 16, 0
      {Format::LoadW,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S1, 6}, {F::N, 10}, {F::Imm, 32}},
       {{F::S1, S::Stream}, {F::N, S::Number}, {F::Imm, S::Number}},
       true},
      // Activate   | op:8 | dt:4 | mode:4 | s1:6 | 0:10 | acc:32 |   abc.i8 s0w, 1, add
      {Format::Activate,
       {{F::Dt, 4}, {F::Mode, 4}, {F::S1, 6}, {F::Pad, 10}, {F::Imm, 32}},
       {{F::S1, S::Stream}, {F::Imm, S::Number}, {F::Mode, S::Mode, true}},
       true},
      // Drain      | op:8 | dt:4 | 0:4 | s0:6 | 0:10 | acc:32 |      acc.i32 s0e, 1
      {Format::Drain,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::Pad, 10}, {F::Imm, 32}},
       {{F::S0, S::Stream}, {F::Imm, S::Number}},
       true},
      // Move       | op:8 | dt:4 | 0:4 | s0:6 | s1:6 | 0:4 | n:32 |  rot.f32 s4w, s0e, -2
      {Format::Move,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 4}, {F::Imm, 32}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}, {F::Imm, S::Signed}},
       true},
      // MoveMap    | op:8 | dt:4 | 0:4 | s0:6 | s1:6 | 0:4 | map:32 | perm.i8 s4w, s0e, rev
      {Format::MoveMap,
       {{F::Dt, 4}, {F::Pad, 4}, {F::S0, 6}, {F::S1, 6}, {F::Pad, 4}, {F::Imm, 32}},
       {{F::S0, S::Stream}, {F::S1, S::Stream}, {F::Imm, S::Map}},
       true},
      // LinkOut    | op:8 | 0:12 | s1:6 | 0:6 | link:32 |            send 3, s0e
      {Format::LinkOut,
       {{F::Pad, 12}, {F::S1, 6}, {F::Pad, 6}, {F::Imm, 32}},
       {{F::Imm, S::Number}, {F::S1, S::Stream}}},
      // LinkIn     | op:8 | 0:12 | s0:6 | 0:6 | link:32 |            recv s0w, 3
      {Format::LinkIn,
       {{F::Pad, 12}, {F::S0, 6}, {F::Pad, 6}, {F::Imm, 32}},
       {{F::S0, S::Stream}, {F::Imm, S::Number}}},
      // Link       | op:8 | 0:24 | link:32 |                         deskew 3
      {Format::Link, {{F::Pad, 24}, {F::Imm, 32}}, {{F::Imm, S::Number}}},
  }};
  return t;
}

}  // namespace

const FormatSpec& spec(Format f) { return table()[size_t(f)]; }

int fieldWidth(Format f, Field x) {
  for (const BitField& b : spec(f).bits)
    if (b.field == x) return b.width;
  return 0;
}

int resultPlanes(const Instr& in) {
  const FormatSpec& f = spec(info(in.op).format);
  if (in.op == Opcode::WRITE || in.op == Opcode::SCATTER || fieldWidth(f.format, Field::S0) == 0) return 0;
  return f.dtSuffix ? bytes(in.dt) : 1;
}

namespace {

void planes(std::vector<StreamRef>& out, StreamRef base, int n) {
  for (int i = 0; i < n; ++i) out.push_back(StreamRef{uint8_t(base.id + i), base.east});
}

}  // namespace

std::vector<StreamRef> streamsRead(const Instr& in, int lanesPerSuperlane) {
  std::vector<StreamRef> out;
  const OpInfo& oi = info(in.op);
  switch (oi.unit) {
    case Unit::MEM:
      if (in.op == Opcode::GATHER || in.op == Opcode::SCATTER) planes(out, in.s1, 4);  // the i32 map
      if (in.op == Opcode::WRITE || in.op == Opcode::SCATTER) planes(out, in.s0, 1);
      break;
    case Unit::VXM:
      planes(out, in.s1, bytes(in.op == Opcode::CVT ? in.dt2 : in.dt));
      if (oi.format == Format::Binary) planes(out, in.s2, bytes(in.dt));
      break;
    case Unit::MXM:
      if (in.op == Opcode::LW) planes(out, in.s1, int(in.n) * bytes(in.dt));
      if (in.op == Opcode::ABC) planes(out, in.s1, bytes(in.dt));
      break;
    case Unit::SXM: planes(out, in.s1, in.op == Opcode::TRANSPOSE ? lanesPerSuperlane : bytes(in.dt)); break;
    case Unit::C2C:
      if (in.op == Opcode::SEND) planes(out, in.s1, 1);
      break;
    case Unit::ICU: break;
  }
  return out;
}

std::vector<StreamRef> streamsWritten(const Instr& in, int lanesPerSuperlane) {
  std::vector<StreamRef> out;
  switch (info(in.op).unit) {
    case Unit::MEM:
      if (in.op == Opcode::READ || in.op == Opcode::GATHER) planes(out, in.s0, 1);
      break;
    case Unit::VXM: planes(out, in.s0, bytes(in.dt)); break;
    case Unit::MXM:
      if (in.op == Opcode::ACC) planes(out, in.s0, bytes(in.dt));
      break;
    case Unit::SXM: planes(out, in.s0, in.op == Opcode::TRANSPOSE ? lanesPerSuperlane : bytes(in.dt)); break;
    case Unit::C2C:
      if (in.op == Opcode::RECV) planes(out, in.s0, 1);
      break;
    case Unit::ICU: break;
  }
  return out;
}

std::string_view usage(Format f) {
  constexpr std::string_view u[] = {
      "",        "n",         "n, d[, stride]", "slice, addr", "",          "addr, stream",      "data, map",
      "z, x",    "z, x",      "z, x, y",        "z, x, #imm",  "x, n, row", "x, acc[, set|add]", "z, acc",
      "z, x, n", "z, x, map", "link, x",        "z, link",     "link"};
  static_assert(std::size(u) == size_t(Format::Link) + 1);
  return u[size_t(f)];
}

}  // namespace lpu
