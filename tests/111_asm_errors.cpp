// Malformed assembly: one error naming file:line:col and what was expected.
#include <catch2/catch.hpp>

#include "isa/assembler.h"
#include "isa/error.h"

using namespace lpu;

namespace {

std::string errorOf(const std::string& text) {
  try {
    assemble(text, "bad.s");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("assembly errors name the file, line and column", "[isa][bad-input]") {
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {".queue VXM.0\n  frob s0e\n", "bad.s:2:3:", "unknown mnemonic 'frob'"},
      {".queue VXM.0\n  add.f32 s0e, s1e\n", "bad.s:2:3:", "takes 3 operands"},
      {".queue VXM.0\n  add.f32 s0e, x1e, s2e\n", "bad.s:2:16:", "expected a stream"},
      {".queue VXM.0\n  add.f32 s0e, s40e, s2e\n", "bad.s:2:16:", "id 0..31"},
      {".queue VXM.0\n  add s0e, s1e, s2e\n", "bad.s:2:3:", "needs 1 element type suffix"},
      {".queue VXM.0\n  exp.i32 s0e, s1e\n", "bad.s:2:3:", "does not take .i32"},
      {".queue MEM.W0\n  add.f32 s0e, s1e, s2e\n", "bad.s:2:3:", "is a VXM instruction; queue MEM.W0 is a MEM queue"},
      {"  nop 3\n", "bad.s:1:3:", "outside a queue"},
      {".frob x\n", "bad.s:1:1:", "unknown directive"},
      {".queue MEM.W0\n  read y[0], s0e\n", "bad.s:2:8:", "unknown tensor 'y'"},
      {".tensor x i8 [2, 8] at W0 0\n.queue MEM.W0\n  read x[5], s0e\n", "bad.s:3:8:", "row 5 is outside tensor x"},
      {".tensor x f32 [1, 8] at W0 0\n.queue MEM.W5\n  read x[0], s0e\n", "bad.s:3:8:", "no byte plane in slice W5"},
      {".queue VXM.0\n.queue VXM.0\n", "bad.s:2:8:", "has a section already"},
      {".tensor x i8 [1, 8] at W0 0\n.tensor x i8 [1, 8] at W0 1\n", "bad.s:2:9:", "declared twice"},
      {".queue VXM.0\n  repeat 3, 1\n", "bad.s:2:3:", "repeat must follow"},
      {".queue VXM.0\n  mov.f32 s0e, s1e\n  repeat 3, 0\n", "bad.s:3:13:", "at least 1 cycle"},
      {".queue VXM.0\n  nop 0\n", "bad.s:2:7:", "nop needs at least 1 cycle"},
      {".queue VXM.0\n  mov.f32 s0e, s1e\n  @0 mov.f32 s0e, s1e\n", "bad.s:3:3:", "already at cycle 1"},
      {".queue VXM.0\n  @later mov.f32 s0e, s1e\n", "bad.s:2:3:", "unknown label 'later'"},
      {".tensor x i8 [1, 4] at W0 0\n.values x 1 2 3\n", "bad.s:", "has 3 values, expected 4"},
      {".tensor x i8 [1, 2] at W0 0\n.values x 1 2.5\n", "bad.s:2:13:", "2.5 is not a i8 value"},
      {".tensor x i8 [1, 2] at W0 0\n.file x \"/nonexistent.bin\"\n", "bad.s:2:9:", "cannot open data file"},
      {".tensor x fp64 [1, 2] at W0 0\n", "bad.s:1:11:", "unknown element type 'fp64'"},
      {".queue NOPE.1\n", "bad.s:1:8:", "invalid queue name"},
  };
  for (const Case& c : cases) {
    const std::string e = errorOf(c.text);
    INFO("input:\n" << c.text << "error: " << e);
    CHECK(e.rfind(c.where, 0) == 0);
    CHECK(e.find(c.what) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);  // one line
  }
}

TEST_CASE("@cycle anchors and labels pad with nops to the named cycle", "[isa]") {
  const Program p = assemble(
      ".queue VXM.0\n  sync\n  first: @4 mov.f32 s0e, s1e\n"
      ".queue VXM.1\n  sync\n  @first+3 mov.f32 s2e, s3e\n",
      "anchors.s");
  const auto a = issueCycles(p.queues[0]), b = issueCycles(p.queues[1]);
  CHECK(p.queues[0].code[1].op == Opcode::NOP);
  CHECK(p.queues[0].code[1].imm == 4);
  CHECK(a.back().cycle == 4);
  CHECK(b.back().cycle == 7);  // first (4) + 3
}
