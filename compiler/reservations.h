// The scheduler's reservation tables: issue slots per queue, bank ports per
// MEM bank, and stream slots (a diagonal of one stream) over closed
// intervals of slice positions.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "isa/program.h"

namespace lpu {

// A set of cycles, paged so that sparse, long timelines stay small.
class CycleSet {
 public:
  bool has(Cycle c) const;
  void add(Cycle c);
  int count(Cycle c) const;  // for multi-port banks: number of adds
 private:
  static constexpr int kPage = 4096;
  std::vector<std::vector<uint8_t>> pages_;
};

class StreamTable {
 public:
  StreamTable(int streams, int hop) : streams_(streams), hop_(hop), slots_(size_t(2 * streams)) {}
  int64_t slotOf(bool east, int pos, Cycle c) const { return east ? c - int64_t(pos) * hop_ : c + int64_t(pos) * hop_; }
  bool free(bool east, int stream, int64_t slot, int lo, int hi) const;
  void take(bool east, int stream, int64_t slot, int lo, int hi);
  int streams() const { return streams_; }

 private:
  struct Interval {
    int lo, hi;
  };
  int streams_, hop_;
  std::vector<std::unordered_map<int64_t, std::vector<Interval>>> slots_;  // [east * streams + id]
};

}  // namespace lpu
