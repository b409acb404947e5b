// lpusim: the command-line front end. Every error is one line on stderr,
// "error: ...", and exit code 1.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "isa/arch/system_config.h"
#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/error.h"
#include "sim/cli/bench.h"
#include "sim/cli/model_info.h"
#include "sim/cli/option_checks.h"
#include "sim/cli/preset_info.h"
#include "sim/cli/reference.h"
#include "sim/cli/run_command.h"
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

std::vector<std::string> chipNames() {
  std::vector<std::string> names;
  for (const ChipConfig& c : presets()) names.push_back(c.name);
  return names;
}

std::vector<std::string> systemNames() {
  std::vector<std::string> names;
  for (const SystemConfig& s : systemPresets()) names.push_back(s.name);
  return names;
}

// The most sequences a decode step takes (--batch): their attention mixes
// are joined by one Concat, which takes at most 64 inputs (models/graph.cpp).
constexpr int64_t kMaxBatch = 64;
constexpr int64_t kIntMax = std::numeric_limits<int>::max();

// A subcommand: its options (filled by CLI11 while parsing) and what it does.
struct Command {
  CLI::App* cmd;
  std::function<void()> run;
};

Command addAsm(CLI::App& app) {
  struct Args {
    std::string in, out;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("asm", "assemble a .s file into a binary program");
  cmd->add_option("input", a->in, "assembly file (syntax: isa/README.md)")->required()->check(regularFile());
  cmd->add_option("-o,--output", a->out, "binary program to write")->required()->check(outputFile());
  return {cmd, [a] { writeProgram(assembleFile(a->in), a->out); }};
}

Command addDisasm(CLI::App& app) {
  struct Args {
    std::string in, out;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("disasm", "turn a binary program back into annotated assembly");
  cmd->add_option("input", a->in, "binary program")->required()->check(regularFile());
  cmd->add_option("-o,--output", a->out, "assembly file to write (default: stdout)")->check(outputFile());
  return {cmd, [a] { writeText(a->out, disassemble(readProgram(a->in))); }};
}

Command addSim(CLI::App& app) {
  struct Args {
    std::string in, chipName, tracePath, dumpDir;
    bool json = false, timingOnly = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("sim", "run a program (.bin, or .s assembled on the fly) on the simulated chip");
  cmd->add_option("program", a->in, "program file")->required()->check(regularFile());
  cmd->add_option("--chip", a->chipName, "chip preset name or JSON file (default: the program's .chip)")
      ->check(nameOrFile(chipNames()));
  cmd->add_flag("--json", a->json, "print one JSON object instead of the table");
  cmd->add_option("--trace", a->tracePath, "write a Chrome/Perfetto timeline (JSON) here")->check(outputFile());
  auto* dump = cmd->add_option("--dump", a->dumpDir, "write each output tensor to DIR/<name>.npy (an existing DIR)")
                   ->check(directory());
  cmd->add_flag("--timing-only", a->timingOnly, "check timing without computing values or holding SRAM contents")
      ->excludes(dump);
  return {
      cmd, [a] {
        const Program p = loadProgram(a->in);
        const ChipConfig chip = loadChip(!a->chipName.empty() ? a->chipName : !p.chip.empty() ? p.chip : "groq-tsp-v1");
        RunRequest req;
        req.options.functional = !a->timingOnly;
        req.tracePath = a->tracePath;
        const SimResult r = simulate(p, chip, a->in, req);
        if (!a->dumpDir.empty()) dumpOutputs(r, a->dumpDir);
        std::cout << (a->json ? resultJson(r) + "\n" : resultTable(r));
      }};
}

Command addIsa(CLI::App& app) {
  auto* cmd = app.add_subcommand("isa", "print the instruction reference (Markdown), generated from the ISA table");
  return {cmd, [] { std::cout << isaReference(); }};
}

Command addChips(CLI::App& app) {
  struct Args {
    bool json = false, fields = false;
    std::string show;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("chips", "list the bundled chip presets");
  auto* json = cmd->add_flag("--json", a->json, "print the presets as JSON");
  cmd->add_option("--show", a->show, "print one preset's full JSON config (a starting point for your own)")
      ->check(nameOrFile(chipNames()))
      ->excludes(json);
  cmd->add_flag("--fields", a->fields, "document every config field: unit, default, meaning")
      ->excludes(json)
      ->excludes("--show");
  return {cmd, [a] {
            if (!a->show.empty()) {
              std::cout << chipToJson(loadChip(a->show)) << "\n";
            } else if (a->fields) {
              std::cout << fieldsTable();
            } else if (a->json) {
              auto arr = nlohmann::json::array();
              for (const auto& c : presets()) arr.push_back(nlohmann::json::parse(chipToJson(c)));
              std::cout << arr.dump(2) << "\n";
            } else {
              std::cout << chipsTable();
            }
          }};
}

// The options of compile and run that say what to compile, for which chip and
// how; those that shape a model's step need --model (a graph file is fixed).
// Ranges that depend on the model are checked once it is loaded (checkStep).
void addModelOptions(CLI::App* cmd, ModelArgs& a) {
  auto* gr =
      cmd->add_option("--graph", a.graphPath, "graph JSON file (format: models/README.md)")->check(regularFile());
  auto* mo = cmd->add_option("--model", a.modelName, "bundled model name (lpusim models) or a Hugging Face config.json")
                 ->check(nameOrFile(bundledModels()));
  gr->excludes(mo);
  cmd->add_option("--mode", a.mode, "decode (one token over the KV cache) or prefill (a prompt)")
      ->check(CLI::IsMember({"decode", "prefill"}))
      ->needs(mo);
  cmd->add_option("--context", a.context,
                  "decode: KV-cache positions attended, 1 to the model's positions (default min(1024, max))")
      ->transform(integerIn(1, std::numeric_limits<int64_t>::max()))
      ->needs(mo);
  cmd->add_option("--prompt-len", a.promptLen, "prefill: prompt tokens, 1 to the model's positions")
      ->transform(integerIn(1, std::numeric_limits<int64_t>::max()))
      ->needs(mo);
  cmd->add_option("--batch", a.batch,
                  "decode: sequences stepped together (weights stream once for all; each has its own KV caches); "
                  "tokens_per_s counts all of them")
      ->transform(integerIn(1, kMaxBatch))
      ->needs(mo);
  cmd->add_option("--first-layers", a.firstLayers,
                  "only the first N layers, 1 to the model's layers (one layer of a big model)")
      ->transform(integerIn(1, kIntMax))
      ->needs(mo);
  cmd->add_flag("--layers-only", a.layersOnly, "the layers alone, without embedding and head")->needs(mo);
  cmd->add_option("--chip", a.chipName, "chip preset name or JSON file (default groq-tsp-v1)")
      ->check(nameOrFile(chipNames()));
  cmd->add_option("--precision", a.precision, "matmul precision: int8 (per-channel weight scales) or fp16")
      ->check(CLI::IsMember({"int8", "fp16"}));
  cmd->add_option("--scheduler", a.scheduler, "list (optimising) or in-order (baseline)")
      ->check(CLI::IsMember({"list", "in-order"}));
  cmd->add_flag("--functional", a.functional, "carry real values (seeded random weights and inputs, or --weights)");
  auto* we =
      cmd->add_option("--weights", a.weightsPath, "a .safetensors file of the model's weights (implies --functional)")
          ->check(regularFile())
          ->needs(mo);
  cmd->add_option("--seed", a.seed, "with --functional or --prompt: seed of the random weights and inputs")
      ->transform(anyUnsigned())
      ->excludes(we)
      ->each([&a](const std::string&) { a.seedGiven = true; });
}

Command addCompile(CLI::App& app) {
  auto a = std::make_shared<CompileArgs>();
  auto* cmd =
      app.add_subcommand("compile", "compile a graph or one step of a model into a program with exact issue cycles");
  addModelOptions(cmd, a->model);
  cmd->add_option("-o,--output", a->out, "binary program to write")->required()->check(outputFile());
  return {cmd, [a] { compileCommand(*a); }};
}

Command addRun(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "compile a graph or one step of a model and run it on the simulated chip");
  addModelOptions(cmd, a->model);
  auto* mo = cmd->get_option("--model");
  cmd->add_flag("--json", a->json,
                "print one JSON object; bound_cycles: the MXM and links' resource bound, bound_ratio: cycles / "
                "bound_cycles (README: the resource bound)");
  auto* layers = cmd->add_flag("--layers", a->layers, "one chip: add a per-layer breakdown (cycle span of each layer)");
  auto* trace = cmd->add_option("--trace", a->tracePath, "one chip: write a Chrome/Perfetto timeline (JSON) here")
                    ->check(outputFile());
  auto* prompt =
      cmd->add_option("--prompt", a->prompt, "token ids below the model's vocab, e.g. 1,2,3, fed one decode step each")
          ->check(nonEmpty())
          ->needs(mo);
  cmd->add_option("--generate", a->generate, "tokens to generate greedily after the prompt")
      ->transform(integerIn(0, kIntMax))
      ->needs(prompt);
  auto* chunk =
      cmd->add_option("--chunk", a->chunk,
                      "prefill: prompt tokens a step (the KV cache written as each passes; default: the whole "
                      "prompt, halved while a step does not fit SRAM); a whole request, reported per step")
          ->transform(integerIn(1, kIntMax))
          ->needs(mo)
          ->excludes(prompt)
          ->excludes(layers)
          ->excludes(trace);
  cmd->add_option("--then-decode", a->thenDecode,
                  "prefill: decode steps after the prompt (a whole request: time to first token, time per output "
                  "token, end to end, each step exact)")
      ->transform(integerIn(0, kIntMax))
      ->needs(mo)
      ->excludes(prompt)
      ->excludes(layers)
      ->excludes(trace);
  (void)chunk;
  auto* sysOpt = cmd->add_option("--system", a->systemName, "a system preset (lpusim systems) or JSON file")
                     ->check(nameOrFile(systemNames()))
                     ->needs(mo)
                     ->excludes("--chip");
  auto* chipsOpt =
      cmd->add_option("--chips", a->chipsCount, "a system of this many chips (wired like the presets; of --chip)")
          ->transform(integerIn(1, 100000))
          ->needs(mo);
  sysOpt->excludes(chipsOpt);
  auto* parallel = cmd->add_option("--parallel", a->parallel,
                                   "the split over --system/--chips (default system groq-node), e.g. tp=8,pp=9 "
                                   "(default: for tp 1, 2, 4, 8 the fewest stages that fit, then the fewest predicted "
                                   "cycles)")
                       ->check(nonEmpty())
                       ->needs(mo);
  for (CLI::Option* multi : {sysOpt, chipsOpt, parallel})
    for (CLI::Option* one : {layers, trace}) one->excludes(multi);
  layers->excludes(prompt);
  trace->excludes(prompt);
  cmd->add_option("--experts", a->experts,
                  "with --system/--chips/--parallel, MoE models on a tensor-parallel group: whole (experts / tp whole "
                  "experts a chip, their "
                  "outputs summed over C2C), split (every expert's output columns over the group), or auto "
                  "(the default: whole where tp divides the experts)")
      ->check(CLI::IsMember({"auto", "split", "whole"}))
      ->needs(mo);
  cmd->add_option("--max-memory", a->maxMemoryGib,
                  "with --system/--chips/--parallel: GiB the compiler may use (default 90% of this machine's); "
                  "larger runs are refused up front")
      ->check(positiveFinite());
  return {cmd, [a] { runCommand(*a); }};
}

Command addSystems(CLI::App& app) {
  struct Args {
    bool json = false;
    std::string show;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("systems", "list the bundled multi-chip system presets");
  auto* json = cmd->add_flag("--json", a->json, "print the presets as JSON");
  cmd->add_option("--show", a->show, "print one preset's full JSON config")
      ->check(nameOrFile(systemNames()))
      ->excludes(json);
  return {cmd, [a] {
            if (!a->show.empty()) {
              std::cout << systemToJson(loadSystem(a->show)) << "\n";
            } else if (a->json) {
              auto arr = nlohmann::json::array();
              for (const auto& sy : systemPresets()) arr.push_back(nlohmann::json::parse(systemToJson(sy)));
              std::cout << arr.dump(2) << "\n";
            } else {
              std::cout << systemsTable();
            }
          }};
}

Command addModels(CLI::App& app) {
  struct Args {
    bool json = false;
    std::vector<std::string> configPaths;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("models", "list the bundled models: family, shape, exact parameters, bytes");
  cmd->add_flag("--json", a->json, "print one JSON array");
  cmd->add_option("--config", a->configPaths, "show these Hugging Face config.json files instead")
      ->check(nameOrFile(bundledModels()));
  return {cmd, [a] {
            std::vector<ModelConfig> ms;
            if (a->configPaths.empty())
              for (const std::string& n : bundledModels()) ms.push_back(loadModel(n));
            for (const std::string& path : a->configPaths) ms.push_back(loadModel(path));
            if (a->json) {
              auto arr = nlohmann::ordered_json::array();
              for (const auto& m : ms) arr.push_back(modelRow(m));
              std::cout << arr.dump(2) << "\n";
            } else {
              std::cout << modelsTable(ms);
            }
          }};
}

Command addBench(CLI::App& app) {
  struct Args {
    std::string chipName, precision = "int8", modelName;
    int64_t context = 0;
    int firstLayers = -1;
    bool layersOnly = false, json = false, systems = false, prefill = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "benchmark figures: tokens/s, compile and simulate wall time, speed, memory");
  auto* chip = cmd->add_option("--chip", a->chipName, "chip preset name or JSON file (default groq-tsp-v1)")
                   ->check(nameOrFile(chipNames()));
  cmd->add_option("--precision", a->precision, "int8 or fp16")->check(CLI::IsMember({"int8", "fp16"}));
  auto* mo = cmd->add_option("--model", a->modelName, "one model instead of the default cases")
                 ->check(nameOrFile(bundledModels()));
  auto* context = cmd->add_option("--context", a->context,
                                  "KV-cache positions, 1 to the model's positions (default min(1024, max))")
                      ->transform(integerIn(1, std::numeric_limits<int64_t>::max()))
                      ->needs(mo);
  auto* first = cmd->add_option("--first-layers", a->firstLayers, "only the first N layers, 1 to the model's layers")
                    ->transform(integerIn(1, kIntMax))
                    ->needs(mo);
  auto* only = cmd->add_flag("--layers-only", a->layersOnly, "the layers alone, without embedding and head")->needs(mo);
  cmd->add_flag("--json", a->json, "one JSON object per line");
  auto* systems = cmd->add_flag("--systems", a->systems,
                                "multi-chip cases instead: gpt2 on groq-node (split chosen, context 1024), "
                                "llama-3.1-8b on groq-rack (tp=8,pp=9), llama-2-70b (tp=8,pp=54) and mixtral-8x7b "
                                "(tp=8,pp=32) on groq-576, at context 4096; takes about half an hour");
  auto* prefill = cmd->add_flag("--prefill", a->prefill,
                                "whole prompts instead (in chunks where one step does not fit): one llama-3.2-1b "
                                "layer at 512 tokens and gpt2 at 1024 on one chip, llama-3.1-8b at 2048 on "
                                "groq-rack; cycles, bound, time to first token");
  for (CLI::Option* o : {chip, mo, context, first, only}) systems->excludes(o), prefill->excludes(o);
  prefill->excludes(systems);
  return {cmd, [a] {
            if (a->systems) return runSystemBench(defaultSystemBenchCases(), a->precision == "int8", a->json);
            if (a->prefill) return runPrefillBench(defaultPrefillBenchCases(), a->precision == "int8", a->json);
            std::vector<BenchCase> cases = defaultBenchCases();
            if (!a->modelName.empty()) {
              checkStep(loadModel(a->modelName), "decode", a->context, 0, 1, a->firstLayers);
              cases = {{a->modelName,
                        StepRequest{"decode", a->context, 0, 0, a->firstLayers, !a->layersOnly, !a->layersOnly}}};
            }
            runBench(cases, a->chipName.empty() ? "groq-tsp-v1" : a->chipName, a->precision == "int8", a->json);
          }};
}

Command addGraph(CLI::App& app) {
  struct Args {
    std::string modelName, mode = "decode", out;
    int64_t context = 0, batch = 1, promptLen = 0;
    int firstLayers = -1;
    bool layersOnly = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("graph", "write a model's step graph as JSON (editable; compile it with --graph)");
  cmd->add_option("--model", a->modelName, "bundled model name or a Hugging Face config.json")
      ->required()
      ->check(nameOrFile(bundledModels()));
  cmd->add_option("--mode", a->mode, "decode or prefill")->check(CLI::IsMember({"decode", "prefill"}));
  cmd->add_option("--context", a->context, "decode: KV-cache positions attended, 1 to the model's positions")
      ->transform(integerIn(1, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--batch", a->batch, "decode: sequences stepped together")->transform(integerIn(1, kMaxBatch));
  cmd->add_option("--prompt-len", a->promptLen, "prefill: prompt tokens, 1 to the model's positions")
      ->transform(integerIn(1, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--first-layers", a->firstLayers, "only the first N layers, 1 to the model's layers")
      ->transform(integerIn(1, kIntMax));
  cmd->add_flag("--layers-only", a->layersOnly, "the layers alone, without embedding and head");
  cmd->add_option("-o,--output", a->out, "graph JSON file to write (default: stdout)")->check(outputFile());
  return {cmd, [a] {
            const ModelConfig m = loadModel(a->modelName);
            checkStep(m, a->mode, a->context, a->promptLen, a->batch, a->firstLayers);
            StepRequest req{a->mode, a->context, a->promptLen, 0, a->firstLayers, !a->layersOnly, !a->layersOnly};
            req.batch = a->batch;
            writeText(a->out, toJson(buildGraph(m, req)).dump(1) + "\n");
          }};
}

// Parses the command line: -1 when a subcommand is to run, else the exit
// code (help printed, or a parse error as one line on stderr).
int parse(CLI::App& app, int argc, char** argv) {
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
  return -1;
}

int run(int argc, char** argv) {
  CLI::App app{"lpusim: a cycle-accurate simulator of an LPU-style deterministic inference chip"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  const std::vector<Command> commands = {addAsm(app),    addDisasm(app),  addSim(app),  addIsa(app),
                                         addChips(app),  addCompile(app), addRun(app),  addSystems(app),
                                         addModels(app), addBench(app),   addGraph(app)};
  if (const int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (const Command& c : commands)
    if (c.cmd->parsed()) c.run();
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
