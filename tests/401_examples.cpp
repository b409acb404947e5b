// End to end: the annotated example programs run in exactly the cycle counts
// their comments derive, and compute what Eigen computes.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>

#include "isa/assembler.h"
#include "isa/numeric.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

SimResult runExample(const std::string& file, const std::string& chip = "") {
  const std::string path = sourcePath("examples/asm/" + file);
  const Program p = assembleFile(path);
  return simulate(p, loadChip(chip.empty() ? p.chip : chip), path, RunRequest{});
}

// The initial contents of a tensor of the example, as a rows x cols matrix.
Eigen::MatrixXd tensorOf(const std::string& file, const std::string& name) {
  const Program p = assembleFile(sourcePath("examples/asm/" + file));
  const Tensor* t = p.findTensor(name);
  REQUIRE(t);
  const auto b = t->initialBytes();
  Eigen::MatrixXd m(t->rows, t->cols);
  const size_t w = size_t(bytes(t->dtype));
  for (uint32_t r = 0; r < t->rows; ++r)
    for (uint32_t c = 0; c < t->cols; ++c) m(r, c) = loadElement(t->dtype, &b[(size_t(r) * t->cols + c) * w]);
  return m;
}

double maxAbsDiff(const std::vector<double>& got, const Eigen::MatrixXd& want) {
  double worst = 0;
  for (Eigen::Index i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(got[size_t(i)] - want(i / want.cols(), i % want.cols())));
  return worst;
}

}  // namespace

SCENARIO("vadd_fp32.s adds two fp32 vectors on the teaching chip", "[example]") {
  const SimResult r = runExample("vadd_fp32.s");
  // Plane 3 of z is written by W3 at cycle 7 + (1+3) = 11 and commits at 11 + mem_write 2 = 13.
  CHECK(r.cycles == 13);
  const Eigen::MatrixXd want =
      (tensorOf("vadd_fp32.s", "x").cast<float>() + tensorOf("vadd_fp32.s", "y").cast<float>()).cast<double>();
  const double err = maxAbsDiff(values(output(r, "z")), want);
  INFO("max abs error " << err);
  CHECK(err == 0.0);  // one fp32 add per lane: bit-exact
}

SCENARIO("gemv_int8.s multiplies a 320x320 int8 plane on groq-tsp-v1", "[example]") {
  const SimResult r = runExample("gemv_int8.s");
  // LWs at 49..68 (rows in the buffer at 69), iw 69 + install 4 = 73, abc 73 + pass 28 = 101,
  // acc 101 + 4 = 105 at MXM.W, plane 0 reaches W17 (pos 28) at 133, commits at 133 + 4 = 137.
  CHECK(r.cycles == 137);
  CHECK(r.units[size_t(Unit::MEM)].instructions == 16 * 20 + 1 + 4);  // weight reads, x, 4 planes of y
  CHECK(r.units[size_t(Unit::MXM)].instructions == 20 + 3);           // 20 lw, iw, abc, acc
  const Eigen::MatrixXd want = tensorOf("gemv_int8.s", "x") * tensorOf("gemv_int8.s", "W");
  const double err = maxAbsDiff(values(output(r, "y")), want);
  INFO("max abs error " << err);
  CHECK(err == 0.0);  // int8 x int8 -> int32 is exact
}

SCENARIO("gemv_int8_teaching.s runs an 8x8 GEMV that can be followed by hand", "[example]") {
  const SimResult r = runExample("gemv_int8_teaching.s");
  // iw at 9, in the array at 10; abc 10 + 4 = 14; acc 14 + 1 = 15; W0 writes at 15 + 5 = 20, commits 22.
  CHECK(r.cycles == 22);
  const Eigen::MatrixXd want = tensorOf("gemv_int8_teaching.s", "x") * tensorOf("gemv_int8_teaching.s", "W");
  CHECK(want(0, 0) == -942);  // 1 - 2 + 0 + 8 + 15 + 60 + 0 - 1024
  const double err = maxAbsDiff(values(output(r, "y")), want);
  INFO("max abs error " << err);
  CHECK(err == 0.0);
}

SCENARIO("softmax_fp32.s computes a row softmax with SXM reductions", "[example]") {
  const SimResult r = runExample("softmax_fp32.s");
  // Three max steps (13 cycles each from 11), exp, three sum steps, rsqrt, two muls:
  // y at 93, the last plane written at 97 commits at 97 + 2 = 99.
  CHECK(r.cycles == 99);
  const Eigen::ArrayXXd x = tensorOf("softmax_fp32.s", "x").array();
  const Eigen::ArrayXXd e = (x - x.maxCoeff()).exp();
  const Eigen::MatrixXd want = (e / e.sum()).matrix();
  const double err = maxAbsDiff(values(output(r, "y")), want);
  INFO("max abs error " << err << " against a double-precision softmax");
  CHECK(err < 1e-6);  // fp32 exp/rsqrt and the 8-term sum: a few ulps of 0.6
}

SCENARIO("timing-only runs take the same cycles without SRAM contents", "[example]") {
  const std::string path = sourcePath("examples/asm/gemv_int8.s");
  const Program p = assembleFile(path);
  RunRequest req;
  req.options.functional = false;
  const SimResult r = simulate(p, loadChip("groq-tsp-v1"), path, req);
  CHECK(r.cycles == 137);  // as in the functional run above
  CHECK_FALSE(r.functional);
  CHECK(output(r, "y").bytes.empty());
}
