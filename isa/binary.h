// The versioned binary program format (.bin). Layout, all little-endian:
//   magic "LPUPROG\0" (8 bytes) | version u32 | body length u64 | body | FNV-1a-64 of body u64
// The body holds the chip name, tensors, maps and queues, then optional tagged
// sections: "SRCS" holds Program::sources (see isa/README.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "program.h"

namespace lpu {

constexpr uint32_t kBinaryVersion = 1;

std::vector<uint8_t> serialize(const Program& p);
// `name` is the file name used in error messages.
Program deserialize(const std::vector<uint8_t>& bytes, const std::string& name);

void writeProgram(const Program& p, const std::string& path);
Program readProgram(const std::string& path);

std::vector<uint8_t> readFileBytes(const std::string& path);  // throws lpu::Error

// Whether `in` reads (writes) stream s when it issues, as streamsRead
// (streamsWritten) says. TRANSPOSE touches lanes_per_superlane streams, a chip
// parameter a program does not know: here every stream from its operand up.
// The assembler and the binary reader check stated stream sources with these.
bool mayRead(const Instr& in, StreamRef s);
bool mayWrite(const Instr& in, StreamRef s);
// What is wrong with a source of a MEM word (s.stream == kWordRead), or "":
// its reader must be a read (a gather reads words per lane: not checked), its
// writer the data section (kInitialContents) or a write to the same slice and
// address. The issues must exist (checkSources).
std::string wordSourceProblem(const Program& p, const StreamSource& s);

}  // namespace lpu
