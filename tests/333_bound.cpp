// The resource bound (compiler/bound.h): the MXM work the compiler counts
// while lowering, and the fewest cycles the chip's peaks allow for it.
#include <catch2/catch.hpp>

#include "compiler/bound.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

Compiled compileModel(const std::string& model, const StepRequest& step, Precision p = Precision::Int8) {
  CompileOptions o;
  o.precision = p;
  return compileGraph(buildGraph(loadModel(model), step), loadChip("groq-tsp-v1"), o, Policy::List);
}

StepRequest decode(int64_t context) {
  StepRequest r;
  r.context = context;
  return r;
}

}  // namespace

SCENARIO("the MXM's peaks come from the chip config", "[bound]") {
  // groq-tsp-v1: 4 planes x 16 streams x 320 lanes = 20,480 bytes; 4 x 320 x 320 = 409,600 MACs a cycle.
  CHECK(mxmBytesPerCycle(loadChip("groq-tsp-v1")) == 20480);
  CHECK(mxmMacsPerCycle(loadChip("groq-tsp-v1")) == 409600);
  // teaching: 2 planes x 4 streams x 8 lanes = 64 bytes; 2 x 8 x 8 = 128 MACs.
  CHECK(mxmBytesPerCycle(loadChip("teaching")) == 64);
  CHECK(mxmMacsPerCycle(loadChip("teaching")) == 128);
}

SCENARIO("the perceptron's bound: its weight bytes over the weight streams", "[bound]") {
  const Graph g = loadGraph(sourcePath("examples/graphs/mlp.graph.json"));
  const ChipConfig chip = loadChip("groq-tsp-v1");
  GIVEN("int8") {
    CompileOptions o;
    const Compiled c = compileGraph(g, chip, o, Policy::List);
    // fc1 [1 x 640] x [640 x 1000] and fc2 [1 x 1000] x [1000 x 320]: 640,000 + 320,000 MACs and bytes.
    CHECK(c.mxm.macs_int8 == 960000);
    CHECK(c.mxm.macs_fp16 == 0);
    CHECK(c.mxm.mxm_bytes == 960000);
    const Bound b = chipBound(chip, c.mxm);
    CHECK(b.bytes_cycles == 47);  // ceil(960,000 / 20,480 = 46.9)
    CHECK(b.macs_cycles == 3);    // ceil(960,000 / 409,600 = 2.3)
    CHECK(b.cycles == 47);
    CHECK(b.limit == "mxm_bytes");
    CHECK(b.link_cycles == 0);
    // 960,000 MACs over 491 cycles x 409,600
    CHECK(mxmUtilization(chip, b, 491, 1) == Approx(960000.0 / (491.0 * 409600)));
  }
  GIVEN("fp16: two bytes a weight, a MAC four int8 ones") {
    CompileOptions o;
    o.precision = Precision::Fp16;
    const Compiled c = compileGraph(g, chip, o, Policy::List);
    CHECK(c.mxm.macs_fp16 == 960000);
    CHECK(c.mxm.mxm_bytes == 1920000);
    const Bound b = chipBound(chip, c.mxm);
    CHECK(b.bytes_cycles == 94);  // ceil(1,920,000 / 20,480 = 93.75)
    CHECK(b.macs_cycles == 10);   // ceil(4 x 960,000 / 409,600 = 9.4)
    CHECK(b.cycles == 94);
  }
}

SCENARIO("tiny-llama's bound: weights and KV cache bytes, MACs with causal attention as a triangle", "[bound]") {
  // tiny-llama: d 256, mlp 512, 4 heads of 64, 2 kv heads, vocab 256, 2 layers. Matmul weights per
  // layer: q 256x256 + k, v 256x128 + o 256x256 + gate, up 256x512 + down 512x256 = 589,824; two
  // layers and the head (256 x 256): 1,245,184 bytes at int8, and as many MACs per token.
  const ChipConfig chip = loadChip("groq-tsp-v1");
  GIVEN("a decode step at context 64") {
    const Compiled c = compileModel("tiny-llama", decode(64));
    CHECK(c.mxm.macs_int8 == 1245184);
    // scores and mix: 2 layers x 2 x 4 heads x 64 dims x 64 positions
    CHECK(c.mxm.macs_fp16 == 65536);
    // the caches: 2 layers x (keys, values) x 64 positions x 2 kv heads x 64 dims x 2 bytes = 65,536
    CHECK(c.mxm.mxm_bytes == 1245184 + 65536);
    const Bound b = chipBound(chip, c.mxm);
    CHECK(b.bytes_cycles == 64);  // 1,310,720 / 20,480
    CHECK(b.macs_cycles == 4);    // ceil((1,245,184 + 4 x 65,536) / 409,600 = 3.7)
    CHECK(b.cycles == 64);
  }
  GIVEN("a causal prefill of 8 tokens") {
    StepRequest r;
    r.mode = "prefill";
    r.prompt = 8;
    const Compiled c = compileModel("tiny-llama", r);
    // every token through every layer's matmuls (2 x 589,824), the head's 256 x 256 for the last only
    CHECK(c.mxm.macs_int8 == 8 * 2 * 589824 + 65536);
    // token t sees positions 0..t: 1 + ... + 8 = 36; 2 layers x 2 x 4 heads x 64 dims x 36
    CHECK(c.mxm.macs_fp16 == 36864);
    // the caches hold the 8 positions: 2 x 2 x 8 x 128 x 2 = 8,192 bytes, each streamed once
    CHECK(c.mxm.mxm_bytes == 1245184 + 8192);
    const Bound b = chipBound(chip, c.mxm);
    CHECK(b.bytes_cycles == 62);  // ceil(1,253,376 / 20,480 = 61.2)
    CHECK(b.macs_cycles == 24);   // ceil((9,502,720 + 4 x 36,864) / 409,600 = 23.6)
    CHECK(b.cycles == 62);
  }
}

SCENARIO("tiny-moe's bound: only the experts a token chooses stream", "[bound]") {
  // tiny-moe: d 256, 4 heads of 64, 2 kv heads, 2 layers, 4 experts of 256, top 2, vocab 256. A layer:
  // q, o 256 x 256 + k, v 256 x 128 = 196,608; the router 256 x 4 = 1,024; 2 experts x (gate, up, down
  // 256 x 256) = 393,216: 590,848; 2 layers and the head 65,536: 1,247,232 bytes and MACs a token.
  const Compiled c = compileModel("tiny-moe", decode(64));
  CHECK(c.mxm.macs_int8 == 1247232);
  CHECK(c.mxm.macs_fp16 == 65536);  // 2 layers x 2 x 4 heads x 64 dims x 64 positions
  // the 2 chosen experts' tiles (not all 4), and the caches as in tiny-llama: 65,536
  CHECK(c.mxm.mxm_bytes == 1247232 + 65536);
  CHECK(chipBound(loadChip("groq-tsp-v1"), c.mxm).cycles == 65);  // ceil(1,312,768 / 20,480 = 64.1)
}

SCENARIO("gpt2 decode at context 1024 on one chip: the bound CHIP.md works out", "[bound][models]") {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const Compiled c = compileModel("gpt2", decode(1024));
  // Matmul weights: 12 layers x (768 x 2304 + 768 x 768 + 2 x 768 x 3072 = 7,077,888) + the head
  // 768 x 50,257 = 38,597,376: 123,532,032 bytes at int8, and as many MACs for one token.
  CHECK(c.mxm.macs_int8 == 123532032);
  // scores and mix: 12 layers x 2 x 12 heads x 64 dims x 1,024 positions
  CHECK(c.mxm.macs_fp16 == 18874368);
  // the caches: 12 layers x (keys, values) x 1,024 positions x 768 x 2 bytes = 37,748,736
  CHECK(c.mxm.mxm_bytes == 123532032 + 37748736);
  const Bound b = chipBound(chip, c.mxm);
  // 161,280,768 / 20,480 = 7,875.04: 7,876 whole cycles (CHIP.md rounds it to 7,875)
  CHECK(b.bytes_cycles == 7876);
  CHECK(b.macs_cycles == 486);  // ceil((123,532,032 + 4 x 18,874,368) / 409,600 = 485.9)
  CHECK(b.cycles == 7876);
  CHECK(b.limit == "mxm_bytes");
}

SCENARIO("one llama-3.2-1b layer's causal prefill: MACs a token and the attention triangle", "[bound][models]") {
  // A layer: q 2048 x 2048 + k, v 2048 x 512 + o 2048 x 2048 + gate, up, down 2048 x 8192 = 60,817,408
  // weights; 32 heads of 64, 8 kv heads.
  const ChipConfig chip = loadChip("groq-tsp-v1");
  GIVEN("a 2-token prompt, compiled") {
    StepRequest r;
    r.mode = "prefill";
    r.prompt = r.context = 2;
    r.layers = 1;
    r.embed = r.head = false;
    const Compiled c = compileModel("llama-3.2-1b", r);
    CHECK(c.mxm.macs_int8 == 2 * 60817408);
    // token t sees positions 0..t: 1 + 2 = 3; 2 (scores, mix) x 32 heads x 64 dims x 3
    CHECK(c.mxm.macs_fp16 == 12288);
    // the caches: (keys, values) x 2 positions x 8 kv heads x 64 dims x 2 bytes = 4,096
    CHECK(c.mxm.mxm_bytes == 60817408 + 4096);
    const Bound b = chipBound(chip, c.mxm);
    CHECK(b.bytes_cycles == 2970);  // ceil(60,821,504 / 20,480 = 2,969.8)
    CHECK(b.macs_cycles == 298);    // ceil((121,634,816 + 4 x 12,288) / 409,600 = 297.1)
  }
  GIVEN("the same counts for a 512-token prompt (too big to compile on one chip yet)") {
    MxmWork w;
    w.macs_int8 = 512ull * 60817408;                   // 31,138,512,896
    w.macs_fp16 = 2ull * 32 * 64 * 512 * 513 / 2;      // 537,919,488: 131,328 positions seen
    w.mxm_bytes = 60817408ull + 2 * 512 * 8 * 64 * 2;  // the weights, and 512 positions of both caches
    const Bound b = chipBound(chip, w);
    // 31,138,512,896 / 409,600 = 76,021.76, + 537,919,488 / 102,400 = 5,253.12: 81,274.88
    CHECK(b.macs_cycles == 81275);
    CHECK(b.bytes_cycles == 3021);  // ceil(61,865,984 / 20,480 = 3,020.8)
    CHECK(b.cycles == 81275);
    CHECK(b.limit == "macs");
  }
}

SCENARIO("a system's bound: the busiest chip of each stage, summed, and the exchanges' latency", "[bound][system]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SystemConfig sys = loadSystem("groq-node");
  const ChipConfig chip = sys.chipConfig();
  const Compiled one = compileModel("tiny-llama", decode(64));
  for (const auto& [tp, pp] : {std::pair{2, 2}, std::pair{1, 2}, std::pair{4, 1}}) {
    GIVEN("tp=" << tp << ", pp=" << pp) {
      MappingRequest req;
      req.step.context = 64;
      req.tp = tp, req.pp = pp;
      const CompiledSystem s = compileSystem(m, sys, req);
      const Bound b = systemBound(s, chip);
      THEN("the chips' work adds up to one chip's: each output chunk and kv head on one chip of a group") {
        CHECK(b.macs_int8 == one.mxm.macs_int8);
        CHECK(b.macs_fp16 == one.mxm.macs_fp16);
        CHECK(b.mxm_bytes == one.mxm.mxm_bytes);
      }
      THEN("the bound is each stage's busiest chip, summed, plus 300 cycles an exchange") {
        // With tp > 1 one all-reduce after each of the 4 blocks (2 layers x attention, MLP), and
        // one hand-over between the 2 stages.
        const int exchanges = (tp > 1 ? 4 : 0) + (pp - 1);
        CHECK(b.exchanges == exchanges);
        CHECK(b.link_cycles == 300 * exchanges);
        Cycle sum = 0;
        for (int st = 0; st < pp; ++st) {
          Cycle most = 0;
          for (int r = 0; r < tp; ++r) most = std::max(most, chipBound(chip, s.stages[size_t(st * tp + r)].mxm).cycles);
          sum += most;
        }
        CHECK(b.cycles == sum + 300 * exchanges);
        CHECK(b.cycles >= 64 / tp + 300 * exchanges);  // a stage's busiest chip does at least its share
        // Spread evenly, each stage's work over tp chips: no more, equal with one chip a stage.
        CHECK(b.even_cycles <= b.cycles);
        CHECK(b.even_cycles >= 64 / tp + 300 * exchanges);
        if (tp == 1) CHECK(b.even_cycles == b.cycles);
      }
    }
  }
}
