// A program: per-queue instruction streams plus a data section of named
// tensors placed in MEM, permutation maps and the list of outputs.
// Independent of any chip: isa/arch/program_check.cpp checks a program against a chip config.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isa.h"

namespace lpu {

using Cycle = int64_t;

// The name of an instruction queue, e.g. MEM.W3, VXM.5, MXM.E1.0, SXM.W.2, C2C.7.
struct QueueId {
  Unit unit = Unit::MEM;
  bool east = false;  // hemisphere (MEM, MXM, SXM)
  int index = 0;      // MEM slice, VXM ALU, MXM plane, SXM queue, C2C link
  int sub = 0;        // MXM: queue within the plane
  bool operator==(const QueueId& o) const {
    return unit == o.unit && east == o.east && index == o.index && sub == o.sub;
  }
};
std::optional<QueueId> parseQueueId(const std::string& s);
std::string formatQueueId(const QueueId& q);

// A tensor of rows x cols elements, one row per MEM word (cols <= vector
// length). Row r, byte plane b lives in the slice `slice` + (r % spread) *
// bytes(dtype) + b (counted outward from the VXM, same hemisphere) at address
// addr + r / spread.
struct Tensor {
  std::string name;
  DType dtype = DType::I8;
  uint32_t rows = 1, cols = 1;
  SliceRef slice;
  uint32_t addr = 0;
  uint32_t spread = 1;
  enum class Init : uint8_t { Zero, Data, Random } init = Init::Zero;
  std::vector<uint8_t> data;  // Init::Data: rows*cols elements, little-endian
  uint64_t seed = 0;          // Init::Random: uniform in [lo, hi)
  double lo = -1, hi = 1;
  bool output = false;

  SliceRef sliceOf(uint32_t row, int plane) const;
  uint32_t addrOf(uint32_t row) const { return addr + row / spread; }
  // The initial contents as rows*cols little-endian elements.
  std::vector<uint8_t> initialBytes() const;
};

struct PermMap {
  std::string name;
  std::vector<uint32_t> lanes;  // output lane i takes input lane lanes[i]
};

struct Queue {
  QueueId id;
  std::vector<Instr> code;
};

struct Program {
  std::string chip;  // preset the program was written for
  std::vector<Tensor> tensors;
  std::vector<PermMap> maps;
  std::vector<Queue> queues;

  const Tensor* findTensor(const std::string& name) const;
  int findMap(const std::string& name) const;  // -1 if absent
};

// The static issue cycle of each instruction of a queue, relative to the
// start barrier (or to cycle 0 in a program without one); REPEAT expands to
// one entry per repetition. Mirrors what the chip does; used by the
// assembler's @cycle anchors, the disassembler's annotations and tests.
struct Issue {
  Cycle cycle;
  size_t index;  // into Queue::code
  uint32_t rep;  // 0 for the instruction itself, k for its k-th repetition
};
std::vector<Issue> issueCycles(const Queue& q);

// The instruction as the k-th repetition issues it (address/row stepped).
Instr repeated(const Instr& base, int32_t stride, uint32_t k);

}  // namespace lpu
