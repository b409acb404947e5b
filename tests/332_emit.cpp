// emitQueues on hand-placed tasks: stream ids and ALUs bound into the
// instructions, gaps filled with nop, evenly spaced runs folded into repeat,
// and every queue opened with the start barrier.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "compiler/emit.h"

using namespace lpu;

namespace {

const QueueId kW0{Unit::MEM, false, 0, 0};

// One line per instruction: mnemonic, then the fields this test uses.
std::vector<std::string> lines(const Queue& q) {
  std::vector<std::string> out;
  for (const Instr& in : q.code) {
    std::string s(info(in.op).mnemonic);
    switch (in.op) {
      case Opcode::NOP: s += fmt::format(" {}", in.imm); break;
      case Opcode::REPEAT: s += fmt::format(" {}, {}, stride {}", in.n, in.d, in.stride); break;
      case Opcode::READ: s += fmt::format(" {}, {}", in.imm, formatStream(in.s0)); break;
      case Opcode::MOV: s += fmt::format(" {}, {}", formatStream(in.s0), formatStream(in.s1)); break;
      default: break;
    }
    out.push_back(s);
  }
  return out;
}

// A read of address `addr` on MEM.W0 onto stream variable 0, placed at `start` on stream `stream` east.
void addRead(std::vector<Task>& tasks, Schedule& s, uint32_t addr, Cycle start, int stream) {
  Task t;
  Instr in;
  in.op = Opcode::READ;
  in.imm = addr;
  Slot slot{0, kW0, false, in};
  slot.var[0] = 0;
  t.slots.push_back(slot);
  t.vars.push_back(StreamVar{true, 1});
  tasks.push_back(t);
  Placement p;
  p.start = start;
  p.streamBase = {stream};
  p.east = {true};
  p.vxmAlu = {-1};
  s.placed.push_back(p);
}

std::vector<Cycle> issues(const Queue& q) {
  std::vector<Cycle> out;
  for (const Issue& i : issueCycles(q))
    if (q.code[i.index].op == Opcode::READ || q.code[i.index].op == Opcode::REPEAT) out.push_back(i.cycle);
  return out;
}

}  // namespace

SCENARIO("reads at 3, 5, 7 and 20 on one queue", "[unit][emit]") {
  const ChipConfig c = presetTeaching();
  std::vector<Task> tasks;
  Schedule s;
  addRead(tasks, s, 0, 3, 2);
  addRead(tasks, s, 1, 5, 2);
  addRead(tasks, s, 2, 7, 2);
  addRead(tasks, s, 3, 20, 2);
  Program p;
  emitQueues(c, tasks, s, p);
  REQUIRE(p.queues.size() == 1);
  THEN("nop 3, the read, a repeat of 2 every 2 cycles stepping 1, nop 20 - 8 = 12, the last read") {
    CHECK(formatQueueId(p.queues[0].id) == "MEM.W0");
    CHECK(lines(p.queues[0]) == std::vector<std::string>{"notify", "sync", "nop 3", "read 0, s2e",
                                                         "repeat 2, 2, stride 1", "nop 12", "read 3, s2e"});
    CHECK(issues(p.queues[0]) == std::vector<Cycle>{3, 5, 7, 20});
  }
}

SCENARIO("a run folds only while spacing and stride stay the same", "[unit][emit]") {
  const ChipConfig c = presetTeaching();
  std::vector<Task> tasks;
  Schedule s;
  addRead(tasks, s, 0, 3, 0);
  addRead(tasks, s, 1, 5, 0);
  addRead(tasks, s, 2, 8, 0);   // 3 cycles after the last: a new run
  addRead(tasks, s, 4, 9, 0);   // stride 2 after stride 1
  addRead(tasks, s, 5, 10, 1);  // another stream: not the same instruction
  Program p;
  emitQueues(c, tasks, s, p);
  REQUIRE(p.queues.size() == 1);
  CHECK(lines(p.queues[0]) == std::vector<std::string>{"notify", "sync", "nop 3", "read 0, s0e",
                                                       "repeat 1, 2, stride 1", "nop 2", "read 2, s0e",
                                                       "repeat 1, 1, stride 2", "read 5, s1e"});
  CHECK(issues(p.queues[0]) == std::vector<Cycle>{3, 5, 8, 9, 10});
}

SCENARIO("ALUs and stream ids bound from the placement; one barrier", "[unit][emit]") {
  const ChipConfig c = presetTeaching();
  std::vector<Task> tasks;
  Schedule s;
  addRead(tasks, s, 0, 0, 2);
  // A mov on any ALU at relative cycle 1: s0 from variable 0, s1 from variable 1.
  Task mov;
  Instr in;
  in.op = Opcode::MOV;
  Slot slot{1, QueueId{Unit::VXM, false, 0, 0}, true, in};
  slot.var[0] = 0, slot.var[1] = 1;
  mov.slots.push_back(slot);
  mov.vars = {StreamVar{false, 1}, StreamVar{true, 1}};
  mov.chip = 1;
  tasks.push_back(mov);
  Placement pl;
  pl.start = 4;
  pl.streamBase = {1, 2};
  pl.east = {false, true};
  pl.vxmAlu = {3};
  s.placed.push_back(pl);
  GIVEN("every chip's tasks") {
    Program p;
    emitQueues(c, tasks, s, p);
    REQUIRE(p.queues.size() == 2);
    THEN("MEM.W0 comes first and alone holds the notify; the mov is on VXM.3 at 4 + 1 = 5") {
      CHECK(lines(p.queues[0]) == std::vector<std::string>{"notify", "sync", "read 0, s2e"});
      CHECK(formatQueueId(p.queues[1].id) == "VXM.3");
      CHECK(lines(p.queues[1]) == std::vector<std::string>{"sync", "nop 5", "mov s1w, s2e"});
    }
  }
  GIVEN("chip 1 only") {
    Program p;
    emitQueues(c, tasks, s, p, 1);
    REQUIRE(p.queues.size() == 1);
    THEN("the mov's queue opens with the barrier") {
      CHECK(lines(p.queues[0]) == std::vector<std::string>{"notify", "sync", "nop 5", "mov s1w, s2e"});
    }
  }
}
