// Every timing check of the simulator, each triggered by a small program on
// the teaching chip. Positions: MXM.W 0, SXM.W 1, MEM.W3..W0 2..5, VXM 6,
// MEM.E0..E3 7..10, SXM.E 11, MXM.E 12. Latencies: mem_read 2, mem_write 2,
// vxm_alu 1, mxm_load 1, mxm_install 1, mxm_pass 4, c2c send 1 + 8 cycles on
// the wire per vector + link 10. No barrier: queues start at cycle 0.
#include <catch2/catch.hpp>

#include "isa/assembler.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;
using Catch::Contains;

namespace {

const char* kRead = ".tensor x i8 [4, 8] at W0 0\n.queue MEM.W0\n  read x[0], s0e\n";  // s0e at VXM in cycle 3

}  // namespace

TEST_CASE("a read before the value arrives stops with 'too early'", "[sim][check]") {
  // W0 (pos 5) reads at 0: on s0e at pos 5 in cycle 0 + 2, at the VXM (pos 6) in cycle 3.
  REQUIRE_THROWS_WITH(runAsm(std::string(kRead) + ".queue VXM.0\n  nop 2\n  mov.i8 s1w, s0e\n", "teaching"),
                      Contains("cycle 2, VXM.0, mov.i8 s1w, s0e: reads s0e at VXM in cycle 2") &&
                          Contains("passes here in cycle 3 (read 1 cycle too early"));
}

TEST_CASE("a read after the value passed stops with 'too late'", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(std::string(kRead) + ".queue VXM.0\n  nop 5\n  mov.i8 s1w, s0e\n", "teaching"),
                      Contains("cycle 5, VXM.0") && Contains("passed 2 cycles ago: read too late"));
}

TEST_CASE("a read of a stream nothing was written to names the stream", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(std::string(kRead) + ".queue VXM.0\n  nop 3\n  mov.i8 s1w, s1e\n", "teaching"),
                      Contains("cycle 3, VXM.0") && Contains("no value on s1e reaches VXM"));
}

TEST_CASE("two producers on one stream slot in one cycle", "[sim][check]") {
  // Both VXM queues read x at 3 and write s1w at VXM in cycle 3 + 1.
  REQUIRE_THROWS_WITH(runAsm(std::string(kRead) + ".queue VXM.0\n  @3 mov.i8 s1w, s0e\n"
                                                  ".queue VXM.1\n  @3 mov.i8 s1w, s0e\n",
                             "teaching"),
                      Contains("two producers write s1w at VXM in cycle 4"));
}

TEST_CASE("a value that is never read is a wasted operation", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(kRead, "teaching"), Contains("cycle 0, MEM.W0, read x[0], s0e: its value on s0e") &&
                                                     Contains("never read") && Contains("left the chip"));
}

TEST_CASE("a value replaced downstream before anyone read it", "[sim][check]") {
  // W1 (pos 4) reads at 0: s0e at pos 4 in cycle 2. W0 (pos 5) reads at 1: s0e at pos 5 in
  // cycle 3, the same slot (2 - 4 = 3 - 5), replacing W1's value from pos 5 on. The VXM copies
  // W0's value at 4 onto s1w (at pos 6 in cycle 5) and W2 (pos 3) writes it in cycle 8.
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [2, 8] at W0 0 spread 2\n.tensor y i8 [1, 8] at W2 0\n"
                             ".queue MEM.W1\n  read x[1], s0e\n.queue MEM.W0\n  @1 read x[0], s0e\n"
                             ".queue VXM.0\n  @4 mov.i8 s1w, s0e\n.queue MEM.W2\n  @8 write y[0], s1w\n",
                             "teaching"),
                      Contains("MEM.W1, read x[1], s0e: its value on s0e") && Contains("replaced at MEM.W0"));
}

TEST_CASE("a MEM bank takes one access per cycle", "[sim][check]") {
  // W1 reads at 0 -> s0e at W0 (pos 5) in cycle 3; W0 writes it at 3 (bank 0 commit at 3 + 2 = 5),
  // and reads address 2 (bank 0) at 5.
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [4, 8] at W0 0\n.tensor y i8 [1, 8] at W1 0\n"
                             ".queue MEM.W1\n  read y[0], s0e\n"
                             ".queue MEM.W0\n  @3 write x[0], s0e\n  @5 read x[2], s1e\n",
                             "teaching"),
                      Contains("cycle 5, MEM.W0, read x[2], s1e: bank 0 of slice W0 takes 1 access per cycle") &&
                          Contains("collides with cycle 3, MEM.W0, write x[0], s0e"));
}

TEST_CASE("a read of a word whose write has not committed", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [4, 8] at W0 0\n.tensor y i8 [1, 8] at W1 0\n"
                             ".queue MEM.W1\n  read y[0], s0e\n"
                             ".queue MEM.W0\n  @3 write x[0], s0e\n  @4 read x[0], s1e\n",
                             "teaching"),
                      Contains("cycle 4, MEM.W0, read x[0], s1e: reads slice W0 address 0 in cycle 4") &&
                          Contains("commits in cycle 5"));
}

TEST_CASE("an address outside the slice", "[sim][check]") {
  // teaching: 2 banks x 64 words = 128 words per slice.
  REQUIRE_THROWS_WITH(runAsm(".queue MEM.W0\n  read 9999, s0e\n", "teaching"),
                      Contains("cycle 0, MEM.W0, read 9999, s0e: address 9999 is outside slice W0 (0..127)"));
}

TEST_CASE("the MXM used before weights are installed", "[sim][check]") {
  // W3 (pos 2) reads at 0: s0w at MXM.W (pos 0) in cycle 2 + 2 = 4.
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [1, 8] at W3 0\n.queue MEM.W3\n  read x[0], s0w\n"
                             ".queue MXM.W0.1\n  @4 abc.i8 s0w, 0\n",
                             "teaching"),
                      Contains("cycle 4, MXM.W0.1, abc.i8 s0w, 0: MXM.W0 has no weights installed"));
}

TEST_CASE("installing weight rows that were never loaded", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(".queue MXM.W0.0\n  iw 4\n", "teaching"),
                      Contains("cycle 0, MXM.W0.0, iw 4: installs 4 rows into MXM.W0 but row 0 was not loaded"));
}

namespace {

// Rows 0..3 from W0..W3 reach MXM.W together in cycle 7 (read at i, 2 + (5 - i) hops);
// lw at 7, iw at 8, the array ready at 9; x from E0 (pos 7), read at 0, is there at 9.
const char* kLoaded =
    ".tensor w i8 [4, 8] at W0 0 spread 4\n.tensor x i8 [1, 8] at E0 0\n"
    ".queue MEM.W0\n  @0 read w[0], s0w\n.queue MEM.W1\n  @1 read w[1], s1w\n"
    ".queue MEM.W2\n  @2 read w[2], s2w\n.queue MEM.W3\n  @3 read w[3], s3w\n"
    ".queue MEM.E0\n  @0 read x[0], s4w\n"
    ".queue MXM.W0.0\n  @7 lw.i8 s0w, 4, 0\n  iw 4\n.queue MXM.W0.1\n  @9 abc.i8 s4w, 0\n";

}  // namespace

TEST_CASE("draining an accumulator before its pass completes", "[sim][check]") {
  // abc at 9 completes at 9 + mxm_pass 4 = 13.
  REQUIRE_THROWS_WITH(runAsm(std::string(kLoaded) + ".queue MXM.W0.2\n  @10 acc.i32 s0e, 0\n", "teaching"),
                      Contains("cycle 10, MXM.W0.2, acc.i32 s0e, 0: drains accumulator 0 of MXM.W0 in cycle 10") &&
                          Contains("completes in cycle 13"));
}

TEST_CASE("an MXM pass into an accumulator that still holds a result", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(std::string(kLoaded) + ".tensor z i8 [1, 8] at E1 0\n.queue MEM.E1\n  @0 read z[0], s5w\n"
                                                    ".queue MXM.W0.2\n  @10 abc.i8 s5w, 0\n",
                             "teaching"),
                      Contains("cycle 10, MXM.W0.2, abc.i8 s5w, 0: sets accumulator 0 of MXM.W0, which still holds"));
}

TEST_CASE("a C2C send on a link that was never deskewed", "[sim][check]") {
  // W3 (pos 2) reads at 0: s0w at C2C.0 (west SXM, pos 1) in cycle 3.
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [1, 8] at W3 0\n.queue MEM.W3\n  read x[0], s0w\n"
                             ".queue C2C.0\n  @3 send 0, s0w\n",
                             "teaching"),
                      Contains("cycle 3, C2C.0, send 0, s0w: send on link 0, which was never deskewed"));
}

TEST_CASE("a C2C receive before the vector arrives", "[sim][check]") {
  // deskew at 0 (aligned at 4); send at 5 arrives at 5 + 1 + 8 + 10 = 24.
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [1, 8] at W3 0\n.queue MEM.W3\n  @2 read x[0], s0w\n"
                             ".queue C2C.0\n  deskew 0\n  @5 send 0, s0w\n  @20 recv s1e, 0\n",
                             "teaching"),
                      Contains("cycle 20, C2C.0, recv s1e, 0: receives on link 0 in cycle 20") &&
                          Contains("next vector arrives in cycle 24"));
}

TEST_CASE("two sends closer than a vector's time on the wire", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(".tensor x i8 [2, 8] at W3 0\n.queue MEM.W3\n  @2 read x[0], s0w\n  @4 read x[1], s0w\n"
                             ".queue C2C.0\n  deskew 0\n  @5 send 0, s0w\n  @7 send 0, s0w\n",
                             "teaching"),
                      Contains("cycle 7, C2C.0, send 0, s0w: link 0 still carries the vector sent in cycle 5"));
}

TEST_CASE("a second notify", "[sim][check]") {
  REQUIRE_THROWS_WITH(runAsm(".queue VXM.0\n  notify\n  sync\n.queue VXM.1\n  notify\n  sync\n", "teaching"),
                      Contains("a second notify"));
}

namespace {

// z from E2 (pos 9, read at 0) and x from E0 (pos 7, read at 2) ride the same
// slot of s4w: k = avail + pos = 0 + 2 + 9 = 2 + 2 + 7 = 11. E1 (pos 8) takes
// z at 11 - 8 = 3; x replaces z from pos 7 on, and W0 (pos 5) takes x at
// 11 - 5 = 6. Queues in order 0..3; each instruction after its nop is code[1].
const char* kSameSlot =
    ".tensor x i8 [1, 8] at E0 0\n.tensor z i8 [1, 8] at E2 0\n.tensor w i8 [1, 8] at E1 0\n"
    ".tensor y i8 [1, 8] at W0 0\n.values x 1 2 3 4 5 6 7 8\n.values z 9 9 9 9 9 9 9 9\n.output y\n"
    ".queue MEM.E2\n  read z[0], s4w\n.queue MEM.E1\n  @3 write w[0], s4w\n"
    ".queue MEM.E0\n  @2 read x[0], s4w\n.queue MEM.W0\n  @6 write y[0], s4w\n";

Program sameSlot(bool dropX) {
  Program p = assemble(kSameSlot, "same-slot.s");
  const StreamRef s4w{4, false};
  std::vector<StreamSource> sources{{IssueRef{0, 0, 0}, kWordRead, kInitialContents},  // z and x: the data section's
                                    {IssueRef{1, 1, 0}, s4w, IssueRef{0, 0, 0}},
                                    {IssueRef{2, 1, 0}, kWordRead, kInitialContents},
                                    {IssueRef{3, 1, 0}, s4w, IssueRef{2, 1, 0}}};
  if (dropX) {  // E0's read of x is gone: W0 now takes z, and every other check passes
    p.queues[2].code.clear();
    sources.erase(sources.begin() + 2);
  }
  p.sources = std::move(sources);
  return p;
}

SimResult runProgram(const Program& p, bool checkSources) {
  RunRequest req;
  req.options.checkSources = checkSources;
  return simulate(p, loadChip("teaching"), "same-slot.s", req);
}

}  // namespace

TEST_CASE("the producer check verifies the writer of each stated read", "[sim][check]") {
  const SimResult r = runProgram(sameSlot(false), true);
  CHECK(values(output(r, "y")) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(r.sources.checked == 2);        // E1's and W0's reads of s4w, one plane each
  CHECK(r.sources.words_checked == 2);  // E2's and E0's reads of z and x
  CHECK(r.sources.unstated == 0);
}

TEST_CASE("a dropped producer whose reader takes another value passing by", "[sim][check]") {
  // Without the producer check the program runs and y silently gets z.
  const SimResult r = runProgram(sameSlot(true), false);
  CHECK(values(output(r, "y")) == std::vector<double>(8, 9));
  REQUIRE_THROWS_WITH(
      runProgram(sameSlot(true), true),
      Contains("cycle 6, MEM.W0, write y[0], s4w: reads s4w at MEM.W0 in cycle 6 the value of cycle 0, "
               "MEM.E2, read z[0], s4w, but its producer is MEM.E0#1, which the program does not have"));
}

TEST_CASE("a dropped MEM write leaves its reader the word's older value", "[sim][check]") {
  // z from E2 (pos 9, read at 0) on s4w, k = 0 + 2 + 9 = 11: E1 (pos 8) writes it to w at 11 - 8 = 3 and E0
  // (pos 7) over x at 11 - 7 = 4, committing at 6. E0 reads x at 8 onto s5w (k = 8 + 2 + 7 = 17) and W0
  // (pos 5) writes it to y at 17 - 5 = 12.
  const char* text =
      ".tensor x i8 [1, 8] at E0 0\n.tensor z i8 [1, 8] at E2 0\n.tensor w i8 [1, 8] at E1 0\n"
      ".tensor y i8 [1, 8] at W0 0\n.values x 1 2 3 4 5 6 7 8\n.values z 9 9 9 9 9 9 9 9\n.output y\n"
      ".queue MEM.E2\n  read z[0], s4w\n.queue MEM.E1\n  @3 write w[0], s4w\n"
      ".queue MEM.E0\n  @4 write x[0], s4w\n  @8 read x[0], s5w\n.queue MEM.W0\n  @12 write y[0], s5w\n";
  Program p = assemble(text, "word.s");
  // Queues 0..3; E0's code: nop 4, write (1), nop 3, read (3).
  const StreamRef s4w{4, false}, s5w{5, false};
  p.sources = {{IssueRef{0, 0, 0}, kWordRead, kInitialContents},
               {IssueRef{1, 1, 0}, s4w, IssueRef{0, 0, 0}},
               {IssueRef{2, 1, 0}, s4w, IssueRef{0, 0, 0}},
               {IssueRef{2, 3, 0}, kWordRead, IssueRef{2, 1, 0}},
               {IssueRef{3, 1, 0}, s5w, IssueRef{2, 3, 0}}};
  const SimResult r = runProgram(p, true);
  CHECK(values(output(r, "y")) == std::vector<double>(8, 9));
  CHECK(r.sources.checked == 3);        // s4w at E1 and E0, s5w at W0
  CHECK(r.sources.words_checked == 2);  // E2's z, E0's x
  Instr nop;  // E0's write dropped (a one-cycle nop keeps the read's cycle): z is still read, by E1
  nop.op = Opcode::NOP;
  nop.imm = 1;
  p.queues[2].code[1] = nop;
  CHECK(values(output(runProgram(p, false), "y")) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});  // silently
  REQUIRE_THROWS_WITH(runProgram(p, true),
                      Contains("cycle 8, MEM.E0, read x[0], s5w: reads address 0 holding the value of the data "
                               "section, but its producer is MEM.E0#1 (nop 1)"));
}
