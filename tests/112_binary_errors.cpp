// Corrupt binary programs, oversized programs and JSON numbers out of range: a one-line error before
// anything is allocated, never a crash (inputs found by tests/fuzz).
#include <catch2/catch.hpp>

#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/error.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

std::vector<uint8_t> header(uint64_t bodyLength) {
  std::vector<uint8_t> b = {'L', 'P', 'U', 'P', 'R', 'O', 'G', 0, 1, 0, 0, 0};  // magic, version 1
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(bodyLength >> (8 * i)));
  return b;
}

std::string errorOf(const std::vector<uint8_t>& bytes) {
  try {
    deserialize(bytes, "bad.bin");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string writeBytes(const std::string& name, const std::vector<uint8_t>& b) {
  const std::string p = tempPath(name);
  writeFile(p, std::string(b.begin(), b.end()));
  return p;
}

}  // namespace

TEST_CASE("bad input: a binary whose body length wraps len + 8 is an error, not a segfault", "[isa][bad-input]") {
  // Body length 2^64 - 8: len + 8 wraps to 0, the 0 bytes that follow the header.
  const std::vector<uint8_t> b = header(~uint64_t(0) - 7);
  const std::string e = errorOf(b);
  CHECK(e == "bad.bin: truncated or padded: body length 18446744073709551608 but 0 bytes follow the header");
  const std::string p = writeBytes("wrap.bin", b);
  checkBadInput("sim " + p, "truncated or padded: body length 18446744073709551608");
  checkBadInput("disasm " + p, "truncated or padded: body length 18446744073709551608");
}

TEST_CASE("bad input: a binary tensor past the 32-bit address space or over 2 GiB", "[isa][bad-input]") {
  auto tensorFile = [](uint32_t rows, uint32_t cols, uint32_t addr) {
    Program p;
    Tensor t;
    t.name = "x";
    t.rows = rows, t.cols = cols, t.addr = addr;
    p.tensors.push_back(t);
    return serialize(p);
  };
  // 2 rows at address 2^32 - 1: the second row's address is 2^32.
  CHECK(errorOf(tensorFile(2, 1, 0xffffffff)) ==
        "bad.bin: tensor x: addresses 4294967295..4294967296 pass the last MEM address 4294967295");
  // Spread 2^32 - 1: the disassembler looped 2^32 times per address (a fuzz timeout).
  Program wide;
  Tensor t;
  t.name = "x", t.spread = 0xffffffff;
  wide.tensors.push_back(t);
  CHECK(errorOf(serialize(wide)) ==
        "bad.bin: corrupt: tensor x with spread 4294967295 would need slice index 4294967294");
  // 2^31 rows of 2 int8 columns: 4 GiB > 2 GiB.
  CHECK(errorOf(tensorFile(1u << 31, 2, 0)) ==
        "bad.bin: tensor x: [2147483648, 2] i8 needs 4294967296 bytes, more than a program may hold (2147483648)");
}

TEST_CASE("bad input: a binary whose repeats expand past the issue limit", "[isa][bad-input]") {
  Program p;
  Queue q{*parseQueueId("VXM.0"), {}};
  Instr mov;
  mov.op = Opcode::MOV;
  Instr rep;
  rep.op = Opcode::REPEAT;
  rep.n = (1u << 24) - 1, rep.d = 1;
  q.code.push_back(mov);
  for (int i = 0; i < 5; ++i) q.code.push_back(rep);  // 1 + 5 x (2^24 - 1) > 2^26
  p.queues.push_back(q);
  CHECK(errorOf(serialize(p)) == "bad.bin: the instructions issued (repeats expanded) exceed the limit of 67108864");
}

TEST_CASE("bad input: a JSON number out of range is a one-line error in every JSON loader", "[bad-input]") {
  // nlohmann throws out_of_range (not parse_error) for 1e999: it escaped as "error: internal:".
  const std::string p = tempPath("huge-number.json");
  writeFile(p, "{\"a\": 1e999}\n");
  checkBadInput("run --graph " + p, "invalid JSON: a number out of range: expected an lpusim graph");
  checkBadInput("models --config " + p, "not valid JSON (a number out of range)");
  checkBadInput("chips --show " + p, "invalid JSON: a number out of range: expected a chip config object");
  checkBadInput("systems --show " + p, "invalid JSON: a number out of range: expected a system config object");
}
