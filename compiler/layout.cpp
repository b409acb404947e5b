#include "layout.h"

#include <fmt/format.h>

#include "isa/error.h"

namespace lpu {

Layout::Layout(const ChipConfig& c) : c_(c), words_(uint32_t(c.mem_banks_per_slice * c.mem_words_per_bank)) {
  const int m = c.mem_slices_per_hemisphere, s = c.mxm_weight_streams;
  for (int h = 0; h < 2; ++h) {
    // Planes take the outer slices while at least 8 slices stay for activations
    // on the chip as a whole; then the rest form activation groups of 4.
    int planes = 0;
    while (planes < c.mxm_planes_per_hemisphere && (planes + 1) * s <= m) ++planes;
    if (h == 1)  // keep two activation groups somewhere
      while (planes > 0 && (m - planes * s) / 4 + int(groups_.size()) < 2) --planes;
    for (int p = 0; p < planes; ++p) planes_.push_back(PlaneId{bool(h), p});
    for (int g = 0; g + 4 <= m - planes * s; g += 4) groups_.push_back({SliceRef{bool(h), uint8_t(g)}, 4});
  }
  if (groups_.size() < 2 || planes_.empty())
    throw Error(
        fmt::format("chip {}: too few MEM slices for the compiler: it needs {} slices for an MXM plane's "
                    "weights and 8 more for activations",
                    c.name, s));
  groupNext_.assign(groups_.size(), 0);
  planeNext_.assign(planes_.size(), 0);
  for (int h = 0; h < 2; ++h) {
    innerTop_[h] = words_;
    int planes = 0;
    for (const PlaneId& p : planes_) planes += p.east == bool(h);
    innerSlices_[h] = m - planes * s;
  }
}

SliceRef Layout::planeSlice(const PlaneId& p) const {
  const int m = c_.mem_slices_per_hemisphere, s = c_.mxm_weight_streams;
  return SliceRef{p.east, uint8_t(m - (p.index + 1) * s)};
}

uint32_t Layout::take(std::vector<uint32_t>& next, size_t i, uint32_t n, const std::string& what) {
  const bool planes = &next == &planeNext_;
  const uint64_t slices = planes ? uint64_t(c_.mxm_weight_streams) : 4;
  askedBytes_ += uint64_t(n) * slices * uint64_t(c_.lanes());
  const uint32_t limit = planes ? words_ : innerTop_[groups_[i].first.east];
  if (uint64_t(next[i]) + n > limit) {  // keep counting: the error says how much is needed
    if (firstMiss_.empty()) firstMiss_ = what;
    return 0;
  }
  const uint32_t a = next[i];
  next[i] += n;
  return a;
}

void Layout::checkFits(const std::string& what) const {
  if (firstMiss_.empty()) return;
  const uint64_t cap = c_.sramBytes();
  if (askedBytes_ <= cap && planeOnlyMiss_)  // gather tiles that the planes' own slices could not take
    throw Error(
        fmt::format("{} needs {} bytes of SRAM, this chip has {} (at least 2 chips): its gathered tiles (embedding, "
                    "experts) must sit on the MXM planes' own slices, {} bytes; first to overflow: {}",
                    what, askedBytes_, cap, planeBytes(), firstMiss_));
  if (askedBytes_ <= cap)  // the last bytes lost to rounding and to one hemisphere being fuller
    throw Error(
        fmt::format("{} needs {} bytes of SRAM, this chip has {} (at least 2 chips): too close to place them "
                    "all; first to overflow: {}",
                    what, askedBytes_, cap, firstMiss_));
  throw Error(fmt::format("{} needs {} bytes of SRAM, this chip has {} (at least {} chips); first to overflow: {}",
                          what, askedBytes_, cap, std::max<uint64_t>((askedBytes_ + cap - 1) / cap, 2), firstMiss_));
}

uint64_t Layout::tileBytes(uint64_t reserve) const {
  const uint64_t all = uint64_t(words_) * uint64_t(2 * c_.mem_slices_per_hemisphere) * uint64_t(c_.lanes());
  return all > reserve ? all - reserve : 0;
}

int Layout::groupFor(std::vector<int> avoid) const {
  int best = -1;
  for (int g = 0; g < int(groups_.size()); ++g) {
    bool skip = false;
    for (int a : avoid) skip |= a == g;
    if (!skip && (best < 0 || groupNext_[size_t(g)] < groupNext_[size_t(best)])) best = g;
  }
  if (best < 0) throw Error("internal: no activation group left");
  return best;
}

ActTensor Layout::addActivation(Program& prog, const std::string& name, int64_t rows, int64_t cols,
                                std::vector<int> avoid, int width) {
  ActTensor a;
  a.name = name;
  a.rows = rows;
  a.cols = cols;
  a.width = width > 0 ? width : c_.lanes();
  a.chunks = (cols + a.width - 1) / a.width;
  a.group = groupFor(std::move(avoid));
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.rows = uint32_t(a.vrows());
  t.cols = uint32_t(std::min<int64_t>(cols, c_.lanes()));
  t.slice = groups_[size_t(a.group)].first;
  t.addr = take(groupNext_, size_t(a.group), t.rows, "activation " + name);
  a.tensor = int(prog.tensors.size());
  prog.tensors.push_back(std::move(t));
  a.firstRow = newRows(a.vrows());
  activationBytes_ += uint64_t(a.vrows()) * uint64_t(c_.lanes()) * 4;
  return a;
}

int Layout::addConstant(Program& prog, Tensor t, int group) {
  t.slice = groups_[size_t(group)].first;
  t.addr = take(groupNext_, size_t(group), (t.rows + t.spread - 1) / t.spread, "constant " + t.name);
  weightBytes_ += uint64_t(t.rows) * t.cols * uint64_t(bytes(t.dtype));
  prog.tensors.push_back(std::move(t));
  return int(prog.tensors.size()) - 1;
}

uint32_t Layout::planeFree(const PlaneId& p) const {
  for (size_t i = 0; i < planes_.size(); ++i)
    if (planes_[i].east == p.east && planes_[i].index == p.index) return words_ - std::min(words_, planeNext_[i]);
  return 0;
}

uint32_t Layout::activationTop(bool east) const {
  uint32_t top = 0;
  for (size_t g = 0; g < groups_.size(); ++g)
    if (groups_[g].first.east == east) top = std::max(top, groupNext_[g]);
  return top;
}

uint64_t Layout::tileRoom(const PlaneId& p) const {
  const uint32_t top = activationTop(p.east);
  const uint64_t inner =
      innerTop_[p.east] > top ? uint64_t(innerTop_[p.east] - top) * uint64_t(innerSlices_[p.east]) : 0;
  return (uint64_t(planeFree(p)) * uint64_t(c_.mxm_weight_streams) + inner) * uint64_t(c_.lanes());
}

bool Layout::takeInner(int h, uint32_t n, uint32_t spread, Tensor& t) {
  if (innerTop_[h] < activationTop(h) + n) return false;
  innerTop_[h] -= n;
  t.slice = SliceRef{bool(h), 0};
  t.spread = spread;
  t.addr = innerTop_[h];
  return true;
}

int Layout::addSpreadRows(Program& prog, const std::string& name, uint32_t rows) {
  const int h = widerFreeBand();
  if (innerSlices_[h] <= 0) return -1;
  const uint32_t spread = uint32_t(innerSlices_[h]), n = (rows + spread - 1) / spread;
  Tensor t;
  t.name = name;
  t.dtype = DType::I8;
  t.rows = rows;
  t.cols = uint32_t(c_.lanes());
  if (!takeInner(h, n, spread, t)) return -1;
  askedBytes_ += uint64_t(n) * spread * uint64_t(c_.lanes());
  activationBytes_ += uint64_t(n) * spread * uint64_t(c_.lanes());
  prog.tensors.push_back(std::move(t));
  return int(prog.tensors.size()) - 1;
}

void Layout::addProgramText(Program& prog) {
  const size_t n = prog.queues.size();
  for (size_t i = 0; i < n; ++i)
    if (!prog.queues[i].code.empty())
      addText(prog, "text." + formatQueueId(prog.queues[i].id), uint64_t(prog.queues[i].code.size()) * 8);
}

void Layout::addText(Program& prog, const std::string& name, uint64_t bytes) {
  Tensor t;
  t.name = name;
  t.dtype = DType::I8;
  t.cols = uint32_t(c_.lanes());
  t.rows = uint32_t((bytes + uint64_t(c_.lanes()) - 1) / uint64_t(c_.lanes()));
  const std::string what = "program text " + name;
  size_t best = 0;
  for (size_t i = 1; i < planes_.size(); ++i)
    if (planeNext_[i] < planeNext_[best]) best = i;
  const uint32_t s = uint32_t(c_.mxm_weight_streams), words = (t.rows + s - 1) / s;
  const int h = widerFreeBand();  // else the free band of a hemisphere's activation slices
  const uint32_t spread = uint32_t(std::max(1, innerSlices_[h])), n = (t.rows + spread - 1) / spread;
  if (uint64_t(planeNext_[best]) + words > words_ && innerSlices_[h] > 0 && takeInner(h, n, spread, t)) {
    askedBytes_ += uint64_t(n) * spread * uint64_t(c_.lanes());
  } else {
    t.slice = planeSlice(planes_[best]);
    t.spread = s;
    t.addr = take(planeNext_, best, words, what);
  }
  programBytes_ += uint64_t(t.rows) * t.cols;
  prog.tensors.push_back(std::move(t));
}

int Layout::addTile(Program& prog, const PlaneId& p, const std::string& name, DType dt, uint32_t rows, bool cache,
                    Place where) {
  size_t pi = 0;
  while (planes_[pi].east != p.east || planes_[pi].index != p.index) ++pi;
  const uint32_t spread = uint32_t(c_.mxm_weight_streams / bytes(dt));
  Tensor t;
  t.name = name;
  t.dtype = dt;
  t.rows = rows;
  t.cols = uint32_t(c_.lanes());
  t.slice = planeSlice(p);
  t.spread = spread;
  const std::string what = (cache ? "KV cache " : "weights ") + name;
  const uint32_t words = (rows + spread - 1) / spread;
  const int h = p.east;
  const uint32_t innerSpread = uint32_t(std::min(int(spread), innerSlices_[h] / bytes(dt)));
  const bool full = uint64_t(planeNext_[pi]) + words > words_;
  const bool first = !cache && where == Place::Any && spillFirst_ > 0;  // spilled before the plane is full
  if ((where == Place::Inner || ((full || first) && where == Place::Any)) && innerSpread > 0 && firstMiss_.empty()) {
    // The plane's slices are full: from the top of the activation slices.
    const uint32_t n = (rows + innerSpread - 1) / innerSpread;
    const bool room = takeInner(h, n, innerSpread, t);
    const uint64_t b = uint64_t(n) * innerSpread * uint64_t(bytes(dt)) * uint64_t(c_.lanes());
    if (room && where == Place::Any) spilled_ += b;
    if (room && first) spillFirst_ -= std::min(spillFirst_, b);
    if (room || where == Place::Inner)
      askedBytes_ += uint64_t(n) * innerSpread * uint64_t(bytes(dt)) * uint64_t(c_.lanes());
    if (!room && where == Place::Inner)
      firstMiss_ = what;
    else if (!room)
      t.addr = take(planeNext_, pi, words, what);
  } else {
    planeOnlyMiss_ |= full && where == Place::Plane && firstMiss_.empty();
    t.addr = take(planeNext_, pi, words, what);
  }
  (cache ? cacheBytes_ : weightBytes_) += uint64_t(rows) * t.cols * uint64_t(bytes(dt));
  prog.tensors.push_back(std::move(t));
  return int(prog.tensors.size()) - 1;
}

}  // namespace lpu
