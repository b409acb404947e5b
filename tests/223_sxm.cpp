// The SXM's lane movements on their own: for each output lane, the input
// lane it takes (-1: zero). Teaching chip: 8 lanes, 2 superlanes of 4.
#include <catch2/catch.hpp>

#include "sim/core/sxm.h"

using namespace lpu;

namespace {

Instr move(Opcode op, uint32_t imm) {
  Instr in;
  in.op = op;
  in.imm = imm;
  return in;
}

}  // namespace

SCENARIO("shift moves whole superlanes, rot single lanes", "[unit][sxm]") {
  const ChipConfig c = presetTeaching();
  Program p;
  REQUIRE(c.lanes() == 8);
  THEN("shift 1: lane i takes lane i - 4, the first superlane is zero") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::SHIFT, 1)) == std::vector<int>{-1, -1, -1, -1, 0, 1, 2, 3});
  }
  THEN("shift -1 (as its 32-bit pattern): lane i takes lane i + 4") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::SHIFT, uint32_t(-1))) == std::vector<int>{4, 5, 6, 7, -1, -1, -1, -1});
  }
  THEN("shift 2 moves everything off the chip") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::SHIFT, 2)) == std::vector<int>(8, -1));
  }
  THEN("rot 3: lane i takes lane (i - 3) mod 8") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::ROT, 3)) == std::vector<int>{5, 6, 7, 0, 1, 2, 3, 4});
  }
}

SCENARIO("perm and dist follow the program's maps", "[unit][sxm]") {
  const ChipConfig c = presetTeaching();
  Program p;
  p.maps.push_back({"reverse", {7, 6, 5, 4, 3, 2, 1, 0}});
  p.maps.push_back({"within", {3, 2, 1, 0, 0, 0, 0, 0}});
  THEN("perm map 0: output lane i takes lane map[i]") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::PERM, 0)) == std::vector<int>{7, 6, 5, 4, 3, 2, 1, 0});
  }
  THEN("dist map 1: lane i takes lane map[i] of its own superlane (4 * (i / 4) + map[i])") {
    CHECK(sxmSourceLanes(c, p, move(Opcode::DIST, 1)) == std::vector<int>{3, 2, 1, 0, 4, 4, 4, 4});
  }
}
