// Shape ops (reshape, transpose, concat, slice) move elements between rows and
// lanes. Each output vector (a row's chunk of 320 lanes) is gathered from
// the input vectors that hold its elements: per source vector a lane
// permutation on an SXM (PERM with a map made for it; none when the lanes
// stay in place), a 0/1 mask on the VXM when the source supplies only some
// lanes, and a sum over the sources. Lanes beyond a row stay zero.
#include <fmt/format.h>

#include <map>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

using Val = TaskBuilder::Val;

std::vector<int64_t> strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

// The map index of a lane permutation (out lane i takes in lane lanes[i]), made once.
uint32_t permMap(Lowerer& L, const std::vector<uint32_t>& lanes) {
  for (size_t i = 0; i < L.p.maps.size(); ++i)
    if (L.p.maps[i].lanes == lanes) return uint32_t(i);
  L.p.maps.push_back(PermMap{fmt::format("shape{}", L.p.maps.size()), lanes});
  return uint32_t(L.p.maps.size() - 1);
}

// A constant [1, lanes] fp32 row: 1 in the lanes `on`, else 0, made once.
int laneSet(Lowerer& L, const std::vector<bool>& on, const std::vector<int>& avoid) {
  const int group = L.layout_.groupFor(avoid);
  std::string key;
  for (size_t l = 0; l < on.size();) {  // runs of ones: "a-b,c-d"
    if (!on[l]) {
      ++l;
      continue;
    }
    size_t e = l;
    while (e < on.size() && on[e]) ++e;
    key += fmt::format("{}{}-{}", key.empty() ? "" : ",", l, e);
    l = e;
  }
  const std::string name = fmt::format("const.lanes[{}].g{}", key, group);
  if (const int t = L.constantNamed(name); t >= 0) return t;
  Tensor t;
  t.name = name;
  t.dtype = DType::F32;
  t.cols = uint32_t(on.size());
  t.init = Tensor::Init::Data;
  t.data.resize(on.size() * 4);
  for (size_t l = 0; l < on.size(); ++l) storeElement(DType::F32, on[l] ? 1.0 : 0.0, &t.data[l * 4]);
  const int index = L.layout_.addConstant(L.p, t, group);
  L.nameConstant(name, index);
  return index;
}

}  // namespace

void lowerShape(Lowerer& L, const GOp& op) {
  const ChipConfig& c = L.c;
  const int lanes = c.lanes(), v = c.vxmPosition();
  const Cycle alu = c.latency.vxm_alu, perm = c.latency.sxm_permute;
  const GTensor& out = L.g.tensor(op.outputs[0]);
  std::vector<const GTensor*> gin;
  std::vector<const ActTensor*> in;
  std::vector<int> avoid;
  for (const std::string& name : op.inputs) {
    gin.push_back(&L.g.tensor(name));
    in.push_back(&L.act(name));
    avoid.push_back(in.back()->group);
  }
  // Output element f (flat, row-major) comes from input k's element at flat index i.
  const std::vector<int64_t> os = strides(out.shape);
  const int64_t axis = op.attrs.axis;  // 0 (the default) for Reshape and Transpose
  auto source = [&](int64_t f) -> std::pair<size_t, int64_t> {
    if (op.kind == OpKind::Reshape) return {0, f};
    std::vector<int64_t> idx(out.shape.size());
    for (size_t d = 0; d < idx.size(); ++d) idx[d] = (f / os[d]) % out.shape[d];
    if (op.kind == OpKind::Transpose) return {0, idx[1] * gin[0]->shape[1] + idx[0]};
    if (op.kind == OpKind::Slice) idx[size_t(axis)] += op.attrs.start;
    size_t k = 0;
    while (op.kind == OpKind::Concat && idx[size_t(axis)] >= gin[k]->shape[size_t(axis)])
      idx[size_t(axis)] -= gin[k++]->shape[size_t(axis)];
    const std::vector<int64_t> is = strides(gin[k]->shape);
    int64_t i = 0;
    for (size_t d = 0; d < idx.size(); ++d) i += idx[d] * is[d];
    return {k, i};
  };
  // The output away from its inputs' groups where there is room (a concat of many may use them all).
  if (int(avoid.size()) >= L.layout_.groups()) avoid.resize(size_t(L.layout_.groups() - 1));
  const int64_t cols = out.shape.empty() ? 1 : out.shape.back(), rows = out.elements() / std::max<int64_t>(cols, 1);
  ActTensor& y = L.newAct(op.outputs[0], rows, cols, avoid);
  avoid.push_back(y.group);
  if (int(avoid.size()) >= L.layout_.groups()) avoid.erase(avoid.begin());  // masks: away from the output at least

  for (int64_t r = 0; r < y.rows; ++r)
    for (int64_t j = 0; j < y.chunks; ++j) {
      // Source vectors (input, vector row) and for each, out lane -> source lane.
      std::map<std::pair<size_t, int64_t>, std::vector<std::pair<int, int>>> groups;
      // (A tensor's vector rows hold `width` columns each: 320, or a head's dims for attention outputs.)
      for (int l = 0; l < y.width && j * y.width + l < cols; ++l) {
        const auto [k, i] = source(r * cols + j * y.width + l);
        const int64_t ic = in[k]->cols, sr = i / ic, sc = i % ic, w = in[k]->width;
        groups[{k, sr * in[k]->chunks + sc / w}].push_back({l, int(sc % w)});
      }
      const int row = int(r * y.chunks + j);
      TaskBuilder b = L.builder(fmt::format("{}[{}]", op.name, row));
      // Source g reaches the VXM in cycle g alu, every one through the same SXM (a PERM, the identity when its
      // lanes stay in place), so that no two of the task's reads meet on a slice: acc = x_0, then acc + x_g.
      const QueueId q{Unit::SXM, true, 0, 0};
      const int qp = c.position(q);
      Val acc;
      Cycle at = 0;
      for (const auto& [src, pairs] : groups) {
        const bool whole = int(pairs.size()) == lanes;
        std::vector<uint32_t> lanesOf(static_cast<size_t>(lanes));
        for (int l = 0; l < lanes; ++l) lanesOf[size_t(l)] = uint32_t(l);
        for (const auto& [o, s] : pairs) lanesOf[size_t(o)] = uint32_t(s);
        const Cycle ready = whole ? at : at - alu;  // the source's lanes in place, at the VXM
        const Cycle issue = ready - perm - Cycle(std::abs(v - qp)) * c.stream_hop;
        const ActTensor& a = *in[src.first];
        const uint32_t srow = uint32_t(src.second);
        Instr pi;
        pi.op = Opcode::PERM;
        pi.dt = DType::F32;
        pi.imm = permMap(L, lanesOf);
        Val x = b.issue(issue, q, pi, {b.read(a.tensor, srow, qp, issue, a.firstRow + int(srow))});
        if (!whole) {
          std::vector<bool> on(size_t(lanes), false);
          for (const auto& [o, s] : pairs) on[size_t(o)] = true;
          x = b.vxm(Opcode::MUL, DType::F32, ready, x, b.read(laneSet(L, on, avoid), 0, v, ready, -1));
        }
        acc = acc ? b.vxm(Opcode::ADD, DType::F32, at, acc, x) : b.vxm(Opcode::MOV, DType::F32, at, x);
        at += alu;
      }
      b.write(y.tensor, uint32_t(row), acc, y.firstRow + row);
      L.addTask(b);
    }
}

}  // namespace lpu
