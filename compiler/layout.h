// Where everything lives in SRAM. Each hemisphere's outermost slices feed its
// MXM planes (mxm_weight_streams slices per plane: one weight row per slice
// per cycle); the slices nearer the VXM hold activations in groups of 4 (an
// fp32 vector's 4 byte planes). Weights, KV caches and constants get
// addresses once; activations get fresh rows (no reuse within a step).
// When a plane's own slices are full, its tiles go to the activation slices
// of its hemisphere, from their top address down (activations grow from the
// bottom): spread over those fewer slices, so that a load brings fewer rows
// per cycle, but no byte of SRAM is kept from the weights.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "isa/arch/chip_config.h"
#include "isa/program.h"

namespace lpu {

// An activation [rows, cols] in fp32, as vector rows of `width` columns
// each (the lane count, or a head's size for per-head rows): row r, chunk c
// is vector row r * chunks + c, column c * width + lane.
struct ActTensor {
  std::string name;
  int64_t rows = 0, cols = 0, chunks = 0;
  int width = 0;
  int tensor = -1;   // index into Program::tensors
  int group = -1;    // activation slice group
  int firstRow = 0;  // row id of vector row 0 (scheduler dependences)
  int vrows() const { return int(rows * chunks); }
};

struct PlaneId {
  bool east = false;
  int index = 0;
};

class Layout {
 public:
  explicit Layout(const ChipConfig& c);

  const std::vector<PlaneId>& planes() const { return planes_; }
  int groups() const { return int(groups_.size()); }
  SliceRef groupSlice(int g) const { return groups_[size_t(g)].first; }
  // The group whose first slice is s (a constant's or activation's), or -1.
  int groupAt(SliceRef s) const {
    for (size_t g = 0; g < groups_.size(); ++g)
      if (groups_[g].first.east == s.east && groups_[g].first.index == s.index) return int(g);
    return -1;
  }
  // Weight slices of a plane: S consecutive slices, outward from `first`.
  SliceRef planeSlice(const PlaneId& p) const;

  // New fp32 activation in the least used group other than `avoid`.
  ActTensor addActivation(Program& prog, const std::string& name, int64_t rows, int64_t cols,
                          std::vector<int> avoid = {}, int width = 0);
  // A constant tensor in an activation group (scales, biases, norm weights).
  int addConstant(Program& prog, Tensor t, int group);
  // A weight tile for a plane: `rows` rows of `lanes` elements of dtype,
  // spread over the plane's slices. Returns the tensor index.
  // Where a tile may go: the plane's own slices only (a gather's address
  // arithmetic assumes their spread), there or else the activation slices,
  // or the activation slices only.
  enum class Place { Plane, Any, Inner };
  int addTile(Program& prog, const PlaneId& p, const std::string& name, DType dt, uint32_t rows, bool cache = false,
              Place where = Place::Any);
  // int8 rows of an activation, a row a slice over the activation slices of
  // the hemisphere with the wider free band (so that consecutive rows are
  // read in one cycle from different slices), from their top address down
  // as tiles are. Returns the tensor index, or -1 if they do not fit.
  int addSpreadRows(Program& prog, const std::string& name, uint32_t rows);
  // Whether tile t lies outside its plane's own slices.
  bool inner(const Tensor& t) const { return t.slice.index < innerSlices_[t.slice.east]; }

  // Program text, after scheduling: each queue's instructions (8 bytes
  // each) as int8 rows "text.<queue>" where room is left, the plane with
  // the most free words first, else the free band of a hemisphere's
  // activation slices (between the activations and the tiles above them).
  // Fetching them is not modelled (the ICU's queues are filled before the
  // run). Then checkFits() says whether it all fits.
  void addProgramText(Program& prog);
  uint64_t programBytes() const { return programBytes_; }

  void setRowBase(int base) { nextRow_ = base; }
  int newRows(int n) {
    const int r = nextRow_;
    nextRow_ += n;
    return r;
  }
  uint64_t weightBytes() const { return weightBytes_; }
  uint64_t activationBytes() const { return activationBytes_; }
  uint64_t cacheBytes() const { return cacheBytes_; }
  int groupFor(std::vector<int> avoid) const;
  // Allocation goes on past a full region, counting; this throws
  // "<what> needs N bytes of SRAM, this chip has M (at least K chips)" if
  // anything did not fit.
  void checkFits(const std::string& what) const;
  bool overflowed() const { return !firstMiss_.empty(); }
  // Bytes of weight tiles that went to the activation slices because their
  // plane's were full; with setSpillFirst(n), the first weight tiles that
  // may go anywhere take the activation slices until n bytes have (so that
  // what spills is the first layers', not the last op's: compile.cpp).
  uint64_t spilledBytes() const { return spilled_; }
  void setSpillFirst(uint64_t n) { spillFirst_ = n; }
  // Addresses (words of each of its slices) still free on an MXM plane,
  // and those a full weight tile takes there.
  uint32_t planeFree(const PlaneId& p) const;
  // Bytes still free for tiles of plane p's hemisphere (its own slices and
  // the activation slices' top).
  uint64_t tileRoom(const PlaneId& p) const;
  uint32_t tileWords() const { return uint32_t((c_.lanes() + c_.mxm_weight_streams - 1) / c_.mxm_weight_streams); }
  // Bytes of all MXM planes' slices (weights and KV caches).
  uint64_t planeBytes() const {
    return uint64_t(words_) * uint64_t(c_.mxm_weight_streams) * planes_.size() * uint64_t(c_.lanes());
  }
  // Bytes that may hold weights and KV caches: all of SRAM but what the
  // activations of a step take (`reserve` bytes, an estimate).
  uint64_t tileBytes(uint64_t reserve) const;

 private:
  uint32_t take(std::vector<uint32_t>& next, size_t i, uint32_t n, const std::string& what);
  void addText(Program& prog, const std::string& name, uint64_t bytes);
  // t at the top of hemisphere h's activation slices, n words over `spread`
  // of them, below the tiles already there; false if activations reach that high.
  bool takeInner(int h, uint32_t n, uint32_t spread, Tensor& t);
  uint32_t activationTop(bool east) const;  // the highest address activations took in a hemisphere
  // The hemisphere with the wider free band between activations and the tiles above them.
  int widerFreeBand() const {
    return innerTop_[1] - std::min(innerTop_[1], activationTop(true)) >
           innerTop_[0] - std::min(innerTop_[0], activationTop(false));
  }
  const ChipConfig& c_;
  std::vector<PlaneId> planes_;
  std::vector<std::pair<SliceRef, int>> groups_;  // first slice, planes per group (4)
  std::vector<uint32_t> groupNext_, planeNext_;
  uint32_t innerTop_[2];     // per hemisphere: the lowest address tiles took in the activation slices
  int innerSlices_[2] = {};  // per hemisphere: activation slices (from slice 0)
  uint32_t words_;
  int nextRow_ = 0;
  uint64_t weightBytes_ = 0, activationBytes_ = 0, cacheBytes_ = 0, programBytes_ = 0;
  uint64_t askedBytes_ = 0;     // bytes asked for (with what did not fit)
  std::string firstMiss_;       // the first allocation that did not fit
  bool planeOnlyMiss_ = false;  // it was a tile that must sit on its plane's own slices
  uint64_t spilled_ = 0, spillFirst_ = 0;
};

}  // namespace lpu
