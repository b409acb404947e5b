#include "assembler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <tuple>

#include "binary.h"
#include "error.h"
#include "formats.h"
#include "numeric.h"

namespace lpu {
namespace {

struct Token {
  std::string text;
  int col;  // 1-based
};

// Splits a line (comments removed) into tokens; commas separate, brackets and
// colons stay attached to their words.
std::vector<Token> tokenize(const std::string& line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    if (std::isspace(uint8_t(line[i])) || line[i] == ',') {
      ++i;
      continue;
    }
    size_t j = i;
    if (line[i] == '"') {
      j = line.find('"', i + 1);
      j = j == std::string::npos ? line.size() : j + 1;
    } else if (line[i] == '[') {
      j = line.find(']', i);
      j = j == std::string::npos ? line.size() : j + 1;
    } else {
      while (j < line.size() && !std::isspace(uint8_t(line[j])) && line[j] != ',') {
        if (line[j] == '[') {  // name[row] stays one token
          const size_t k = line.find(']', j);
          j = k == std::string::npos ? line.size() : k;
        }
        ++j;
      }
    }
    out.push_back({line.substr(i, j - i), int(i) + 1});
    i = j;
  }
  return out;
}

std::string stripComment(const std::string& line) {
  size_t cut = line.size();
  bool inString = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') inString = !inString;
    if (inString) continue;
    if (line[i] == ';' || (line[i] == '/' && i + 1 < line.size() && line[i + 1] == '/')) {
      cut = i;
      break;
    }
  }
  return line.substr(0, cut);
}

template <typename T>
bool parseNum(std::string_view s, T& v) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parseDouble(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// "s0e..s3e, s8e": streams, consecutive ones as ranges.
std::string streamList(const std::vector<StreamRef>& v) {
  std::string out;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1].east == v[i].east && v[j + 1].id == v[j].id + 1) ++j;
    if (!out.empty()) out += ", ";
    out += j == i ? formatStream(v[i]) : formatStream(v[i]) + ".." + formatStream(v[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

bool doesWork(Opcode op) { return op != Opcode::NOP && op != Opcode::SYNC && op != Opcode::REPEAT; }

// What is wrong with naming issue (index, rep) of queue q, or "" if nothing.
std::string issueProblem(const Queue& q, uint64_t index, uint64_t rep) {
  const std::string qn = formatQueueId(q.id);
  if (index >= q.code.size()) return fmt::format("queue {} has {} instructions", qn, q.code.size());
  const Instr& in = q.code[index];
  if (!doesWork(in.op))
    return fmt::format("{}#{} is a {}, not an instruction that issues work", qn, index, info(in.op).mnemonic);
  if (rep == 0) return "";
  if (index + 1 >= q.code.size() || q.code[index + 1].op != Opcode::REPEAT)
    return fmt::format("{}#{} has no repeat after it (repetition {})", qn, index, rep);
  if (rep > q.code[index + 1].n)
    return fmt::format("{}#{} is repeated {} times, not {}", qn, index, q.code[index + 1].n, rep);
  return "";
}

// A queue's work issues (no nop, sync or repeat line) as runs: instruction
// `index` at `first` and its repetitions at first + k*d, k = 1..n. One segment
// per sync (the issues before a queue's first sync dropped: @cycle counts from
// the start barrier), each in cycle order.
struct Run {
  Cycle first, d;
  uint32_t index, n;
};
std::vector<std::vector<Run>> issueRuns(const Queue& q) {
  std::vector<std::vector<Run>> segs(1);
  Cycle t = 0;
  bool synced = false;
  for (size_t i = 0; i < q.code.size(); ++i) {
    const Instr& in = q.code[i];
    if (in.op == Opcode::SYNC) {
      if (synced) segs.emplace_back();
      segs.back().clear();
      synced = true;
      t = 0;
    } else if (in.op == Opcode::NOP) {
      t += in.imm;
    } else if (in.op == Opcode::REPEAT) {
      t += Cycle(in.n) * in.d;
    } else {
      Run r{t, 1, uint32_t(i), 0};
      if (i + 1 < q.code.size() && q.code[i + 1].op == Opcode::REPEAT) r.n = q.code[i + 1].n, r.d = q.code[i + 1].d;
      segs.back().push_back(r);
      ++t;
    }
  }
  return segs;
}

std::string operandNames(const FormatSpec& f) {
  std::string s;
  for (const Operand& o : f.operands) {
    if (!s.empty()) s += ", ";
    constexpr const char* names[] = {"stream",  "number", "signed number", "#value",
                                     "address", "map",    "slice",         "set|add"};
    s += names[int(o.syntax)];
    if (o.optional) s += " (optional)";
  }
  return s;
}

class Assembler {
 public:
  Assembler(const std::string& name) : name_(name) {}

  Program run(const std::string& text) {
    size_t start = 0;
    int lineNo = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++lineNo;
      line_ = lineNo;
      std::string line = stripComment(text.substr(start, end - start));
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto toks = tokenize(line);
      if (!toks.empty()) {
        if (toks[0].text[0] == '.')
          directive(toks);
        else
          instruction(toks);
      }
      start = end + 1;
    }
    finish();
    return std::move(p_);
  }

 private:
  [[noreturn]] void fail(int col, const std::string& msg) const { failAt(line_, col, msg); }
  [[noreturn]] void failAt(int line, int col, const std::string& msg) const {
    throw Error(fmt::format("{}:{}:{}: {}", name_, line, col, msg));
  }
  void need(const std::vector<Token>& t, size_t n, const char* usage) const {
    if (t.size() < n) fail(t.back().col + int(t.back().text.size()), fmt::format("expected: {}", usage));
  }

  Tensor& tensorArg(const Token& tok) {
    for (auto& t : p_.tensors)
      if (t.name == tok.text) return t;
    fail(tok.col, fmt::format("unknown tensor '{}' (declare it with .tensor first)", tok.text));
  }

  uint32_t uintArg(const Token& t, const char* what, uint64_t max = 0xffffffffull) const {
    uint64_t v;
    if (!parseNum(t.text, v) || v > max) fail(t.col, fmt::format("expected {} (0..{}), got '{}'", what, max, t.text));
    return uint32_t(v);
  }

  void directive(const std::vector<Token>& t) {
    const std::string& d = t[0].text;
    if (d == ".chip") {
      need(t, 2, ".chip NAME");
      p_.chip = t[1].text;
    } else if (d == ".tensor") {
      tensorDecl(t);
    } else if (d == ".values") {
      need(t, 3, ".values TENSOR v0 v1 ...");
      Tensor& ts = tensorArg(t[1]);
      if (ts.init == Tensor::Init::Random) fail(t[1].col, fmt::format("tensor {} already has a .random fill", ts.name));
      ts.init = Tensor::Init::Data;
      const size_t w = size_t(bytes(ts.dtype)), total = size_t(ts.rows) * ts.cols * w;
      for (size_t i = 2; i < t.size(); ++i) {
        double v;
        if (!parseDouble(t[i].text, v)) fail(t[i].col, fmt::format("expected a number, got '{}'", t[i].text));
        if (!isFloat(ts.dtype) && (v != std::floor(v) || v < minValue(ts.dtype) || v > maxValue(ts.dtype)))
          fail(t[i].col, fmt::format("{} is not a {} value", t[i].text, dtypeName(ts.dtype)));
        if (ts.data.size() >= total)
          fail(t[i].col, fmt::format("too many values for {} ({} elements)", ts.name, total / w));
        ts.data.resize(ts.data.size() + w);
        storeElement(ts.dtype, v, &ts.data[ts.data.size() - w]);
      }
    } else if (d == ".random") {
      need(t, 3, ".random TENSOR SEED [LO HI]");
      Tensor& ts = tensorArg(t[1]);
      if (ts.init == Tensor::Init::Data) fail(t[1].col, fmt::format("tensor {} already has .values", ts.name));
      ts.init = Tensor::Init::Random;
      uint64_t seed;
      if (!parseNum(t[2].text, seed)) fail(t[2].col, fmt::format("expected a seed, got '{}'", t[2].text));
      ts.seed = seed;
      if (t.size() >= 4) {
        need(t, 5, ".random TENSOR SEED LO HI");
        if (!parseDouble(t[3].text, ts.lo)) fail(t[3].col, "expected a number for LO");
        if (!parseDouble(t[4].text, ts.hi) || ts.hi < ts.lo) fail(t[4].col, "expected a number HI >= LO");
      }
    } else if (d == ".file") {
      need(t, 3, ".file TENSOR \"path\"");
      Tensor& ts = tensorArg(t[1]);
      std::string path = t[2].text;
      if (path.size() >= 2 && path.front() == '"') path = path.substr(1, path.size() - 2);
      const size_t slash = name_.find_last_of('/');
      if (!path.empty() && path[0] != '/' && slash != std::string::npos) path = name_.substr(0, slash + 1) + path;
      // The size is checked before reading: a device or a huge file is never read.
      const size_t want = size_t(ts.rows) * ts.cols * size_t(bytes(ts.dtype));
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) fail(t[2].col, fmt::format("cannot open data file {}", path));
      const uintmax_t have = std::filesystem::file_size(path, ec);
      if (ec || have != want)
        fail(t[2].col, fmt::format("{} has {} bytes, tensor {} needs {}", path, ec ? 0 : have, ts.name, want));
      std::vector<uint8_t> bytesRead;
      try {
        bytesRead = readFileBytes(path);
      } catch (const Error&) {
        fail(t[2].col, fmt::format("cannot open data file {}", path));
      }
      if (bytesRead.size() != want)
        fail(t[2].col, fmt::format("{} has {} bytes, tensor {} needs {}", path, bytesRead.size(), ts.name, want));
      ts.init = Tensor::Init::Data;
      ts.data = std::move(bytesRead);
    } else if (d == ".output") {
      need(t, 2, ".output TENSOR");
      tensorArg(t[1]).output = true;
    } else if (d == ".map") {
      need(t, 3, ".map NAME lane0 lane1 ...");
      if (p_.findMap(t[1].text) >= 0) fail(t[1].col, fmt::format("map {} defined twice", t[1].text));
      PermMap m{t[1].text, {}};
      for (size_t i = 2; i < t.size(); ++i) m.lanes.push_back(uintArg(t[i], "a lane number", 65535));
      p_.maps.push_back(std::move(m));
    } else if (d == ".queue") {
      need(t, 2, ".queue NAME (e.g. MEM.W0, VXM.0, MXM.W0.0, SXM.E.0, C2C.0)");
      const auto id = parseQueueId(t[1].text);
      if (!id)
        fail(t[1].col,
             fmt::format("invalid queue name '{}' (expected MEM.W0, VXM.0, MXM.W0.0, SXM.E.0 or C2C.0)", t[1].text));
      for (const auto& q : p_.queues)
        if (q.id == *id) fail(t[1].col, fmt::format("queue {} has a section already", t[1].text));
      p_.queues.push_back(Queue{*id, {}});
      cycle_ = 0;
      sawSync_ = false;
    } else {
      fail(t[0].col,
           fmt::format("unknown directive '{}' (expected .chip .tensor .values .random .file .output .map .queue)", d));
    }
  }

  void tensorDecl(const std::vector<Token>& t) {
    need(t, 6, ".tensor NAME DTYPE [ROWS, COLS] at SLICE ADDR [spread N]");
    Tensor ts;
    ts.name = t[1].text;
    if (!std::isalpha(uint8_t(ts.name[0])) && ts.name[0] != '_') fail(t[1].col, "tensor names start with a letter");
    if (p_.findTensor(ts.name)) fail(t[1].col, fmt::format("tensor {} declared twice", ts.name));
    const auto dt = parseDType(t[2].text);
    if (!dt)
      fail(t[2].col, fmt::format("unknown element type '{}' (expected int8, int16, int32, fp16, fp32)", t[2].text));
    ts.dtype = *dt;
    // The shape is one token "[R, C]" (tokenize keeps brackets together).
    std::string shape = t[3].text;
    if (shape.size() < 2 || shape.front() != '[' || shape.back() != ']')
      fail(t[3].col, "expected a shape [ROWS, COLS]");
    shape = shape.substr(1, shape.size() - 2);
    const size_t comma = shape.find(',');
    auto trim = [](std::string s) {
      while (!s.empty() && std::isspace(uint8_t(s.front()))) s.erase(s.begin());
      while (!s.empty() && std::isspace(uint8_t(s.back()))) s.pop_back();
      return s;
    };
    if (comma == std::string::npos || !parseNum(trim(shape.substr(0, comma)), ts.rows) ||
        !parseNum(trim(shape.substr(comma + 1)), ts.cols) || ts.rows == 0 || ts.cols == 0)
      fail(t[3].col, "expected a shape [ROWS, COLS] of positive integers");
    size_t i = 4;
    if (t[i].text != "at") fail(t[i].col, fmt::format("expected 'at', got '{}'", t[i].text));
    need(t, 7, ".tensor NAME DTYPE [ROWS, COLS] at SLICE ADDR");
    const auto sl = parseSlice(t[5].text);
    if (!sl) fail(t[5].col, fmt::format("expected a MEM slice like W0 or E3, got '{}'", t[5].text));
    ts.slice = *sl;
    ts.addr = uintArg(t[6], "an address");
    i = 7;
    if (i < t.size()) {
      if (t[i].text != "spread" || i + 1 >= t.size())
        fail(t[i].col, fmt::format("expected 'spread N' or end of line, got '{}'", t[i].text));
      ts.spread = uintArg(t[i + 1], "a spread", 127);
      if (ts.spread == 0) fail(t[i + 1].col, "spread must be at least 1");
      if (i + 2 < t.size()) fail(t[i + 2].col, "unexpected text after the tensor declaration");
    }
    const uint64_t lastSlice = uint64_t(ts.slice.index) + uint64_t(ts.spread) * bytes(ts.dtype) - 1;
    if (lastSlice > 127) fail(t[5].col, fmt::format("tensor {} would need slice index {}", ts.name, lastSlice));
    addBounded(tensorBytes_, checkedTensorBytes(ts, fmt::format("{}:{}:{}", name_, line_, t[3].col)), kMaxProgramBytes,
               fmt::format("{}:{}:{}: tensor {}", name_, line_, t[3].col, ts.name), "the program's tensor bytes");
    p_.tensors.push_back(std::move(ts));
  }

  // Cycle value of "@12", "@label", "@label+3", at most kMaxCycle.
  Cycle anchorCycle(const Token& tok) {
    const std::string s = tok.text.substr(1);
    auto bounded = [&](Cycle c) {
      if (c > kMaxCycle) fail(tok.col, fmt::format("{} is cycle {}, past the last cycle {}", tok.text, c, kMaxCycle));
      return c;
    };
    Cycle c;
    if (parseNum(s, c)) return bounded(c);
    size_t k = s.find_first_of("+-");
    const std::string label = s.substr(0, k);
    const auto it = labels_.find(label);
    if (it == labels_.end())
      fail(tok.col, fmt::format("unknown label '{}' (labels must be defined in an earlier line or queue)", label));
    Cycle off = 0;
    if (k != std::string::npos && !parseNum(s.substr(k + 1), off))
      fail(tok.col, fmt::format("expected @label+N, got '{}'", tok.text));
    if (off < 0 || off > kMaxCycle)
      fail(tok.col, fmt::format("expected @label+N with N in 0..{}, got '{}'", kMaxCycle, tok.text));
    return bounded(it->second + (k != std::string::npos && s[k] == '-' ? -off : off));
  }

  void instruction(std::vector<Token> t) {
    if (p_.queues.empty()) fail(t[0].col, "instruction outside a queue (start one with .queue NAME)");
    Queue& q = p_.queues.back();
    size_t a = 0;  // the !annotations follow the operands
    while (a < t.size() && t[a].text[0] != '!') ++a;
    const std::vector<Token> notes(t.begin() + long(a), t.end());
    t.resize(a);
    if (t.empty()) fail(notes[0].col, "an annotation must follow an instruction on the same line");
    std::string label;
    if (t[0].text.back() == ':') {
      label = t[0].text.substr(0, t[0].text.size() - 1);
      if (label.empty() || !std::isalpha(uint8_t(label[0]))) fail(t[0].col, "labels start with a letter");
      if (labels_.count(label)) fail(t[0].col, fmt::format("label {} defined twice", label));
      t.erase(t.begin());
      if (t.empty()) fail(1, "a label must be followed by an instruction on the same line");
    }
    if (t[0].text[0] == '@') {
      if (!sawSync_ && hasBarrier()) fail(t[0].col, "@cycle anchors count from the start barrier: put sync first");
      const Cycle want = anchorCycle(t[0]);
      if (want < cycle_)
        fail(t[0].col, fmt::format("{} is cycle {}, but this queue is already at cycle {}", t[0].text, want, cycle_));
      // One nop waits at most 2^32 - 1 cycles: a longer gap takes several.
      while (want > cycle_) emit(q, nopFor(std::min<Cycle>(want - cycle_, 0xffffffff)), t[0].col);
      t.erase(t.begin());
      if (t.empty()) fail(1, "an @cycle anchor must be followed by an instruction");
    }
    if (!label.empty()) {
      labels_[label] = cycle_;
      labelIssues_[label] = {int32_t(p_.queues.size() - 1), uint32_t(q.code.size()), 0};
    }
    emit(q, parseInstr(q, t), t[0].col);
    for (size_t i = 0; i < notes.size(); i += 2) annotation(q, notes, i);
  }

  // notes[i] is "!from" or "!from.K", notes[i + 1] "STREAM=REF": the
  // instruction on this line (or the K-th repetition by the repeat on this
  // line) reads STREAM and must find there the value REF wrote.
  void annotation(const Queue& q, const std::vector<Token>& notes, size_t i) {
    const Token& k = notes[i];
    const bool isRepeat = q.code.back().op == Opcode::REPEAT;
    uint32_t rep = 0;
    if (k.text.rfind("!from.", 0) == 0)
      rep = uintArg(Token{k.text.substr(6), k.col + 6}, "a repetition after !from.", 0xffffff);
    else if (k.text != "!from")
      fail(k.col, fmt::format("unknown annotation '{}' (expected !from STREAM=REF or !from.K STREAM=REF)", k.text));
    if (i + 1 >= notes.size()) fail(k.col + int(k.text.size()), fmt::format("expected STREAM=REF after {}", k.text));
    const Token& v = notes[i + 1];
    const size_t eq = v.text.find('=');
    if (eq == std::string::npos || eq + 1 == v.text.size())
      fail(v.col, fmt::format("expected STREAM=REF (e.g. s4w=MEM.E0@1 or s4w=label), got '{}'", v.text));
    const std::string what = v.text.substr(0, eq);
    const bool word = what == "word";
    if (!word && (what.size() < 2 || what[0] != 's'))
      fail(v.col,
           fmt::format("expected a stream like s5e or s5w, or word (a read's MEM word), before '=', got '{}'", what));
    const StreamRef stream = word ? kWordRead : streamArg(Token{what, v.col});
    StreamSource s;
    s.reader = {int32_t(p_.queues.size() - 1), uint32_t(q.code.size() - 1), rep};
    s.stream = stream;
    if (isRepeat) {
      if (rep == 0 || rep > q.code.back().n)
        fail(k.col, fmt::format("a !from on a repeat line names the repetition it is for: !from.K with K in 1..{}",
                                q.code.back().n));
      --s.reader.index;  // the repeated instruction
    }
    const Instr& reader = q.code[s.reader.index];
    if (word && reader.op != Opcode::READ)
      fail(v.col, fmt::format("!from word= names the producer of the MEM word a read takes: {} is not a read (a gather "
                              "reads words per lane and is not checked)",
                              formatInstr(p_, q.id, reader)));
    if (!word && !mayRead(reader, stream))
      fail(v.col, fmt::format("{} does not read {} (it reads {})", formatInstr(p_, q.id, reader), formatStream(stream),
                              streamList(streamsRead(reader, 32 - reader.s1.id))));
    const auto key = std::make_tuple(s.reader, stream.east, stream.id);
    const auto [it, added] = stated_.emplace(key, line_);
    if (!added)
      fail(v.col, fmt::format("two producers for one read: {} of this issue has one already (line {})",
                              formatStream(stream), it->second));
    pending_.push_back({s, v.text.substr(eq + 1), line_, v.col + int(eq) + 1});
  }

  static Instr nopFor(Cycle n) {
    Instr in;
    in.op = Opcode::NOP;
    in.imm = uint32_t(n);
    return in;
  }

  bool hasBarrier() const { return barrier_; }

  void emit(Queue& q, const Instr& in, int col) {
    if (in.op == Opcode::REPEAT) {
      if (q.code.empty() || info(q.code.back().op).unit == Unit::ICU || q.code.back().op == Opcode::CONFIG)
        fail(col, "repeat must follow an instruction that does work (not nop, sync, notify or repeat)");
      cycle_ += Cycle(in.n) * in.d;
    } else if (in.op == Opcode::NOP) {
      cycle_ += in.imm;
    } else if (in.op == Opcode::SYNC) {
      cycle_ = 0;
      sawSync_ = true;
    } else {
      ++cycle_;
    }
    if (cycle_ > kMaxCycle)
      fail(col, fmt::format("queue {} runs past the last cycle {}", formatQueueId(q.id), kMaxCycle));
    issues_ += in.op == Opcode::REPEAT ? in.n : 1;
    if (issues_ > kMaxIssues)
      fail(col, fmt::format("the program issues more than {} instructions (repeats expanded)", kMaxIssues));
    if (in.op == Opcode::NOTIFY || in.op == Opcode::SYNC) barrier_ = true;
    q.code.push_back(in);
  }

  Instr parseInstr(const Queue& q, const std::vector<Token>& t) {
    const Token& m = t[0];
    std::vector<std::string> parts;
    for (size_t s = 0, k; s <= m.text.size(); s = k + 1) {
      k = m.text.find('.', s);
      if (k == std::string::npos) k = m.text.size();
      parts.push_back(m.text.substr(s, k - s));
    }
    const OpInfo* oi = findOp(parts[0]);
    if (!oi) fail(m.col, fmt::format("unknown mnemonic '{}'", parts[0]));
    const FormatSpec& f = spec(oi->format);
    Instr in;
    in.op = oi->op;
    const size_t wantParts = 1 + f.dtSuffix + f.dt2Suffix;
    auto allowed = [&](uint8_t mask) {
      std::string s;
      for (int d = 0; d < kDTypeCount; ++d)
        if (allows(mask, DType(d))) s += fmt::format(" .{}", dtypeName(DType(d)));
      return s;
    };
    if (parts.size() != wantParts)
      fail(m.col, wantParts == 1 ? fmt::format("{} takes no element type suffix", parts[0])
                                 : fmt::format("{} needs {} element type suffix{} (one of{})", parts[0], wantParts - 1,
                                               wantParts > 2 ? "es" : "", allowed(oi->dtypes)));
    if (f.dtSuffix) {
      const auto dt = parseDType(parts[1]);
      if (!dt || !allows(oi->dtypes, *dt))
        fail(m.col, fmt::format("{} does not take .{} (one of{})", parts[0], parts[1], allowed(oi->dtypes)));
      in.dt = *dt;
    }
    if (f.dt2Suffix) {
      const auto dt = parseDType(parts[2]);
      if (!dt) fail(m.col, fmt::format("unknown element type .{}", parts[2]));
      in.dt2 = *dt;
    }
    if (oi->unit != Unit::ICU && oi->unit != q.id.unit)
      fail(m.col, fmt::format("{} is a {} instruction; queue {} is a {} queue", parts[0], unitName(oi->unit),
                              formatQueueId(q.id), unitName(q.id.unit)));
    size_t required = 0;
    for (const Operand& o : f.operands) required += !o.optional;
    const size_t given = t.size() - 1;
    if (given < required || given > f.operands.size())
      fail(m.col, fmt::format("{} takes {} operand{} ({}), got {}", m.text, f.operands.size(),
                              f.operands.size() == 1 ? "" : "s", operandNames(f), given));
    for (size_t i = 0; i < f.operands.size(); ++i) {
      if (i + 1 >= t.size()) break;
      operand(q, in, f, f.operands[i], t[i + 1]);
    }
    if (in.op == Opcode::REPEAT && in.d == 0) fail(t[2].col, "repeat distance must be at least 1 cycle");
    if (in.op == Opcode::NOP && in.imm == 0) fail(t[1].col, "nop needs at least 1 cycle");
    return in;
  }

  static int widthOf(const FormatSpec& f, Field fld) {
    for (const BitField& b : f.bits)
      if (b.field == fld) return b.width;
    return 0;
  }

  StreamRef streamArg(const Token& tok) const {
    const std::string& s = tok.text;
    unsigned id = 0;
    if (s.size() < 3 || s[0] != 's' || (s.back() != 'e' && s.back() != 'w') ||
        !parseNum(std::string_view(s).substr(1, s.size() - 2), id) || id > 31)
      fail(tok.col, fmt::format("expected a stream like s5e or s5w (id 0..31), got '{}'", s));
    return StreamRef{uint8_t(id), s.back() == 'e'};
  }

  void operand(const Queue& q, Instr& in, const FormatSpec& f, const Operand& o, const Token& tok) {
    const std::string& s = tok.text;
    const uint64_t max = (uint64_t(1) << widthOf(f, o.field)) - 1;
    auto setNum = [&](uint64_t v) {
      switch (o.field) {
        case Field::N: in.n = uint32_t(v); break;
        case Field::D: in.d = uint16_t(v); break;
        default: in.imm = uint32_t(v); break;
      }
    };
    switch (o.syntax) {
      case Syntax::Stream:
        (o.field == Field::S0 ? in.s0 : o.field == Field::S1 ? in.s1 : in.s2) = streamArg(tok);
        break;
      case Syntax::Number: setNum(uintArg(tok, "a number", max)); break;
      case Syntax::Signed: {
        int64_t v;
        const int64_t lim = int64_t(max >> 1);
        if (!parseNum(s, v) || v > lim || v < -lim - 1)
          fail(tok.col, fmt::format("expected a signed number ({}..{}), got '{}'", -lim - 1, lim, s));
        if (o.field == Field::Stride)
          in.stride = int16_t(v);
        else
          in.imm = uint32_t(int32_t(v));
        break;
      }
      case Syntax::Value: {
        if (s.size() < 2 || s[0] != '#') fail(tok.col, fmt::format("expected an immediate like #1.5, got '{}'", s));
        const std::string v = s.substr(1);
        uint32_t bits;
        double d;
        if (v.rfind("0x", 0) == 0 && parseNum(v, bits)) {
          in.imm = bits;
        } else if (!parseDouble(v, d)) {
          fail(tok.col, fmt::format("expected a number after #, got '{}'", s));
        } else if (isFloat(in.dt)) {
          const float fl = float(d);
          std::memcpy(&in.imm, &fl, 4);
        } else {
          if (d != std::floor(d) || d < minValue(DType::I32) || d > maxValue(DType::I32))
            fail(tok.col, fmt::format("{} is not an i32 value", s));
          in.imm = uint32_t(int32_t(d));
        }
        break;
      }
      case Syntax::Address: {
        uint64_t v;
        if (parseNum(s, v)) {
          if (v > max) fail(tok.col, fmt::format("address {} is beyond 32 bits", s));
          in.imm = uint32_t(v);
          break;
        }
        const size_t br = s.find('[');
        const std::string tname = s.substr(0, br);
        uint32_t row = 0;
        if (br != std::string::npos &&
            (s.back() != ']' || !parseNum(std::string_view(s).substr(br + 1, s.size() - br - 2), row)))
          fail(tok.col, fmt::format("expected an address: a number or tensor[row], got '{}'", s));
        const Tensor* t = p_.findTensor(tname);
        if (!t) fail(tok.col, fmt::format("unknown tensor '{}' in address '{}'", tname, s));
        if (row >= t->rows) fail(tok.col, fmt::format("row {} is outside tensor {} ({} rows)", row, tname, t->rows));
        const SliceRef here{q.id.east, uint8_t(q.id.index)};
        bool found = false;
        for (int b = 0; b < bytes(t->dtype); ++b) found |= t->sliceOf(row, b) == here;
        if (!found)
          fail(tok.col, fmt::format("{}[{}] has no byte plane in slice {} (its planes are in {}..{})", tname, row,
                                    formatSlice(here), formatSlice(t->sliceOf(row, 0)),
                                    formatSlice(t->sliceOf(row, bytes(t->dtype) - 1))));
        in.imm = t->addrOf(row);
        break;
      }
      case Syntax::Map: {
        const int idx = p_.findMap(s);
        if (idx >= 0)
          in.imm = uint32_t(idx);
        else
          in.imm = uintArg(tok, "a map name (declare it with .map) or index");
        break;
      }
      case Syntax::Slice: {
        const auto sl = parseSlice(s);
        if (!sl) fail(tok.col, fmt::format("expected a MEM slice like W0 or E3, got '{}'", s));
        in.slice = *sl;
        break;
      }
      case Syntax::Mode:
        if (s == "set")
          in.mode = AccMode::Set;
        else if (s == "add")
          in.mode = AccMode::Add;
        else
          fail(tok.col, fmt::format("expected set or add, got '{}'", s));
        break;
    }
  }

  void finish() {
    for (const Tensor& t : p_.tensors) {
      const size_t want = size_t(t.rows) * t.cols * size_t(bytes(t.dtype));
      if (t.init == Tensor::Init::Data && t.data.size() != want)
        throw Error(fmt::format("{}: tensor {} has {} values, expected {} ({} x {})", name_, t.name,
                                t.data.size() / size_t(bytes(t.dtype)), want / size_t(bytes(t.dtype)), t.rows, t.cols));
    }
    // The producers: references may name queues and labels after their reader.
    std::vector<StreamSource> sources;
    for (const Pending& pd : pending_) {
      StreamSource s = pd.source;
      const Queue& rq = p_.queues[size_t(s.reader.queue)];
      if (s.reader.rep > 0) {
        const std::string bad = issueProblem(rq, s.reader.index, s.reader.rep);
        if (!bad.empty()) failAt(pd.line, pd.col, fmt::format("!from.{} names no issue: {}", s.reader.rep, bad));
      }
      s.writer = resolveRef(pd, s.stream == kWordRead);
      if (s.stream == kWordRead) {
        const std::string bad = wordSourceProblem(p_, s);
        if (!bad.empty()) failAt(pd.line, pd.col, fmt::format("{}: {}", pd.ref, bad));
        sources.push_back(s);
        continue;
      }
      const Queue& wq = p_.queues[size_t(s.writer.queue)];
      const Instr& w = wq.code[s.writer.index];
      if (!mayWrite(w, s.stream))
        failAt(pd.line, pd.col,
               fmt::format("{} is {}, which does not write {} (it writes {})", pd.ref, formatInstr(p_, wq.id, w),
                           formatStream(s.stream), streamList(streamsWritten(w, 32 - w.s0.id))));
      sources.push_back(s);
    }
    p_.sources = std::move(sources);
    checkSources(p_, name_);
  }

  struct Pending {
    StreamSource source;  // the writer still to resolve
    std::string ref;
    int line, col;
  };

  // The issue REF names: QUEUE@CYCLE, QUEUE#INDEX[.REP], LABEL or LABEL.K;
  // for a word also data, the data section.
  IssueRef resolveRef(const Pending& pd, bool word) {
    const std::string& s = pd.ref;
    auto bad = [&](const std::string& msg) { failAt(pd.line, pd.col, msg); };
    if (s == "data" && (word || !labelIssues_.count(s))) {
      if (!word)
        bad("data (the data section) writes no stream: it is a producer only of a read's word (!from word=data)");
      if (labelIssues_.count(s)) bad("'data' is both a label and the data section here: rename the label");
      return kInitialContents;
    }
    auto checked = [&](IssueRef r) {
      const std::string why = issueProblem(p_.queues[size_t(r.queue)], r.index, r.rep);
      if (!why.empty()) bad(fmt::format("{} names no issue that writes: {}", s, why));
      return r;
    };
    const size_t at = s.find_first_of("@#");
    if (at != std::string::npos) {
      const std::string qn = s.substr(0, at);
      const auto id = parseQueueId(qn);
      if (!id) bad(fmt::format("invalid queue name '{}' in '{}' (expected QUEUE@CYCLE, e.g. MEM.E0@1)", qn, s));
      int32_t qi = -1;
      for (size_t i = 0; i < p_.queues.size(); ++i)
        if (p_.queues[i].id == *id) qi = int32_t(i);
      if (qi < 0) bad(fmt::format("unknown queue {} in '{}' (the program has no .queue {})", qn, s, qn));
      if (s[at] == '#') {
        const std::string rest = s.substr(at + 1);
        const size_t dot = rest.find('.');
        uint32_t index = 0, rep = 0;
        if (!parseNum(rest.substr(0, dot), index) || (dot != std::string::npos && !parseNum(rest.substr(dot + 1), rep)))
          bad(fmt::format("expected QUEUE#INDEX or QUEUE#INDEX.REP, got '{}'", s));
        return checked({qi, index, rep});
      }
      Cycle c;
      if (!parseNum(s.substr(at + 1), c) || c < 0 || c > kMaxCycle)
        bad(fmt::format("expected QUEUE@CYCLE with a cycle number 0..{}, got '{}'", kMaxCycle, s));
      return issueAt(pd, qi, c);
    }
    auto label = labelIssues_.find(s);
    uint32_t rep = 0;
    const size_t dot = s.rfind('.');
    if (label == labelIssues_.end() && dot != std::string::npos && parseNum(s.substr(dot + 1), rep))
      label = labelIssues_.find(s.substr(0, dot));
    if (label == labelIssues_.end())
      bad(fmt::format("unknown label '{}' (a REF is QUEUE@CYCLE, QUEUE#INDEX, LABEL, LABEL.K or, for a word, data)",
                      s));
    IssueRef r = label->second;
    r.rep = label->first == s ? 0 : rep;
    return checked(r);
  }

  // The work issue of queue qi at cycle c (from the start barrier).
  IssueRef issueAt(const Pending& pd, int32_t qi, Cycle c) {
    auto& segs = runs_[qi];
    if (segs.empty()) segs = issueRuns(p_.queues[size_t(qi)]);
    const std::string qn = formatQueueId(p_.queues[size_t(qi)].id);
    std::vector<IssueRef> hits;
    for (const auto& seg : segs) {
      const auto it = std::upper_bound(seg.begin(), seg.end(), c, [](Cycle x, const Run& r) { return x < r.first; });
      if (it == seg.begin()) continue;
      const Run& r = *std::prev(it);
      if ((c - r.first) % r.d == 0 && (c - r.first) / r.d <= r.n)
        hits.push_back({qi, r.index, uint32_t((c - r.first) / r.d)});
    }
    if (hits.size() == 1) return hits[0];
    if (hits.size() > 1)
      failAt(pd.line, pd.col,
             fmt::format("{} is ambiguous: {} issues at cycle {} after more than one sync (name it {}#INDEX)", pd.ref,
                         qn, c, qn));
    Cycle before = -1, after = -1;  // the nearest issues, for the message
    for (const auto& seg : segs)
      for (const Run& r : seg) {
        if (r.first < c) before = std::max(before, r.first + std::min<Cycle>(r.n, (c - 1 - r.first) / r.d) * r.d);
        const Cycle k = r.first > c ? 0 : (c - r.first) / r.d + 1;
        if (k <= r.n && (after < 0 || r.first + k * r.d < after)) after = r.first + k * r.d;
      }
    const std::string near = before >= 0 && after >= 0 ? fmt::format("nearest: cycles {} and {}", before, after)
                             : before >= 0             ? fmt::format("its last issue is at cycle {}", before)
                             : after >= 0              ? fmt::format("its first issue is at cycle {}", after)
                                                       : "it issues no work";
    failAt(pd.line, pd.col, fmt::format("no issue of {} at cycle {} ({})", qn, c, near));
  }

  std::string name_;
  int line_ = 0;
  Program p_;
  Cycle cycle_ = 0;
  bool sawSync_ = false, barrier_ = false;
  uint64_t tensorBytes_ = 0, issues_ = 0;
  std::map<std::string, Cycle> labels_;
  std::map<std::string, IssueRef> labelIssues_;                // the labelled instruction
  std::vector<Pending> pending_;                               // !from annotations, resolved at the end
  std::map<std::tuple<IssueRef, bool, uint8_t>, int> stated_;  // (reader, stream) -> line of its !from
  std::map<int32_t, std::vector<std::vector<Run>>> runs_;      // issueRuns per queue, as needed
};

}  // namespace

Program assemble(const std::string& text, const std::string& name) { return Assembler(name).run(text); }

Program assembleFile(const std::string& path) {
  const auto b = readFileBytes(path);
  return assemble(std::string(b.begin(), b.end()), path);
}

}  // namespace lpu
