#include "reservations.h"

#include "isa/error.h"

namespace lpu {

int CycleSet::count(Cycle c) const {
  const size_t page = size_t(c / kPage);
  if (c < 0 || page >= pages_.size() || pages_[page].empty()) return 0;
  return pages_[page][size_t(c % kPage)];
}

bool CycleSet::has(Cycle c) const { return count(c) > 0; }

Cycle CycleSet::nextFree(Cycle c) const {
  if (c < 0) return c;
  for (size_t page = size_t(c / kPage); page < pages_.size(); ++page, c = Cycle(page) * kPage) {
    if (pages_[page].empty()) return c;
    for (size_t i = size_t(c % kPage); i < size_t(kPage); ++i)
      if (!pages_[page][i]) return Cycle(page) * kPage + Cycle(i);
  }
  return c;
}

void CycleSet::add(Cycle c) {
  const size_t page = size_t(c / kPage);
  if (page >= pages_.size()) pages_.resize(page + 1);
  if (pages_[page].empty()) pages_[page].assign(kPage, 0);
  ++pages_[page][size_t(c % kPage)];
}

const uint32_t* StreamTable::head(bool east, int stream, int64_t slot) const {
  const int64_t at = slot + kBias;
  if (at < 0) return nullptr;
  const auto& pages = heads_[size_t(east) * size_t(streams_) + size_t(stream)];
  const size_t page = size_t(at / kPage);
  if (page >= pages.size() || pages[page].empty()) return nullptr;
  return &pages[page][size_t(at % kPage)];
}

bool StreamTable::free(bool east, int stream, int64_t slot, int lo, int hi) const {
  const uint32_t* h = head(east, stream, slot);
  for (uint32_t i = h ? *h : 0; i != 0; i = pool_[i].next)
    if (pool_[i].lo <= hi && lo <= pool_[i].hi) return false;
  return true;
}

void StreamTable::take(bool east, int stream, int64_t slot, int lo, int hi) {
  const int64_t at = slot + kBias;
  if (at < 0) throw Error("internal: a stream slot before the schedule's start");
  auto& pages = heads_[size_t(east) * size_t(streams_) + size_t(stream)];
  const size_t page = size_t(at / kPage);
  if (page >= pages.size()) pages.resize(page + 1);
  if (pages[page].empty()) pages[page].assign(size_t(kPage), 0);
  uint32_t& h = pages[page][size_t(at % kPage)];
  pool_.push_back({lo, hi, h});
  h = uint32_t(pool_.size() - 1);
}

}  // namespace lpu
