#include "program.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <tuple>

#include "error.h"
#include "numeric.h"

namespace lpu {
namespace {

bool parseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

std::vector<std::string_view> splitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '.') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

}  // namespace

std::optional<QueueId> parseQueueId(const std::string& s) {
  const auto p = splitDots(s);
  QueueId q;
  auto hemi = [&](std::string_view h) {
    if (h != "W" && h != "E") return false;
    q.east = h == "E";
    return true;
  };
  if (p.size() == 2 && p[0] == "MEM") {
    const auto sl = parseSlice(p[1]);
    if (!sl) return std::nullopt;
    q.unit = Unit::MEM;
    q.east = sl->east;
    q.index = sl->index;
    return q;
  }
  if (p.size() == 2 && (p[0] == "VXM" || p[0] == "C2C")) {
    q.unit = p[0] == "VXM" ? Unit::VXM : Unit::C2C;
    if (!parseInt(p[1], q.index)) return std::nullopt;
    return q;
  }
  if (p.size() == 3 && p[0] == "MXM" && p[1].size() >= 2) {
    q.unit = Unit::MXM;
    if (!hemi(p[1].substr(0, 1)) || !parseInt(p[1].substr(1), q.index) || !parseInt(p[2], q.sub)) return std::nullopt;
    return q;
  }
  if (p.size() == 3 && p[0] == "SXM") {
    q.unit = Unit::SXM;
    if (!hemi(p[1]) || !parseInt(p[2], q.index)) return std::nullopt;
    return q;
  }
  return std::nullopt;
}

std::string formatQueueId(const QueueId& q) {
  const std::string h = q.east ? "E" : "W";
  switch (q.unit) {
    case Unit::MEM: return "MEM." + h + std::to_string(q.index);
    case Unit::VXM: return "VXM." + std::to_string(q.index);
    case Unit::C2C: return "C2C." + std::to_string(q.index);
    case Unit::MXM: return "MXM." + h + std::to_string(q.index) + "." + std::to_string(q.sub);
    case Unit::SXM: return "SXM." + h + "." + std::to_string(q.index);
    case Unit::ICU: break;
  }
  return "ICU";
}

SliceRef Tensor::sliceOf(uint32_t row, int plane) const {
  return SliceRef{slice.east, uint8_t(slice.index + (row % spread) * bytes(dtype) + plane)};
}

std::vector<uint8_t> Tensor::initialBytes() const {
  const size_t n = size_t(rows) * cols, w = size_t(bytes(dtype));
  if (init == Init::Data) return data;
  std::vector<uint8_t> out(n * w, 0);
  if (init == Init::Random) {
    SplitMix64 rng(seed);
    for (size_t i = 0; i < n; ++i) storeElement(dtype, rng.uniform(lo, hi), &out[i * w]);
  }
  return out;
}

uint64_t checkedTensorBytes(const Tensor& t, const std::string& where) {
  const uint64_t words = (uint64_t(t.rows) + t.spread - 1) / t.spread;
  if (uint64_t(t.addr) + words - 1 > 0xffffffffull)
    throw Error(fmt::format("{}: tensor {}: addresses {}..{} pass the last MEM address 4294967295", where,
                            printable(t.name), t.addr, uint64_t(t.addr) + words - 1));
  const uint64_t elems = uint64_t(t.rows) * t.cols, w = uint64_t(bytes(t.dtype));  // < 2^64: both factors < 2^32
  if (elems > kMaxProgramBytes / w)
    throw Error(fmt::format("{}: tensor {}: [{}, {}] {} needs {} bytes, more than a program may hold ({})", where,
                            printable(t.name), t.rows, t.cols, dtypeName(t.dtype),
                            fmt::format("{:.0f}", double(elems) * double(w)), kMaxProgramBytes));
  return elems * w;
}

void addBounded(uint64_t& total, uint64_t more, uint64_t limit, const std::string& where, const char* what) {
  if (more > limit || total > limit - more)
    throw Error(fmt::format("{}: {} exceed the limit of {}", where, what, limit));
  total += more;
}

const Tensor* Program::findTensor(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

int Program::findMap(const std::string& name) const {
  for (size_t i = 0; i < maps.size(); ++i)
    if (maps[i].name == name) return int(i);
  return -1;
}

std::string formatIssueRef(const Program& p, const IssueRef& r) {
  if (r == kInitialContents) return "the data section";
  const std::string q = r.queue >= 0 && size_t(r.queue) < p.queues.size() ? formatQueueId(p.queues[size_t(r.queue)].id)
                                                                          : fmt::format("queue {}", r.queue);
  return r.rep ? fmt::format("{}#{}.{}", q, r.index, r.rep) : fmt::format("{}#{}", q, r.index);
}

namespace {

// The issue exists: an instruction that does work, and rep at most the
// repetitions of the repeat right after it.
bool issues(const Program& p, const IssueRef& r) {
  if (r.queue < 0 || size_t(r.queue) >= p.queues.size()) return false;
  const auto& code = p.queues[size_t(r.queue)].code;
  if (r.index >= code.size()) return false;
  const Opcode op = code[r.index].op;
  if (op == Opcode::NOP || op == Opcode::SYNC || op == Opcode::REPEAT) return false;
  if (r.rep == 0) return true;
  return r.index + 1 < code.size() && code[r.index + 1].op == Opcode::REPEAT && r.rep <= code[r.index + 1].n;
}

}  // namespace

void checkSources(const Program& p, const std::string& where) {
  const auto key = [](const StreamSource& a) { return std::make_tuple(a.reader, a.stream.east, a.stream.id); };
  std::optional<StreamSource> last;
  for (const StreamSource& s : p.sources) {
    for (const IssueRef* r : {&s.reader, &s.writer})
      if (!issues(p, *r) && !(r == &s.writer && s.stream == kWordRead && *r == kInitialContents))
        throw Error(fmt::format("{}: stream source {} -> {}: the program has no issue {}", where,
                                formatIssueRef(p, s.writer), formatIssueRef(p, s.reader), formatIssueRef(p, *r)));
    if (last && key(*last) == key(s))
      throw Error(fmt::format("{}: {} reads {} with two producers stated: {} and {}", where,
                              formatIssueRef(p, s.reader), formatStream(s.stream), formatIssueRef(p, last->writer),
                              formatIssueRef(p, s.writer)));
    last = s;
  }
}

Instr repeated(const Instr& base, int32_t stride, uint32_t k) {
  Instr in = base;
  in.imm = uint32_t(int64_t(base.imm) + int64_t(stride) * k);
  return in;
}

std::vector<Issue> issueCycles(const Queue& q) {
  std::vector<Issue> out;
  Cycle t = 0;
  for (size_t i = 0; i < q.code.size(); ++i) {
    const Instr& in = q.code[i];
    switch (in.op) {
      case Opcode::SYNC:
        t = 0;
        out.push_back({t, i, 0});
        break;  // released at cycle 0
      case Opcode::NOP:
        out.push_back({t, i, 0});
        t += in.imm;
        break;
      case Opcode::REPEAT:
        for (uint32_t k = 1; k <= in.n; ++k) out.push_back({t - 1 + Cycle(k) * in.d, i, k});
        t += Cycle(in.n) * in.d;
        break;
      default:
        out.push_back({t, i, 0});
        ++t;
        break;
    }
  }
  return out;
}

}  // namespace lpu
