#include "isa.h"

#include <cctype>
#include <charconv>

namespace lpu {

std::string_view unitName(Unit u) {
  constexpr std::string_view names[] = {"ICU", "MEM", "VXM", "MXM", "SXM", "C2C"};
  return names[int(u)];
}

std::string_view dtypeName(DType t) {
  constexpr std::string_view names[] = {"i8", "i16", "i32", "f16", "f32"};
  return names[int(t)];
}

std::optional<DType> parseDType(std::string_view s) {
  struct Alias {
    std::string_view name;
    DType t;
  };
  constexpr Alias aliases[] = {{"i8", DType::I8},     {"i16", DType::I16},     {"i32", DType::I32},
                               {"f16", DType::F16},   {"f32", DType::F32},     {"int8", DType::I8},
                               {"int16", DType::I16}, {"int32", DType::I32},   {"fp16", DType::F16},
                               {"fp32", DType::F32},  {"float16", DType::F16}, {"float32", DType::F32}};
  for (const auto& a : aliases)
    if (a.name == s) return a.t;
  return std::nullopt;
}

const std::array<OpInfo, kOpCount>& allOps() {
  static const std::array<OpInfo, kOpCount> ops = {{
#define LPU_OP(name, code, fmt, unit, lat, mnem, dts, desc) \
  {Opcode::name, Format::fmt, Unit::unit, Lat::lat, mnem, dts, desc},
#include "opcodes.def"
  }};
  return ops;
}

const OpInfo* findOp(uint8_t code) {
  for (const auto& o : allOps())
    if (uint8_t(o.op) == code) return &o;
  return nullptr;
}

const OpInfo* findOp(std::string_view mnemonic) {
  for (const auto& o : allOps())
    if (o.mnemonic == mnemonic) return &o;
  return nullptr;
}

const OpInfo& info(Opcode op) { return *findOp(uint8_t(op)); }

std::string_view latencyName(Lat l) {
  static constexpr std::string_view names[] = {
      "none",
#define LPU_LATENCY(name, ...) #name,
#include "latencies.def"
  };
  return names[size_t(l)];
}

std::string formatStream(StreamRef s) {
  if (s.id == 255 && !s.east) return "word";  // kWordRead (isa/program.h)
  return "s" + std::to_string(s.id) + (s.east ? "e" : "w");
}

std::string formatSlice(SliceRef s) { return (s.east ? "E" : "W") + std::to_string(s.index); }

std::optional<SliceRef> parseSlice(std::string_view s) {
  if (s.size() < 2 || (s[0] != 'W' && s[0] != 'E')) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > 127) return std::nullopt;
  return SliceRef{s[0] == 'E', uint8_t(v)};
}

bool Instr::operator==(const Instr& o) const {
  return op == o.op && dt == o.dt && dt2 == o.dt2 && mode == o.mode && s0 == o.s0 && s1 == o.s1 && s2 == o.s2 &&
         slice == o.slice && n == o.n && imm == o.imm && d == o.d && stride == o.stride;
}

}  // namespace lpu
