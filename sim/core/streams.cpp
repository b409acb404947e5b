#include "streams.h"

#include <fmt/format.h>

#include <limits>

#include "isa/error.h"

namespace lpu {

StreamFabric::StreamFabric(int streamsPerDirection, int hop, int eastEdge, Describe describe)
    : streams_(streamsPerDirection), hop_(hop), edge_(eastEdge), describe_(std::move(describe)) {}

uint64_t StreamFabric::key(StreamRef s, int64_t k) const {
  return (uint64_t(s.east) << 63) | (uint64_t(s.id) << 56) | (uint64_t(k + (int64_t(1) << 50)) & ((uint64_t(1) << 56) - 1));
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
  auto [it, fresh] = slots_.try_emplace(key(s, k));
  Slot& slot = it->second;
  if (fresh) {
    slot.s = s;
    slot.k = k;
    deaths_.push({deathOf(s, k), it->first});
  }
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
      const auto it = slots_.find(key(s, kk));
      if (it == slots_.end()) continue;
      const Segment* g = covering(it->second, s, pos);
      if (!g) continue;
      const Cycle when = t + (kk - k);
      return fmt::format("a value passes here in cycle {} ({} {} cycle{} {}; written by {})", when,
                         when > t ? "read" : "it passed", d, d == 1 ? "" : "s",
                         when > t ? "too early" : "ago: read too late", describe_(g->who));
    }
  return fmt::format("no value on {} reaches {} near that cycle", formatStream(s), positionName(pos));
}

Plane StreamFabric::read(StreamRef s, int pos, Cycle t) {
  const auto it = slots_.find(key(s, slotOf(s, pos, t)));
  Segment* g = it == slots_.end() ? nullptr : const_cast<Segment*>(covering(it->second, s, pos));
  if (!g)
    throw Violation(fmt::format("reads {} at {} in cycle {} but the stream holds no value there: {}", formatStream(s),
                            positionName(pos), t, diagnoseEmpty(s, pos, t)));
  g->read = true;
  return g->data;
}

void StreamFabric::sweep(Cycle now) {
  while (!deaths_.empty() && deaths_.top().first < now) {
    const uint64_t k = deaths_.top().second;
    deaths_.pop();
    const auto it = slots_.find(k);
    if (it == slots_.end()) continue;
    const Slot& slot = it->second;
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
    slots_.erase(it);
  }
}

}  // namespace lpu
