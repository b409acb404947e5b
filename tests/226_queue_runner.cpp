// QueueRunner driving a Chip in plain C++ (no SystemC, no assembler: the
// program is built as structs). Teaching chip: MEM.W2 = 3, MEM.W0 = 5,
// VXM = 6; mem_read 2, mem_write 2, vxm_alu 1, icu_notify 1.
#include <catch2/catch.hpp>

#include "sim/core/queue_runner.h"

using namespace lpu;
using Catch::Contains;

namespace {

Instr op(Opcode o, uint32_t imm = 0) {
  Instr in;
  in.op = o;
  in.imm = imm;
  return in;
}
Instr repeat(uint32_t n, uint16_t d, int16_t stride) {
  Instr in = op(Opcode::REPEAT);
  in.n = n, in.d = d, in.stride = stride;
  return in;
}
Instr mem(Opcode o, uint32_t addr, StreamRef s) {
  Instr in = op(o, addr);
  in.s0 = s;
  return in;
}
Instr mov(StreamRef to, StreamRef from) {
  Instr in = op(Opcode::MOV);
  in.s0 = to, in.s1 = from;
  return in;
}
QueueId memQ(bool east, int slice) { return QueueId{Unit::MEM, east, slice, 0}; }
constexpr StreamRef s0e{0, true}, s1w{1, false};

// x: i8 [3, 8] at W0 0 holding 1..24; y: i8 [1, 8] at W2 0.
Program base() {
  Program p;
  p.chip = "teaching";
  Tensor x;
  x.name = "x", x.rows = 3, x.cols = 8, x.init = Tensor::Init::Data;
  for (uint8_t i = 1; i <= 24; ++i) x.data.push_back(i);
  Tensor y;
  y.name = "y", y.rows = 1, y.cols = 8, y.slice = SliceRef{false, 2}, y.output = true;
  p.tensors = {x, y};
  return p;
}

// Runs every queue to its end, each when due (a parked queue when the barrier releases).
void runAll(Chip& chip, std::vector<QueueRunner>& rs) {
  std::vector<QueueRunner::Next> next(rs.size(), {QueueRunner::State::Wait, 0});
  for (Cycle t = 0; t < 1000; ++t)
    for (size_t i = 0; i < rs.size(); ++i) {
      if (next[i].state == QueueRunner::State::Park && chip.release() && *chip.release() == t)
        rs[i].resume(t), next[i] = {QueueRunner::State::Wait, t};
      if (next[i].state == QueueRunner::State::Wait && next[i].at == t) next[i] = rs[i].run(t, chip);
    }
}

std::vector<std::pair<Cycle, uint32_t>> reads(const Chip& chip) {
  std::vector<std::pair<Cycle, uint32_t>> out;
  for (const TraceEvent& e : chip.trace())
    if (e.instr.op == Opcode::READ) out.push_back({e.start, e.instr.imm});
  return out;
}

}  // namespace

SCENARIO("nop waits, repeat re-issues d cycles apart with the address stepped", "[unit][queue]") {
  const ChipConfig c = presetTeaching();
  GIVEN("MEM.W0: nop 3; read x[0], s0e; repeat 2, 2, stride 1") {
    Program p = base();
    p.queues.push_back({memQ(false, 0), {op(Opcode::NOP, 3), mem(Opcode::READ, 0, s0e), repeat(2, 2, 1)}});
    Chip chip(c, p, "unit", SimOptions{true, true});
    QueueRunner r(p.queues[0], 0, 0);
    THEN("it comes back at 3 (nop), 4 (after the read), 5 and 7 (the repetitions) and is done") {
      auto n = r.run(0, chip);
      CHECK((n.state == QueueRunner::State::Wait && n.at == 3));
      n = r.run(3, chip);
      CHECK((n.state == QueueRunner::State::Wait && n.at == 4));
      n = r.run(4, chip);  // the repeat: the first repetition at 3 + 2 = 5
      CHECK((n.state == QueueRunner::State::Wait && n.at == 5));
      n = r.run(5, chip);
      CHECK((n.state == QueueRunner::State::Wait && n.at == 7));
      n = r.run(7, chip);
      CHECK(n.state == QueueRunner::State::Done);
      // Reads of x[0], x[1], x[2] at 3, 5, 7; each on s0e 2 cycles later.
      CHECK(reads(chip) == std::vector<std::pair<Cycle, uint32_t>>{{3, 0}, {5, 1}, {7, 2}});
      CHECK(chip.stats()[size_t(Unit::MEM)].instructions == 3);
      CHECK(chip.stats()[size_t(Unit::ICU)].instructions == 2);  // nop, repeat
      CHECK(chip.lastRetire() == 9);                             // 7 + mem_read 2
    }
  }
  GIVEN("a repeat with no instruction before it") {
    Program p = base();
    p.queues.push_back({memQ(false, 0), {repeat(1, 1, 0)}});
    Chip chip(c, p, "unit", SimOptions{});
    QueueRunner r(p.queues[0], 0, 0);
    REQUIRE_THROWS_WITH(r.run(0, chip), "cycle 0, MEM.W0, repeat: it must follow an instruction that does work");
  }
}

SCENARIO("three queues move a row: read, mov, write", "[unit][queue]") {
  const ChipConfig c = presetTeaching();
  Program p = base();
  // read at 0 + mem_read 2 = s0e at W0 (5) in 2, + 1 hop = VXM (6) in 3;
  // mov at 3 + vxm_alu 1 = s1w at VXM in 4, + 3 hops = W2 (3) in 7; write at 7 commits at 9.
  p.queues.push_back({memQ(false, 0), {mem(Opcode::READ, 1, s0e)}});
  GIVEN("the mov issued in cycle 3 and the write in cycle 7") {
    p.queues.push_back({QueueId{Unit::VXM, false, 0, 0}, {op(Opcode::NOP, 3), mov(s1w, s0e)}});
    p.queues.push_back({memQ(false, 2), {op(Opcode::NOP, 7), mem(Opcode::WRITE, 0, s1w)}});
    Chip chip(c, p, "unit", SimOptions{});
    std::vector<QueueRunner> rs{{p.queues[0], 0, 0}, {p.queues[1], 1, 0}, {p.queues[2], 2, 0}};
    runAll(chip, rs);
    THEN("y holds row 1 of x and every value was used") {
      CHECK_NOTHROW(chip.finish());
      CHECK(chip.tensorBytes(p.tensors[1]) == std::vector<uint8_t>{9, 10, 11, 12, 13, 14, 15, 16});
      CHECK(chip.lastRetire() == 9);
    }
  }
  GIVEN("the mov issued in cycle 2") {
    p.queues.push_back({QueueId{Unit::VXM, false, 0, 0}, {op(Opcode::NOP, 2), mov(s1w, s0e)}});
    Chip chip(c, p, "unit", SimOptions{});
    std::vector<QueueRunner> rs{{p.queues[0], 0, 0}, {p.queues[1], 1, 0}};
    THEN("it reads s0e one cycle too early") {
      REQUIRE_THROWS_WITH(runAll(chip, rs), Contains("cycle 2, VXM.0, mov") &&
                                                Contains("reads s0e at VXM in cycle 2") &&
                                                Contains("passes here in cycle 3 (read 1 cycle too early"));
    }
  }
  GIVEN("no write: the mov's value is never read") {
    p.queues.push_back({QueueId{Unit::VXM, false, 0, 0}, {op(Opcode::NOP, 3), mov(s1w, s0e)}});
    Chip chip(c, p, "unit", SimOptions{});
    std::vector<QueueRunner> rs{{p.queues[0], 0, 0}, {p.queues[1], 1, 0}};
    runAll(chip, rs);
    THEN("the end of the run reports it") {
      REQUIRE_THROWS_WITH(chip.finish(), Contains("cycle 3, VXM.0, mov") &&
                                             Contains("its value on s1w (at VXM in cycle 4) was never read"));
    }
  }
}

SCENARIO("sync parks a queue until notify releases the barrier", "[unit][queue]") {
  const ChipConfig c = presetTeaching();
  Program p = base();
  p.queues.push_back({memQ(false, 1), {op(Opcode::NOTIFY)}});
  p.queues.push_back({memQ(false, 0), {op(Opcode::SYNC), mem(Opcode::READ, 0, s0e)}});
  p.queues.push_back({memQ(true, 0), {op(Opcode::NOP, 3), op(Opcode::SYNC)}});
  Chip chip(c, p, "unit", SimOptions{true, true});
  QueueRunner notifier(p.queues[0], 0, 0), waiter(p.queues[1], 1, 0), late(p.queues[2], 2, 0);
  CHECK(waiter.run(0, chip).state == QueueRunner::State::Park);
  CHECK(notifier.run(0, chip).state == QueueRunner::State::Done);
  REQUIRE(chip.release());
  CHECK(*chip.release() == 1);  // notify at 0 + icu_notify 1
  waiter.resume(1);
  CHECK(waiter.run(1, chip).state == QueueRunner::State::Done);  // the read at 1 was its last
  CHECK(reads(chip) == std::vector<std::pair<Cycle, uint32_t>>{{1, 0}});
  CHECK(late.run(0, chip).at == 3);
  CHECK_THROWS_WITH(late.run(3, chip), "cycle 3, MEM.E0, sync: the start barrier was released already, in cycle 1");
  QueueRunner again(p.queues[0], 0, 5);
  CHECK_THROWS_WITH(again.run(5, chip),
                    Contains("a second notify: a program has one start barrier (released in cycle 1)"));
}
