// MemSlice on its own (no SystemC, no assembler): banks, ports, commit
// timing, gather/scatter. Teaching chip: 8 lanes, 2 banks of 64 words
// (bank = address % 2, addresses 0..127), one port per bank, mem_write 2.
#include <catch2/catch.hpp>

#include "sim/core/mem.h"
#include "unit_support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

SCENARIO("a write commits mem_write cycles after issue", "[unit][mem]") {
  const ChipConfig c = presetTeaching();
  REQUIRE(c.latency.mem_write == 2);
  GIVEN("slice W0 and a write of address 6 issued in cycle 3") {
    MemSlice m(c, SliceRef{false, 0}, true);
    m.setDescribe(name);
    m.write(6, 3, lanes({1, 2, 3, 4, 5, 6, 7, 8}), who(1, 3));
    WHEN("address 6 is read in cycle 4, before the commit in 3 + mem_write 2 = 5") {
      THEN("the read stops naming the write and its commit cycle") {
        REQUIRE_THROWS_WITH(m.read(6, 4, who(2, 4)),
                            "reads slice W0 address 6 in cycle 4 before the write of q1@3 commits in cycle 5");
      }
    }
    WHEN("address 6 is read in cycle 6, after the commit (its bank's port is free again)") {
      const Plane p = m.read(6, 6, who(2, 6));
      THEN("it holds the written lanes") {
        REQUIRE(p);
        CHECK(*p == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
        CHECK(m.peek(6)[7] == 8);
      }
    }
    WHEN("another address of bank 0 is read in cycle 5, when the write uses the port to commit") {
      THEN("the bank port is used twice") {
        REQUIRE_THROWS_WITH(m.read(0, 5, who(2, 5)),
                            "bank 0 of slice W0 takes 1 access per cycle; this read in cycle 5 collides with "
                            "q1@3");
      }
    }
    WHEN("bank 0 is read in cycle 3, the write's issue cycle, and bank 1 in cycle 5") {
      THEN("neither collides: a write holds its port only when it commits") {
        CHECK_NOTHROW(m.read(0, 3, who(2, 3)));
        CHECK_NOTHROW(m.read(1, 5, who(2, 5)));
      }
    }
  }
}

SCENARIO("one port per bank per cycle", "[unit][mem]") {
  const ChipConfig c = presetTeaching();
  GIVEN("slice E2 read at address 2 (bank 0) in cycle 1") {
    MemSlice m(c, SliceRef{true, 2}, true);
    m.read(2, 1, who(0, 1));
    THEN("address 3 (bank 1) may be read in the same cycle") { CHECK_NOTHROW(m.read(3, 1, who(1, 1))); }
    THEN("address 4 (bank 0) may not; without a describer the first access is 'another access'") {
      REQUIRE_THROWS_WITH(m.read(4, 1, who(1, 1)),
                          "bank 0 of slice E2 takes 1 access per cycle; this read in cycle 1 collides with another "
                          "access");
    }
    THEN("an instruction fetch takes the port like a read") {
      REQUIRE_THROWS_WITH(m.fetch(0, 1, who(1, 1)), Contains("this instruction fetch in cycle 1 collides"));
    }
    THEN("address 4 is free again in cycle 2") { CHECK_NOTHROW(m.read(4, 2, who(1, 2))); }
  }
  GIVEN("a chip with two ports per bank") {
    ChipConfig two = c;
    two.mem_ports_per_bank = 2;
    MemSlice m(two, SliceRef{false, 1}, true);
    m.read(0, 1, who(0, 1));
    m.read(2, 1, who(1, 1));
    THEN("the third access of bank 0 in cycle 1 collides") {
      REQUIRE_THROWS_WITH(m.read(4, 1, who(2, 1)), Contains("bank 0 of slice W1 takes 2 accesses per cycle"));
    }
  }
}

SCENARIO("addresses are checked and unwritten words read as zero", "[unit][mem]") {
  const ChipConfig c = presetTeaching();
  MemSlice m(c, SliceRef{false, 3}, true);
  CHECK(m.words() == 128);  // 2 banks x 64 words
  CHECK_THROWS_WITH(m.read(128, 0, who(0, 0)), "address 128 is outside slice W3 (0..127)");
  CHECK_THROWS_WITH(m.write(200, 0, lanes(std::vector<uint8_t>(8, 1)), who(0, 0)),
                    "address 200 is outside slice W3 (0..127)");
  const Plane p = m.read(127, 0, who(0, 0));
  REQUIRE(p);
  CHECK(*p == std::vector<uint8_t>(8, 0));
  WHEN("the slice is timing-only") {
    MemSlice t(c, SliceRef{false, 3}, false);
    t.write(5, 0, nullptr, who(0, 0));
    THEN("reads return no data and the commit check still applies (0 + mem_write 2)") {
      CHECK_THROWS_WITH(t.read(5, 1, who(1, 1)),
                        Contains("in cycle 1 before the write of another queue commits in cycle 2"));
      CHECK(t.read(5, 3, who(1, 3)) == nullptr);  // cycle 2 is the commit's port
      CHECK(t.peek(5) == nullptr);
    }
  }
}

SCENARIO("a gather takes every bank's port; lane i reads word addrs[i]", "[unit][mem]") {
  const ChipConfig c = presetTeaching();
  MemSlice m(c, SliceRef{false, 0}, true);
  for (uint8_t w = 0; w < 8; ++w) {
    std::vector<uint8_t> v(8);
    for (uint8_t l = 0; l < 8; ++l) v[l] = uint8_t(10 * w + l);  // word w, lane l holds 10w + l
    m.poke(w, v.data(), v.size());
  }
  GIVEN("a gather in cycle 4 of words 7, 6, ..., 0") {
    const Plane p = m.gather({7, 6, 5, 4, 3, 2, 1, 0}, 4, who(0, 4));
    THEN("lane i holds word 7 - i, lane i") {
      REQUIRE(p);
      CHECK(*p == std::vector<uint8_t>{70, 61, 52, 43, 34, 25, 16, 7});
    }
    THEN("both banks are busy in cycle 4") {
      CHECK_THROWS_WITH(m.read(1, 4, who(1, 4)), Contains("bank 1 of slice W0") && Contains("this read in cycle 4"));
      CHECK_THROWS_WITH(m.read(0, 4, who(1, 4)), Contains("bank 0 of slice W0"));
    }
  }
  GIVEN("a scatter in cycle 1 of lanes {1..8} to words 9, 9, ..., 9") {
    m.scatter(std::vector<uint32_t>(8, 9), 1, lanes({1, 2, 3, 4, 5, 6, 7, 8}), who(0, 1));
    THEN("it commits in 1 + mem_write 2 = 3, using every bank's port then") {
      CHECK_THROWS_WITH(m.read(9, 2, who(1, 2)), Contains("address 9 in cycle 2") && Contains("commits in cycle 3"));
      CHECK_THROWS_WITH(m.read(0, 3, who(1, 3)), Contains("this read in cycle 3 collides"));
      CHECK(*m.read(9, 4, who(1, 4)) == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
    }
  }
}
