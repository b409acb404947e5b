// One MXM plane on its own: load, install, pass, drain and their checks.
// Teaching chip: 8 lanes (8 int8 rows, 4 fp16 rows), 2 accumulators,
// mxm_load 1, mxm_install 1, mxm_pass 4.
#include <catch2/catch.hpp>

#include "sim/core/mxm.h"

using namespace lpu;
using Catch::Contains;

namespace {

// Rows 0..3 of W: W[r][col] = col - r.
std::vector<std::vector<double>> weights() {
  std::vector<std::vector<double>> w(4, std::vector<double>(8));
  for (int r = 0; r < 4; ++r)
    for (int col = 0; col < 8; ++col) w[size_t(r)][size_t(col)] = col - r;
  return w;
}
const std::vector<double> kX{1, 2, 3, 4, 0, 0, 0, 0};
// y[col] = sum_r x[r] (col - r) = 10 col - (0 + 2 + 6 + 12) = 10 col - 20.
const std::vector<double> kY{-20, -10, 0, 10, 20, 30, 40, 50};

}  // namespace

SCENARIO("lw, iw, abc, acc in the fewest cycles", "[unit][mxm]") {
  const ChipConfig c = presetTeaching();
  REQUIRE(c.latency.mxm_load == 1);
  REQUIRE(c.latency.mxm_install == 1);
  REQUIRE(c.latency.mxm_pass == 4);
  GIVEN("4 int8 rows loaded in cycle 0 (in the buffer at 0 + mxm_load 1 = 1)") {
    MxmPlane m(c, "MXM.W0", true);
    m.loadRows(DType::I8, 0, weights(), 4, 0);
    THEN("a second lw in cycle 0 is refused") {
      REQUIRE_THROWS_WITH(m.loadRows(DType::I8, 4, weights(), 4, 0), "MXM.W0 takes one lw per cycle");
    }
    THEN("an iw in cycle 0 is too early") {
      REQUIRE_THROWS_WITH(m.install(4, 0), "installs 4 rows into MXM.W0 but row 0 is still loading until cycle 1");
    }
    THEN("an iw of 5 rows finds row 4 never loaded") {
      REQUIRE_THROWS_WITH(m.install(5, 1),
                          "installs 5 rows into MXM.W0 but row 4 was not loaded since the last install");
    }
    WHEN("they are installed in cycle 1 (active at 1 + mxm_install 1 = 2)") {
      m.install(4, 1);
      THEN("an abc in cycle 1 finds the array still installing") {
        REQUIRE_THROWS_WITH(m.activate(DType::I8, kX, 0, AccMode::Set, 1),
                            "MXM.W0 is installing the weights of the iw in cycle 1 until cycle 2");
      }
      THEN("an abc in cycle 2 is ready in 2 + mxm_pass 4 = 6") {
        m.activate(DType::I8, kX, 0, AccMode::Set, 2);
        CHECK_THROWS_WITH(m.drain(DType::I32, 0, 5),
                          "drains accumulator 0 of MXM.W0 in cycle 5 but the abc of cycle 2 completes in cycle 6");
        CHECK(m.drain(DType::I32, 0, 6) == kY);
        CHECK_THROWS_WITH(m.drain(DType::I32, 0, 7),
                          "accumulator 0 of MXM.W0 holds no result (no abc since it was drained)");
      }
      THEN("set, then add in the next cycle: 2 y, ready in 3 + 4 = 7") {
        m.activate(DType::I8, kX, 1, AccMode::Set, 2);
        m.activate(DType::I8, kX, 1, AccMode::Add, 3);
        CHECK_THROWS_WITH(m.drain(DType::I32, 1, 6), Contains("the abc of cycle 3 completes in cycle 7"));
        std::vector<double> twice;
        for (double y : kY) twice.push_back(2 * y);
        CHECK(m.drain(DType::I32, 1, 7) == twice);
      }
      THEN("two abc in one cycle, add into an empty accumulator, set over a full one") {
        m.activate(DType::I8, kX, 0, AccMode::Set, 2);
        CHECK_THROWS_WITH(m.activate(DType::I8, kX, 1, AccMode::Set, 2), "MXM.W0 takes one abc per cycle");
        CHECK_THROWS_WITH(m.activate(DType::I8, kX, 1, AccMode::Add, 3),
                          "adds into accumulator 1 of MXM.W0, which holds nothing (use set)");
        CHECK_THROWS_WITH(m.activate(DType::I8, kX, 0, AccMode::Set, 4),
                          "sets accumulator 0 of MXM.W0, which still holds the result of the abc in cycle 2 (drain it "
                          "with acc first)");
      }
      THEN("the loaded rows are spent: another iw needs another lw") {
        REQUIRE_THROWS_WITH(m.install(4, 3), Contains("row 0 was not loaded since the last install"));
      }
    }
  }
}

SCENARIO("weights must be installed before use", "[unit][mxm]") {
  MxmPlane m(presetTeaching(), "MXM.E0", true);
  REQUIRE_THROWS_WITH(m.activate(DType::I8, kX, 0, AccMode::Set, 5),
                      "MXM.E0 has no weights installed (lw then iw first)");
}

SCENARIO("the element type must match the plane's mode", "[unit][mxm]") {
  MxmPlane m(presetTeaching(), "MXM.W0", true);
  CHECK(m.rows() == 8);
  CHECK_THROWS_WITH(m.loadRows(DType::F16, 0, weights(), 4, 0),
                    "MXM.W0 is in i8 mode; lw.f16 needs `config.f16` first");
  CHECK_THROWS_WITH(m.drain(DType::F32, 0, 0), "MXM.W0 in i8 mode accumulates i32, not f32");
  WHEN("configured for fp16") {
    m.config(DType::F16, 0);
    THEN("it holds lanes / 2 = 4 rows and accumulates f32") {
      CHECK(m.rows() == 4);
      CHECK_THROWS_WITH(m.loadRows(DType::F16, 3, weights(), 2, 1),
                        "rows 3..4 are outside MXM.W0 (4 rows in f16 mode)");
      CHECK_THROWS_WITH(m.activate(DType::I8, kX, 0, AccMode::Set, 1),
                        "MXM.W0 is in f16 mode; abc.i8 needs `config.i8` first");
      m.loadRows(DType::F16, 0, weights(), 4, 2);
      m.install(4, 3);
      m.activate(DType::F16, {0.5, 0.25, 0, 0, 0, 0, 0, 0}, 0, AccMode::Set, 4);
      // y[col] = 0.5 col + 0.25 (col - 1), ready in 4 + 4 = 8.
      CHECK(m.drain(DType::F32, 0, 8) == std::vector<double>{-0.25, 0.5, 1.25, 2, 2.75, 3.5, 4.25, 5});
    }
  }
}
