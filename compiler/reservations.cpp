#include "reservations.h"

namespace lpu {

int CycleSet::count(Cycle c) const {
  const size_t page = size_t(c / kPage);
  if (c < 0 || page >= pages_.size() || pages_[page].empty()) return 0;
  return pages_[page][size_t(c % kPage)];
}

bool CycleSet::has(Cycle c) const { return count(c) > 0; }

void CycleSet::add(Cycle c) {
  const size_t page = size_t(c / kPage);
  if (page >= pages_.size()) pages_.resize(page + 1);
  if (pages_[page].empty()) pages_[page].assign(kPage, 0);
  ++pages_[page][size_t(c % kPage)];
}

bool StreamTable::free(bool east, int stream, int64_t slot, int lo, int hi) const {
  const auto& m = slots_[size_t(east) * size_t(streams_) + size_t(stream)];
  const auto it = m.find(slot);
  if (it == m.end()) return true;
  for (const Interval& i : it->second)
    if (i.lo <= hi && lo <= i.hi) return false;
  return true;
}

void StreamTable::take(bool east, int stream, int64_t slot, int lo, int hi) {
  slots_[size_t(east) * size_t(streams_) + size_t(stream)][slot].push_back({lo, hi});
}

}  // namespace lpu
