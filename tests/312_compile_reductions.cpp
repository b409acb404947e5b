// Reductions across a row (norms, softmax, argmax) compiled for groq-tsp-v1:
// exact cycles, and values against Eigen in double precision. The rows are
// 700 wide: three 320-lane chunks, the last one masked (60 lanes valid).
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>

#include "compiler/compile.h"
#include "compiler/lowering.h"
#include "compiler/lowering_ops.h"
#include "compiler/values.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

using Mat = Eigen::MatrixXd;

void checkReductions(Policy policy) {
  CompileOptions o;
  o.values = seededValues(3);
  const GraphRun run = runGraph("norms.graph.json", o, policy);
  const Graph& g = run.graph;
  const SimResult& r = run.result;

  const Mat x = valuesOf(g, o.values, "x"), g1 = valuesOf(g, o.values, "g1"), b1 = valuesOf(g, o.values, "b1"),
            g2 = valuesOf(g, o.values, "g2");
  Mat p(x.rows(), x.cols());
  std::vector<double> argmax;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const Eigen::RowVectorXd row = x.row(i);
    const double mean = row.mean(), var = (row.array() - mean).square().mean();
    const Eigen::RowVectorXd h1 = ((row.array() - mean) / std::sqrt(var + 1e-5)).matrix().cwiseProduct(g1) + b1;
    const Eigen::RowVectorXd h2 = (h1 / std::sqrt(h1.squaredNorm() / double(h1.size()) + 1e-6)).cwiseProduct(g2);
    const Eigen::ArrayXd e = (h2.array() - h2.maxCoeff()).exp();
    p.row(i) = (e / e.sum()).matrix().transpose();
    Eigen::Index at;
    h2.maxCoeff(&at);
    argmax.push_back(double(at));
  }
  const auto got = values(output(r, "p"));
  REQUIRE(got.size() == size_t(p.rows()) * 960);  // 2 rows x 3 chunks x 320 lanes
  std::vector<double> rows, padding;
  for (Eigen::Index i = 0; i < p.rows(); ++i)
    for (int c = 0; c < 960; ++c) (c < p.cols() ? rows : padding).push_back(got[size_t(i) * 960 + size_t(c)]);
  // probabilities near 1/700; fp32 chains against double
  checkClose(rows, rowMajor(p), 1e-6, std::string("reductions ") + policyName(policy) + ": softmax");
  CHECK(padding == std::vector<double>(padding.size(), 0.0));  // lanes beyond the row stay zero
  const auto idx = values(output(r, "i"));
  REQUIRE(idx.size() == 2);  // one index per row (lane 0 of its broadcast vector)
  CHECK(idx[0] == argmax[0]);
  CHECK(idx[1] == argmax[1]);
}

}  // namespace

TEST_CASE("layer norm, RMS norm, softmax, argmax: list scheduler", "[compiler]") { checkReductions(Policy::List); }
TEST_CASE("layer norm, RMS norm, softmax, argmax: in-order scheduler", "[compiler]") {
  checkReductions(Policy::InOrder);
}

TEST_CASE("softmax with attention sinks (gpt-oss): the sink joins max and sum, then is dropped", "[compiler]") {
  // 2 heads x 2 tokens, rows of 700; head 0's sink (3) exceeds every score (in [-1, 1)), head 1's (-2) does not.
  const Graph g = graphFromJson(nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, "name": "sinks",
    "tensors": [{"name": "x", "shape": [4, 700], "kind": "input"}, {"name": "sinks", "shape": [2], "kind": "weight"},
                {"name": "p", "shape": [4, 700], "kind": "output"}],
    "ops": [{"op": "Softmax", "name": "sm", "inputs": ["x", "sinks"], "outputs": ["p"], "attrs": {"heads": 2}}]})"),
                                "sinks graph");
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const TensorValues seeded = seededValues(5);
  CompileOptions o;
  o.values = [&](const GTensor& t) { return t.name == "sinks" ? std::vector<float>{3.0f, -2.0f} : seeded(t); };
  for (Policy policy : {Policy::List, Policy::InOrder}) {
    const Compiled comp = compileGraph(g, chip, o, policy);
    const SimResult r = simulate(comp.program, chip, "sinks", RunRequest{});
    CHECK(r.cycles == comp.predicted);
    const Mat x = valuesOf(g, o.values, "x");
    const auto got = values(output(r, "p"));
    REQUIRE(got.size() == 4 * 960);
    double dropped0 = 0;
    std::vector<double> rows, want;
    for (Eigen::Index i = 0; i < 4; ++i) {
      const double sink = i < 2 ? 3.0 : -2.0, m = std::max(x.row(i).maxCoeff(), sink);
      const Eigen::ArrayXd e = (x.row(i).array() - m).exp();
      const double sum = e.sum() + std::exp(sink - m);
      for (int c = 0; c < 700; ++c) rows.push_back(got[size_t(i) * 960 + size_t(c)]), want.push_back(e(c) / sum);
      if (i == 0) dropped0 = std::exp(sink - m) / sum;
    }
    checkClose(rows, want, 1e-6, std::string("softmax with sinks ") + policyName(policy));
    std::cout << "probability left to head 0's sink " << dropped0 << "\n";
    CHECK(dropped0 > 0.01);  // the sink takes a real share: the rows sum to less than 1
  }
}

TEST_CASE("a reduction across 320 lanes: 3 rounds of rotations over both SXMs (8, 8, 5), 322 cycles", "[compiler]") {
  const Graph g = graphFromJson(nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, "name": "one row",
    "tensors": [{"name": "x", "shape": [1, 320], "kind": "input"}], "ops": []})"),
                                "one row");
  const ChipConfig c = loadChip("groq-tsp-v1");
  Program p;
  CompileOptions o;
  Lowerer L(g, c, o, p);
  const ActTensor& x = L.act("x");
  TaskBuilder b = L.builder("sum");
  Cycle at = 100;
  auto v = b.read(x.tensor, 0, c.vxmPosition(), at, x.firstRow);
  reduceAcrossLanes(L, b, Opcode::ADD, v, at);
  // The VXM at position 46, the SXMs at 1 and 91: 45 hops each way. A mov
  // makes a copy for each side (4 cycles, vxm_alu); then each round is
  // 45 + 4 (ROT) + 45 + 12: the r values back combined in a tree of
  // ceil(log2 r) = 3 ALU levels (8 -> 4 -> 2 -> 1; 5 -> 3 -> 2 -> 1), the
  // last one issued twice when another round follows (a copy each way).
  // 4 + 3 x (45 + 4 + 45 + 12) = 322; halving rounds took 6 x 98 + 106 = 694.
  CHECK(at == 100 + 322);
  const Task t = b.take();
  int west = 0, east = 0;
  for (const Slot& s : t.slots)
    if (s.instr.op == Opcode::ROT) ++(s.queue.east ? east : west);
  CHECK(west == 4 + 4 + 3);  // rotations 0, 2, 4, 6 (x 40, then x 5) and 0, 2, 4
  CHECK(east == 4 + 4 + 2);
}

TEST_CASE("softmax and argmax over rows of 40 chunks: the max folded by 4 chains side by side, merged through MEM",
          "[compiler]") {
  // 12,800 = 40 x 320: at least 32 chunks, so each row's max (and argmax's index fold) runs as
  // vxm_alu = 4 chains a chunk a cycle apart, each chain's result written to a row of its own
  // group and read back together. Row 1 has its max twice, at 5,000 and 9,000 (chunks 15 and 28,
  // in chains 0 and 1: chunk k is term k + 1, the last chunk term 0): argmax must give the first.
  const Graph g = graphFromJson(nlohmann::json::parse(R"({"format": "lpusim-graph", "version": 1, "name": "long rows",
    "tensors": [{"name": "x", "shape": [2, 12800], "kind": "input"},
                {"name": "p", "shape": [2, 12800], "kind": "output"}, {"name": "i", "shape": [2], "kind": "output"}],
    "ops": [{"op": "Softmax", "name": "sm", "inputs": ["x"], "outputs": ["p"]},
            {"op": "Argmax", "name": "am", "inputs": ["x"], "outputs": ["i"]}]})"),
                                "long rows");
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const TensorValues seeded = seededValues(9);
  CompileOptions o;
  o.values = [&](const GTensor& t) {
    std::vector<float> v = seeded(t);
    if (t.name == "x") v[12800 + 5000] = v[12800 + 9000] = 4.0f;  // seeded values lie in [-1, 1)
    return v;
  };
  for (Policy policy : {Policy::List, Policy::InOrder}) {
    const Compiled comp = compileGraph(g, chip, o, policy);
    const SimResult r = simulate(comp.program, chip, "long rows", RunRequest{});
    CHECK(r.cycles == comp.predicted);
    const Mat x = valuesOf(g, o.values, "x");
    std::vector<double> want, got;
    const auto p = values(output(r, "p"));
    REQUIRE(p.size() == 2 * 12800);
    std::vector<double> idx;
    for (Eigen::Index row = 0; row < 2; ++row) {
      Eigen::Index best = 0;
      for (Eigen::Index k = 1; k < 12800; ++k)
        if (x(row, k) > x(row, best)) best = k;
      idx.push_back(double(best));
      const Eigen::ArrayXd e = (x.row(row).array() - x.row(row).maxCoeff()).exp();
      for (Eigen::Index k = 0; k < 12800; ++k)
        want.push_back(e(k) / e.sum()), got.push_back(p[size_t(row * 12800 + k)]);
    }
    // probabilities near 1 / 12,800 (row 1: its two maxima 0.0036 each); fp32 against double
    checkClose(got, want, 1e-7, std::string("long softmax ") + policyName(policy));
    CHECK(idx[1] == 5000);
    CHECK(values(output(r, "i")) == idx);
  }
}
