// Small types shared by the chip's units.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "isa/error.h"
#include "isa/isa.h"
#include "isa/program.h"

namespace lpu {

// One byte plane of a vector: one byte per lane. Null in timing-only mode.
using Plane = std::shared_ptr<const std::vector<uint8_t>>;

// Who did something: enough to name the instruction in an error message.
struct Origin {
  int queue = -1;  // index into Program::queues
  Instr instr;
  Cycle issue = 0;
  uint32_t index = 0, rep = 0;  // which issue (IssueRef): code[index], its rep-th repetition
  bool is(const IssueRef& r) const { return queue == r.queue && index == r.index && rep == r.rep; }
};

// A broken timing assumption found by a unit, without its context; the chip
// adds "cycle C, QUEUE, instruction: " in front.
class Violation : public Error {
 public:
  using Error::Error;
};

}  // namespace lpu
