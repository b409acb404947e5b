// Multi-chip systems: the wiring, all chips in one simulation with C2C links
// checked, and pipeline parallelism predicted to the cycle.
#include <fmt/format.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "isa/assembler.h"
#include "sim/cli/model_run.h"
#include "sim/cli/system_run.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

namespace {

// Two teaching chips, link 0 of each wired to the other's link 0.
SystemSimResult twoChips(const std::string& a, const std::string& b, bool wired = true) {
  const Program p0 = assemble(".chip teaching\n" + a, "chip0.s"), p1 = assemble(".chip teaching\n" + b, "chip1.s");
  const ChipConfig c = loadChip("teaching");
  std::vector<std::vector<LinkEnd>> w(2, std::vector<LinkEnd>(size_t(c.c2c_links)));
  if (wired) w[0][0] = {1, 0}, w[1][0] = {0, 0};
  RunRequest r;
  return simulateSystem({&p0, &p1}, c, w, r);
}

const char* kSendOnce =
    ".tensor x i8 [1, 8] at W3 0\n.queue MEM.W3\n  @2 read x[0], s0w\n"
    ".queue C2C.0\n  deskew 0\n  @5 send 0, s0w\n";
const char* kSend =
    ".tensor x i8 [2, 8] at W3 0\n.queue MEM.W3\n  @2 read x[0], s0w\n  @4 read x[1], s0w\n"
    ".queue C2C.0\n  deskew 0\n  @5 send 0, s0w\n";

// One decode step of `m` on one chip (context 32, the given token): its
// logits, cycles and weight bytes, to compare a multi-chip run with.
struct OneChip {
  std::vector<float> logits;
  Cycle cycles;
  uint64_t weightBytes;
};
OneChip oneChipLogits(const ModelConfig& m, const WeightSource& w, int token, const ChipConfig& chip) {
  StepRequest one;
  one.context = 32;
  const Graph g = buildGraph(m, one);
  const KvRows none;
  CompileOptions o;
  o.values = modelValues(g, w, {token}, none);
  const Compiled c = compileGraph(g, chip, o, Policy::List);
  RunRequest rr;
  rr.options.functional = true;
  const SimResult single = simulate(c.program, chip, "one chip", rr);
  return {outputValues(c, single, "logits"), single.cycles, c.sram.weights};
}

// A functional tp x pp run of one decode step (context 32) and the largest
// difference of any last-stage chip's logits from `expected` (after the
// all-gather, every chip of the last stage holds them all).
std::pair<PipelineRun, double> splitRun(const ModelConfig& m, const WeightSource& w, int token, int tp, int pp,
                                        const std::vector<float>& expected, const std::string& system = "groq-node",
                                        PipelineRequest::Experts experts = PipelineRequest::Experts::Split) {
  PipelineRequest req;
  req.step.context = 32;
  req.tp = tp;
  req.pp = pp;
  req.weights = &w;
  req.tokens = {token};
  req.experts = experts;
  PipelineRun r = runPipeline(m, loadSystem(system), req);  // throws unless predicted == simulated
  double worst = 0;
  for (int k = 0; k < tp; ++k) {
    const size_t chipIndex = size_t((pp - 1) * tp + k);
    const auto b = outputValues(r.stages[chipIndex], r.result.chips[chipIndex], "logits");
    REQUIRE(expected.size() == b.size());
    for (size_t i = 0; i < b.size(); ++i) worst = std::max(worst, double(std::fabs(expected[i] - b[i])));
  }
  return {std::move(r), worst};
}

// A timing-only run of one step (context 32) split tp x pp (pp 0: chosen)
// with the in-order scheduler: the simulated cycles are the predicted ones.
void checkInOrderTiming(const ModelConfig& m, const SystemConfig& sys, int tp, int pp) {
  PipelineRequest req;
  req.step.context = 32;
  req.tp = tp;
  req.pp = pp;
  req.policy = Policy::InOrder;
  const PipelineRun r = runPipeline(m, sys, req);
  CHECK(r.result.cycles == r.predicted);
}

}  // namespace

TEST_CASE("system wiring is symmetric and a chain of directly linked chips exists", "[system]") {
  for (const char* name : {"groq-node", "groq-rack", "groq-576"}) {
    const SystemConfig s = loadSystem(name);
    const ChipConfig c = s.chipConfig();
    const auto w = wiring(s, c.c2c_links);
    int links = 0;
    for (int a = 0; a < s.chips; ++a)
      for (int l = 0; l < c.c2c_links; ++l) {
        const LinkEnd e = w[size_t(a)][size_t(l)];
        if (e.chip < 0) continue;
        ++links;
        INFO(name << ": chip " << a << " link " << l);
        REQUIRE(w[size_t(e.chip)][size_t(e.link)].chip == a);
        REQUIRE(w[size_t(e.chip)][size_t(e.link)].link == l);
      }
    // groq-node: 8 chips x 7 local links; a rack adds 4 global links per chip.
    if (std::string(name) == "groq-node") CHECK(links == 8 * 7);
    if (std::string(name) == "groq-rack") CHECK(links == 72 * (7 + 4));
    const auto chain = chainOrder(s, w, std::min(s.chips, 80));
    for (size_t i = 0; i + 1 < chain.size(); ++i) CHECK(directLink(w, chain[i], chain[i + 1]) >= 0);
  }
}

TEST_CASE("a receive with nothing sent to it, on another chip", "[system][check]") {
  REQUIRE_THROWS_WITH(twoChips(".queue C2C.0\n  deskew 0\n", ".queue C2C.0\n  deskew 0\n  @20 recv s1e, 0\n"),
                      Contains("chip 1: cycle 20, C2C.0, recv s1e, 0: receives on link 0 in cycle 20 but nothing was "
                               "sent to it"));
}

TEST_CASE("two vectors on one link slot between chips", "[system][check]") {
  const std::string twice = std::string(kSend) + "  @7 send 0, s0w\n";
  REQUIRE_THROWS_WITH(
      twoChips(twice, ".queue C2C.0\n  deskew 0\n"),
      Contains("chip 0: cycle 7, C2C.0, send 0, s0w: link 0 still carries the vector sent in cycle 5") &&
          Contains("two vectors on one link slot"));
}

TEST_CASE("a vector sent to another chip and never received", "[system][check]") {
  REQUIRE_THROWS_WITH(twoChips(kSendOnce, ".queue C2C.0\n  deskew 0\n"),
                      Contains("chip 1: ") && Contains("send 0, s0w") && Contains("was never received"));
}

TEST_CASE("a send on a link wired to no chip", "[system][check]") {
  REQUIRE_THROWS_WITH(twoChips(kSendOnce, ".queue C2C.0\n  deskew 0\n", false),
                      Contains("chip 0: cycle 5, C2C.0, send 0, s0w: send on link 0, which is not connected"));
}

TEST_CASE("tiny-llama pipelined over 2 chips: exact, and the logits equal one chip's", "[system][functional]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 7);
  const SystemConfig sys = loadSystem("groq-node");
  PipelineRequest req;
  req.step.context = 32;
  req.pp = 2;
  req.weights = &w;
  req.tokens = {5};
  const PipelineRun r = runPipeline(m, sys, req);  // throws unless predicted == simulated
  CHECK(r.result.cycles == r.predicted);
  CHECK(r.chips.size() == 2);
  // The residual [1, 256]: one chunk of 4 byte planes crosses the link.
  CHECK(r.result.c2c_vectors == 4);
  // The second stage starts its layers after the first vector arrives:
  // first SEND + c2c_send 2 + 20 cycles on the link + 300 on the wire.
  const ChipConfig chip = sys.chipConfig();
  CHECK(chip.c2cCyclesPerVector() == 20);  // 320 bytes / (4 lanes x 30 Gb/s / 8 / 900 MHz = 16.7 bytes a cycle)

  const auto [a, singleCycles, singleWeights] = oneChipLogits(m, w, 5, chip);
  const auto b = outputValues(r.stages.back(), r.result.chips.back(), "logits");
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  std::cout << "tiny-llama pp=2: " << r.result.cycles << " cycles (one chip " << singleCycles
            << "), max abs logit difference " << worst << "\n";
  CHECK(worst == 0);  // the same arithmetic; the residual crosses the link bit for bit
}

TEST_CASE("pipelines are exact for both schedulers: tiny-gpt2 and tiny-moe on 2 chips, gpt2 split to fit",
          "[system][exact]") {
  for (Policy pol : {Policy::List, Policy::InOrder})
    for (const char* name : {"tiny-gpt2", "tiny-moe"}) {
      PipelineRequest req;
      req.step.context = 64;
      req.pp = 2;
      req.policy = pol;
      const PipelineRun r = runPipeline(loadModel(name), loadSystem("groq-node"), req);
      CHECK(r.result.cycles == r.predicted);
    }
  PipelineRequest req;
  req.step.context = 1024;
  req.precision = Precision::Fp16;  // tp=1 (the default), pp chosen: the fewest stages that fit
  const PipelineRun r = runPipeline(loadModel("gpt2"), loadSystem("groq-node"), req);
  CHECK(r.split.pp == 2);  // gpt2 at fp16 does not fit one chip
  CHECK(r.split.tp == 1);
  CHECK(r.result.cycles == r.predicted);
  CHECK(r.result.c2c_vectors == 1 * 3 * 4);  // 1 hand-over of [1, 768]: 3 chunks x 4 byte planes
}

TEST_CASE("bad input: system configs and parallel splits", "[system][bad-input]") {
  const std::string path = tempPath("bad-system.json");
  writeFile(path, R"({"base": "groq-node", "chips_per_node": 20})");
  checkBadInput("run --model tiny-llama --system " + path, "field chips_per_node: a fully connected node of 20 chips");
  writeFile(path, R"({"base": "groq-node", "chips": 0})");
  checkBadInput("run --model tiny-llama --system " + path, "field chips: 0 is not in 1..100000");
  writeFile(path, R"({"base": "groq-node", "topology": "torus"})");
  checkBadInput("run --model tiny-llama --system " + path, "unknown field topology");
  checkBadInput("run --model tiny-llama --system no-such-system", "not a system preset");
  checkBadInput("run --model tiny-llama --chips 2 --parallel pp=0", "is not tp=N or pp=N");
  checkBadInput("run --model tiny-llama --chips 2 --parallel pp=4", "needs 4 chips, system 2-chips has 2");
  checkBadInput("run --model tiny-llama --chips 8 --parallel pp=5",
                "tiny-llama has only 4 blocks (attention, MLP) to split");
  // gpt2: 256 MiB + 124,439,808 int8 weights x (0.06 + 1.3 / 1 stage) = 0.41 GiB
  checkBadInput("run --model gpt2 --system groq-node --max-memory 0.1",
                "gpt2 on groq-node: compiling it needs about 0.4 GiB of memory");
  checkBadInput("run --model tiny-llama --chips 2 --first-layers 1 --prompt 1,2",
                "--first-layers and --layers-only: greedy decoding (--prompt) needs the whole model");
  checkBadInput("run --model tiny-llama --chips 16 --parallel tp=12",
                "--parallel tp=12: a group wider than a node takes whole nodes: a multiple of 8");
  checkBadInput("run --model tiny-llama --chips 16 --parallel tp=8,pp=3",
                "--parallel tp=8,pp=3: needs 24 chips, system 16-chips has 16");
  checkBadInput("run --model llama-3.1-8b --system groq-node --context 1024",
                "does not fit system groq-node (8 chips) with any tensor/pipeline split tried");
  // One MoE block over 8 chips: 180 MB a chip, but experts must sit on the planes' own 160 MiB.
  checkBadInput("run --model mixtral-8x7b --system groq-576 --context 1024 --parallel tp=8,pp=64 --experts split",
                "must sit on the MXM planes' own slices, 167772160 bytes");
}

TEST_CASE("lpusim systems lists the presets", "[system][cli]") {
  const CliRun r = runCli("systems --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.size() == 4);
  CHECK(j[0]["chips"] == 8);
  CHECK(j[1]["chips"] == 72);
  CHECK(j[2]["chips"] == 576);
  CHECK(j[3]["chips"] == 10440);
}

TEST_CASE("tiny-moe with experts placed whole on different chips: exact, logits within 1e-5 of one chip's",
          "[system][functional][tp]") {
  // Each chip holds experts / tp whole experts and adds the weighted outputs of those the router chose (its
  // own when it has no more than k = 2, else the k choices gathered by a local index); the parts are summed
  // over the links. Only the order of that sum differs from one chip's.
  const ModelConfig four = loadModel("tiny-moe");
  ModelConfig eight = four;  // 8 experts: over 2 chips, 4 a chip > k, so the loads are gathered by index
  eight.experts = 8;
  for (const ModelConfig* m : std::vector<const ModelConfig*>{&four, &eight}) {
    const SeededWeights w(*m, 5);
    const auto [a, singleCycles, singleWeights] = oneChipLogits(*m, w, 3, loadSystem("groq-node").chipConfig());
    for (const auto& [tp, pp] : std::vector<std::pair<int, int>>{{2, 1}, {4, 1}, {2, 2}}) {
      const auto [r, worst] = splitRun(*m, w, 3, tp, pp, a, "groq-node", PipelineRequest::Experts::Whole);
      CHECK(r.result.cycles == r.predicted);
      std::cout << "tiny-moe, " << m->experts << " experts whole, tp=" << tp << ",pp=" << pp << ": " << r.result.cycles
                << " cycles (one chip " << singleCycles << "), max abs logit difference " << worst << "\n";
      CHECK(worst < 1e-5);
      if (pp == 1) {  // each chip holds its experts' tiles only
        uint64_t sum = 0;
        for (int k = 0; k < tp; ++k) sum += r.stages[size_t(k)].sram.weights;
        CHECK(sum >= singleWeights);
        CHECK(sum < singleWeights + singleWeights / 10);
      }
    }
  }
  // 4 experts on 8 chips cannot be placed whole
  const SeededWeights w(four, 5);
  CHECK_THROWS_WITH(splitRun(four, w, 3, 8, 1, {}, "groq-node", PipelineRequest::Experts::Whole),
                    Contains("4 experts placed whole over 8 chips: the chips must divide the experts"));
}

TEST_CASE("a tensor-parallel group over two nodes: chips without a link between them relay, exact, logits equal",
          "[system][functional][tp]") {
  // tp=16 on groq-rack: nodes 0 and 1 (8 chips each, fully connected inside, 4 links between the two nodes).
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 11);
  const auto [a, singleCycles, singleWeights] = oneChipLogits(m, w, 9, loadSystem("groq-rack").chipConfig());
  const auto [r, worst] = splitRun(m, w, 9, 16, 1, a, "groq-rack");
  CHECK(r.result.cycles == r.predicted);
  CHECK(worst == 0);  // relayed vectors arrive bit for bit
  const uint64_t relayed = r.relayedBytes() / uint64_t(r.bytesPerVector);
  std::cout << "tiny-llama tp=16 over two nodes: " << r.result.cycles << " cycles, " << r.result.c2c_vectors
            << " vectors sent, " << relayed << " of them passed on\n";
  CHECK(relayed > 0);
  // Every vector reaches the 15 others: (20 chunks + 8 head rows) x 4 planes x 15 = 1680 deliveries (as in the
  // tp=2 count below), each one SEND, plus one SEND per relay on the way.
  CHECK(r.result.c2c_vectors == 1680 + relayed);
}

TEST_CASE("tiny-llama tensor-parallel on 2, 4 and 8 chips, and with pipeline stages: exact, logits equal one chip's",
          "[system][functional][tp]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 11);
  const SystemConfig sys = loadSystem("groq-node");
  const auto [a, singleCycles, singleWeights] = oneChipLogits(m, w, 9, sys.chipConfig());
  for (const auto& [tp, pp] : std::vector<std::pair<int, int>>{{2, 1}, {4, 1}, {8, 1}, {2, 2}, {4, 2}, {2, 4}}) {
    const auto [r, worst] = splitRun(m, w, 9, tp, pp, a);
    CHECK(r.result.cycles == r.predicted);
    CHECK(int(r.chips.size()) == tp * pp);
    std::cout << "tiny-llama tp=" << tp << ",pp=" << pp << ": " << r.result.cycles << " cycles (one chip "
              << singleCycles << "), " << r.result.c2c_vectors << " vectors on links, max abs logit difference "
              << worst << "\n";
    CHECK(worst == 0);  // each chunk is computed by one chip as one chip would, and crosses the links bit for bit
    if (tp == 2 && pp == 1) {
      // All-gathers, one receiver each: chunks of 320 lanes of the embedding (1), per layer q, k, v, o (1 each),
      // gate and up (2 each), down (1), then the head (1): 1 + 2 x 9 + 1 = 20 chunks, plus the attention
      // outputs' head rows (4 heads, 2 layers): 8; each row fp32, 4 byte planes: (20 + 8) x 4 = 112 vectors.
      CHECK(r.result.c2c_vectors == 112);
    }
  }
  checkInOrderTiming(m, sys, 4, 2);  // the baseline scheduler too
}

TEST_CASE("without --parallel the split is chosen: fits, fewest predicted cycles", "[system][tp][cli]") {
  const CliRun r = runCli("run --model tiny-llama --chips 8 --context 64 --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  const std::string why = j["parallel"]["why"];
  INFO(why);
  // Every width was compiled (tp=1, 2, 4, 8 with pp=1: tiny-llama fits one chip) and the reported split has the
  // fewest cycles of them.
  CHECK(why.find("tp=8,pp=1") != std::string::npos);
  CHECK(j["cycles"] == j["predicted_cycles"]);
  const std::string chosen =
      fmt::format("tp={},pp={} {} cycles", int(j["parallel"]["tp"]), int(j["parallel"]["pp"]), int64_t(j["cycles"]));
  CHECK(why.find(chosen) != std::string::npos);
  const std::string list = why.substr(why.find('('), why.find(')') - why.find('('));
  size_t at = 0, compared = 0;
  while ((at = list.find(" cycles", at)) != std::string::npos) {
    ++compared;
    const size_t b = list.rfind(' ', at - 1);
    CHECK(std::stoll(list.substr(b + 1, at - b - 1)) >= int64_t(j["cycles"]));
    ++at;
  }
  CHECK(compared == 4);
}

TEST_CASE("progress reports: compile phases and the simulation in slices give the same cycles", "[system][tp]") {
  PipelineRequest req;
  req.step.context = 64;
  req.tp = 2;
  req.pp = 2;
  std::vector<std::pair<std::string, double>> heard;
  req.progress = [&](const std::string& phase, double f) { heard.push_back({phase, f}); };
  const PipelineRun r = runPipeline(loadModel("tiny-llama"), loadSystem("groq-node"), req);
  CHECK(r.result.cycles == r.predicted);  // the sliced run (65,536 cycles a slice) ends where one run would
  req.progress = nullptr;
  CHECK(runPipeline(loadModel("tiny-llama"), loadSystem("groq-node"), req).result.cycles == r.predicted);
  // In this process: after each of the 2 stages (1/2, 2/2; the scheduler reports every 4,096 tasks placed, and
  // a stage of tiny-llama has fewer); the simulation's reports come from the child that simulates.
  REQUIRE(heard.size() == 2);
  CHECK(heard[0] == std::make_pair(std::string("compiled stage 1 of 2 (2 chips each)"), 0.5));
  CHECK(heard[1] == std::make_pair(std::string("compiled stage 2 of 2 (2 chips each)"), 1.0));
}

TEST_CASE("tiny-moe with each expert split over 2 and 4 chips: exact, logits equal one chip's",
          "[system][functional][tp]") {
  // Gate and up of every expert by output chunk on one chip, down (and the sum of the k experts) on the next:
  // the experts' weights live on different chips, and the activations are all-gathered between.
  const ModelConfig m = loadModel("tiny-moe");
  const SeededWeights w(m, 5);
  const SystemConfig sys = loadSystem("groq-node");
  const auto [a, singleCycles, singleWeights] = oneChipLogits(m, w, 3, sys.chipConfig());
  for (const auto& [tp, pp] : std::vector<std::pair<int, int>>{{2, 1}, {4, 1}, {2, 2}}) {
    const auto [r, worst] = splitRun(m, w, 3, tp, pp, a);
    CHECK(r.result.cycles == r.predicted);
    std::cout << "tiny-moe tp=" << tp << ",pp=" << pp << ": " << r.result.cycles << " cycles (one chip " << singleCycles
              << "), max abs logit difference " << worst << "\n";
    CHECK(worst == 0);
    if (pp == 1) {       // the weights are spread, not copied: each chip holds less than one chip alone, all together
      uint64_t sum = 0;  // as much (the embedding and head tables are split too; only norms are copied)
      for (int k = 0; k < tp; ++k) {
        CHECK(r.stages[size_t(k)].sram.weights < singleWeights);
        sum += r.stages[size_t(k)].sram.weights;
      }
      CHECK(sum >= singleWeights);
      CHECK(sum < singleWeights + singleWeights / 10);
    }
  }
  checkInOrderTiming(m, sys, 2, 0);  // the baseline scheduler, the stages chosen
}

TEST_CASE("a batch on several chips: exact, tokens/s counts every sequence", "[system][batch]") {
  const CliRun r = runCli("run --model tiny-llama --chips 8 --parallel tp=2,pp=2 --context 64 --batch 3 --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["cycles"] == j["predicted_cycles"]);
  CHECK(j["batch"] == 3);
  // 3 tokens a step: tokens_per_s = 3 x 900 MHz / cycles, per user a third of it.
  CHECK(double(j["tokens_per_s"]) == Approx(3 * 900e6 / double(j["cycles"])));
  CHECK(double(j["tokens_per_s_per_user"]) == Approx(900e6 / double(j["cycles"])));
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 4 --batch 2",
                "--batch applies to decode steps (a prefill takes one prompt)");
  checkBadInput("run --model tiny-llama --batch 2 --prompt 1,2",
                "--batch: greedy decoding (--prompt) runs one sequence");
  checkBadInput("run --model tiny-llama --batch 0", "--batch: expected an integer in 1..64, got \"0\"");
}

TEST_CASE("stages built alike are compiled once and moved in time: the same cycles as compiling each", "[system][tp]") {
  // llama-3.2-1b in 8 stages of 4 chips on groq-rack: stages 1..3 each hold an
  // MLP, three layers and an attention block; timing only, a stage whose ops,
  // shapes and links match an earlier one's takes its programs.
  PipelineRequest req;
  req.step.context = 128;
  req.tp = 4;
  req.pp = 8;
  const ModelConfig m = loadModel("llama-3.2-1b");
  const SystemConfig sys = loadSystem("groq-rack");
  const PipelineRun reused = runPipeline(m, sys, req);
  req.reuseStages = false;
  const PipelineRun each = runPipeline(m, sys, req);
  CHECK(reused.result.cycles == reused.predicted);
  CHECK(each.result.cycles == each.predicted);
  CHECK(reused.predicted == each.predicted);
  REQUIRE(reused.stages.size() == each.stages.size());
  size_t copies = 0;
  for (size_t k = 0; k < each.stages.size(); ++k) {
    INFO("chip " << reused.chips[k]);
    CHECK(reused.stages[k].predicted == each.stages[k].predicted);
    CHECK(reused.result.chips[k].cycles == each.result.chips[k].cycles);
    CHECK(reused.result.chips[k].sources.checked == each.result.chips[k].sources.checked);
    CHECK(reused.result.chips[k].sources.unstated == 0);
    const bool copy = reused.stages[k].tasks > 0 && reused.stages[k].wall_s == 0 && each.stages[k].wall_s > 0;
    copies += copy;
    const Program &pa = reused.stages[k].program, &pb = each.stages[k].program;
    CHECK_FALSE(pb.sources.shared());
    if (!copy || copies > 4) continue;
    // A copy (one stage's) states the producers compiling it states (by name: a
    // copy keeps its stage's order of queues) and shares the list of the stage it
    // copies (no nop went in before its work).
    CHECK(pa.sources.shared());
    const auto named = [](const Program& p) {
      std::multiset<std::string> out;
      for (const StreamSource& s : p.sources)
        out.insert(formatIssueRef(p, s.reader) + formatStream(s.stream) + formatIssueRef(p, s.writer));
      return out;
    };
    CHECK(pa.sources.size() == pb.sources.size());
    CHECK(named(pa) == named(pb));
  }
  CHECK(copies >= 4);  // at least one stage of 4 chips was a copy
}

TEST_CASE("greedy decoding on 4 chips (tp=2,pp=2): the same logits and tokens as one chip, each step exact",
          "[system][functional][tp]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 7);
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const SystemConfig sys = systemOfChips(4, "groq-tsp-v1");
  PipelineRequest req;
  req.tp = 2;
  req.pp = 2;
  req.weights = &w;
  ChipDecoder one(m, &w, chip, Precision::Int8, Policy::List);
  SystemDecoder four(m, sys, req);
  const std::vector<int> prompt{1, 2, 3};
  int next = 0;
  double worst = 0;
  for (size_t i = 0; i < prompt.size() + 4; ++i) {
    const int tok = i < prompt.size() ? prompt[i] : next;
    const auto a = one.step(tok), b = four.step(tok);
    REQUIRE(b.cycles == b.predicted);
    REQUIRE(a.logits.size() == b.logits.size());
    for (size_t v = 0; v < a.logits.size(); ++v) worst = std::max(worst, double(std::fabs(a.logits[v] - b.logits[v])));
    CHECK(a.next == b.next);
    next = a.next;
  }
  std::cout << "greedy decoding on 4 chips: max abs logit difference from one chip " << worst << "\n";
  CHECK(worst == 0.0);  // the same operations in the same order on each element: bit-equal
  CHECK(four.last().stages.size() == 4);
}

TEST_CASE("greedy decoding on a system from the CLI, and fewer chips than a node", "[system][cli]") {
  const CliRun r = runCli("run --model tiny-llama --chips 4 --parallel tp=2,pp=2 --prompt 1,2,3 --generate 4 --json");
  REQUIRE(r.exitCode == 0);
  const auto j = nlohmann::json::parse(r.out);
  const CliRun one = runCli("run --model tiny-llama --prompt 1,2,3 --generate 4 --json");
  REQUIRE(one.exitCode == 0);
  CHECK(j.at("generated") == nlohmann::json::parse(one.out).at("generated"));
  CHECK(j.at("chips") == 4);
  // 4 chips make one node of 4 (fully connected): the split is chosen among widths 1, 2, 4.
  const CliRun chosen = runCli("run --model tiny-moe --chips 4 --json");
  REQUIRE(chosen.exitCode == 0);
  const auto c = nlohmann::json::parse(chosen.out);
  CHECK(c.at("cycles") == c.at("predicted_cycles"));
  CHECK(c.at("parallel").at("why").get<std::string>().find("tp=4,pp=1") != std::string::npos);
}

TEST_CASE("the experts option: whole where tp divides the experts (auto), split when asked; reported",
          "[system][cli]") {
  const CliRun a = runCli("run --model tiny-moe --chips 4 --parallel tp=2,pp=1 --json");
  REQUIRE(a.exitCode == 0);
  const auto ja = nlohmann::json::parse(a.out);
  CHECK(ja.at("parallel").at("experts") == "whole");  // 4 experts over 2 chips: 2 whole experts a chip
  CHECK(ja.at("cycles") == ja.at("predicted_cycles"));
  const CliRun s = runCli("run --model tiny-moe --chips 4 --parallel tp=2,pp=1 --experts split --json");
  REQUIRE(s.exitCode == 0);
  const auto js = nlohmann::json::parse(s.out);
  CHECK(js.at("parallel").at("experts") == "split");
  CHECK(js.at("cycles") == js.at("predicted_cycles"));
  CHECK(js.at("c2c_relayed_bytes") == 0);  // a node is fully connected: no relays
  checkBadInput("run --model tiny-moe --chips 4 --parallel tp=2,pp=1 --experts many", "--experts: many not in");
}

TEST_CASE("one layer of each model too big for a chip, over a node (tp=8): exact", "[system][exact]") {
  // Llama-2-70B (a layer is 0.86 GB at int8), Mixtral-8x7B (one expert whole on each chip) and gpt-oss-20b
  // (32 experts, 4 a chip: gathered by a local index; attention sinks, sliding window, biases).
  for (const char* name : {"llama-2-70b", "mixtral-8x7b", "gpt-oss-20b"}) {
    ModelConfig m = loadModel(name);
    m.layers = 1;
    PipelineRequest req;
    req.step.context = 1024;
    req.step.embed = req.step.head = false;
    req.tp = 8;
    req.pp = 1;
    const PipelineRun r = runPipeline(m, loadSystem("groq-node"), req);
    INFO(name);
    CHECK(r.result.cycles == r.predicted);
    CHECK(r.experts == (m.moe() ? "whole" : ""));
    std::cout << "one layer of " << name << " on 8 chips: " << r.result.cycles << " cycles\n";
  }
}
