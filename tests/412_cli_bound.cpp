// `run --json` reports the resource bound (compiler/bound.h) on one chip and
// on a system: bound_cycles, its parts, the ratio and the MXM utilisation.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "support.h"

using namespace lpu::test;

namespace {

void checkBoundKeys(const nlohmann::json& j) {
  REQUIRE(j.contains("bound_cycles"));
  for (const char* k : {"mxm_bytes", "macs_int8", "macs_fp16", "bytes_cycles", "macs_cycles", "exchanges",
                        "link_cycles", "even_cycles", "limit"})
    CHECK(j["bound"].contains(k));
  CHECK(j["bound_ratio"].get<double>() == Approx(j["cycles"].get<double>() / j["bound_cycles"].get<double>()));
  CHECK(j.contains("mxm_utilization"));
}

}  // namespace

TEST_CASE("run --json on one chip: the perceptron's bound, ratio and MXM utilisation", "[cli][bound]") {
  const CliRun r = runCli("run --graph " + sourcePath("examples/graphs/mlp.graph.json") + " --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  checkBoundKeys(j);
  // 960,000 weight bytes / 20,480 a cycle = 46.9: 47 (tests/333_bound.cpp)
  CHECK(j["bound_cycles"] == 47);
  CHECK(j["bound"]["limit"] == "mxm_bytes");
  CHECK(j["bound"]["link_cycles"] == 0);
  CHECK(j["mxm_utilization"].get<double>() == Approx(960000.0 / (j["cycles"].get<double>() * 409600)));
}

TEST_CASE("run --json on a system: the bound with its exchanges", "[cli][bound][system]") {
  const CliRun r = runCli("run --model tiny-llama --chips 4 --parallel tp=2,pp=2 --context 64 --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  checkBoundKeys(j);
  // tiny-llama at context 64 (tests/333_bound.cpp): 1,245,184 int8 and 65,536 fp16 MACs over all chips
  CHECK(j["bound"]["macs_int8"] == 1245184);
  CHECK(j["bound"]["macs_fp16"] == 65536);
  // 4 blocks' all-reduces and 1 hand-over, 300 cycles each
  CHECK(j["bound"]["exchanges"] == 5);
  CHECK(j["bound"]["link_cycles"] == 1500);
  // Each chip's 320-lane output chunks (q, o and down one each, k and v one of 128, gate and up one of
  // 320 and one of 192 columns, taken in turn) and its kv head's caches (2 x 64 x 64 x 2 = 16,384):
  // stage 0, after the embedding's chunk: chip 0 k 32,768 + o 65,536 + gate, up 2 x 49,152 + 16,384
  // = 212,992 bytes, 11 cycles (10.4); chip 1 q 65,536 + v 32,768 + 2 x 81,920 + down 131,072 +
  // 16,384 = 409,600, 20 cycles. Stage 1: 409,600 (20) and, with the head's 65,536, 278,528 (13.6: 14).
  const std::vector<int64_t> chips{11, 20, 20, 14}, bytes{212992, 409600, 409600, 278528};
  REQUIRE(j["stages"].size() == 4);
  for (size_t s = 0; s < 4; ++s) {
    CHECK(j["stages"][s]["bound_cycles"] == chips[s]);
    CHECK(j["stages"][s]["mxm"]["mxm_bytes"] == bytes[s]);
  }
  // The busiest chip of each stage: 20 + 20, and 1,500 cycles of links
  CHECK(j["bound"]["bytes_cycles"] == 40);
  CHECK(j["bound_cycles"] == 1540);
  CHECK(j["bound"]["limit"] == "links");
  // Spread evenly over a stage's 2 chips: 622,592 / 40,960 = 15.2: 16, + 688,128 / 40,960 = 16.8: 17, + 1,500
  CHECK(j["bound"]["even_cycles"] == 1533);
  CHECK(j["mxm_utilization"].get<double>() ==
        Approx((1245184.0 + 4 * 65536) / (j["cycles"].get<double>() * 4 * 409600)));
}

TEST_CASE("run --json on a system: utilisation per unit class, over all chips and per chip", "[cli][system]") {
  // A system of one chip (tp=1,pp=1) runs the same program as `run` on that chip in the same
  // cycles, so every unit class's utilisation is the single chip's.
  const CliRun one = runCli("run --model tiny-llama --context 64 --json");
  const CliRun sys = runCli("run --model tiny-llama --chips 1 --parallel tp=1,pp=1 --context 64 --json");
  REQUIRE(one.exitCode == 0);
  REQUIRE(sys.exitCode == 0);
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(sys.out);
  REQUIRE(a["cycles"] == b["cycles"]);
  for (const char* u : {"MEM", "VXM", "MXM", "SXM", "C2C"}) {
    INFO(u);
    CHECK(b["utilization"][u].get<double>() == Approx(a["utilization"][u].get<double>()));
    CHECK(b["stages"][0]["utilization"][u].get<double>() == Approx(a["utilization"][u].get<double>()));
  }
  CHECK(a["utilization"]["MEM"].get<double>() > 0);
  // Over 4 chips: the whole run's figure is the mean of the chips' (each chip has as many queues).
  const CliRun four = runCli("run --model tiny-llama --chips 4 --parallel tp=2,pp=2 --context 64 --json");
  REQUIRE(four.exitCode == 0);
  const auto f = nlohmann::json::parse(four.out);
  REQUIRE(f["stages"].size() == 4);
  for (const char* u : {"MEM", "VXM", "MXM"}) {
    double sum = 0;
    for (const auto& s : f["stages"]) sum += s["utilization"][u].get<double>();
    INFO(u);
    CHECK(f["utilization"][u].get<double>() == Approx(sum / 4));
    CHECK(f["utilization"][u].get<double>() > 0);
  }
}
