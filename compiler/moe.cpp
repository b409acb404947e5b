// Mixture of Experts with a static schedule (the routing is in topk.cpp).
// MoeFFN runs the chosen experts: every expert's tiles of a matrix lie at a
// fixed stride on one plane, and each weight load computes its address on
// the VXM from the expert index and gathers the rows (like the embedding).
// The schedule is the same whichever experts are chosen: k experts' weights
// stream per token, never all of them. Int8 column scales are shared by the
// experts of a matrix (a static operand).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"
#include "mxm_job.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

// One matrix kind (gate, up or down) of experts first..first+count-1, as tiles on planes.
struct ExpertMatrix {
  int kTiles = 0, nChunks = 0, tileRows = 0;
  std::vector<std::vector<int>> tile;  // [e - first][j * kTiles + i]
  std::vector<PlaneId> plane;          // per chunk j
  std::vector<uint32_t> stride;        // per i: words per slice between experts' tiles (gathered)
  int scaleT = -1;                     // int8: per output chunk, column scale x activation scale
};

// `gathered`: a load picks the expert by its index, so the experts' tiles of
// a chunk lie at a fixed stride on the plane's own slices; otherwise (each
// expert always applied) tiles go wherever there is room. `all`: every
// output chunk, else (tensor parallelism) only those this chip owns.
ExpertMatrix placeExperts(Lowerer& L, const GOp& op, int which, int per, int64_t E, int64_t first, int64_t count,
                          int64_t K, int64_t N, bool tw, DType wt, const std::string& label, bool gathered, bool all) {
  const ChipConfig& c = L.c;
  const int lanes = c.lanes();
  ExpertMatrix m;
  m.tileRows = wt == DType::I8 ? lanes : lanes / 2;
  m.kTiles = int((K + m.tileRows - 1) / m.tileRows);
  m.nChunks = int((N + lanes - 1) / lanes);
  std::vector<std::vector<float>> wv;
  if (L.o.values)
    for (int64_t e = 0; e < E; ++e) wv.push_back(L.valuesOf(L.g.tensor(op.inputs[size_t(3 + e * per + which)])));
  auto weight = [&](int64_t e, int64_t k, int64_t n) -> double {
    return wv[size_t(e)][size_t(tw ? n * K + k : k * N + n)];
  };
  std::vector<double> colScale(size_t(N), 1.0);
  if (!wv.empty() && wt == DType::I8)
    for (int64_t n = 0; n < N; ++n) {
      double mx = 0;
      for (int64_t e = 0; e < E; ++e)
        for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(weight(e, k, n)));
      colScale[size_t(n)] = mx > 0 ? mx / 127.0 : 1.0;
    }
  if (wt == DType::I8) {
    Tensor t;
    t.name = label + ".scale";
    t.dtype = DType::F32;
    t.rows = uint32_t(m.nChunks);
    t.cols = uint32_t(lanes);
    if (!wv.empty()) {
      std::vector<double> s(size_t(m.nChunks) * size_t(lanes), 0.0);
      for (int64_t n = 0; n < N; ++n) s[size_t(n)] = colScale[size_t(n)] * L.o.activationScale;
      t.init = Tensor::Init::Data;
      t.data = encode(s, DType::F32);
    }
    m.scaleT = L.layout_.addConstant(L.p, t, L.layout_.groupFor({}));
  }
  m.tile.assign(size_t(count), std::vector<int>(size_t(m.kTiles) * size_t(m.nChunks), -1));
  m.stride.assign(size_t(m.kTiles), 0);
  const uint32_t words = uint32_t(count * m.kTiles) * L.layout_.tileWords();
  for (int j = 0; j < m.nChunks; ++j) {
    if (!all && !L.owns(j)) {  // another chip computes this chunk
      m.plane.push_back(PlaneId{});
      continue;
    }
    // Gathered expert tiles stay on the plane's own slices: in the activation slices a load's index read
    // would share a slice's queue with their rows.
    const PlaneId plane = L.nextPlane(words, !gathered).id;
    m.plane.push_back(plane);
    for (int i = 0; i < m.kTiles; ++i) {
      const int64_t k0 = int64_t(i) * m.tileRows;
      const uint32_t rows = uint32_t(std::min<int64_t>(m.tileRows, K - k0));
      int prev = -1;
      for (int64_t e = first; e < first + count; ++e) {
        const int t = L.layout_.addTile(L.p, plane, fmt::format("{}.e{}.w{}_{}", label, e, i, j), wt, rows, false,
                                        gathered ? Layout::Place::Plane : Layout::Place::Any);
        m.tile[size_t(e - first)][size_t(j * m.kTiles + i)] = t;
        if (e == first + 1) m.stride[size_t(i)] = L.p.tensors[size_t(t)].addr - L.p.tensors[size_t(prev)].addr;
        if (gathered && e > first + 1 && !L.layout_.overflowed() &&
            L.p.tensors[size_t(t)].addr - L.p.tensors[size_t(prev)].addr != m.stride[size_t(i)])
          throw Error(fmt::format("internal: expert tiles of {} are not evenly spaced", label));
        prev = t;
        if (wv.empty()) continue;
        std::vector<double> d(size_t(rows) * size_t(lanes), 0.0);
        for (uint32_t r = 0; r < rows; ++r)
          for (int col = 0; col < lanes && int64_t(j) * lanes + col < N; ++col) {
            const int64_t n = int64_t(j) * lanes + col;
            const double x = weight(e, k0 + r, n);
            d[size_t(r) * size_t(lanes) + size_t(col)] = wt == DType::I8 ? std::nearbyint(x / colScale[size_t(n)]) : x;
          }
        Tensor& tt = L.p.tensors[size_t(t)];
        tt.init = Tensor::Init::Data;
        tt.data = encode(d, wt);
      }
    }
  }
  return m;
}

}  // namespace

// One piece (about 270 lines) because its three placements (one chip,
// experts whole over a group, experts split over a group) share the router's
// outputs, the expert tiles and the phase structure set up at the top; each
// placement is a commented block below, its tasks chained by dependences.
void lowerMoeFFN(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const int64_t E = op.attrs.experts, k = op.attrs.top_k;
  const bool hasBias = op.attrs.bias, tw = op.attrs.transpose_w;
  const bool oss = op.attrs.activation == "gpt_oss_swiglu";
  const float limit = float(op.attrs.limit);
  const int per = hasBias ? 6 : 3;
  if (hasBias && L.o.values)
    throw Error(
        fmt::format("op {}: expert biases are chosen per token; functional runs with them are not supported yet "
                    "(timing-only runs are)",
                    op.name));
  const ActTensor& x = L.act(op.inputs[0]);
  const ActTensor& idx = L.act(op.inputs[1]);
  const ActTensor& wts = L.act(op.inputs[2]);
  const GTensor& g0 = L.g.tensor(op.inputs[3]);
  const int64_t D = x.cols, F = tw ? g0.shape[0] : g0.shape[1];
  const DType wt = L.o.precision == Precision::Int8 ? DType::I8 : DType::F16;
  const int v = c.vxmPosition(), lanes = c.lanes();
  const Cycle alu = c.latency.vxm_alu, sp = c.latency.vxm_special, conv = c.latency.vxm_convert;

  // Experts placed whole (tensor parallelism, wholeExperts): this chip holds
  // experts base..base+local-1 and runs `slots` of them per token: each of
  // its own when it has no more than k (no index: the weight is zero unless
  // the router chose it), else the k choices with the index made local and
  // the weight zeroed when the choice is another chip's expert. The output
  // is this chip's part of the sum; in a second phase the parts of the group
  // (exchanged in between) are added.
  const bool whole = L.o.tp > 1 && L.o.wholeExperts;
  if (whole && E % L.o.tp != 0)
    throw Error(fmt::format("op {}: {} experts placed whole over {} chips: the chips must divide the experts", op.name,
                            E, L.o.tp));
  const int64_t local = whole ? E / L.o.tp : E, base = whole ? L.o.rank * local : 0;
  const bool fixed = whole && local <= k;
  const int64_t slots = fixed ? local : k;
  if (whole && L.phase == 1) {  // y = this chip's part + the others'
    const ActTensor& y = L.act(op.outputs[0]);
    const ActTensor& part = L.act(op.name + ".part");
    for (int64_t r = 0; r < y.vrows(); ++r) {
      TaskBuilder b = L.builder(fmt::format("{}.reduce{}", op.name, r));
      std::vector<std::pair<const ActTensor*, int>> rows{{&part, int(r)}};
      for (int a = 0; a < L.o.tp; ++a)
        if (a != L.o.rank) rows.push_back({&L.act(fmt::format("{}.from{}", part.name, a)), int(r)});
      Cycle at = 0;
      b.write(y.tensor, uint32_t(r), sumRows(c, b, rows, at), y.firstRow + int(r));
      L.addTask(b);
    }
    return;
  }

  // With tensor parallelism and experts split, in two phases: gate, up and
  // the activation of the chunks this chip owns; (all-gather of the
  // activations); down of the output chunks it owns, and their sum
  // (all-gathered as the op's output).
  const bool first = L.phase == 0, last = whole || L.phase + 1 == L.phases(size_t(L.op));
  ExpertMatrix gate, up, down;
  if (first) {
    gate = placeExperts(L, op, 0, per, E, base, local, D, F, tw, wt, op.name + ".gate", !fixed, whole);
    up = placeExperts(L, op, 1, per, E, base, local, D, F, tw, wt, op.name + ".up", !fixed, whole);
  }
  if (last)  // chunks owned in this phase
    down = placeExperts(L, op, 2, per, E, base, local, F, D, tw, wt, op.name + ".down", !fixed, whole);
  // Useful work: each token's `slots` experts (on the chip: its choices, or its own experts when it
  // has no more than k, all of which a token may choose); the distinct experts' tiles streamed once.
  const uint64_t streamed = uint64_t(std::min<int64_t>(local, x.rows * slots));
  auto count = [&](const char* what, int64_t K, int64_t N) {
    const uint64_t cols = uint64_t(L.ownedColumns(N, whole)) * uint64_t(K);
    L.countMxm(wt, uint64_t(x.rows * slots) * cols, op.name + what, streamed * cols * uint64_t(bytes(wt)));
  };
  if (first) count(".gate", D, F), count(".up", D, F);
  if (last) count(".down", F, D);
  // gpt-oss biases: timing only (rejected above with values), read from expert 0's rows.
  const ActTensor* bGate = hasBias ? &L.constant(op.inputs[3 + 3], {x.group}) : nullptr;
  const ActTensor* bUp = hasBias ? &L.constant(op.inputs[3 + 4], {x.group}) : nullptr;
  const ActTensor* bDown = hasBias ? &L.constant(op.inputs[3 + 5], {x.group}) : nullptr;

  // Whole experts: per token and slot, the local expert's index (gathered)
  // and its weight, from the router's k choices.
  const ActTensor* selIdx = &idx;
  const ActTensor* selW = &wts;
  if (whole) {
    ActTensor& li = L.newAct(op.name + ".local_index", x.rows * slots, 1, {idx.group, wts.group});
    ActTensor& lw = L.newAct(op.name + ".local_weight", x.rows * slots, 1, {idx.group, wts.group, li.group});
    selIdx = &li, selW = &lw;
    // 1 where d is 0, else 0 (d an integer in fp32): 1 - min(|d|, 1).
    auto isZero = [&](TaskBuilder& b, Val d, Cycle& at) {
      d = b.vxm(Opcode::ABS, DType::F32, at, d);
      d = b.vxm(Opcode::MINI, DType::F32, at += alu, d, {}, f32bits(1.0f));
      d = b.vxm(Opcode::MULI, DType::F32, at += alu, d, {}, f32bits(-1.0f));
      d = b.vxm(Opcode::ADDI, DType::F32, at += alu, d, {}, f32bits(1.0f));
      at += alu;
      return d;
    };
    for (int64_t t = 0; t < x.rows; ++t)
      for (int64_t j = 0; j < slots; ++j) {
        const int row = int(t * slots + j);
        TaskBuilder b = L.builder(fmt::format("{}.select[{}.{}]", op.name, t, j));
        auto rd = [&](const ActTensor& a, int r, Cycle when) {
          return b.read(a.tensor, uint32_t(r), v, when, a.firstRow + r);
        };
        if (fixed) {  // weight of local expert j: the sum over choices s of w_s [idx_s == base + j]
          // Term s starts s ALU steps in (one read of a slice a cycle) and is added as the running sum arrives.
          Val acc;
          Cycle done = 0;
          for (int64_t s = 0; s < k; ++s) {
            const int choice = int(t * k + s);
            Cycle at = Cycle(s) * alu;
            Val d = b.vxm(Opcode::ADDI, DType::F32, at, rd(idx, choice, at), {}, f32bits(-float(base + j)));
            at += alu;
            Val e = isZero(b, d, at);
            e = b.vxm(Opcode::MUL, DType::F32, at, e, rd(wts, choice, at));
            at += alu;
            acc = s == 0 ? b.vxm(Opcode::MOV, DType::F32, at, e) : b.vxm(Opcode::ADD, DType::F32, at, acc, e);
            done = at + alu;
          }
          b.write(lw.tensor, uint32_t(row), acc, lw.firstRow + row);
          // the index row (the loads need none): j
          Val z = b.vxm(Opcode::MULI, DType::F32, done, rd(idx, int(t * k), done), {}, f32bits(0.0f));
          b.write(li.tensor, uint32_t(row), b.vxm(Opcode::ADDI, DType::F32, done + alu, z, {}, f32bits(float(j))),
                  li.firstRow + row);
        } else {  // choice j: its index made local and clamped; its weight zeroed if it is not this chip's
          const int choice = int(t * k + j);
          Cycle at = 0;
          Val d = b.vxm(Opcode::ADDI, DType::F32, at, rd(idx, choice, at), {}, f32bits(-float(base)));
          Val cl = b.vxm(Opcode::MAXI, DType::F32, at + alu, d, {}, f32bits(0.0f));
          cl = b.vxm(Opcode::MINI, DType::F32, at + 2 * alu, cl, {}, f32bits(float(local - 1)));
          b.write(li.tensor, uint32_t(row), cl, li.firstRow + row);
          // d again, beside the clamped index
          Val d2 =
              b.vxm(Opcode::ADDI, DType::F32, at + 2 * alu, rd(idx, choice, at + 2 * alu), {}, f32bits(-float(base)));
          Val diff = b.vxm(Opcode::SUB, DType::F32, at + 3 * alu, d2, cl);
          at += 4 * alu;
          Val e = isZero(b, diff, at);
          b.write(lw.tensor, uint32_t(row), b.vxm(Opcode::MUL, DType::F32, at, e, rd(wts, choice, at)),
                  lw.firstRow + row);
        }
        L.addTask(b);
      }
  }

  // One expert matrix applied to row r of `in`, for expert choice row `choice`;
  // `post` finishes each drained chunk (scaled back from int8 first).
  auto apply = [&](const ExpertMatrix& m, const std::string& label, const ActTensor& in, int r, int choice,
                   const std::function<Val(TaskBuilder&, int j, Val acc, Cycle at)>& post, ActTensor& out) {
    MxmJob job;
    job.label = label;
    job.wt = wt;
    job.kTiles = m.kTiles;
    job.nChunks = m.nChunks;
    job.rows = 1;
    job.plane = [&](int j) { return m.plane[size_t(j)]; };
    job.sharded = !whole;
    // A chip's own experts are always applied (each its tiles); chosen ones are gathered by index.
    const size_t e = fixed ? size_t(choice % slots) : 0;
    job.tile = [&, e](int i, int j, const PlaneId&) { return m.tile[e][size_t(j * m.kTiles + i)]; };
    job.stride = m.stride;
    if (!fixed)
      job.index = [&](TaskBuilder& b, Cycle at) {
        return b.read(selIdx->tensor, uint32_t(choice), v, at, selIdx->firstRow + choice);
      };
    job.feed = [&](TaskBuilder& b, int, int i, Cycle at, const PlaneId& plane) {
      return feedMatmulRow(L, b, in, nullptr, r, i, at, plane, wt);
    };
    job.drain = [&](TaskBuilder& b, int, int j, Val acc) {
      Cycle e = b.availAt(acc, v);
      if (wt == DType::I8) {
        acc = b.vxm(Opcode::CVT, DType::F32, e, acc, {}, 0, DType::I32);
        e += conv;
        acc = b.vxm(Opcode::MUL, DType::F32, e, acc, b.read(m.scaleT, uint32_t(j), v, e, -1));
        e += alu;
      } else {
        acc = b.vxm(Opcode::MOV, DType::F32, e, acc);
        e += alu;
      }
      acc = post(b, j, acc, e);
      b.write(out.tensor, uint32_t(j), acc, out.firstRow + j);
    };
    runMxmJob(L, job);
  };
  auto addBias = [&](const ActTensor* bias) {
    return [&, bias](TaskBuilder& b, int j, Val acc, Cycle at) -> Val {
      if (!bias) return acc;
      return b.vxm(Opcode::ADD, DType::F32, at, acc, b.read(bias->tensor, uint32_t(j), v, at, -1));
    };
  };

  // down, scaled by the expert's weight
  auto downAndScale = [&](const std::string& tag, int choice, std::vector<const ActTensor*>& parts) {
    const ActTensor& av = L.act(tag + ".act");
    ActTensor& dv = L.newAct(tag + ".down", 1, D, {av.group});
    auto scaleByWeight = [&](TaskBuilder& b, int j, Val acc, Cycle at) -> Val {
      acc = addBias(bDown)(b, j, acc, at);
      if (bDown) at += alu;
      return b.vxm(Opcode::MUL, DType::F32, at, acc,
                   b.read(selW->tensor, uint32_t(choice), v, at, selW->firstRow + choice));
    };
    apply(down, tag + ".down", av, 0, choice, scaleByWeight, dv);
    parts.push_back(&dv);
  };

  if (first) L.newAct(op.outputs[0], x.rows, D, {x.group});
  if (whole) {  // this chip's part of the sum, and the others' as they arrive
    const ActTensor& p = L.newAct(op.name + ".part", x.rows, D, {x.group});
    for (int a = 0; a < L.o.tp; ++a)
      if (a != L.o.rank) L.newAct(fmt::format("{}.from{}", p.name, a), x.rows, D, {x.group});
    L.reductions().push_back(p.name);
  }
  const ActTensor& y = L.act(whole ? op.name + ".part" : op.outputs[0]);
  const int dch = int(y.chunks);
  for (int64_t t = 0; t < x.rows; ++t) {
    std::vector<const ActTensor*> parts;
    for (int64_t s = 0; s < slots; ++s) {
      const int choice = int(t * slots + s);
      const std::string tag = fmt::format("{}[{}.{}]", op.name, t, s);
      if (!first) {
        downAndScale(tag, choice, parts);
        continue;
      }
      ActTensor& gv = L.newAct(tag + ".gate", 1, F, {x.group});
      ActTensor& uv = L.newAct(tag + ".up", 1, F, {x.group, gv.group});
      apply(gate, tag + ".gate", x, int(t), choice, addBias(bGate), gv);
      apply(up, tag + ".up", x, int(t), choice, addBias(bUp), uv);
      // a = silu(gate) * up, or gpt-oss: min(gate, l) sigmoid(1.702 min(gate, l)) (clamp(up, -l, l) + 1)
      ActTensor& av = L.newAct(tag + ".act", 1, F, {gv.group, uv.group});
      for (int j = 0; j < int(av.chunks); ++j) {
        if (!whole && !L.owns(j)) continue;
        TaskBuilder b = L.builder(fmt::format("{}.act{}", tag, j));
        auto rd = [&](const ActTensor& a, Cycle when) {
          return b.read(a.tensor, uint32_t(j), v, when, a.firstRow + j);
        };
        Cycle at = 0;
        Val g = rd(gv, at);
        if (oss) g = b.vxm(Opcode::MINI, DType::F32, at, g, {}, f32bits(limit)), at += alu;
        Val z =
            oss ? b.vxm(Opcode::MULI, DType::F32, at, g, {}, f32bits(-1.702f)) : b.vxm(Opcode::NEG, DType::F32, at, g);
        z = b.vxm(Opcode::EXP, DType::F32, at += alu, z);
        z = b.vxm(Opcode::ADDI, DType::F32, at += sp, z, {}, f32bits(1.0f));
        z = b.vxm(Opcode::RSQRT, DType::F32, at += alu, z);
        z = b.vxm(Opcode::MUL, DType::F32, at += sp, z, z);  // sigmoid(-z), ready at at + alu
        at += alu;
        const Val g2 =
            oss ? b.vxm(Opcode::MINI, DType::F32, at - alu, rd(gv, at - alu), {}, f32bits(limit)) : rd(gv, at);
        const Val a = b.vxm(Opcode::MUL, DType::F32, at, z, g2);
        at += alu;
        Val u;
        if (oss) {  // clamp(up, -l, l) + 1, ready as a is
          u = b.vxm(Opcode::MAXI, DType::F32, at - 3 * alu, rd(uv, at - 3 * alu), {}, f32bits(-limit));
          u = b.vxm(Opcode::MINI, DType::F32, at - 2 * alu, u, {}, f32bits(limit));
          u = b.vxm(Opcode::ADDI, DType::F32, at - alu, u, {}, f32bits(1.0f));
        } else {
          u = rd(uv, at);
        }
        b.write(av.tensor, uint32_t(j), b.vxm(Opcode::MUL, DType::F32, at, a, u), av.firstRow + j);
        L.addTask(b);
      }
      if (!last) {
        L.gathers().push_back(av.name);
        continue;
      }
      downAndScale(tag, choice, parts);
    }
    if (!last) continue;
    for (int j = 0; j < dch; ++j) {  // y = sum of the k experts' outputs
      if (!whole && !L.owns(j)) continue;
      TaskBuilder b = L.builder(fmt::format("{}.sum[{}].{}", op.name, t, j));
      std::vector<std::pair<const ActTensor*, int>> rows;
      for (const ActTensor* p : parts) rows.push_back({p, j});
      Cycle at = 0;
      const int row = int(t * dch + j);
      b.write(y.tensor, uint32_t(row), sumRows(c, b, rows, at), y.firstRow + row);
      L.addTask(b);
    }
  }
  (void)lanes;
}

}  // namespace lpu
