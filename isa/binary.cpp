#include "binary.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "assembler.h"
#include "encoding.h"
#include "error.h"
#include "formats.h"

namespace lpu {
namespace {

constexpr char kMagic[8] = {'L', 'P', 'U', 'P', 'R', 'O', 'G', '\0'};
// The optional sections after the queues, each a 4-byte tag then its contents.
constexpr uint32_t kSourcesTag = 'S' | 'R' << 8 | 'C' << 16 | uint32_t('S') << 24;  // "SRCS"
constexpr size_t kSourceBytes = 25;          // reader queue, index, rep | stream | writer queue, index, rep
constexpr uint8_t kWordByte = 0xff;          // the stream byte of kWordRead (a stream's: east << 5 | id)
constexpr uint32_t kDataQueue = 0xffffffff;  // the writer queue of kInitialContents (the data section)

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

struct Writer {
  std::vector<uint8_t> out;
  void u(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(uint8_t(v >> (8 * i)));
  }
  void f64(double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    u(b, 8);
  }
  void str(const std::string& s) {
    u(s.size(), 4);
    out.insert(out.end(), s.begin(), s.end());
  }
};

struct Reader {
  const std::vector<uint8_t>& in;
  size_t pos, end;
  const std::string& name;
  void need(size_t n, const char* what) {
    if (end - pos < n) throw Error(fmt::format("{}: truncated at byte {} (reading {})", name, pos, what));
  }
  uint64_t u(int n, const char* what) {
    need(size_t(n), what);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t(in[pos + size_t(i)]) << (8 * i);
    pos += size_t(n);
    return v;
  }
  double f64(const char* what) {
    const uint64_t b = u(8, what);
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  }
  std::string str(const char* what) {
    const uint64_t n = u(4, what);
    need(n, what);
    std::string s(in.begin() + long(pos), in.begin() + long(pos + n));
    pos += n;
    return s;
  }
  // A count of items of at least `minBytes` each: must fit in what is left.
  uint64_t count(const char* what, size_t minBytes) {
    const uint64_t n = u(4, what);
    if (n * minBytes > end - pos)
      throw Error(fmt::format("{}: corrupt: {} {} at byte {} exceed the file", name, n, what, pos));
    return n;
  }
};

}  // namespace

std::vector<uint8_t> serialize(const Program& p) {
  Writer b;
  b.str(p.chip);
  b.u(p.tensors.size(), 4);
  for (const Tensor& t : p.tensors) {
    b.str(t.name);
    b.u(uint8_t(t.dtype), 1);
    b.u(t.rows, 4);
    b.u(t.cols, 4);
    b.u((uint32_t(t.slice.east) << 7) | t.slice.index, 1);
    b.u(t.addr, 4);
    b.u(t.spread, 4);
    b.u(uint8_t(t.init), 1);
    b.u(t.output, 1);
    if (t.init == Tensor::Init::Data) {
      b.u(t.data.size(), 8);
      b.out.insert(b.out.end(), t.data.begin(), t.data.end());
    } else if (t.init == Tensor::Init::Random) {
      b.u(t.seed, 8);
      b.f64(t.lo);
      b.f64(t.hi);
    }
  }
  b.u(p.maps.size(), 4);
  for (const PermMap& m : p.maps) {
    b.str(m.name);
    b.u(m.lanes.size(), 4);
    for (uint32_t l : m.lanes) b.u(l, 4);
  }
  b.u(p.queues.size(), 4);
  for (const Queue& q : p.queues) {
    b.str(formatQueueId(q.id));
    b.u(q.code.size(), 4);
    for (const Instr& in : q.code) b.u(encode(in), 8);
  }
  // Written only when there are sources: a program without keeps its bytes.
  if (!p.sources.empty()) {
    b.u(kSourcesTag, 4);
    b.u(p.sources.size(), 4);
    for (const StreamSource& s : p.sources) {
      b.u(uint32_t(s.reader.queue), 4), b.u(s.reader.index, 4), b.u(s.reader.rep, 4);
      b.u(s.stream == kWordRead ? kWordByte : (uint32_t(s.stream.east) << 5) | (s.stream.id & 31u), 1);
      b.u(s.writer == kInitialContents ? kDataQueue : uint32_t(s.writer.queue), 4);
      b.u(s.writer.index, 4), b.u(s.writer.rep, 4);
    }
  }
  Writer file;
  file.out.insert(file.out.end(), kMagic, kMagic + 8);
  file.u(kBinaryVersion, 4);
  file.u(b.out.size(), 8);
  file.out.insert(file.out.end(), b.out.begin(), b.out.end());
  file.u(fnv1a(b.out.data(), b.out.size()), 8);
  return file.out;
}

Program deserialize(const std::vector<uint8_t>& file, const std::string& name) {
  if (file.size() < 8 || std::memcmp(file.data(), kMagic, 8) != 0)
    throw Error(fmt::format("{}: not an lpusim program (bad magic; expected \"LPUPROG\")", name));
  Reader h{file, 8, file.size(), name};
  const uint64_t version = h.u(4, "version");
  if (version != kBinaryVersion)
    throw Error(fmt::format("{}: format version {}, this lpusim reads version {}", name, version, kBinaryVersion));
  const uint64_t len = h.u(8, "body length");
  if (len > h.end - h.pos || h.end - h.pos - len != 8)  // the checksum follows the body
    throw Error(fmt::format("{}: truncated or padded: body length {} but {} bytes follow the header", name, len,
                            h.end - h.pos));
  Reader r{file, h.pos, h.pos + len, name};
  Reader tail{file, h.pos + len, file.size(), name};
  if (tail.u(8, "checksum") != fnv1a(file.data() + r.pos, len))
    throw Error(fmt::format("{}: checksum mismatch: the file is corrupt", name));

  Program p;
  p.chip = r.str("chip name");
  const uint64_t nt = r.count("tensors", 20);
  uint64_t tensorBytes = 0;
  for (uint64_t i = 0; i < nt; ++i) {
    Tensor t;
    t.name = r.str("tensor name");
    const uint64_t dt = r.u(1, "tensor dtype");
    if (dt >= kDTypeCount) throw Error(fmt::format("{}: corrupt: tensor {} has dtype {}", name, printable(t.name), dt));
    t.dtype = DType(dt);
    t.rows = uint32_t(r.u(4, "tensor rows"));
    t.cols = uint32_t(r.u(4, "tensor cols"));
    const uint64_t sl = r.u(1, "tensor slice");
    t.slice = SliceRef{bool(sl >> 7), uint8_t(sl & 127)};
    t.addr = uint32_t(r.u(4, "tensor address"));
    t.spread = uint32_t(r.u(4, "tensor spread"));
    const uint64_t init = r.u(1, "tensor init"), out = r.u(1, "tensor output flag");
    if (init > 2 || out > 1 || t.spread == 0 || t.rows == 0 || t.cols == 0)
      throw Error(fmt::format("{}: corrupt: tensor {} has invalid fields", name, printable(t.name)));
    // As the assembler requires: every byte plane of every row is in a slice 0..127.
    if (uint64_t(t.slice.index) + uint64_t(t.spread) * uint64_t(bytes(t.dtype)) - 1 > 127)
      throw Error(fmt::format("{}: corrupt: tensor {} with spread {} would need slice index {}", name,
                              printable(t.name), t.spread,
                              uint64_t(t.slice.index) + uint64_t(t.spread) * uint64_t(bytes(t.dtype)) - 1));
    t.init = Tensor::Init(init);
    t.output = out;
    addBounded(tensorBytes, checkedTensorBytes(t, name), kMaxProgramBytes, name, "the tensors' bytes");
    if (t.init == Tensor::Init::Data) {
      const uint64_t n = r.u(8, "tensor data length");
      if (n != uint64_t(t.rows) * t.cols * uint64_t(bytes(t.dtype)))
        throw Error(fmt::format("{}: corrupt: tensor {} has {} data bytes, expected {}", name, printable(t.name), n,
                                uint64_t(t.rows) * t.cols * bytes(t.dtype)));
      r.need(n, "tensor data");
      t.data.assign(file.begin() + long(r.pos), file.begin() + long(r.pos + n));
      r.pos += n;
    } else if (t.init == Tensor::Init::Random) {
      t.seed = r.u(8, "tensor seed");
      t.lo = r.f64("tensor range");
      t.hi = r.f64("tensor range");
    }
    p.tensors.push_back(std::move(t));
  }
  const uint64_t nm = r.count("maps", 8);
  for (uint64_t i = 0; i < nm; ++i) {
    PermMap m;
    m.name = r.str("map name");
    const uint64_t n = r.count("map lanes", 4);
    for (uint64_t k = 0; k < n; ++k) m.lanes.push_back(uint32_t(r.u(4, "map lane")));
    p.maps.push_back(std::move(m));
  }
  const uint64_t nq = r.count("queues", 8);
  uint64_t issues = 0;
  for (uint64_t i = 0; i < nq; ++i) {
    const std::string qn = r.str("queue name");
    const auto id = parseQueueId(qn);
    if (!id) throw Error(fmt::format("{}: corrupt: invalid queue name \"{}\"", name, printable(qn)));
    Queue q{*id, {}};
    const uint64_t n = r.count("instructions", 8);
    for (uint64_t k = 0; k < n; ++k) {
      q.code.push_back(decode(r.u(8, "instruction"), fmt::format("{}: queue {} instruction {}", name, qn, k)));
      addBounded(issues, q.code.back().op == Opcode::REPEAT ? q.code.back().n : 1, kMaxIssues, name,
                 "the instructions issued (repeats expanded)");
    }
    p.queues.push_back(std::move(q));
  }
  std::vector<StreamSource> sources;
  while (r.pos != r.end) {
    const size_t at = r.pos;
    const uint64_t tag = r.u(4, "section tag");
    if (tag != kSourcesTag)
      throw Error(fmt::format("{}: corrupt: unknown section tag 0x{:08x} at byte {} (expected SRCS)", name, tag, at));
    if (!sources.empty()) throw Error(fmt::format("{}: corrupt: a second stream sources section at byte {}", name, at));
    const uint64_t n = r.count("stream sources", kSourceBytes);
    if (n == 0) throw Error(fmt::format("{}: corrupt: an empty stream sources section at byte {}", name, at));
    sources.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      auto issue = [&](const char* what, bool word) {
        const uint64_t q = r.u(4, what);
        IssueRef ref;
        ref.queue = int32_t(q);
        ref.index = uint32_t(r.u(4, what));
        ref.rep = uint32_t(r.u(4, what));
        if (word && q == kDataQueue) {
          if (ref == kInitialContents) return ref;
          throw Error(
              fmt::format("{}: corrupt: stream source {} names the data section with index {} and repetition "
                          "{} (expected 0 and 0)",
                          name, i, ref.index, ref.rep));
        }
        if (q >= p.queues.size())
          throw Error(fmt::format(
              "{}: corrupt: stream source {} names queue {}, the program has {}{}", name, i, q, p.queues.size(),
              q == kDataQueue ? " (0xffffffff, the data section, is the writer of a word only)" : ""));
        return ref;
      };
      StreamSource s;
      s.reader = issue("stream source reader", false);
      const uint64_t st = r.u(1, "stream source stream");
      if (st > 63 && st != kWordByte)
        throw Error(fmt::format("{}: corrupt: stream source {} has stream byte {} (expected 0..63, or 255 for a word)",
                                name, i, st));
      s.stream = st == kWordByte ? kWordRead : StreamRef{uint8_t(st & 31), bool(st >> 5)};
      s.writer = issue("stream source writer", st == kWordByte);
      sources.push_back(s);
    }
  }
  p.sources = std::move(sources);
  checkSources(p, name);
  for (const StreamSource& s : p.sources) {
    if (s.stream == kWordRead) {
      const std::string bad = wordSourceProblem(p, s);
      if (!bad.empty())
        throw Error(fmt::format("{}: corrupt: word source {} -> {}: {}", name, formatIssueRef(p, s.writer),
                                formatIssueRef(p, s.reader), bad));
      continue;
    }
    const Instr& reader = p.queues[size_t(s.reader.queue)].code[s.reader.index];
    const Instr& writer = p.queues[size_t(s.writer.queue)].code[s.writer.index];
    const bool reads = mayRead(reader, s.stream);
    if (!reads || !mayWrite(writer, s.stream))
      throw Error(fmt::format("{}: corrupt: stream source {} -> {}: {} does not {} {}", name,
                              formatIssueRef(p, s.writer), formatIssueRef(p, s.reader),
                              formatIssueRef(p, reads ? s.writer : s.reader), reads ? "write" : "read",
                              formatStream(s.stream)));
  }
  return p;
}

std::vector<uint8_t> readFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(fmt::format("{}: cannot open file", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void writeProgram(const Program& p, const std::string& path) {
  const auto bytes = serialize(p);
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(fmt::format("{}: cannot open for writing", path));
  f.write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  if (!f) throw Error(fmt::format("{}: write failed", path));
}

Program readProgram(const std::string& path) { return deserialize(readFileBytes(path), path); }

namespace {

bool among(const std::vector<StreamRef>& streams, StreamRef s) {
  for (const StreamRef& x : streams)
    if (x == s) return true;
  return false;
}

}  // namespace

bool mayRead(const Instr& in, StreamRef s) { return among(streamsRead(in, 32 - in.s1.id), s); }
bool mayWrite(const Instr& in, StreamRef s) { return among(streamsWritten(in, 32 - in.s0.id), s); }

namespace {

// The MEM address a read or write issue takes: its immediate, stepped by its repeat.
uint32_t addressOf(const Queue& q, const IssueRef& r) {
  const Instr& in = q.code[r.index];
  return r.rep ? repeated(in, q.code[r.index + 1].stride, r.rep).imm : in.imm;
}

}  // namespace

std::string wordSourceProblem(const Program& p, const StreamSource& s) {
  const Queue& rq = p.queues[size_t(s.reader.queue)];
  const Instr& rd = rq.code[s.reader.index];
  if (rq.id.unit != Unit::MEM || rd.op != Opcode::READ)
    return fmt::format("{} is {}: only a read has a word stated (a gather reads words per lane)",
                       formatIssueRef(p, s.reader), formatInstr(p, rq.id, rd));
  if (s.writer == kInitialContents) return "";
  const Queue& wq = p.queues[size_t(s.writer.queue)];
  const Instr& w = wq.code[s.writer.index];
  if (wq.id.unit != Unit::MEM || w.op != Opcode::WRITE || !(wq.id == rq.id))
    return fmt::format("{} is {}, not a write to slice {} (the producer of a word is a write to its slice or data)",
                       formatIssueRef(p, s.writer), formatInstr(p, wq.id, w),
                       formatSlice(SliceRef{rq.id.east, uint8_t(rq.id.index)}));
  const uint32_t want = addressOf(rq, s.reader), got = addressOf(wq, s.writer);
  if (want != got)
    return fmt::format("{} writes address {}, not address {} that {} reads", formatIssueRef(p, s.writer), got, want,
                       formatIssueRef(p, s.reader));
  return "";
}

}  // namespace lpu
