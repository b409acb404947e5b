// The scheduler's reservation tables: issue slots per queue, bank ports per
// MEM bank, and stream slots (a diagonal of one stream) over closed
// intervals of slice positions.
#pragma once
#include <cstdint>
#include <vector>

#include "isa/program.h"

namespace lpu {

// A set of cycles, paged so that sparse, long timelines stay small.
class CycleSet {
 public:
  bool has(Cycle c) const;
  void add(Cycle c);
  int count(Cycle c) const;       // for multi-port banks: number of adds
  Cycle nextFree(Cycle c) const;  // the first cycle from c on that has no add
 private:
  static constexpr int kPage = 4096;
  std::vector<std::vector<uint8_t>> pages_;
};

class StreamTable {
 public:
  StreamTable(int streams, int hop) : streams_(streams), hop_(hop), heads_(size_t(2 * streams)) {}
  int64_t slotOf(bool east, int pos, Cycle c) const { return east ? c - int64_t(pos) * hop_ : c + int64_t(pos) * hop_; }
  bool free(bool east, int stream, int64_t slot, int lo, int hi) const;
  void take(bool east, int stream, int64_t slot, int lo, int hi);
  int streams() const { return streams_; }

 private:
  // Per stream, per slot (in pages of kPage, offset by kBias so that early
  // eastward slots are not negative): the first of its position intervals
  // taken, a list through the pool; 0 is none.
  static constexpr int64_t kPage = 4096, kBias = 1 << 16;
  struct Interval {
    int lo, hi;
    uint32_t next;
  };
  const uint32_t* head(bool east, int stream, int64_t slot) const;
  int streams_, hop_;
  std::vector<std::vector<std::vector<uint32_t>>> heads_;  // [east * streams + id][page][slot]
  std::vector<Interval> pool_ = std::vector<Interval>(1);  // entry 0 unused
};

}  // namespace lpu
