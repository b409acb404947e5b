// The chip's instruction queues, one table: each kind of unit that has
// queues is one row (how many units per hemisphere or in all, how many
// queues each, where they sit), in the order of the dense queue index. The
// scheduler's reservation tables, the emitter, the program check and the
// chip's positions all read it.
#pragma once
#include <array>

#include "chip_config.h"

namespace lpu {

struct QueueKind {
  Unit unit;
  bool hemispheres;                                    // a west and an east set, `units` each
  int ChipConfig::*units;                              // units per hemisphere (or in all)
  int ChipConfig::*queuesPerUnit;                      // nullptr: one queue per unit
  int (*position)(const ChipConfig&, const QueueId&);  // its slice, west edge = 0
  int queues(const ChipConfig& c) const { return (hemispheres ? 2 : 1) * c.*units * perUnit(c); }
  int perUnit(const ChipConfig& c) const { return queuesPerUnit ? c.*queuesPerUnit : 1; }
};

// MEM, VXM, MXM, SXM, C2C: the dense index counts their queues in this order.
const std::array<QueueKind, 5>& queueKinds();

int queueCount(const ChipConfig& c);                    // every queue of the chip
int queueIndex(const ChipConfig& c, const QueueId& q);  // 0 .. queueCount - 1; -1 for ICU
QueueId queueAt(const ChipConfig& c, int index);        // the inverse of queueIndex
bool queueExists(const ChipConfig& c, const QueueId& q);
int queuePosition(const ChipConfig& c, const QueueId& q);  // ChipConfig::position; ICU: 0

}  // namespace lpu
