// A chip-to-chip link endpoint. Deterministic, no back-pressure: a vector
// sent in cycle t occupies the link for c2cCyclesPerVector() cycles and
// arrives c2c_send + occupancy + c2c_link_latency cycles later at the peer
// endpoint (on a single chip a link is looped back to itself; in a system
// it is wired to a link of another chip). Checks: the link is deskewed
// before use, one vector at a time on the wire, a receive finds a vector
// that has arrived, and every vector sent is received.
#pragma once
#include <deque>
#include <functional>
#include <string>

#include "isa/arch/chip_config.h"
#include "types.h"

namespace lpu {

class C2cLink {
 public:
  using Describe = std::function<std::string(const Origin&)>;
  C2cLink(const ChipConfig& c, int index, Describe describe);

  // Where this endpoint's vectors go (itself until connected); null: nowhere.
  void connect(C2cLink* peer) { peer_ = peer, loop_ = false; }
  void deskew(Cycle t);
  void send(const Plane& v, Cycle t, const Origin& who);
  Plane receive(Cycle t);
  // Throws if a vector that reached this endpoint was never received.
  void checkDrained() const;
  uint64_t sent() const { return sent_; }
  uint64_t busyCycles() const { return sent_ * uint64_t(occupancy_); }

 private:
  struct InFlight {
    Cycle arrival;
    Plane data;
    Origin who;
    const C2cLink* from;
  };
  void checkAligned(Cycle t, const char* what) const;
  int index_, sendDelay_, occupancy_, wire_, deskewDelay_;
  Describe describe_;
  C2cLink* peer_ = nullptr;
  bool loop_ = true;      // not connected: looped back to itself
  Cycle alignedAt_ = -1;  // -1: never deskewed
  Cycle busyUntil_ = 0, lastSend_ = 0;
  uint64_t sent_ = 0;
  std::deque<InFlight> inbound_;
};

}  // namespace lpu
