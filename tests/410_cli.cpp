// The lpusim command end to end: the documented workflow, and bad input of
// every kind giving exactly one line "error: ..." on stderr and exit code 1.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "isa/binary.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

namespace {

std::vector<uint8_t> gemvBinary() {
  const std::string bin = tempPath("gemv.bin");
  const CliRun r = runCli("asm " + sourcePath("examples/asm/gemv_int8_teaching.s") + " -o " + bin);
  REQUIRE(r.exitCode == 0);
  return readFileBytes(bin);
}

void writeBytes(const std::string& path, const std::vector<uint8_t>& b) {
  writeFile(path, std::string(b.begin(), b.end()));
}

}  // namespace

TEST_CASE("asm, disasm, asm again gives the same bytes, and sim --json reports the documented keys", "[cli]") {
  const auto bin = gemvBinary();
  const CliRun dis = runCli("disasm " + tempPath("gemv.bin") + " -o " + tempPath("gemv2.s"));
  REQUIRE(dis.exitCode == 0);
  REQUIRE(runCli("asm " + tempPath("gemv2.s") + " -o " + tempPath("gemv2.bin")).exitCode == 0);
  CHECK(readFileBytes(tempPath("gemv2.bin")) == bin);

  const CliRun sim = runCli("sim " + tempPath("gemv.bin") + " --json --trace " + tempPath("t.json"));
  REQUIRE(sim.exitCode == 0);
  const auto j = nlohmann::json::parse(sim.out);
  CHECK(j["cycles"] == 22);  // examples/asm/gemv_int8_teaching.s derives 22
  CHECK(j["clock_hz"] == 1e9);
  CHECK(j["seconds"] == Approx(22e-9));
  CHECK(j["instructions"]["MXM"] == 5);  // lw and its one repetition, iw, abc, acc
  CHECK(j["busy_cycles"]["MEM"] == 13);  // 8 weight reads, x, 4 planes of y
  CHECK(j["outputs"][0]["values"][0] == -942);
  const auto trace = nlohmann::json::parse(readFileBytes(tempPath("t.json")));
  CHECK(trace["traceEvents"].is_array());
  CHECK(trace["traceEvents"].size() > 10);
}

TEST_CASE("chips lists the presets and --show prints a config that loads back", "[cli]") {
  const CliRun list = runCli("chips");
  CHECK(list.exitCode == 0);
  CHECK(list.out.find("groq-tsp-v1") != std::string::npos);
  CHECK(list.out.find("teaching") != std::string::npos);
  const CliRun show = runCli("chips --show teaching");
  REQUIRE(show.exitCode == 0);
  writeFile(tempPath("teaching.json"), show.out);
  const CliRun sim =
      runCli("sim " + sourcePath("examples/asm/vadd_fp32.s") + " --chip " + tempPath("teaching.json") + " --json");
  REQUIRE(sim.exitCode == 0);
  CHECK(nlohmann::json::parse(sim.out)["cycles"] == 13);
}

TEST_CASE("bad input: files that do not exist or are not programs", "[cli][bad-input]") {
  checkBadInput("sim /nonexistent/prog.bin", "/nonexistent/prog.bin: no such file");
  checkBadInput("asm /nonexistent/prog.s -o x.bin", "/nonexistent/prog.s: no such file");
  writeFile(tempPath("text.bin"), "hello, I am not a program");
  checkBadInput("sim " + tempPath("text.bin"), "bad magic");
}

TEST_CASE("bad input: corrupt, truncated and wrong-version binaries", "[cli][bad-input]") {
  auto b = gemvBinary();
  auto flipped = b;
  flipped[flipped.size() / 2] ^= 0x40;
  writeBytes(tempPath("flipped.bin"), flipped);
  checkBadInput("sim " + tempPath("flipped.bin"), "checksum mismatch");
  for (size_t cut : {size_t(4), size_t(12), size_t(30), b.size() / 2, b.size() - 1}) {
    writeBytes(tempPath("cut.bin"), std::vector<uint8_t>(b.begin(), b.begin() + long(cut)));
    checkBadInput("disasm " + tempPath("cut.bin"), tempPath("cut.bin"));
  }
  auto version = b;
  version[8] = 7;  // the version field follows the 8-byte magic
  writeBytes(tempPath("v7.bin"), version);
  checkBadInput("sim " + tempPath("v7.bin"), "format version 7, this lpusim reads version 1");
}

TEST_CASE("bad input: malformed assembly names file:line:col", "[cli][bad-input]") {
  writeFile(tempPath("bad.s"), ".queue VXM.0\n  add.f32 s0e, s1e\n");
  checkBadInput("asm " + tempPath("bad.s") + " -o " + tempPath("bad.bin"), "bad.s:2:3: add.f32 takes 3 operands");
  writeFile(tempPath("bad2.s"), ".queue VXM.0\n  frobnicate s0e\n");
  checkBadInput("sim " + tempPath("bad2.s"), "bad2.s:2:3: unknown mnemonic 'frobnicate'");
}

TEST_CASE("bad input: unknown chip presets and invalid chip configs name the field", "[cli][bad-input]") {
  const std::string prog = sourcePath("examples/asm/vadd_fp32.s");
  checkBadInput("sim " + prog + " --chip nosuch", "unknown chip preset 'nosuch'");
  writeFile(tempPath("broken.json"), "{\"superlanes\": 2,");
  checkBadInput("sim " + prog + " --chip " + tempPath("broken.json"), "invalid JSON");
  writeFile(tempPath("zero.json"), "{\"base\": \"teaching\", \"superlanes\": 0}");
  checkBadInput("sim " + prog + " --chip " + tempPath("zero.json"), "field superlanes: 0 is out of range");
  writeFile(tempPath("typo.json"), "{\"base\": \"teaching\", \"superlane\": 2}");
  checkBadInput("sim " + prog + " --chip " + tempPath("typo.json"), "field superlane: unknown field");
  writeFile(tempPath("type.json"), "{\"base\": \"teaching\", \"latency\": {\"mem_read\": \"fast\"}}");
  checkBadInput("sim " + prog + " --chip " + tempPath("type.json"), "field latency.mem_read: expected an integer");
  // A program for the teaching chip names queues groq-tsp-v1 has, but not the other way round.
  checkBadInput("sim " + sourcePath("examples/asm/gemv_int8.s") + " --chip teaching",
                "tensor W: 320 columns exceed the vector length 8 of chip teaching");
}

TEST_CASE("bad input: unknown subcommands and options exit 1", "[cli][bad-input]") {
  const CliRun r = runCli("frobnicate");
  CHECK(r.exitCode == 1);
  CHECK_FALSE(r.err.empty());
  const CliRun o = runCli("sim --no-such-option x.bin");
  CHECK(o.exitCode == 1);
  CHECK_FALSE(o.err.empty());
}

TEST_CASE("isa/README.md embeds exactly what lpusim isa generates, and its example assembles", "[cli][docs]") {
  const auto doc = readFileBytes(sourcePath("isa/README.md"));
  const std::string text(doc.begin(), doc.end());
  const std::string begin = "<!-- generated by `lpusim isa`: begin -->\n",
                    end = "<!-- generated by `lpusim isa`: end -->";
  const size_t b = text.find(begin), e = text.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const CliRun isa = runCli("isa");
  REQUIRE(isa.exitCode == 0);
  CHECK(text.substr(b + begin.size(), e - b - begin.size()) == isa.out);  // regenerate the block if this fails
  const size_t s = text.find("```\n; a comment");
  REQUIRE(s != std::string::npos);
  writeFile(tempPath("syntax.s"), text.substr(s + 4, text.find("```", s + 4) - s - 4));
  const CliRun r = runCli("asm " + tempPath("syntax.s") + " -o " + tempPath("syntax.bin"));
  INFO(r.err);
  CHECK(r.exitCode == 0);
}

TEST_CASE("sim/README.md embeds exactly what lpusim chips --fields prints", "[cli][docs]") {
  checkEmbedsOutput("sim/README.md", "chips --fields");
}
