// MatMul: weight tiles streamed through the MXM planes (runMxmJob), the
// input fed a row at a time (int8 at the static activation scale, or fp16),
// the accumulators drained through the VXM into the output with the
// per-column scales and the bias.
#include <fmt/format.h>

#include <cmath>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering.h"
#include "lowering_ops.h"
#include "mxm_job.h"

namespace lpu {

const Lowerer::Int8Rows* Lowerer::int8Rows(const ActTensor& x) {
  if (const auto it = int8_.find(x.name); it != int8_.end()) return it->second.tensor < 0 ? nullptr : &it->second;
  Int8Rows& q = int8_[x.name];
  q.tensor = layout_.addSpreadRows(p, x.name + ".i8", uint32_t(x.vrows()));
  if (q.tensor < 0) return nullptr;
  q.firstRow = layout_.newRows(x.vrows());
  const int v = c.vxmPosition();
  const double xs = o.activationScale;
  auto quantize = [&](TaskBuilder& b, int64_t r, int64_t k, Cycle at) {
    const int row = int(r * x.chunks + k);
    auto xv = b.read(x.tensor, uint32_t(row), v, at, x.firstRow + row);
    auto sv = b.vxm(Opcode::MULI, DType::F32, at, xv, {}, f32bits(float(1.0 / xs)));
    auto qv = b.vxm(Opcode::CVT, DType::I8, at + c.latency.vxm_alu, sv, {}, 0, DType::F32);
    b.write(q.tensor, uint32_t(row), qv, q.firstRow + row);
  };
  for (int64_t r = 0; r < x.rows; ++r) {  // a task a row: its chunks one a cycle
    TaskBuilder b = builder(fmt::format("{}.i8[{}]", x.name, r));
    for (int64_t k = 0; k < x.chunks; ++k) quantize(b, r, k, Cycle(k));
    if (!b.usesAQueueTwice()) {
      addTask(b);
      continue;
    }
    // A chunk's write meets a later chunk's read on one of x's slices: a task a chunk.
    for (int64_t k = 0; k < x.chunks; ++k) {
      TaskBuilder one = builder(fmt::format("{}.i8[{}.{}]", x.name, r, k));
      quantize(one, r, k, 0);
      addTask(one);
    }
  }
  return &q;
}

TaskBuilder::Val feedMatmulRow(Lowerer& L, TaskBuilder& b, const ActTensor& x, const Lowerer::Int8Rows* xq, int r,
                               int i, Cycle at, const PlaneId& plane, DType wt) {
  const ChipConfig& c = L.c;
  const int v = c.vxmPosition(), lanes = c.lanes();
  const double xs = L.o.activationScale;
  const int pp = c.position(QueueId{Unit::MXM, plane.east, plane.index, 0});
  const Cycle toPlane = Cycle(std::abs(v - pp)) * c.stream_hop;
  if (xq) {  // quantized already: the row goes from its slice to the plane
    const int row = int(r * x.chunks + i);
    return b.read(xq->tensor, uint32_t(row), pp, at, xq->firstRow + row);
  }
  if (wt == DType::I8) {  // x / scale -> int8
    const Cycle f = at - toPlane - c.latency.vxm_convert - c.latency.vxm_alu;
    const int row = int(r * x.chunks + i);
    auto xv = b.read(x.tensor, uint32_t(row), v, f, x.firstRow + row);
    auto sv = b.vxm(Opcode::MULI, DType::F32, f, xv, {}, f32bits(float(1.0 / xs)));
    return b.vxm(Opcode::CVT, DType::I8, f + c.latency.vxm_alu, sv, {}, 0, DType::F32);
  }
  if (x.width < lanes) {  // one head per tile: its row goes as it is
    const Cycle f = at - toPlane - c.latency.vxm_convert;
    const int row = int(r * x.chunks + i);
    return b.vxm(Opcode::CVT, DType::F16, f, b.read(x.tensor, uint32_t(row), v, f, x.firstRow + row), {}, 0,
                 DType::F32);
  }
  const int half = i % 2, row = int(r * x.chunks + i / 2);  // fp16: lanes/2 rows per tile
  const Cycle f = at - toPlane - (half ? c.latency.sxm_shift : 0) - c.latency.vxm_convert;
  auto xv = b.read(x.tensor, uint32_t(row), v, f, x.firstRow + row);
  auto h = b.vxm(Opcode::CVT, DType::F16, f, xv, {}, 0, DType::F32);
  return half ? feedHalf(L, b, h, plane, r) : h;
}

// One piece (about 130 lines): it only fills one MxmJob (tiles, feed, drain)
// whose callbacks share the op's weights, scales and packing; runMxmJob
// then schedules it. Split, the callbacks would need all of that passed in.
void lowerMatMul(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const ActTensor& x = L.act(op.inputs[0]);
  const GTensor& w = L.g.tensor(op.inputs[1]);
  const bool tw = op.attrs.transpose_w;
  const DType wt = L.o.precision == Precision::Int8 ? DType::I8 : DType::F16;
  const int lanes = c.lanes();
  // A tile holds lanes (int8) or lanes/2 (fp16) rows of K; an input in
  // per-head rows gives one tile per head instead.
  const bool perHead = x.width < lanes;
  const int tileRows = perHead ? x.width : wt == DType::I8 ? lanes : lanes / 2;
  if (perHead && tileRows > (wt == DType::I8 ? lanes : lanes / 2))
    throw Error(fmt::format("op {}: heads of {} exceed an {} plane's {} rows", op.name, tileRows, dtypeName(wt),
                            wt == DType::I8 ? lanes : lanes / 2));
  const int64_t K = tw ? w.shape[1] : w.shape[0], N = tw ? w.shape[0] : w.shape[1];
  const int kTiles = int((K + tileRows - 1) / tileRows), nChunks = int((N + lanes - 1) / lanes);

  // Weight values (functional) and int8 per-column scales.
  std::vector<float> wv;
  if (L.o.values) wv = L.valuesOf(w);
  auto weight = [&](int64_t k, int64_t n) -> double { return wv[size_t(tw ? n * K + k : k * N + n)]; };
  std::vector<double> colScale(size_t(N), 1.0);
  if (!wv.empty() && wt == DType::I8)
    for (int64_t n = 0; n < N; ++n) {
      double mx = 0;
      for (int64_t k = 0; k < K; ++k) mx = std::max(mx, std::fabs(weight(k, n)));
      colScale[size_t(n)] = mx > 0 ? mx / 127.0 : 1.0;
    }
  const double xs = L.o.activationScale;

  // Post-processing constants per output chunk: int8 column scale x
  // activation scale, and the bias.
  // The bias first (a constant, perhaps placed by an earlier op), then this op's scales off its group: a
  // drain of several rows reads the scale of one row as it reads the bias of another.
  const ActTensor* bias = op.inputs.size() == 3 ? &L.constant(op.inputs[2], {x.group}) : nullptr;
  std::vector<int> scaleAvoid{x.group};
  if (bias) scaleAvoid.push_back(bias->group);
  // More rows than one accumulator set holds (a prompt chunk): a copy of the scales in up to 3 groups,
  // chunk j's drains reading copy j % copies, so that the drains of the planes do not all wait for one
  // group's slices. (Measured: a 64-token llama-3.2-1b layer 54,271 -> 49,378 cycles; but 32 rows of
  // [1024 x 2048] 740 -> 820, the output and the copies then nearer the rows' slices: not for those.)
  std::vector<int> scaleT;
  std::vector<int> avoid{x.group};  // y's writes then never wait for the reads of x, the scales or the bias
  if (bias) avoid.push_back(bias->group);
  const int copies = x.rows > c.mxm_accumulators / 2 ? std::min(3, L.layout_.groups() - int(avoid.size()) - 1) : 1;
  for (int k = 0; wt == DType::I8 && k < std::max(1, copies); ++k) {
    scaleT.push_back(columnScales(L, op.name + (k ? fmt::format(".scale{}", k) : ".scale"), nChunks, colScale,
                                  !wv.empty(), xs, scaleAvoid));
    scaleAvoid.push_back(L.layout_.groupAt(L.p.tensors[size_t(scaleT.back())].slice));
    avoid.push_back(scaleAvoid.back());
  }
  ActTensor& y = L.newAct(op.outputs[0], x.rows, N, avoid);
  const int v = c.vxmPosition();

  MxmJob job;
  job.label = op.name;
  job.sharded = true;
  job.wt = wt;
  job.kTiles = kTiles;
  job.nChunks = nChunks;
  job.rows = int(x.rows);
  // A last output chunk of `used` lanes: `pack` k tiles side by side in one tile (as many as fit and
  // the accumulators allow), instead of tiles mostly padding.
  const int used = int(N - int64_t(nChunks - 1) * lanes);
  const int pack = perHead ? 1 : std::min({lanes / used, c.mxm_accumulators, kTiles});
  std::vector<int> tiles(size_t(kTiles) * size_t(nChunks), -1);
  job.tile = [&](int i, int j, const PlaneId& plane) {
    int& t = tiles[size_t(j) * size_t(kTiles) + size_t(i)];
    if (t >= 0) return t;
    const int slots = j + 1 == nChunks ? pack : 1;  // k tile i * slots + s at lanes s * used
    const int64_t k0 = int64_t(i) * slots * tileRows;
    const uint32_t rows = uint32_t(std::min<int64_t>(tileRows, K - k0));
    t = L.layout_.addTile(L.p, plane, fmt::format("{}.w{}_{}", op.name, i, j), wt, rows);
    if (!wv.empty()) {
      std::vector<double> d(size_t(rows) * size_t(lanes), 0.0);
      for (int s = 0; s < slots; ++s) {
        const int64_t ks = k0 + int64_t(s) * tileRows;  // k tile ks / tileRows: rows up to K
        const int width = slots > 1 ? used : lanes;
        for (int64_t r = 0; r < int64_t(rows) && ks + r < K; ++r)
          for (int col = 0; col < width && int64_t(j) * lanes + col < N; ++col) {
            const int64_t n = int64_t(j) * lanes + col;
            const double wvl = weight(ks + r, n);
            d[size_t(r) * size_t(lanes) + size_t(s * width + col)] =
                wt == DType::I8 ? std::nearbyint(wvl / colScale[size_t(n)]) : wvl;
          }
      }
      Tensor& tt = L.p.tensors[size_t(t)];
      tt.init = Tensor::Init::Data;
      tt.data = encode(d, wt);
    }
    return t;
  };
  // Several rows: quantized once, each row then a read from its own slice.
  const Lowerer::Int8Rows* xq = wt == DType::I8 && x.rows > 1 ? L.int8Rows(x) : nullptr;
  job.feed = [&](TaskBuilder& b, int r, int i, Cycle at, const PlaneId& plane) {
    return feedMatmulRow(L, b, x, xq, r, i, at, plane, wt);
  };
  job.drain = [&](TaskBuilder& b, int r, int j, TaskBuilder::Val acc) {
    if (wt == DType::I8 || bias) {
      Cycle e = b.availAt(acc, v);
      if (wt == DType::I8) {
        acc = b.vxm(Opcode::CVT, DType::F32, e, acc, {}, 0, DType::I32);
        e += c.latency.vxm_convert;
        acc = b.vxm(Opcode::MUL, DType::F32, e, acc, b.read(scaleT[size_t(j) % scaleT.size()], uint32_t(j), v, e, -1));
        e += c.latency.vxm_alu;
      }
      if (bias) acc = b.vxm(Opcode::ADD, DType::F32, e, acc, b.read(bias->tensor, uint32_t(j), v, e, -1));
    }
    const int row = int(r * y.chunks + j);
    b.write(y.tensor, uint32_t(row), acc, y.firstRow + row);
  };
  if (pack > 1) {
    // Each slot's partial sums of the last chunk, at lane 0: scaled (int8: the scales past `used` are 0)
    // or masked (fp16), kept in rows of their own, then added (and the bias) into y.
    job.pack = pack, job.packWidth = used;
    const ActTensor& part = L.newAct(op.name + ".slots", x.rows * pack, lanes, avoid);
    const int mask = wt == DType::I8 ? -1 : L.laneMask(used, false, {part.group});
    // Runs in runMxmJob, after this block: mask and the slots tensor (kept by L) by value.
    job.drainSlot = [&, mask, slots = &part](TaskBuilder& b, int r, int j, int s, TaskBuilder::Val acc) {
      Cycle e = b.availAt(acc, v);
      if (wt == DType::I8) {
        acc = b.vxm(Opcode::CVT, DType::F32, e, acc, {}, 0, DType::I32);
        e += c.latency.vxm_convert;
      }
      acc = b.vxm(Opcode::MUL, DType::F32, e, acc,
                  wt == DType::I8 ? b.read(scaleT[size_t(j) % scaleT.size()], uint32_t(j), v, e, -1)
                                  : b.read(mask, 0, v, e, -1));
      const int row = r * pack + s;
      b.write(slots->tensor, uint32_t(row), acc, slots->firstRow + row);
    };
  }
  const int64_t cols = L.ownedColumns(N);  // useful MACs: rows x K x the columns this chip computes
  L.countMxm(wt, uint64_t(x.rows) * uint64_t(K) * uint64_t(cols), w.name, uint64_t(K) * uint64_t(cols) * bytes(wt));
  runMxmJob(L, job);
  if (pack == 1 || (L.o.tp > 1 && !L.owns(nChunks - 1))) return;
  const ActTensor& part = L.act(op.name + ".slots");
  const int j = nChunks - 1;
  for (int64_t r = 0; r < x.rows; ++r) {
    TaskBuilder b = L.builder(fmt::format("{}.slots[{}]", op.name, r));
    std::vector<std::pair<const ActTensor*, int>> rows;
    for (int s = 0; s < pack; ++s) rows.push_back({&part, int(r) * pack + s});
    Cycle at = 0;
    TaskBuilder::Val acc = sumRows(c, b, rows, at);
    if (bias) acc = b.vxm(Opcode::ADD, DType::F32, at, acc, b.read(bias->tensor, uint32_t(j), v, at, -1));
    const int row = int(r * y.chunks + j);
    b.write(y.tensor, uint32_t(row), acc, y.firstRow + row);
    L.addTask(b);
  }
}
}  // namespace lpu
