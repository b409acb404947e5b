// Fault injection: single faults in compiled and hand-written programs, each
// either caught (a timing violation, or the producer check: a reader took a
// value some other instruction wrote) or shown to leave every output
// bit-identical. A fault is one instruction issued a cycle early or late,
// dropped, or swapped with the next one in its queue. Each program's queues
// are unrolled (repeats expanded, gaps as nop) so every issue can be moved
// alone; its stated sources (Program::sources) are kept as the program meant
// them, so a dropped producer's readers still name it.
//
// The suite runs a sample of the faults of each program (every k-th, at most
// kSample); LPUSIM_FAULTS=all runs all of them.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <map>

#include "compiler/compile.h"
#include "compiler/values.h"
#include "isa/assembler.h"
#include "models/graph.h"
#include "support.h"

using namespace lpu;
using namespace lpu::test;

namespace {

constexpr size_t kSample = 60;
constexpr IssueRef kDropped{-3, 0, 0};  // an issue the faulty program no longer has

struct Work {
  Cycle cycle;
  Instr instr;
  IssueRef orig;  // the issue in the original program
};

// A queue as its fixed prefix (up to and including its sync) and its work
// issues in cycle order, repeats expanded.
struct Unrolled {
  std::vector<Instr> prefix;
  std::vector<Work> work;
};

Unrolled unroll(const Queue& q, int qi) {
  Unrolled u;
  size_t start = 0;  // the first instruction after the sync
  for (size_t i = 0; i < q.code.size(); ++i)
    if (q.code[i].op == Opcode::SYNC) {
      start = i + 1;
      break;
    }
  u.prefix.assign(q.code.begin(), q.code.begin() + long(start));
  for (const Issue& is : issueCycles(q)) {
    if (is.index < start) continue;
    const Instr& in = q.code[is.index];
    if (in.op == Opcode::NOP) continue;
    if (is.rep == 0) {
      if (in.op == Opcode::REPEAT) continue;
      u.work.push_back({is.cycle, in, IssueRef{qi, uint32_t(is.index), 0}});
    } else {  // the repeat right after its instruction
      REQUIRE(is.index > start);
      const Instr& base = q.code[is.index - 1];
      u.work.push_back({is.cycle, repeated(base, in.stride, is.rep), IssueRef{qi, uint32_t(is.index - 1), is.rep}});
    }
  }
  std::stable_sort(u.work.begin(), u.work.end(), [](const Work& a, const Work& b) { return a.cycle < b.cycle; });
  return u;
}

enum class Kind { Early, Late, Drop, Swap };
const char* kindName(Kind k) {
  return k == Kind::Early  ? "a cycle early"
         : k == Kind::Late ? "a cycle late"
         : k == Kind::Drop ? "dropped"
                           : "swapped";
}

struct Fault {
  Kind kind;
  int queue;
  size_t item;  // index into the queue's work
};

// The program from unrolled queues, with `f` applied (or none), its sources
// mapped onto the new code; a dropped issue's readers keep naming it (as an
// issue the program no longer has).
Program rebuild(const Program& base, const std::vector<Unrolled>& qs, const Fault* f) {
  Program p = base;
  p.queues.clear();
  std::map<IssueRef, IssueRef> moved;
  for (size_t qi = 0; qi < qs.size(); ++qi) {
    std::vector<Work> work = qs[qi].work;
    if (f && f->queue == int(qi)) {
      Work& w = work[f->item];
      switch (f->kind) {
        case Kind::Early: --w.cycle; break;
        case Kind::Late: ++w.cycle; break;
        case Kind::Drop: work.erase(work.begin() + long(f->item)); break;
        case Kind::Swap: std::swap(w.instr, work[f->item + 1].instr), std::swap(w.orig, work[f->item + 1].orig); break;
      }
    }
    Queue q{base.queues[qi].id, qs[qi].prefix};
    Cycle at = 0;
    for (const Work& w : work) {
      if (w.cycle > at) {
        Instr nop;
        nop.op = Opcode::NOP;
        nop.imm = uint32_t(w.cycle - at);
        q.code.push_back(nop);
      }
      moved[w.orig] = IssueRef{int(qi), uint32_t(q.code.size()), 0};
      q.code.push_back(w.instr);
      at = w.cycle + 1;
    }
    p.queues.push_back(std::move(q));
  }
  std::vector<StreamSource> sources;
  for (const StreamSource& s : base.sources) {
    const auto r = moved.find(s.reader), w = moved.find(s.writer);
    if (r == moved.end()) continue;  // the reader was dropped
    sources.push_back({r->second, s.stream,
                       w != moved.end()               ? w->second
                       : s.writer == kInitialContents ? s.writer
                                                      : kDropped});
  }
  p.sources = std::move(sources);  // (sorted by reader, then stream)
  return p;
}

// Whether the fault can be made: the new cycle is free in its queue and not
// before the start barrier; a swap needs a next issue.
bool applicable(const std::vector<Work>& w, const Fault& f) {
  const size_t i = f.item;
  switch (f.kind) {
    case Kind::Early: return w[i].cycle > 0 && (i == 0 || w[i - 1].cycle < w[i].cycle - 1);
    case Kind::Late: return i + 1 == w.size() || w[i + 1].cycle > w[i].cycle + 1;
    case Kind::Drop: return true;
    case Kind::Swap: return i + 1 < w.size();
  }
  return false;
}

struct Tally {
  size_t tried = 0, timing = 0, producer = 0, identical = 0;
};

// Runs a sample of the single faults of `p` on `chip`; every one must be
// caught or leave the outputs bit-identical.
Tally inject(const Program& p, const ChipConfig& chip, const std::string& label, bool compiled) {
  std::vector<Unrolled> qs;
  for (size_t i = 0; i < p.queues.size(); ++i) qs.push_back(unroll(p.queues[i], int(i)));
  const SimResult want = simulate(p, chip, label, RunRequest{});
  // The unrolled program is the same program: same cycles, outputs and checks.
  const SimResult same = simulate(rebuild(p, qs, nullptr), chip, label, RunRequest{});
  REQUIRE(same.cycles == want.cycles);
  REQUIRE(same.outputs.size() == want.outputs.size());
  for (size_t o = 0; o < want.outputs.size(); ++o) REQUIRE(same.outputs[o].bytes == want.outputs[o].bytes);
  REQUIRE(same.sources.checked == want.sources.checked);
  if (compiled) {  // the compiler states the producer of every stream read and of every word a read takes
    CHECK(want.sources.checked > 0);
    CHECK(want.sources.unstated == 0);
    CHECK(want.sources.words_unstated == 0);
  }

  std::vector<Fault> all;
  for (size_t q = 0; q < qs.size(); ++q)
    for (size_t i = 0; i < qs[q].work.size(); ++i)
      for (Kind k : {Kind::Early, Kind::Late, Kind::Drop, Kind::Swap})
        if (applicable(qs[q].work, Fault{k, int(q), i})) all.push_back({k, int(q), i});
  const char* env = std::getenv("LPUSIM_FAULTS");
  size_t step = env && std::string(env) == "all" ? 1 : std::max<size_t>(1, (all.size() + kSample - 1) / kSample);
  if (step % 4 == 0) ++step;  // every kind of fault in the sample
  Tally t;
  for (size_t n = 0; n < all.size(); n += step) {
    const Fault& f = all[n];
    const Work& w = qs[size_t(f.queue)].work[f.item];
    const std::string what =
        fmt::format("{} {} at cycle {} {}", formatQueueId(p.queues[size_t(f.queue)].id),
                    formatInstr(p, p.queues[size_t(f.queue)].id, w.instr), w.cycle, kindName(f.kind));
    ++t.tried;
    SimResult got;
    try {
      got = simulate(rebuild(p, qs, &f), chip, label, RunRequest{});
    } catch (const Error& e) {
      const std::string m = e.what();
      (m.find("but its producer is") != std::string::npos ? t.producer : t.timing)++;
      continue;
    }
    bool identical = got.outputs.size() == want.outputs.size();
    for (size_t o = 0; identical && o < want.outputs.size(); ++o)
      identical = got.outputs[o].bytes == want.outputs[o].bytes;
    INFO(label << ": " << what << " ran without an error and changed the outputs");
    CHECK(identical);
    ++t.identical;
  }
  std::cout << fmt::format(
      "{}: {} faults of {} ({} issues), every {}: {} timing errors, {} producer errors, {} "
      "outputs bit-identical\n",
      label, t.tried, all.size(),
      [&] {
        size_t n = 0;
        for (const auto& q : qs) n += q.work.size();
        return n;
      }(),
      step, t.timing, t.producer, t.identical);
  CHECK(t.tried > 0);
  CHECK(t.timing + t.producer + t.identical == t.tried);
  return t;
}

Tally injectGraph(const std::string& file, Precision precision) {
  const Graph g = loadGraph(sourcePath("examples/graphs/" + file));
  const ChipConfig chip = loadChip("groq-tsp-v1");
  CompileOptions o;
  o.precision = precision;
  o.values = seededValues(7);  // real values: a fault that changes one shows
  const Compiled c = compileGraph(g, chip, o, Policy::List);
  return inject(c.program, chip, file, true);
}

Tally injectAsm(const std::string& file) {
  const std::string path = sourcePath("examples/asm/" + file);
  const Program p = assembleFile(path);
  return inject(p, loadChip(p.chip), file, false);
}

}  // namespace

TEST_CASE("fault injection: the compiled MLP (int8)", "[faults]") {
  const Tally t = injectGraph("mlp.graph.json", Precision::Int8);
  CHECK(t.producer > 0);  // some faults only the producer check catches
}

TEST_CASE("fault injection: the compiled attention block", "[faults]") {
  injectGraph("attention.graph.json", Precision::Int8);
}

TEST_CASE("fault injection: the compiled norms (fp16)", "[faults]") {
  injectGraph("norms.graph.json", Precision::Fp16);
}

TEST_CASE("fault injection: the teaching GEMV (hand-written)", "[faults]") { injectAsm("gemv_int8_teaching.s"); }

TEST_CASE("fault injection: softmax (hand-written)", "[faults]") { injectAsm("softmax_fp32.s"); }

TEST_CASE("fault injection: vadd (hand-written)", "[faults]") { injectAsm("vadd_fp32.s"); }
