#include "transfer.h"

#include <fmt/format.h>

namespace lpu {

QueueId linkQueue(int link) { return QueueId{Unit::C2C, false, link, 0}; }

Instr linkInstr(Opcode op, int link) {
  Instr in;
  in.op = op;
  in.imm = uint32_t(link);
  return in;
}

int Transfers::deskewed(int chip, int link) {
  auto it = deskew_.find({chip, link});
  if (it != deskew_.end()) return it->second;
  Lowerer& L = *chips_[size_t(chip)];
  TaskBuilder d = L.builder(fmt::format("deskew.{}", link));
  d.issue(0, linkQueue(link), linkInstr(Opcode::DESKEW, link));
  return deskew_[{chip, link}] = L.addTask(d);
}

void Transfers::after(TaskBuilder& b, Uses& last, int chip, int link, Cycle first, Cycle gap) {
  const LastUse& p = last[{chip, link}];
  if (p.task >= 0) b.dependOn(p.task, first, p.rel, gap);
}

Transfers::Sent Transfers::send(int a, const std::string& from, int link, const std::vector<uint32_t>& rows) {
  Lowerer& L = *chips_[size_t(a)];
  const int occ = c_.c2cCyclesPerVector();
  const ActTensor& ya = L.act(from);
  const int planes = bytes(L.p.tensors[size_t(ya.tensor)].dtype);
  TaskBuilder sb = L.builder(fmt::format("send.{}.{}", from, a));
  const int pos = c_.position(linkQueue(link));
  Cycle at = 0, last = 0;
  for (uint32_t row : rows)  // each byte plane of each row in turn, one vector every `occ` cycles
    for (int pl = 0; pl < planes; ++pl, at += occ) {
      sb.issue(at, linkQueue(link), linkInstr(Opcode::SEND, link),
               {sb.readPlanes({{ya.tensor, row, pl, ya.firstRow + int(row)}}, pos, at)});
      last = at;
    }
  sb.dependOn(deskewed(a, link), 0, 0, c_.latency.c2c_deskew);
  after(sb, lastSend_, a, link, 0, occ);
  const int task = L.addTask(sb);
  lastSend_[{a, link}] = {task, sb.rel(last)};
  return {task, sb.rel(0)};
}

void Transfers::receive(int b, const std::string& to, int link, const std::vector<uint32_t>& rows, int planes,
                        Sent sent, Cycle arrival) {
  Lowerer& L = *chips_[size_t(b)];
  const int occ = c_.c2cCyclesPerVector();
  const ActTensor& yb = L.act(to);
  TaskBuilder rb = L.builder(fmt::format("recv.{}.{}", to, b));
  Cycle at = 0, last = 0;
  for (uint32_t row : rows)
    for (int pl = 0; pl < planes; ++pl, at += occ) {
      rb.writePlane(yb.tensor, row, pl, rb.issue(at, linkQueue(link), linkInstr(Opcode::RECV, link)),
                    yb.firstRow + int(row));
      last = at;
    }
  if (sent.task >= 0)
    rb.dependOn(sent.task, 0, sent.first, flight());
  else
    rb.notBefore(0, arrival);
  rb.dependOn(deskewed(b, link), 0, 0, c_.latency.c2c_deskew);
  after(rb, lastRecv_, b, link, 0, 1);
  const int task = L.addTask(rb);
  lastRecv_[{b, link}] = {task, rb.rel(last)};
}

Transfers::Sent Transfers::relay(int m, int linkIn, int linkOut, int count, Sent sent) {
  Lowerer& L = *chips_[size_t(m)];
  const int occ = c_.c2cCyclesPerVector();
  TaskBuilder rb = L.builder(fmt::format("relay.{}.{}.{}", linkIn, linkOut, m));
  const int pos = c_.position(linkQueue(linkOut));
  Cycle firstSend = 0, lastSendAt = 0, lastRecvAt = 0;
  for (int k = 0; k < count; ++k) {
    const Cycle at = Cycle(k) * occ;
    const TaskBuilder::Val v = rb.issue(at, linkQueue(linkIn), linkInstr(Opcode::RECV, linkIn));
    const Cycle when = rb.availAt(v, pos);
    rb.issue(when, linkQueue(linkOut), linkInstr(Opcode::SEND, linkOut), {v});
    if (k == 0) firstSend = when;
    lastSendAt = when, lastRecvAt = at;
  }
  rb.dependOn(sent.task, 0, sent.first, flight());
  rb.dependOn(deskewed(m, linkIn), 0, 0, c_.latency.c2c_deskew);
  rb.dependOn(deskewed(m, linkOut), firstSend, 0, c_.latency.c2c_deskew);
  after(rb, lastRecv_, m, linkIn, 0, 1);
  after(rb, lastSend_, m, linkOut, firstSend, occ);
  const int task = L.addTask(rb);
  lastRecv_[{m, linkIn}] = {task, rb.rel(lastRecvAt)};
  lastSend_[{m, linkOut}] = {task, rb.rel(lastSendAt)};
  return {task, rb.rel(firstSend)};
}

}  // namespace lpu
