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
  const Graph g = loadGraph(sourcePath("examples/graphs/embedding.graph.json"));
  const ChipConfig chip = loadChip("groq-tsp-v1");
  CompileOptions o;
  o.precision = p;
  o.values = seededValues(5);
  const Compiled comp = compileGraph(g, chip, o, Policy::List);
  const SimResult r = simulate(comp.program, chip, "embedding", RunRequest{});
  CHECK(r.cycles == comp.predicted);

  const auto ids = o.values(g.tensor("ids")), table = o.values(g.tensor("table")), pos = o.values(g.tensor("pos"));
  const int64_t D = 500, V = 700;
  const auto got = values(output(r, "x"));  // 2 rows x 2 chunks of 320 lanes
  REQUIRE(got.size() == 2 * 640);
  double worst = 0;
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
      const double want = double(float(w) + pos[size_t(d)]);
      worst = std::max(worst, std::fabs(got[size_t(t * 640 + (d / 320) * 320 + d % 320)] - want));
    }
  }
  std::cout << "embedding " << precisionName(p) << ": max abs error " << worst << "\n";
  INFO("max abs error " << worst);
  CHECK(worst < 1e-6);  // a one-hot pass reproduces the stored row exactly; then one fp32 scale and add
}

}  // namespace

TEST_CASE("embedding lookup, int8 table: exact cycles and rows", "[compiler]") { checkEmbedding(Precision::Int8); }
TEST_CASE("embedding lookup, fp16 table: exact cycles and rows", "[compiler]") { checkEmbedding(Precision::Fp16); }
