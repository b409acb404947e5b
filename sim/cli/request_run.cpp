#include "sim/cli/request_run.h"

#include <fmt/format.h>

#include <algorithm>

#include "isa/error.h"
#include "sim/cli/bound_report.h"

namespace lpu {
namespace {

Cycle sum(const std::vector<ChipDecoder::Step>& steps) {
  Cycle n = 0;
  for (const auto& s : steps) n += s.cycles;
  return n;
}

Bound sumBounds(const std::vector<ChipDecoder::Step>& a, const std::vector<ChipDecoder::Step>& b = {}) {
  std::vector<Bound> all;
  for (const auto* steps : {&a, &b})
    for (const auto& st : *steps) all.push_back(st.bound);
  return sequenceBound(all);
}

int64_t promptTokens(const RequestRun& r) {
  int64_t n = 0;
  for (int64_t t : r.chunkTokens) n += t;
  return n;
}

size_t chipsOf(const RequestRun& r) { return r.prefill.empty() ? 1 : r.prefill.front().chips; }

}  // namespace

bool doesNotFit(const Error& e) {
  const std::string w = e.what();
  return w.find("bytes of SRAM") != std::string::npos || w.find("does not fit system") != std::string::npos;
}

Cycle RequestRun::prefillCycles() const { return sum(prefill); }
Cycle RequestRun::decodeCycles() const { return sum(decode); }

uint64_t kvCacheBytes(const ModelConfig& m, int64_t positions) {
  return uint64_t(m.layers) * 2 * uint64_t(positions) * uint64_t(m.kv_heads * m.head_dim) * 2;
}

RequestRun runRequest(const ModelConfig& m, const RequestPlan& plan, const StepFn& step,
                      const std::function<void(const std::string&)>& onStep) {
  if (plan.prompt < 1) throw Error("a request needs a prompt of at least one token (--prompt-len)");
  if (plan.prompt + plan.decode > m.max_positions)
    throw Error(fmt::format("--prompt-len {} and --then-decode {} take {} positions, {} has {}", plan.prompt,
                            plan.decode, plan.prompt + plan.decode, m.name, m.max_positions));
  RequestRun r;
  int64_t chunk = std::min(plan.chunk > 0 ? plan.chunk : plan.firstTry > 0 ? plan.firstTry : plan.prompt, plan.prompt);
  const bool chosen = plan.chunk <= 0;
  int next = 1;  // token ids: the prompt's are 1 (as a one-step run's), then the chip's choices
  for (int64_t done = 0; done < plan.prompt;) {
    const int64_t n = std::min(chunk, plan.prompt - done);
    try {
      r.prefill.push_back(step(std::vector<int>(size_t(n), 1)));
    } catch (const Error& e) {
      if (!chosen || !doesNotFit(e))
        throw Error(fmt::format("prefill tokens {}..{} (a step of {}): {}", done, done + n - 1, n, e.what()));
      if (n == 1)
        throw Error(fmt::format(
            "a prompt of {} tokens does not fit even one token a step: its KV cache takes {} bytes ({} layers x 2 x {} "
            "positions x {} x 2 bytes) beside the weights; {}",
            plan.prompt, kvCacheBytes(m, plan.prompt), m.layers, plan.prompt, m.kv_heads * m.head_dim, e.what()));
      chunk = (n + 1) / 2;  // halved: the later chunks attend more positions
      continue;
    }
    const ChipDecoder::Step& s = r.prefill.back();
    if (s.cycles != s.predicted)
      throw Error(fmt::format("prefill tokens {}..{}: the simulator measured {} cycles but the compiler predicted {}",
                              done, done + n - 1, s.cycles, s.predicted));
    r.chunkTokens.push_back(n);
    done += n;
    next = s.next;
    if (onStep) onStep(fmt::format("prefill {} of {} tokens", done, plan.prompt));
  }
  if (!r.prefill.back().logits.empty()) r.generated.push_back(next);
  for (int64_t i = 0; i < plan.decode; ++i) {
    try {
      r.decode.push_back(step({next}));
    } catch (const Error& e) {
      throw Error(fmt::format("decode step {} (context {}): {}", i, plan.prompt + i + 1, e.what()));
    }
    const ChipDecoder::Step& s = r.decode.back();
    if (s.cycles != s.predicted)
      throw Error(
          fmt::format("decode step {} (context {}): the simulator measured {} cycles but the compiler "
                      "predicted {}",
                      i, s.context, s.cycles, s.predicted));
    next = s.next;
    if (!s.logits.empty()) r.generated.push_back(next);
    if (onStep) onStep(fmt::format("decode step {} of {}", i + 1, plan.decode));
  }
  return r;
}

nlohmann::ordered_json requestJson(nlohmann::ordered_json o, const RequestRun& r, const ChipConfig& chip) {
  const double clockHz = chip.clock_hz;
  const Cycle pre = r.prefillCycles(), dec = r.decodeCycles();
  const int64_t prompt = promptTokens(r);
  Cycle predicted = 0;
  double compile = 0, simulate = 0;
  auto steps = nlohmann::ordered_json::array();
  auto add = [&](const ChipDecoder::Step& s, const char* kind, int64_t tokens) {
    predicted += s.predicted;
    compile += s.compile_s, simulate += s.simulate_s;
    steps.push_back({{"kind", kind},
                     {"tokens", tokens},
                     {"context", s.context},
                     {"cycles", s.cycles},
                     {"predicted_cycles", s.predicted},
                     {"bound_cycles", s.bound.cycles},
                     {"compile_wall_s", s.compile_s},
                     {"simulate_wall_s", s.simulate_s}});
  };
  for (size_t i = 0; i < r.prefill.size(); ++i) add(r.prefill[i], "prefill", r.chunkTokens[i]);
  for (const auto& s : r.decode) add(s, "decode", 1);
  o["mode"] = "request";
  o["prompt_tokens"] = prompt;
  o["chunk_tokens"] = r.chunkTokens.empty() ? 0 : r.chunkTokens.front();
  o["prefill_steps"] = r.prefill.size();
  o["decode_steps"] = r.decode.size();
  o["output_tokens"] = 1 + r.decode.size();  // the prefill's, then one a decode step
  o["prefill_cycles"] = pre;
  o["decode_cycles"] = dec;
  o["cycles"] = pre + dec;
  o["predicted_cycles"] = predicted;
  o["clock_hz"] = clockHz;
  o["ttft_s"] = double(pre) / clockHz;
  o["tpot_s"] = r.decode.empty() ? 0.0 : double(dec) / double(r.decode.size()) / clockHz;
  o["e2e_s"] = double(pre + dec) / clockHz;
  o["prefill_tokens_per_s"] = double(prompt) / (double(pre) / clockHz);
  o["decode_tokens_per_s"] = r.decode.empty() ? 0.0 : double(r.decode.size()) / (double(dec) / clockHz);
  if (!r.generated.empty()) o["generated"] = r.generated;
  const Bound pb = sumBounds(r.prefill), all = sumBounds(r.prefill, r.decode);
  const size_t chips = chipsOf(r);
  o["prefill_bound_cycles"] = pb.cycles;
  o["prefill_bound_ratio"] = boundRatio(pb, pre);
  o["bound_cycles"] = all.cycles;
  o["bound"] = all;
  o["bound"].erase("cycles");
  o["bound_ratio"] = boundRatio(all, pre + dec);
  o["mxm_utilization"] = mxmUtilization(chip, all, pre + dec, chips);
  o["prefill_mxm_utilization"] = mxmUtilization(chip, pb, pre, chips);
  o["compile_wall_s"] = compile;
  o["simulate_wall_s"] = simulate;
  o["wall_s"] = compile + simulate;
  o["steps"] = steps;
  return o;
}

std::string requestTable(const std::string& title, const RequestRun& r, const ChipConfig& chip) {
  const double clockHz = chip.clock_hz;
  const Cycle pre = r.prefillCycles(), dec = r.decodeCycles();
  const int64_t prompt = promptTokens(r);
  double wall = 0;
  for (const auto& s : r.prefill) wall += s.compile_s + s.simulate_s;
  for (const auto& s : r.decode) wall += s.compile_s + s.simulate_s;
  std::string out = title + "\n";
  out += fmt::format("prefill: {} tokens in {} step(s) of up to {}: {} cycles, time to first token {:.3f} ms\n", prompt,
                     r.prefill.size(), r.chunkTokens.empty() ? 0 : r.chunkTokens.front(), pre,
                     double(pre) / clockHz * 1e3);
  out += "  " + boundLine(chip, sumBounds(r.prefill), pre, chipsOf(r));
  if (!r.decode.empty())
    out += fmt::format("decode: {} steps, {} cycles, time per output token {:.3f} ms ({:.1f} tokens/s)\n",
                       r.decode.size(), dec, double(dec) / double(r.decode.size()) / clockHz * 1e3,
                       double(r.decode.size()) / (double(dec) / clockHz));
  out += fmt::format("end to end: {} cycles, {:.3f} ms at {:.0f} MHz; every step exact (predicted == simulated)\n",
                     pre + dec, double(pre + dec) / clockHz * 1e3, clockHz / 1e6);
  if (!r.generated.empty()) {
    out += "generated:";
    for (int t : r.generated) out += fmt::format(" {}", t);
    out += "\n";
  }
  out += fmt::format("wall: {:.3f} s compiling and simulating\n", wall);
  return out;
}

}  // namespace lpu
