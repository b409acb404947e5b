// StreamFabric on its own: values on diagonals, reads too early or too late,
// two writers on one slot, values never read. Teaching geometry: 8 streams a
// direction, stream_hop 1, east edge 12 (MEM.W0 = 5, VXM = 6, MEM.W2 = 3).
#include <catch2/catch.hpp>

#include "isa/arch/chip_config.h"
#include "sim/core/streams.h"
#include "unit_support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

namespace {

constexpr StreamRef s0e{0, true}, s1w{1, false};
constexpr Cycle kEnd = std::numeric_limits<Cycle>::max();

StreamFabric teachingFabric() {
  const ChipConfig c = presetTeaching();
  return StreamFabric(c.streams_per_direction, c.stream_hop, c.eastEdge(), name);
}

}  // namespace

SCENARIO("a value advances one position per hop", "[unit][streams]") {
  GIVEN("a value on s0e at position 5 in cycle 2 (a read at 0 + mem_read 2)") {
    StreamFabric f = teachingFabric();
    const Plane v = lanes({1, 2, 3, 4, 5, 6, 7, 8});
    f.write(s0e, 5, 2, v, who(0, 0));
    THEN("it is at position 6 in 2 + 1 hop = 3 and at position 10 in 2 + 5 = 7") {
      CHECK(f.read(s0e, 6, 3) == v);
      CHECK(f.read(s0e, 10, 7) == v);
      CHECK(f.read(s0e, 5, 2) == v);
    }
    THEN("at position 6 in cycle 2 it is one cycle away: read too early") {
      REQUIRE_THROWS_WITH(f.read(s0e, 6, 2),
                          "reads s0e at position 6 in cycle 2 but the stream holds no value there: a value passes "
                          "here in cycle 3 (read 1 cycle too early; written by q0@0)");
    }
    THEN("at position 6 in cycle 5 it passed 2 cycles ago: read too late") {
      REQUIRE_THROWS_WITH(f.read(s0e, 6, 5),
                          Contains("a value passes here in cycle 3 (it passed 2 cycles ago: read too "
                                   "late; written by q0@0)"));
    }
    THEN("upstream of its writer (position 4 in cycle 1) there is no value, nor on another stream") {
      f.setPositionNamer([](int pos) { return "P" + std::to_string(pos); });
      CHECK_THROWS_WITH(f.read(s0e, 4, 1), Contains("reads s0e at P4 in cycle 1") &&
                                               Contains("no value on s0e reaches P4 near that cycle"));
      CHECK_THROWS_WITH(f.read(StreamRef{1, true}, 6, 3), Contains("no value on s1e reaches P6"));
    }
    THEN("read once, it leaves the chip unremarked") {
      f.read(s0e, 6, 3);
      CHECK_NOTHROW(f.sweep(kEnd));
    }
    THEN("unread, it is a wasted operation once it leaves the east edge (12) in 2 + 7 hops = 9") {
      CHECK_NOTHROW(f.sweep(9));  // still on the chip in cycle 9
      REQUIRE_THROWS_WITH(f.sweep(10),
                          "q0@0: its value on s0e (at position 5 in cycle 2) was never read before it left the chip");
    }
  }
  GIVEN("a chip whose values take 2 cycles a hop") {
    StreamFabric f(8, 2, 12, name);
    const Plane v = lanes({9, 9, 9, 9, 9, 9, 9, 9});
    f.write(s0e, 5, 2, v, who(0, 0));
    THEN("position 6 sees it in 2 + 2 = 4, not 3") {
      CHECK(f.read(s0e, 6, 4) == v);
      CHECK_THROWS_WITH(f.read(s0e, 6, 3), Contains("passes here in cycle 4 (read 1 cycle too early"));
    }
  }
}

SCENARIO("westward values flow toward position 0", "[unit][streams]") {
  StreamFabric f = teachingFabric();
  const Plane v = lanes({7, 7, 7, 7, 7, 7, 7, 7});
  // A VXM result at 6 in cycle 4 (mov at 3 + vxm_alu 1) reaches MEM.W2 (3) in 4 + 3 hops = 7.
  f.write(s1w, 6, 4, v, who(1, 3));
  CHECK(f.read(s1w, 3, 7) == v);
  CHECK_THROWS_WITH(f.read(s1w, 7, 3), Contains("no value on s1w reaches position 7"));
  // Westward values leave at position 0: slot 4 + 6 = 10 dies after cycle 10.
  CHECK_NOTHROW(f.sweep(kEnd));
}

SCENARIO("two writers on one slot at one position", "[unit][streams]") {
  StreamFabric f = teachingFabric();
  f.write(s1w, 6, 4, lanes(std::vector<uint8_t>(8, 1)), who(0, 3));
  REQUIRE_THROWS_WITH(f.write(s1w, 6, 4, lanes(std::vector<uint8_t>(8, 2)), who(1, 3)),
                      "two producers write s1w at position 6 in cycle 4: q0@3 and this instruction");
  // The same slot at another position is a downstream replacement, not a clash.
  CHECK_NOTHROW(f.write(s1w, 4, 6, lanes(std::vector<uint8_t>(8, 3)), who(2, 4)));
}

SCENARIO("a later writer downstream replaces the value from its position on", "[unit][streams]") {
  GIVEN("position 4 writes s0e in cycle 2 and position 5 the same slot in cycle 3 (2 - 4 = 3 - 5)") {
    StreamFabric f = teachingFabric();
    const Plane a = lanes(std::vector<uint8_t>(8, 1)), b = lanes(std::vector<uint8_t>(8, 2));
    f.write(s0e, 4, 2, a, who(0, 0));
    f.write(s0e, 5, 3, b, who(1, 1));
    THEN("position 6 in cycle 4 sees the second value") { CHECK(f.read(s0e, 6, 4) == b); }
    THEN("the first value, never read, was replaced at position 5") {
      f.read(s0e, 6, 4);
      REQUIRE_THROWS_WITH(f.sweep(kEnd),
                          "q0@0: its value on s0e (at position 4 in cycle 2) was never read before it "
                          "replaced at position 5 by q1@1");
    }
    THEN("read at position 4 in cycle 2, both values were used") {
      CHECK(f.read(s0e, 4, 2) == a);
      CHECK(f.read(s0e, 6, 4) == b);
      CHECK_NOTHROW(f.sweep(kEnd));
    }
  }
}
