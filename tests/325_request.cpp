// A whole request: the prompt prefilled in chunks (each step causal over the
// cache the earlier chunks wrote and its own rows), then decode steps. Each
// chunk's last logits match the reference forward pass at that position;
// the steps are exact; the report's sums are the steps'.
#include <catch2/catch.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "isa/error.h"
#include "models/reference.h"
#include "sim/cli/request_run.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

double rowError(const std::vector<float>& got, const Eigen::VectorXf& want) {
  REQUIRE(int64_t(got.size()) == want.size());
  double e = 0;
  for (int64_t v = 0; v < want.size(); ++v) e = std::max(e, double(std::fabs(got[size_t(v)] - want(v))));
  return e;
}

}  // namespace

TEST_CASE("prefill in chunks of 2 (tiny-llama, tiny-gpt2): each chunk exact, its last logits match the reference",
          "[request][functional]") {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const std::vector<int> prompt{5, 17, 99, 3, 250, 42, 7};  // chunks of 2, 2, 2, 1
  for (const char* name : {"tiny-llama", "tiny-gpt2"}) {
    const ModelConfig m = loadModel(name);
    const SeededWeights w(m, 7);
    ChipDecoder dec(m, &w, chip, Precision::Fp16, Policy::List);
    Reference ref(m, w, Numerics::Fp16);
    double worst = 0, scale = 0;
    for (size_t at = 0; at < prompt.size(); at += 2) {
      const std::vector<int> chunk(prompt.begin() + int64_t(at),
                                   prompt.begin() + int64_t(std::min(at + 2, prompt.size())));
      const ChipDecoder::Step s = dec.step(chunk);
      CHECK(s.cycles == s.predicted);
      CHECK(s.context == int64_t(at + chunk.size()));
      Eigen::VectorXf want;
      for (int t : chunk) want = ref.step(t);  // the reference one token at a time: the chunk's last
      const double e = rowError(s.logits, want);
      std::cout << name << " chunk at " << at << " (" << chunk.size() << " tokens): max abs logit error " << e << "\n";
      worst = std::max(worst, e);
      scale = std::max(scale, double(want.cwiseAbs().maxCoeff()));
      Eigen::Index best;
      want.maxCoeff(&best);
      CHECK(s.next == int(best));
    }
    std::cout << name << " chunked prefill fp16: max abs logit error " << worst << " (largest logit " << scale << ")\n";
    INFO("max abs logit error " << worst << ", largest logit " << scale);
    CHECK(worst <= 1e-3 * scale);
  }
}

// Chunks of 24 from position 0: the keys of positions 0..15 and 32..47 (whole
// superlanes of 16) go through the transposer, 16..31 one element at a time.
// Chunks of 24 from position 0: the keys of positions 0..15 and 32..47 (whole
// superlanes of 16) go through the transposer, 16..31 one element at a time;
// at int8, the rows of every matmul (the per-head rows into the output
// projection too) are quantized once and read from slices of their own.
TEST_CASE("prefill in chunks of 24 (tiny-llama, tiny-gpt2; fp16, int8): keys through the transposer, logits match",
          "[request][functional]") {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  std::vector<int> prompt;
  for (int i = 0; i < 48; ++i) prompt.push_back((i * 37 + 11) % 256);
  for (const char* name : {"tiny-llama", "tiny-gpt2"})
    for (Precision p : {Precision::Fp16, Precision::Int8}) {
      const ModelConfig m = loadModel(name);
      const SeededWeights w(m, 7);
      ChipDecoder dec(m, &w, chip, p, Policy::List);
      Reference ref(m, w, p == Precision::Int8 ? Numerics::Int8 : Numerics::Fp16);
      const double tol = p == Precision::Int8 ? 1e-4 : 1e-3;
      double worst = 0, scale = 0;
      for (size_t at = 0; at < prompt.size(); at += 24) {
        const std::vector<int> chunk(prompt.begin() + int64_t(at), prompt.begin() + int64_t(at + 24));
        const ChipDecoder::Step s = dec.step(chunk);
        CHECK(s.cycles == s.predicted);
        Eigen::VectorXf want;
        for (int t : chunk) want = ref.step(t);
        const double e = rowError(s.logits, want);
        std::cout << name << " " << precisionName(p) << " chunk at " << at << " (24 tokens): max abs logit error " << e
                  << "\n";
        worst = std::max(worst, e);
        scale = std::max(scale, double(want.cwiseAbs().maxCoeff()));
        Eigen::Index best;
        want.maxCoeff(&best);
        CHECK(s.next == int(best));
      }
      // A decode step after them reads every key the chunks wrote.
      const ChipDecoder::Step s = dec.step({3});
      const Eigen::VectorXf want = ref.step(3);
      const double e = rowError(s.logits, want);
      std::cout << name << " " << precisionName(p) << " decode at 48: max abs logit error " << e << "\n";
      worst = std::max(worst, e);
      std::cout << name << " prefill in chunks of 24, " << precisionName(p) << ": max abs logit error " << worst
                << " (largest logit " << scale << ")\n";
      INFO("max abs logit error " << worst << ", largest logit " << scale);
      CHECK(worst <= tol * scale);
    }
}

TEST_CASE("a request's chunk shrinks while a step does not fit; one token too many names the KV cache", "[request]") {
  const ModelConfig m = loadModel("tiny-llama");
  std::vector<int64_t> tried;
  // A step of more than 3 tokens "does not fit"; the others take 100 cycles a token.
  auto step = [&](const std::vector<int>& tokens) {
    tried.push_back(int64_t(tokens.size()));
    if (tokens.size() > 3) throw Error("tiny-llama needs 999 bytes of SRAM, this chip has 99 (at least 2 chips)");
    ChipDecoder::Step s;
    s.cycles = s.predicted = Cycle(100 * tokens.size());
    return s;
  };
  const RequestRun r = runRequest(m, RequestPlan{10, 0, 2}, step);
  // 10 does not fit, nor 5; 3 does: 3, 3, 3, then the last 1; then 2 decode steps.
  CHECK(tried == std::vector<int64_t>{10, 5, 3, 3, 3, 1, 1, 1});
  CHECK(r.chunkTokens == std::vector<int64_t>{3, 3, 3, 1});
  CHECK(r.prefillCycles() == 1000);  // 100 x 10 tokens
  CHECK(r.decodeCycles() == 200);    // 2 steps of 100
  ChipConfig ghz = loadChip("groq-tsp-v1");
  ghz.clock_hz = 1e9;
  const auto j = requestJson({}, r, ghz);
  CHECK(j["cycles"] == 1200);
  CHECK(j["ttft_s"].get<double>() == Approx(1e-6));  // 1,000 cycles at 1 GHz
  CHECK(j["tpot_s"].get<double>() == Approx(1e-7));  // 100 cycles
  CHECK(j["output_tokens"] == 3);

  // A system's refusal halves the chunk too.
  auto system = [](const std::vector<int>& tokens) {
    if (tokens.size() > 2) throw Error("tiny-llama does not fit system groq-rack (72 chips) with any split tried");
    ChipDecoder::Step s;
    s.cycles = s.predicted = 7;
    return s;
  };
  CHECK(runRequest(m, RequestPlan{8, 0, 0}, system).chunkTokens == std::vector<int64_t>{2, 2, 2, 2});  // 8, 4, 2
  // A fixed --chunk is not changed: the error is the step's.
  CHECK_THROWS_WITH(runRequest(m, RequestPlan{10, 4, 0}, step), Catch::Contains("needs 999 bytes of SRAM"));
  // Nothing fits: the KV cache of the whole prompt named with its arithmetic.
  auto never = [](const std::vector<int>&) -> ChipDecoder::Step {
    throw Error("tiny-llama needs 999 bytes of SRAM, this chip has 99 (at least 2 chips)");
  };
  // tiny-llama: 2 layers x 2 (keys, values) x 10 positions x (kv heads x head dim) x 2 bytes.
  const uint64_t kv = uint64_t(m.layers) * 2 * 10 * uint64_t(m.kv_heads * m.head_dim) * 2;
  CHECK(kvCacheBytes(m, 10) == kv);
  CHECK_THROWS_WITH(runRequest(m, RequestPlan{10, 0, 0}, never),
                    Catch::Contains(fmt::format("its KV cache takes {} bytes", kv)));
  // A step whose cycles differ from its prediction stops the request.
  auto wrong = [](const std::vector<int>&) {
    ChipDecoder::Step s;
    s.cycles = 10, s.predicted = 11;
    return s;
  };
  CHECK_THROWS_WITH(
      runRequest(m, RequestPlan{4, 2, 0}, wrong),
      Catch::Contains("prefill tokens 0..1: the simulator measured 10 cycles but the compiler predicted 11"));
}

TEST_CASE("lpusim run --chunk --then-decode: a whole request, every step exact, the sums the steps'",
          "[request][cli]") {
  const CliRun one = runCli("run --model tiny-llama --mode prefill --prompt-len 8 --then-decode 2 --json");
  REQUIRE(one.exitCode == 0);
  const auto a = nlohmann::json::parse(one.out);
  const CliRun three = runCli("run --model tiny-llama --mode prefill --prompt-len 8 --chunk 3 --then-decode 2 --json");
  REQUIRE(three.exitCode == 0);
  const auto b = nlohmann::json::parse(three.out);
  CHECK(a["prefill_steps"] == 1);
  CHECK(b["prefill_steps"] == 3);  // 3 + 3 + 2 tokens
  for (const auto& j : {a, b}) {
    Cycle pre = 0, dec = 0;
    std::vector<int64_t> contexts;
    for (const auto& s : j["steps"]) {
      CHECK(s["cycles"] == s["predicted_cycles"]);
      (s["kind"] == "prefill" ? pre : dec) += s["cycles"].get<Cycle>();
      contexts.push_back(s["context"]);
    }
    CHECK(j["prefill_cycles"] == pre);
    CHECK(j["decode_cycles"] == dec);
    CHECK(j["cycles"] == pre + dec);
    CHECK(j["ttft_s"].get<double>() == Approx(double(pre) / 900e6));
    CHECK(contexts.back() == 10);  // 8 prompt positions, then 2 decode steps
  }
  // The decode steps after the prompt are the same programs however the prompt was chunked.
  CHECK(a["decode_cycles"] == b["decode_cycles"]);
  // The one-step prefill equals a plain prefill run of the same prompt.
  const auto plain = nlohmann::json::parse(runCli("run --model tiny-llama --mode prefill --prompt-len 8 --json").out);
  CHECK(a["prefill_cycles"] == plain["cycles"]);
}

TEST_CASE("bad input: --chunk and --then-decode", "[request][bad-input]") {
  checkBadInput("run --model tiny-llama --chunk 4", "--chunk and --then-decode: a request starts with its prompt");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 200 --then-decode 100",
                "--prompt-len 200 and --then-decode 100 take 300 positions, tiny-llama has 256");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 4 --chunk 0", "--chunk: expected an integer >= 1");
  checkBadInput("run --model tiny-llama --prompt 1,2 --chunk 2", "--prompt excludes --chunk");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 4 --then-decode 2 --trace /tmp/t.json",
                "--trace excludes --then-decode");
}

TEST_CASE("a request on 4 chips (tp=2,pp=2) generates the tokens one chip does, every step exact",
          "[request][multichip][cli]") {
  const std::string req =
      "run --model tiny-llama --mode prefill --prompt-len 8 --chunk 4 --then-decode 3 --functional --json";
  const CliRun one = runCli(req), four = runCli(req + " --chips 4 --parallel tp=2,pp=2");
  REQUIRE(one.exitCode == 0);
  REQUIRE(four.exitCode == 0);
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(four.out);
  CHECK(b["chips"] == 4);
  CHECK(b["prefill_steps"] == 2);     // 4 + 4 tokens
  CHECK(a["generated"].size() == 4);  // the prefill's token, then one a decode step
  CHECK(a["generated"] == b["generated"]);
  for (const auto& s : b["steps"]) CHECK(s["cycles"] == s["predicted_cycles"]);
  // The bound over 4 chips: 2 stages of 2, each step 2 all-reduces a layer and one hand-over.
  CHECK(b["bound"]["exchanges"] == 5 * 5);  // 5 steps x (2 layers x 2 + 1)
}
