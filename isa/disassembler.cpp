// Program -> assembly text that re-assembles to the same program.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <map>

#include "assembler.h"
#include "formats.h"
#include "numeric.h"

namespace lpu {
namespace {

std::string number(double v, DType t) {
  if (!isFloat(t)) return fmt::format("{}", int64_t(v));
  return fmt::format("{:.9g}", v);
}

// A symbolic tensor[row] for an address read by a MEM queue, when exactly
// one tensor row has a byte plane at that slice and address.
std::string address(const Program& p, const QueueId& q, uint32_t addr) {
  std::string found;
  int hits = 0;
  const SliceRef here{q.east, uint8_t(q.index)};
  for (const Tensor& t : p.tensors) {
    if (addr < t.addr || addr >= uint64_t(t.addr) + (uint64_t(t.rows) + t.spread - 1) / t.spread) continue;
    for (uint32_t g = 0; g < t.spread; ++g) {
      const uint64_t row = uint64_t(addr - t.addr) * t.spread + g;
      if (row >= t.rows) continue;
      for (int b = 0; b < bytes(t.dtype); ++b)
        if (t.sliceOf(uint32_t(row), b) == here) {
          found = fmt::format("{}[{}]", t.name, row);
          ++hits;
        }
    }
  }
  return hits == 1 ? found : std::to_string(addr);
}

std::string immediate(const Instr& in) {
  if (!isFloat(in.dt)) return fmt::format("#{}", int32_t(in.imm));
  float f;
  std::memcpy(&f, &in.imm, 4);
  const std::string s = fmt::format("{:.9g}", f);
  if (std::isfinite(f) && float(std::strtod(s.c_str(), nullptr)) == f && !(f == 0 && std::signbit(f))) return "#" + s;
  return fmt::format("#0x{:08x}", in.imm);
}

std::string instrText(const Program& p, const QueueId& q, const Instr& in) {
  const OpInfo& oi = info(in.op);
  const FormatSpec& f = spec(oi.format);
  std::string s(oi.mnemonic);
  if (f.dtSuffix) s += fmt::format(".{}", dtypeName(in.dt));
  if (f.dt2Suffix) s += fmt::format(".{}", dtypeName(in.dt2));
  bool first = true;
  for (const Operand& o : f.operands) {
    if (o.syntax == Syntax::Mode && in.mode == AccMode::Set) continue;  // the default, left out
    std::string v;
    switch (o.syntax) {
      case Syntax::Stream: v = formatStream(o.field == Field::S0 ? in.s0 : o.field == Field::S1 ? in.s1 : in.s2); break;
      case Syntax::Number: v = std::to_string(o.field == Field::N ? in.n : o.field == Field::D ? in.d : in.imm); break;
      case Syntax::Signed: v = std::to_string(o.field == Field::Stride ? int32_t(in.stride) : int32_t(in.imm)); break;
      case Syntax::Value: v = immediate(in); break;
      case Syntax::Address: v = q.unit == Unit::MEM ? address(p, q, in.imm) : std::to_string(in.imm); break;
      case Syntax::Map: v = in.imm < p.maps.size() ? p.maps[in.imm].name : std::to_string(in.imm); break;
      case Syntax::Slice: v = formatSlice(in.slice); break;
      case Syntax::Mode: v = in.mode == AccMode::Add ? "add" : "set"; break;
    }
    s += (first ? " " : ", ") + v;
    first = false;
  }
  return s;
}

// The issue cycle of each instruction of a queue (issueCycles() without
// expanding repeats: a repeat's entry is its first repetition).
std::vector<Cycle> cyclesOf(const Queue& q) {
  std::vector<Cycle> at(q.code.size());
  Cycle t = 0;
  for (size_t i = 0; i < q.code.size(); ++i) {
    const Instr& in = q.code[i];
    at[i] = in.op == Opcode::SYNC ? 0 : in.op == Opcode::REPEAT ? t - 1 + in.d : t;
    t = in.op == Opcode::SYNC     ? 0
        : in.op == Opcode::NOP    ? t + in.imm
        : in.op == Opcode::REPEAT ? t + Cycle(in.n) * in.d
                                  : t + 1;
  }
  return at;
}

// A !from reference to issue w: QUEUE@CYCLE where that names it (after the
// queue's only sync, or in a queue without one), else QUEUE#INDEX[.REP]; data
// for the data section.
std::string refText(const Program& p, const std::vector<std::vector<Cycle>>& at, const IssueRef& w) {
  if (w == kInitialContents) return "data";
  if (w.queue < 0 || size_t(w.queue) >= p.queues.size()) return formatIssueRef(p, w);
  const Queue& q = p.queues[size_t(w.queue)];
  size_t syncs = 0, firstSync = 0;
  for (size_t i = 0; i < q.code.size(); ++i)
    if (q.code[i].op == Opcode::SYNC && syncs++ == 0) firstSync = i;
  const bool repOk = w.rep == 0 || (w.index + 1 < q.code.size() && q.code[w.index + 1].op == Opcode::REPEAT);
  if (w.index >= q.code.size() || !repOk || syncs > 1 || (syncs == 1 && w.index < firstSync))
    return formatIssueRef(p, w);
  const Cycle d = w.rep ? q.code[w.index + 1].d : 0;
  return fmt::format("{}@{}", formatQueueId(q.id), at[size_t(w.queue)][w.index] + Cycle(w.rep) * d);
}

}  // namespace

std::string formatInstr(const Program& p, const QueueId& q, const Instr& in) { return instrText(p, q, in); }

std::string disassemble(const Program& p) {
  std::string out;
  if (!p.chip.empty()) out += fmt::format(".chip {}\n", p.chip);
  for (const Tensor& t : p.tensors) {
    out += fmt::format(".tensor {} {} [{}, {}] at {} {}", t.name, dtypeName(t.dtype), t.rows, t.cols,
                       formatSlice(t.slice), t.addr);
    if (t.spread != 1) out += fmt::format(" spread {}", t.spread);
    out += "\n";
    if (t.init == Tensor::Init::Random)
      out += fmt::format(".random {} {} {:.17g} {:.17g}\n", t.name, t.seed, t.lo, t.hi);
    if (t.init == Tensor::Init::Data) {
      const size_t w = size_t(bytes(t.dtype)), n = t.data.size() / w;
      for (size_t i = 0; i < n; i += 16) {
        out += fmt::format(".values {}", t.name);
        for (size_t k = i; k < std::min(n, i + 16); ++k)
          out += " " + number(loadElement(t.dtype, &t.data[k * w]), t.dtype);
        out += "\n";
      }
    }
    if (t.output) out += fmt::format(".output {}\n", t.name);
  }
  for (const PermMap& m : p.maps) {
    out += fmt::format(".map {}", m.name);
    for (uint32_t l : m.lanes) out += fmt::format(" {}", l);
    out += "\n";
  }
  // !from annotations: a read by an instruction on its line, by a repetition on its repeat's.
  std::vector<std::vector<Cycle>> cycles;
  for (const Queue& q : p.queues) cycles.push_back(cyclesOf(q));
  std::map<std::pair<int32_t, uint32_t>, std::string> notes;
  for (const StreamSource& s : p.sources) {
    const auto line = std::make_pair(s.reader.queue, s.reader.index + (s.reader.rep ? 1 : 0));
    notes[line] += s.reader.rep ? fmt::format(" !from.{} ", s.reader.rep) : " !from ";
    notes[line] += formatStream(s.stream) + "=" + refText(p, cycles, s.writer);
  }
  for (const Queue& q : p.queues) {
    const int32_t qi = int32_t(&q - p.queues.data());
    out += fmt::format("\n.queue {}\n", formatQueueId(q.id));
    size_t firstSync = q.code.size();
    for (size_t i = 0; i < q.code.size() && firstSync == q.code.size(); ++i)
      if (q.code[i].op == Opcode::SYNC) firstSync = i;
    for (size_t i = 0; i < q.code.size(); ++i) {
      const Instr& in = q.code[i];
      const Cycle at = cycles[size_t(qi)][i];
      const auto note = notes.find({qi, uint32_t(i)});
      const std::string text = instrText(p, q.id, in) + (note == notes.end() ? "" : note->second);
      if (in.op == Opcode::REPEAT && in.n == 0) {  // a repeat of 0
        out += fmt::format("    {}\n", text);
        continue;
      }
      if (i < firstSync && firstSync < q.code.size()) {
        out += fmt::format("    {:<40} ; before the start barrier\n", text);
        continue;
      }
      out += fmt::format("    {:<40} ; @{}", text, at);
      if (in.op == Opcode::REPEAT) out += fmt::format("..{}", at + Cycle(in.n - 1) * in.d);
      out += "\n";
    }
  }
  return out;
}

}  // namespace lpu
