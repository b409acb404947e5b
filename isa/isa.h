// The instruction set: opcodes, units, element types, formats and the decoded
// instruction. Everything here is generated from opcodes.def and formats.h.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lpu {

enum class Unit : uint8_t { ICU, MEM, VXM, MXM, SXM, C2C };
constexpr int kUnitCount = 6;
std::string_view unitName(Unit u);

// Element types. bytes() is also the number of byte-plane streams a value uses.
enum class DType : uint8_t { I8, I16, I32, F16, F32 };
constexpr int kDTypeCount = 5;
constexpr int bytes(DType t) { return t == DType::I8 ? 1 : (t == DType::I16 || t == DType::F16) ? 2 : 4; }
constexpr bool isFloat(DType t) { return t == DType::F16 || t == DType::F32; }
std::string_view dtypeName(DType t);                  // "i8", "f32", ...
std::optional<DType> parseDType(std::string_view s);  // also int8, fp16, ...

// Bit masks of DTypes for the dtypes column of opcodes.def.
constexpr uint8_t DT_I8 = 1u << 0, DT_I16 = 1u << 1, DT_I32 = 1u << 2, DT_F16 = 1u << 3, DT_F32 = 1u << 4,
                  DT_ANY = 0x1f;
constexpr bool allows(uint8_t mask, DType t) { return mask & (1u << int(t)); }

// Latency classes, one per row of latencies.def: each names a field of the
// chip config's latency table (isa/arch/chip_config.h); `none` is an
// instruction without a result.
enum class Lat : uint8_t {
  none,
#define LPU_LATENCY(name, ...) name,
#include "latencies.def"
};

enum class Format : uint8_t {
  Bare,
  Count,
  Repeat,
  SliceAddr,
  DtOnly,
  MemStream,
  StreamMap,
  Unary,
  Convert,
  Binary,
  Immediate,
  LoadW,
  Activate,
  Drain,
  Move,
  MoveMap,
  LinkOut,
  LinkIn,
  Link
};

enum class Opcode : uint8_t {
#define LPU_OP(name, code, fmt, unit, lat, mnem, dts, desc) name = code,
#include "opcodes.def"
};

struct OpInfo {
  Opcode op;
  Format format;
  Unit unit;
  Lat latency;
  std::string_view mnemonic;
  uint8_t dtypes;  // allowed suffix dtypes, 0 = no suffix
  std::string_view description;
};

constexpr int kOpCount = 0
#define LPU_OP(...) +1
#include "opcodes.def"
    ;

// All opcodes, in table order.
const std::array<OpInfo, kOpCount>& allOps();
const OpInfo* findOp(uint8_t code);  // nullptr if no such opcode
const OpInfo* findOp(std::string_view mnemonic);
const OpInfo& info(Opcode op);

// A stream reference: stream id and direction of flow.
struct StreamRef {
  uint8_t id = 0;
  bool east = true;
  bool operator==(const StreamRef& o) const { return id == o.id && east == o.east; }
};
std::string formatStream(StreamRef s);  // "s5e"; "word" for kWordRead
std::string_view latencyName(Lat l);

// A MEM slice name: hemisphere and index from the VXM outwards ("W0", "E43").
struct SliceRef {
  bool east = false;
  uint8_t index = 0;
  bool operator==(const SliceRef& o) const { return east == o.east && index == o.index; }
};
std::string formatSlice(SliceRef s);
std::optional<SliceRef> parseSlice(std::string_view s);

// ABC modes: overwrite or add into the accumulator.
enum class AccMode : uint8_t { Set = 0, Add = 1 };

// A decoded instruction. Which fields mean something depends on the format
// (formats.h); the others stay zero so that encode(decode(w)) == w.
struct Instr {
  Opcode op = Opcode::NOP;
  DType dt = DType::I8, dt2 = DType::I8;
  AccMode mode = AccMode::Set;
  StreamRef s0, s1, s2;  // streams: s0 is the result for VXM/SXM/MXM/RECV
  SliceRef slice;
  uint32_t n = 0;      // small count: LW rows; REPEAT count
  uint32_t imm = 0;    // address, count, row, accumulator, map, link, amount or immediate bits
  uint16_t d = 0;      // REPEAT distance in cycles
  int16_t stride = 0;  // REPEAT address/row step per repetition
  bool operator==(const Instr& o) const;
};

}  // namespace lpu
