// The multi-chip run as JSON and as a short table: the single-chip keys, and
// chips, the split and why, C2C bytes and busy fraction, per-chip stages.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sim/cli/bound_report.h"
#include "system_run.h"

namespace lpu {

std::string systemRunJson(const ModelConfig& m, const SystemConfig& sys, const PipelineRun& r) {
  const double hz = r.stages[0].program.chip.empty() ? 0 : sys.chipConfig().clock_hz;
  const Graph& last = r.graphs.back();
  nlohmann::ordered_json o;
  o["model"] = m.name;
  o["system"] = sys.name;
  o["mode"] = last.mode;
  o["tokens"] = last.tokens;
  o["context"] = last.context;
  o["predicted_cycles"] = r.predicted;
  o["cycles"] = r.result.cycles;
  o["clock_hz"] = hz;
  o["seconds"] = double(r.result.cycles) / hz;
  o["tokens_per_s"] = double(last.tokens) * hz / double(r.result.cycles);
  o["batch"] = last.batch;
  o["tokens_per_s_per_user"] = (last.mode == "decode" ? 1.0 : double(last.tokens)) * hz / double(r.result.cycles);
  o["seconds_per_token"] = double(r.result.cycles) / hz / double(last.tokens);
  o["chips"] = r.chips.size();
  addBoundJson(o, sys.chipConfig(), systemBound(r, sys.chipConfig()), r.result.cycles, r.chips.size());
  o["parallel"] = {{"tp", r.split.tp}, {"pp", r.split.pp}, {"why", r.why}};
  if (!r.experts.empty()) o["parallel"]["experts"] = r.experts;
  o["c2c_bytes"] = r.c2cBytes();
  o["c2c_relayed_bytes"] = r.relayedBytes();
  uint64_t links = 0;  // links that carry anything (outgoing ends)
  for (const auto& c : r.stages)
    for (const Queue& q : c.program.queues)
      if (q.id.unit == Unit::C2C &&
          std::any_of(q.code.begin(), q.code.end(), [](const Instr& in) { return in.op == Opcode::SEND; }))
        ++links;
  o["c2c_busy"] = links ? double(r.result.c2c_busy) / double(links * uint64_t(r.result.cycles)) : 0.0;
  // Busy cycles of each unit class over all the run's chips, against the run's
  // cycles times their queues (a stage's chips idle while the others work).
  auto utilization = [&](size_t from, size_t to) {
    nlohmann::ordered_json u;
    for (int k = 1; k < kUnitCount; ++k) {
      double busy = 0, queues = 0;
      for (size_t i = from; i < to && i < r.result.chips.size(); ++i)
        busy += double(r.result.chips[i].units[size_t(k)].busy), queues += double(r.result.chips[i].queues[size_t(k)]);
      const double denom = double(r.result.cycles) * queues;
      u[std::string(unitName(Unit(k)))] = denom > 0 ? busy / denom : 0.0;
    }
    return u;
  };
  o["utilization"] = utilization(0, r.result.chips.size());
  SramUse sram;
  for (const auto& c : r.stages)
    sram.weights += c.sram.weights, sram.kv_cache += c.sram.kv_cache, sram.activations += c.sram.activations,
        sram.program += c.sram.program;
  o["sram_bytes"] = sram;
  o["sram_bytes"]["total"] = sram.total();
  auto stages = nlohmann::ordered_json::array();
  for (size_t s = 0; s < r.stages.size(); ++s)
    stages.push_back(
        {{"stage", s / size_t(r.split.tp)},
         {"rank", s % size_t(r.split.tp)},
         {"chip", r.chips[s]},
         {"graph", r.graphs[s].name},
         {"cycles", r.stages[s].predicted},
         {"bound_cycles", chipBound(sys.chipConfig(), r.stages[s].mxm).cycles},
         {"mxm", r.stages[s].mxm},
         {"utilization", utilization(s, s + 1)},
         {"send_start", r.stages[s].sendStart.empty() ? nlohmann::ordered_json(nullptr)
                                                      : nlohmann::ordered_json(r.stages[s].sendStart[0])}});
  o["stages"] = stages;
  o["scheduler"] = policyName(r.stages[0].policy);
  o["precision"] = precisionName(r.stages[0].precision);
  double compile = 0;
  for (const auto& c : r.stages) compile += c.wall_s;
  o["compile_wall_s"] = compile;
  o["wall_s"] = compile + r.result.wall_s;
  return o.dump(2);
}

std::string systemRunTable(const ModelConfig& m, const SystemConfig& sys, const PipelineRun& r) {
  const double hz = sys.chipConfig().clock_hz;
  const Graph& last = r.graphs.back();
  std::string s = fmt::format("{} {}, context {}, on {} of the {} chips of {}\n", m.name, last.mode, last.context,
                              r.chips.size(), sys.chips, sys.name);
  s += fmt::format("split: {}{}\n", r.why, r.experts.empty() ? "" : fmt::format("; MoE experts {}", r.experts));
  s += fmt::format("predicted {} cycles, simulated {} cycles ({:.3f} us at {:.0f} MHz)\n", r.predicted, r.result.cycles,
                   double(r.result.cycles) / hz * 1e6, hz / 1e6);
  s += boundLine(sys.chipConfig(), systemBound(r, sys.chipConfig()), r.result.cycles, r.chips.size());
  if (last.batch > 1)
    s += fmt::format("{:.1f} tokens/s over a batch of {} ({:.1f} per user); C2C {} bytes per step\n",
                     double(last.tokens) * hz / double(r.result.cycles), last.batch, hz / double(r.result.cycles),
                     r.c2cBytes());
  else
    s += fmt::format("{:.1f} tokens/s per user; C2C {} bytes per step\n",
                     double(last.tokens) * hz / double(r.result.cycles), r.c2cBytes());
  if (r.relayedBytes() > 0)
    s += fmt::format("  of which {} bytes passed on by chips between sender and receiver (multi-hop routes)\n",
                     r.relayedBytes());
  std::string util;
  for (int k = 1; k < kUnitCount; ++k) {
    double busy = 0, queues = 0;
    for (const SimResult& c : r.result.chips)
      busy += double(c.units[size_t(k)].busy), queues += double(c.queues[size_t(k)]);
    util += fmt::format("{}{} {:.1f}%", k > 1 ? ", " : "", unitName(Unit(k)),
                        queues > 0 ? 100.0 * busy / (double(r.result.cycles) * queues) : 0.0);
  }
  s += fmt::format("utilisation over the {} chips: {}\n", r.result.chips.size(), util);
  for (size_t i = 0; i < r.stages.size(); ++i)
    s += fmt::format("  stage {:>3}{} on chip {:>5}: {:<48} ends in cycle {}\n", i / size_t(r.split.tp),
                     r.split.tp > 1 ? fmt::format(" rank {:>2}", i % size_t(r.split.tp)) : "", r.chips[i],
                     r.graphs[i].name, r.stages[i].predicted);
  return s;
}

}  // namespace lpu
