// The static scheduler: places whole tasks at fixed cycles against the
// reservation tables, binding stream ids and VXM ALUs as it goes.
//   in-order: tasks start in creation order (each no earlier than the one
//             before it), at the first cycle where they fit;
//   list:     tasks are taken by priority (longest path to the end first) as
//             their dependences are placed, each at the first cycle where it
//             fits, filling earlier gaps.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "isa/arch/chip_config.h"
#include "isa/arch/queues.h"  // the dense queue numbering the reservation tables use
#include "reservations.h"
#include "task.h"

namespace lpu {

enum class Policy { InOrder, List };
const char* policyName(Policy p);
bool parsePolicy(const std::string& s, Policy& out);

struct Placement {
  Cycle start = -1;
  std::vector<int> streamBase;  // per StreamVar
  std::vector<bool> east;       // per StreamVar: its direction (a value used only where it is made may go either way)
  std::vector<int> vxmAlu;      // per Slot (-1 when not anyVxm)
};

struct Schedule {
  std::vector<Placement> placed;  // per task
  Cycle total = 0;                // predicted cycles: the end of the last task
};

// `chips` > 1: one schedule for several chips (Task::chip), each with its
// own reservation tables; dependences may cross chips (C2C transfers).
// `progress`, when set, hears the fraction of tasks placed now and then.
Schedule schedule(const ChipConfig& c, const std::vector<Task>& tasks, Policy policy, int chips = 1,
                  const std::function<void(double)>& progress = {});

}  // namespace lpu
