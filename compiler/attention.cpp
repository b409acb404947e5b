// Attention on the chip: scores, an MXM pass of each query head over its
// kv head's key tiles, and the mix, a pass of each softmax row over the
// value tiles (the cache: kv_cache.cpp; RoPE: rope.cpp). Keys and values
// are split into per-head rows (SXM rotations); queries, rows of whole
// heads, are rotated down to lane 0 on their way to the plane. Positions
// are static: the step's T tokens sit at the last T positions of the
// context.
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

using Val = TaskBuilder::Val;

int groupOf(const Lowerer& L, int tensor) {
  const SliceRef s = L.p.tensors[size_t(tensor)].slice;
  for (int g = 0; g < L.layout_.groups(); ++g)
    if (L.layout_.groupSlice(g) == s) return g;
  return -1;
}

Val rotate(Lowerer& L, TaskBuilder& b, Val v, int amount, int queue, DType dt, bool east) {
  const ChipConfig& c = L.c;
  if (b.direction(v) != 0) east = b.direction(v) > 0;
  const QueueId q{Unit::SXM, east, queue % c.sxm_queues_per_hemisphere, 0};
  Instr rot;
  rot.op = Opcode::ROT;
  rot.dt = dt;
  rot.imm = uint32_t(((amount % c.lanes()) + c.lanes()) % c.lanes());
  return b.issue(b.availAt(v, c.position(q)), q, rot, {v});
}

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
  const auto un = scores ? L.unnormalised.end() : L.unnormalised.find(op.inputs[0]);
  const ActTensor* norm = un != L.unnormalised.end() ? &L.act(un->second) : nullptr;
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
      // Head h's lanes down to lane 0 on the way past the plane's SXM (by 0 too: every feed then
      // takes as long, and no two read the queries' slices in one cycle).
      if (wholeQ) return rotate(L, b, x, -off, r, DType::F16, plane.east);
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
        if (norm) {  // the probabilities' 1 / sum (softmax left them unnormalised)
          const int sr = int(2 * (int64_t(h) * T + t) + 1);
          const Cycle e = b.availAt(acc, v);
          acc = b.vxm(Opcode::MUL, DType::F32, e, acc, b.read(norm->tensor, uint32_t(sr), v, e, norm->firstRow + sr));
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
