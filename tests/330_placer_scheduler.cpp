// The scheduler and its reservation tables on hand-built tasks (no graph, no
// lowering, no simulator): queue slots, bank ports, stream slots, VXM ALUs,
// dependences and the two policies. Teaching chip: 4 VXM ALUs, 2 banks a
// slice with one port each, 8 streams a direction, stream_hop 1, a SEND
// holding its link 8 cycles; MEM.W0 = position 5, VXM = 6.
#include <catch2/catch.hpp>

#include "compiler/scheduler.h"
#include "isa/error.h"

using namespace lpu;
using Catch::Contains;

namespace {

const QueueId kW0{Unit::MEM, false, 0, 0}, kW1{Unit::MEM, false, 1, 0}, kLink0{Unit::C2C, false, 0, 0};

Instr op(Opcode o) {
  Instr in;
  in.op = o;
  return in;
}
// A task of one instruction on queue q at relative cycle 0, ending at `end`.
Task onQueue(const std::string& label, const QueueId& q, Cycle end, Opcode o = Opcode::READ) {
  Task t;
  t.label = label;
  t.slots.push_back(Slot{0, q, false, op(o)});
  t.end = end;
  return t;
}
// A task that only uses the port of bank `bank` of slice 0 at relative cycle 0.
Task onPort(int bank) {
  Task t;
  t.label = "port";
  t.ports.push_back(PortUse{0, bank, 0});
  t.end = 1;
  return t;
}
// A task whose value (one plane) is at position `from` in relative cycle `avail`, read as far as `to`.
Task onStream(bool east, Cycle avail, int from, int to) {
  Task t;
  t.label = "value";
  t.vars.push_back(StreamVar{east, 1});
  t.uses.push_back(ValueUse{0, avail, from, to});
  t.end = avail + 1;
  return t;
}
Task onAnyVxm(int slots) {
  Task t;
  t.label = "alu";
  for (int i = 0; i < slots; ++i) t.slots.push_back(Slot{0, QueueId{Unit::VXM, false, 0, 0}, true, op(Opcode::MOV)});
  t.end = 1;
  return t;
}
std::vector<Cycle> starts(const Schedule& s) {
  std::vector<Cycle> out;
  for (const Placement& p : s.placed) out.push_back(p.start);
  return out;
}

}  // namespace

SCENARIO("queues hold one instruction a cycle; the policies differ in order", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  GIVEN("two reads on MEM.W0 (each ending at mem_read 2) and one on MEM.W1") {
    const std::vector<Task> tasks{onQueue("a", kW0, 2), onQueue("b", kW0, 2), onQueue("c", kW1, 2)};
    THEN("in-order: a at 0, b at 1 (W0 taken at 0), c no earlier than b: 1; total 1 + 2 = 3") {
      const Schedule s = schedule(c, tasks, Policy::InOrder);
      CHECK(starts(s) == std::vector<Cycle>{0, 1, 1});
      CHECK(s.total == 3);
    }
    THEN("list: c fills cycle 0 on its own queue") {
      const Schedule s = schedule(c, tasks, Policy::List);
      CHECK(starts(s) == std::vector<Cycle>{0, 1, 0});
      CHECK(s.total == 3);
    }
  }
  GIVEN("a short task before a long one on the same queue") {
    const std::vector<Task> tasks{onQueue("short", kW0, 1), onQueue("long", kW0, 10)};
    THEN("list places the longest path first: long at 0, short at 1; in-order keeps creation order") {
      CHECK(starts(schedule(c, tasks, Policy::List)) == std::vector<Cycle>{1, 0});
      CHECK(starts(schedule(c, tasks, Policy::InOrder)) == std::vector<Cycle>{0, 1});
    }
  }
  GIVEN("two sends on link 0: the first holds it 8 cycles (c2cCyclesPerVector)") {
    REQUIRE(c.c2cCyclesPerVector() == 8);
    const std::vector<Task> tasks{onQueue("s1", kLink0, 1, Opcode::SEND), onQueue("s2", kLink0, 1, Opcode::SEND)};
    THEN("the second starts at 0 + 8 = 8") {
      CHECK(starts(schedule(c, tasks, Policy::List)) == std::vector<Cycle>{0, 8});
    }
  }
  GIVEN("the same queue on two chips of a joint schedule") {
    std::vector<Task> tasks{onQueue("a", kW0, 2), onQueue("b", kW0, 2)};
    tasks[1].chip = 1;
    THEN("each chip has its own tables: both at 0") {
      CHECK(starts(schedule(c, tasks, Policy::List, 2)) == std::vector<Cycle>{0, 0});
    }
  }
}

SCENARIO("bank ports: one access per bank per cycle", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  const std::vector<Task> tasks{onPort(0), onPort(0), onPort(1)};
  THEN("the second bank-0 access waits a cycle, bank 1 is free at 0") {
    CHECK(starts(schedule(c, tasks, Policy::List)) == std::vector<Cycle>{0, 1, 0});
  }
  THEN("with two ports a bank, all three fit at 0") {
    ChipConfig two = c;
    two.mem_ports_per_bank = 2;
    CHECK(starts(schedule(two, tasks, Policy::List)) == std::vector<Cycle>{0, 0, 0});
  }
  THEN("a task using one port twice in one cycle can never be placed") {
    Task t = onPort(0);
    t.label = "greedy";
    t.ports.push_back(PortUse{0, 0, 0});
    REQUIRE_THROWS_WITH(schedule(c, {t}, Policy::List),
                        "internal: task greedy can never be placed: bank 0 of slice 0 at relative cycle 0 (slots:)");
  }
}

SCENARIO("stream slots: a diagonal of one stream over an interval of positions", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  // A value at MEM.W0 (5) in cycle 2, read at the VXM (6): slot 2 - 5 = -3 over positions 5..6.
  const std::vector<Task> tasks{onStream(true, 2, 5, 6), onStream(true, 2, 5, 6)};
  THEN("with 8 streams, both at 0: the second on stream 1") {
    const Schedule s = schedule(c, tasks, Policy::List);
    CHECK(starts(s) == std::vector<Cycle>{0, 0});
    CHECK(s.placed[0].streamBase == std::vector<int>{0});
    CHECK(s.placed[1].streamBase == std::vector<int>{1});
  }
  GIVEN("a chip with one stream a direction") {
    ChipConfig one = c;
    one.streams_per_direction = 1;
    one.mxm_weight_streams = 1;
    THEN("the second waits a cycle for the next slot (3 - 5 = -2)") {
      CHECK(starts(schedule(one, tasks, Policy::List)) == std::vector<Cycle>{0, 1});
    }
    THEN("the same slot further downstream (at 7 in cycle 4: 4 - 7 = -3, over 7..8) is free") {
      const std::vector<Task> apart{onStream(true, 2, 5, 6), onStream(true, 4, 7, 8)};
      CHECK(starts(schedule(one, apart, Policy::List)) == std::vector<Cycle>{0, 0});
    }
    THEN("a value used only where it is made may take the other direction") {
      const std::vector<Task> local{onStream(true, 1, 6, 6), onStream(true, 1, 6, 6)};
      const Schedule s = schedule(one, local, Policy::List);
      CHECK(starts(s) == std::vector<Cycle>{0, 0});
      CHECK(s.placed[0].east == std::vector<bool>{true});
      CHECK(s.placed[1].east == std::vector<bool>{false});
    }
    THEN("a value of 2 planes never fits on 1 stream") {
      Task wide = onStream(true, 2, 5, 6);
      wide.vars[0].planes = 2;
      REQUIRE_THROWS_WITH(schedule(one, {wide}, Policy::List),
                          Contains("can never be placed: no free streams for value 0 (2 planes)"));
    }
  }
}

SCENARIO("any VXM ALU: the lowest free one", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  REQUIRE(c.vxm_alus == 4);
  THEN("five one-instruction tasks: ALUs 0..3 at 0, the fifth on ALU 0 at 1") {
    const std::vector<Task> tasks(5, onAnyVxm(1));
    const Schedule s = schedule(c, tasks, Policy::List);
    CHECK(starts(s) == std::vector<Cycle>{0, 0, 0, 0, 1});
    std::vector<int> alus;
    for (const Placement& p : s.placed) alus.push_back(p.vxmAlu[0]);
    CHECK(alus == std::vector<int>{0, 1, 2, 3, 0});
  }
  THEN("two slots of one task in one cycle take two ALUs") {
    const Schedule s = schedule(c, {onAnyVxm(2)}, Policy::List);
    CHECK(s.placed[0].vxmAlu == std::vector<int>{0, 1});
  }
  THEN("five in one cycle can never be placed") {
    REQUIRE_THROWS_WITH(schedule(c, {onAnyVxm(5)}, Policy::List),
                        Contains("can never be placed: no free VXM ALU at relative cycle 0"));
  }
}

SCENARIO("dependences: explicit gaps and MEM rows", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  GIVEN("b after a: t(b) + 0 >= t(a) + 2 + gap 1") {
    std::vector<Task> tasks{onQueue("a", kW0, 2), onQueue("b", kW1, 2)};
    tasks[1].deps.push_back(Dep{0, 0, 2, 1});
    THEN("b starts at 3 under both policies") {
      CHECK(starts(schedule(c, tasks, Policy::List)) == std::vector<Cycle>{0, 3});
      CHECK(starts(schedule(c, tasks, Policy::InOrder)) == std::vector<Cycle>{0, 3});
    }
  }
  GIVEN("a writes row 7, committing at relative 2; b reads it at relative 0, c at relative 1") {
    std::vector<Task> tasks{onQueue("a", kW0, 3), onQueue("b", kW1, 2),
                            onQueue("c", QueueId{Unit::MEM, true, 0, 0}, 2)};
    tasks[0].writes.push_back(RowAccess{7, 2});
    tasks[1].reads.push_back(RowAccess{7, 0});
    tasks[2].reads.push_back(RowAccess{7, 1});
    THEN("b starts at the commit, 2, and c at 2 - 1 = 1") {
      CHECK(starts(schedule(c, tasks, Policy::List)) == std::vector<Cycle>{0, 2, 1});
    }
  }
  GIVEN("a task that depends on a later one") {
    std::vector<Task> tasks{onQueue("a", kW0, 2), onQueue("b", kW1, 2)};
    tasks[0].deps.push_back(Dep{1, 0, 0, 0});
    THEN("the scheduler refuses") {
      REQUIRE_THROWS_WITH(schedule(c, tasks, Policy::List), "internal: task a depends on a later task");
    }
  }
  GIVEN("a task using one queue twice in one cycle") {
    Task t = onQueue("twice", kW0, 2);
    t.slots.push_back(t.slots[0]);
    THEN("the scheduler refuses") {
      REQUIRE_THROWS_WITH(schedule(c, {t}, Policy::List),
                          "internal: task twice uses queue MEM.W0 twice at relative cycle 0");
    }
  }
}

SCENARIO("the reservation tables and the queue numbering", "[unit][scheduler]") {
  const ChipConfig c = presetTeaching();
  THEN("a stream slot is taken over a closed interval of positions") {
    StreamTable st(2, 1);
    CHECK(st.slotOf(true, 5, 2) == -3);  // eastward: 2 - 5
    CHECK(st.slotOf(false, 5, 2) == 7);  // westward: 2 + 5
    st.take(true, 0, -3, 5, 6);
    CHECK_FALSE(st.free(true, 0, -3, 6, 8));  // overlaps at 6
    CHECK(st.free(true, 0, -3, 7, 8));
    CHECK(st.free(true, 1, -3, 5, 6));   // another stream
    CHECK(st.free(false, 0, -3, 5, 6));  // the other direction
    CHECK(st.free(true, 0, -2, 5, 6));   // the next slot
  }
  THEN("a cycle set counts its adds, across pages") {
    CycleSet s;
    s.add(3);
    s.add(3);
    s.add(10000);
    CHECK(s.count(3) == 2);
    CHECK(s.has(10000));
    CHECK_FALSE(s.has(4));
    CHECK_FALSE(s.has(-1));
  }
  THEN("queues are numbered densely: 8 MEM, 4 VXM, 6 MXM, 4 SXM, 2 C2C") {
    REQUIRE(queueCount(c) == 24);
    for (int i = 0; i < queueCount(c); ++i) CHECK(queueIndex(c, queueAt(c, i)) == i);
    CHECK(queueIndex(c, QueueId{Unit::VXM, false, 3, 0}) == 11);
    CHECK(formatQueueId(queueAt(c, 23)) == "C2C.1");
  }
}
