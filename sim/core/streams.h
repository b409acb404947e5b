// The stream registers: 2 x streams_per_direction registers at every slice
// position, a value advancing one slice every `stream_hop` cycles.
//
// A value written by the slice at position p in cycle c travels along a
// diagonal, its *slot*: eastward k = c - p*hop, westward k = c + p*hop. The
// slot holds segments: a later writer downstream on the same slot replaces the
// value from its position on. Checks: a read finds a value; two writers never
// write one slot at one position; every value is read before it leaves the
// chip or is replaced (no wasted operations). Values are kept only while their
// slot is on the chip.
#pragma once
#include <functional>
#include <limits>
#include <queue>
#include <string>
#include <unordered_map>

#include "types.h"

namespace lpu {

class StreamFabric {
 public:
  // describe(origin) renders "cycle C, QUEUE, instr" for messages.
  using Describe = std::function<std::string(const Origin&)>;
  StreamFabric(int streamsPerDirection, int hop, int eastEdge, Describe describe);

  // The value becomes visible at position `pos` in cycle `avail`.
  void write(StreamRef s, int pos, Cycle avail, Plane data, const Origin& who);
  // Throws lpu::Error if no value is at (s, pos) in cycle t. `writer`, when
  // given, is set to who wrote the value read.
  Plane read(StreamRef s, int pos, Cycle t, const Origin** writer = nullptr);
  // Checks and drops the slots that have left the chip by cycle `now`
  // (all of them with `now` = infinity at the end of a run).
  void sweep(Cycle now);
  std::string positionName(int pos) const;
  void setPositionNamer(std::function<std::string(int)> f) { namer_ = std::move(f); }

 private:
  struct Segment {
    int start;
    Cycle avail;
    Plane data;
    bool read;
    Origin who;
  };
  struct Slot {
    StreamRef s;
    int64_t k;
    std::vector<Segment> segs;  // in flow order
  };
  uint64_t key(StreamRef s, int64_t k) const;
  int64_t slotOf(StreamRef s, int pos, Cycle c) const {
    return s.east ? c - int64_t(pos) * hop_ : c + int64_t(pos) * hop_;
  }
  Cycle deathOf(StreamRef s, int64_t k) const { return s.east ? k + int64_t(edge_) * hop_ : k; }
  const Segment* covering(const Slot& slot, StreamRef s, int pos) const;
  std::string diagnoseEmpty(StreamRef s, int pos, Cycle t) const;
  // Slots live in a pool, found through a ring per stream indexed by k mod
  // ring_ (a slot lives a chip's crossing plus a unit's latency, far less
  // than the ring); one whose ring cell another live slot holds goes to the
  // spill map instead.
  size_t cellOf(StreamRef s, int64_t k) const {
    return size_t((k & (ringSize_ - 1)) * 2 * streams_ + int64_t(s.east) * streams_ + s.id);
  }
  int32_t find(StreamRef s, int64_t k) const;
  int32_t create(StreamRef s, int64_t k);
  void check(const Slot& slot) const;  // throws if a value was never read
  void release(int32_t i);

  int streams_, hop_, edge_;
  Describe describe_;
  std::function<std::string(int)> namer_;
  int64_t ringSize_;
  std::vector<int32_t> ring_;  // [k mod ring][east][stream] -> pool index, -1: none
  std::vector<Slot> pool_;
  std::vector<int32_t> free_;
  std::unordered_map<uint64_t, int32_t> spill_;
  using Death = std::pair<Cycle, uint64_t>;
  std::priority_queue<Death, std::vector<Death>, std::greater<Death>> spillDeaths_;
  int64_t sweptEast_ = std::numeric_limits<int64_t>::min() / 4, sweptWest_ = std::numeric_limits<int64_t>::min() / 4;
};

}  // namespace lpu
