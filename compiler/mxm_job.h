// Streaming a matrix through the MXM: the shape shared by MatMul and the
// attention ops. For each output chunk j (a plane chosen round-robin), the
// tiles i = 0..kTiles-1 are loaded (LW), installed (IW) and applied (ABC) to
// every row r of the job (a token, or a head); the accumulators are drained
// (ACC) after the last tile. A tile is loaded once per group of rows that
// fits in the plane's accumulators.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lowering.h"

namespace lpu {

struct MxmJob {
  std::string label;
  DType wt = DType::I8;  // weight type on the plane: i8 or f16
  int kTiles = 1, nChunks = 1, rows = 1;
  // The program tensor of tile (i, j) on `plane` (rows of lanes elements);
  // called once per tile, when the chunk's plane is known.
  std::function<int(int i, int j, const PlaneId& plane)> tile;
  // The activation of row r for tile i, at the plane's position in cycle `at`.
  std::function<TaskBuilder::Val(TaskBuilder&, int r, int i, Cycle at, const PlaneId& plane)> feed;
  // Consumes the drained accumulator of row r, output chunk j (4 planes,
  // i32 or f32, produced at the plane).
  std::function<void(TaskBuilder&, int r, int j, TaskBuilder::Val acc)> drain;
  // Optional: the plane of output chunk j (when its tiles already live on
  // one, like a KV cache); otherwise planes are taken round-robin.
  std::function<PlaneId(int j)> plane;
  // Optional: the scheduler row of a tile row (when a task writes it).
  std::function<int(int tile, uint32_t row)> tileRowId;
  // Optional: data-dependent tiles (MoE experts). Choice x's tile (i, j)
  // lives stride[i] words per slice after tile(i, j); `index` reads a row
  // holding x in every lane (fp32) at the VXM in cycle `at`. Each LW's
  // address is computed on the VXM and its rows gathered.
  std::function<TaskBuilder::Val(TaskBuilder&, Cycle at)> index;
  std::vector<uint32_t> stride;
  // Tensor parallelism: only the output chunks this chip owns (Lowerer::owns).
  bool sharded = false;
  // Optional: the last output chunk uses only `packWidth` lanes, so its
  // tiles are packed `pack` to a tile: k tile i at lanes (i % pack) *
  // packWidth of packed tile i / pack (tile(q, last, plane) gives packed
  // tile q). A row then takes one accumulator per slot, each pass feeding
  // its slot's k tile; slot s is drained rotated to lane 0 (its other lanes
  // hold sums of other slots' weights) and handed to drainSlot.
  int pack = 1, packWidth = 0;
  std::function<void(TaskBuilder&, int r, int j, int slot, TaskBuilder::Val acc)> drainSlot;
};

void runMxmJob(Lowerer& L, const MxmJob& job);

// The rotation that brings the upper half of a 320-lane chunk to lanes 0..159
// on its way from the VXM to the plane (fp16 tiles hold 160 rows).
TaskBuilder::Val feedHalf(Lowerer& L, TaskBuilder& b, TaskBuilder::Val v, const PlaneId& plane, int queue);

}  // namespace lpu
