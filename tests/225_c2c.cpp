// A chip-to-chip link endpoint on its own. Teaching chip: c2c_send 1,
// c2c_deskew 4, a wire of 10 cycles, and 1 lane x 8 Gb/s = 1 byte a cycle
// at 1 GHz, so an 8-lane vector occupies the link 8 cycles.
#include <catch2/catch.hpp>

#include "sim/core/c2c.h"
#include "unit_support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

SCENARIO("a looped-back link: deskew, send, receive", "[unit][c2c]") {
  const ChipConfig c = presetTeaching();
  REQUIRE(c.c2cCyclesPerVector() == 8);
  REQUIRE(c.latency.c2c_send == 1);
  REQUIRE(c.latency.c2c_deskew == 4);
  REQUIRE(c.c2c_link_latency == 10);
  C2cLink link(c, 0, name);
  GIVEN("a link never deskewed") {
    THEN("send and receive are refused") {
      CHECK_THROWS_WITH(link.send(lanes(std::vector<uint8_t>(8, 1)), 0, who(0, 0)),
                        "send on link 0, which was never deskewed");
      CHECK_THROWS_WITH(link.receive(0), "receive on link 0, which was never deskewed");
    }
  }
  GIVEN("a deskew in cycle 0 (aligned at 0 + c2c_deskew 4 = 4)") {
    link.deskew(0);
    THEN("a send in cycle 3 is too early") {
      REQUIRE_THROWS_WITH(link.send(lanes(std::vector<uint8_t>(8, 1)), 3, who(0, 3)),
                          "send on link 0 in cycle 3 before its deskew completes in cycle 4");
    }
    WHEN("a vector is sent in cycle 4: on the wire 4 + 1 = 5 to 5 + 8 = 13, arriving 13 + 10 = 23") {
      const Plane v = lanes({1, 2, 3, 4, 5, 6, 7, 8});
      link.send(v, 4, who(0, 4));
      THEN("it is received in cycle 23, not 22") {
        CHECK_THROWS_WITH(link.receive(22), "receives on link 0 in cycle 22 but the next vector arrives in cycle 23");
        CHECK(link.receive(23) == v);
        CHECK_NOTHROW(link.checkDrained());
        CHECK_THROWS_WITH(link.receive(30), "receives on link 0 in cycle 30 but nothing was sent to it");
      }
      THEN("a second send in cycle 11 would start at 12, while the first holds the link until 13") {
        CHECK_THROWS_WITH(link.send(v, 11, who(0, 11)),
                          "link 0 still carries the vector sent in cycle 4 until cycle 13 (8 cycles a vector): two "
                          "vectors on one link slot");
        link.send(v, 12, who(0, 12));  // starts at 13, arrives 13 + 8 + 10 = 31
        CHECK(link.sent() == 2);
        CHECK(link.busyCycles() == 16);
        link.receive(23);
        CHECK_THROWS_WITH(link.receive(30), Contains("the next vector arrives in cycle 31"));
        CHECK(link.receive(31) == v);
      }
      THEN("never received, it is reported at the end with its sender") {
        REQUIRE_THROWS_WITH(link.checkDrained(),
                            "q0@4: the vector it sent on link 0 (arriving in cycle 23) was never received");
      }
    }
  }
}

SCENARIO("two connected endpoints", "[unit][c2c]") {
  const ChipConfig c = presetTeaching();
  C2cLink a(c, 0, name), b(c, 1, name);
  a.connect(&b);
  b.connect(&a);
  a.deskew(0);
  b.deskew(2);  // aligned at 2 + 4 = 6
  const Plane v = lanes(std::vector<uint8_t>(8, 5));
  a.send(v, 4, who(3, 4));  // arrives at b in 4 + 1 + 8 + 10 = 23
  THEN("the vector reaches the peer, not the sender") {
    CHECK_THROWS_WITH(a.receive(23), "receives on link 0 in cycle 23 but nothing was sent to it");
    CHECK(b.receive(23) == v);
  }
  THEN("the peer reports it unreceived, naming the sending link") {
    REQUIRE_THROWS_WITH(b.checkDrained(),
                        "q3@4: the vector it sent on link 0 (arriving in cycle 23) was never received");
  }
  THEN("an endpoint connected to nothing cannot send") {
    a.connect(nullptr);
    REQUIRE_THROWS_WITH(a.send(v, 20, who(3, 20)), "send on link 0, which is not connected to another chip");
  }
}
