// A chip-to-chip link endpoint. Deterministic, no back-pressure: a vector
// sent in cycle t occupies the link for c2cCyclesPerVector() cycles and
// arrives c2c_send + occupancy + c2c_link_latency cycles later at the peer
// (on one chip the link is looped back to itself). Checks: the link is
// deskewed before use, one vector at a time on the wire, a receive finds a
// vector that has arrived, and every vector sent is received.
#pragma once
#include <deque>
#include <functional>
#include <string>

#include "sim/config/chip_config.h"
#include "types.h"

namespace lpu {

class C2cLink {
 public:
  C2cLink(const ChipConfig& c, int index);

  void deskew(Cycle t);
  void send(const Plane& v, Cycle t, const Origin& who);
  Plane receive(Cycle t);
  // Throws if a sent vector was never received.
  void checkDrained(const std::function<std::string(const Origin&)>& describe) const;

 private:
  struct InFlight {
    Cycle arrival;
    Plane data;
    Origin who;
  };
  void checkAligned(Cycle t, const char* what) const;
  int index_, sendDelay_, occupancy_, wire_, deskewDelay_;
  Cycle alignedAt_ = -1;  // -1: never deskewed
  Cycle busyUntil_ = 0, lastSend_ = 0;
  std::deque<InFlight> inFlight_;
};

}  // namespace lpu
