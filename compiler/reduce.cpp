// Reductions across a row: a VXM chain folds the row's chunks into one
// vector (lane-wise), then SXM rotations fold the lanes in rounds: each
// sends the vector to both SXMs, rotates it by every multiple of the new
// period and combines what returns (laneRadices). The result is broadcast
// in every lane. Norms and softmax write their per-row factors to MEM and
// apply them per chunk; a decode step's softmax leaves 1 / sum to the
// attention mix that reads it (Lowerer::unnormalised).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

// Combines vals pairwise with op in cycle t, t + alu, ... (an odd one out
// kept by a mov) until at most `keep` are left; returns the cycle they are
// ready in.
Cycle combineTree(const ChipConfig& c, TaskBuilder& b, Opcode op, std::vector<Val>& vals, Cycle t, size_t keep) {
  for (; vals.size() > keep; t += c.latency.vxm_alu) {
    std::vector<Val> next;
    for (size_t i = 0; i + 1 < vals.size(); i += 2) next.push_back(b.vxm(op, DType::F32, t, vals[i], vals[i + 1]));
    if (vals.size() % 2) next.push_back(b.vxm(Opcode::MOV, DType::F32, t, vals.back()));
    vals = std::move(next);
  }
  return t;
}

// The radices of a lane reduction: each round folds the lanes' period n by
// r (n/r rotations' worth of lanes combined at once), split over the two
// SXMs (at most 4 fp32 rotations a side: 16 of the 32 streams); the largest
// divisor up to `most` first, so with 8 320 lanes take 3 rounds (8, 8, 5),
// with 2 seven (2 six times, then 5).
std::vector<int> laneRadices(const ChipConfig& c, int most) {
  const int perSide = std::min({4, c.sxm_queues_per_hemisphere, c.streams_per_direction / 4});
  std::vector<int> rs;
  for (int n = c.lanes(); n > 1;) {
    int r = std::min({most, 2 * perSide, n});
    while (r > 1 && n % r) --r;
    if (r < 2)  // n's factors all exceed `most`: its smallest, if both sides can take it
      for (r = 2; n % r;) ++r;
    if (r > 2 * perSide)
      throw Error(
          fmt::format("chip {}: a reduction across {} lanes needs a factor of {} lanes, more than 2 x {} SXM "
                      "rotations at once",
                      c.name, c.lanes(), n, perSide));
    rs.push_back(r);
    n /= r;
  }
  return rs;
}

// Folds v (at the VXM in cycle `at`) across all lanes with op; returns the
// result, broadcast in every lane, and sets `at` to the cycle it is at the
// VXM. Each round sends the value to both SXMs (a copy each way), rotates it
// there by every multiple of the new period (0 included: the copy comes back
// in step with the others) and combines what returns in a tree. `turn`
// spreads a program's reductions over the SXMs' queues. `most`: the widest
// round (roundsFor).
Val reduceLanes(const ChipConfig& c, TaskBuilder& b, Opcode op, Val v, Cycle& at, int turn, int most = 8) {
  const int queues = c.sxm_queues_per_hemisphere, alu = c.latency.vxm_alu;
  const std::vector<int> radices = laneRadices(c, most);
  const int base = (turn * 4) % std::max(1, queues);
  Cycle trip[2];
  for (int e = 0; e < 2; ++e)
    trip[e] = Cycle(std::abs(c.vxmPosition() - c.position(QueueId{Unit::SXM, e == 1, 0, 0}))) * c.stream_hop;
  if (radices.empty()) return v;
  int n = c.lanes();
  // The value to send, a copy for each SXM (a value flows one way only).
  std::vector<Val> send{b.vxm(Opcode::MOV, DType::F32, at, v), b.vxm(Opcode::MOV, DType::F32, at, v)};
  at += alu;
  for (size_t round = 0; round < radices.size(); ++round) {
    const int r = radices[round], step = n / r;
    // Rotations j = 0..r-1: the west SXM takes the even ones, the east the odd.
    std::vector<std::pair<Cycle, Val>> back;  // (cycle at the VXM, value)
    for (int j = 0; j < r; ++j) {
      const int e = j % 2;
      const Cycle s = at + trip[e];
      Instr rot;
      rot.op = Opcode::ROT;
      rot.dt = DType::F32;
      rot.imm = uint32_t(j * step);
      Val x = b.issue(s, QueueId{Unit::SXM, e == 1, (base + j / 2) % queues, 0}, rot, {send[size_t(e)]});
      back.push_back({s + c.latency.sxm_shift + trip[e], x});
    }
    // A tree over what returns (a value waiting for the latest is kept at
    // the VXM by a mov a cycle); its last combine is issued twice when
    // another round follows, a copy for each SXM.
    Cycle t = 0;
    for (const auto& x : back) t = std::max(t, x.first);
    std::vector<Val> vals;
    for (auto& [when, x] : back) {
      for (; when < t; when += alu) x = b.vxm(Opcode::MOV, DType::F32, when, x);
      vals.push_back(x);
    }
    t = combineTree(c, b, op, vals, t, 2);
    const bool more = round + 1 < radices.size();
    send.clear();
    for (int k = 0; k < (more ? 2 : 1); ++k) send.push_back(b.vxm(op, DType::F32, t, vals[0], vals[1]));
    at = t + alu;
    n = step;
  }
  return send[0];
}

// A term of the fold: the chain that turns chunk `chunk` into the vector to
// combine, issued at `at`; `last` marks the row's last chunk (masked).
using Term = std::function<Val(TaskBuilder&, int chunk, Cycle at, bool last)>;

// Folds the row's chunks lane-wise with op; the last chunk first (its term
// is one ALU op longer: the mask, or a mov), then the others one per ALU
// latency. Returns the per-lane vector; `at` becomes the cycle it is ready.
// `lastExtra`: the last term is one ALU op longer (it must be whenever
// there are several chunks, so that no two terms read in the same cycle).
Val foldChunks(const ChipConfig& c, TaskBuilder& b, int chunks, Cycle termLatency, bool lastExtra, const Term& term,
               Opcode op, Cycle& at) {
  const Cycle alu = c.latency.vxm_alu;
  Val acc = term(b, chunks - 1, at, true);
  Cycle t = at + termLatency + (lastExtra ? alu : 0);
  for (int k = 0; k + 1 < chunks; ++k) {
    Val x = term(b, k, t - termLatency, false);
    acc = b.vxm(op, DType::F32, t, acc, x);
    t += alu;
  }
  at = t;
  return acc;
}

// foldChunks for long rows (at least 32 chunks, as a vocabulary's logits):
// vxm_alu chains side by side, a term joining one every cycle (a single
// chain takes one per ALU latency), each chain's result written to a row of
// its own in a group of its own and read back so that all reach the VXM in
// one cycle (chains one cycle apart stay that far apart: every VXM latency
// is a multiple of the ALU's), then combined in a tree. `name` names the
// rows. The same terms as foldChunks, called at their own cycles.
Val foldWide(Lowerer& L, TaskBuilder& b, const std::string& name, int chunks, Cycle termLatency, bool lastExtra,
             const Term& term, Opcode op, Cycle& at) {
  const ChipConfig& c = L.c;
  const int W = c.latency.vxm_alu;
  if (chunks < 32 || W < 2 || L.layout_.groups() < W) {
    return foldChunks(c, b, chunks, termLatency, lastExtra, term, op, at);
  }
  const Cycle alu = W, t0 = at + termLatency + (lastExtra ? alu : 0);
  // Term q (q = 0: the last chunk, q >= 1: chunk q - 1) is ready in cycle t0 + q, in chain q % W.
  std::vector<Val> acc(static_cast<size_t>(W));
  std::vector<Cycle> ready(static_cast<size_t>(W));
  for (int q = 0; q < chunks; ++q) {
    const bool last = q == 0;
    const Cycle r = t0 + q;
    Val x = term(b, last ? chunks - 1 : q - 1, last ? at : r - termLatency, last);
    const size_t w = size_t(q % W);
    if (q < W) {  // kept a cycle of the chain's for the next term (a mov)
      acc[w] = b.vxm(Opcode::MOV, DType::F32, r, x), ready[w] = r + alu;
    } else {
      acc[w] = b.vxm(op, DType::F32, r, acc[w], x), ready[w] = r + alu;
    }
  }
  // Through MEM: written as each chain ends, read back to meet at the VXM in cycle `meet`, each in
  // a group of its own. The terms' reads are all issued before any chain ends, so the rows may
  // share the groups they read.
  std::vector<int> groups;
  std::vector<const ActTensor*> rows;
  Cycle meet = 0;
  const int v = c.vxmPosition();
  for (int w = 0; w < W; ++w) {
    const ActTensor& a = L.newAct(fmt::format("{}.chain{}", name, w), 1, c.lanes(), groups);
    groups.push_back(a.group);
    rows.push_back(&a);
    const Tensor& t = L.p.tensors[size_t(a.tensor)];
    int far = 0;
    for (int pl = 0; pl < 4; ++pl) far = std::max(far, std::abs(c.memPosition(t.sliceOf(0, pl)) - v));
    b.write(a.tensor, 0, acc[size_t(w)], a.firstRow);
    // there, written, committed, then read and back: a cycle to spare
    meet =
        std::max(meet, ready[size_t(w)] + Cycle(2 * far) * c.stream_hop + c.latency.mem_write + c.latency.mem_read + 1);
  }
  std::vector<Val> vals;
  for (const ActTensor* a : rows) vals.push_back(b.read(a->tensor, 0, v, meet, a->firstRow));
  at = combineTree(c, b, op, vals, meet, 1);
  return vals[0];
}

bool lastExtra(const ChipConfig& c, int64_t cols, int chunks) { return cols % c.lanes() != 0 || chunks > 1; }

// The last chunk's extra op: multiply by the 0/1 lane mask (or add the
// 0/-huge mask for max), or a mov when the row fills its last chunk.
Val finishLast(Lowerer& L, TaskBuilder& b, Val v, Cycle at, int64_t cols, const std::vector<int>& avoid, bool forMax,
               int chunks) {
  const int rem = int(cols % L.c.lanes());
  if (rem == 0) return chunks > 1 ? b.vxm(Opcode::MOV, DType::F32, at, v) : v;
  const int mask = L.laneMask(rem, forMax, avoid);
  auto m = b.read(mask, 0, L.c.vxmPosition(), at, -1);
  return b.vxm(forMax ? Opcode::ADD : Opcode::MUL, DType::F32, at, v, m);
}

// The max over vector row `r` of x (its chunks, the last masked), in every
// lane; `at` becomes its cycle at the VXM. `other`: a group the mask avoids.
Val rowMax(Lowerer& L, TaskBuilder& b, const ActTensor& x, int64_t r, int other, Cycle& at, int most) {
  const ChipConfig& c = L.c;
  const int v = c.vxmPosition(), ch = int(x.chunks), xr = int(r * ch);
  const Cycle alu = c.latency.vxm_alu;
  auto p = foldWide(
      L, b, fmt::format("{}.max{}", x.name, r), ch, alu, lastExtra(c, x.cols, ch),
      [&](TaskBuilder& tb, int k, Cycle t, bool last) {
        auto mv = tb.vxm(Opcode::MOV, DType::F32, t, tb.read(x.tensor, uint32_t(xr + k), v, t, x.firstRow + xr + k));
        return last ? finishLast(L, tb, mv, t + alu, x.cols, {x.group, other}, true, ch) : mv;
      },
      Opcode::MAX, at);
  return reduceLanes(c, b, Opcode::MAX, p, at, L.sxmTurn++, most);
}

// The widest round of an op's reductions: of few rows, 8 (the fewest cycles
// each: 3 rounds for 320 lanes); of many, 4 (4 rounds, but fewer rotations:
// together they keep the SXMs busy). One llama-3.2-1b layer's 64-token
// prefill takes 48,567 cycles so, 52,598 with 8 throughout, 49,459 with 2.
int roundsFor(int64_t rows) { return rows > 16 ? 4 : 8; }

}  // namespace

TaskBuilder::Val reduceAcrossLanes(Lowerer& L, TaskBuilder& b, Opcode op, TaskBuilder::Val v, Cycle& at) {
  return reduceLanes(L.c, b, op, v, at, L.sxmTurn++);
}

void lowerNorm(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const bool layer = op.kind == OpKind::LayerNorm;
  const ActTensor& x = L.act(op.inputs[0]);
  const ActTensor& w = L.constant(op.inputs[1], {x.group});
  const ActTensor* bias = layer ? &L.constant(op.inputs[2], {x.group, w.group}) : nullptr;
  ActTensor& factors = L.newAct(op.name + ".stats", x.rows, 2 * c.lanes(), {x.group});  // per row: mean, rsqrt
  std::vector<int> avoid{x.group, w.group, factors.group};
  if (bias) avoid.push_back(bias->group);
  ActTensor& y = L.newAct(op.outputs[0], x.rows, x.cols, avoid);
  const double eps = op.attrs.eps, inv = 1.0 / double(x.cols);
  const int v = c.vxmPosition(), ch = int(x.chunks);
  const Cycle alu = c.latency.vxm_alu;
  const int mrow = 0, rrow = 1;  // rows of `factors` per token: 2 * r + k

  for (int64_t r = 0; r < x.rows; ++r) {
    const int xr = int(r * ch);
    auto xrow = [&](int chunk) { return uint32_t(xr + chunk); };
    const int meanRow = int(2 * r + mrow), rsRow = int(2 * r + rrow);
    if (layer) {  // mean and rsqrt(mean(x^2) - mean^2 + eps): both sums in one pass, reduced side by side
      TaskBuilder b = L.builder(fmt::format("{}.stats[{}]", op.name, r));
      // The last chunk first (masked), then the others: x and x^2 of chunk k join their sums in
      // cycle t0 + k * alu, read an ALU op before.
      const int rem = int(x.cols % c.lanes());
      Val sx, sq;
      {
        Cycle t = 0;
        auto xv = b.read(x.tensor, xrow(ch - 1), v, t, x.firstRow + xr + ch - 1);
        Val xm = rem == 0 ? b.vxm(Opcode::MOV, DType::F32, t, xv)
                          : b.vxm(Opcode::MUL, DType::F32, t, xv,
                                  b.read(L.laneMask(rem, false, {x.group, factors.group}), 0, v, t, -1));
        sx = b.vxm(Opcode::MOV, DType::F32, t + alu, xm);
        sq = b.vxm(Opcode::MUL, DType::F32, t + alu, xm, xm);
      }
      Cycle at = 2 * alu;
      for (int k = 0; k + 1 < ch; ++k, at += alu) {
        auto xv = b.read(x.tensor, xrow(k), v, at - alu, x.firstRow + xr + k);
        sx = b.vxm(Opcode::ADD, DType::F32, at, sx, b.vxm(Opcode::MOV, DType::F32, at - alu, xv));
        sq = b.vxm(Opcode::ADD, DType::F32, at, sq, b.vxm(Opcode::MUL, DType::F32, at - alu, xv, xv));
      }
      Cycle same = at;  // both reductions take the same rounds: ready in the same cycle
      sx = reduceLanes(c, b, Opcode::ADD, sx, at, L.sxmTurn++, roundsFor(x.rows));
      sq = reduceLanes(c, b, Opcode::ADD, sq, same, L.sxmTurn++, roundsFor(x.rows));
      auto mean = b.vxm(Opcode::MULI, DType::F32, at, sx, {}, f32bits(float(inv)));
      auto msq = b.vxm(Opcode::MULI, DType::F32, at, sq, {}, f32bits(float(inv)));
      b.write(factors.tensor, uint32_t(meanRow), mean, factors.firstRow + meanRow);
      auto var = b.vxm(Opcode::SUB, DType::F32, at + 2 * alu, b.vxm(Opcode::MOV, DType::F32, at + alu, msq),
                       b.vxm(Opcode::MUL, DType::F32, at + alu, mean, mean));
      auto s = b.vxm(Opcode::ADDI, DType::F32, at + 3 * alu, var, {}, f32bits(float(eps)));
      s = b.vxm(Opcode::RSQRT, DType::F32, at + 4 * alu, s);
      b.write(factors.tensor, uint32_t(rsRow), s, factors.firstRow + rsRow);
      L.addTask(b);
    } else {  // rsqrt(mean(x^2) + eps)
      TaskBuilder b = L.builder(fmt::format("{}.rms[{}]", op.name, r));
      Cycle at = 0;
      auto p = foldChunks(
          c, b, ch, alu, lastExtra(c, x.cols, ch),
          [&](TaskBuilder& tb, int k, Cycle t, bool last) {
            auto xv = tb.read(x.tensor, xrow(k), v, t, x.firstRow + xr + k);
            auto sq = tb.vxm(Opcode::MUL, DType::F32, t, xv, xv);
            return last ? finishLast(L, tb, sq, t + alu, x.cols, {x.group, factors.group}, false, ch) : sq;
          },
          Opcode::ADD, at);
      auto s = reduceLanes(c, b, Opcode::ADD, p, at, L.sxmTurn++, roundsFor(x.rows));
      s = b.vxm(Opcode::MULI, DType::F32, at, s, {}, f32bits(float(inv)));
      s = b.vxm(Opcode::ADDI, DType::F32, at += alu, s, {}, f32bits(float(eps)));
      s = b.vxm(Opcode::RSQRT, DType::F32, at += alu, s);
      b.write(factors.tensor, uint32_t(rsRow), s, factors.firstRow + rsRow);
      L.addTask(b);
    }
    for (int k = 0; k < ch; ++k) {  // y = (x - mean) * rs * w (+ b)
      TaskBuilder b = L.builder(fmt::format("{}[{}]", op.name, xr + k));
      Cycle t = 0;
      auto xv = b.read(x.tensor, xrow(k), v, t, x.firstRow + xr + k);
      if (layer) {
        auto mv = b.read(factors.tensor, uint32_t(meanRow), v, t, factors.firstRow + meanRow);
        xv = b.vxm(Opcode::SUB, DType::F32, t, xv, mv);
        t += alu;
      }
      auto rs = b.read(factors.tensor, uint32_t(rsRow), v, t, factors.firstRow + rsRow);
      auto yv = b.vxm(Opcode::MUL, DType::F32, t, xv, rs);
      t += alu;
      yv = b.vxm(Opcode::MUL, DType::F32, t, yv, b.read(w.tensor, uint32_t(k), v, t, -1));
      if (bias) {
        t += alu;
        yv = b.vxm(Opcode::ADD, DType::F32, t, yv, b.read(bias->tensor, uint32_t(k), v, t, -1));
      }
      b.write(y.tensor, xrow(k), yv, y.firstRow + xr + k);
      L.addTask(b);
    }
  }
}

void lowerSoftmax(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const ActTensor& x = L.act(op.inputs[0]);
  ActTensor& factors = L.newAct(op.name + ".stats", x.rows, 2 * c.lanes(), {x.group});  // per row: max, 1/sum
  // Read only by attention mixes (and no sinks), in a decode step (a row per
  // head; without heads, at most 16 rows): the output is e itself, each row's
  // 1 / sum applied to the mix's result (Lowerer::unnormalised). Of several
  // tokens (a prefill's) the sums' reductions are not what the mix waits
  // for, and the drains' reads of 1 / sum cost: one llama-3.2-1b layer's
  // 64-token prefill takes 51,386 cycles so, 48,567 not; its 2-token one
  // 7,915, 7,738 not. Its decode at context 2048: 7,243, 7,992 not.
  const int64_t sheads = op.attrs.heads;
  bool deferred = op.inputs.size() == 1 && L.g.tensor(op.outputs[0]).kind != TensorKind::Output &&
                  (sheads > 0 ? x.rows == sheads : x.rows <= 16);
  for (const GOp& o : L.g.ops)
    if (std::find(o.inputs.begin(), o.inputs.end(), op.outputs[0]) != o.inputs.end())
      deferred = deferred && o.kind == OpKind::AttnMix && o.inputs[0] == op.outputs[0];
  if (deferred) L.unnormalised[op.outputs[0]] = factors.name;
  ActTensor& e = L.newAct(deferred ? op.outputs[0] : op.name + ".exp", x.rows, x.cols, {x.group, factors.group});
  ActTensor& y = deferred ? e : L.newAct(op.outputs[0], x.rows, x.cols, {x.group, e.group});
  const int v = c.vxmPosition(), ch = int(x.chunks);
  const Cycle alu = c.latency.vxm_alu, sp = c.latency.vxm_special;
  // Attention probabilities (rows head-major, h * tokens + t): with tensor
  // parallelism only the rows of this chip's heads.
  const int heads = int(op.attrs.heads), kvHeads = int(op.attrs.kv_heads);
  // Attention sinks (gpt-oss): head h's logit joins each of its rows' max
  // and sum, and is dropped: a row per head with it in every lane.
  int sinkT = -1;
  if (op.inputs.size() == 2) {
    const GTensor& st = L.g.tensor(op.inputs[1]);
    if (heads < 1 || st.shape != std::vector<int64_t>{heads} || x.rows % heads)
      throw Error(fmt::format("op {}: sinks must be [heads] with attribute heads dividing the rows", op.name));
    Tensor t;
    t.name = op.name + ".sinks";
    t.dtype = DType::F32;
    t.rows = uint32_t(heads);
    t.cols = uint32_t(c.lanes());
    if (L.o.values) {
      const std::vector<float> sv = L.valuesOf(st);
      std::vector<double> d;
      for (int h = 0; h < heads; ++h) d.insert(d.end(), size_t(c.lanes()), double(sv[size_t(h)]));
      t.init = Tensor::Init::Data;
      t.data = encode(d, DType::F32);
    }
    sinkT = L.layout_.addConstant(L.p, t, L.layout_.groupFor({x.group, factors.group, e.group}));
  }
  for (int64_t r = 0; r < x.rows; ++r) {
    if (heads > 0 && kvHeads > 0 && !L.ownsKvHead(int(r / (x.rows / heads)) / (heads / kvHeads))) continue;
    const int xr = int(r * ch), maxRow = int(2 * r), invRow = int(2 * r + 1);
    const uint32_t head = heads > 0 ? uint32_t(r / (x.rows / heads)) : 0;
    // Without sinks, the max and the sum are one task: the max stays at the VXM (a mov a cycle)
    // for each chunk's exp, not written and read back.
    const bool merged = sinkT < 0;
    std::optional<TaskBuilder> task(L.builder(fmt::format("{}.{}[{}]", op.name, merged ? "stats" : "max", r)));
    TaskBuilder& b = *task;
    Cycle at = 0;
    Val mx = rowMax(L, b, x, r, factors.group, at, roundsFor(x.rows));
    if (!merged) {
      mx = b.vxm(Opcode::MAX, DType::F32, at, mx, b.read(sinkT, head, v, at, -1));
      b.write(factors.tensor, uint32_t(maxRow), mx, factors.firstRow + maxRow);
      L.addTask(b);
      task.emplace(L.builder(fmt::format("{}.sum[{}]", op.name, r)));
      at = 0;
    }
    {                   // e = exp(x - max) (masked), written; 1 / sum(e)
      Cycle kept = at;  // the cycle mx is at the VXM (merged)
      auto maxAt = [&](TaskBuilder& tb, Cycle t) {
        if (!merged) return tb.read(factors.tensor, uint32_t(maxRow), v, t, factors.firstRow + maxRow);
        for (; kept < t; kept += alu) mx = tb.vxm(Opcode::MOV, DType::F32, kept, mx);
        return mx;
      };
      // One full chunk (320 positions) takes the mov too: its e, written and reduced on the
      // SXM, would otherwise be read both east and west of the VXM.
      auto p = foldChunks(
          c, b, ch, alu + sp, true,
          [&](TaskBuilder& tb, int k, Cycle t, bool last) {
            auto xv = tb.read(x.tensor, uint32_t(xr + k), v, t, x.firstRow + xr + k);
            auto ev = tb.vxm(Opcode::EXP, DType::F32, t + alu, tb.vxm(Opcode::SUB, DType::F32, t, xv, maxAt(tb, t)));
            // Written before the last chunk's mask, so that no two chunks reach MEM together;
            // the final multiply masks the last chunk again. Left unnormalised, the last chunk
            // is written masked, after the others (kept at the VXM by a mov a cycle).
            if (!(deferred && last)) tb.write(e.tensor, uint32_t(xr + k), ev, e.firstRow + xr + k);
            if (!last) return ev;
            Val m =
                finishLast(L, tb, ev, t + alu + sp, x.cols, {x.group, factors.group, e.group}, false, std::max(ch, 2));
            if (deferred) {
              Val w = m;
              for (Cycle u = t + alu + sp + alu; u < t + alu + sp + alu * ch; u += alu)
                w = tb.vxm(Opcode::MOV, DType::F32, u, w);
              tb.write(e.tensor, uint32_t(xr + k), w, e.firstRow + xr + k);
            }
            return m;
          },
          Opcode::ADD, at);
      Val sum = reduceLanes(c, b, Opcode::ADD, p, at, L.sxmTurn++, roundsFor(x.rows));
      if (sinkT >= 0) {  // + exp(sink - max), ready with the sum
        const Cycle t0 = at - sp - alu;
        auto d = b.vxm(Opcode::SUB, DType::F32, t0, b.read(sinkT, head, v, t0, -1),
                       b.read(factors.tensor, uint32_t(maxRow), v, t0, factors.firstRow + maxRow));
        sum = b.vxm(Opcode::ADD, DType::F32, at, sum, b.vxm(Opcode::EXP, DType::F32, t0 + alu, d));
        at += alu;
      }
      auto s = b.vxm(Opcode::RSQRT, DType::F32, at, sum);
      at += sp;
      b.write(factors.tensor, uint32_t(invRow), b.vxm(Opcode::MUL, DType::F32, at, s, s), factors.firstRow + invRow);
      L.addTask(b);
    }
    for (int k = 0; k < ch && !deferred; ++k) {  // y = e / sum, the last chunk masked
      TaskBuilder b = L.builder(fmt::format("{}[{}]", op.name, xr + k));
      auto ev = b.read(e.tensor, uint32_t(xr + k), v, 0, e.firstRow + xr + k);
      auto iv = b.read(factors.tensor, uint32_t(invRow), v, 0, factors.firstRow + invRow);
      auto yv = b.vxm(Opcode::MUL, DType::F32, 0, ev, iv);
      if (k == ch - 1 && x.cols % c.lanes() != 0)
        yv = finishLast(L, b, yv, alu, x.cols, {e.group, factors.group, y.group}, false, 1);
      b.write(y.tensor, uint32_t(xr + k), yv, y.firstRow + xr + k);
      L.addTask(b);
    }
  }
}

void lowerArgmax(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const ActTensor& x = L.act(op.inputs[0]);
  ActTensor& factors = L.newAct(op.name + ".max", x.rows, c.lanes(), {x.group});
  ActTensor& y = L.newAct(op.outputs[0], x.rows, 1, {x.group, factors.group});
  const int v = c.vxmPosition(), ch = int(x.chunks);
  const Cycle alu = c.latency.vxm_alu;
  constexpr float kBig = 16777216.0f;  // 2^24: indices below it are exact in fp32
  const int index = L.laneIndex(int(x.cols), kBig, {x.group, factors.group});
  for (int64_t r = 0; r < x.rows; ++r) {
    const int xr = int(r * ch);
    {
      TaskBuilder b = L.builder(fmt::format("{}.max[{}]", op.name, r));
      Cycle at = 0;
      b.write(factors.tensor, uint32_t(r), rowMax(L, b, x, r, factors.group, at, roundsFor(x.rows)),
              factors.firstRow + int(r));
      L.addTask(b);
    }
    // Per lane: its index where x == max, else 2^24 (pad lanes never match:
    // their index constant is 2^24 too); then the smallest over the row.
    TaskBuilder b = L.builder(fmt::format("{}.index[{}]", op.name, r));
    Cycle at = 0;
    auto p = foldWide(
        L, b, fmt::format("{}.index{}", op.name, r), ch, 6 * alu, ch > 1,
        [&](TaskBuilder& tb, int k, Cycle t, bool last) {
          auto xv = tb.read(x.tensor, uint32_t(xr + k), v, t, x.firstRow + xr + k);
          auto mv = tb.read(factors.tensor, uint32_t(r), v, t, factors.firstRow + int(r));
          auto d = tb.vxm(Opcode::SUB, DType::F32, t, xv, mv);                   // <= 0, 0 at the max
          d = tb.vxm(Opcode::MULI, DType::F32, t + alu, d, {}, f32bits(1e30f));  // -huge unless 0
          d = tb.vxm(Opcode::ADDI, DType::F32, t + 2 * alu, d, {}, f32bits(1.0f));
          auto hit = tb.vxm(Opcode::RELU, DType::F32, t + 3 * alu, d);  // 1 at the max, else 0
          auto idx = tb.read(index, uint32_t(k), v, t + 4 * alu, -1);   // lane index - 2^24
          auto cand = tb.vxm(Opcode::MUL, DType::F32, t + 4 * alu, hit, idx);
          cand = tb.vxm(Opcode::ADDI, DType::F32, t + 5 * alu, cand, {}, f32bits(kBig));
          return last && ch > 1 ? tb.vxm(Opcode::MOV, DType::F32, t + 6 * alu, cand) : cand;
        },
        Opcode::MIN, at);
    b.write(y.tensor, uint32_t(r), reduceLanes(c, b, Opcode::MIN, p, at, L.sxmTurn++, roundsFor(x.rows)),
            y.firstRow + int(r));
    L.addTask(b);
  }
}

}  // namespace lpu
