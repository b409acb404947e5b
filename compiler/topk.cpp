// Top-k routing with a static schedule: the k largest router logits of each
// token (k rounds of max, index of the max, mask it out) and their softmax
// weights; each result is a row with the value in every lane.
#include <fmt/format.h>

#include "isa/error.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

Val maxLanes(Lowerer& L, TaskBuilder& b, Val v, Cycle& at) { return reduceAcrossLanes(L, b, Opcode::MAX, v, at); }
Val minLanes(Lowerer& L, TaskBuilder& b, Val v, Cycle& at) { return reduceAcrossLanes(L, b, Opcode::MIN, v, at); }

}  // namespace

void lowerTopK(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const ActTensor& x = L.act(op.inputs[0]);
  const int k = int(op.attrs.k), lanes = c.lanes(), v = c.vxmPosition();
  if (x.cols > lanes)
    throw Error(fmt::format("op {}: top-k over {} values; the compiler takes at most {}", op.name, x.cols, lanes));
  const Cycle alu = c.latency.vxm_alu, sp = c.latency.vxm_special;
  // Rows per token: the k maxima, and the logits with the chosen ones masked out.
  ActTensor& maxima = L.newAct(op.name + ".max", x.rows * k, 1, {x.group});
  ActTensor& idx = L.newAct(op.outputs[0], x.rows * k, 1, {x.group, maxima.group});
  ActTensor& w = L.newAct(op.outputs[1], x.rows * k, 1, {x.group, maxima.group, idx.group});
  // (read beside maxima in the index task)
  ActTensor& masked =
      L.newAct(op.name + ".masked", x.rows * std::max(1, k - 1), x.cols, {x.group, idx.group, maxima.group});
  std::vector<double> laneV(static_cast<size_t>(lanes)), padV(static_cast<size_t>(lanes));
  for (int l = 0; l < lanes; ++l) laneV[size_t(l)] = l, padV[size_t(l)] = l < x.cols ? 0.0 : -3e38;
  // Each read beside a row of x, masked or idx: kept off their slices.
  const std::vector<int> avoid{x.group, maxima.group, idx.group, masked.group};
  const int laneT = constRow(L, op.name + ".lanes", laneV, avoid);
  const int padT = constRow(L, op.name + ".pad", padV, avoid);
  constexpr float kBig = 16777216.0f;  // no lane index reaches it
  std::vector<double> candV(static_cast<size_t>(lanes));
  for (int l = 0; l < lanes; ++l) candV[size_t(l)] = l < x.cols ? double(l) - kBig : 0.0;
  const int candT = constRow(L, op.name + ".cand", candV, avoid);

  for (int64_t t = 0; t < x.rows; ++t) {
    for (int s = 0; s < k; ++s) {
      // The logits of this round: x itself, then x with the earlier picks at -3e38.
      const ActTensor& src = s == 0 ? x : masked;
      const int srow = s == 0 ? int(t) : int(t * (k - 1) + s - 1);
      const int row = int(t * k + s);
      {  // max (pad lanes at -3e38)
        TaskBuilder b = L.builder(fmt::format("{}.max[{}.{}]", op.name, t, s));
        Cycle at = 0;
        auto xv = b.vxm(Opcode::ADD, DType::F32, at, b.read(src.tensor, uint32_t(srow), v, at, src.firstRow + srow),
                        b.read(padT, 0, v, at, -1));
        at += alu;
        b.write(maxima.tensor, uint32_t(row), maxLanes(L, b, xv, at), maxima.firstRow + row);
        L.addTask(b);
      }
      {  // index: the smallest lane holding the max
        TaskBuilder b = L.builder(fmt::format("{}.index[{}.{}]", op.name, t, s));
        Cycle at = 0;
        auto xv = b.read(src.tensor, uint32_t(srow), v, at, src.firstRow + srow);
        auto mv = b.read(maxima.tensor, uint32_t(row), v, at, maxima.firstRow + row);
        auto d = b.vxm(Opcode::SUB, DType::F32, at, xv, mv);
        d = b.vxm(Opcode::MULI, DType::F32, at + alu, d, {}, f32bits(1e30f));
        d = b.vxm(Opcode::ADDI, DType::F32, at + 2 * alu, d, {}, f32bits(1.0f));
        auto hit = b.vxm(Opcode::RELU, DType::F32, at + 3 * alu, d);  // 1 at the max, else 0
        auto cand = b.vxm(Opcode::MUL, DType::F32, at + 4 * alu, hit, b.read(candT, 0, v, at + 4 * alu, -1));
        cand = b.vxm(Opcode::ADDI, DType::F32, at + 5 * alu, cand, {}, f32bits(kBig));
        at += 6 * alu;
        b.write(idx.tensor, uint32_t(row), minLanes(L, b, cand, at), idx.firstRow + row);
        L.addTask(b);
      }
      if (s + 1 < k) {  // mask the pick: x + relu(1 - |lane - index|) * -3e38
        TaskBuilder b = L.builder(fmt::format("{}.mask[{}.{}]", op.name, t, s));
        const int mrow = int(t * (k - 1) + s);
        Cycle at = 0;
        auto dl = b.vxm(Opcode::SUB, DType::F32, at, b.read(laneT, 0, v, at, -1),
                        b.read(idx.tensor, uint32_t(row), v, at, idx.firstRow + row));
        auto oh = b.vxm(Opcode::ABS, DType::F32, at += alu, dl);
        oh = b.vxm(Opcode::NEG, DType::F32, at += alu, oh);
        oh = b.vxm(Opcode::ADDI, DType::F32, at += alu, oh, {}, f32bits(1.0f));
        oh = b.vxm(Opcode::RELU, DType::F32, at += alu, oh);
        oh = b.vxm(Opcode::MULI, DType::F32, at += alu, oh, {}, f32bits(-3e38f));
        at += alu;
        auto y = b.vxm(Opcode::ADD, DType::F32, at, oh, b.read(src.tensor, uint32_t(srow), v, at, src.firstRow + srow));
        b.write(masked.tensor, uint32_t(mrow), y, masked.firstRow + mrow);
        L.addTask(b);
      }
    }
    // Weights: softmax over the k maxima, m_0 the largest (copied to other
    // slices: it is read beside each m_s).
    ActTensor& top = L.newAct(fmt::format("{}.top{}", op.name, t), 1, 1, {maxima.group});
    {
      TaskBuilder b = L.builder(fmt::format("{}.top[{}]", op.name, t));
      const int r0 = int(t * k);
      b.write(top.tensor, 0,
              b.vxm(Opcode::MOV, DType::F32, 0, b.read(maxima.tensor, uint32_t(r0), v, 0, maxima.firstRow + r0)),
              top.firstRow);
      L.addTask(b);
    }
    ActTensor& inv = L.newAct(fmt::format("{}.inv{}", op.name, t), 1, 1, {maxima.group, w.group, top.group});
    {
      TaskBuilder b = L.builder(fmt::format("{}.sum[{}]", op.name, t));
      const int r0 = int(t * k);
      Val sum{};
      for (int s = 0; s < k; ++s) {  // e_s = exp(m_s - m_0), added as they come
        const Cycle at = Cycle(s) * alu;
        auto d =
            b.vxm(Opcode::SUB, DType::F32, at, b.read(maxima.tensor, uint32_t(r0 + s), v, at, maxima.firstRow + r0 + s),
                  b.read(top.tensor, 0, v, at, top.firstRow));
        auto e = b.vxm(Opcode::EXP, DType::F32, at + alu, d);
        if (s == 0)  // delayed one ALU op so that each add meets the next term
          sum = k > 1 ? b.vxm(Opcode::MOV, DType::F32, at + alu + sp, e) : e;
        else
          sum = b.vxm(Opcode::ADD, DType::F32, at + alu + sp, sum, e);
      }
      const Cycle done = Cycle(k - 1) * alu + alu + sp + (k > 1 ? alu : 0);
      auto r = b.vxm(Opcode::RSQRT, DType::F32, done, sum);
      b.write(inv.tensor, 0, b.vxm(Opcode::MUL, DType::F32, done + sp, r, r), inv.firstRow);
      L.addTask(b);
    }
    for (int s = 0; s < k; ++s) {
      TaskBuilder b = L.builder(fmt::format("{}.weight[{}.{}]", op.name, t, s));
      const int r0 = int(t * k), row = r0 + s;
      auto d = b.vxm(Opcode::SUB, DType::F32, 0, b.read(maxima.tensor, uint32_t(row), v, 0, maxima.firstRow + row),
                     b.read(top.tensor, 0, v, 0, top.firstRow));
      auto e = b.vxm(Opcode::EXP, DType::F32, alu, d);
      const Cycle at = alu + sp;
      b.write(w.tensor, uint32_t(row),
              b.vxm(Opcode::MUL, DType::F32, at, e, b.read(inv.tensor, 0, v, at, inv.firstRow)), w.firstRow + row);
      L.addTask(b);
    }
  }
}

}  // namespace lpu
