#include "assembler.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

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
  [[noreturn]] void fail(int col, const std::string& msg) const {
    throw Error(fmt::format("{}:{}:{}: {}", name_, line_, col, msg));
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
    if (!label.empty()) labels_[label] = cycle_;
    emit(q, parseInstr(q, t), t[0].col);
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
      case Syntax::Stream: {
        unsigned id = 0;
        if (s.size() < 3 || s[0] != 's' || (s.back() != 'e' && s.back() != 'w') ||
            !parseNum(std::string_view(s).substr(1, s.size() - 2), id) || id > 31)
          fail(tok.col, fmt::format("expected a stream like s5e or s5w (id 0..31), got '{}'", s));
        const StreamRef r{uint8_t(id), s.back() == 'e'};
        (o.field == Field::S0 ? in.s0 : o.field == Field::S1 ? in.s1 : in.s2) = r;
        break;
      }
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
  }

  std::string name_;
  int line_ = 0;
  Program p_;
  Cycle cycle_ = 0;
  bool sawSync_ = false, barrier_ = false;
  uint64_t tensorBytes_ = 0, issues_ = 0;
  std::map<std::string, Cycle> labels_;
};

}  // namespace

Program assemble(const std::string& text, const std::string& name) { return Assembler(name).run(text); }

Program assembleFile(const std::string& path) {
  const auto b = readFileBytes(path);
  return assemble(std::string(b.begin(), b.end()), path);
}

}  // namespace lpu
