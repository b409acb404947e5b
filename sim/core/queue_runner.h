// One instruction queue: walks its stream and issues each instruction in its
// cycle (one per cycle; nop n waits n cycles; repeat n, d re-issues the
// previous instruction n times, d cycles apart; sync parks until the start
// barrier releases). Plain C++; the SystemC layer calls run() when due.
#pragma once
#include "chip.h"

namespace lpu {

class QueueRunner {
 public:
  QueueRunner(const Queue& q, int index, Cycle start) : q_(q), index_(index), next_(start) {}

  enum class State { Wait, Park, Done };
  struct Next {
    State state;
    Cycle at;  // Wait: the cycle to run again
  };
  // Issues everything due in cycle `now` and says when to come back.
  Next run(Cycle now, Chip& chip);
  void resume(Cycle at) { next_ = at; }
  int index() const { return index_; }

 private:
  const Queue& q_;
  int index_;
  size_t pc_ = 0;
  Cycle next_;
  bool hasLast_ = false;
  Instr last_;
  uint32_t lastIndex_ = 0;
  Cycle lastIssue_ = 0;
  // A repeat in progress: repetition k issues at repBase_ + k * repD_.
  uint32_t repK_ = 0, repN_ = 0;
  Cycle repBase_ = 0, repD_ = 1;
  int32_t repStride_ = 0;
};

}  // namespace lpu
