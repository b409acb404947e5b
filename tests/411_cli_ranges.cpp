// Every lpusim option is range-checked where it is parsed, and an option
// that does not apply to the rest of the command line is an error, never
// silently ignored: one line "error: ..." naming the option and what it
// takes, exit code 1. tiny-llama: 2 layers, 256 positions, vocab 256.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.h"

using namespace lpu::test;

TEST_CASE("integer options: zero, negative, too large and non-decimal values name the option and its range",
          "[cli][bad-input]") {
  checkBadInput("run --model tiny-llama --context 0", "--context: expected an integer >= 1, got \"0\"");
  checkBadInput("run --model tiny-llama --context -3", "--context: expected an integer >= 1, got \"-3\"");
  checkBadInput("run --model tiny-llama --context 99999999999999999999",
                "--context: 99999999999999999999 is too large");
  checkBadInput("run --model tiny-llama --context 0x10", "--context: expected an integer >= 1, got \"0x10\"");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 0", "--prompt-len: expected an integer >= 1");
  checkBadInput("run --model tiny-llama --first-layers 0", "--first-layers: expected an integer >= 1, got \"0\"");
  checkBadInput("run --model tiny-llama --chips 0", "--chips: expected an integer in 1..100000, got \"0\"");
  checkBadInput("run --model tiny-llama --chips 100001", "--chips: expected an integer in 1..100000");
  checkBadInput("run --model tiny-llama --prompt 1,2 --generate -1",
                "--generate: expected an integer >= 0, got \"-1\"");
  checkBadInput("run --model tiny-llama --functional --seed -1",
                "--seed: expected an integer in 0..18446744073709551615");
  checkBadInput("run --model tiny-llama --chips 2 --max-memory 0", "--max-memory: expected a finite number > 0");
  checkBadInput("run --model tiny-llama --chips 2 --max-memory nan", "--max-memory: expected a finite number > 0");
  checkBadInput("bench --model tiny-llama --context 0", "--context: expected an integer >= 1");
  checkBadInput("graph --model tiny-llama --first-layers -1", "--first-layers: expected an integer >= 1");
}

TEST_CASE("batch: the help says 1..64, what one Concat of the sequences' attention takes, and 65 is refused",
          "[cli][bad-input]") {
  checkBadInput("run --model tiny-llama --batch 65", "--batch: expected an integer in 1..64, got \"65\"");
  checkBadInput("graph --model tiny-llama --batch 4096", "--batch: expected an integer in 1..64, got \"4096\"");
  const CliRun help = runCli("run --help");
  REQUIRE(help.exitCode == 0);
  CHECK_THAT(help.out, Catch::Contains("--batch INT:1..64"));
  // 64 sequences build a graph that loads back (compiling it for groq-tsp-v1 takes a minute: not here;
  // the teaching chip is refused by the compiler, after the graph loaded).
  const CliRun g = runCli("graph --model tiny-llama --batch 64 --context 16 -o " + tempPath("b64.json"));
  INFO(g.err);
  REQUIRE(g.exitCode == 0);
  checkBadInput("compile --graph " + tempPath("b64.json") + " --chip teaching -o " + tempPath("b64.bin"),
                "chip teaching: too few MEM slices for the compiler");
}

TEST_CASE("ranges that depend on the model are checked once it is loaded", "[cli][bad-input]") {
  checkBadInput("run --model tiny-llama --context 257",
                "--context: 257 is not in 1..256 (the positions of tiny-llama)");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 300",
                "--prompt-len: 300 is not in 1..256 (the positions of tiny-llama)");
  checkBadInput("run --model tiny-llama --first-layers 3",
                "--first-layers: 3 is not in 1..2 (the layers of tiny-llama)");
  checkBadInput("run --model tiny-llama --chips 2 --first-layers 3", "--first-layers: 3 is not in 1..2");
  checkBadInput("graph --model tiny-llama --context 1000", "--context: 1000 is not in 1..256");
  checkBadInput("bench --model tiny-llama --first-layers 5", "--first-layers: 5 is not in 1..2");
  checkBadInput("run --model tiny-llama --prompt 1,256", "--prompt: \"256\" is not a token id in 0..255");
  checkBadInput("run --model tiny-llama --prompt 1,-2", "--prompt: \"-2\" is not a token id in 0..255");
  checkBadInput("run --model tiny-llama --prompt 1,,2", "--prompt: \"\" is not a token id in 0..255");
  checkBadInput("run --model tiny-llama --prompt \"\"", "--prompt: expected a value");
  // Decoding 3 + 254 tokens needs 257 positions.
  checkBadInput("run --model tiny-llama --prompt 1,2,3 --generate 254",
                "--prompt and --generate: 3 tokens and 254 generated take 257 positions, tiny-llama has 256");
  checkBadInput("run --model tiny-llama --chips 2 --parallel tp=2,tp=1", "--parallel: tp given twice in \"tp=2,tp=1\"");
  checkBadInput("run --model tiny-llama --chips 2 --experts whole", "--experts: tiny-llama has no experts");
  checkBadInput("run --model tiny-moe --chips 2 --parallel pp=2 --experts split",
                "--experts: places experts over a tensor-parallel group, and --parallel pp=2 has tp=1");
}

TEST_CASE("options that do not apply to the rest of the command line are errors, not ignored", "[cli][bad-input]") {
  const std::string graph = tempPath("g.json");
  REQUIRE(runCli("graph --model tiny-llama --context 8 -o " + graph).exitCode == 0);
  checkBadInput("run --graph " + graph + " --context 8", "--context requires --model");
  checkBadInput("run --graph " + graph + " --batch 2", "--batch requires --model");
  checkBadInput("run --graph " + graph + " --first-layers 1", "--first-layers requires --model");
  checkBadInput("run --graph " + graph + " --mode prefill", "--mode requires --model");
  checkBadInput("compile --graph " + graph + " --layers-only -o " + tempPath("g.bin"),
                "--layers-only requires --model");
  checkBadInput("run --model tiny-llama --generate 4", "--generate requires --prompt");
  checkBadInput("run --model tiny-llama --mode prefill --prompt-len 4 --context 8",
                "--context: applies to decode steps");
  checkBadInput("run --model tiny-llama --prompt-len 4", "--prompt-len: applies to --mode prefill");
  checkBadInput("graph --model tiny-llama --prompt-len 4", "--prompt-len: applies to --mode prefill");
  checkBadInput("run --model tiny-llama --mode prefill", "--mode prefill: needs --prompt-len, 1..256 for tiny-llama");
  checkBadInput("run --model tiny-llama --prompt 1,2 --context 8", "--context: greedy decoding (--prompt)");
  checkBadInput("run --model tiny-llama --prompt 1,2 --mode prefill", "greedy decoding (--prompt) feeds the prompt");
  checkBadInput("run --model tiny-llama --prompt 1,2 --first-layers 1",
                "--first-layers and --layers-only: greedy decoding (--prompt) needs the whole model");
  checkBadInput("run --model tiny-llama --prompt 1,2 --layers", "--layers excludes --prompt");
  checkBadInput("run --model tiny-llama --prompt 1,2 --trace " + tempPath("t.json"), "--trace excludes --prompt");
  checkBadInput("run --model tiny-llama --chips 2 --layers", "--layers excludes --chips");
  checkBadInput("run --model tiny-llama --system groq-node --trace " + tempPath("t.json"), "--trace excludes --system");
  checkBadInput("run --model tiny-llama --system groq-node --chip teaching", "--chip excludes --system");
  checkBadInput("run --model tiny-llama --parallel pp=1 --chip teaching",
                "--chip: a system preset or file names its chip");
  checkBadInput("run --model tiny-llama --seed 3", "--seed: seeds the values of a functional run");
  checkBadInput("run --model tiny-llama --seed 3 --weights " + graph, "--weights excludes --seed");
  checkBadInput("run --model tiny-moe --experts whole", "--experts: applies to multi-chip runs");
  checkBadInput("run --model tiny-llama --max-memory 2", "--max-memory: applies to multi-chip runs");
  checkBadInput("sim " + sourcePath("examples/asm/vadd_fp32.s") + " --timing-only --dump " + sourcePath("examples"),
                "--dump excludes --timing-only");
  checkBadInput("chips --show teaching --json", "--json excludes --show");
  checkBadInput("chips --fields --json", "--json excludes --fields");
  checkBadInput("systems --show groq-node --json", "--json excludes --show");
  checkBadInput("bench --systems --model gpt2", "--model excludes --systems");
  checkBadInput("bench --context 8", "--context requires --model");
}

TEST_CASE("file options: directories and missing files are refused before anything runs", "[cli][bad-input]") {
  const std::string dir = sourcePath("examples");
  checkBadInput("sim " + dir, dir + ": not a regular file");
  checkBadInput("disasm " + dir, dir + ": not a regular file");
  checkBadInput("asm " + dir + " -o " + tempPath("x.bin"), dir + ": not a regular file");
  checkBadInput("run --graph " + dir, "--graph: " + dir + ": not a regular file");
  checkBadInput("run --graph /nonexistent/g.json", "--graph: /nonexistent/g.json: no such file");
  checkBadInput("run --model " + dir, "--model: " + dir + ": not a regular file");
  checkBadInput("run --model tiny-llama --weights " + dir, "--weights: " + dir + ": not a regular file");
  checkBadInput("run --model tiny-llama --chip " + dir, "--chip: " + dir + ": not a regular file");
  checkBadInput("run --model tiny-llama --system " + dir, "--system: " + dir + ": not a regular file");
  checkBadInput("models --config " + dir, "--config: " + dir + ": not a regular file");
  checkBadInput("chips --show " + dir, "--show: " + dir + ": not a regular file");
  checkBadInput("systems --show " + dir, "--show: " + dir + ": not a regular file");
  checkBadInput("bench --model " + dir, "--model: " + dir + ": not a regular file");
  // Outputs: not a directory, in a directory that exists; --dump an existing directory.
  checkBadInput("compile --model tiny-llama -o " + dir, "--output: " + dir + ": is a directory");
  checkBadInput("graph --model tiny-llama -o /nonexistent/g.json", "--output: /nonexistent: no such directory");
  const std::string prog = sourcePath("examples/asm/vadd_fp32.s");
  checkBadInput("sim " + prog + " --trace " + dir, "--trace: " + dir + ": is a directory");
  checkBadInput("sim " + prog + " --dump /nonexistent/out", "--dump: /nonexistent/out: no such directory");
  checkBadInput("sim " + prog + " --dump " + prog, "--dump: " + prog + ": not a directory");
  checkBadInput("run --model tiny-llama --chip \"\"", "--chip: expected a name or a file, got \"\"");
}

TEST_CASE("CLI11's own errors are one line with exit code 1, and --help exits 0", "[cli][bad-input]") {
  checkBadInput("run --model tiny-llama --mode sideways", "--mode: sideways not in {decode,prefill}");
  checkBadInput("run --model tiny-llama --context", "--context: 1 required INT:>= 1 missing");
  checkBadInput("run --graph " + sourcePath("examples/graphs/mlp.graph.json") + " --model tiny-llama",
                "--graph excludes --model");
  checkBadInput("sim", "program is required");
  checkBadInput("", "A subcommand is required");
  for (const char* help : {"--help", "run --help", "bench --help", "--help-all"}) {
    const CliRun r = runCli(help);
    INFO(help);
    CHECK(r.exitCode == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::Contains("Usage:"));
  }
}

TEST_CASE("the boundary values work: context 1 and the model's 256, every layer, decimal 010, --generate 0", "[cli]") {
  const CliRun one = runCli("run --model tiny-llama --context 1 --json");
  INFO(one.err);
  REQUIRE(one.exitCode == 0);
  const auto j = nlohmann::json::parse(one.out);
  CHECK(j["context"] == 1);
  CHECK(j["cycles"] == j["predicted_cycles"]);
  const auto graphOf = [](const std::string& args) {
    const CliRun r = runCli("graph --model tiny-llama " + args);
    INFO(args << ": " << r.err);
    REQUIRE(r.exitCode == 0);
    return nlohmann::json::parse(r.out);
  };
  CHECK(graphOf("--context 256")["context"] == 256);
  CHECK(graphOf("--context 010")["context"] == 10);  // decimal, not CLI11's octal 8
  CHECK(graphOf("--mode prefill --prompt-len 256")["tokens"] == 256);
  CHECK(graphOf("--first-layers 2")["name"] == "tiny-llama decode, context 256");  // both layers: the whole model
  CHECK(graphOf("--first-layers 1")["name"] == "tiny-llama decode, context 256, layers 0..0 of 2");
  for (const char* chips : {"1", "100000"}) {  // the one chip the step fits is used
    const CliRun c = runCli(std::string("run --model tiny-llama --context 8 --json --chips ") + chips);
    INFO(chips << ": " << c.err);
    REQUIRE(c.exitCode == 0);
    const auto s = nlohmann::json::parse(c.out);
    CHECK(s["chips"] == 1);
    CHECK(s["system"] == std::string(chips) + "-chips");
  }
  const CliRun g = runCli("run --model tiny-llama --prompt 255 --generate 0 --json");
  INFO(g.err);
  REQUIRE(g.exitCode == 0);
  const auto d = nlohmann::json::parse(g.out);
  CHECK(d["prompt"] == nlohmann::json::array({255}));
  CHECK(d["generated"].empty());
  CHECK(d["steps"].size() == 1);
}
