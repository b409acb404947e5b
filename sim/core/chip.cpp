#include "chip.h"

#include <fmt/format.h>

#include <limits>

#include "isa/assembler.h"
#include "isa/numeric.h"
#include "sxm.h"
#include "vxm.h"

namespace lpu {

Chip::Chip(const ChipConfig& c, const Program& p, std::string programName, SimOptions opt)
    : cfg_(c),
      prog_(p),
      name_(std::move(programName)),
      opt_(opt),
      fabric_(c.streams_per_direction, c.stream_hop, c.eastEdge(), [this](const Origin& o) { return describe(o); }) {
  fabric_.setPositionNamer([this](int pos) { return positionName(pos); });
  for (const Queue& q : p.queues) pos_.push_back(c.position(q.id));
  if (opt.checkSources)
    for (size_t q = 0; q < p.queues.size(); ++q) sources_.emplace_back(p.sources, int32_t(q));
  for (int e = 0; e < 2; ++e)
    for (int i = 0; i < c.mem_slices_per_hemisphere; ++i) {
      mem_.push_back(std::make_unique<MemSlice>(c, SliceRef{bool(e), uint8_t(i)}, opt.functional));
      if (opt.checkSources && opt.functional) mem_.back()->trackWriters();
      mem_.back()->setDescribe([this](const Origin& o) { return describe(o); });
    }
  for (int e = 0; e < 2; ++e)
    for (int i = 0; i < c.mxm_planes_per_hemisphere; ++i)
      mxm_.push_back(std::make_unique<MxmPlane>(c, fmt::format("MXM.{}{}", e ? "E" : "W", i), opt.functional));
  for (int i = 0; i < c.c2c_links; ++i) c2c_.emplace_back(c, i, [this](const Origin& o) { return describe(o); });
  if (!opt.functional) return;
  for (const Tensor& t : p.tensors) {  // load the data section
    const auto data = t.initialBytes();
    const int w = bytes(t.dtype);
    std::vector<uint8_t> lanes(t.cols);
    for (uint32_t r = 0; r < t.rows; ++r)
      for (int b = 0; b < w; ++b) {
        for (uint32_t col = 0; col < t.cols; ++col)
          lanes[col] = data[(size_t(r) * t.cols + col) * size_t(w) + size_t(b)];
        mem(t.sliceOf(r, b)).poke(t.addrOf(r), lanes.data(), lanes.size());
      }
  }
}

std::string Chip::positionName(int pos) const {
  const int m = cfg_.mem_slices_per_hemisphere;
  if (pos == 0) return "MXM.W";
  if (pos == 1) return "SXM.W";
  if (pos == cfg_.vxmPosition()) return "VXM";
  if (pos == cfg_.eastEdge() - 1) return "SXM.E";
  if (pos == cfg_.eastEdge()) return "MXM.E";
  return pos < cfg_.vxmPosition() ? fmt::format("MEM.W{}", m + 1 - pos) : fmt::format("MEM.E{}", pos - m - 3);
}

std::string Chip::queueName(int q) const { return formatQueueId(prog_.queues[size_t(q)].id); }

std::string Chip::describe(const Origin& o) const {
  if (o.queue < 0) return "the data section";
  return fmt::format("cycle {}, {}, {}", o.issue, queueName(o.queue),
                     formatInstr(prog_, prog_.queues[size_t(o.queue)].id, o.instr));
}

void Chip::countControl(int q, const Instr& in, Cycle t, Cycle dur) {
  auto& s = stats_[size_t(Unit::ICU)];
  ++s.instructions;
  if (in.op == Opcode::NOP) lastRetire_ = std::max(lastRetire_, t + dur);
  if (opt_.trace && in.op != Opcode::NOP) trace_.push_back({q, t, dur, in});
}

void Chip::execute(int q, const Instr& in, Cycle t, uint32_t index, uint32_t rep) {
  const Origin who{q, in, t, index, rep};
  try {
    dispatch(q, in, t, who);
  } catch (const Violation& v) {
    throw Error(fmt::format("{}: {}", describe(who), v.what()));
  }
  const OpInfo& oi = info(in.op);
  const Cycle dur = std::max(1, cfg_.latencyOf(oi.latency));
  lastRetire_ = std::max(lastRetire_, t + dur);
  auto& s = stats_[size_t(oi.unit)];
  ++s.instructions;
  ++s.busy;
  if (opt_.trace) trace_.push_back({q, t, dur, in});
}

void Chip::dispatch(int q, const Instr& in, Cycle t, const Origin& who) {
  const QueueId& id = prog_.queues[size_t(q)].id;
  const int pos = pos_[size_t(q)];
  switch (in.op) {
    case Opcode::NOTIFY:
      if (release_)
        throw Violation(
            fmt::format("a second notify: a program has one start barrier (released in cycle {})", *release_));
      release_ = t + cfg_.latency.icu_notify;
      return;
    case Opcode::IFETCH:
      if (in.slice.index >= cfg_.mem_slices_per_hemisphere)
        throw Violation(fmt::format("slice {} does not exist", formatSlice(in.slice)));
      mem(in.slice).fetch(in.imm, t, who);
      return;
    default: break;
  }
  switch (info(in.op).unit) {
    case Unit::MEM: execMem(id, pos, in, t, who); break;
    case Unit::VXM: execVxm(pos, in, t, who); break;
    case Unit::MXM: execMxm(id, pos, in, t, who); break;
    case Unit::SXM: execSxm(pos, in, t, who); break;
    case Unit::C2C: execC2c(pos, in, t, who); break;
    case Unit::ICU: break;
  }
}

std::vector<Plane> Chip::readPlanes(StreamRef base, int n, int pos, Cycle t, const Origin& who) {
  std::vector<Plane> v;
  v.reserve(size_t(n));
  for (int i = 0; i < n; ++i) v.push_back(readStream(StreamRef{uint8_t(base.id + i), base.east}, pos, t, who));
  return v;
}

Plane Chip::readStream(StreamRef s, int pos, Cycle t, const Origin& who) {
  const Origin* writer = nullptr;
  Plane p = fabric_.read(s, pos, t, &writer);
  if (opt_.checkSources) checkSource(s, pos, t, who, *writer);
  return p;
}

std::optional<IssueRef> Chip::statedSource(const Origin& reader, StreamRef s) {
  if (reader.queue < 0 || size_t(reader.queue) >= sources_.size()) return std::nullopt;
  return sources_[size_t(reader.queue)].find(reader.index, reader.rep, s);
}

namespace {

std::string producerName(const Program& p, const IssueRef& want) {
  if (want == kInitialContents) return formatIssueRef(p, want);
  const bool exists =
      want.queue >= 0 && size_t(want.queue) < p.queues.size() && want.index < p.queues[size_t(want.queue)].code.size();
  if (!exists) return formatIssueRef(p, want) + ", which the program does not have";
  const Queue& q = p.queues[size_t(want.queue)];
  return fmt::format("{} ({})", formatIssueRef(p, want), formatInstr(p, q.id, q.code[want.index]));
}

}  // namespace

void Chip::checkSource(StreamRef s, int pos, Cycle t, const Origin& reader, const Origin& writer) {
  const std::optional<IssueRef> want = statedSource(reader, s);
  if (!want) {
    ++sourceStats_.unstated;
    return;
  }
  ++sourceStats_.checked;
  if (writer.is(*want)) return;
  throw Violation(
      fmt::format("reads {} at {} in cycle {} the value of {}, but its producer is {}: dropped, moved or "
                  "overtaken",
                  formatStream(s), positionName(pos), t, describe(writer), producerName(prog_, *want)));
}

void Chip::checkWordSource(MemSlice& m, uint32_t addr, const Origin& reader) {
  if (!opt_.checkSources || !opt_.functional) return;  // (timing-only runs do not know where scatters write)
  const std::optional<IssueRef> want = statedSource(reader, kWordRead);
  const IssueRef* got = m.writerOf(addr);
  if (!got) {  // a scatter wrote some of its lanes: several writers
    ++sourceStats_.words_scattered;
    return;
  }
  if (!want) {
    ++sourceStats_.words_unstated;
    return;
  }
  ++sourceStats_.words_checked;
  if (*got == *want) return;
  std::string holder = formatIssueRef(prog_, *got);
  if (got->queue >= 0) {
    const Queue& q = prog_.queues[size_t(got->queue)];
    holder = fmt::format("{} ({})", holder, formatInstr(prog_, q.id, q.code[got->index]));
  }
  throw Violation(
      fmt::format("reads address {} holding the value of {}, but its producer is {}: dropped, moved or "
                  "overtaken",
                  addr, holder, producerName(prog_, *want)));
}

void Chip::writePlanes(StreamRef base, const std::vector<Plane>& v, int pos, Cycle avail, const Origin& who) {
  for (size_t i = 0; i < v.size(); ++i)
    fabric_.write(StreamRef{uint8_t(base.id + i), base.east}, pos, avail, v[i], who);
}

std::vector<double> Chip::lanesOf(const std::vector<Plane>& planes, DType t) const {
  for (const Plane& p : planes)
    if (!p) return {};
  const size_t n = size_t(cfg_.lanes());
  std::vector<double> out(n);
  uint8_t buf[4];
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < planes.size(); ++b) buf[b] = (*planes[b])[i];
    out[i] = loadElement(t, buf);
  }
  return out;
}

std::vector<Plane> Chip::planesOf(const std::vector<double>& v, DType t) const {
  const int w = bytes(t);
  if (v.empty()) return std::vector<Plane>(size_t(w));
  std::vector<std::shared_ptr<std::vector<uint8_t>>> planes;
  for (int b = 0; b < w; ++b) planes.push_back(std::make_shared<std::vector<uint8_t>>(v.size()));
  uint8_t buf[4];
  for (size_t i = 0; i < v.size(); ++i) {
    storeElement(t, v[i], buf);
    for (int b = 0; b < w; ++b) (*planes[size_t(b)])[i] = buf[b];
  }
  return std::vector<Plane>(planes.begin(), planes.end());
}

void Chip::execMem(const QueueId& id, int pos, const Instr& in, Cycle t, const Origin& who) {
  MemSlice& m = mem(SliceRef{id.east, uint8_t(id.index)});
  switch (in.op) {
    case Opcode::READ:
      fabric_.write(in.s0, pos, t + cfg_.latency.mem_read, m.read(in.imm, t, who), who);
      checkWordSource(m, in.imm, who);
      break;
    case Opcode::WRITE: m.write(in.imm, t, readStream(in.s0, pos, t, who), who); break;
    case Opcode::GATHER:
    case Opcode::SCATTER: {
      const auto map = lanesOf(readPlanes(in.s1, 4, pos, t, who), DType::I32);
      std::vector<uint32_t> addrs(map.begin(), map.end());
      if (in.op == Opcode::GATHER)
        fabric_.write(in.s0, pos, t + cfg_.latency.mem_read, m.gather(addrs, t, who), who);
      else
        m.scatter(addrs, t, readStream(in.s0, pos, t, who), who);
      break;
    }
    default: break;
  }
}

void Chip::execVxm(int pos, const Instr& in, Cycle t, const Origin& who) {
  const OpInfo& oi = info(in.op);
  const Cycle avail = t + cfg_.latencyOf(oi.latency);
  if (in.op == Opcode::MOV) {  // any type: copy the planes
    writePlanes(in.s0, readPlanes(in.s1, bytes(in.dt), pos, t, who), pos, avail, who);
    return;
  }
  const DType src = in.op == Opcode::CVT ? in.dt2 : in.dt;
  std::vector<double> x = lanesOf(readPlanes(in.s1, bytes(src), pos, t, who), src);
  std::vector<double> y;
  if (oi.format == Format::Binary) y = lanesOf(readPlanes(in.s2, bytes(in.dt), pos, t, who), in.dt);
  if (oi.format == Format::Immediate && !x.empty()) {
    uint8_t b[4] = {uint8_t(in.imm), uint8_t(in.imm >> 8), uint8_t(in.imm >> 16), uint8_t(in.imm >> 24)};
    y.assign(x.size(), loadElement(isFloat(in.dt) ? DType::F32 : DType::I32, b));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (in.op == Opcode::CVT) continue;  // storeElement rounds and saturates
    x[i] = y.empty() ? vxmUnary(in.op, in.dt, x[i]) : vxmBinary(in.op, in.dt, x[i], y[i]);
  }
  writePlanes(in.s0, planesOf(x, in.dt), pos, avail, who);
}

void Chip::execMxm(const QueueId& id, int pos, const Instr& in, Cycle t, const Origin& who) {
  MxmPlane& pl = plane(id);
  switch (in.op) {
    case Opcode::CONFIG: pl.config(in.dt, t); break;
    case Opcode::LW: {
      const int w = bytes(in.dt);
      if (in.n == 0 || int(in.n) * w > cfg_.mxm_weight_streams)
        throw Violation(fmt::format("lw.{} loads 1..{} rows per cycle on this chip ({} weight streams), not {}",
                                    dtypeName(in.dt), cfg_.mxm_weight_streams / w, cfg_.mxm_weight_streams, in.n));
      std::vector<std::vector<double>> rows;
      for (uint32_t r = 0; r < in.n; ++r)
        rows.push_back(
            lanesOf(readPlanes(StreamRef{uint8_t(in.s1.id + r * uint32_t(w)), in.s1.east}, w, pos, t, who), in.dt));
      pl.loadRows(in.dt, in.imm, rows, in.n, t);
      break;
    }
    case Opcode::IW: pl.install(in.imm, t); break;
    case Opcode::ABC:
      pl.activate(in.dt, lanesOf(readPlanes(in.s1, bytes(in.dt), pos, t, who), in.dt), in.imm, in.mode, t);
      break;
    case Opcode::ACC:
      writePlanes(in.s0, planesOf(pl.drain(in.dt, in.imm, t), in.dt), pos, t + cfg_.latency.mxm_acc, who);
      break;
    default: break;
  }
}

void Chip::execSxm(int pos, const Instr& in, Cycle t, const Origin& who) {
  const Cycle avail = t + cfg_.latencyOf(info(in.op).latency);
  if (in.op == Opcode::TRANSPOSE) {  // per superlane: stream j lane l -> stream l lane j
    const int ls = cfg_.lanes_per_superlane;
    const auto in_ = readPlanes(in.s1, ls, pos, t, who);
    std::vector<Plane> out(static_cast<size_t>(ls));
    if (in_[0]) {
      for (int j = 0; j < ls; ++j) {
        auto v = std::make_shared<std::vector<uint8_t>>(size_t(cfg_.lanes()));
        for (int s = 0; s < cfg_.superlanes; ++s)
          for (int l = 0; l < ls; ++l) (*v)[size_t(s * ls + l)] = (*in_[size_t(l)])[size_t(s * ls + j)];
        out[size_t(j)] = v;
      }
    }
    writePlanes(in.s0, out, pos, avail, who);
    return;
  }
  const auto src = sxmSourceLanes(cfg_, prog_, in);
  auto planes = readPlanes(in.s1, bytes(in.dt), pos, t, who);
  for (Plane& p : planes) {
    if (!p) continue;
    auto v = std::make_shared<std::vector<uint8_t>>(p->size(), 0);
    for (size_t i = 0; i < src.size(); ++i)
      if (src[i] >= 0) (*v)[i] = (*p)[size_t(src[i])];
    p = v;
  }
  writePlanes(in.s0, planes, pos, avail, who);
}

void Chip::execC2c(int pos, const Instr& in, Cycle t, const Origin& who) {
  C2cLink& link = c2c_[in.imm];
  switch (in.op) {
    case Opcode::DESKEW: link.deskew(t); break;
    case Opcode::SEND: link.send(readStream(in.s1, pos, t, who), t, who); break;
    case Opcode::RECV: fabric_.write(in.s0, pos, t + cfg_.latency.c2c_recv, link.receive(t), who); break;
    default: break;
  }
}

void Chip::finish() {
  fabric_.sweep(std::numeric_limits<Cycle>::max());
  finishLinks();
}

void Chip::finishLinks() const {
  for (const C2cLink& l : c2c_) l.checkDrained();
}

std::vector<uint8_t> Chip::tensorBytes(const Tensor& t) const {
  const int w = bytes(t.dtype);
  std::vector<uint8_t> out(size_t(t.rows) * t.cols * size_t(w), 0);
  for (uint32_t r = 0; r < t.rows; ++r)
    for (int b = 0; b < w; ++b) {
      const uint8_t* lanes = mem(t.sliceOf(r, b)).peek(t.addrOf(r));
      if (!lanes) return {};
      for (uint32_t col = 0; col < t.cols; ++col) out[(size_t(r) * t.cols + col) * size_t(w) + size_t(b)] = lanes[col];
    }
  return out;
}

}  // namespace lpu
