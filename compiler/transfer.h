// Chip-to-chip transfers as tasks: tensor rows sent, received and relayed
// over C2C links, one byte plane (a vector) every c2cCyclesPerVector()
// cycles. Each (chip, link) is deskewed once, by a task every transfer on
// it waits for. A link delivers vectors in the order they were sent and a
// RECV takes the oldest, so the sends on each (chip, link), and the
// receives, keep the order they are made in: each task's first after the
// previous task's last.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lowering.h"

namespace lpu {

QueueId linkQueue(int link);           // the C2C queue of `link`
Instr linkInstr(Opcode op, int link);  // SEND, RECV or DESKEW on `link`

class Transfers {
 public:
  // chips[r]: the lowering of chip r of the schedule.
  Transfers(const ChipConfig& c, std::vector<Lowerer*> chips) : c_(c), chips_(std::move(chips)) {}
  // A task and the relative cycle of its first SEND in it (task -1: none).
  struct Sent {
    int task = -1;
    Cycle first = 0;
  };
  // A SEND's issue to its vector's arrival at the other chip.
  Cycle flight() const { return c_.latency.c2c_send + c_.c2cCyclesPerVector() + c_.c2c_link_latency; }
  // Vector rows (all planes) of tensor `from` on chip a, sent on `link`.
  Sent send(int a, const std::string& from, int link, const std::vector<uint32_t>& rows);
  // The same rows (`planes` each) received on chip b's `link` into tensor
  // `to`: the first a flight after `sent`'s first SEND, or (sent.task < 0)
  // no earlier than the absolute cycle `arrival`.
  void receive(int b, const std::string& to, int link, const std::vector<uint32_t>& rows, int planes, Sent sent,
               Cycle arrival = 0);
  // Chip m passes `count` vectors on: each RECV on `linkIn` goes on a stream
  // straight to a SEND on `linkOut` (no MEM).
  Sent relay(int m, int linkIn, int linkOut, int count, Sent sent);

 private:
  struct LastUse {
    int task = -1;
    Cycle rel = 0;  // the last SEND's (RECV's) cycle in that task
  };
  using Uses = std::map<std::pair<int, int>, LastUse>;  // (chip, link) -> last use
  int deskewed(int chip, int link);
  static void after(TaskBuilder& b, Uses& last, int chip, int link, Cycle first, Cycle gap);

  const ChipConfig& c_;
  std::vector<Lowerer*> chips_;
  std::map<std::pair<int, int>, int> deskew_;  // (chip, link) -> task
  Uses lastSend_, lastRecv_;
};

}  // namespace lpu
