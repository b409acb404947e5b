// Does a program name only what exists on a chip? (queues, streams, slices,
// addresses, maps). Timing is checked later, by running it.
#include <fmt/format.h>

#include "chip_config.h"
#include "isa/error.h"
#include "isa/formats.h"
#include "queues.h"

namespace lpu {
namespace {

std::string queueRange(const ChipConfig& c, Unit u) {
  switch (u) {
    case Unit::MEM: return fmt::format("MEM.W0..W{0} and MEM.E0..E{0}", c.mem_slices_per_hemisphere - 1);
    case Unit::VXM: return fmt::format("VXM.0..{}", c.vxm_alus - 1);
    case Unit::MXM:
      return fmt::format("MXM.W0..W{0}.0..{1} and MXM.E0..E{0}.0..{1}", c.mxm_planes_per_hemisphere - 1,
                         c.mxm_queues_per_plane - 1);
    case Unit::SXM: return fmt::format("SXM.W.0..{0} and SXM.E.0..{0}", c.sxm_queues_per_hemisphere - 1);
    case Unit::C2C: return fmt::format("C2C.0..{}", c.c2c_links - 1);
    case Unit::ICU: break;
  }
  return "";
}

}  // namespace

void checkProgramFits(const Program& p, const ChipConfig& c, const std::string& where) {
  const uint64_t words = uint64_t(c.mem_banks_per_slice) * uint64_t(c.mem_words_per_bank);
  for (const Tensor& t : p.tensors) {
    if (t.cols > uint32_t(c.lanes()))
      throw Error(fmt::format("{}: tensor {}: {} columns exceed the vector length {} of chip {}", where, t.name, t.cols,
                              c.lanes(), c.name));
    const SliceRef last = t.sliceOf(t.spread - 1 < t.rows ? t.spread - 1 : t.rows - 1, bytes(t.dtype) - 1);
    if (last.index >= c.mem_slices_per_hemisphere)
      throw Error(fmt::format("{}: tensor {}: needs slice {} but chip {} has {} MEM slices per hemisphere", where,
                              t.name, formatSlice(last), c.name, c.mem_slices_per_hemisphere));
    const uint64_t end = uint64_t(t.addr) + (t.rows + t.spread - 1) / t.spread;
    if (end > words)
      throw Error(fmt::format("{}: tensor {}: addresses {}..{} exceed the {} words of a slice on chip {}", where,
                              t.name, t.addr, end - 1, words, c.name));
  }
  for (const PermMap& m : p.maps) {
    if (m.lanes.size() != size_t(c.lanes()))
      throw Error(
          fmt::format("{}: map {}: has {} lanes, chip {} has {}", where, m.name, m.lanes.size(), c.name, c.lanes()));
    for (uint32_t l : m.lanes)
      if (l >= uint32_t(c.lanes()))
        throw Error(fmt::format("{}: map {}: lane {} is out of range (0..{})", where, m.name, l, c.lanes() - 1));
  }
  bool notify = false, sync = false;
  for (const Queue& q : p.queues) {
    const std::string qn = formatQueueId(q.id);
    if (!queueExists(c, q.id))
      throw Error(fmt::format("{}: queue {} does not exist on chip {} (it has {})", where, qn, c.name,
                              queueRange(c, q.id.unit)));
    for (size_t i = 0; i < q.code.size(); ++i) {
      const Instr& in = q.code[i];
      notify |= in.op == Opcode::NOTIFY;
      sync |= in.op == Opcode::SYNC;
      const FormatSpec& f = spec(info(in.op).format);
      for (const Operand& o : f.operands) {
        if (o.syntax != Syntax::Stream) continue;
        const StreamRef s = o.field == Field::S0 ? in.s0 : o.field == Field::S1 ? in.s1 : in.s2;
        // Multi-byte values use bytes(dt) consecutive streams.
        int planes = 1;
        if (f.dtSuffix) planes = bytes(o.field == Field::S1 && f.dt2Suffix ? in.dt2 : in.dt);
        if (in.op == Opcode::LW) planes = std::max(1, int(in.n) * bytes(in.dt));  // a row per stream plane
        if (in.op == Opcode::TRANSPOSE) planes = c.lanes_per_superlane;
        if (in.op == Opcode::GATHER || in.op == Opcode::SCATTER) planes = o.field == Field::S1 ? 4 : 1;
        if (s.id + planes > c.streams_per_direction)
          throw Error(
              fmt::format("{}: queue {} instruction {}: streams {}..{} exceed the {} streams per direction of chip {}",
                          where, qn, i, s.id, s.id + planes - 1, c.streams_per_direction, c.name));
      }
      if (in.op == Opcode::PERM || in.op == Opcode::DIST) {
        if (in.imm >= p.maps.size())
          throw Error(fmt::format("{}: queue {} instruction {}: map {} does not exist ({} maps)", where, qn, i, in.imm,
                                  p.maps.size()));
        if (in.op == Opcode::DIST)
          for (uint32_t l : p.maps[in.imm].lanes)
            if (l >= uint32_t(c.lanes_per_superlane))
              throw Error(fmt::format("{}: queue {} instruction {}: dist map {} names lane {} (a superlane has {})",
                                      where, qn, i, p.maps[in.imm].name, l, c.lanes_per_superlane));
      }
      if ((in.op == Opcode::ABC || in.op == Opcode::ACC) && in.imm >= uint32_t(c.mxm_accumulators))
        throw Error(fmt::format("{}: queue {} instruction {}: accumulator {} does not exist (chip {} has {})", where,
                                qn, i, in.imm, c.name, c.mxm_accumulators));
      if ((in.op == Opcode::SEND || in.op == Opcode::RECV || in.op == Opcode::DESKEW) &&
          in.imm >= uint32_t(c.c2c_links))
        throw Error(fmt::format("{}: queue {} instruction {}: link {} does not exist (chip {} has {})", where, qn, i,
                                in.imm, c.name, c.c2c_links));
    }
  }
  if (sync && !notify) throw Error(fmt::format("{}: queues wait at sync but no queue has notify", where));
}

}  // namespace lpu
