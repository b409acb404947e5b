#include "builder.h"

#include <fmt/format.h>

#include <set>

#include "isa/arch/queues.h"
#include "isa/error.h"
#include "isa/formats.h"

namespace lpu {

TaskBuilder::TaskBuilder(const ChipConfig& c, const Program& p, std::string label) : c_(c), p_(p) {
  t_.label = std::move(label);
}

std::vector<std::pair<int, Cycle>> TaskBuilder::queueCycles() const {
  std::vector<std::pair<int, Cycle>> v;
  for (const Slot& s : t_.slots)
    if (!s.anyVxm) v.emplace_back(queueIndex(c_, s.queue), s.rel);
  return v;
}

bool TaskBuilder::usesAQueueTwice() const {
  std::set<std::pair<int, Cycle>> seen;
  for (const auto& qc : queueCycles())
    if (!seen.insert(qc).second) return true;
  return false;
}

Cycle TaskBuilder::availAt(Val v, int pos) const {
  const Value& x = vals_[size_t(v.id)];
  return x.avail + Cycle(std::abs(pos - x.pos)) * c_.stream_hop;
}

void TaskBuilder::consume(Val v, int pos, Cycle when) {
  Value& x = vals_[size_t(v.id)];
  if (availAt(v, pos) != when)
    throw Error(fmt::format("internal: task {}: a value is at position {} in cycle {}, not {}", t_.label, pos,
                            availAt(v, pos), when));
  if (pos != x.pos) direct(x, pos, "read both east and west of its producer");
  t_.uses.push_back({x.var, x.avail, x.pos, pos, -1});
}

void TaskBuilder::direct(Value& x, int pos, const char* clash) {
  const bool east = pos > x.pos;
  StreamVar& sv = t_.vars[size_t(x.var)];
  if (x.directed && sv.east != east) throw Error(fmt::format("internal: task {}: a value is {}", t_.label, clash));
  sv.east = east;
  x.directed = true;
}

Slot& TaskBuilder::addSlot(Cycle rel, const QueueId& q, bool anyVxm, const Instr& in, int v0, int v1, int v2) {
  Slot s;
  s.rel = rel;
  s.queue = q;
  s.anyVxm = anyVxm;
  s.instr = in;
  s.var[0] = v0, s.var[1] = v1, s.var[2] = v2;
  t_.slots.push_back(s);
  t_.end = std::max(t_.end, rel + std::max(1, c_.latencyOf(info(in.op).latency)));
  return t_.slots.back();
}

TaskBuilder::Val TaskBuilder::read(int tensor, uint32_t row, int pos, Cycle when, int rowId) {
  std::vector<PlaneRead> planes;
  for (int b = 0; b < bytes(p_.tensors[size_t(tensor)].dtype); ++b) planes.push_back({tensor, row, b, rowId});
  return readPlanes(planes, pos, when);
}

TaskBuilder::Val TaskBuilder::issue(Cycle when, const QueueId& q, Instr in, std::vector<Val> srcs) {
  const int pos = c_.position(q);
  int v[3] = {-1, -1, -1};
  for (size_t i = 0; i < srcs.size(); ++i) {
    if (!srcs[i]) continue;
    consume(srcs[i], pos, when);
    v[i + 1] = vals_[size_t(srcs[i].id)].var;
  }
  const int planes = in.op == Opcode::TRANSPOSE ? c_.lanes_per_superlane : resultPlanes(in);
  Val out;
  if (planes > 0) {
    v[0] = int(t_.vars.size());
    t_.vars.push_back({true, planes});
    vals_.push_back({v[0], when + c_.latencyOf(info(in.op).latency), pos, false});
    out = Val{int(vals_.size()) - 1};
    // A transpose writes all its streams, used or not: they are taken where it writes them.
    if (in.op == Opcode::TRANSPOSE) t_.uses.push_back({v[0], vals_.back().avail, pos, pos, -1});
  }
  addSlot(when, q, false, in, v[0], v[1], v[2]);
  return out;
}

TaskBuilder::Val TaskBuilder::vxm(Opcode op, DType dt, Cycle when, Val a, Val b, uint32_t imm, DType from) {
  const int pos = vxmPos();
  Instr in;
  in.op = op;
  in.dt = dt;
  in.dt2 = from;
  in.imm = imm;
  int v1 = -1, v2 = -1;
  if (a) consume(a, pos, when), v1 = vals_[size_t(a.id)].var;
  if (b) consume(b, pos, when), v2 = vals_[size_t(b.id)].var;
  const int var = int(t_.vars.size());
  t_.vars.push_back({true, bytes(dt)});
  vals_.push_back({var, when + c_.latencyOf(info(op).latency), pos, false});
  addSlot(when, QueueId{Unit::VXM, false, 0, 0}, true, in, var, v1, v2);
  return Val{int(vals_.size()) - 1};
}

void TaskBuilder::write(int tensor, uint32_t row, Val v, int rowId) {
  const Tensor& t = p_.tensors[size_t(tensor)];
  const Value& x = vals_[size_t(v.id)];
  if (t_.vars[size_t(x.var)].planes != bytes(t.dtype))
    throw Error(fmt::format("internal: task {}: writing {} planes into {} tensor {}", t_.label,
                            t_.vars[size_t(x.var)].planes, dtypeName(t.dtype), t.name));
  for (int b = 0; b < bytes(t.dtype); ++b) writeSlice(t, row, b, b, v, rowId);
}

void TaskBuilder::writePlane(int tensor, uint32_t row, int plane, Val v, int rowId, int from) {
  writeSlice(p_.tensors[size_t(tensor)], row, plane, from, v, rowId);
}

void TaskBuilder::writeSlice(const Tensor& t, uint32_t row, int plane, int off, Val v, int rowId) {
  Value& xv = vals_[size_t(v.id)];
  const SliceRef s = t.sliceOf(row, plane);
  const int pos = c_.memPosition(s);
  const Cycle when = availAt(v, pos);
  direct(xv, pos, "written both east and west of its producer");
  t_.uses.push_back({xv.var, xv.avail, xv.pos, pos, off});
  Instr in;
  in.op = Opcode::WRITE;
  in.imm = t.addrOf(row);
  addSlot(when, QueueId{Unit::MEM, s.east, s.index, 0}, false, in, xv.var, -1, -1).off[0] = off;
  const Cycle commit = when + c_.latency.mem_write;
  t_.ports.push_back({sliceIndex(s), int(in.imm % uint32_t(c_.mem_banks_per_slice)), commit});
  if (rowId >= 0) t_.writes.push_back({rowId, commit});
}

TaskBuilder::Val TaskBuilder::readPlanes(const std::vector<PlaneRead>& planes, int pos, Cycle when) {
  return loadPlanes(planes, Val{}, pos, when);
}

TaskBuilder::Val TaskBuilder::gatherPlanes(const std::vector<PlaneRead>& planes, Val map, int pos, Cycle when) {
  return loadPlanes(planes, map, pos, when);
}

TaskBuilder::Val TaskBuilder::loadPlanes(const std::vector<PlaneRead>& planes, Val map, int pos, Cycle when) {
  const int var = int(t_.vars.size());
  t_.vars.push_back({true, int(planes.size())});
  for (size_t q = 0; q < planes.size(); ++q) {
    const Tensor& t = p_.tensors[size_t(planes[q].tensor)];
    const SliceRef s = t.sliceOf(planes[q].row, planes[q].plane);
    const int from = c_.memPosition(s);
    const Cycle avail = when - Cycle(std::abs(pos - from)) * c_.stream_hop, issue = avail - c_.latency.mem_read;
    t_.vars.back().east = pos > from;
    if (map) consume(map, from, issue);
    Instr in;
    in.op = map ? Opcode::GATHER : Opcode::READ;
    if (!map) in.imm = t.addrOf(planes[q].row);
    const int mapVar = map ? vals_[size_t(map.id)].var : -1;
    addSlot(issue, QueueId{Unit::MEM, s.east, s.index, 0}, false, in, var, mapVar, -1).off[0] = int(q);
    t_.uses.push_back({var, avail, from, pos, int(q)});
    if (map) {  // a gather takes every bank port of the slice (and records no row read)
      for (int b = 0; b < c_.mem_banks_per_slice; ++b) t_.ports.push_back({sliceIndex(s), b, issue});
      continue;
    }
    t_.ports.push_back({sliceIndex(s), int(in.imm % uint32_t(c_.mem_banks_per_slice)), issue});
    if (planes[q].rowId >= 0) t_.reads.push_back({planes[q].rowId, issue});
  }
  vals_.push_back({var, when, pos, true});
  return Val{int(vals_.size()) - 1};
}

void TaskBuilder::scatter(int tensor, uint32_t row, int plane, Val data, Val map, int rowId, int dataPlane) {
  const int dp = dataPlane < 0 ? plane : dataPlane;
  const Tensor& t = p_.tensors[size_t(tensor)];
  const SliceRef s = t.sliceOf(row, plane);
  const int pos = c_.memPosition(s);
  const Cycle when = availAt(data, pos);
  consume(map, pos, when);
  Value& d = vals_[size_t(data.id)];
  if (pos != d.pos) direct(d, pos, "scattered both east and west");
  t_.uses.push_back({d.var, d.avail, d.pos, pos, dp});
  Instr in;
  in.op = Opcode::SCATTER;
  Slot& slot = addSlot(when, QueueId{Unit::MEM, s.east, s.index, 0}, false, in, d.var, vals_[size_t(map.id)].var, -1);
  slot.off[0] = dp;
  const Cycle commit = when + c_.latency.mem_write;
  for (int b = 0; b < c_.mem_banks_per_slice; ++b) t_.ports.push_back({sliceIndex(s), b, commit});
  if (rowId >= 0) t_.writes.push_back({rowId, commit});
}

Task TaskBuilder::take() {
  Cycle lo = 0;
  bool any = false;
  auto see = [&](Cycle c) { lo = any ? std::min(lo, c) : c, any = true; };
  for (const Slot& s : t_.slots) see(s.rel);
  for (const PortUse& u : t_.ports) see(u.rel);
  for (const ValueUse& u : t_.uses) see(u.avail);
  shift_ = lo;
  for (Slot& s : t_.slots) s.rel -= lo;
  for (PortUse& u : t_.ports) u.rel -= lo;
  for (ValueUse& u : t_.uses) u.avail -= lo;
  for (RowAccess& r : t_.reads) r.rel -= lo;
  for (RowAccess& r : t_.writes) r.rel -= lo;
  for (Dep& d : t_.deps) d.rel -= lo;
  t_.notBeforeRel -= lo;
  t_.end -= lo;
  return std::move(t_);
}

}  // namespace lpu
