// The chip's state and the dispatch of one instruction to its unit. Plain
// C++: the SystemC layer (sim/sc) only decides *when* each queue issues.
#pragma once
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "c2c.h"
#include "isa/arch/chip_config.h"
#include "mem.h"
#include "mxm.h"
#include "streams.h"

namespace lpu {

struct SimOptions {
  bool functional = true;    // compute values; false: timing only, no SRAM contents
  bool trace = false;        // record one event per issued instruction
  bool checkSources = true;  // the producer check: each read the program states a source for (Program::sources)
};

// The producer check's count: stream reads (one per plane) whose writer the
// program states and the simulator verified, and those it states none for;
// the same for the MEM words read instructions take, and those not checked
// because a scatter wrote some of their lanes (several writers; gathers are
// not counted).
struct SourceStats {
  uint64_t checked = 0, unstated = 0;
  uint64_t words_checked = 0, words_unstated = 0, words_scattered = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SourceStats, checked, unstated, words_checked, words_unstated, words_scattered)

struct TraceEvent {
  int queue;
  Cycle start, dur;
  Instr instr;
};

struct UnitStats {
  uint64_t instructions = 0;  // issued (each repetition counts)
  uint64_t busy = 0;          // issue slots used by instructions that do work
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(UnitStats, instructions, busy)

class Chip {
 public:
  Chip(const ChipConfig& c, const Program& p, std::string programName, SimOptions opt);

  // Issues one instruction of queue `q` in cycle t; throws lpu::Error with
  // "cycle C, QUEUE, instruction: what" on a broken timing assumption.
  // `index` and `rep` name the issue (Program::sources' IssueRef).
  void execute(int q, const Instr& in, Cycle t, uint32_t index = 0, uint32_t rep = 0);
  // Control instructions handled by the queue itself (nop, sync, repeat).
  void countControl(int q, const Instr& in, Cycle t, Cycle dur);
  // Regular checks while running (slots that left the chip) and at the end.
  void sweep(Cycle now) { fabric_.sweep(now); }
  void finish();

  std::optional<Cycle> release() const { return release_; }
  Cycle lastRetire() const { return lastRetire_; }
  const std::array<UnitStats, kUnitCount>& stats() const { return stats_; }
  const std::vector<TraceEvent>& trace() const { return trace_; }
  const SourceStats& sourceStats() const { return sourceStats_; }
  std::string describe(const Origin& o) const;
  std::string queueName(int q) const;
  const Program& program() const { return prog_; }
  C2cLink& link(int i) { return c2c_[size_t(i)]; }
  const std::vector<C2cLink>& links() const { return c2c_; }
  // Chip-to-chip links check before sweeping streams: all chips' sends are
  // in by the end, so each chip checks what reached it.
  void finishLinks() const;
  const ChipConfig& config() const { return cfg_; }

  // Tensor contents as rows*cols little-endian elements (functional runs).
  std::vector<uint8_t> tensorBytes(const Tensor& t) const;

 private:
  MemSlice& mem(SliceRef s) { return *mem_[size_t(s.east) * size_t(cfg_.mem_slices_per_hemisphere) + s.index]; }
  const MemSlice& mem(SliceRef s) const {
    return *mem_[size_t(s.east) * size_t(cfg_.mem_slices_per_hemisphere) + s.index];
  }
  MxmPlane& plane(const QueueId& q) {
    return *mxm_[size_t(q.east) * size_t(cfg_.mxm_planes_per_hemisphere) + size_t(q.index)];
  }
  void dispatch(int q, const Instr& in, Cycle t, const Origin& who);
  void execMem(const QueueId& id, int pos, const Instr& in, Cycle t, const Origin& who);
  void execVxm(int pos, const Instr& in, Cycle t, const Origin& who);
  void execMxm(const QueueId& id, int pos, const Instr& in, Cycle t, const Origin& who);
  void execSxm(int pos, const Instr& in, Cycle t, const Origin& who);
  void execC2c(int pos, const Instr& in, Cycle t, const Origin& who);

  std::vector<Plane> readPlanes(StreamRef base, int n, int pos, Cycle t, const Origin& who);
  // One plane from the fabric, its writer checked against the program's stated source.
  Plane readStream(StreamRef s, int pos, Cycle t, const Origin& who);
  void checkSource(StreamRef s, int pos, Cycle t, const Origin& reader, const Origin& writer);
  // The producer the program states for `reader`'s read of s (kWordRead: its MEM word), or null.
  std::optional<IssueRef> statedSource(const Origin& reader, StreamRef s);
  void checkWordSource(MemSlice& m, uint32_t addr, const Origin& reader);
  void writePlanes(StreamRef base, const std::vector<Plane>& v, int pos, Cycle avail, const Origin& who);
  std::vector<double> lanesOf(const std::vector<Plane>& planes, DType t) const;  // empty if timing-only
  std::vector<Plane> planesOf(const std::vector<double>& v, DType t) const;
  std::string positionName(int pos) const;

  ChipConfig cfg_;
  const Program& prog_;
  std::string name_;
  SimOptions opt_;
  std::vector<int> pos_;  // per queue
  StreamFabric fabric_;
  std::vector<std::unique_ptr<MemSlice>> mem_;
  std::vector<std::unique_ptr<MxmPlane>> mxm_;
  std::vector<C2cLink> c2c_;
  std::optional<Cycle> release_;
  Cycle lastRetire_ = 0;
  std::array<UnitStats, kUnitCount> stats_{};
  std::vector<TraceEvent> trace_;
  // Per queue, its reads' stated producers (a queue issues in order, so its
  // reads come in the sources' order).
  std::vector<SourceList::Cursor> sources_;
  SourceStats sourceStats_;
};

}  // namespace lpu
