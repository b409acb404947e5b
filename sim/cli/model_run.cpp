#include "model_run.h"

#include <fmt/format.h>

#include "isa/error.h"
#include "isa/numeric.h"

namespace lpu {

TensorValues modelValues(const Graph& g, const WeightSource& w, const std::vector<int>& tokens, const KvRows& kv) {
  const int64_t context = g.context, batch = std::max<int64_t>(1, g.batch);
  return [&w, tokens, &kv, context, batch](const GTensor& t) -> std::vector<float> {
    switch (t.kind) {
      case TensorKind::Weight: return viewValues(w, t.name, t.shape);
      case TensorKind::Input: {
        std::vector<float> v(size_t(t.elements()), 0.0f);
        if (!t.integer) {  // a stage's residual input: seeded values in [-1, 1)
          SplitMix64 rng(0x5eed ^ uint64_t(t.elements()));
          for (float& x : v) x = float(rng.uniform(-1, 1));
          return v;
        }
        if (int64_t(tokens.size()) != t.elements())
          throw Error(
              fmt::format("input {}: {} tokens given, the graph takes {}", t.name, tokens.size(), t.elements()));
        // A batch: every sequence at position context - 1; a prompt: the last positions in order.
        for (size_t i = 0; i < v.size(); ++i)
          v[i] = t.name != "pos" ? float(tokens[i])
                 : batch > 1     ? float(context - 1)
                                 : float(context - int64_t(v.size()) + int64_t(i));
        return v;
      }
      case TensorKind::Cache: {
        std::vector<float> v(size_t(t.elements()), 0.0f);
        if (const auto it = kv.find(t.name); it != kv.end()) {  // the newest rows that fit before the step's own
          const size_t cols = size_t(t.shape[1]), room = v.size() - size_t(tokens.size() / size_t(batch)) * cols;
          const size_t n = std::min(room, it->second.size());
          std::copy(it->second.end() - int64_t(n), it->second.end(), v.begin());
        }
        return v;
      }
      default: throw Error(fmt::format("internal: no values for tensor {}", t.name));
    }
  };
}

std::vector<float> outputValues(const Compiled& c, const SimResult& r, const std::string& name) {
  const auto at = c.outputs.find(name);
  if (at == c.outputs.end()) throw Error(fmt::format("internal: {} is not an output of the program", name));
  const ActTensor& a = at->second;
  for (const OutputValue& o : r.outputs) {
    if (o.name != name) continue;
    if (o.bytes.empty()) throw Error(fmt::format("output {}: no values (timing-only run)", name));
    const size_t eb = size_t(bytes(o.dtype)), lanes = o.cols;
    std::vector<float> v(size_t(a.rows * a.cols));
    for (int64_t row = 0; row < a.rows; ++row)
      for (int64_t col = 0; col < a.cols; ++col) {
        const size_t vrow = size_t(row * a.chunks + col / a.width), lane = size_t(col % a.width);
        v[size_t(row * a.cols + col)] = float(loadElement(o.dtype, &o.bytes[(vrow * lanes + lane) * eb]));
      }
    return v;
  }
  throw Error(fmt::format("internal: the simulator returned no output {}", name));
}

StepRequest chunkRequest(const StepRequest& base, int64_t pos, int64_t n) {
  StepRequest r = base;
  r.mode = n > 1 ? "prefill" : "decode";
  r.prompt = n > 1 ? n : 0;
  r.context = pos + n;
  return r;
}

void readBackKv(const Graph& g, const Compiled& c, const SimResult& r, KvRows& kv) {
  for (const GOp& op : g.ops)
    if (op.kind == OpKind::KvAppend) {
      const std::vector<float> rows = outputValues(c, r, op.inputs[1]);
      auto& to = kv[op.inputs[0]];
      to.insert(to.end(), rows.begin(), rows.end());
    }
}

ChipDecoder::ChipDecoder(const ModelConfig& m, const WeightSource* w, const ChipConfig& chip, Precision p,
                         Policy policy)
    : m_(m), w_(w), chip_(chip), precision_(p), policy_(policy) {}

ChipDecoder::Step ChipDecoder::step(const std::vector<int>& tokens) {
  StepRequest req = chunkRequest(shape, pos_, int64_t(tokens.size()));
  req.exposeKv = w_ != nullptr;
  const Graph g = buildGraph(m_, req);
  CompileOptions o;
  o.precision = precision_;
  if (w_) o.values = modelValues(g, *w_, tokens, kv_);
  const Compiled comp = compileGraph(g, chip_, o, policy_);
  RunRequest run;
  run.options.functional = w_ != nullptr;
  const SimResult r = simulate(comp.program, chip_, g.name, run);
  Step s;
  s.cycles = r.cycles;
  s.predicted = comp.predicted;
  s.compile_s = comp.wall_s;
  s.simulate_s = r.wall_s;
  s.bound = chipBound(chip_, comp.mxm);
  pos_ += int64_t(tokens.size());
  s.context = pos_;
  if (!w_) return s;
  if (req.head) {
    s.logits = outputValues(comp, r, "logits");
    s.next = int(outputValues(comp, r, "next_token").at(0));
  }
  readBackKv(g, comp, r, kv_);
  return s;
}

std::vector<int> parsePrompt(const std::string& text, int64_t vocab) {
  std::vector<int> tokens;
  for (size_t i = 0; i <= text.size();) {
    const size_t j = std::min(text.find(',', i), text.size());
    const std::string t = text.substr(i, j - i);
    char* end = nullptr;
    const long v = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || *end || v < 0 || v >= vocab)
      throw Error(fmt::format("--prompt: \"{}\" is not a token id in 0..{}", t, vocab - 1));
    tokens.push_back(int(v));
    i = j + 1;
  }
  return tokens;
}

}  // namespace lpu
