// Embedding lookup: a token's row is picked by an MXM pass of a one-hot
// vector over the one tile of the table that holds it. The table lives as
// weight tiles (rows = tokens, lanes = a chunk of the embedding), tile i at
// base + i * (rows per slice). The VXM computes the tile's address from the
// token id, and the plane's slices gather that tile's rows onto the weight
// streams: the address map flows from the VXM to each slice and the rows on
// to the MXM, the same distance whichever slice, so each LW's rows arrive
// together. Static timing, data-dependent addresses.
#include <fmt/format.h>

#include <cmath>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

}  // namespace

// One piece (about 230 lines) because each output chunk is one task whose
// instructions are timed against each other: the id's read, the tile index,
// the gather map, the LWs, the one-hot selector and the drain are offsets of
// one cycle `at`; the lambdas inside share that chunk's tiles and constants.
void lowerEmbedding(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const ActTensor& ids = L.act(op.inputs[0]);
  const GTensor& table = L.g.tensor(op.inputs[1]);
  const int64_t V = table.shape[0], D = table.shape[1];
  const DType wt = L.o.precision == Precision::Int8 ? DType::I8 : DType::F16;
  const int lanes = c.lanes(), wb = bytes(wt), kt = wt == DType::I8 ? lanes : lanes / 2;
  const int rowsPerLw = c.mxm_weight_streams / wb, nLw = (kt + rowsPerLw - 1) / rowsPerLw;
  const uint32_t words = uint32_t(kt / (c.mxm_weight_streams / wb));  // addresses per tile in each slice
  const int tilesPerChunk = int((V + kt - 1) / kt), chunks = int((D + lanes - 1) / lanes);
  ActTensor& y = L.newAct(op.outputs[0], ids.rows, D, {ids.group});
  const int v = c.vxmPosition();
  const Cycle alu = c.latency.vxm_alu, conv = c.latency.vxm_convert;

  std::vector<float> tv;
  if (L.o.values) tv = L.valuesOf(table);
  std::vector<double> colScale(size_t(D), 1.0);
  if (!tv.empty() && wt == DType::I8)
    for (int64_t d = 0; d < D; ++d) {
      double mx = 0;
      for (int64_t r = 0; r < V; ++r) mx = std::max(mx, std::fabs(double(tv[size_t(r * D + d)])));
      colScale[size_t(d)] = mx > 0 ? mx / 127.0 : 1.0;
    }
  // Lane index constant (0, 1, 2, ...) for the one-hot vector, and the int8 column scales.
  std::vector<double> lane(static_cast<size_t>(lanes));
  for (int l = 0; l < lanes; ++l) lane[size_t(l)] = l;
  Tensor li;
  li.name = op.name + ".lanes";
  li.dtype = DType::F32;
  li.cols = uint32_t(lanes);
  li.init = Tensor::Init::Data;
  li.data = encode(lane, DType::F32);
  const int laneT = L.layout_.addConstant(L.p, li, L.layout_.groupFor({ids.group}));
  const int scaleT = wt == DType::I8
                         ? columnScales(L, op.name + ".scale", chunks, colScale, !tv.empty(), 1.0, {ids.group, y.group})
                         : -1;

  // A last chunk of no more than half the lanes holds two tokens a row: the
  // first V2 tokens at lanes 0.., the rest at lanes lanes/2.. (half the
  // tiles). A token past V2 gathers row id - V2, and its half is rotated
  // to lane 0 on the way out.
  const int half = lanes / 2;
  const int64_t V2 = ((V + 1) / 2 + kt - 1) / kt * kt;
  auto packed = [&](int j) { return D - int64_t(j) * lanes <= half && V > kt; };
  const int maskT =
      wt == DType::I8 ? -1 : L.laneMask(int(D - int64_t(chunks - 1) * lanes), false, {ids.group, y.group});

  for (int j = 0; j < chunks; ++j) {
    if (!L.owns(j)) continue;  // tensor parallelism: another chip gathers this chunk
    const bool pk = packed(j);
    const int nTiles = pk ? int(V2 / kt) : tilesPerChunk;
    Lowerer::PlaneState& ps = L.nextPlane(uint32_t(nTiles) * words, false);
    const QueueId q0{Unit::MXM, ps.id.east, ps.id.index, 0}, q1{Unit::MXM, ps.id.east, ps.id.index, 1},
        q2{Unit::MXM, ps.id.east, ps.id.index, std::min(2, c.mxm_queues_per_plane - 1)};
    const int pp = c.position(q0);
    if (ps.mode != wt) {
      TaskBuilder b = L.builder(fmt::format("{}.config", op.name));
      Instr in;
      in.op = Opcode::CONFIG;
      in.dt = wt;
      b.issue(0, q0, in);
      if (ps.lastCompute >= 0) b.dependOn(ps.lastCompute, 0, ps.lastAbc, 1);
      for (size_t a = 0; a < ps.drain.size(); ++a)
        if (ps.drain[a] >= 0) b.dependOn(ps.drain[a], 0, ps.drainRel[a], 1);
      ps.config = L.addTask(b);
      ps.mode = wt;
    }
    // The table's tiles for this chunk, consecutive on the plane.
    std::vector<int> tiles;
    for (int i = 0; i < nTiles; ++i) {
      const uint32_t rows = uint32_t(kt);  // full tiles: the gather arithmetic assumes a fixed stride
      const int t =
          L.layout_.addTile(L.p, ps.id, fmt::format("{}.t{}_{}", op.name, i, j), wt, rows, false, Layout::Place::Plane);
      if (!tiles.empty() && !L.layout_.overflowed() &&
          L.p.tensors[size_t(t)].addr != L.p.tensors[size_t(tiles.back())].addr + words)
        throw Error(fmt::format("internal: embedding tiles of {} are not consecutive", op.name));
      tiles.push_back(t);
      if (tv.empty()) continue;
      std::vector<double> d(size_t(rows) * size_t(lanes), 0.0);
      for (int side = 0; side < (pk ? 2 : 1); ++side)  // packed: tokens V2.. at lanes half..
        for (uint32_t r = 0; r < rows; ++r) {
          const int64_t token = int64_t(i) * kt + r + (side ? V2 : 0);
          for (int l = 0; token < V && l < lanes && int64_t(j) * lanes + l < D; ++l) {
            const double w = tv[size_t(token * D + int64_t(j) * lanes + l)];
            d[size_t(r) * size_t(lanes) + size_t(l + side * half)] =
                wt == DType::I8 ? std::nearbyint(w / colScale[size_t(j * lanes + l)]) : w;
          }
        }
      Tensor& tt = L.p.tensors[size_t(t)];
      tt.init = Tensor::Init::Data;
      tt.data = encode(d, wt);
    }
    const uint32_t base = L.p.tensors[size_t(tiles[0])].addr;
    const int acc = ps.uses++ % c.mxm_accumulators;

    for (int64_t t = 0; t < ids.rows; ++t) {
      TaskBuilder b = L.builder(fmt::format("{}[{}].{}", op.name, t, j));
      auto readId = [&](Cycle at) { return b.read(ids.tensor, uint32_t(t), v, at, ids.firstRow + int(t)); };
      // a = 1 if id >= V2 else 0 (at the VXM in cycle at + 3 alu), read in cycle `at`.
      auto upper = [&](Cycle at) {
        auto q = b.vxm(Opcode::ADDI, DType::F32, at, readId(at), {}, f32bits(float(-(V2 - 1))));
        q = b.vxm(Opcode::RELU, DType::F32, at + alu, q);
        return b.vxm(Opcode::MINI, DType::F32, at + 2 * alu, q, {}, f32bits(1.0f));
      };
      // The id, or in a packed chunk its row (id - V2 a), at the VXM in cycle `at`.
      auto idAt = [&](Cycle at) {
        if (!pk) return readId(at);
        auto a = upper(at - 5 * alu);
        a = b.vxm(Opcode::MULI, DType::F32, at - 2 * alu, a, {}, f32bits(float(-V2)));
        return b.vxm(Opcode::ADD, DType::F32, at - alu, a, readId(at - alu));
      };
      // m = floor(id / kt), the tile of the token (exact for id < 2^24: margin 0.5 / kt).
      auto tileOf = [&](Cycle at) {
        auto id = idAt(at);
        auto q = b.vxm(Opcode::MULI, DType::F32, at, id, {}, f32bits(float(1.0 / kt)));
        q = b.vxm(Opcode::ADDI, DType::F32, at + alu, q, {}, f32bits(float(-0.5 + 0.5 / kt)));
        return b.vxm(Opcode::CVT, DType::I32, at + 2 * alu, q, {}, 0, DType::F32);  // at the VXM at + 2 alu + conv
      };
      auto m = tileOf(0);
      Cycle at = 2 * alu + conv;
      auto map = b.vxm(Opcode::MULI, DType::I32, at, m, {}, words);  // address of the tile's first row
      map = b.vxm(Opcode::ADDI, DType::I32, at + alu, map, {}, base);
      at += 2 * alu;
      // LW k takes the tile's k-th address in every slice: map + k, one map per ALU latency.
      const Cycle toPlane = Cycle(std::abs(v - pp)) * c.stream_hop + c.latency.mem_read;
      Cycle lw = 0;
      for (int k = 0; k < nLw; ++k) {
        if (k > 0) {
          map = b.vxm(Opcode::ADDI, DType::I32, at, map, {}, 1u);
          at += alu;
        }
        std::vector<TaskBuilder::PlaneRead> reads;
        const uint32_t first = uint32_t(k * rowsPerLw),
                       n = std::min<uint32_t>(uint32_t(rowsPerLw), uint32_t(kt) - first);
        for (uint32_t r = 0; r < n; ++r)
          for (int pl = 0; pl < wb; ++pl) reads.push_back({tiles[0], first + r, pl});
        lw = at + toPlane;
        Instr lwi;
        lwi.op = Opcode::LW;
        lwi.dt = wt;
        lwi.n = n;
        lwi.imm = first;
        b.issue(lw, q0, lwi, {b.gatherPlanes(reads, map, pp, lw)});
        if (k == 0) {
          if (ps.lastCompute >= 0) b.dependOn(ps.lastCompute, lw, ps.lastIw, 1);
          if (ps.config >= 0) b.dependOn(ps.config, lw, 0, 1);
        }
      }
      const Cycle iwAt = lw + c.latency.mxm_load, abcAt = iwAt + c.latency.mxm_install;
      Instr iw;
      iw.op = Opcode::IW;
      iw.imm = uint32_t(kt);
      b.issue(iwAt, q0, iw);
      if (ps.lastCompute >= 0) b.dependOn(ps.lastCompute, iwAt, ps.lastAbc, 1);
      // The one-hot row selector: relu(1 - |lane - (id - kt m)|), computed again so that it
      // reaches the plane as the ABC issues.
      const Cycle sel = abcAt - Cycle(std::abs(v - pp)) * c.stream_hop - 9 * alu - 3 * conv;  // the chain below
      auto m2 = tileOf(sel);
      Cycle u = sel + 2 * alu + conv;
      auto mf = b.vxm(Opcode::CVT, DType::F32, u, m2, {}, 0, DType::I32);
      u += conv;
      auto off = b.vxm(Opcode::MULI, DType::F32, u, mf, {}, f32bits(float(-kt)));
      u += alu;
      auto r = b.vxm(Opcode::ADD, DType::F32, u, off, idAt(u));
      u += alu;
      auto dlt = b.vxm(Opcode::SUB, DType::F32, u, b.read(laneT, 0, v, u, -1), r);
      auto oh = b.vxm(Opcode::ABS, DType::F32, u += alu, dlt);
      oh = b.vxm(Opcode::NEG, DType::F32, u += alu, oh);
      oh = b.vxm(Opcode::ADDI, DType::F32, u += alu, oh, {}, f32bits(1.0f));
      oh = b.vxm(Opcode::RELU, DType::F32, u += alu, oh);
      oh = b.vxm(Opcode::CVT, wt, u += alu, oh, {}, 0, DType::F32);
      u += conv;
      if (u + Cycle(std::abs(v - pp)) * c.stream_hop != abcAt)
        throw Error(fmt::format("internal: {}: the one-hot vector is not at the plane for its pass", op.name));
      Instr abc;
      abc.op = Opcode::ABC;
      abc.dt = wt;
      abc.imm = uint32_t(acc);
      b.issue(abcAt, q1, abc, {oh});
      if (ps.drain[size_t(acc)] >= 0) b.dependOn(ps.drain[size_t(acc)], abcAt, ps.drainRel[size_t(acc)], 1);
      // Drain: the row, scaled back from int8.
      const Cycle accAt = abcAt + c.latency.mxm_pass;
      Instr ac;
      ac.op = Opcode::ACC;
      ac.dt = wt == DType::I8 ? DType::I32 : DType::F32;
      ac.imm = uint32_t(acc);
      auto row = b.issue(accAt, q2, ac);
      if (pk) {  // both halves past the switch (one rotated to lane 0), the token's kept: lo (1 - a) + hi a
        Instr rot;
        rot.op = Opcode::ROT;
        rot.dt = ac.dt;
        const QueueId s0{Unit::SXM, ps.id.east, 0, 0}, s1{Unit::SXM, ps.id.east, 1, 0};
        const Cycle atS = b.availAt(row, c.position(s0));
        rot.imm = 0;
        auto lo = b.issue(atS, s0, rot, {row});
        rot.imm = uint32_t(lanes - half);
        auto hi = b.issue(atS, s1, rot, {row});
        Cycle e = b.availAt(lo, v);
        if (wt == DType::I8) {
          lo = b.vxm(Opcode::CVT, DType::F32, e, lo, {}, 0, DType::I32);
          hi = b.vxm(Opcode::CVT, DType::F32, e, hi, {}, 0, DType::I32);
          e += conv;
        }
        auto na = b.vxm(Opcode::MULI, DType::F32, e - 2 * alu, upper(e - 5 * alu), {}, f32bits(-1.0f));
        na = b.vxm(Opcode::ADDI, DType::F32, e - alu, na, {}, f32bits(1.0f));
        lo = b.vxm(Opcode::MUL, DType::F32, e, lo, na);
        hi = b.vxm(Opcode::MUL, DType::F32, e, hi, upper(e - 3 * alu));
        row = b.vxm(Opcode::ADD, DType::F32, e + alu, lo, hi);
        e += 2 * alu;  // int8: the scales past the chunk's columns are 0; fp16: a mask
        row = b.vxm(Opcode::MUL, DType::F32, e, row,
                    wt == DType::I8 ? b.read(scaleT, uint32_t(j), v, e, -1) : b.read(maskT, 0, v, e, -1));
      } else if (wt == DType::I8) {
        Cycle e = b.availAt(row, v);
        row = b.vxm(Opcode::CVT, DType::F32, e, row, {}, 0, DType::I32);
        e += conv;
        row = b.vxm(Opcode::MUL, DType::F32, e, row, b.read(scaleT, uint32_t(j), v, e, -1));
      }
      const int out = int(t * y.chunks + j);
      b.write(y.tensor, uint32_t(out), row, y.firstRow + out);
      const int task = L.addTask(b);
      ps.lastCompute = task;
      ps.lastIw = b.rel(iwAt);
      ps.lastAbc = b.rel(abcAt);
      ps.drain[size_t(acc)] = task;
      ps.drainRel[size_t(acc)] = b.rel(accAt);
    }
  }
}

}  // namespace lpu
