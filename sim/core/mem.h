// One MEM slice: banks of vector-sized words (one byte per lane), bank =
// address % banks. Checks: addresses in range, at most mem_ports_per_bank
// accesses per bank per cycle (a read uses its port at issue, a write when it
// commits, mem_write cycles later), and no read of a word whose write has not
// committed yet.
#pragma once
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "isa/arch/chip_config.h"
#include "types.h"

namespace lpu {

class MemSlice {
 public:
  MemSlice(const ChipConfig& c, SliceRef id, bool functional);

  Plane read(uint32_t addr, Cycle t, const Origin& who);
  void write(uint32_t addr, Cycle t, const Plane& data, const Origin& who);
  void fetch(uint32_t addr, Cycle t, const Origin& who);  // instruction fetch: a port, no data
  // Per-lane addresses (gather/scatter): lane i reads/writes word addrs[i];
  // empty in timing-only runs.
  Plane gather(const std::vector<uint32_t>& addrs, Cycle t, const Origin& who);
  void scatter(const std::vector<uint32_t>& addrs, Cycle t, const Plane& data, const Origin& who);

  // Direct access for loading the data section and reading outputs.
  void poke(uint32_t addr, const uint8_t* lanes, size_t n);
  const uint8_t* peek(uint32_t addr) const;
  uint32_t words() const { return words_; }
  // The producer check (functional runs): who wrote the word last, the data
  // section (kInitialContents), or null once a scatter wrote some of its lanes.
  void trackWriters() { track_ = true; }
  const IssueRef* writerOf(uint32_t addr) const;

  using Describe = std::function<std::string(const Origin&)>;
  void setDescribe(Describe d) { describe_ = std::move(d); }

 private:
  struct PortUse {
    Cycle cycle = -1;
    int count = 0;
    Origin first;
  };
  void checkAddr(uint32_t addr) const;
  void useAllPorts(Cycle c, const Origin& who, const char* what);
  void usePort(uint32_t addr, Cycle c, const Origin& who, const char* what);
  void checkCommitted(uint32_t addr, Cycle t);

  SliceRef id_;
  int lanes_, banks_, ports_, writeDelay_;
  uint32_t words_;
  uint8_t* storage();  // allocates the slice on its first write
  bool functional_;
  std::vector<uint8_t> data_;                        // words_ * lanes_; empty until written, always in timing-only mode
  std::vector<std::vector<PortUse>> ports_by_bank_;  // ring of cycles per bank
  std::unordered_map<uint32_t, std::pair<Cycle, Origin>> pending_;  // addr -> commit cycle
  Describe describe_;
  bool track_ = false;
  std::vector<IssueRef> writers_;  // per word once written; queue -2: scattered
};

}  // namespace lpu
