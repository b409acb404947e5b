// The single-chip run's report: the simulator's keys (utilization,
// outputs) with the step's (model, mode, tokens, tokens/s, SRAM, scheduler).
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "sim/cli/bound_report.h"
#include "sim/cli/run_command.h"

namespace lpu {
namespace {

// Decode: one token per step; prefill: the prompt's tokens in one step.
double tokensPerSecond(const Graph& g, const SimResult& r) { return double(g.tokens) / r.seconds(); }

nlohmann::ordered_json layerJson(const Graph& g, const Compiled& c) {
  auto arr = nlohmann::ordered_json::array();
  std::map<int, std::pair<Cycle, Cycle>> span;
  for (const OpCycles& oc : c.ops) {
    if (oc.start < 0) continue;
    auto [it, fresh] = span.emplace(oc.layer, std::make_pair(oc.start, oc.end));
    if (!fresh) it->second = {std::min(it->second.first, oc.start), std::max(it->second.second, oc.end)};
  }
  for (const auto& [layer, se] : span)
    arr.push_back({{"layer", layer < 0 ? nlohmann::ordered_json("outside layers") : nlohmann::ordered_json(layer)},
                   {"start", se.first},
                   {"end", se.second},
                   {"cycles", se.second - se.first}});
  (void)g;
  return arr;
}

}  // namespace

std::string runJson(const Graph& g, const ChipConfig& chip, const Compiled& c, const SimResult& r, bool layers) {
  auto j = nlohmann::ordered_json::parse(resultJson(r, 64));
  nlohmann::ordered_json o;
  if (!g.model.empty()) o["model"] = g.model;
  o["graph"] = g.name;
  o["mode"] = g.mode;
  o["tokens"] = g.tokens;
  o["context"] = g.context;
  o["predicted_cycles"] = c.predicted;
  o["cycles"] = r.cycles;
  o["clock_hz"] = r.clock_hz;
  o["seconds"] = r.seconds();
  o["tokens_per_s"] = tokensPerSecond(g, r);
  o["seconds_per_token"] = r.seconds() / double(g.tokens);
  o["batch"] = g.batch;
  o["tokens_per_s_per_user"] = g.mode == "decode" ? 1.0 / r.seconds() : tokensPerSecond(g, r);
  o["chips"] = 1;
  addBoundJson(o, chip, chipBound(chip, c.mxm), r.cycles, 1);
  o["sram_bytes"] = c.sram;
  o["sram_bytes"]["total"] = c.sram.total();
  o["utilization"] = j["utilization"];
  o["stream_reads"] = j["stream_reads"];  // the producer check's counts
  o["word_reads"] = j["word_reads"];
  o["scheduler"] = policyName(c.policy);
  o["precision"] = precisionName(c.precision);
  o["compile_wall_s"] = c.wall_s;
  o["wall_s"] = r.wall_s + c.wall_s;
  o["outputs"] = j["outputs"];
  if (layers) o["layers"] = layerJson(g, c);
  return o.dump(2);
}

std::string runTable(const Graph& g, const ChipConfig& chip, const Compiled& c, const SimResult& r, bool layers) {
  std::string s = fmt::format("{}\n", g.name);
  s += fmt::format("predicted {} cycles, simulated {} cycles ({:.3f} us at {:.0f} MHz)\n", c.predicted, r.cycles,
                   r.seconds() * 1e6, r.clock_hz / 1e6);
  if (g.mode != "custom" && !g.mode.empty())
    s += fmt::format("{} tokens/s ({:.3f} ms per token, {} mode, {} token(s) per step)\n",
                     fmt::format("{:.1f}", tokensPerSecond(g, r)), r.seconds() / double(g.tokens) * 1e3, g.mode,
                     g.tokens);
  s += boundLine(chip, chipBound(chip, c.mxm), r.cycles, 1);
  s += fmt::format(
      "scheduler {}, precision {}, {} tasks; SRAM: weights {:.2f} MiB, KV cache {:.2f} MiB, "
      "activations {:.2f} MiB, program {:.2f} MiB\n",
      policyName(c.policy), precisionName(c.precision), c.tasks, c.sram.weights / 1048576.0,
      c.sram.kv_cache / 1048576.0, c.sram.activations / 1048576.0, c.sram.program / 1048576.0);
  s += fmt::format("wall: compile {:.3f} s, simulate {:.3f} s\n", c.wall_s, r.wall_s);
  if (layers) {
    s += fmt::format("{:<16} {:>10} {:>10} {:>10}\n", "layer", "start", "end", "cycles");
    for (const auto& l : layerJson(g, c))
      s += fmt::format("{:<16} {:>10} {:>10} {:>10}\n",
                       l["layer"].is_string() ? l["layer"].get<std::string>() : std::to_string(l["layer"].get<int>()),
                       l["start"].get<Cycle>(), l["end"].get<Cycle>(), l["cycles"].get<Cycle>());
  }
  return s;
}

}  // namespace lpu
