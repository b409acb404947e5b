// Several rows through one matmul (a prompt chunk or a batch): each weight
// tile stays installed while the rows stream through it, one accumulator a
// row, so a row costs about a cycle per tile on a plane, not a reload; and
// every accumulator count the chip config allows compiles, exact, with the
// values of an independent computation.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "compiler/values.h"
#include "isa/arch/chip_config.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// y = x . w, x [rows, k], w [k, n].
Graph matmulGraph(int rows, int k, int n) {
  const nlohmann::json j = {{"format", "lpusim-graph"},
                            {"version", 1},
                            {"name", fmt::format("matmul [{} x {}] x [{} x {}]", rows, k, k, n)},
                            {"mode", "custom"},
                            {"tensors",
                             {{{"name", "x"}, {"shape", {rows, k}}, {"kind", "input"}},
                              {{"name", "w"}, {"shape", {k, n}}, {"kind", "weight"}},
                              {{"name", "y"}, {"shape", {rows, n}}, {"kind", "output"}}}},
                            {"ops", {{{"op", "MatMul"}, {"name", "mm"}, {"inputs", {"x", "w"}}, {"outputs", {"y"}}}}}};
  return graphFromJson(j, "matmul graph");
}

struct Run {
  Compiled compiled;
  SimResult result;
};

Run compileAndRun(const Graph& g, const ChipConfig& chip, const CompileOptions& o) {
  Run r{compileGraph(g, chip, o, Policy::List), {}};
  RunRequest req;
  req.options.functional = bool(o.values);
  r.result = simulate(r.compiled.program, chip, g.name, req);
  INFO(g.name << " on " << chip.name << " with " << chip.mxm_accumulators << " accumulators");
  CHECK(r.result.cycles == r.compiled.predicted);
  return r;
}

// Issues of opcode `op` (a REPEAT's repetitions counted).
size_t count(const Program& p, Opcode op) {
  size_t n = 0;
  for (const Queue& q : p.queues)
    for (const Issue& is : issueCycles(q)) {
      size_t i = is.index;  // a repetition names its REPEAT, which repeats the instruction before it
      while (i > 0 && q.code[i].op == Opcode::REPEAT) --i;
      n += q.code[i].op == op;
    }
  return n;
}

}  // namespace

TEST_CASE("a batch of 32 rows through one int8 matmul costs about a cycle per extra row per tile on a plane",
          "[compile][batch]") {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  CompileOptions o;  // timing only
  const Run one = compileAndRun(matmulGraph(1, 1024, 2048), chip, o);
  const Run batch = compileAndRun(matmulGraph(32, 1024, 2048), chip, o);
  // k = 1024: 4 k tiles (320, 320, 320, 64 rows); n = 2048: 7 output chunks, the last of 128 lanes
  // holding 320 / 128 = 2 k tiles side by side, so 6 x 4 + 2 = 26 tiles. Round-robin over 4 planes,
  // chunks 0..6 go 2, 2, 2, 1 to the planes: at most 2 x 4 = 8 tiles on one plane. The goal: at most
  // about 2 cycles per extra row per tile on a plane, 2 x 31 x 8 = 496 cycles over the single row.
  const Cycle extra = batch.compiled.predicted - one.compiled.predicted;
  std::cout << "batch of 32: " << batch.compiled.predicted << " cycles, one row " << one.compiled.predicted << ": "
            << double(extra) / 31 / 8 << " cycles per extra row per tile on a plane\n";
  CHECK(extra <= 2 * 31 * 8);
  // Each tile is loaded once per group of rows that fits a set of accumulators (64, in two sets of 32):
  // chunks 0..5 once for all 32 rows, 3 x 20 + 4 = 64 LW of 16 rows each; the packed chunk takes 2
  // accumulators a row, so twice (16 rows a set), 2 x 20 LW each time. One row: 6 x 64 + 40 = 424.
  CHECK(count(one.compiled.program, Opcode::LW) == 6 * 64 + 40);
  CHECK(count(batch.compiled.program, Opcode::LW) == 6 * 64 + 2 * 40);
  // One ABC per row per k tile per output chunk: 32 x (6 x 4 + 4) = 896.
  CHECK(count(batch.compiled.program, Opcode::ABC) == 32 * (6 * 4 + 4));
}

TEST_CASE("every accumulator count from 1 to 64 compiles a batched matmul, exact, with the right values",
          "[compile][batch]") {
  // 40 rows of [640 x 700]: 2 k tiles, 3 output chunks (the last of 60 lanes: 2 k tiles packed where
  // there are 2 accumulators or more), so row groups of accumulators / 2 split the rows unevenly.
  const Graph g = matmulGraph(40, 640, 700);
  CompileOptions o;
  o.values = seededValues(3);
  const Eigen::MatrixXd x = valuesOf(g, o.values, "x"), w = valuesOf(g, o.values, "w");
  // The chip's arithmetic in double: int8 weights with per-column scales, x at the static activation scale.
  Eigen::MatrixXd want(x.rows(), w.cols());
  for (Eigen::Index n = 0; n < w.cols(); ++n) {
    const double cs = std::max(w.col(n).cwiseAbs().maxCoeff() / 127.0, 1e-30);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      double acc = 0;
      for (Eigen::Index k = 0; k < w.rows(); ++k)
        acc += std::clamp(std::nearbyint(double(float(x(r, k)) * float(1.0 / o.activationScale))), -128.0, 127.0) *
               std::nearbyint(w(k, n) / cs);
      want(r, n) = acc * float(cs * o.activationScale);
    }
  }
  ChipConfig chip = loadChip("groq-tsp-v1");
  for (int accs : {1, 2, 3, 5, 8, 17, 64}) {
    chip.mxm_accumulators = accs;
    const Run r = compileAndRun(g, chip, o);
    // y as the chip holds it: each row as 3 chunks of 320 lanes, the last 60 used.
    const std::vector<double> held = values(output(r.result, "y"));
    std::vector<double> got;
    for (size_t i = 0; i < held.size(); ++i)
      if (i % 960 < 700) got.push_back(held[i]);
    checkClose(got, rowMajor(want), 1e-4, fmt::format("{} accumulators", accs));
    // Loads: 3 chunks, 2 k tiles each (1 where packed), once per group of accumulators / 2 rows
    // (accumulators / 4 for the packed chunk, 2 accumulators a row), each of 320 or 320 / 16 LW of 16 rows.
    const int group = std::max(1, accs / 2), packedGroup = std::max(1, accs / 4);
    const int lws = 2 * 2 * ((40 + group - 1) / group) * 20 +
                    (accs >= 2 ? ((40 + packedGroup - 1) / packedGroup) * 20 : 2 * ((40 + group - 1) / group) * 20);
    INFO(accs << " accumulators");
    CHECK(count(r.compiled.program, Opcode::LW) == size_t(lws));
  }
}

TEST_CASE("a batched matmul with a bias: the drain reads scales and bias of different rows in one cycle, exact",
          "[compile][batch]") {
  // Found by gpt2 --batch 8: with the scales and the bias on one group's slices, row m's bias read
  // (vxm_alu after its scale read) met row m + 4's scale read on the same queue.
  nlohmann::json j = {{"format", "lpusim-graph"},
                      {"version", 1},
                      {"name", "batched matmul with bias"},
                      {"mode", "custom"},
                      {"tensors",
                       {{{"name", "x"}, {"shape", {8, 768}}, {"kind", "input"}},
                        {{"name", "w"}, {"shape", {768, 768}}, {"kind", "weight"}},
                        {{"name", "b"}, {"shape", {768}}, {"kind", "weight"}},
                        {{"name", "y"}, {"shape", {8, 768}}, {"kind", "output"}}}},
                      {"ops", {{{"op", "MatMul"}, {"name", "mm"}, {"inputs", {"x", "w", "b"}}, {"outputs", {"y"}}}}}};
  const Graph g = graphFromJson(j, "bias graph");
  CompileOptions o;
  o.values = seededValues(5);
  const Run r = compileAndRun(g, loadChip("groq-tsp-v1"), o);
  const Eigen::MatrixXd x = valuesOf(g, o.values, "x"), w = valuesOf(g, o.values, "w"), b = valuesOf(g, o.values, "b");
  std::vector<double> want, got;
  const std::vector<double> held = values(output(r.result, "y"));  // 3 chunks of 320 lanes a row
  for (Eigen::Index row = 0; row < 8; ++row)
    for (Eigen::Index n = 0; n < 768; ++n) {
      const double cs = std::max(w.col(n).cwiseAbs().maxCoeff() / 127.0, 1e-30);
      double acc = 0;
      for (Eigen::Index k = 0; k < 768; ++k)
        acc += std::clamp(std::nearbyint(double(float(x(row, k)) * float(1.0 / o.activationScale))), -128.0, 127.0) *
               std::nearbyint(w(k, n) / cs);
      want.push_back(acc * float(cs * o.activationScale) + b(0, n));
      got.push_back(held[size_t(row * 960 + n)]);
    }
  checkClose(got, want, 1e-4, "8 rows with bias");
}
