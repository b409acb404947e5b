// A program: per-queue instruction streams plus a data section of named
// tensors placed in MEM, permutation maps and the list of outputs.
// Independent of any chip: isa/arch/program_check.cpp checks a program against a chip config.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "isa.h"
#include "sources.h"

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
  // The producer of each stream read the program states (the compiler states
  // all of them; assembly with !from), sorted by reader, then stream.
  SourceList sources;

  const Tensor* findTensor(const std::string& name) const;
  int findMap(const std::string& name) const;  // -1 if absent
};

// Up-front bounds the assembler and the binary reader apply before anything
// is allocated for a program: each tensor's rows fit the 32-bit MEM address
// space, the tensors' initial contents take at most kMaxProgramBytes, no
// queue runs past kMaxCycle and the issues with repeats expanded (what
// issueCycles() returns, over all queues) number at most kMaxIssues.
constexpr uint64_t kMaxProgramBytes = uint64_t(1) << 31;  // 2 GiB of tensor data
constexpr int64_t kMaxCycle = int64_t(1) << 40;           // about 20 minutes at 900 MHz
constexpr uint64_t kMaxIssues = uint64_t(1) << 26;
// The bytes of a tensor's contents (rows x cols x element bytes), or throws
// lpu::Error("<where>: tensor <name>: ...") if its addresses pass 2^32 - 1 or
// it alone exceeds kMaxProgramBytes.
uint64_t checkedTensorBytes(const Tensor& t, const std::string& where);
// Adds `more` to `total`; throws lpu::Error("<where>: ...") past `limit`.
void addBounded(uint64_t& total, uint64_t more, uint64_t limit, const std::string& where, const char* what);

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

// "MEM.W4#12" or, for a repetition, "MEM.W4#12.3" (queue, index into its code, repetition).
std::string formatIssueRef(const Program& p, const IssueRef& r);
// Throws lpu::Error("<where>: ...") if one of p.sources names a queue,
// instruction or repetition the program does not have, or two state
// producers for one read.
void checkSources(const Program& p, const std::string& where);

// The instruction as the k-th repetition issues it (address/row stepped).
Instr repeated(const Instr& base, int32_t stride, uint32_t k);

}  // namespace lpu
