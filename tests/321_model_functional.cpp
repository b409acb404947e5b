// The tiny models run functionally on the chip, one compiled decode step per
// token with the KV cache carried between steps, against the reference
// forward pass (models/reference.h) with the chip's rounding: the logits
// agree within a tolerance (max abs error printed) and greedy decoding picks
// the same token ids for 16 steps after a 3-token prompt.
#include <catch2/catch.hpp>
#include <iostream>

#include "compiler/compile.h"
#include "models/reference.h"
#include "sim/cli/model_run.h"
#include "support.h"

using namespace lpu;

namespace {

struct Generation {
  double worst = 0;            // max abs logit error over all steps
  double scale = 0;            // max abs logit
  std::vector<int> chip, ref;  // greedy tokens after the prompt
  std::vector<double> steps;   // max abs logit error of each step
};

// Max abs difference of row `row` of `got` (rows of want.size() logits) from `want`.
double rowError(const std::vector<float>& got, size_t row, const Eigen::VectorXf& want) {
  double e = 0;
  for (int64_t v = 0; v < want.size(); ++v)
    e = std::max(e, double(std::fabs(got[size_t(int64_t(row) * want.size() + v)] - want(v))));
  return e;
}

// The step graph compiled in fp16 (list) for groq-tsp-v1 and simulated
// functionally, checking exact cycles: its logits, one row per token.
struct StepRun {
  std::vector<float> logits;
  Cycle cycles;
};
StepRun runFp16(const Graph& g, const WeightSource& w, const std::vector<int>& tokens) {
  const ChipConfig chip = loadChip("groq-tsp-v1");
  const KvRows none;
  CompileOptions o;
  o.precision = Precision::Fp16;
  o.values = modelValues(g, w, tokens, none);
  const Compiled comp = compileGraph(g, chip, o, Policy::List);
  RunRequest run;
  run.options.functional = true;
  const SimResult r = simulate(comp.program, chip, g.name, run);
  CHECK(r.cycles == comp.predicted);
  return {outputValues(comp, r, "logits"), r.cycles};
}

Generation generate(const ModelConfig& m, const WeightSource& w, Precision p, int steps,
                    const std::vector<int>& prompt = {1, 2, 3}, const ChipConfig& chip = loadChip("groq-tsp-v1")) {
  ChipDecoder dec(m, &w, chip, p, Policy::List);
  Reference ref(m, w, p == Precision::Int8 ? Numerics::Int8 : Numerics::Fp16);
  Generation g;
  int next = 0;
  for (size_t i = 0; i < prompt.size() + size_t(steps); ++i) {
    const int tok = i < prompt.size() ? prompt[i] : next;
    const auto s = dec.step(tok);
    REQUIRE(s.cycles == s.predicted);
    const Eigen::VectorXf want = ref.step(tok);
    REQUIRE(int64_t(s.logits.size()) == want.size());
    const double worst = rowError(s.logits, 0, want);
    g.worst = std::max(g.worst, worst);
    g.steps.push_back(worst);
    g.scale = std::max(g.scale, double(want.cwiseAbs().maxCoeff()));
    Eigen::Index best;
    want.maxCoeff(&best);
    next = s.next;
    if (i + 1 >= prompt.size() && int(g.chip.size()) < steps) g.chip.push_back(s.next), g.ref.push_back(int(best));
  }
  return g;
}

// Tolerance relative to the largest logit: fp16 rounding (one ulp is 2^-11
// relative) may round an operand the other way when the chip's fp32 sum
// differs in its last bit, and such flips propagate; int8 flips are rarer.
void check(const std::string& model, Precision p, double relTol) {
  const ModelConfig m = loadModel(model);
  const SeededWeights w(m, 7);
  const Generation g = generate(m, w, p, 16);
  std::cout << model << " " << precisionName(p) << ": max abs logit error " << g.worst << " (largest logit " << g.scale
            << ")\n";
  INFO("max abs logit error " << g.worst << ", largest logit " << g.scale);
  CHECK(g.worst <= relTol * g.scale);
  CHECK(g.chip == g.ref);
}

}  // namespace

// The same from a .safetensors file the test writes (Hugging Face names and
// shapes; the values are the seeded ones, so the file's path is what is tested).
TEST_CASE("tiny-llama from a safetensors file: logits match the reference, 16 greedy tokens agree",
          "[models][functional]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights seeded(m, 11);
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  std::vector<std::vector<float>> values;
  for (const WeightSpec& s : weightSpecs(m))
    shapes.push_back({s.name, s.shape}), values.push_back(seeded.tensor(s.name));
  const std::string path = lpu::test::tempPath("tiny-llama.safetensors");
  writeSafetensors(path, shapes, values);
  const SafetensorsFile file(path);
  file.check(m);
  const Generation g = generate(m, file, Precision::Fp16, 16);
  std::cout << "tiny-llama from safetensors: max abs logit error " << g.worst << "\n";
  INFO("max abs logit error " << g.worst << ", largest logit " << g.scale);
  CHECK(g.worst <= 1e-3 * g.scale);
  CHECK(g.chip == g.ref);
}

TEST_CASE("tiny-llama fp16: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-llama", Precision::Fp16, 1e-3);
}
TEST_CASE("tiny-llama int8: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-llama", Precision::Int8, 1e-4);
}
TEST_CASE("tiny-moe fp16: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-moe", Precision::Fp16, 1e-3);
}
TEST_CASE("tiny-moe int8: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-moe", Precision::Int8, 1e-4);
}
TEST_CASE("tiny-gpt2 fp16: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-gpt2", Precision::Fp16, 1e-3);
}
TEST_CASE("tiny-gpt2 int8: chip logits match the reference, 16 greedy tokens agree", "[models][functional]") {
  check("tiny-gpt2", Precision::Int8, 1e-4);
}

// A GPT-2 whose last chunks are narrow (384 = 320 + 64 lanes, a 700-token
// vocabulary): the matmuls' last output chunks keep 2 or 4 k tiles side by
// side in one tile (an accumulator each, rotated to lane 0 when drained),
// and the embedding's last chunk two tokens a row (tokens past V2 in the
// upper lanes, rotated down when gathered). Prompt tokens on both sides.
TEST_CASE("narrow last chunks packed (matmul k tiles, embedding token halves): logits match the reference",
          "[models][functional]") {
  const std::string path = lpu::test::tempPath("narrow-gpt2.json");
  lpu::test::writeFile(path, R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "n_embd": 384, "n_head": 6, "n_layer": 2,
    "n_positions": 64, "vocab_size": 700})");
  const ModelConfig m = loadModel(path);
  const SeededWeights w(m, 7);
  for (Precision p : {Precision::Int8, Precision::Fp16}) {
    StepRequest req;
    req.context = 8;
    CompileOptions o;
    o.precision = p;
    const Compiled c = compileGraph(buildGraph(m, req), loadChip("groq-tsp-v1"), o, Policy::List);
    // Tiles of the embedding's last chunk: int8 tiles hold 320 tokens, V2 = 640 (two tiles, not three);
    // fp16 160, V2 = 480 (three, not five). The MLP's down projection (k = 1536: 5 int8 or 10 fp16 k
    // tiles; n = 384, its last chunk 64 lanes) keeps 320 / 64 = 5 a tile there (64 accumulators allow
    // it): 1 or 2 tiles.
    int embed = 0, down = 0;
    for (const Tensor& t : c.program.tensors) {
      const bool last = t.name.size() > 2 && t.name.substr(t.name.size() - 2) == "_1";  // output chunk 1
      embed += last && t.name.rfind("embed.t", 0) == 0;
      down += last && t.name.rfind("l0.down.w", 0) == 0;
    }
    CHECK(embed == (p == Precision::Int8 ? 2 : 3));
    CHECK(down == (p == Precision::Int8 ? 1 : 2));
    const Generation g = generate(m, w, p, 6, {1, 650, 699, 500, 480, 639});
    std::cout << "narrow gpt2 " << precisionName(p) << " (embedding tiles " << embed << ", down tiles " << down
              << "): max abs logit error " << g.worst << " (largest logit " << g.scale << ")\n";
    INFO("max abs logit error " << g.worst << ", largest logit " << g.scale);
    CHECK(g.worst <= (p == Precision::Int8 ? 1e-4 : 1e-3) * g.scale);
    CHECK(g.chip == g.ref);
  }
}

// Past 160 positions a head's values need a second fp16 tile, and the value
// caches keep their heads side by side (the mix masks each head's lanes out).
// In fp16: with int8 activations an activation near a rounding boundary may
// round the other way when the chip's fp32 sums differ from Eigen's in their
// last bit (the mix's result times 1 / sum: 5 such flips in 170 steps), which
// would hide the error this test is for.
TEST_CASE("tiny-llama over 170 positions (value tiles shared by heads): logits match the reference",
          "[models][functional]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 7);
  std::vector<int> prompt;
  for (int i = 0; i < 168; ++i) prompt.push_back((i * 37 + 5) % int(m.vocab));
  const Generation g = generate(m, w, Precision::Fp16, 2, prompt);
  double packed = 0;  // steps attending more than 160 positions
  for (size_t i = 160; i < g.steps.size(); ++i) packed = std::max(packed, g.steps[i]);
  std::cout << "tiny-llama, 170 positions: max abs logit error " << g.worst << ", past 160 positions " << packed
            << " (largest logit " << g.scale << ")\n";
  INFO("max abs logit error " << g.worst << ", past 160 positions " << packed << ", largest logit " << g.scale);
  CHECK(packed <= 1e-3 * g.scale);
  CHECK(g.worst <= 1e-3 * g.scale);
  CHECK(g.chip == g.ref);
}

// A chip with 52-word banks: the planes' own slices hold less than
// tiny-llama, so tiles also go to the top of the activation slices (12 per
// hemisphere, 12 rows per load).
TEST_CASE("weights in the activation slices (small banks): logits match the reference", "[models][functional]") {
  ChipConfig small = loadChip("groq-tsp-v1");
  small.mem_words_per_bank = 52;
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 7);
  StepRequest req;
  req.context = 3;
  const Graph graph = buildGraph(m, req);
  CompileOptions o;
  const Compiled c = compileGraph(graph, small, o, Policy::List);
  int inner = 0;
  for (const Tensor& t : c.program.tensors) inner += t.dtype == DType::I8 && t.spread == 12;
  CHECK(inner > 0);
  const Generation g = generate(m, w, Precision::Int8, 8, {1, 2, 3}, small);
  std::cout << "tiny-llama on 52-word banks (" << inner << " tiles in activation slices): max abs logit error "
            << g.worst << " (largest logit " << g.scale << ")\n";
  INFO("max abs logit error " << g.worst << ", largest logit " << g.scale);
  CHECK(g.worst <= 1e-4 * g.scale);
  CHECK(g.chip == g.ref);
}

// Prefill: the whole prompt in one step (causal attention over the cache the
// step fills); each token's logits match the reference run token by token.
TEST_CASE("tiny-llama prefill of 6 tokens: exact cycles, every token's logits match the reference",
          "[models][functional]") {
  const ModelConfig m = loadModel("tiny-llama");
  const SeededWeights w(m, 7);
  StepRequest req;
  req.mode = "prefill";
  req.prompt = 6;
  req.allLogits = true;  // every token's, to check each against the reference
  const Graph g = buildGraph(m, req);
  const std::vector<int> prompt{5, 17, 99, 3, 250, 42};
  const std::vector<float> got = runFp16(g, w, prompt).logits;  // [6, vocab]
  Reference ref(m, w, Numerics::Fp16);
  double worst = 0, scale = 0;
  for (size_t t = 0; t < prompt.size(); ++t) {
    const Eigen::VectorXf want = ref.step(prompt[t]);
    scale = std::max(scale, double(want.cwiseAbs().maxCoeff()));
    const double row = rowError(got, t, want);
    std::cout << "  token " << t << ": max abs logit error " << row << "\n";
    worst = std::max(worst, row);
  }
  std::cout << "tiny-llama prefill fp16: max abs logit error " << worst << " (largest logit " << scale << ")\n";
  INFO("max abs logit error " << worst << ", largest logit " << scale);
  CHECK(worst <= 1e-3 * scale);
}

// A batch: several sequences in one decode step, the weights streamed once
// for all, each sequence with its own caches. Each row's logits match the
// reference run of that sequence alone.
TEST_CASE("batch of 3 decode steps: exact cycles, each sequence's logits match its own reference",
          "[models][functional][batch]") {
  for (const char* name : {"tiny-llama", "tiny-gpt2", "tiny-moe"}) {
    const ModelConfig m = loadModel(name);
    const SeededWeights w(m, 9);
    StepRequest req;
    req.context = 1;  // each sequence's first token: a cache of one row, its own
    req.batch = 3;
    const Graph g = buildGraph(m, req);
    const std::vector<int> tokens{5, 99, 250};
    const StepRun run = runFp16(g, w, tokens);
    const std::vector<float>& got = run.logits;  // [3, vocab]
    REQUIRE(got.size() == size_t(int64_t(tokens.size()) * m.vocab));
    double worst = 0, scale = 0;
    for (size_t s = 0; s < tokens.size(); ++s) {
      Reference ref(m, w, Numerics::Fp16);
      const Eigen::VectorXf want = ref.step(tokens[s]);
      scale = std::max(scale, double(want.cwiseAbs().maxCoeff()));
      const double row = rowError(got, s, want);
      std::cout << "  sequence " << s << ": max abs logit error " << row << "\n";
      worst = std::max(worst, row);
    }
    std::cout << name << " batch 3 fp16: " << run.cycles << " cycles, max abs logit error " << worst
              << " (largest logit " << scale << ")\n";
    INFO(name << ": max abs logit error " << worst << ", largest logit " << scale);
    CHECK(worst <= 1e-3 * scale);
  }
}
