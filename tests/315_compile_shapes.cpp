// Shape ops (transpose, concat by rows and by columns, reshape, slice) compiled for
// groq-tsp-v1: exact cycles, and every element where the op puts it. They
// only move values (a permutation, a multiply by 1 or 0, a sum with zeros),
// so the results are compared for equality, padding lanes included.
#include <catch2/catch.hpp>
#include <iostream>

#include "compiler/compile.h"
#include "compiler/values.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

void checkShapes(Policy policy) {
  CompileOptions o;
  o.values = seededValues(4);
  const GraphRun run = runGraph("shapes.graph.json", o, policy);
  const Graph& g = run.graph;
  const SimResult& r = run.result;
  const auto x = o.values(g.tensor("x")), z = o.values(g.tensor("z"));
  // Row-major [rows, cols] tensors come back as rows of ceil(cols / 320) x 320 lanes, zero beyond cols
  // (a row of at most 320 as its cols lanes).
  auto check = [&](const std::string& name, int64_t rows, int64_t cols,
                   const std::function<double(int64_t, int64_t)>& want) {
    const auto got = values(output(r, name));
    const int64_t width = cols <= 320 ? cols : (cols + 319) / 320 * 320;
    REQUIRE(got.size() == size_t(rows * width));
    int64_t wrong = 0;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < width; ++c) wrong += got[size_t(i * width + c)] != (c < cols ? want(i, c) : 0.0);
    INFO(name << ": " << wrong << " elements out of place");
    CHECK(wrong == 0);
  };
  check("xt", 700, 3, [&](int64_t i, int64_t c) { return double(x[size_t(c * 700 + i)]); });
  check("rows", 5, 700,
        [&](int64_t i, int64_t c) { return double(i < 3 ? x[size_t(i * 700 + c)] : z[size_t((i - 3) * 700 + c)]); });
  check("cols", 3, 1400, [&](int64_t i, int64_t c) { return double(x[size_t(i * 700 + c % 700)]); });
  check("r", 7, 300, [&](int64_t i, int64_t c) { return double(x[size_t(i * 300 + c)]); });
  check("row1", 1, 700, [&](int64_t, int64_t c) { return double(x[size_t(700 + c)]); });
  check("mid", 3, 350, [&](int64_t i, int64_t c) { return double(x[size_t(i * 700 + 100 + c)]); });
  std::cout << "shapes " << policyName(policy) << ": " << r.cycles << " cycles, " << run.compiled.tasks << " tasks\n";
}

}  // namespace

TEST_CASE("transpose, concat, reshape, slice: list scheduler", "[compiler]") { checkShapes(Policy::List); }
TEST_CASE("transpose, concat, reshape, slice: in-order scheduler", "[compiler]") { checkShapes(Policy::InOrder); }
