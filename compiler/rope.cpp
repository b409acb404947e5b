// RoPE on the chip: x * cos + rotate_half(x) * sin, the halves turned on an
// SXM, the constant rows per position (inverse frequencies with their
// scaling rules: linear, llama3).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "isa/error.h"
#include "isa/numeric.h"
#include "lowering_ops.h"

namespace lpu {
namespace {

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

}  // namespace lpu
