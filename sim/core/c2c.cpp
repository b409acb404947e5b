#include "c2c.h"

#include <fmt/format.h>

#include <functional>

namespace lpu {

C2cLink::C2cLink(const ChipConfig& c, int index)
    : index_(index),
      sendDelay_(c.latency.c2c_send),
      occupancy_(c.c2cCyclesPerVector()),
      wire_(c.c2c_link_latency),
      deskewDelay_(c.latency.c2c_deskew) {}

void C2cLink::deskew(Cycle t) {
  if (alignedAt_ < 0 || t + deskewDelay_ < alignedAt_) alignedAt_ = t + deskewDelay_;
}

void C2cLink::checkAligned(Cycle t, const char* what) const {
  if (alignedAt_ < 0) throw Violation(fmt::format("{} on link {}, which was never deskewed", what, index_));
  if (t < alignedAt_)
    throw Violation(fmt::format("{} on link {} in cycle {} before its deskew completes in cycle {}", what, index_, t,
                                alignedAt_));
}

void C2cLink::send(const Plane& v, Cycle t, const Origin& who) {
  checkAligned(t, "send");
  const Cycle start = t + sendDelay_;
  if (start < busyUntil_)
    throw Violation(fmt::format("link {} still carries the vector sent in cycle {} until cycle {} ({} cycles a vector)",
                                index_, lastSend_, busyUntil_, occupancy_));
  busyUntil_ = start + occupancy_;
  lastSend_ = t;
  inFlight_.push_back({start + occupancy_ + wire_, v, who});
}

Plane C2cLink::receive(Cycle t) {
  checkAligned(t, "receive");
  if (inFlight_.empty())
    throw Violation(fmt::format("receives on link {} in cycle {} but nothing was sent on it", index_, t));
  if (inFlight_.front().arrival > t)
    throw Violation(fmt::format("receives on link {} in cycle {} but the next vector arrives in cycle {}", index_, t,
                                inFlight_.front().arrival));
  Plane v = inFlight_.front().data;
  inFlight_.pop_front();
  return v;
}

void C2cLink::checkDrained(const std::function<std::string(const Origin&)>& describe) const {
  if (!inFlight_.empty())
    throw Error(fmt::format("{}: the vector it sent on link {} (arriving in cycle {}) was never received",
                            describe(inFlight_.front().who), index_, inFlight_.front().arrival));
}

}  // namespace lpu
