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
  const Eigen::MatrixXd want = (tensorOf("vadd_fp32.s", "x").cast<float>() + tensorOf("vadd_fp32.s", "y").cast<float>()).cast<double>();
  const double err = maxAbsDiff(values(output(r, "z")), want);
  INFO("max abs error " << err);
  CHECK(err == 0.0);  // one fp32 add per lane: bit-exact
}
