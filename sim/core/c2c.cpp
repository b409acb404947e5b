#include "c2c.h"

#include <fmt/format.h>

namespace lpu {

C2cLink::C2cLink(const ChipConfig& c, int index, Describe describe)
    : index_(index),
      sendDelay_(c.latency.c2c_send),
      occupancy_(c.c2cCyclesPerVector()),
      wire_(c.c2c_link_latency),
      deskewDelay_(c.latency.c2c_deskew),
      describe_(std::move(describe)) {}

void C2cLink::deskew(Cycle t) {
  if (alignedAt_ < 0 || t + deskewDelay_ < alignedAt_) alignedAt_ = t + deskewDelay_;
}

void C2cLink::checkAligned(Cycle t, const char* what) const {
  if (alignedAt_ < 0) throw Violation(fmt::format("{} on link {}, which was never deskewed", what, index_));
  if (t < alignedAt_)
    throw Violation(
        fmt::format("{} on link {} in cycle {} before its deskew completes in cycle {}", what, index_, t, alignedAt_));
}

void C2cLink::send(const Plane& v, Cycle t, const Origin& who) {
  checkAligned(t, "send");
  C2cLink* to = loop_ ? this : peer_;
  if (!to) throw Violation(fmt::format("send on link {}, which is not connected to another chip", index_));
  const Cycle start = t + sendDelay_;
  if (start < busyUntil_)
    throw Violation(
        fmt::format("link {} still carries the vector sent in cycle {} until cycle {} ({} cycles a vector): "
                    "two vectors on one link slot",
                    index_, lastSend_, busyUntil_, occupancy_));
  busyUntil_ = start + occupancy_;
  lastSend_ = t;
  ++sent_;
  to->inbound_.push_back({start + occupancy_ + wire_, v, who, this});
}

Plane C2cLink::receive(Cycle t) {
  checkAligned(t, "receive");
  if (inbound_.empty())
    throw Violation(fmt::format("receives on link {} in cycle {} but nothing was sent to it", index_, t));
  if (inbound_.front().arrival > t)
    throw Violation(fmt::format("receives on link {} in cycle {} but the next vector arrives in cycle {}", index_, t,
                                inbound_.front().arrival));
  Plane v = inbound_.front().data;
  inbound_.pop_front();
  return v;
}

void C2cLink::checkDrained() const {
  if (inbound_.empty()) return;
  const InFlight& f = inbound_.front();
  throw Error(fmt::format("{}: the vector it sent on link {} (arriving in cycle {}) was never received",
                          f.from->describe_(f.who), f.from->index_, f.arrival));
}

}  // namespace lpu
