// Embedding lookup (examples/graphs/embedding.graph.json): the token's tile
// is gathered at an address the VXM computes from the token id, and a one-hot
// MXM pass picks the row. Exact cycles; the row equals the table's row as
// stored (int8 with per-column scales, or fp16), plus the position row.
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

void checkEmbedding(Precision p) {
  CompileOptions o;
  o.precision = p;
  o.values = seededValues(5);
  const GraphRun run = runGraph("embedding.graph.json", o, Policy::List);
  const Graph& g = run.graph;

  const auto ids = o.values(g.tensor("ids")), table = o.values(g.tensor("table")), pos = o.values(g.tensor("pos"));
  const int64_t D = 500, V = 700;
  const auto got = values(output(run.result, "x"));  // 2 rows x 2 chunks of 320 lanes
  REQUIRE(got.size() == 2 * 640);
  std::vector<double> rows, want;
  for (int t = 0; t < 2; ++t) {
    const int64_t id = int64_t(ids[size_t(t)]);
    REQUIRE(id < V);
    for (int64_t d = 0; d < D; ++d) {
      double w = table[size_t(id * D + d)];
      if (p == Precision::Int8) {
        double cs = 0;
        for (int64_t k = 0; k < V; ++k) cs = std::max(cs, std::fabs(double(table[size_t(k * D + d)])));
        cs /= 127.0;
        w = double(float(std::nearbyint(w / cs)) * float(cs));
      } else {
        w = f16ToF32(f32ToF16(float(w)));
      }
      want.push_back(double(float(w) + pos[size_t(d)]));
      rows.push_back(got[size_t(t * 640 + (d / 320) * 320 + d % 320)]);
    }
  }
  // a one-hot pass reproduces the stored row exactly; then one fp32 scale and add
  checkClose(rows, want, 1e-6, std::string("embedding ") + precisionName(p));
}

}  // namespace

TEST_CASE("embedding lookup, int8 table: exact cycles and rows", "[compiler]") { checkEmbedding(Precision::Int8); }
TEST_CASE("embedding lookup, fp16 table: exact cycles and rows", "[compiler]") { checkEmbedding(Precision::Fp16); }
