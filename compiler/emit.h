// From placed tasks to a program: bind stream ids and ALUs into the
// instructions, order each queue by cycle, fill gaps with nop, fold runs of
// evenly spaced, evenly strided instructions into repeat, and open every
// queue with the start barrier.
#pragma once
#include <vector>

#include "scheduler.h"

namespace lpu {

// Appends the queues to `p` (whose data section the caller fills).
// chip >= 0: only the tasks of that chip (a joint multi-chip schedule).
void emitQueues(const ChipConfig& c, const std::vector<Task>& tasks, const Schedule& s, Program& p, int chip = -1);

}  // namespace lpu
