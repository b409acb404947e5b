// Every bundled model that fits one chip, and one layer of the larger ones,
// compiles to a schedule whose predicted cycle count the simulator measures
// exactly, with both schedulers; models too big for a chip say how big.
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <map>
#include <tuple>

#include "compiler/compile.h"
#include "compiler/layout.h"
#include "models/build_graph.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// Timing only (no weights allocated): predicted == simulated.
Cycle exact(const std::string& model, const StepRequest& req, Policy policy, Precision p) {
  const ModelConfig m = loadModel(model);
  const Graph g = buildGraph(m, req);
  const ChipConfig chip = loadChip("groq-tsp-v1");
  CompileOptions o;
  o.precision = p;
  const Compiled comp = compileGraph(g, chip, o, policy);
  RunRequest run;
  run.options.functional = false;
  const SimResult r = simulate(comp.program, chip, g.name, run);
  INFO(g.name << ", " << policyName(policy) << ", " << precisionName(p));
  CHECK(r.cycles == comp.predicted);
  // Physical limits: every weight byte crosses a plane's weight streams
  // (mxm_weight_streams slices x lanes bytes per cycle per plane), and every
  // MAC takes a lane of a plane (lanes x lanes per cycle per plane).
  uint64_t weightBytes = 0, macs = 0;
  for (const GOp& op : g.ops)
    if (op.kind == OpKind::MatMul) {
      const GTensor& w = g.tensor(op.inputs[1]);
      weightBytes += uint64_t(w.elements()) * (p == Precision::Int8 ? 1 : 2);
      macs += uint64_t(w.elements()) * uint64_t(g.tokens);
    }
  const uint64_t planes = 2 * uint64_t(chip.mxm_planes_per_hemisphere), lanes = uint64_t(chip.lanes());
  const uint64_t bwBound = weightBytes / (planes * uint64_t(chip.mxm_weight_streams) * lanes);
  const uint64_t macBound = macs / (planes * lanes * lanes);
  INFO("bounds: weights " << bwBound << " cycles, MACs " << macBound << " cycles");
  CHECK(uint64_t(r.cycles) >= std::max(bwBound, macBound));
  return r.cycles;
}

StepRequest decode(int64_t context, int layers = -1, bool whole = true) {
  StepRequest r;
  r.context = context;
  r.layers = layers;
  r.embed = r.head = whole;
  return r;
}

}  // namespace

TEST_CASE("tiny-llama decode: exact for both schedulers and precisions", "[models][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (Precision p : {Precision::Int8, Precision::Fp16}) exact("tiny-llama", decode(200), pol, p);
}

TEST_CASE("tiny-gpt2 decode: exact for both schedulers and precisions", "[models][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (Precision p : {Precision::Int8, Precision::Fp16}) exact("tiny-gpt2", decode(200), pol, p);
}

TEST_CASE("one layer of gpt2 and llama-3.2-1b at context 1024: exact for both schedulers", "[models][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder}) {
    const Cycle a = exact("gpt2", decode(1024, 1, false), pol, Precision::Int8);
    const Cycle b = exact("llama-3.2-1b", decode(1024, 1, false), pol, Precision::Int8);
    CHECK(a > 0);
    CHECK(b > 0);
  }
}

TEST_CASE("one layer of llama-2-7b and llama-3.1-8b at context 256: exact for both schedulers", "[models][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder}) {
    const Cycle a = exact("llama-2-7b", decode(256, 1, false), pol, Precision::Int8);
    const Cycle b = exact("llama-3.1-8b", decode(256, 1, false), pol, Precision::Int8);
    CHECK(a > 0);  // exact() checked predicted == simulated and the weight-streaming bound
    CHECK(b > 0);
  }
}

TEST_CASE("gpt2 at context 1024 fits one chip: exact for both schedulers, decode and prefill", "[models][exact]") {
  // 124M int8 weights (the tied table twice: gather tiles and head tiles; the narrow last chunks packed)
  // and 47 MB of fp16 KV caches: more than the MXM planes' own slices hold, so tiles also fill the
  // activation slices (README: gpt2 on one chip).
  StepRequest pre;  // a prompt's chunk of 2 tokens after 898 (1024 with 2 rows of activations does not fit)
  pre.mode = "prefill";
  pre.prompt = 2;
  pre.context = 900;
  for (Policy pol : {Policy::List, Policy::InOrder}) {
    const Cycle d512 = exact("gpt2", decode(512), pol, Precision::Int8);
    const Cycle d = exact("gpt2", decode(1024), pol, Precision::Int8);
    CHECK(d > d512);  // twice the cache to attend over
    CHECK(exact("gpt2", pre, pol, Precision::Int8) > 0);
  }
}

TEST_CASE("gpt2 at context 1024: weights, caches, activations, constants and program text never share a word",
          "[models][layout]") {
  StepRequest req = decode(1024);
  const Compiled c =
      compileGraph(buildGraph(loadModel("gpt2"), req), loadChip("groq-tsp-v1"), CompileOptions{}, Policy::List);
  // Per slice, the words each tensor's rows take there: [addr, addr + rows on that slice).
  std::map<int, std::vector<std::pair<std::pair<uint64_t, uint64_t>, const Tensor*>>> bySlice;
  uint64_t text = 0, words = 0;
  for (const Tensor& t : c.program.tensors) {
    if (t.name.rfind("text.", 0) == 0) text += uint64_t(t.rows) * t.cols;
    for (uint32_t r = 0; r < std::min(t.spread, t.rows); ++r)
      for (int b = 0; b < bytes(t.dtype); ++b) {
        const SliceRef sl = t.sliceOf(r, b);
        const uint64_t n = (t.rows - r + t.spread - 1) / t.spread;
        bySlice[int(sl.east) * 100 + sl.index].push_back({{t.addrOf(r), t.addrOf(r) + n}, &t});
        words += n;
      }
  }
  std::string clash;
  for (auto& [slice, v] : bySlice) {
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 1; i < v.size() && clash.empty(); ++i)
      if (v[i].first.first < v[i - 1].first.second)
        clash = v[i - 1].second->name + " and " + v[i].second->name + " on slice " + std::to_string(slice);
  }
  INFO(clash);
  CHECK(clash.empty());
  std::cout << "gpt2 at 1024: " << words * 320 << " bytes placed, " << text << " of them program text ("
            << c.sram.program << " reported)\n";
  CHECK(text == c.sram.program);
  CHECK(text >= 8 * [&] {  // every instruction has its 8 bytes
    uint64_t n = 0;
    for (const Queue& q : c.program.queues) n += q.code.size();
    return n;
  }());
  CHECK(words * 320 <= loadChip("groq-tsp-v1").sramBytes());
}

TEST_CASE("models too big for one chip: the error says how many bytes and at least how many chips",
          "[models][bad-input]") {
  checkBadInput("run --model llama-2-7b --first-layers 1 --layers-only --context 2048",
                "llama-2-7b needs 246090240 bytes of SRAM, this chip has 230686720 (at least 2 chips)");
  // Within 2% of the chip: what rounding and the fuller hemisphere lose does not fit.
  checkBadInput("run --model llama-3.1-8b --first-layers 1 --layers-only --context 1024",
                "llama-3.1-8b needs 227366400 bytes of SRAM, this chip has 230686720 (at least 2 chips): too close to "
                "place them all");
  checkBadInput("run --model gpt2 --context 1024 --precision fp16", "gpt2 needs");
}

TEST_CASE("tiny-llama prefill of 4 tokens (causal masks): exact for both schedulers", "[models][exact]") {
  StepRequest r;
  r.mode = "prefill";
  r.prompt = 4;
  for (Policy pol : {Policy::List, Policy::InOrder}) exact("tiny-llama", r, pol, Precision::Int8);
}

TEST_CASE("prefill: tiny-gpt2 and tiny-moe (4 tokens), one layer of llama-3.2-1b, llama-2-7b, llama-3.1-8b (2) exact",
          "[models][exact]") {
  // One llama-3.1-8b layer is 220.6 MB of int8 weights: with 4 tokens its program text no longer fits beside them.
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (const char* name : {"tiny-gpt2", "tiny-moe", "llama-3.2-1b", "llama-2-7b", "llama-3.1-8b"}) {
      const bool tiny = std::string(name).rfind("tiny", 0) == 0;
      StepRequest r = decode(tiny ? 4 : 2, tiny ? -1 : 1, tiny);
      r.mode = "prefill";
      r.prompt = tiny ? 4 : 2;
      CHECK(exact(name, r, pol, Precision::Int8) > 0);
    }
}

TEST_CASE("tiny-moe decode (router, top-2 of 4 experts gathered by index): exact for both schedulers and precisions",
          "[models][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (Precision p : {Precision::Int8, Precision::Fp16}) exact("tiny-moe", decode(100), pol, p);
}

TEST_CASE("one layer of mixtral and gpt-oss needs several chips, and the error says how many", "[models][bad-input]") {
  checkBadInput("run --model mixtral-8x7b --first-layers 1 --layers-only --context 1024", "(at least 7 chips)");
  checkBadInput("run --model gpt-oss-20b --first-layers 1 --layers-only --context 1024", "(at least 4 chips)");
}

TEST_CASE("batch decode: exact for both schedulers; a batch of 4 costs less than 4 steps", "[models][exact][batch]") {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  for (const char* name : {"tiny-llama", "tiny-gpt2", "tiny-moe"}) {
    const ModelConfig m = loadModel(name);
    Cycle one = 0;
    for (int64_t batch : {1, 4})
      for (Policy pol : {Policy::List, Policy::InOrder}) {
        StepRequest req;
        req.context = 64;
        req.batch = batch;
        const Graph g = buildGraph(m, req);
        CHECK(g.tokens == batch);
        const Compiled c = compileGraph(g, chip, CompileOptions{}, pol);
        const SimResult r = simulate(c.program, chip, g.name, RunRequest{});
        CHECK(r.cycles == c.predicted);
        if (pol != Policy::List) continue;
        if (batch == 1)
          one = r.cycles;
        else
          CHECK(r.cycles < 4 * one);  // the weights stream once for the 4 sequences
        std::cout << name << " batch " << batch << ": " << r.cycles << " cycles\n";
      }
  }
}

// Prompt chunks: T tokens at the end of a longer cache. Each of these once
// made a task use a queue twice: causal masks on a full 320-position tile
// (llama at 320), softmax over exactly one full chunk (8 at 320), int8 rows
// meeting x's reads (4 at 320), drains of packed value heads (gpt2 at 320).
TEST_CASE("prompt chunks at contexts 320 and 640 (llama-3.2-1b, gpt2 layers): exact for both schedulers",
          "[models][exact][request]") {
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (const auto& [name, T, C] : {std::tuple{"llama-3.2-1b", 4, 320}, std::tuple{"llama-3.2-1b", 8, 320},
                                     std::tuple{"llama-3.2-1b", 2, 640}, std::tuple{"gpt2", 2, 320}}) {
      StepRequest r = decode(C, 1, false);
      r.mode = "prefill";
      r.prompt = T;
      const Cycle n = exact(name, r, pol, Precision::Int8);
      // More than a decode step of the same layer: T rows through every matmul.
      CHECK(n > exact(name, decode(C, 1, false), pol, Precision::Int8));
    }
}

// Keys of whole superlanes of positions go into the transposed cache through
// the SXM's transposer. One llama-3.2-1b layer, 32 tokens at positions
// 320..351 (two groups of 16 in its key tiles' second position tile): per kv
// head (8) and group (2), a key's 64 dims are 4 quarters of 16, each in two
// byte planes, and each byte plane's 16 rows lie at two addresses (8 rows an
// address on a plane): 8 x 2 x 4 x 2 x 2 = 256 transposes.
TEST_CASE("a prompt chunk's keys go through the transposer: 256 transposes, exact for both schedulers",
          "[models][exact][request]") {
  const ModelConfig m = loadModel("llama-3.2-1b");
  const ChipConfig chip = loadChip("groq-tsp-v1");
  StepRequest r = decode(352, 1, false);
  r.mode = "prefill";
  r.prompt = 32;
  const Graph g = buildGraph(m, r);
  for (Policy pol : {Policy::List, Policy::InOrder}) {
    CompileOptions o;
    const Compiled comp = compileGraph(g, chip, o, pol);
    int transposes = 0;
    for (const auto& q : comp.program.queues)  // (a REPEAT after a transpose issues it n more times)
      for (size_t i = 0; i < q.code.size(); ++i)
        transposes += q.code[i].op == Opcode::TRANSPOSE                                              ? 1
                      : q.code[i].op == Opcode::REPEAT && i && q.code[i - 1].op == Opcode::TRANSPOSE ? int(q.code[i].n)
                                                                                                     : 0;
    CHECK(transposes == 256);
    RunRequest run;
    run.options.functional = false;
    CHECK(simulate(comp.program, chip, g.name, run).cycles == comp.predicted);
  }
}

TEST_CASE("gpt2's spill: the first layers' weight tiles take the activation slices, not the last op's", "[models]") {
  // gpt2 at context 1024 does not fit its planes' slices: a first lowering spills 50.5 MB of tiles,
  // all of them the logits' (placed last). Lowered again, the first layers' tiles take three
  // quarters of that, so most logits tiles (which the token's last op waits to load) sit on their
  // planes' slices, 16 rows a load instead of 12.
  const ModelConfig m = loadModel("gpt2");
  StepRequest req;
  req.context = 1024;
  const Graph g = buildGraph(m, req);
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const Compiled c = compileGraph(g, chip, CompileOptions{}, Policy::List);
  const Layout layout(chip);
  auto spilled = [&](const std::string& prefix) {
    int in = 0, all = 0;
    for (const Tensor& t : c.program.tensors)
      if (t.name.rfind(prefix, 0) == 0 && t.name.find(".w") != std::string::npos) ++all, in += layout.inner(t);
    return std::pair<int, int>{in, all};
  };
  const auto [l0, l0all] = spilled("l0.");
  const auto [l11, l11all] = spilled("l11.");
  const auto [lg, lgall] = spilled("logits.");
  INFO("l0 " << l0 << "/" << l0all << ", l11 " << l11 << "/" << l11all << ", logits " << lg << "/" << lgall);
  CHECK(l0all == 115);
  CHECK(l0 == l0all);  // layer 0's 115 tiles (7.1 MB) are well within the 37.8 MB
  CHECK(l11 == 0);
  CHECK(lgall == 472);  // 3 k tiles x 158 chunks of the 768 x 50257 head, the last chunk (17 lanes) packing its 3 in 1
  CHECK(lg < lgall / 2);
}
