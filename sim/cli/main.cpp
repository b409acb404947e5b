// lpusim: the command-line front end. Every error is one line on stderr,
// "error: ...", and exit code 1.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "compiler/compile.h"
#include "compiler/values.h"
#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/error.h"
#include "sim/cli/bench.h"
#include "sim/cli/model_info.h"
#include "sim/cli/model_run.h"
#include "sim/cli/reference.h"
#include "sim/cli/system_run.h"
#include "sim/simulate.h"

namespace lpu {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A .s/.asm file is assembled; anything else is read as a binary program.
Program loadProgram(const std::string& path) {
  if (endsWith(path, ".s") || endsWith(path, ".asm")) return assembleFile(path);
  return readProgram(path);
}

void writeText(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return;
  }
  std::ofstream f(path);
  if (!f) throw Error(fmt::format("{}: cannot open for writing", path));
  f << text;
}

std::string chipsTable() {
  std::string s = fmt::format("{:<14} {:>6} {:>9} {:>10} {:>8} {:>11} {:>10}  {}\n", "name", "lanes", "MEM slc",
                              "SRAM MiB", "MHz", "MXM planes", "C2C links", "description");
  for (const ChipConfig& c : presets())
    s += fmt::format("{:<14} {:>6} {:>9} {:>10.2f} {:>8.0f} {:>11} {:>10}  {}\n", c.name, c.lanes(),
                     2 * c.mem_slices_per_hemisphere, double(c.sramBytes()) / (1 << 20), c.clock_hz / 1e6,
                     2 * c.mxm_planes_per_hemisphere, c.c2c_links, c.description);
  return s;
}

std::string fieldsTable() {
  std::string s = fmt::format("{:<26} {:<15} {:<10} {}\n", "field", "unit", "default", "meaning");
  const ChipConfig c;
  const auto j = nlohmann::json::parse(chipToJson(c));
  for (const FieldDoc& f : fieldDocs()) {
    const auto dot = f.key.find('.');
    const auto& v = dot == std::string::npos ? j[f.key] : j[f.key.substr(0, dot)][f.key.substr(dot + 1)];
    s += fmt::format("{:<26} {:<15} {:<10} {}{}\n", f.key, f.unit, v.dump(), f.meaning,
                     f.assumed ? " [assumed: not public]" : "");
  }
  return s;
}

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

std::string runJson(const Graph& g, const Compiled& c, const SimResult& r, bool layers) {
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
  o["sram_bytes"] = {{"weights", c.sram.weights},
                     {"kv_cache", c.sram.kv_cache},
                     {"activations", c.sram.activations},
                     {"program", c.sram.program},
                     {"total", c.sram.total()}};
  o["utilization"] = j["utilization"];
  o["scheduler"] = policyName(c.policy);
  o["precision"] = precisionName(c.precision);
  o["compile_wall_s"] = c.wall_s;
  o["wall_s"] = r.wall_s + c.wall_s;
  o["outputs"] = j["outputs"];
  if (layers) o["layers"] = layerJson(g, c);
  return o.dump(2);
}

std::string runTable(const Graph& g, const Compiled& c, const SimResult& r, bool layers) {
  std::string s = fmt::format("{}\n", g.name);
  s += fmt::format("predicted {} cycles, simulated {} cycles ({:.3f} us at {:.0f} MHz)\n", c.predicted, r.cycles,
                   r.seconds() * 1e6, r.clock_hz / 1e6);
  if (g.mode != "custom" && !g.mode.empty())
    s += fmt::format("{} tokens/s ({:.3f} ms per token, {} mode, {} token(s) per step)\n",
                     fmt::format("{:.1f}", tokensPerSecond(g, r)), r.seconds() / double(g.tokens) * 1e3, g.mode,
                     g.tokens);
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

int run(int argc, char** argv) {
  CLI::App app{"lpusim: a cycle-accurate simulator of an LPU-style deterministic inference chip"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");

  std::string in, out, chipName, tracePath, dumpDir, show;
  bool json = false, timingOnly = false, fields = false;

  auto* asmCmd = app.add_subcommand("asm", "assemble a .s file into a binary program");
  asmCmd->add_option("input", in, "assembly file (syntax: isa/README.md)")->required();
  asmCmd->add_option("-o,--output", out, "binary program to write")->required();

  auto* disCmd = app.add_subcommand("disasm", "turn a binary program back into annotated assembly");
  disCmd->add_option("input", in, "binary program")->required();
  disCmd->add_option("-o,--output", out, "assembly file to write (default: stdout)");

  auto* simCmd = app.add_subcommand("sim", "run a program (.bin, or .s assembled on the fly) on the simulated chip");
  simCmd->add_option("program", in, "program file")->required();
  simCmd->add_option("--chip", chipName, "chip preset name or JSON file (default: the program's .chip)");
  simCmd->add_flag("--json", json, "print one JSON object instead of the table");
  simCmd->add_option("--trace", tracePath, "write a Chrome/Perfetto timeline (JSON) here");
  simCmd->add_option("--dump", dumpDir, "write each output tensor to DIR/<name>.npy");
  simCmd->add_flag("--timing-only", timingOnly, "check timing without computing values or holding SRAM contents");

  auto* isaCmd = app.add_subcommand("isa", "print the instruction reference (Markdown), generated from the ISA table");
  auto* chipsCmd = app.add_subcommand("chips", "list the bundled chip presets");
  chipsCmd->add_flag("--json", json, "print the presets as JSON");
  chipsCmd->add_option("--show", show, "print one preset's full JSON config (a starting point for your own)");
  chipsCmd->add_flag("--fields", fields, "document every config field: unit, default, meaning");

  std::string graphPath, modelName, weightsPath, mode = "decode", precision = "int8", scheduler = "list", prompt;
  bool functional = false, layers = false;
  uint64_t seed = 1;
  int64_t context = 0, promptLen = 0, batch = 1;
  int firstLayers = -1, generate = 0;
  bool layersOnly = false;
  auto compileOptions = [&](CLI::App* cmd) {
    auto* gr = cmd->add_option("--graph", graphPath, "graph JSON file (format: models/README.md)");
    auto* mo =
        cmd->add_option("--model", modelName, "bundled model name (lpusim models) or a Hugging Face config.json");
    gr->excludes(mo);
    cmd->add_option("--mode", mode, "with --model: decode (one token over the KV cache) or prefill (a prompt)")
        ->check(CLI::IsMember({"decode", "prefill"}));
    cmd->add_option("--context", context, "with --model, decode: KV-cache positions attended (default min(1024, max))");
    cmd->add_option("--prompt-len", promptLen, "with --model, prefill: prompt tokens");
    cmd->add_option("--batch", batch,
                    "with --model, decode: sequences stepped together (weights stream once for all; each has its own "
                    "KV caches); tokens_per_s counts all of them")
        ->check(CLI::Range(1, 4096));
    cmd->add_option("--first-layers", firstLayers, "with --model: only the first N layers (one layer of a big model)");
    cmd->add_flag("--layers-only", layersOnly, "with --model: the layers alone, without embedding and head");
    cmd->add_option("--chip", chipName, "chip preset name or JSON file (default groq-tsp-v1)");
    cmd->add_option("--precision", precision, "matmul precision: int8 (per-channel weight scales) or fp16")
        ->check(CLI::IsMember({"int8", "fp16"}));
    cmd->add_option("--scheduler", scheduler, "list (optimising) or in-order (baseline)")
        ->check(CLI::IsMember({"list", "in-order"}));
    cmd->add_flag("--functional", functional, "carry real values (seeded random weights and inputs, or --weights)");
    cmd->add_option("--weights", weightsPath,
                    "with --model: a .safetensors file of the model's weights (implies --functional)");
    cmd->add_option("--seed", seed, "seed of the random weights and inputs");
  };
  auto* compileCmd =
      app.add_subcommand("compile", "compile a graph or one step of a model into a program with exact issue cycles");
  compileOptions(compileCmd);
  compileCmd->add_option("-o,--output", out, "binary program to write")->required();
  auto* runCmd = app.add_subcommand("run", "compile a graph or one step of a model and run it on the simulated chip");
  compileOptions(runCmd);
  runCmd->add_flag("--json", json, "print one JSON object");
  runCmd->add_flag("--layers", layers, "add a per-layer breakdown (cycle span of each layer)");
  runCmd->add_option("--trace", tracePath, "write a Chrome/Perfetto timeline (JSON) here");
  runCmd->add_option("--prompt", prompt, "with --model --functional: token ids, e.g. 1,2,3, fed one decode step each");
  runCmd->add_option("--generate", generate, "with --prompt: tokens to generate greedily after the prompt");
  std::string systemName, parallel;
  int chipsCount = 0;
  auto* sysOpt =
      runCmd->add_option("--system", systemName, "with --model: a system preset (lpusim systems) or JSON file");
  auto* chipsOpt =
      runCmd->add_option("--chips", chipsCount, "with --model: a system of this many chips (wired like the presets)");
  sysOpt->excludes(chipsOpt);
  runCmd->add_option("--parallel", parallel,
                     "with --system/--chips: the split, e.g. tp=8,pp=9 (default: for tp 1, 2, 4, 8 the fewest "
                     "stages that fit, then the fewest predicted cycles)");
  std::string experts = "auto";
  runCmd
      ->add_option("--experts", experts,
                   "MoE models on a tensor-parallel group: whole (experts / tp whole experts a chip, their "
                   "outputs summed over C2C), split (every expert's output columns over the group), or auto "
                   "(the default: whole where tp divides the experts)")
      ->check(CLI::IsMember({"auto", "split", "whole"}));
  double maxMemoryGib = 0;
  runCmd
      ->add_option("--max-memory", maxMemoryGib,
                   "with --system/--chips: GiB the compiler may use (default 90% of this machine's); larger "
                   "runs are refused up front")
      ->check(CLI::PositiveNumber);

  auto* systemsCmd = app.add_subcommand("systems", "list the bundled multi-chip system presets");
  systemsCmd->add_flag("--json", json, "print the presets as JSON");
  systemsCmd->add_option("--show", show, "print one preset's full JSON config");

  auto* modelsCmd = app.add_subcommand("models", "list the bundled models: family, shape, exact parameters, bytes");
  modelsCmd->add_flag("--json", json, "print one JSON array");
  std::vector<std::string> configPaths;
  modelsCmd->add_option("--config", configPaths, "show these Hugging Face config.json files instead");

  auto* benchCmd =
      app.add_subcommand("bench", "benchmark figures: tokens/s, compile and simulate wall time, speed, memory");
  benchCmd->add_option("--chip", chipName, "chip preset name or JSON file (default groq-tsp-v1)");
  benchCmd->add_option("--precision", precision, "int8 or fp16")->check(CLI::IsMember({"int8", "fp16"}));
  benchCmd->add_option("--model", modelName, "one model instead of the default cases");
  benchCmd->add_option("--context", context, "with --model: KV-cache positions (default min(1024, max))");
  benchCmd->add_option("--first-layers", firstLayers, "with --model: only the first N layers");
  benchCmd->add_flag("--layers-only", layersOnly, "with --model: the layers alone, without embedding and head");
  benchCmd->add_flag("--json", json, "one JSON object per line");
  bool benchSystems = false;
  benchCmd->add_flag("--systems", benchSystems,
                     "multi-chip cases instead: gpt2 on groq-node (split chosen), llama-3.1-8b on groq-rack "
                     "(tp=8,pp=9), llama-2-70b on groq-576 (tp=8,pp=72) and on 640 chips (tp=8,pp=80), at 4096 "
                     "context for the Llamas; takes about half an hour");

  auto* graphCmd =
      app.add_subcommand("graph", "write a model's step graph as JSON (editable; compile it with --graph)");
  graphCmd->add_option("--model", modelName, "bundled model name or a Hugging Face config.json")->required();
  graphCmd->add_option("--mode", mode, "decode or prefill")->check(CLI::IsMember({"decode", "prefill"}));
  graphCmd->add_option("--context", context, "decode: KV-cache positions attended");
  graphCmd->add_option("--batch", batch, "decode: sequences stepped together")->check(CLI::Range(1, 4096));
  graphCmd->add_option("--prompt-len", promptLen, "prefill: prompt tokens");
  graphCmd->add_option("--first-layers", firstLayers, "only the first N layers");
  graphCmd->add_flag("--layers-only", layersOnly, "the layers alone, without embedding and head");
  graphCmd->add_option("-o,--output", out, "graph JSON file to write (default: stdout)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const CLI::ParseError& e) {  // one line, like every other error; --help says more
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::cerr << "error: " << what << " (lpusim --help)\n";
    return 1;
  }

  if (asmCmd->parsed()) {
    writeProgram(assembleFile(in), out);
  } else if (disCmd->parsed()) {
    writeText(out, disassemble(readProgram(in)));
  } else if (simCmd->parsed()) {
    const Program p = loadProgram(in);
    const ChipConfig chip = loadChip(!chipName.empty() ? chipName : !p.chip.empty() ? p.chip : "groq-tsp-v1");
    RunRequest req;
    req.options.functional = !timingOnly;
    req.tracePath = tracePath;
    const SimResult r = simulate(p, chip, in, req);
    if (!dumpDir.empty()) dumpOutputs(r, dumpDir);
    std::cout << (json ? resultJson(r) + "\n" : resultTable(r));
  } else if (modelsCmd->parsed()) {
    std::vector<ModelConfig> ms;
    if (configPaths.empty())
      for (const std::string& n : bundledModels()) ms.push_back(loadModel(n));
    for (const std::string& path : configPaths) ms.push_back(loadModel(path));
    if (json) {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& m : ms) arr.push_back(modelRow(m));
      std::cout << arr.dump(2) << "\n";
    } else {
      std::cout << modelsTable(ms);
    }
  } else if (benchCmd->parsed() && benchSystems) {
    runSystemBench(defaultSystemBenchCases(), precision == "int8", json);
  } else if (benchCmd->parsed()) {
    std::vector<BenchCase> cases = defaultBenchCases();
    if (!modelName.empty())
      cases = {{modelName, StepRequest{"decode", context, 0, 0, firstLayers, !layersOnly, !layersOnly}}};
    runBench(cases, chipName.empty() ? "groq-tsp-v1" : chipName, precision == "int8", json);
  } else if (graphCmd->parsed()) {
    StepRequest req{mode, context, promptLen, 0, firstLayers, !layersOnly, !layersOnly};
    req.batch = batch;
    const Graph g = buildGraph(loadModel(modelName), req);
    writeText(out, toJson(g).dump(1) + "\n");
  } else if (compileCmd->parsed() || runCmd->parsed()) {
    if (graphPath.empty() && modelName.empty()) throw Error("give a graph (--graph FILE) or a model (--model NAME)");
    const ChipConfig chip = loadChip(chipName.empty() ? "groq-tsp-v1" : chipName);
    Policy policy;
    parsePolicy(scheduler, policy);
    const Precision prec = precision == "fp16" ? Precision::Fp16 : Precision::Int8;
    std::unique_ptr<ModelConfig> model;
    std::unique_ptr<WeightSource> weights;
    if (!modelName.empty()) {
      model = std::make_unique<ModelConfig>(loadModel(modelName));
      if (!weightsPath.empty()) {
        auto st = std::make_unique<SafetensorsFile>(weightsPath);
        st->check(*model);
        weights = std::move(st);
        functional = true;
      } else {
        weights = std::make_unique<SeededWeights>(*model, seed);
      }
    } else if (!weightsPath.empty() || !prompt.empty()) {
      throw Error("--weights and --prompt need a model (--model)");
    }
    // A multi-chip system: the split asked (or chosen), compiled and simulated whole.
    const bool system = !systemName.empty() || chipsCount > 0 || !parallel.empty();
    std::unique_ptr<SystemConfig> sys;
    PipelineRequest preq;
    if (system) {
      if (!model) throw Error("--system, --chips and --parallel need a model (--model)");
      sys = std::make_unique<SystemConfig>(chipsCount > 0
                                               ? systemOfChips(chipsCount, chipName.empty() ? "groq-tsp-v1" : chipName)
                                               : loadSystem(systemName.empty() ? "groq-node" : systemName));
      sys->validate(sys->name);
      const ParallelSplit split = parallel.empty() ? ParallelSplit{0, 0} : parseParallel(parallel);
      if (split.tp * std::max(split.pp, 1) > sys->chips)
        throw Error(fmt::format("--parallel {}: needs {} chips, system {} has {}", parallel, split.tp * split.pp,
                                sys->name, sys->chips));
      if (firstLayers > 0 || layersOnly) {  // a part of the model over the system (timing)
        if (!prompt.empty())
          throw Error("--first-layers and --layers-only: greedy decoding (--prompt) needs the whole model");
        if (firstLayers > 0) model->layers = std::min<int64_t>(model->layers, firstLayers);
      }
      preq.step = StepRequest{mode, context, promptLen, 0, -1, !layersOnly, !layersOnly};
      preq.step.batch = batch;
      preq.precision = prec;
      preq.policy = policy;
      preq.pp = split.pp;
      preq.tp = split.tp;
      preq.experts = experts == "whole"   ? PipelineRequest::Experts::Whole
                     : experts == "split" ? PipelineRequest::Experts::Split
                                          : PipelineRequest::Experts::Auto;
      preq.maxMemoryBytes = maxMemoryGib * double(1 << 30);
    }
    if (!prompt.empty()) {  // greedy decoding, one decode step per token (on one chip or a system)
      if (!runCmd->parsed()) throw Error("--prompt is an option of run");
      if (batch > 1) throw Error("--batch: greedy decoding (--prompt) runs one sequence");
      const std::vector<int> tokens = parsePrompt(prompt, model->vocab);
      std::unique_ptr<ChipDecoder> one;
      std::unique_ptr<SystemDecoder> many;
      if (system) {
        preq.weights = weights.get();
        many = std::make_unique<SystemDecoder>(*model, *sys, preq);
      } else {
        one = std::make_unique<ChipDecoder>(*model, *weights, chip, prec, policy);
      }
      std::vector<int> out;
      nlohmann::ordered_json steps = nlohmann::ordered_json::array();
      int next = 0;
      for (size_t i = 0; i < tokens.size() + size_t(generate); ++i) {
        const int tok = i < tokens.size() ? tokens[i] : next;
        const auto st = many ? many->step(tok) : one->step(tok);
        if (st.cycles != st.predicted)
          throw Error(fmt::format("step {}: the simulator measured {} cycles but the compiler predicted {}", i,
                                  st.cycles, st.predicted));
        next = st.next;
        if (i + 1 >= tokens.size()) out.push_back(next);
        steps.push_back({{"position", i}, {"token", tok}, {"next", next}, {"cycles", st.cycles}});
        if (!json)
          std::cout << fmt::format("position {:>3}: token {:>6} -> {:>6}  ({} cycles)\n", i, tok, next, st.cycles);
      }
      if (int(out.size()) > generate) out.resize(size_t(generate));
      if (json) {
        nlohmann::ordered_json o;
        o["model"] = model->name;
        if (many) {
          o["system"] = sys->name;
          o["chips"] = many->last().stages.size();
          o["parallel"] = {{"tp", many->last().split.tp}, {"pp", many->last().split.pp}};
        }
        o["prompt"] = tokens;
        o["generated"] = out;
        o["steps"] = steps;
        std::cout << o.dump(2) << "\n";
      } else {
        if (many)
          std::cout << fmt::format("on {} chips of {} (tp={},pp={})\n", many->last().stages.size(), sys->name,
                                   many->last().split.tp, many->last().split.pp);
        std::cout << "generated:";
        for (int t : out) std::cout << " " << t;
        std::cout << "\n";
      }
      return 0;
    }
    if (system) {
      if (functional)
        preq.weights = weights.get(), preq.tokens.assign(size_t(mode == "prefill" ? promptLen : batch), 1);
      const PipelineRun pr = runPipeline(*model, *sys, preq);
      std::cout << (json ? systemRunJson(*model, *sys, pr) + "\n" : systemRunTable(*model, *sys, pr));
      return 0;
    }
    Graph g;
    if (model) {
      StepRequest req{mode, context, promptLen, 0, firstLayers, !layersOnly, !layersOnly};
      req.batch = batch;
      g = buildGraph(*model, req);
    } else {
      g = loadGraph(graphPath);
    }
    CompileOptions opt;
    opt.precision = prec;
    KvRows kv;
    std::vector<int> ids(size_t(g.tokens), 1);
    if (functional) opt.values = model ? modelValues(g, *weights, ids, kv) : seededValues(seed);
    const Compiled comp = compileGraph(g, chip, opt, policy);
    if (compileCmd->parsed()) {
      writeProgram(comp.program, out);
      std::cout << fmt::format("{}: {} tasks, {} predicted cycles ({:.3f} us), {:.3f} s to compile\n", out, comp.tasks,
                               comp.predicted, double(comp.predicted) / chip.clock_hz * 1e6, comp.wall_s);
      return 0;
    }
    RunRequest req;
    req.options.functional = functional;
    req.tracePath = tracePath;
    const SimResult r = simulate(comp.program, chip, model ? g.name : graphPath, req);
    std::cout << (json ? runJson(g, comp, r, layers) + "\n" : runTable(g, comp, r, layers));
    if (r.cycles != comp.predicted)
      throw Error(
          fmt::format("the simulator measured {} cycles but the compiler predicted {}", r.cycles, comp.predicted));
  } else if (systemsCmd->parsed()) {
    if (!show.empty()) {
      std::cout << systemToJson(loadSystem(show)) << "\n";
    } else if (json) {
      auto arr = nlohmann::json::array();
      for (const auto& sy : systemPresets()) arr.push_back(nlohmann::json::parse(systemToJson(sy)));
      std::cout << arr.dump(2) << "\n";
    } else {
      std::cout << fmt::format("{:<16} {:>7} {:>6} {:>6} {:>7} {:>10} {:>9}  {}\n", "name", "chips", "node", "rack",
                               "global", "link GB/s", "hop cyc", "description");
      for (const auto& sy : systemPresets())
        std::cout << fmt::format("{:<16} {:>7} {:>6} {:>6} {:>7} {:>10.1f} {:>9}  {}\n", sy.name, sy.chips,
                                 sy.chips_per_node, sy.nodes_per_rack, sy.global_links,
                                 sy.lanes_per_link * sy.gbps_per_lane / 8, sy.hop_latency, sy.description);
    }
  } else if (isaCmd->parsed()) {
    std::cout << isaReference();
  } else if (chipsCmd->parsed()) {
    if (!show.empty()) {
      std::cout << chipToJson(loadChip(show)) << "\n";
    } else if (fields) {
      std::cout << fieldsTable();
    } else if (json) {
      auto arr = nlohmann::json::array();
      for (const auto& c : presets()) arr.push_back(nlohmann::json::parse(chipToJson(c)));
      std::cout << arr.dump(2) << "\n";
    } else {
      std::cout << chipsTable();
    }
  }
  return 0;
}

}  // namespace
}  // namespace lpu

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);  // keep the output ours
  try {
    return lpu::run(argc, argv);
  } catch (const lpu::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    return 1;
  }
}

// libsystemc references sc_main (its own main() would call it); ours is main().
extern "C" int sc_main(int argc, char** argv) { return main(argc, argv); }
