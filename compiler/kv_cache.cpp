// The KV cache on the chip, as fp16 tiles on the MXM plane of its kv head:
// keys transposed (rows = head dims, lanes = positions), values as they
// are (rows = positions), and how a step's new keys and values reach them.
// The keys of a prompt chunk's whole superlanes of 16 positions go through
// the SXM's transposer (appendKeysTransposed); any other key is scattered
// into its lane of each dim's word; a new value is written as a row.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <optional>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

// An int32 constant row, made once per name (placed outside group `avoid`,
// or in group `in`).
int i32Row(Lowerer& L, const std::string& name, const std::vector<double>& v, int avoid, int in = -1) {
  if (const int t = L.constantNamed(name); t >= 0) return t;
  std::vector<int> out{avoid};
  if (in >= 0) {
    out.clear();
    for (int g = 0; g < L.layout().groups(); ++g)
      if (g != in) out.push_back(g);
  }
  const int t = constRow(L, name, v, out, DType::I32);
  L.nameConstant(name, t);
  return t;
}

}  // namespace

Lowerer::Cache& Lowerer::cache(const std::string& name, bool keys, int kvHeads, int d) {
  if (auto it = caches_.find(name); it != caches_.end()) {
    if (it->second.keys != keys) throw Error(fmt::format("cache {} is used both as keys and as values", name));
    return it->second;
  }
  const GTensor& gt = g.tensor(name);
  if (gt.shape.size() != 2 || gt.shape[1] != int64_t(kvHeads) * d)
    throw Error(fmt::format("cache {} must be [context, {}]", name, kvHeads * d));
  const int lanes = c.lanes(), per = keys ? lanes : lanes / 2;
  if (d > lanes / 2)
    throw Error(fmt::format("cache {}: heads of {} exceed an fp16 plane's {} rows", name, d, lanes / 2));
  Cache k;
  k.keys = keys;
  k.context = gt.shape[0];
  k.kvHeads = kvHeads;
  k.headDim = d;
  k.tilesPerHead = int((k.context + per - 1) / per);
  std::vector<PlaneId> planes = layout_.planes();
  std::stable_sort(planes.begin(), planes.end(),
                   [&](const PlaneId& a, const PlaneId& b) { return layout_.planeFree(a) > layout_.planeFree(b); });
  // Value tiles hold lanes / d kv heads side by side once a head needs more
  // than one (the mix then masks each head's lanes out of its pack's result).
  const int packs = keys || k.tilesPerHead == 1 ? 1 : lanes / d;
  std::vector<float> init;
  if (o.values) init = valuesOf(gt);
  int owned = 0, packLead = -1;  // heads this chip keeps; the first head of the pack being filled
  for (int hd = 0; hd < kvHeads; ++hd) {
    if (!ownsKvHead(hd)) {  // tensor parallelism: another chip keeps this head
      k.tiles.insert(k.tiles.end(), size_t(k.tilesPerHead), -1);
      k.firstRow.insert(k.firstRow.end(), size_t(k.tilesPerHead), -1);
      k.laneOff.push_back(0);
      k.leader.push_back(-1);
      k.planeOf.push_back(PlaneId{});
      continue;
    }
    const int slot = owned % packs;
    ++owned;
    if (slot > 0) {  // beside the pack's first head (with tensor parallelism, not head hd - 1: another chip's)
      const int lead = packLead;
      k.leader.push_back(lead);
      k.laneOff.push_back(slot * d);
      k.planeOf.push_back(k.planeOf[size_t(lead)]);
      for (int j = 0; j < k.tilesPerHead; ++j) {
        k.tiles.push_back(k.tiles[size_t(lead * k.tilesPerHead + j)]);
        k.firstRow.push_back(k.firstRow[size_t(lead * k.tilesPerHead + j)]);
      }
    } else {
      const PlaneId plane = planes[size_t((owned - 1) / packs) % planes.size()];
      packLead = hd;
      k.leader.push_back(hd);
      k.laneOff.push_back(0);
      k.planeOf.push_back(plane);
      for (int j = 0; j < k.tilesPerHead; ++j) {
        // (a value tile past the last position is cut short)
        const uint32_t rows = uint32_t(keys ? d : std::min<int64_t>(per, k.context - int64_t(j) * per));
        const int t = layout_.addTile(p, plane, fmt::format("{}.{}{}_{}", name, keys ? "kT" : "v", hd, j), DType::F16,
                                      rows, true);
        k.tiles.push_back(t);
        k.firstRow.push_back(layout_.newRows(int(rows)));
        if (keys && layout_.inner(p.tensors[size_t(t)])) scratch(plane, true);  // the scatter's other lanes go there
        if (!init.empty()) {
          p.tensors[size_t(t)].init = Tensor::Init::Data;
          p.tensors[size_t(t)].data.assign(size_t(rows) * size_t(lanes) * 2, 0);
        }
      }
    }
    if (init.empty()) continue;
    const int off = k.laneOff.back();
    for (int j = 0; j < k.tilesPerHead; ++j) {
      Tensor& tt = p.tensors[size_t(k.tiles[size_t(hd * k.tilesPerHead + j)])];
      for (uint32_t r = 0; r < tt.rows; ++r)
        for (int l = 0; l < (keys ? lanes : d); ++l) {
          const int64_t pos = keys ? int64_t(j) * lanes + l : int64_t(j) * per + r;
          const int dim = keys ? int(r) : l;
          if (pos < k.context && dim < d)
            storeElement(DType::F16, init[size_t(pos * kvHeads * d + hd * d + dim)],
                         &tt.data[(size_t(r) * size_t(lanes) + size_t(off + l)) * 2]);
        }
    }
  }
  return caches_[name] = k;
}

int Lowerer::scratch(const PlaneId& plane, bool inner) {
  const std::string name = inner ? fmt::format("scratch.{}.inner", plane.east ? "E" : "W")
                                 : fmt::format("scratch.{}{}", plane.east ? "E" : "W", plane.index);
  if (auto it = constants_.find(name); it != constants_.end()) return it->second;
  return constants_[name] = layout_.addTile(p, plane, name, DType::F16, uint32_t(c.mxm_weight_streams / 2), true,
                                            inner ? Layout::Place::Inner : Layout::Place::Plane);
}

namespace {

// Whether keys of head size d can go through the SXM's transposer: whole
// superlanes of dims, a key's 2 d / ls byte rows fit the Latin square of
// appendKeysTransposed, and a plane has a slice for each of a transpose's
// ls streams (half of them scattered, half into the scratch word).
bool keysTransposable(const ChipConfig& c, int d) {
  const int ls = c.lanes_per_superlane;
  return d % ls == 0 && 2 * (d / ls) <= ls && c.mxm_weight_streams == ls;
}

// The keys of ls positions pos0.. (pos0 a multiple of ls: one superlane S of
// a key tile's lanes) through the SXM's transposer: 2 d / ls tasks of ls
// dims each, not d tasks a key. Each key is converted to fp16 and rotated
// Q = d / ls times, so that dims q ls.. land in superlane S, and its byte
// planes staged as int8 rows on its plane's slices, key l's byte row kk at
// row spread kk + (l + kk) % ls: the 2Q rows of one key, and the ls keys of
// one byte row, each lie in distinct slices (one write, one read a slice a
// cycle). Then per quarter q and byte plane, a TRANSPOSE of the ls staged
// rows puts dim q ls + j of the ls positions on stream j, in their lanes of
// superlane S, scattered into row q ls + j of the tile (the other lanes to
// the plane's scratch word): a transpose for each set of those rows at one
// address, which lie in distinct slices (rows of one address of an fp16 tile
// on its plane: 8). A scatter's address map is made on the VXM and turned
// round at the SXM by a rotation of 0, so that it flows inwards with the data.
void appendKeysTransposed(Lowerer& L, const GOp& op, const Lowerer::Cache& k, const ActTensor& x, int hd, int64_t pos0,
                          int64_t firstPos, int& turn) {
  const ChipConfig& c = L.c;
  const int d = k.headDim, kv = k.kvHeads, ls = c.lanes_per_superlane, lanes = c.lanes(), v = c.vxmPosition();
  const int Q = d / ls, spread = c.mxm_weight_streams, queues = c.sxm_queues_per_hemisphere;
  const Cycle alu = c.latency.vxm_alu;
  const PlaneId plane = k.plane(hd);
  const int j = int(pos0 / lanes), S = int(pos0 % lanes) / ls, slot = hd * k.tilesPerHead + j;
  const int tile = k.tiles[size_t(slot)];
  const uint32_t stageRows = uint32_t(spread * 2 * Q);
  const int stage = L.layout_.addTile(L.p, plane, fmt::format("{}.stage{}_{}", op.name, hd, pos0 / ls), DType::I8,
                                      stageRows, true, Layout::Place::Plane);
  const int stageRow = L.layout_.newRows(int(stageRows));
  auto cell = [&](int l, int kk) { return uint32_t(spread * kk + (l + kk) % ls); };
  std::vector<double> inS(size_t(lanes), 0.0);
  std::fill(inS.begin() + S * ls, inS.begin() + (S + 1) * ls, 1.0);
  const int mask = i32Row(L, fmt::format("const.superlane{}", S), inS, x.group);
  const int scr = L.scratch(plane, false);
  const uint32_t scratchAddr = L.p.tensors[size_t(scr)].addr;
  const Tensor& tt = L.p.tensors[size_t(tile)];  // after the allocations above (they may move the vector)

  for (int l = 0; l < ls; ++l) {
    const int64_t t = pos0 + l - firstPos;
    const int row = int(t * kv + hd);
    TaskBuilder b = L.builder(fmt::format("{}.k{}[{}].stage", op.name, hd, t));
    auto h =
        b.vxm(Opcode::CVT, DType::F16, 0, b.read(x.tensor, uint32_t(row), v, 0, x.firstRow + row), {}, 0, DType::F32);
    for (int q = 0; q < Q; ++q) {
      auto r = rotate(L, b, h, (S - q) * ls, (turn + q) % queues, DType::F16, plane.east);
      for (int bb = 0; bb < 2; ++bb) {
        const uint32_t cr = cell(l, 2 * q + bb);
        b.writePlane(stage, cr, 0, r, stageRow + int(cr), bb);
      }
    }
    turn = (turn + Q) % queues;
    L.addTask(b);
  }

  const int sx = c.position(QueueId{Unit::SXM, plane.east, 0, 0});
  const Cycle ready = c.latency.sxm_transpose, rotAt = ready - c.latency.sxm_shift;
  const Cycle addAt = rotAt - Cycle(std::abs(v - sx)) * c.stream_hop - alu, mulAt = addAt - alu;
  for (int q = 0; q < Q; ++q)
    for (int bb = 0; bb < 2; ++bb)
      for (int j0 = 0; j0 < ls;) {  // the rows at one address (in distinct slices): a transpose each
        const uint32_t addr = tt.addrOf(uint32_t(q * ls + j0));
        int j1 = j0;
        while (j1 < ls && tt.addrOf(uint32_t(q * ls + j1)) == addr) ++j1;
        TaskBuilder b = L.builder(fmt::format("{}.k{}.transpose{}.{}.{}.{}", op.name, hd, pos0 / ls, q, bb, j0));
        std::vector<TaskBuilder::PlaneRead> reads;
        for (int l = 0; l < ls; ++l) {
          const uint32_t cr = cell(l, 2 * q + bb);
          reads.push_back({stage, cr, 0, stageRow + int(cr)});
        }
        Instr tr;
        tr.op = Opcode::TRANSPOSE;
        tr.dt = DType::I8;
        auto cols = b.issue(0, QueueId{Unit::SXM, plane.east, turn % queues, 0}, tr, {b.readPlanes(reads, sx, 0)});
        auto m = b.vxm(Opcode::MULI, DType::I32, mulAt, b.read(mask, 0, v, mulAt, -1), {},
                       uint32_t(int32_t(addr) - int32_t(scratchAddr)));
        m = b.vxm(Opcode::ADDI, DType::I32, addAt, m, {}, scratchAddr);  // at the SXM in cycle rotAt
        auto map = rotate(L, b, m, 0, turn + 1, DType::I32, plane.east);
        for (int jj = j0; jj < j1; ++jj) {
          const uint32_t row = uint32_t(q * ls + jj);
          b.scatter(tile, row, bb, cols, map, k.firstRow[size_t(slot)] + int(row), jj);
        }
        // The transpose's other streams (rows another transpose scatters) must be taken too:
        // into the scratch word of the slices of the other byte plane, free in this task.
        for (int jj = 0, n = 0; jj < ls; ++jj)
          if (jj < j0 || jj >= j1) b.writePlane(scr, uint32_t(n++), 1 - bb, cols, -1, jj);
        turn = (turn + 2) % queues;
        L.addTask(b);
        j0 = j1;
      }
}

}  // namespace

void lowerKvAppend(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const int d = int(op.attrs.head_dim), kv = int(op.attrs.kv_heads);
  const bool keys = op.attrs.keys;
  Lowerer::Cache& k = L.cache(op.inputs[0], keys, kv, d);
  const ActTensor& src = L.act(op.inputs[1]);
  const int v = c.vxmPosition(), lanes = c.lanes();
  const Cycle alu = c.latency.vxm_alu;
  // Keys of whole superlanes of positions (a prompt chunk's) go through the
  // transposer when every plane has room for their staging rows.
  const int ls = c.lanes_per_superlane;
  const int64_t firstPos = k.context - src.rows;
  const int64_t g0 = (firstPos + ls - 1) / ls, g1 = k.context / ls;  // whole groups g0 .. g1 - 1
  bool viaTranspose = keys && keysTransposable(c, d) && g1 > g0;
  if (viaTranspose) {
    std::vector<std::pair<PlaneId, uint32_t>> need;  // staging words a plane
    for (int hd = 0; hd < kv; ++hd) {
      if (!L.ownsKvHead(hd)) continue;
      for (int j = int(g0 * ls / lanes); j <= int((g1 * ls - 1) / lanes); ++j)
        if (L.layout_.inner(L.p.tensors[size_t(k.tiles[size_t(hd * k.tilesPerHead + j)])])) viaTranspose = false;
      auto it = std::find_if(need.begin(), need.end(), [&](const auto& n) {
        return n.first.east == k.plane(hd).east && n.first.index == k.plane(hd).index;
      });
      if (it == need.end()) it = need.insert(need.end(), {k.plane(hd), 0});
      it->second += uint32_t(g1 - g0) * uint32_t(2 * d / ls);
    }
    for (const auto& [plane, words] : need) viaTranspose = viaTranspose && L.layout_.planeFree(plane) >= words + 1;
  }
  auto transposed = [&](int64_t pos) { return viaTranspose && pos / ls >= g0 && pos / ls < g1; };
  // Keys scattered one by one are read from the rows as they are (head hd's dims at lanes
  // hd * d % lanes of chunk hd * d / lanes), not split into rows of a head first; on one chip
  // (with tensor parallelism a chip's heads come from the split).
  const bool direct = keys && !viaTranspose && L.o.tp <= 1 && src.width == lanes && lanes % d == 0;
  const ActTensor& x = direct ? src : L.headRows(op.inputs[1], d);
  for (int64_t t = 0; t < x.rows; ++t) {
    const int64_t pos = k.context - x.rows + t;
    for (int hd = 0; hd < kv; ++hd) {
      if (!L.ownsKvHead(hd)) continue;
      const int row = int(t * kv + hd);
      if (!keys) {                                 // a value row: fp16, into row pos % (lanes/2) of its tile
        if (k.leader[size_t(hd)] != hd) continue;  // written with its pack's first head
        const int slot = hd * k.tilesPerHead + int(pos / (lanes / 2));
        const int tile = k.tiles[size_t(slot)];
        const uint32_t r = uint32_t(pos % (lanes / 2));
        const std::vector<int> members = k.members(hd);
        TaskBuilder b = L.builder(fmt::format("{}.v{}[{}]", op.name, hd, t));
        Val h;
        if (members.size() == 1) {
          h = b.read(x.tensor, uint32_t(row), v, 0, x.firstRow + row);
        } else {  // the pack's heads side by side: head m rotated to its lanes (zero elsewhere), summed
          for (size_t m = 0; m < members.size(); ++m) {
            const int mr = int(t * kv + members[m]);
            auto xm = rotate(L, b, b.read(x.tensor, uint32_t(mr), v, Cycle(m) * alu, x.firstRow + mr),
                             k.laneOff[size_t(members[m])], int(m));
            h = m == 0 ? b.vxm(Opcode::MOV, DType::F32, b.availAt(xm, v), xm)
                       : b.vxm(Opcode::ADD, DType::F32, b.availAt(xm, v), h, xm);
          }
        }
        h = b.vxm(Opcode::CVT, DType::F16, b.availAt(h, v), h, {}, 0, DType::F32);
        b.write(tile, r, h, k.firstRow[size_t(slot)] + int(r));
        L.addTask(b);
        continue;
      }
      if (transposed(pos)) continue;  // written with its group of positions below
      // A key: dim i goes to lane pos % lanes of row i of its tile. Rotate the
      // key so that lane i lands there, and scatter that lane; every other
      // lane goes to the plane's scratch word.
      const int j = int(pos / lanes), lane = int(pos % lanes);
      const int tile = k.tiles[size_t(hd * k.tilesPerHead + j)];
      const int scr = L.scratch(k.plane(hd), L.layout_.inner(L.p.tensors[size_t(tile)]));
      const uint32_t scratchAddr = L.p.tensors[size_t(scr)].addr;
      std::vector<double> oneHot(size_t(lanes), 0.0);
      oneHot[size_t(lane)] = 1.0;
      // A copy of the one-hot row in each activation group but x's, read in turn: the 2 d maps
      // of every head would otherwise all read one row, one read a cycle.
      std::vector<int> oh;
      for (int g = 0; g < L.layout_.groups(); ++g)
        if (g != x.group) oh.push_back(i32Row(L, fmt::format("const.onehot{}.g{}", lane, g), oneHot, -1, g));
      const Tensor& tt = L.p.tensors[size_t(tile)];  // after the allocations above (they may move the vector)
      // A task per 8 dims (fewer where two of its instructions would meet on a queue): the key
      // read and converted once, rotated on 8 SXM queues at once.
      auto dims = [&](int i0, int n) {
        TaskBuilder b = L.builder(fmt::format("{}.k{}[{}].{}", op.name, hd, t, i0));
        const int xr = direct ? int(t * x.chunks + hd * d / lanes) : row, off = direct ? hd * d % lanes : 0;
        auto h =
            b.vxm(Opcode::CVT, DType::F16, 0, b.read(x.tensor, uint32_t(xr), v, 0, x.firstRow + xr), {}, 0, DType::F32);
        const int turn = L.oneHotTurn;
        for (int i = i0; i < i0 + n; ++i) {
          auto rotated = rotate(L, b, h, lane - off - i, i, DType::F16, k.plane(hd).east);  // the plane's side
          for (int plane = 0; plane < 2; ++plane) {
            const SliceRef s = tt.sliceOf(uint32_t(i), plane);
            const Cycle there = b.availAt(rotated, c.memPosition(s));
            // map = onehot * (target - scratch) + scratch, timed to meet the data there
            const Cycle m = there - Cycle(std::abs(v - c.memPosition(s))) * c.stream_hop - 2 * alu;
            const int ohRow = oh[size_t(L.oneHotTurn++) % oh.size()];
            auto map = b.vxm(Opcode::MULI, DType::I32, m, b.read(ohRow, 0, v, m, -1), {},
                             uint32_t(int32_t(tt.addrOf(uint32_t(i))) - int32_t(scratchAddr)));
            map = b.vxm(Opcode::ADDI, DType::I32, m + alu, map, {}, scratchAddr);
            b.scatter(tile, uint32_t(i), plane, rotated, map, k.firstRow[size_t(hd * k.tilesPerHead + j)] + i);
          }
        }
        if (b.usesAQueueTwice()) L.oneHotTurn = turn;
        return b;
      };
      const int per = std::max(1, std::min(8, c.sxm_queues_per_hemisphere));
      for (int i0 = 0; i0 < d;) {
        int n = std::min(per, d - i0);
        std::optional<TaskBuilder> b(dims(i0, n));
        while (n > 1 && b->usesAQueueTwice()) b.emplace(dims(i0, n /= 2));
        L.addTask(*b);
        i0 += n;
      }
    }
  }
  if (!viaTranspose) return;
  int turn = 0;
  for (int hd = 0; hd < kv; ++hd)
    if (L.ownsKvHead(hd))
      for (int64_t g = g0; g < g1; ++g) appendKeysTransposed(L, op, k, x, hd, g * ls, firstPos, turn);
}

}  // namespace lpu
