#include "streams.h"

#include <fmt/format.h>

#include <limits>

#include "isa/error.h"

namespace lpu {

StreamFabric::StreamFabric(int streamsPerDirection, int hop, int eastEdge, Describe describe)
    : streams_(streamsPerDirection), hop_(hop), edge_(eastEdge), describe_(std::move(describe)) {
  ringSize_ = 256;
  while (ringSize_ < 4 * (int64_t(edge_) * hop_ + 64)) ringSize_ *= 2;
  ring_.assign(size_t(ringSize_ * 2 * streams_), -1);
}

int32_t StreamFabric::find(StreamRef s, int64_t k) const {
  const int32_t i = ring_[cellOf(s, k)];
  if (i >= 0 && pool_[size_t(i)].k == k) return i;
  if (spill_.empty()) return -1;
  const auto it = spill_.find(key(s, k));
  return it == spill_.end() ? -1 : it->second;
}

int32_t StreamFabric::create(StreamRef s, int64_t k) {
  int32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = int32_t(pool_.size());
    pool_.emplace_back();
  }
  Slot& slot = pool_[size_t(i)];
  slot.s = s;
  slot.k = k;
  int32_t& c = ring_[cellOf(s, k)];
  if (c < 0) {
    c = i;
  } else {  // the cell is another live slot's
    spill_[key(s, k)] = i;
    spillDeaths_.push({deathOf(s, k), key(s, k)});
  }
  return i;
}

void StreamFabric::release(int32_t i) {
  Slot& slot = pool_[size_t(i)];
  int32_t& c = ring_[cellOf(slot.s, slot.k)];
  if (c == i)
    c = -1;
  else
    spill_.erase(key(slot.s, slot.k));
  slot.segs.clear();  // keeps its buffer for the next slot
  slot.k = std::numeric_limits<int64_t>::min();
  free_.push_back(i);
}

uint64_t StreamFabric::key(StreamRef s, int64_t k) const {
  return (uint64_t(s.east) << 63) | (uint64_t(s.id) << 56) |
         (uint64_t(k + (int64_t(1) << 50)) & ((uint64_t(1) << 56) - 1));
}

std::string StreamFabric::positionName(int pos) const { return namer_ ? namer_(pos) : fmt::format("position {}", pos); }

// The segment whose value is at `pos`: the nearest writer upstream.
const StreamFabric::Segment* StreamFabric::covering(const Slot& slot, StreamRef s, int pos) const {
  const Segment* best = nullptr;
  for (const Segment& g : slot.segs)
    if (s.east ? g.start <= pos : g.start >= pos) best = &g;
  return best;
}

void StreamFabric::write(StreamRef s, int pos, Cycle avail, Plane data, const Origin& who) {
  const int64_t k = slotOf(s, pos, avail);
  int32_t i = find(s, k);
  if (i < 0) i = create(s, k);
  Slot& slot = pool_[size_t(i)];
  for (const Segment& g : slot.segs)
    if (g.start == pos)
      throw Violation(fmt::format("two producers write {} at {} in cycle {}: {} and this instruction", formatStream(s),
                                  positionName(pos), avail, describe_(g.who)));
  // Keep segments in flow order: ascending start eastward, descending westward.
  auto at = slot.segs.begin();
  while (at != slot.segs.end() && (s.east ? at->start < pos : at->start > pos)) ++at;
  slot.segs.insert(at, Segment{pos, avail, std::move(data), false, who});
}

std::string StreamFabric::diagnoseEmpty(StreamRef s, int pos, Cycle t) const {
  // Look along this stream for the nearest value that passes `pos`.
  const int64_t k = slotOf(s, pos, t);
  for (int64_t d = 1; d <= 4096; ++d)
    for (int64_t kk : {k + d, k - d}) {
      const int32_t i = find(s, kk);
      if (i < 0) continue;
      const Segment* g = covering(pool_[size_t(i)], s, pos);
      if (!g) continue;
      const Cycle when = t + (kk - k);
      return fmt::format("a value passes here in cycle {} ({} {} cycle{} {}; written by {})", when,
                         when > t ? "read" : "it passed", d, d == 1 ? "" : "s",
                         when > t ? "too early" : "ago: read too late", describe_(g->who));
    }
  return fmt::format("no value on {} reaches {} near that cycle", formatStream(s), positionName(pos));
}

Plane StreamFabric::read(StreamRef s, int pos, Cycle t, const Origin** writer) {
  const int32_t i = find(s, slotOf(s, pos, t));
  Segment* g = i < 0 ? nullptr : const_cast<Segment*>(covering(pool_[size_t(i)], s, pos));
  if (!g)
    throw Violation(fmt::format("reads {} at {} in cycle {} but the stream holds no value there: {}", formatStream(s),
                                positionName(pos), t, diagnoseEmpty(s, pos, t)));
  g->read = true;
  if (writer) *writer = &g->who;
  return g->data;
}

void StreamFabric::check(const Slot& slot) const {
  for (size_t i = 0; i < slot.segs.size(); ++i) {
    const Segment& g = slot.segs[i];
    if (g.read) continue;
    const std::string fate =
        i + 1 < slot.segs.size()
            ? fmt::format("replaced at {} by {}", positionName(slot.segs[i + 1].start), describe_(slot.segs[i + 1].who))
            : "left the chip";
    throw Error(fmt::format("{}: its value on {} (at {} in cycle {}) was never read before it {}", describe_(g.who),
                            formatStream(slot.s), positionName(g.start), g.avail, fate));
  }
}

void StreamFabric::sweep(Cycle now) {
  // Ring slots that have left: eastward k + edge * hop < now, westward k < now.
  const int64_t big = std::numeric_limits<int64_t>::max() / 4;
  for (int east = 0; east < 2; ++east) {
    const int64_t below = now >= big ? big : (east ? now - int64_t(edge_) * hop_ : now);
    int64_t& swept = east ? sweptEast_ : sweptWest_;
    if (below <= swept) continue;
    for (int64_t k = std::max(swept, below - ringSize_); k < below; ++k) {
      const int32_t* row = &ring_[cellOf(StreamRef{0, bool(east)}, k)];
      for (int id = 0; id < streams_; ++id) {
        const int32_t i = row[id];
        if (i < 0 || pool_[size_t(i)].k >= below) continue;
        check(pool_[size_t(i)]);
        release(i);
      }
    }
    swept = below;
  }
  while (!spillDeaths_.empty() && spillDeaths_.top().first < now) {
    const uint64_t k = spillDeaths_.top().second;
    spillDeaths_.pop();
    const auto it = spill_.find(k);
    if (it == spill_.end()) continue;
    const int32_t i = it->second;
    check(pool_[size_t(i)]);
    release(i);
  }
}

}  // namespace lpu
