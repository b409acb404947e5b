// The ISA table (isa/opcodes.def) drives encoder, decoder, assembler and
// disassembler: loop over every opcode.
#include <catch2/catch.hpp>
#include <set>

#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/encoding.h"
#include "isa/error.h"
#include "isa/formats.h"

using namespace lpu;

namespace {

// A representative instruction of op with every field its format uses set to a
// legal, nonzero value.
Instr sample(const OpInfo& oi) {
  Instr in;
  in.op = oi.op;
  for (const BitField& b : spec(oi.format).bits) {
    switch (b.field) {
      case Field::Dt:
        for (int d = kDTypeCount - 1; d >= 0; --d)
          if (allows(oi.dtypes, DType(d))) in.dt = DType(d);
        break;
      case Field::Dt2: in.dt2 = DType::I32; break;
      case Field::Mode: in.mode = AccMode::Add; break;
      case Field::S0: in.s0 = StreamRef{3, true}; break;
      case Field::S1: in.s1 = StreamRef{7, false}; break;
      case Field::S2: in.s2 = StreamRef{31, true}; break;
      case Field::Slice: in.slice = SliceRef{true, 5}; break;
      case Field::N: in.n = 9; break;
      case Field::Imm: in.imm = oi.format == Format::Move ? uint32_t(-3) : 17; break;
      case Field::D: in.d = 2; break;
      case Field::Stride: in.stride = -4; break;
      case Field::Pad: break;
    }
  }
  return in;
}

// The queue an op's unit issues from.
std::string queueFor(Unit u) {
  switch (u) {
    case Unit::MEM: return "MEM.W0";
    case Unit::VXM: return "VXM.0";
    case Unit::MXM: return "MXM.W0.0";
    case Unit::SXM: return "SXM.W.0";
    case Unit::C2C: return "C2C.0";
    case Unit::ICU: break;
  }
  return "VXM.1";
}

}  // namespace

TEST_CASE("no two opcodes share an encoding or a mnemonic", "[isa]") {
  std::set<int> codes;
  std::set<std::string> names;
  for (const OpInfo& oi : allOps()) {
    INFO(oi.mnemonic);
    CHECK(codes.insert(int(oi.op)).second);
    CHECK(names.insert(std::string(oi.mnemonic)).second);
  }
  CHECK(codes.size() == size_t(kOpCount));
}

TEST_CASE("every format's fields fill exactly the 56 bits after the opcode", "[isa]") {
  for (int f = 0; f <= int(Format::Link); ++f) {
    int bits = 0;
    for (const BitField& b : spec(Format(f)).bits) bits += b.width;
    INFO("format " << f);
    CHECK(bits == 56);
  }
}

TEST_CASE("encode then decode gives back every opcode's instruction", "[isa]") {
  for (const OpInfo& oi : allOps()) {
    const Instr in = sample(oi);
    const uint64_t w = encode(in);
    INFO(oi.mnemonic << " word " << std::hex << w);
    CHECK(uint8_t(w >> 56) == uint8_t(oi.op));
    CHECK(decode(w, "test") == in);
  }
}

TEST_CASE("the decoder rejects unknown opcodes, reserved bits and illegal element types", "[isa]") {
  CHECK_THROWS_WITH(decode(uint64_t(0xff) << 56, "f.bin: queue VXM.0 instruction 3"),
                    Catch::Contains("f.bin: queue VXM.0 instruction 3") && Catch::Contains("unknown opcode 0xff"));
  CHECK_THROWS_WITH(decode((uint64_t(Opcode::SYNC) << 56) | 1, "w"), Catch::Contains("nonzero reserved bits"));
  Instr exp;
  exp.op = Opcode::EXP;
  exp.dt = DType::F32;
  const uint64_t bad = (encode(exp) & ~(uint64_t(0xf) << 52)) | (uint64_t(DType::I8) << 52);  // exp.i8
  CHECK_THROWS_WITH(decode(bad, "w"), Catch::Contains("invalid element type"));
}

TEST_CASE("assembly -> binary -> disassembly -> binary is the identity for every opcode", "[isa]") {
  for (const OpInfo& oi : allOps()) {
    Program p;
    Queue q{*parseQueueId(queueFor(oi.unit)), {}};
    if (oi.op == Opcode::REPEAT) q.code.push_back(sample(*findOp("add")));  // repeat follows an instruction
    q.code.push_back(sample(oi));
    p.queues.push_back(q);
    p.maps.push_back(PermMap{"m", {0, 1}});
    const auto bytes = serialize(p);
    const std::string text = disassemble(p);
    INFO(oi.mnemonic << ":\n" << text);
    const Program back = assemble(text, "roundtrip.s");
    CHECK(serialize(back) == bytes);
    CHECK(deserialize(bytes, "roundtrip.bin").queues[0].code.back() == q.code.back());
  }
}
