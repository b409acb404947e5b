// Several chips compiled together, stage by stage: a stage's chips share one
// schedule (a reservation table per chip; their transfers are placed so a
// receive comes exactly when its vector arrives), and the next stage takes
// the residual no earlier than it arrives.
//
// Tensor parallelism: within a stage's group of tp chips, every matmul (and
// the embedding gather) is split by output chunks of 320 lanes, chunk j on
// rank j mod tp; right after it each chip sends the chunks it computed to
// every other (an all-gather, all pairs at once). Chips that share no link
// pass their vectors through other chips of the group (the fewest hops; a
// relay's RECV goes straight to its SEND). MoE experts are either split the
// same way or placed whole (CompileOptions::wholeExperts: the chips' parts
// of the sum exchanged and added). Everything else runs on every chip of
// the group alike.
//
// Pipeline parallelism: stage s runs its graph (a range of layers) on group
// s; its residual goes from one chip of group s to an entry chip of group
// s + 1, which forwards it to the rest of its group.
#pragma once
#include <functional>
#include <vector>

#include "compile.h"

namespace lpu {

struct GroupPlan {
  int tp = 1;
  std::vector<Graph> stages;            // per stage
  std::vector<CompileOptions> options;  // per stage (values, precision)
  // The link of chip (stage s, rank a) to chip (stage t, rank b), or -1.
  std::function<int(int s, int a, int t, int b)> link;
  // Timing only: a stage built like an earlier one (the same ops on the same
  // shapes and links) takes that one's programs, moved in time.
  bool reuse = true;
  // Only lay every stage out (throwing if one does not fit); nothing is
  // scheduled and the programs stay empty.
  bool dryRun = false;
  // When set, hears what is being done and the fraction done.
  std::function<void(const std::string& phase, double fraction)> progress;
};

// Compiled programs per chip, index s * tp + rank; all share `predicted`.
std::vector<Compiled> compileGroups(const GroupPlan& plan, const ChipConfig& c, Policy policy, Cycle& predicted);

}  // namespace lpu
