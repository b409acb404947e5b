#include "queue_runner.h"

#include <fmt/format.h>

#include "isa/assembler.h"

namespace lpu {

QueueRunner::Next QueueRunner::run(Cycle now, Chip& chip) {
  for (;;) {
    if (repK_ <= repN_ && repN_ > 0) {  // a repeat in progress
      const Cycle at = repBase_ + Cycle(repK_) * repD_;
      if (at > now) return {State::Wait, at};
      chip.execute(index_, repeated(last_, repStride_, repK_), now, lastIndex_, repK_);
      if (++repK_ > repN_) {
        repN_ = 0;
        lastIssue_ = now;
        next_ = now + 1;
      }
      continue;
    }
    if (pc_ >= q_.code.size()) return {State::Done, 0};
    if (next_ > now) return {State::Wait, next_};
    const Instr& in = q_.code[pc_++];
    switch (in.op) {
      case Opcode::NOP:
        chip.countControl(index_, in, now, in.imm);
        next_ = now + in.imm;
        break;
      case Opcode::SYNC:
        chip.countControl(index_, in, now, 1);
        hasLast_ = false;
        if (!chip.release() || *chip.release() > now) return {State::Park, 0};
        if (*chip.release() < now)
          throw Error(fmt::format("cycle {}, {}, sync: the start barrier was released already, in cycle {}", now,
                                  chip.queueName(index_), *chip.release()));
        next_ = now;  // reached exactly as the barrier releases: go on
        break;
      case Opcode::REPEAT:
        chip.countControl(index_, in, now, 1);
        if (!hasLast_)
          throw Error(fmt::format("cycle {}, {}, repeat: it must follow an instruction that does work", now,
                                  chip.queueName(index_)));
        hasLast_ = false;
        if (in.n == 0) break;
        repK_ = 1;
        repN_ = in.n;
        repBase_ = lastIssue_;
        repD_ = in.d;
        repStride_ = in.stride;
        break;
      default:
        chip.execute(index_, in, now, uint32_t(pc_ - 1), 0);
        hasLast_ = true;
        last_ = in;
        lastIndex_ = uint32_t(pc_ - 1);
        lastIssue_ = now;
        next_ = now + 1;
        break;
    }
  }
}

}  // namespace lpu
