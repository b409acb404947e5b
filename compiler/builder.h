// Builds one task: reads timed backwards from the cycle their value must be
// somewhere, unit instructions at exact cycles, writes timed forward from the
// value's arrival. It records every stream use, bank port and MEM row the
// task touches, so the scheduler can place it whole.
#pragma once
#include <string>

#include "isa/arch/chip_config.h"
#include "task.h"

namespace lpu {

class TaskBuilder {
 public:
  struct Val {
    Val() : id(-1) {}
    explicit Val(int i) : id(i) {}
    int id;  // -1: no value
    explicit operator bool() const { return id >= 0; }
  };

  TaskBuilder(const ChipConfig& c, const Program& p, std::string label);

  // Row `row` of program tensor `tensor` (every byte plane), timed to be at
  // position `pos` in cycle `when`. rowId: the scheduler's row (-1: constant).
  Val read(int tensor, uint32_t row, int pos, Cycle when, int rowId);
  // A VXM instruction issued in `when`; its operands must be at the VXM then.
  Val vxm(Opcode op, DType dt, Cycle when, Val a, Val b = {}, uint32_t imm = 0, DType from = DType::F32);
  // Writes value v (arriving from where it was produced) into a tensor row.
  void write(int tensor, uint32_t row, Val v, int rowId);
  // An instruction on a fixed queue. `srcs` are values it reads (bound to s1,
  // s2 in order), which must be here now. Its result, if the ISA table gives
  // it one (resultPlanes: bytes(dt) planes for VXM/SXM/ACC, 1 for RECV), is a
  // new value here its latency (chip.latencyOf) later; else the Val is empty.
  Val issue(Cycle when, const QueueId& q, Instr in, std::vector<Val> srcs = {});

  // Several single planes (tensor, row, plane) read onto consecutive streams
  // of one value, all at position `pos` in cycle `when` (e.g. an LW's rows).
  struct PlaneRead {
    int tensor;
    uint32_t row;
    int plane;
    int rowId = -1;  // the scheduler's row, when another task writes it
  };
  Val readPlanes(const std::vector<PlaneRead>& planes, int pos, Cycle when);

  // Like readPlanes, but each plane is gathered at the address in every lane
  // of `map` (i32, produced at the VXM); each gather issues when the map
  // passes its slice. The planes arrive at `pos` together only if `pos` is
  // on the far side of the slices from the map's producer (as an MXM is).
  Val gatherPlanes(const std::vector<PlaneRead>& planes, Val map, int pos, Cycle when);

  // Scatters plane `plane` of value `data` into the slice holding plane
  // `plane` of tensor row `row`, lane l to the word given by lane l of the
  // address map `map` (i32); both must be at that slice in the same cycle.
  // The scatter takes every bank port of the slice when it commits. With
  // dataPlane >= 0 that plane of `data` is written (e.g. one stream of a
  // transpose's result) instead of plane `plane`.
  void scatter(int tensor, uint32_t row, int plane, Val data, Val map, int rowId, int dataPlane = -1);

  Cycle availAt(Val v, int pos) const;  // when v passes position `pos`
  // +1 if v already flows east, -1 west, 0 if no consumer has fixed it yet.
  int direction(Val v) const {
    const Value& x = vals_[size_t(v.id)];
    return x.directed ? (t_.vars[size_t(x.var)].east ? 1 : -1) : 0;
  }
  int vxmPos() const { return c_.vxmPosition(); }
  void dependOn(int task, Cycle rel, Cycle otherRel, Cycle gap) { t_.deps.push_back({task, rel, otherRel, gap}); }
  // The cycle `rel` of this task is no earlier than the absolute cycle `at`.
  void notBefore(Cycle rel, Cycle at) { t_.notBefore = at, t_.notBeforeRel = rel; }
  // Writes plane `from` of value v as plane `plane` of a tensor row (e.g. a
  // byte plane received from another chip).
  void writePlane(int tensor, uint32_t row, int plane, Val v, int rowId, int from = 0);
  void setOp(int op, int layer) { t_.op = op, t_.layer = layer; }
  // Whether two of its instructions issue on one queue in one cycle (the
  // scheduler would refuse the task): a caller may split it instead.
  bool usesAQueueTwice() const;
  // Each instruction's (queue index, cycle) but the VXM's any-ALU ones, in the cycles used while building.
  std::vector<std::pair<int, Cycle>> queueCycles() const;
  // The finished task, its cycles shifted so that the earliest is 0; rel()
  // maps a cycle used while building to the task's final relative cycle.
  Task take();
  Cycle rel(Cycle built) const { return built - shift_; }

 private:
  struct Value {
    int var;
    Cycle avail;
    int pos;
    bool directed = false;
  };
  void consume(Val v, int pos, Cycle when);
  // readPlanes, or gatherPlanes when `map` is given.
  Val loadPlanes(const std::vector<PlaneRead>& planes, Val map, int pos, Cycle when);
  // Fixes x's direction of flow towards `pos`; throws "a value is <clash>"
  // if a consumer has fixed the other one.
  void direct(Value& x, int pos, const char* clash);
  // One WRITE of plane `plane` of tensor row `row` from plane `off` of v.
  void writeSlice(const Tensor& t, uint32_t row, int plane, int off, Val v, int rowId);
  Slot& addSlot(Cycle rel, const QueueId& q, bool anyVxm, const Instr& in, int v0, int v1, int v2);
  int sliceIndex(SliceRef s) const { return int(s.east) * c_.mem_slices_per_hemisphere + s.index; }

  const ChipConfig& c_;
  const Program& p_;
  Task t_;
  std::vector<Value> vals_;
  Cycle shift_ = 0;
};

}  // namespace lpu
