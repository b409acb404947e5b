// From placed tasks to a program: bind stream ids and ALUs into the
// instructions, order each queue by cycle, fill gaps with nop, fold runs of
// evenly spaced, evenly strided instructions into repeat, and open every
// queue with the start barrier.
#pragma once
#include <vector>

#include "scheduler.h"

namespace lpu {

// Appends the queues to `p` (whose data section the caller fills).
void emitQueues(const ChipConfig& c, const std::vector<Task>& tasks, const Schedule& s, Program& p);

}  // namespace lpu
