// Text assembly -> Program. The syntax is documented in isa/README.md.
// Errors throw lpu::Error("file:line:col: what, expected what").
#pragma once
#include <string>

#include "program.h"

namespace lpu {

// `name` is used in messages and to resolve `.file` paths (relative to it).
Program assemble(const std::string& text, const std::string& name);
Program assembleFile(const std::string& path);

// Program -> text that assemble() turns back into the same program.
// Each instruction is annotated with its issue cycle.
std::string disassemble(const Program& p);

// One instruction as the disassembler writes it (symbolic addresses and maps).
std::string formatInstr(const Program& p, const QueueId& q, const Instr& in);

}  // namespace lpu
