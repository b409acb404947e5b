// Attention on the chip. q, k, v come out of dense matmuls; RoPE runs on
// their rows of whole heads, and keys and values are split into per-head
// rows (SXM rotations), queries rotated down to lane 0 on their way to the
// plane. The KV cache lives as fp16 tiles on the MXM plane of its kv head:
// keys transposed (rows = head dims, lanes = positions), so that scores are
// an MXM pass of q over a key tile, and values as they are (rows =
// positions), so that the mix is a pass of the softmax row over a value
// tile. The keys of a prompt chunk's whole superlanes of 16 positions go
// through the SXM's transposer (appendKeysTransposed); any other key is
// scattered into its lane of each dim's word; a new value is written as a
// row. Positions are static: the step's T tokens sit at the last T
// positions of the context.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"
#include "mxm_job.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

int groupOf(const Lowerer& L, int tensor) {
  const SliceRef s = L.p.tensors[size_t(tensor)].slice;
  for (int g = 0; g < L.layout_.groups(); ++g)
    if (L.layout_.groupSlice(g) == s) return g;
  return -1;
}

// Rotates v on an SXM: the one ahead of v if it already flows one way,
// else the one on side `east`.
Val rotate(Lowerer& L, TaskBuilder& b, Val v, int amount, int queue, DType dt = DType::F32, bool east = false) {
  const ChipConfig& c = L.c;
  if (b.direction(v) != 0) east = b.direction(v) > 0;
  const QueueId q{Unit::SXM, east, queue % c.sxm_queues_per_hemisphere, 0};
  Instr rot;
  rot.op = Opcode::ROT;
  rot.dt = dt;
  rot.imm = uint32_t(((amount % c.lanes()) + c.lanes()) % c.lanes());
  return b.issue(b.availAt(v, c.position(q)), q, rot, {v});
}

std::vector<double> inverseFrequencies(const GOp& op, int dim) {
  const double theta = op.attrs.theta;
  std::vector<double> inv(size_t(dim / 2));
  for (int i = 0; i < dim / 2; ++i) inv[size_t(i)] = std::pow(theta, -2.0 * i / dim);
  const nlohmann::json& sc = op.attrs.scaling;
  if (sc.is_object()) {
    const std::string type = sc.value("rope_type", sc.value("type", std::string("default")));
    const double factor = sc.value("factor", 1.0);
    if (type == "linear") {
      for (double& f : inv) f /= factor;
    } else if (type == "llama3") {  // the Llama 3.1 rule: long wavelengths slowed, short kept
      const double lo = sc.value("low_freq_factor", 1.0), hi = sc.value("high_freq_factor", 4.0);
      const double old = sc.value("original_max_position_embeddings", 8192.0);
      for (double& f : inv) {
        const double wavelen = 2 * 3.14159265358979323846 / f;
        if (wavelen > old / lo)
          f /= factor;
        else if (wavelen >= old / hi) {
          const double smooth = (old / wavelen - lo) / (hi - lo);
          f = (1 - smooth) * f / factor + smooth * f;
        }
      }
    }
  }
  return inv;
}

// An int32 constant row, made once per name (placed outside group `avoid`).
int i32Row(Lowerer& L, const std::string& name, const std::vector<double>& v, int avoid) {
  if (const int t = L.constantNamed(name); t >= 0) return t;
  Tensor ot;
  ot.name = name;
  ot.dtype = DType::I32;
  ot.cols = uint32_t(L.c.lanes());
  ot.init = Tensor::Init::Data;
  ot.data = encode(v, DType::I32);
  const int t = L.layout_.addConstant(L.p, ot, L.layout_.groupFor({avoid}));
  L.nameConstant(name, t);
  return t;
}

}  // namespace

Lowerer::PlaneState& Lowerer::planeState(const PlaneId& id) {
  for (PlaneState& s : planes_)
    if (s.id.east == id.east && s.id.index == id.index) return s;
  throw Error("internal: no such plane");
}

const ActTensor& Lowerer::headRows(const std::string& name, int d) {
  const ActTensor& a = act(name);
  if (a.width == d) return a;
  if (auto it = heads_.find(name); it != heads_.end()) return it->second;
  const int lanes = c.lanes(), heads = int(a.cols / d), v = c.vxmPosition();
  ActTensor& h = heads_[name] = layout_.addActivation(p, name + ".heads", a.rows, a.cols, {a.group}, d);
  h.firstRow = layout_.newRows(h.vrows());
  const Cycle alu = c.latency.vxm_alu;
  for (int64_t t = 0; t < a.rows; ++t)
    for (int hd = 0; hd < heads; ++hd) {
      const int start = hd * d, j0 = start / lanes, off = start % lanes, row = int(t * a.chunks + j0);
      TaskBuilder b = builder(fmt::format("{}.head{}[{}]", name, hd, t));
      const int out = int(t * heads + hd);
      Val y;
      if (off + d <= lanes) {  // within one chunk: rotate it down, keep d lanes
        auto x = b.read(a.tensor, uint32_t(row), v, 0, a.firstRow + row);
        Cycle at = 0;
        if (off) {
          x = rotate(*this, b, x, -off, hd);
          at = b.availAt(x, v);
        }
        y = b.vxm(Opcode::MUL, DType::F32, at, x, b.read(laneMask(d, false, {a.group, h.group}), 0, v, at, -1));
      } else {  // across two chunks: the tail of j0 and the head of j0 + 1
        const int first = lanes - off;
        auto x1 = rotate(*this, b, b.read(a.tensor, uint32_t(row + 1), v, 0, a.firstRow + row + 1), first, hd);
        auto x0 = rotate(*this, b, b.read(a.tensor, uint32_t(row), v, alu, a.firstRow + row), -off, hd + 1);
        const Cycle at = b.availAt(x1, v);  // x0 arrives alu later
        const int lo = laneRange(first, d, {a.group, h.group}),
                  hi = laneMask(first, false, {a.group, h.group, groupOf(*this, lo)});
        auto p1 = b.vxm(Opcode::MUL, DType::F32, at, x1, b.read(lo, 0, v, at, -1));
        auto p0 = b.vxm(Opcode::MUL, DType::F32, at + alu, x0, b.read(hi, 0, v, at + alu, -1));
        y = b.vxm(Opcode::ADD, DType::F32, at + 2 * alu, b.vxm(Opcode::MOV, DType::F32, at + alu, p1), p0);
      }
      b.write(h.tensor, uint32_t(out), y, h.firstRow + out);
      addTask(b);
    }
  return h;
}

int Lowerer::laneRange(int lo, int hi, const std::vector<int>& avoid) {
  const int group = layout_.groupFor(avoid);
  const std::string name = fmt::format("const.range{}_{}.g{}", lo, hi, group);
  if (auto it = constants_.find(name); it != constants_.end()) return it->second;
  std::vector<double> v(size_t(c.lanes()), 0.0);
  for (int l = lo; l < hi; ++l) v[size_t(l)] = 1.0;
  return constants_[name] = constRow(*this, name, v, {});
}

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

// RoPE's three constant rows for position pos over a row of `lanes` lanes
// holding whole heads of d: cos, -sin (first halves), sin (second halves),
// zero in lanes [valid, lanes). Made once per position, rope and the group
// of the rows they multiply (which they avoid, and each other's).
std::array<int, 3> ropeRows(Lowerer& L, const GOp& op, const std::vector<double>& inv, int64_t pos, int d, int valid,
                            int avoid) {
  const std::string key = fmt::format("rope{}_{}_{:x}.p{}.v{}.g{}", d, op.attrs.theta,
                                      std::hash<std::string>{}(op.attrs.scaling.dump()), pos, valid, avoid);
  if (const int t = L.constantNamed(key + ".cos"); t >= 0)
    return {t, L.constantNamed(key + ".sinA"), L.constantNamed(key + ".sinB")};
  const int lanes = L.c.lanes();
  std::vector<double> cs(size_t(lanes), 0.0), s1(size_t(lanes), 0.0), s2(size_t(lanes), 0.0);
  for (int l = 0; l < valid; ++l) {
    const int i = l % d;
    const double a = double(pos) * inv[size_t(i % (d / 2))];
    cs[size_t(l)] = std::cos(a);
    (i < d / 2 ? s1 : s2)[size_t(l)] = i < d / 2 ? -std::sin(a) : std::sin(a);
  }
  const int ct = constRow(L, key + ".cos", cs, {avoid});
  const int st1 = constRow(L, key + ".sinA", s1, {avoid, groupOf(L, ct)});
  const int st2 = constRow(L, key + ".sinB", s2, {avoid, groupOf(L, ct), groupOf(L, st1)});
  L.nameConstant(key + ".cos", ct);
  L.nameConstant(key + ".sinA", st1);
  L.nameConstant(key + ".sinB", st2);
  return {ct, st1, st2};
}

}  // namespace

// x * cos + rotate_half(x) * sin. Rows of whole heads (a matmul's output
// with d dividing the lane count): a task per 320-lane chunk, its heads
// together (the half rotations stay within each head but for lanes the
// constants zero); else a task per head, split first.
void lowerRope(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const int d = int(op.attrs.head_dim), heads = int(op.attrs.heads);
  const int v = c.vxmPosition(), lanes = c.lanes();
  const ActTensor& in = L.act(op.inputs[0]);
  const bool whole = in.width == lanes && lanes % d == 0;
  const ActTensor& x = whole ? in : L.headRows(op.inputs[0], d);
  ActTensor& y = whole ? L.newAct(op.outputs[0], x.rows, x.cols, {x.group})
                       : L.newAct(op.outputs[0], x.rows, x.cols, {x.group}, d);
  const auto inv = inverseFrequencies(op, d);
  const Cycle alu = c.latency.vxm_alu;
  const int perRow = whole ? int(x.chunks) : heads;
  for (int64_t t = 0; t < x.rows; ++t) {
    const int64_t pos = L.g.context - x.rows + t;
    for (int k = 0; k < perRow; ++k) {
      const int row = int(t * perRow + k);
      const int valid = whole ? int(std::min<int64_t>(lanes, x.cols - int64_t(k) * lanes)) : d;
      const auto [ct, st1, st2] = ropeRows(L, op, inv, pos, d, valid, x.group);
      TaskBuilder b = L.builder(fmt::format("{}[{}]", op.name, row));
      auto xv = b.read(x.tensor, uint32_t(row), v, 0, x.firstRow + row);
      const int q = 2 * (L.sxmTurn++ % std::max(1, c.sxm_queues_per_hemisphere / 2));
      auto up = rotate(L, b, xv, -d / 2, q), down = rotate(L, b, xv, d / 2, q + 1);
      const Cycle at = b.availAt(up, v);
      auto m0 = b.vxm(Opcode::MUL, DType::F32, at, b.read(x.tensor, uint32_t(row), v, at, x.firstRow + row),
                      b.read(ct, 0, v, at, -1));
      auto m1 = b.vxm(Opcode::MUL, DType::F32, at, up, b.read(st1, 0, v, at, -1));
      auto m2 = b.vxm(Opcode::MUL, DType::F32, at, down, b.read(st2, 0, v, at, -1));
      auto sum = b.vxm(Opcode::ADD, DType::F32, at + alu, m0, m1);
      auto out = b.vxm(Opcode::ADD, DType::F32, at + 2 * alu, sum, b.vxm(Opcode::MOV, DType::F32, at + alu, m2));
      b.write(y.tensor, uint32_t(row), out, y.firstRow + row);
      L.addTask(b);
    }
  }
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
        m = b.vxm(Opcode::ADDI, DType::I32, addAt, m, {}, scratchAddr);
        Instr rot;
        rot.op = Opcode::ROT;
        rot.dt = DType::I32;
        rot.imm = 0;
        auto map = b.issue(rotAt, QueueId{Unit::SXM, plane.east, (turn + 1) % queues, 0}, rot, {m});
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
  const ActTensor& x = L.headRows(op.inputs[1], d);
  const int v = c.vxmPosition(), lanes = c.lanes();
  const Cycle alu = c.latency.vxm_alu;
  // Keys of whole superlanes of positions (a prompt chunk's) go through the
  // transposer when every plane has room for their staging rows.
  const int ls = c.lanes_per_superlane;
  const int64_t firstPos = k.context - x.rows;
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
      const int oh = i32Row(L, fmt::format("const.onehot{}", lane), oneHot, x.group);
      const Tensor& tt = L.p.tensors[size_t(tile)];  // after the allocations above (they may move the vector)
      for (int i = 0; i < d; ++i) {
        TaskBuilder b = L.builder(fmt::format("{}.k{}[{}].{}", op.name, hd, t, i));
        auto h = b.vxm(Opcode::CVT, DType::F16, 0, b.read(x.tensor, uint32_t(row), v, 0, x.firstRow + row), {}, 0,
                       DType::F32);
        auto rotated = rotate(L, b, h, lane - i, i, DType::F16, k.plane(hd).east);  // the plane's side
        for (int plane = 0; plane < 2; ++plane) {
          const SliceRef s = tt.sliceOf(uint32_t(i), plane);
          const Cycle there = b.availAt(rotated, c.memPosition(s));
          // map = onehot * (target - scratch) + scratch, timed to meet the data there
          const Cycle m = there - Cycle(std::abs(v - c.memPosition(s))) * c.stream_hop - 2 * alu;
          auto map = b.vxm(Opcode::MULI, DType::I32, m, b.read(oh, 0, v, m, -1), {},
                           uint32_t(int32_t(tt.addrOf(uint32_t(i))) - int32_t(scratchAddr)));
          map = b.vxm(Opcode::ADDI, DType::I32, m + alu, map, {}, scratchAddr);
          b.scatter(tile, uint32_t(i), plane, rotated, map, k.firstRow[size_t(hd * k.tilesPerHead + j)] + i);
        }
        L.addTask(b);
      }
    }
  }
  if (!viaTranspose) return;
  int turn = 0;
  for (int hd = 0; hd < kv; ++hd)
    if (L.ownsKvHead(hd))
      for (int64_t g = g0; g < g1; ++g) appendKeysTransposed(L, op, k, x, hd, g * ls, firstPos, turn);
}

namespace {

// Whether the scores whose probabilities mix `at` takes were causal: the
// AttnScores op found back through the producers of its first input (each
// earlier in the graph, usually just before).
bool causalScores(const Graph& g, size_t at) {
  std::string t = g.ops[at].inputs[0];
  for (size_t i = at; i-- > 0;) {
    const GOp& op = g.ops[i];
    if (std::find(op.outputs.begin(), op.outputs.end(), t) == op.outputs.end()) continue;
    if (op.kind == OpKind::AttnScores) return op.attrs.causal;
    if (op.inputs.empty()) return false;
    t = op.inputs[0];
  }
  return false;
}

void attention(Lowerer& L, const GOp& op, bool scores) {
  const ChipConfig& c = L.c;
  const int d = int(op.attrs.head_dim), heads = int(op.attrs.heads), kv = int(op.attrs.kv_heads);
  const int hpg = heads / kv, v = c.vxmPosition(), lanes = c.lanes();
  Lowerer::Cache& k = L.cache(op.inputs[1], scores, kv, d);
  // Queries as rows of whole heads (RoPE's output): each head's lanes rotated
  // down to lane 0 at the SXM on their way to the plane (its key tile's other
  // rows are zero), rather than split into rows of their own first.
  const ActTensor& q0 = L.act(op.inputs[0]);
  const bool wholeQ = scores && q0.width == lanes && lanes % d == 0;
  const ActTensor& in = scores && !wholeQ ? L.headRows(op.inputs[0], d) : q0;
  const int64_t T = scores ? in.rows : in.rows / heads;
  ActTensor& out = scores ? L.newAct(op.outputs[0], heads * T, k.context, {in.group})
                          : L.newAct(op.outputs[0], T, int64_t(heads) * d, {in.group}, d);
  const double scale = op.attrs.scale;  // AttnMix: 1 (the default)
  const bool causal = op.attrs.causal;
  // Useful work, per kv head this chip keeps: its cache streamed once, and
  // for each of its hpg heads d MACs per position a token sees (a causal
  // step's later positions masked, in the mix by the probabilities' zeros).
  int64_t seen = 0, owned = 0;
  const bool masked = scores ? causal : causalScores(L.g, size_t(L.op));
  for (int64_t t = 0; t < T; ++t) seen += masked ? std::min(k.context, k.context - T + t + 1) : k.context;
  for (int g = 0; g < kv; ++g) owned += L.ownsKvHead(g) ? 1 : 0;
  L.countMxm(DType::F16, uint64_t(owned * hpg * d) * uint64_t(seen), op.inputs[1],
             uint64_t(owned * d) * uint64_t(k.context) * 2);
  for (int g = 0; g < kv; ++g) {
    if (!L.ownsKvHead(g) || k.leader[size_t(g)] != g) continue;
    // Values: one job for the heads sharing g's tiles; row r is token r / (hpg * M),
    // kv head members[r / hpg % M], head kv * hpg + r % hpg.
    const std::vector<int> members = scores ? std::vector<int>{g} : k.members(g);
    const int M = int(members.size());
    auto headOf = [&](int r) { return members[size_t(r / hpg % M)] * hpg + r % hpg; };
    MxmJob job;
    job.label = fmt::format("{}.g{}", op.name, g);
    job.wt = DType::F16;
    job.kTiles = scores ? 1 : k.tilesPerHead;
    job.nChunks = scores ? k.tilesPerHead : 1;
    job.rows = int(T) * hpg * M;
    job.plane = [&](int) { return k.plane(g); };
    job.tile = [&](int i, int j, const PlaneId&) { return k.tiles[size_t(g * k.tilesPerHead + (scores ? j : i))]; };
    job.tileRowId = [&](int tile, uint32_t row) {
      for (size_t n = 0; n < k.tiles.size(); ++n)
        if (k.tiles[n] == tile) return k.firstRow[n] + int(row);
      return -1;
    };
    job.feed = [&](TaskBuilder& b, int r, int i, Cycle at, const PlaneId& plane) {
      const int64_t t = r / (hpg * M);
      const int h = headOf(r);
      const int pp = c.position(QueueId{Unit::MXM, plane.east, plane.index, 0});
      const int half = scores ? 0 : i % 2, off = wholeQ ? h * d % lanes : 0;
      const Cycle f = at - Cycle(std::abs(v - pp)) * c.stream_hop - (half || wholeQ ? c.latency.sxm_shift : 0) -
                      c.latency.vxm_convert;
      const int row = wholeQ   ? int(t * in.chunks + h * d / lanes)
                      : scores ? int(t * heads + h)
                               : int((int64_t(h) * T + t) * in.chunks + i / 2);
      auto x = b.vxm(Opcode::CVT, DType::F16, f, b.read(in.tensor, uint32_t(row), v, f, in.firstRow + row), {}, 0,
                     DType::F32);
      if (wholeQ) {  // head h's lanes down to lane 0 on the way past the plane's SXM (by 0 too: every feed
                     // then takes as long, and no two read the queries' slices in one cycle)
        Instr rot;
        rot.op = Opcode::ROT;
        rot.dt = DType::F16;
        rot.imm = uint32_t((lanes - off) % lanes);
        const QueueId sq{Unit::SXM, plane.east, r % c.sxm_queues_per_hemisphere, 0};
        return b.issue(b.availAt(x, c.position(sq)), sq, rot, {x});
      }
      return half ? feedHalf(L, b, x, plane, r) : x;
    };
    job.drain = [&](TaskBuilder& b, int r, int j, Val acc) {
      const int64_t t = r / (hpg * M);
      const int h = headOf(r);
      if (scores) {
        acc = b.vxm(Opcode::MULI, DType::F32, b.availAt(acc, v), acc, {}, f32bits(float(scale)));
        // The last position token t may see; later ones get -3e38. Every row of a tile some token
        // of the step must mask takes the add (a row of zeros where it sees the whole tile), so
        // that the drained results keep the spacing drainCycles gave them.
        const int64_t last = k.context - T + t;
        if (causal && (int64_t(j) + 1) * lanes - 1 > k.context - T) {
          const int64_t seen = std::clamp<int64_t>(last - int64_t(j) * lanes + 1, 0, lanes);
          std::vector<double> m(size_t(lanes), 0.0);
          for (int l = seen; l < lanes; ++l) m[size_t(l)] = -3e38;
          const std::string name = fmt::format("{}.causal{}", op.name, seen);
          int mt = L.constantNamed(name);
          if (mt < 0) L.nameConstant(name, mt = constRow(L, name, m, {in.group, out.group}));
          const Cycle e = b.availAt(acc, v);
          acc = b.vxm(Opcode::ADD, DType::F32, e, acc, b.read(mt, 0, v, e, -1));
        }
        const int row = int((int64_t(h) * T + t) * out.chunks + j);
        b.write(out.tensor, uint32_t(row), acc, out.firstRow + row);
      } else {
        if (M > 1) {  // the head's lanes of the pack's result: down to lane 0, the rest zeroed
          const int off = k.laneOff[size_t(h / hpg)];
          if (off) acc = rotate(L, b, acc, -off, r);
          const Cycle e = b.availAt(acc, v);
          acc =
              b.vxm(Opcode::MUL, DType::F32, e, acc, b.read(L.laneMask(d, false, {in.group, out.group}), 0, v, e, -1));
        }
        const int row = int(t * heads + h);
        b.write(out.tensor, uint32_t(row), acc, out.firstRow + row);
      }
    };
    runMxmJob(L, job);
  }
  (void)lanes;
}

}  // namespace

void lowerAttnScores(Lowerer& L, const GOp& op) { attention(L, op, true); }
void lowerAttnMix(Lowerer& L, const GOp& op) { attention(L, op, false); }

}  // namespace lpu
