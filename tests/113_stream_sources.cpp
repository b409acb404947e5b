// Stream sources (the producer check's input): `!from` annotations in
// assembly, the SRCS section of a binary, and the disassembler writing them
// back so that asm -> disasm -> asm gives the same bytes.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compiler/compile.h"
#include "isa/assembler.h"
#include "isa/binary.h"
#include "isa/error.h"
#include "models/graph.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

// MEM.W0 issues read 0, s0e at cycle 0 and its two repetitions at 1 and 2,
// then (after nop 3) write 0, s1e at 6. Indexes: sync 0, read 1, repeat 2,
// nop 3, write 4.
const std::string kMem =
    ".queue MEM.W0\n"
    "  sync\n"
    "  r: read 0, s0e\n"
    "  repeat 2, 1, 1\n"
    "  n: nop 3\n"
    "  w: write 0, s1e\n";

// VXM.0 moves each of the three reads: mov at 5, its repetitions at 6 and 7,
// each naming its producer in another form (cycle, index, label).
const std::string kGood = kMem +
                          ".queue VXM.0\n"
                          "  sync\n"
                          "  @5 mov.i8 s4w, s0e !from s0e=MEM.W0@0\n"
                          "  repeat 2, 1 !from.1 s0e=MEM.W0#1.1 !from.2 s0e=r.2\n";

// MEM.W0 reads address 0 from the data section at 0, writes it at 1
// (committed at 3), reads it back at 4 and again at 5 (a repeat, stride 0).
// Indexes: sync 0, read 1, write 2, nop 3, read 4, repeat 5.
const std::string kWord =
    ".queue MEM.W0\n"
    "  sync\n"
    "  r: read 0, s0e !from word=data\n"
    "  w: write 0, s1e\n"
    "  @4 read 0, s2e !from word=MEM.W0@1\n"
    "  repeat 1, 1, 0 !from.1 word=w\n";

std::string asmError(const std::string& text) {
  try {
    assemble(text, "bad.s");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string binError(const std::vector<uint8_t>& bytes) {
  try {
    deserialize(bytes, "bad.bin");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The same file with its body length and checksum made to match its body
// (magic 8 | version 4 | body length 8 | body | FNV-1a-64 8).
std::vector<uint8_t> reframed(std::vector<uint8_t> b) {
  const size_t body = b.size() - 28;
  for (int i = 0; i < 8; ++i) b[12 + size_t(i)] = uint8_t(uint64_t(body) >> (8 * i));
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 20; i < 20 + body; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  for (int i = 0; i < 8; ++i) b[20 + body + size_t(i)] = uint8_t(h >> (8 * i));
  return b;
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}

IssueRef ref(int32_t queue, uint32_t index, uint32_t rep = 0) {
  IssueRef r;
  r.queue = queue, r.index = index, r.rep = rep;
  return r;
}

}  // namespace

TEST_CASE("!from annotations name the producer of each read", "[isa][sources]") {
  const Program p = assemble(kGood, "good.s");
  // VXM.0: sync 0, nop 5 (the @5) 1, mov 2, repeat 3. All three name the
  // read (MEM.W0#1) and its repetitions, sorted by reader.
  REQUIRE(p.sources.size() == 3);
  for (uint32_t k = 0; k < 3; ++k) {
    INFO("repetition " << k);
    CHECK(p.sources[k].reader == ref(1, 2, k));
    CHECK(p.sources[k].stream == StreamRef{0, true});
    CHECK(p.sources[k].writer == ref(0, 1, k));
  }
}

TEST_CASE("a producer in a later queue, named by cycle, label or label.K", "[isa][sources]") {
  // The references resolve at the end of the file: MEM.E0 comes after its reader.
  const Program p = assemble(
      ".queue VXM.0\n"
      "  @4 add.i32 s8w, s0e, s4w !from s0e=MEM.W0@1 !from s1e=lab !from s4w=MEM.E0@2\n"
      "  repeat 1, 1 !from.1 s1e=lab.1\n"
      ".queue MEM.W0\n"
      "  @1 read 0, s0e\n"
      "  lab: read 0, s1e\n"  // @2
      "  repeat 1, 1, 0\n"    // @3: s1e again
      ".queue MEM.E0\n"
      "  @2 read 0, s4w\n",
      "later.s");
  // VXM.0 (queue 0): nop 4 #0, add #1, repeat #2; MEM.W0 (1): nop #0, read
  // #1, read #2, repeat #3; MEM.E0 (2): nop #0, read #1. Sorted by reader,
  // then stream (west before east).
  REQUIRE(p.sources.size() == 4);
  CHECK(p.sources[0].reader == ref(0, 1));
  CHECK(p.sources[0].stream == StreamRef{4, false});
  CHECK(p.sources[0].writer == ref(2, 1));
  CHECK(p.sources[1].stream == StreamRef{0, true});
  CHECK(p.sources[1].writer == ref(1, 1));
  CHECK(p.sources[2].stream == StreamRef{1, true});
  CHECK(p.sources[2].writer == ref(1, 2));
  CHECK(p.sources[3].reader == ref(0, 1, 1));
  CHECK(p.sources[3].stream == StreamRef{1, true});
  CHECK(p.sources[3].writer == ref(1, 2, 1));
}

TEST_CASE("asm -> disasm -> asm gives the same bytes for a program with sources", "[isa][sources]") {
  SECTION("repetitions read repetitions") {
    const Program p = assemble(kGood, "good.s");
    const std::string text = disassemble(p);
    INFO(text);
    // Repetitions are stated on the repeat's line, producers by their cycle.
    CHECK(text.find("mov.i8 s4w, s0e !from s0e=MEM.W0@0") != std::string::npos);
    CHECK(text.find("repeat 2, 1, 0 !from.1 s0e=MEM.W0@1 !from.2 s0e=MEM.W0@2") != std::string::npos);
    CHECK(serialize(assemble(text, "back.s")) == serialize(p));
  }
  SECTION("examples/asm/gemv_int8_teaching.s: every read names its producer") {
    const Program p = assembleFile(sourcePath("examples/asm/gemv_int8_teaching.s"));
    // lw 4 + its repetition 4 + abc 1 + 4 writes of y's planes; then the
    // words of the 4 reads of W, their repetitions and the read of x.
    REQUIRE(p.sources.size() == 22);
    size_t words = 0;
    for (const StreamSource& s : p.sources) words += s.stream == kWordRead && s.writer == kInitialContents;
    CHECK(words == 9);
    // The first, by reader: the lw (MXM.W0.0#3 after notify, sync, nop 7)
    // reads s0w from MEM.W0's read (#1 after sync, and no nop for @0).
    CHECK(formatIssueRef(p, p.sources[0].reader) == "MXM.W0.0#3");
    CHECK(p.sources[0].stream == StreamRef{0, false});
    CHECK(formatIssueRef(p, p.sources[0].writer) == "MEM.W0#1");
    CHECK(formatIssueRef(p, p.sources[4].reader) == "MXM.W0.0#3.1");
    CHECK(formatIssueRef(p, p.sources[4].writer) == "MEM.W0#1.1");
    const Program back = assemble(disassemble(p), "back.s");
    CHECK(serialize(back) == serialize(p));
    CHECK(serialize(deserialize(serialize(p), "gemv.bin")) == serialize(p));
  }
  SECTION("producers @cycle cannot name: before the barrier, in a queue with two syncs") {
    const Program p = assemble(
        ".queue MEM.W0\n"
        "  pre: read 0, s0e\n"  // before the sync: @cycles count from the barrier
        "  sync\n"
        "  read 0, s1e\n"  // @0
        ".queue MEM.W1\n"
        "  sync\n"
        "  read 0, s2e\n"  // @0, as is
        "  sync\n"
        "  again: read 0, s3e\n"
        ".queue VXM.0\n"
        "  sync\n"
        "  @3 add.i32 s8w, s0e, s8e !from s0e=pre !from s1e=MEM.W0#2 !from s2e=MEM.W1#1 !from s3e=again\n",
        "odd.s");
    const std::string text = disassemble(p);
    INFO(text);
    CHECK(text.find("!from s0e=MEM.W0#0 !from s1e=MEM.W0@0 !from s2e=MEM.W1#1 !from s3e=MEM.W1#3") !=
          std::string::npos);
    CHECK(serialize(assemble(text, "back.s")) == serialize(p));
  }
}

TEST_CASE("!from word= names the write or the data section a read's MEM word holds", "[isa][sources]") {
  const Program p = assemble(kWord, "word.s");
  REQUIRE(p.sources.size() == 3);
  CHECK(p.sources[0].reader == ref(0, 1));
  CHECK(p.sources[0].stream == kWordRead);
  CHECK(p.sources[0].writer == kInitialContents);
  CHECK(p.sources[1].reader == ref(0, 4));
  CHECK(p.sources[1].writer == ref(0, 2));
  CHECK(p.sources[2].reader == ref(0, 4, 1));
  CHECK(p.sources[2].stream == kWordRead);
  CHECK(p.sources[2].writer == ref(0, 2));
  const std::string text = disassemble(p);
  INFO(text);
  CHECK(text.find("read 0, s0e !from word=data") != std::string::npos);
  CHECK(text.find("read 0, s2e !from word=MEM.W0@1") != std::string::npos);
  CHECK(text.find("repeat 1, 1, 0 !from.1 word=MEM.W0@1") != std::string::npos);
  CHECK(serialize(assemble(text, "back.s")) == serialize(p));
  // In the binary: stream byte 0xff, the data section as writer queue 0xffffffff.
  const std::vector<uint8_t> b = serialize(p);
  const size_t entry = b.size() - 8 - 3 * 25;
  CHECK(b[entry + 12] == 0xff);
  CHECK(std::all_of(b.begin() + long(entry + 13), b.begin() + long(entry + 17), [](uint8_t x) { return x == 0xff; }));
  CHECK(std::all_of(b.begin() + long(entry + 17), b.begin() + long(entry + 25), [](uint8_t x) { return x == 0; }));
  CHECK(b[entry + 25 + 12] == 0xff);
  const Program back = deserialize(b, "word.bin");
  REQUIRE(back.sources.size() == 3);
  CHECK(back.sources[0].writer == kInitialContents);
  CHECK(back.sources[2].reader == ref(0, 4, 1));
  CHECK(serialize(back) == b);
  // A label named data is a stream's producer as before.
  const Program lab =
      assemble(".queue MEM.W0\n  data: read 0, s0e\n.queue VXM.0\n  @3 mov.i8 s4w, s0e !from s0e=data\n", "label.s");
  REQUIRE(lab.sources.size() == 1);
  CHECK(lab.sources[0].writer == ref(0, 0));
}

TEST_CASE("the !from example of isa/README.md assembles", "[isa][sources][docs]") {
  const auto doc = readFileBytes(sourcePath("isa/README.md"));
  const std::string text(doc.begin(), doc.end());
  const size_t s = text.find("  ```\n  .queue VXM.0\n");
  REQUIRE(s != std::string::npos);
  const std::string block = text.substr(s + 6, text.find("  ```", s + 6) - s - 6);
  const Program p = assemble(block, "README.md");
  REQUIRE(p.sources.size() == 3);
  CHECK(formatIssueRef(p, p.sources[2].reader) == "VXM.0#1.1");
  CHECK(formatIssueRef(p, p.sources[2].writer) == "MEM.W0#1.1");
  const size_t w = text.find("  ```\n  .queue MEM.W0\n");
  REQUIRE(w != std::string::npos);
  const Program words = assemble(text.substr(w + 6, text.find("  ```", w + 6) - w - 6), "README.md");
  REQUIRE(words.sources.size() == 2);
  CHECK(words.sources[0].writer == kInitialContents);
  CHECK(formatIssueRef(words, words.sources[1].writer) == "MEM.W0#2");  // read #0, nop 2 #1
}

TEST_CASE("bad input: !from word= on what has no word, or naming what did not write it", "[isa][sources][bad-input]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {".queue MEM.W0\n  read 0, s0e\n  write 0, s1e !from word=data\n",
       "bad.s:3:22: !from word= names the producer of the MEM word a read takes: write 0, s1e is not a read (a "
       "gather reads words per lane and is not checked)"},
      {".queue MEM.W0\n  read 0, s0e\n.queue VXM.0\n  @3 mov.i8 s4w, s0e !from word=data\n",
       "bad.s:4:28: !from word= names the producer of the MEM word a read takes: mov.i8 s4w, s0e is not a read (a "
       "gather reads words per lane and is not checked)"},
      {".queue MEM.W0\n  read 0, s0e\n.queue VXM.0\n  @3 mov.i8 s4w, s0e !from s0e=data\n",
       "bad.s:4:32: data (the data section) writes no stream: it is a producer only of a read's word (!from "
       "word=data)"},
      {".queue MEM.W0\n  r: read 0, s0e\n  @3 read 0, s1e !from word=r\n",
       "bad.s:3:29: r: MEM.W0#0 is read 0, s0e, not a write to slice W0 (the producer of a word is a write to its "
       "slice or data)"},
      {".queue MEM.E0\n  e: write 0, s0w\n.queue MEM.W0\n  @3 read 0, s1e !from word=e\n",
       "bad.s:4:29: e: MEM.E0#0 is write 0, s0w, not a write to slice W0 (the producer of a word is a write to its "
       "slice or data)"},
      {".queue MEM.W0\n  w: write 1, s0e\n  @3 read 0, s1e !from word=w\n",
       "bad.s:3:29: w: MEM.W0#0 writes address 1, not address 0 that MEM.W0#2 reads"},
      {".queue MEM.W0\n  w: write 0, s0e\n  @3 read 0, s1e\n  repeat 1, 1, 1 !from.1 word=w\n",
       "bad.s:4:31: w: MEM.W0#0 writes address 0, not address 1 that MEM.W0#2.1 reads"},
      {".queue MEM.W0\n  data: write 0, s0e\n  @3 read 0, s1e !from word=data\n",
       "bad.s:3:29: 'data' is both a label and the data section here: rename the label"},
      {".queue MEM.W0\n  w: write 0, s0e\n  @3 read 0, s1e !from word=data !from word=w\n",
       "bad.s:3:40: two producers for one read: word of this issue has one already (line 3)"},
      {".queue MEM.W0\n  read 0, s1e !from wrd=data\n",
       "bad.s:2:21: expected a stream like s5e or s5w, or word (a read's MEM word), before '=', got 'wrd'"},
      {".queue MEM.W0\n  read 0, s1e !from word=MEM.W0@7\n",
       "bad.s:2:26: no issue of MEM.W0 at cycle 7 (its last issue is at cycle 0)"},
  };
  for (const Case& c : cases) {
    INFO("input:\n" << c.text);
    CHECK(asmError(c.text) == c.error);
  }
  const std::string path = tempPath("bad-word.s");
  writeFile(path, cases[0].text);
  checkBadInput("asm " + path + " -o " + tempPath("bad-word.bin"), "3:22: !from word= names the producer");
}

TEST_CASE("bad input: !from annotations name the file, line and column", "[isa][sources][bad-input]") {
  // Every case adds a VXM.0 queue to kMem (6 lines) whose line 9 annotates
  // "  mov.i8 s4w, s0e" (18 characters: !from at column 19, the stream at 25,
  // the reference at 29).
  struct Case {
    const char* vxm;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {"  mov.i8 s4w, s0e !from s0e=VXM.9@0", ":9:29:", "unknown queue VXM.9 in 'VXM.9@0'"},
      {"  mov.i8 s4w, s0e !from s0e=FOO@0", ":9:29:", "invalid queue name 'FOO'"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0@4", ":9:29:", "no issue of MEM.W0 at cycle 4 (nearest: cycles 2 and 6)"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0@9",
       ":9:29:", "no issue of MEM.W0 at cycle 9 (its last issue is at cycle 6)"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0@x", ":9:29:", "expected QUEUE@CYCLE with a cycle number"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0@9223372036854775807",
       ":9:29:", "expected QUEUE@CYCLE with a cycle number 0..1099511627776"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0#9", ":9:29:", "queue MEM.W0 has 5 instructions"},
      {"  mov.i8 s4w, s0e !from s0e=MEM.W0#1.x", ":9:29:", "expected QUEUE#INDEX or QUEUE#INDEX.REP"},
      {"  mov.i8 s4w, s0e !from s0e=nolabel", ":9:29:", "unknown label 'nolabel'"},
      {"  mov.i8 s4w, s0e !from s0e=n", ":9:29:", "MEM.W0#3 is a nop, not an instruction that issues work"},
      {"  mov.i8 s4w, s0e !from s0e=r.3", ":9:29:", "MEM.W0#1 is repeated 2 times, not 3"},
      {"  mov.i8 s4w, s0e !from s0e=w.1", ":9:29:", "MEM.W0#4 has no repeat after it (repetition 1)"},
      {"  mov.i8 s4w, s0e !from s0e=w", ":9:29:", "w is write 0, s1e, which does not write s0e (it writes none)"},
      {"  mov.i8 s4w, s1e !from s1e=r", ":9:29:", "r is read 0, s0e, which does not write s1e (it writes s0e)"},
      {"  mov.i8 s4w, s0e !from s1e=r", ":9:25:", "mov.i8 s4w, s0e does not read s1e (it reads s0e)"},
      {"  add.i32 s8w, s0e, s8e !from s1w=r", ":9:31:", "does not read s1w (it reads s0e..s3e, s8e..s11e)"},
      {"  nop 2 !from s0e=r", ":9:15:", "nop 2 does not read s0e (it reads none)"},
      {"  mov.i8 s4w, s0e !from s0e=r !from s0e=r.1",
       ":9:37:", "two producers for one read: s0e of this issue has one already (line 9)"},
      {"  mov.i8 s4w, s0e !from.1 s0e=r", ":9:31:", "!from.1 names no issue: VXM.0#1 has no repeat after it"},
      {"  mov.i8 s4w, s0e !from.3 s0e=r\n  repeat 2, 1", ":9:31:", "VXM.0#1 is repeated 2 times, not 3"},
      {"  mov.i8 s4w, s0e\n  repeat 2, 1 !from s0e=r", ":10:15:", "!from.K with K in 1..2"},
      {"  mov.i8 s4w, s0e\n  repeat 2, 1 !from.3 s0e=r", ":10:15:", "!from.K with K in 1..2"},
      {"  mov.i8 s4w, s0e !from.x s0e=r", ":9:25:", "expected a repetition after !from."},
      {"  mov.i8 s4w, s0e !frm s0e=r", ":9:19:", "unknown annotation '!frm'"},
      {"  mov.i8 s4w, s0e !from", ":9:24:", "expected STREAM=REF after !from"},
      {"  mov.i8 s4w, s0e !from s0e", ":9:25:", "expected STREAM=REF (e.g. s4w=MEM.E0@1 or s4w=label), got 's0e'"},
      {"  mov.i8 s4w, s0e !from x0e=r", ":9:25:", "expected a stream like s5e or s5w"},
      {"  !from s0e=r", ":9:3:", "an annotation must follow an instruction on the same line"},
  };
  for (const Case& c : cases) {
    const std::string text = kMem + ".queue VXM.0\n  sync\n" + c.vxm + "\n";
    const std::string e = asmError(text);
    INFO("input:\n" << text << "error: " << e);
    CHECK(e.rfind(std::string("bad.s") + c.where, 0) == 0);
    CHECK(e.find(c.what) != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
  }
  // A label on a sync or a repeat names no issue; nor does a cycle that
  // follows two syncs of a queue.
  CHECK(asmError(".queue MEM.W0\n  b: sync\n  read 0, s0e\n.queue VXM.0\n  mov.i8 s4w, s0e !from s0e=b\n") ==
        "bad.s:5:29: b names no issue that writes: MEM.W0#0 is a sync, not an instruction that issues work");
  CHECK(asmError(".queue MEM.W0\n  read 0, s0e\n  b: repeat 1, 1\n.queue VXM.0\n  mov.i8 s4w, s0e !from s0e=b\n") ==
        "bad.s:5:29: b names no issue that writes: MEM.W0#1 is a repeat, not an instruction that issues work");
  CHECK(asmError(".queue MEM.W0\n  sync\n  read 0, s0e\n  sync\n  read 0, s0e\n"
                 ".queue VXM.0\n  mov.i8 s4w, s0e !from s0e=MEM.W0@0\n") ==
        "bad.s:7:29: MEM.W0@0 is ambiguous: MEM.W0 issues at cycle 0 after more than one sync (name it MEM.W0#INDEX)");
  // Through the CLI: one line, exit code 1.
  const std::string path = tempPath("bad-from.s");
  writeFile(path, kMem + ".queue VXM.0\n  sync\n  mov.i8 s4w, s0e !from s0e=MEM.W0@4\n");
  checkBadInput("asm " + path + " -o " + tempPath("bad-from.bin"), "9:29: no issue of MEM.W0 at cycle 4");
}

TEST_CASE("a binary keeps its sources in an optional SRCS section", "[isa][sources]") {
  const Program p = assemble(kGood, "good.s");
  const std::vector<uint8_t> with = serialize(p);
  Program none = p;
  none.sources.clear();
  const std::vector<uint8_t> without = serialize(none);
  // The section: "SRCS", a count, 25 bytes per source (reader queue, index,
  // rep u32, stream u8, writer queue, index, rep u32); nothing without sources.
  REQUIRE(with.size() == without.size() + 8 + 3 * 25);
  CHECK(std::equal(without.begin(), without.begin() + 12, with.begin()));         // magic, version
  CHECK(std::equal(without.begin() + 20, without.end() - 8, with.begin() + 20));  // the body before the section
  const size_t tag = without.size() - 8;
  CHECK(std::string(with.begin() + long(tag), with.begin() + long(tag + 4)) == "SRCS");
  std::vector<uint8_t> cut(with.begin(), with.begin() + long(tag));
  cut.resize(cut.size() + 8);
  CHECK(reframed(cut) == without);  // the section taken out: the bytes of the program without sources
  const Program back = deserialize(with, "good.bin");
  REQUIRE(back.sources.size() == 3);
  CHECK(back.sources[2].reader == ref(1, 2, 2));
  CHECK(back.sources[2].writer == ref(0, 1, 2));
  CHECK(deserialize(without, "none.bin").sources.empty());
}

TEST_CASE("bad input: a corrupt SRCS section is a one-line error", "[isa][sources][bad-input]") {
  const Program p = assemble(kGood, "good.s");
  const std::vector<uint8_t> good = serialize(p);
  const size_t tag = good.size() - 8 - 8 - 3 * 25, count = tag + 4, entry = tag + 8;
  auto patched = [&](size_t at, uint32_t v) {
    auto b = good;
    put32(b, at, v);
    return reframed(b);
  };
  // Each source: reader queue +0, index +4, rep +8, stream +12, writer queue +13, index +17, rep +21.
  CHECK(binError(patched(tag, 0x58585858)) ==
        fmt::format("bad.bin: corrupt: unknown section tag 0x58585858 at byte {} (expected SRCS)", tag));
  CHECK(binError(patched(count, 0xffffffff)) ==
        fmt::format("bad.bin: corrupt: 4294967295 stream sources at byte {} exceed the file", entry));
  CHECK(binError(patched(count, 4)) ==
        fmt::format("bad.bin: corrupt: 4 stream sources at byte {} exceed the file", entry));
  CHECK(binError(patched(entry, 2)) == "bad.bin: corrupt: stream source 0 names queue 2, the program has 2");
  CHECK(binError(patched(entry + 13, 7)) == "bad.bin: corrupt: stream source 0 names queue 7, the program has 2");
  {
    auto b = good;
    b[entry + 12] = 64;
    CHECK(binError(reframed(b)) ==
          "bad.bin: corrupt: stream source 0 has stream byte 64 (expected 0..63, or 255 for "
          "a word)");
  }
  {  // an empty section, and a second one
    std::vector<uint8_t> b(good.begin(), good.begin() + long(entry));
    put32(b, count, 0);
    b.resize(b.size() + 8);
    CHECK(binError(reframed(b)) == fmt::format("bad.bin: corrupt: an empty stream sources section at byte {}", tag));
    std::vector<uint8_t> twice(good.begin(), good.end() - 8);
    twice.insert(twice.end(), good.begin() + long(tag), good.end());
    CHECK(binError(reframed(twice)) ==
          fmt::format("bad.bin: corrupt: a second stream sources section at byte {}", good.size() - 8));
  }
  // What checkSources and the stream check reject, written as a program.
  auto withSources = [&](std::vector<StreamSource> s) {
    Program q = p;
    q.sources = std::move(s);
    return binError(serialize(q));
  };
  const StreamSource first = p.sources[0];
  StreamSource s = first;
  s.reader.index = 99;
  CHECK(withSources({s}) == "bad.bin: stream source MEM.W0#1 -> VXM.0#99: the program has no issue VXM.0#99");
  s = first;
  s.writer = ref(0, 1, 1);
  CHECK_THAT(withSources({first, s}), Catch::StartsWith("bad.bin: VXM.0#2 reads s0e with two producers stated: "));
  s = first;
  s.stream = StreamRef{1, true};
  CHECK(withSources({s}) == "bad.bin: corrupt: stream source MEM.W0#1 -> VXM.0#2: VXM.0#2 does not read s1e");
  s = first;
  s.writer = ref(0, 4);
  CHECK(withSources({s}) == "bad.bin: corrupt: stream source MEM.W0#4 -> VXM.0#2: MEM.W0#4 does not write s0e");
  // A word (stream byte 0xff) and the data section (writer queue 0xffffffff)
  // only together, the data section with index 0 and rep 0.
  const Program w = assemble(kWord, "word.s");
  const std::vector<uint8_t> wb = serialize(w);
  const size_t w0 = wb.size() - 8 - 3 * 25, w1 = w0 + 25;  // sources 0 (data -> MEM.W0#1), 1 (#2 -> #4)
  auto patchedWord = [&](size_t at, uint32_t v, int n = 4) {
    auto b = wb;
    for (int i = 0; i < n; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
    return reframed(b);
  };
  CHECK(binError(patchedWord(w0 + 12, 0, 1)) ==
        "bad.bin: corrupt: stream source 0 names queue 4294967295, the program has 1 (0xffffffff, the data section, "
        "is the writer of a word only)");
  CHECK(binError(patchedWord(w0, 0xffffffff)) ==
        "bad.bin: corrupt: stream source 0 names queue 4294967295, the program has 1 (0xffffffff, the data section, "
        "is the writer of a word only)");
  CHECK(binError(patchedWord(w0 + 17, 3)) ==
        "bad.bin: corrupt: stream source 0 names the data section with index 3 and repetition 0 (expected 0 and 0)");
  CHECK(binError(patchedWord(w0 + 21, 1)) ==
        "bad.bin: corrupt: stream source 0 names the data section with index 0 and repetition 1 (expected 0 and 0)");
  CHECK(binError(patchedWord(w0 + 12, 200, 1)) ==
        "bad.bin: corrupt: stream source 0 has stream byte 200 (expected 0..63, or 255 for a word)");
  CHECK(binError(patchedWord(w0 + 4, 2)) ==
        "bad.bin: corrupt: word source the data section -> MEM.W0#2: MEM.W0#2 is write 0, s1e: only a read has a "
        "word stated (a gather reads words per lane)");
  CHECK(binError(patchedWord(w1 + 17, 1)) ==
        "bad.bin: corrupt: word source MEM.W0#1 -> MEM.W0#4: MEM.W0#1 is read 0, s0e, not a write to slice W0 (the "
        "producer of a word is a write to its slice or data)");
  CHECK(binError(patchedWord(w1 + 12, 32, 1)) ==
        "bad.bin: corrupt: stream source MEM.W0#2 -> MEM.W0#4: MEM.W0#4 does not read s0e");
  {  // a word at a stream's reader: VXM.0#2 (mov) in the stream program
    StreamSource word = first;
    word.stream = kWordRead;
    CHECK(withSources({word}) ==
          "bad.bin: corrupt: word source MEM.W0#1 -> VXM.0#2: VXM.0#2 is mov.i8 s4w, s0e: only a read has a word "
          "stated (a gather reads words per lane)");
    StreamSource data = first;
    data.writer = kInitialContents;
    CHECK(withSources({data}) ==
          "bad.bin: corrupt: stream source 0 names queue 4294967295, the program has 2 (0xffffffff, the data "
          "section, is the writer of a word only)");
  }
  // Through the CLI.
  const std::string path = tempPath("bad-srcs.bin");
  const auto b = patched(count, 0xffffffff);
  writeFile(path, std::string(b.begin(), b.end()));
  checkBadInput("disasm " + path, "corrupt: 4294967295 stream sources");
}

TEST_CASE("a compiled program's word sources survive the binary and the disassembler", "[isa][sources]") {
  // The compiler states each MEM read's word (the data section's or a
  // write's): before the SRCS word encoding its binary did not load.
  const Compiled c = compileGraph(loadGraph(sourcePath("examples/graphs/mlp.graph.json")), loadChip("groq-tsp-v1"),
                                  CompileOptions{}, Policy::List);
  const Program& p = c.program;
  size_t data = 0, written = 0;
  for (const StreamSource& s : p.sources)
    if (s.stream == kWordRead) ++(s.writer == kInitialContents ? data : written);
  CHECK(data > 0);
  CHECK(written > 0);
  const std::vector<uint8_t> b = serialize(p);
  const Program back = deserialize(b, "mlp.bin");
  CHECK(back.sources.size() == p.sources.size());
  CHECK(serialize(back) == b);
  CHECK(serialize(assemble(disassemble(back), "mlp.s")) == b);
}
