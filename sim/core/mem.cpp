#include "mem.h"

#include <fmt/format.h>

#include <cstring>

namespace lpu {

MemSlice::MemSlice(const ChipConfig& c, SliceRef id, bool functional)
    : id_(id),
      lanes_(c.lanes()),
      banks_(c.mem_banks_per_slice),
      ports_(c.mem_ports_per_bank),
      writeDelay_(c.latency.mem_write),
      words_(uint32_t(c.mem_banks_per_slice * c.mem_words_per_bank)),
      functional_(functional) {
  size_t ring = 4;
  while (ring < size_t(writeDelay_) + 2) ring *= 2;
  ports_by_bank_.assign(size_t(banks_), std::vector<PortUse>(ring));
}

uint8_t* MemSlice::storage() {
  if (data_.empty()) data_.assign(size_t(words_) * size_t(lanes_), 0);
  return data_.data();
}

void MemSlice::checkAddr(uint32_t addr) const {
  if (addr >= words_)
    throw Violation(fmt::format("address {} is outside slice {} (0..{})", addr, formatSlice(id_), words_ - 1));
}

void MemSlice::usePort(uint32_t addr, Cycle c, const Origin& who, const char* what) {
  const uint32_t bank = addr % uint32_t(banks_);
  auto& ring = ports_by_bank_[bank];
  PortUse& u = ring[size_t(c) & (ring.size() - 1)];
  if (u.cycle != c) u = PortUse{c, 0, who};
  if (++u.count > ports_)
    throw Violation(fmt::format("bank {} of slice {} takes {} access{} per cycle; {} in cycle {} collides with {}",
                                bank, formatSlice(id_), ports_, ports_ == 1 ? "" : "es", what, c,
                                describe_ ? describe_(u.first) : "another access"));
}

void MemSlice::checkCommitted(uint32_t addr, Cycle t) {
  const auto it = pending_.find(addr);
  if (it == pending_.end()) return;
  if (it->second.first <= t) {
    pending_.erase(it);
    return;
  }
  throw Violation(fmt::format("reads slice {} address {} in cycle {} before the write of {} commits in cycle {}",
                              formatSlice(id_), addr, t, describe_ ? describe_(it->second.second) : "another queue",
                              it->second.first));
}

Plane MemSlice::read(uint32_t addr, Cycle t, const Origin& who) {
  checkAddr(addr);
  checkCommitted(addr, t);
  usePort(addr, t, who, "this read");
  if (!functional_) return nullptr;
  if (data_.empty()) return std::make_shared<const std::vector<uint8_t>>(size_t(lanes_), 0);
  const uint8_t* p = &data_[size_t(addr) * size_t(lanes_)];
  return std::make_shared<const std::vector<uint8_t>>(p, p + lanes_);
}

void MemSlice::write(uint32_t addr, Cycle t, const Plane& data, const Origin& who) {
  checkAddr(addr);
  const Cycle commit = t + writeDelay_;
  usePort(addr, commit, who, "this write's commit");
  pending_[addr] = {commit, who};
  if (track_) {
    if (writers_.empty()) writers_.assign(words_, kInitialContents);
    writers_[addr] = IssueRef{who.queue, who.index, who.rep};
  }
  // Storing now is exact: any read before `commit` is an error.
  if (functional_ && data) std::memcpy(storage() + size_t(addr) * size_t(lanes_), data->data(), size_t(lanes_));
}

void MemSlice::fetch(uint32_t addr, Cycle t, const Origin& who) {
  checkAddr(addr);
  usePort(addr, t, who, "this instruction fetch");
}

// A gather or scatter takes every bank's port in its cycle, so its timing
// does not depend on the addresses (which timing-only runs do not know).
void MemSlice::useAllPorts(Cycle c, const Origin& who, const char* what) {
  for (uint32_t b = 0; b < uint32_t(banks_); ++b) usePort(b, c, who, what);
}

Plane MemSlice::gather(const std::vector<uint32_t>& addrs, Cycle t, const Origin& who) {
  useAllPorts(t, who, "this gather");
  for (uint32_t a : addrs) {
    checkAddr(a);
    checkCommitted(a, t);
  }
  if (!functional_ || addrs.empty()) return nullptr;
  auto out = std::make_shared<std::vector<uint8_t>>(size_t(lanes_), 0);
  if (!data_.empty())
    for (size_t i = 0; i < addrs.size(); ++i) (*out)[i] = data_[size_t(addrs[i]) * size_t(lanes_) + i];
  return out;
}

void MemSlice::scatter(const std::vector<uint32_t>& addrs, Cycle t, const Plane& data, const Origin& who) {
  useAllPorts(t + writeDelay_, who, "this scatter's commit");
  for (uint32_t a : addrs) {
    checkAddr(a);
    pending_[a] = {t + writeDelay_, who};
    if (track_) {
      if (writers_.empty()) writers_.assign(words_, kInitialContents);
      writers_[a] = IssueRef{-2, 0, 0};  // its lanes now have several writers
    }
  }
  if (!functional_ || !data) return;
  uint8_t* d = storage();
  for (size_t i = 0; i < addrs.size(); ++i) d[size_t(addrs[i]) * size_t(lanes_) + i] = (*data)[i];
}

const IssueRef* MemSlice::writerOf(uint32_t addr) const {
  if (writers_.empty()) return &kInitialContents;
  return writers_[addr].queue == -2 ? nullptr : &writers_[addr];
}

void MemSlice::poke(uint32_t addr, const uint8_t* lanes, size_t n) {
  if (functional_) std::memcpy(storage() + size_t(addr) * size_t(lanes_), lanes, n);
}

const uint8_t* MemSlice::peek(uint32_t addr) const {
  static const std::vector<uint8_t> zeros(4096, 0);  // never-written slices read as zero
  if (!functional_) return nullptr;
  return data_.empty() ? zeros.data() : &data_[size_t(addr) * size_t(lanes_)];
}

}  // namespace lpu
