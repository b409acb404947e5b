// lpusim: the command-line front end. Every error is one line on stderr,
// "error: ...", and exit code 1.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "isa/assembler.h"
#include "isa/binary.h"
#include "compiler/compile.h"
#include "compiler/values.h"
#include "isa/error.h"
#include "sim/cli/reference.h"
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

std::string runJson(const Compiled& c, const SimResult& r) {
  auto j = nlohmann::ordered_json::parse(resultJson(r, 64));
  nlohmann::ordered_json o;
  o["predicted_cycles"] = c.predicted;
  o["cycles"] = r.cycles;
  o["clock_hz"] = r.clock_hz;
  o["seconds"] = r.seconds();
  o["chips"] = 1;
  o["sram_bytes"] = {{"weights", c.sram.weights}, {"kv_cache", c.sram.kv_cache},
                     {"activations", c.sram.activations}, {"program", c.sram.program}, {"total", c.sram.total()}};
  o["utilization"] = j["utilization"];
  o["scheduler"] = policyName(c.policy);
  o["precision"] = precisionName(c.precision);
  o["compile_wall_s"] = c.wall_s;
  o["wall_s"] = r.wall_s + c.wall_s;
  o["outputs"] = j["outputs"];
  return o.dump(2);
}

std::string runTable(const Compiled& c, const SimResult& r) {
  std::string s = fmt::format("predicted {} cycles, simulated {} cycles ({:.3f} us at {:.0f} MHz)\n", c.predicted,
                              r.cycles, r.seconds() * 1e6, r.clock_hz / 1e6);
  s += fmt::format("scheduler {}, precision {}, {} tasks; SRAM: weights {:.2f} MiB, activations {:.2f} MiB, "
                   "program {:.2f} MiB\n",
                   policyName(c.policy), precisionName(c.precision), c.tasks, c.sram.weights / 1048576.0,
                   c.sram.activations / 1048576.0, c.sram.program / 1048576.0);
  s += fmt::format("wall: compile {:.3f} s, simulate {:.3f} s\n", c.wall_s, r.wall_s);
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

  std::string graphPath, precision = "int8", scheduler = "list";
  bool functional = false;
  uint64_t seed = 1;
  auto compileOptions = [&](CLI::App* cmd) {
    cmd->add_option("--graph", graphPath, "graph JSON file (format: models/README.md)")->required();
    cmd->add_option("--chip", chipName, "chip preset name or JSON file (default groq-tsp-v1)");
    cmd->add_option("--precision", precision, "matmul precision: int8 (per-channel weight scales) or fp16")
        ->check(CLI::IsMember({"int8", "fp16"}));
    cmd->add_option("--scheduler", scheduler, "list (optimising) or in-order (baseline)")
        ->check(CLI::IsMember({"list", "in-order"}));
    cmd->add_flag("--functional", functional, "carry real values (seeded random weights and inputs)");
    cmd->add_option("--seed", seed, "seed of the random weights and inputs");
  };
  auto* compileCmd = app.add_subcommand("compile", "compile a graph into a program with exact issue cycles");
  compileOptions(compileCmd);
  compileCmd->add_option("-o,--output", out, "binary program to write")->required();
  auto* runCmd = app.add_subcommand("run", "compile a graph and run it on the simulated chip");
  compileOptions(runCmd);
  runCmd->add_flag("--json", json, "print one JSON object");
  runCmd->add_option("--trace", tracePath, "write a Chrome/Perfetto timeline (JSON) here");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 1;
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
  } else if (compileCmd->parsed() || runCmd->parsed()) {
    const ChipConfig chip = loadChip(chipName.empty() ? "groq-tsp-v1" : chipName);
    const Graph g = loadGraph(graphPath);
    CompileOptions opt;
    opt.precision = precision == "fp16" ? Precision::Fp16 : Precision::Int8;
    if (functional) opt.values = seededValues(seed);
    Policy policy;
    parsePolicy(scheduler, policy);
    const Compiled comp = compileGraph(g, chip, opt, policy);
    if (compileCmd->parsed()) {
      writeProgram(comp.program, out);
      std::cout << fmt::format("{}: {} tasks, {} predicted cycles ({:.3f} us), {:.3f} s to compile\n", out,
                               comp.tasks, comp.predicted, double(comp.predicted) / chip.clock_hz * 1e6, comp.wall_s);
      return 0;
    }
    RunRequest req;
    req.options.functional = functional;
    req.tracePath = tracePath;
    const SimResult r = simulate(comp.program, chip, graphPath, req);
    std::cout << (json ? runJson(comp, r) + "\n" : runTable(comp, r));
    if (r.cycles != comp.predicted)
      throw Error(fmt::format("the simulator measured {} cycles but the compiler predicted {}", r.cycles, comp.predicted));
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
