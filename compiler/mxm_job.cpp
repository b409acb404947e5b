#include "mxm_job.h"

#include <set>

#include <fmt/format.h>

#include "isa/error.h"

namespace lpu {

TaskBuilder::Val feedHalf(Lowerer& L, TaskBuilder& b, TaskBuilder::Val v, const PlaneId& plane, int queue) {
  const ChipConfig& c = L.c;
  Instr rot;
  rot.op = Opcode::ROT;
  rot.dt = DType::F16;
  rot.imm = uint32_t(c.lanes() / 2);
  const QueueId q{Unit::SXM, plane.east, queue % c.sxm_queues_per_hemisphere, 0};
  return b.issue(b.availAt(v, c.position(q)), q, rot, {v});
}

namespace {

// The issue cycle of each of n ACCs, one a cycle from 0 on, ACC m no earlier
// than m: with slots > 1, those past a row's first slot reach the VXM
// `rotate` cycles later, so each goes where its arrival is a cycle of its own.
std::vector<Cycle> drainCycles(int n, int slots, Cycle rotate) {
  std::vector<Cycle> at(static_cast<size_t>(n));
  std::vector<bool> arrival;  // taken, by arrival cycle
  Cycle t = 0;
  for (int m = 0; m < n; ++m, ++t) {
    const Cycle late = slots > 1 && m % slots > 0 ? rotate : 0;
    while (size_t(t + late) < arrival.size() && arrival[size_t(t + late)]) ++t;
    if (arrival.size() <= size_t(t + late)) arrival.resize(size_t(t + late) + 1, false);
    arrival[size_t(t + late)] = true;
    at[size_t(m)] = t;
  }
  return at;
}

}  // namespace

// One piece (about 145 lines): load, install, compute and drain of one pass
// are one rigid task, each instruction an exact offset of the others (LW k
// one cycle apart, ABC m after IW, ACC m m cycles after the first), so they
// are built together in one TaskBuilder.
void runMxmJob(Lowerer& L, const MxmJob& job) {
  const ChipConfig& c = L.c;
  const int wb = bytes(job.wt);
  const int accs = c.mxm_accumulators;
  if (job.pack > accs)
    throw Error(fmt::format("internal: {}: {} slots a tile, {} accumulators", job.label, job.pack, accs));

  for (int j = 0; j < job.nChunks; ++j) {
    if (job.sharded && !L.owns(j)) continue;
    // Slots a tile (k tiles side by side), tiles, rows sharing one tile load, accumulator sets in rotation.
    const int slots = j + 1 == job.nChunks ? job.pack : 1, nTiles = (job.kTiles + slots - 1) / slots;
    const int group = job.rows == 1 ? 1 : std::max(1, accs / (2 * slots));
    const int sets = accs / (group * slots);
    Lowerer::PlaneState& ps =
        job.plane ? L.planeState(job.plane(j)) : L.nextPlane(uint32_t(nTiles) * L.layout_.tileWords());
    const QueueId q0{Unit::MXM, ps.id.east, ps.id.index, 0}, q1{Unit::MXM, ps.id.east, ps.id.index, 1},
        q2{Unit::MXM, ps.id.east, ps.id.index, std::min(2, c.mxm_queues_per_plane - 1)};
    const int pp = c.position(q0);

    if (ps.mode != job.wt) {  // switch the plane's mode before its first load
      TaskBuilder b = L.builder(fmt::format("{}.config", job.label));
      Instr in;
      in.op = Opcode::CONFIG;
      in.dt = job.wt;
      b.issue(0, q0, in);
      if (ps.lastCompute >= 0) b.dependOn(ps.lastCompute, 0, ps.lastAbc, 1);
      for (size_t a = 0; a < ps.drain.size(); ++a)  // accumulators drained in the old mode first
        if (ps.drain[a] >= 0) b.dependOn(ps.drain[a], 0, ps.drainRel[a], 1);
      ps.config = L.addTask(b);
      ps.mode = job.wt;
    }
    std::vector<int> tiles;
    for (int i = 0; i < nTiles; ++i) tiles.push_back(job.tile(i, j, ps.id));
    const int accBase = (ps.uses++ % sets) * group * slots;

    for (int r0 = 0; r0 < job.rows; r0 += group) {
      const int nr = std::min(group, job.rows - r0);
      Cycle firstAbcRel = 0;
      int lastCompute = -1;
      for (int i = 0; i < nTiles; ++i) {
        const uint32_t rows = L.p.tensors[size_t(tiles[size_t(i)])].rows;
        // A row per slice of the tile's: fewer per LW for a tile in the activation slices.
        const int rowsPerLw = std::min(c.mxm_weight_streams / wb, int(L.p.tensors[size_t(tiles[size_t(i)])].spread));
        const int nLw = int((rows + uint32_t(rowsPerLw) - 1) / uint32_t(rowsPerLw));
        // Load: LW k takes rows k*rowsPerLw.. from the plane's slices, a row plane per stream. A
        // task per LW (gathers: one task for all): a task of them all would need its streams free for
        // as many consecutive cycles, which a feed to the hemisphere's other plane interrupts.
        // gpt2 decode at context 1024 takes 54,599 cycles so, 55,540 with one task a tile; a
        // llama-2-70b layer on a node 18,762, 20,097.
        const int perLoad = job.index ? nLw : 1;
        std::vector<std::pair<int, Cycle>> loads;  // (task, its last LW's relative cycle)
        for (int k0 = 0; k0 < nLw; k0 += perLoad) {
          TaskBuilder lb = L.builder(fmt::format("{}.load{}_{}", job.label, i, j));
          Cycle lw0 = -1;  // the first LW's cycle in the task
          Cycle lwLast = 0;
          for (int k = k0; k < std::min(nLw, k0 + perLoad); ++k) {
            const uint32_t first = uint32_t(k * rowsPerLw), n = std::min<uint32_t>(uint32_t(rowsPerLw), rows - first);
            std::vector<TaskBuilder::PlaneRead> reads;
            for (uint32_t r = 0; r < n; ++r)
              for (int b = 0; b < wb; ++b)
                reads.push_back(
                    {tiles[size_t(i)], first + r, b, job.tileRowId ? job.tileRowId(tiles[size_t(i)], first + r) : -1});
            Instr lw;
            lw.op = Opcode::LW;
            lw.dt = job.wt;
            lw.n = n;
            lw.imm = first;
            if (!job.index) {
              const Cycle at = k - k0;
              if (lw0 < 0) lw0 = at;
              lwLast = at;
              lb.issue(at, q0, lw, {lb.readPlanes(reads, pp, at)});
              continue;
            }
            // address = x * stride + tile address + k: one index read and three ops per LW, one LW per cycle.
            const Cycle conv = c.latency.vxm_convert, alu = c.latency.vxm_alu;
            auto x = lb.vxm(Opcode::CVT, DType::I32, k, job.index(lb, k), {}, 0, DType::F32);
            auto map = lb.vxm(Opcode::MULI, DType::I32, k + conv, x, {}, job.stride[size_t(i)]);
            map = lb.vxm(Opcode::ADDI, DType::I32, k + conv + alu, map, {},
                         L.p.tensors[size_t(tiles[size_t(i)])].addr + uint32_t(k));
            const Cycle at =
                k + conv + 2 * alu + Cycle(std::abs(c.vxmPosition() - pp)) * c.stream_hop + c.latency.mem_read;
            if (lw0 < 0) lw0 = at;
            lwLast = at;
            lb.issue(at, q0, lw, {lb.gatherPlanes(reads, map, pp, at)});
          }
          if (ps.lastCompute >= 0) lb.dependOn(ps.lastCompute, lw0, ps.lastIw, 1);  // the shadow buffer is free
          if (ps.config >= 0) lb.dependOn(ps.config, lw0, 0, 1);
          const int load = L.addTask(lb);
          loads.push_back({load, lb.rel(lwLast)});
        }

        // Compute: install, then one ABC per row, each fed through the VXM.
        TaskBuilder cb = L.builder(fmt::format("{}.pass{}_{}@{}", job.label, i, j, r0));
        Instr iw;
        iw.op = Opcode::IW;
        iw.imm = rows;
        cb.issue(0, q0, iw);
        Cycle lastAbcAt = 0;
        for (int k = 0; k < nr; ++k)
          for (int sl = 0; sl < slots; ++sl) {  // slot sl: k tile i * slots + sl, into its own accumulator
            const int ki = i * slots + sl, a = accBase + k * slots + sl;
            if (ki >= job.kTiles) continue;
            const Cycle abcAt = c.latency.mxm_install + k * slots + sl;
            Instr abc;
            abc.op = Opcode::ABC;
            abc.dt = job.wt;
            abc.imm = uint32_t(a);
            abc.mode = i == 0 ? AccMode::Set : AccMode::Add;
            cb.issue(abcAt, q1, abc, {job.feed(cb, r0 + k, ki, abcAt, ps.id)});
            if (i == 0 && ps.drain[size_t(a)] >= 0) cb.dependOn(ps.drain[size_t(a)], abcAt, ps.drainRel[size_t(a)], 1);
            lastAbcAt = abcAt;
          }
        for (const auto& [load, lastLw] : loads)
          cb.dependOn(load, 0, lastLw, c.latency.mxm_load);                      // rows in the buffer
        if (ps.lastCompute >= 0) cb.dependOn(ps.lastCompute, 0, ps.lastAbc, 1);  // previous passes issued
        lastCompute = L.addTask(cb);
        ps.lastCompute = lastCompute;
        ps.lastIw = cb.rel(0);
        ps.lastAbc = cb.rel(lastAbcAt);
        firstAbcRel = cb.rel(c.latency.mxm_install);
      }

      // Drain each row's accumulator into the job's destination.
      // ACC m (accumulator accBase + m) issues at accAt[m] >= m, as ABC m did m cycles after the first in the
      // last pass. Slots past the first pass the switch (sxm_shift later): each ACC is then put where its
      // result reaches the VXM in a cycle of its own, so that their scale reads and writes never share one.
      const std::string label = fmt::format("{}.drain{}@{}", job.label, j, r0);
      const DType accType = job.wt == DType::I8 ? DType::I32 : DType::F32;
      auto drainRow = [&](TaskBuilder& db, int m, Cycle at) {
        Instr acc;
        acc.op = Opcode::ACC;
        acc.dt = accType;
        acc.imm = uint32_t(accBase + m);
        const TaskBuilder::Val out = db.issue(at, q2, acc);
        const int k = m / slots, sl = m % slots;
        if (slots == 1) return job.drain(db, r0 + k, j, out);
        if (sl == 0) return job.drainSlot(db, r0 + k, j, 0, out);
        Instr rot;  // lanes sl * packWidth.. to lane 0, on the way past the switch
        rot.op = Opcode::ROT;
        rot.dt = accType;
        rot.imm = uint32_t(c.lanes() - sl * job.packWidth);
        const QueueId sq{Unit::SXM, ps.id.east, (sl - 1) % c.sxm_queues_per_hemisphere, 0};
        job.drainSlot(db, r0 + k, j, sl, db.issue(db.availAt(out, c.position(sq)), sq, rot, {out}));
      };
      std::vector<Cycle> accAt = drainCycles(nr * slots, slots, c.latency.sxm_shift);
      auto build = [&] {
        TaskBuilder b = L.builder(label);
        for (int m = 0; m < nr * slots; ++m) drainRow(b, m, accAt[size_t(m)]);
        return b;
      };
      TaskBuilder first = build();
      const bool clash = first.usesAQueueTwice();
      if (clash) {
        // Rows whose drains differ in length (a rotation for some only): each ACC in turn at the first
        // cycle where its row's instructions meet none of the rows' before it on a queue.
        std::set<std::pair<int, Cycle>> used;
        Cycle t = 0;
        for (int m = 0; m < nr * slots; ++m, ++t) {
          TaskBuilder probe = L.builder(label);
          drainRow(probe, m, 0);
          const auto own = probe.queueCycles();
          auto meets = [&] {
            for (const auto& [q, at] : own)
              if (used.count({q, at + t})) return true;
            return false;
          };
          while (meets()) ++t;
          for (const auto& [q, at] : own) used.insert({q, at + t});
          accAt[size_t(m)] = t;
        }
      }
      TaskBuilder db = clash ? build() : std::move(first);
      db.dependOn(lastCompute, 0, firstAbcRel, c.latency.mxm_pass);  // ACC m >= ABC m + pass
      const int drain = L.addTask(db);
      for (int m = 0; m < nr * slots; ++m) {
        ps.drain[size_t(accBase + m)] = drain;
        ps.drainRel[size_t(accBase + m)] = db.rel(accAt[size_t(m)]);
      }
    }
  }
}

}  // namespace lpu
