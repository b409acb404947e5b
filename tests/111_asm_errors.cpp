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
      // Sizes and cycles past the up-front bounds (found by tests/fuzz).
      {".tensor x i8 [4294967295, 8] at W0 0\n", "bad.s:1:14:",
       "tensor x: [4294967295, 8] i8 needs 34359738360 bytes, more than a program may hold (2147483648)"},
      {".tensor x i8 [2, 1] at W0 4294967295\n",
       "bad.s:1:14:", "tensor x: addresses 4294967295..4294967296 pass the last MEM address 4294967295"},
      {".tensor x i8 [1073741824, 1] at W0 0\n.tensor y i8 [1073741824, 1] at W1 0\n.tensor z i8 [1, 1] at W2 0\n",
       "bad.s:3:14:", "tensor z: the program's tensor bytes exceed the limit of 2147483648"},
      {".queue VXM.0\n  @1099511627777 nop 1\n",
       "bad.s:2:3:", "@1099511627777 is cycle 1099511627777, past the last cycle 1099511627776"},
      {".queue VXM.0\n  a: nop 1\n  @a+9223372036854775807 nop 1\n",
       "bad.s:3:3:", "expected @label+N with N in 0..1099511627776"},
      {".queue VXM.0\n  mov.f32 s0e, s1e\n  repeat 16777215, 65535\n  mov.f32 s0e, s1e\n  repeat 16777215, 65535\n",
       "bad.s:5:3:", "queue VXM.0 runs past the last cycle 1099511627776"},
      {".tensor x i8 [1, 2] at W0 0\n.file x \"/dev/zero\"\n", "bad.s:2:9:", "cannot open data file /dev/zero"},
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

TEST_CASE("an @cycle anchor more than 2^32 - 1 cycles ahead pads with several nops", "[isa]") {
  // @4294967300 was cut to 32 bits (cycle 4). One nop waits at most 2^32 - 1
  // cycles: nop 4294967295 then nop 5 reach 4294967300.
  const Program p = assemble(".queue VXM.0\n  @4294967300 mov.f32 s0e, s1e\n", "far.s");
  const auto& code = p.queues[0].code;
  REQUIRE(code.size() == 3);
  CHECK(code[0].imm == 4294967295u);
  CHECK(code[1].imm == 5);
  CHECK(issueCycles(p.queues[0]).back().cycle == 4294967300);
}
