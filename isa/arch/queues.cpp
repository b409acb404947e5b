#include "queues.h"

namespace lpu {

const std::array<QueueKind, 5>& queueKinds() {
  static const std::array<QueueKind, 5> kinds = {{
      // MXM | SXM | MEM W(n-1)..W0 | VXM | MEM E0..E(n-1) | SXM | MXM
      {Unit::MEM, true, &ChipConfig::mem_slices_per_hemisphere, nullptr,
       [](const ChipConfig& c, const QueueId& q) {
         return c.memPosition(SliceRef{q.east, uint8_t(q.index)});
       }},
      {Unit::VXM, false, &ChipConfig::vxm_alus, nullptr,
       [](const ChipConfig& c, const QueueId&) { return c.vxmPosition(); }},
      {Unit::MXM, true, &ChipConfig::mxm_planes_per_hemisphere, &ChipConfig::mxm_queues_per_plane,
       [](const ChipConfig& c, const QueueId& q) { return q.east ? c.eastEdge() : 0; }},
      {Unit::SXM, true, &ChipConfig::sxm_queues_per_hemisphere, nullptr,
       [](const ChipConfig& c, const QueueId& q) { return q.east ? c.eastEdge() - 1 : 1; }},
      // the first half of the links at the west SXM, the rest east
      {Unit::C2C, false, &ChipConfig::c2c_links, nullptr,
       [](const ChipConfig& c, const QueueId& q) { return q.index < c.c2c_links / 2 ? 1 : c.eastEdge() - 1; }},
  }};
  return kinds;
}

int queueCount(const ChipConfig& c) {
  int n = 0;
  for (const QueueKind& k : queueKinds()) n += k.queues(c);
  return n;
}

int queueIndex(const ChipConfig& c, const QueueId& q) {
  int base = 0;
  for (const QueueKind& k : queueKinds()) {
    if (k.unit == q.unit) return base + ((k.hemispheres && q.east ? c.*k.units : 0) + q.index) * k.perUnit(c) + q.sub;
    base += k.queues(c);
  }
  return -1;
}

QueueId queueAt(const ChipConfig& c, int i) {
  for (const QueueKind& k : queueKinds()) {
    if (i < k.queues(c)) {
      const int unit = i / k.perUnit(c), n = c.*k.units;
      return QueueId{k.unit, k.hemispheres && unit >= n, k.hemispheres ? unit % n : unit, i % k.perUnit(c)};
    }
    i -= k.queues(c);
  }
  return QueueId{Unit::ICU, false, 0, 0};
}

bool queueExists(const ChipConfig& c, const QueueId& q) {
  for (const QueueKind& k : queueKinds())
    if (k.unit == q.unit) return q.index >= 0 && q.index < c.*k.units && q.sub >= 0 && q.sub < k.perUnit(c);
  return false;
}

int queuePosition(const ChipConfig& c, const QueueId& q) {
  for (const QueueKind& k : queueKinds())
    if (k.unit == q.unit) return k.position(c, q);
  return 0;
}

}  // namespace lpu
