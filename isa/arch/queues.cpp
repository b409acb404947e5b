#include "queues.h"

namespace lpu {

const std::array<QueueKind, 5>& queueKinds() {
  static const std::array<QueueKind, 5> kinds = {{
      {Unit::MEM, true, &ChipConfig::mem_slices_per_hemisphere, nullptr},
      {Unit::VXM, false, &ChipConfig::vxm_alus, nullptr},
      {Unit::MXM, true, &ChipConfig::mxm_planes_per_hemisphere, &ChipConfig::mxm_queues_per_plane},
      {Unit::SXM, true, &ChipConfig::sxm_queues_per_hemisphere, nullptr},
      {Unit::C2C, false, &ChipConfig::c2c_links, nullptr},
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

}  // namespace lpu
