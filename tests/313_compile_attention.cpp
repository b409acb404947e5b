// One decode step of grouped-query attention (examples/graphs/attention.graph.json):
// projections, RoPE, KV-cache append (keys scattered into the transposed
// cache), scores and mix on the MXM with the cache as weights, softmax,
// output projection. Exact cycles, and values against a double-precision
// computation that rounds to fp16 where the chip does (MXM inputs, cache).
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>

#include "compiler/compile.h"
#include "compiler/values.h"
#include "isa/numeric.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

using Mat = Eigen::MatrixXd;

Mat f16(const Mat& m) {
  return m.unaryExpr([](double v) { return double(f16ToF32(f32ToF16(float(v)))); });
}

// Llama-style RoPE (rotate_half) of each head of row 0 at position `pos`.
Mat rope(const Mat& x, int heads, int d, int pos, double theta) {
  Mat y = x;
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < d / 2; ++i) {
      const double a = pos * std::pow(theta, -2.0 * i / d), c = std::cos(a), s = std::sin(a);
      const double x1 = x(0, h * d + i), x2 = x(0, h * d + i + d / 2);
      y(0, h * d + i) = x1 * c - x2 * s;
      y(0, h * d + i + d / 2) = x2 * c + x1 * s;
    }
  return y;
}

void checkAttention(Policy policy) {
  CompileOptions o;
  o.precision = Precision::Fp16;
  o.values = seededValues(11);
  const GraphRun run = runGraph("attention.graph.json", o, policy);
  const Graph& g = run.graph;

  const int H = 4, KV = 2, D = 128, C = 400, pos = C - 1;
  const Mat x = valuesOf(g, o.values, "x");
  const Mat q = rope(f16(x) * f16(valuesOf(g, o.values, "wq")), H, D, pos, 10000.0);
  const Mat k = rope(f16(x) * f16(valuesOf(g, o.values, "wk")), KV, D, pos, 10000.0);
  const Mat v = f16(x) * f16(valuesOf(g, o.values, "wv"));
  Mat kc = f16(valuesOf(g, o.values, "kcache")), vc = f16(valuesOf(g, o.values, "vcache"));
  kc.row(pos) = f16(k);
  vc.row(pos) = f16(v);
  Mat out(1, H * D);
  for (int h = 0; h < H; ++h) {
    const int kvh = h / (H / KV);
    const Eigen::VectorXd s =
        kc.middleCols(kvh * D, D) * f16(q.middleCols(h * D, D)).transpose() * (1.0 / std::sqrt(double(D)));
    const Eigen::ArrayXd e = (s.array() - s.maxCoeff()).exp();
    const Eigen::VectorXd p = f16((e / e.sum()).matrix());
    out.middleCols(h * D, D) = p.transpose() * vc.middleCols(kvh * D, D);
  }
  const Mat want = f16(out) * f16(valuesOf(g, o.values, "wo"));
  auto got = values(output(run.result, "y"));
  REQUIRE(got.size() >= size_t(want.cols()));
  got.resize(size_t(want.cols()));
  // fp32 accumulation and exp/rsqrt on the chip against double (measured
  // 2.6e-6 on outputs up to 0.048).
  checkClose(got, rowMajor(want), 1e-4, std::string("attention ") + policyName(policy));
  // The probabilities are left unnormalised for the mix (its drains multiply by each
  // row's 1 / sum): the softmax is one task per row (max, exp, sum), none per chunk.
  for (const OpCycles& op : run.compiled.ops)
    if (op.name == "softmax") CHECK(op.tasks == 4);
}

}  // namespace

TEST_CASE("GQA decode attention, fp16: exact cycles and values (list)", "[compiler]") { checkAttention(Policy::List); }
TEST_CASE("GQA decode attention, fp16: exact cycles and values (in-order)", "[compiler]") {
  checkAttention(Policy::InOrder);
}
