// The lowering functions behind the table in lowering.cpp, by file.
#pragma once
#include "lowering.h"

namespace lpu {

void lowerMatMul(Lowerer& L, const GOp& op);       // matmul.cpp
void lowerElementwise(Lowerer& L, const GOp& op);  // lowering.cpp
void lowerNorm(Lowerer& L, const GOp& op);         // reduce.cpp: RmsNorm, LayerNorm
void lowerSoftmax(Lowerer& L, const GOp& op);      // reduce.cpp
void lowerArgmax(Lowerer& L, const GOp& op);       // reduce.cpp
void lowerRope(Lowerer& L, const GOp& op);         // rope.cpp
void lowerKvAppend(Lowerer& L, const GOp& op);     // kv_cache.cpp
void lowerAttnScores(Lowerer& L, const GOp& op);   // attention.cpp
void lowerAttnMix(Lowerer& L, const GOp& op);      // attention.cpp
void lowerEmbedding(Lowerer& L, const GOp& op);    // embedding.cpp
void lowerTopK(Lowerer& L, const GOp& op);         // topk.cpp
void lowerMoeFFN(Lowerer& L, const GOp& op);       // moe.cpp
void lowerShape(Lowerer& L, const GOp& op);        // shape.cpp: Reshape, Transpose, Concat, Slice

// attention.cpp, for rope.cpp and kv_cache.cpp too: the activation group
// holding a tensor's first slice (-1: none); and v rotated on an SXM (the
// one ahead of v if it already flows one way, else the one on side `east`).
int groupOf(const Lowerer& L, int tensor);
TaskBuilder::Val rotate(Lowerer& L, TaskBuilder& b, TaskBuilder::Val v, int amount, int queue, DType dt = DType::F32,
                        bool east = false);

// The activation row r, chunk i of x as an MXM operand (int8 at the static
// activation scale, or fp16; fp16 tiles take half a chunk), at the plane in
// cycle `at` (matmul.cpp); from xq, when given, x's int8 rows (Lowerer::int8Rows).
TaskBuilder::Val feedMatmulRow(Lowerer& L, TaskBuilder& b, const ActTensor& x, const Lowerer::Int8Rows* xq, int r,
                               int i, Cycle at, const PlaneId& plane, DType wt);

uint32_t f32bits(float f);
// Values as a tensor's bytes (element type t).
std::vector<uint8_t> encode(const std::vector<double>& v, DType t);
// A constant row (fp32, lanes wide) in an activation group outside `avoid`.
int constRow(Lowerer& L, const std::string& name, const std::vector<double>& v, const std::vector<int>& avoid,
             DType dt = DType::F32);

// The int8 column scales times `factor`, `chunks` fp32 rows of lanes
// columns (column n at row n / lanes, lane n % lanes), as a constant outside
// `avoid`; its values only when colScale is known (withValues).
int columnScales(Lowerer& L, const std::string& name, int chunks, const std::vector<double>& colScale, bool withValues,
                 double factor, const std::vector<int>& avoid);

// The sum of vector rows (tensor and row of each), read at the VXM an ALU
// step apart from cycle 0 (one read of a slice a cycle); `at` becomes the
// cycle the sum is there.
TaskBuilder::Val sumRows(const ChipConfig& c, TaskBuilder& b, const std::vector<std::pair<const ActTensor*, int>>& rows,
                         Cycle& at);

// Folds v (at the VXM in cycle `at`) across all lanes with op (SXM
// rotations); the result is in every lane, `at` becomes its cycle.
TaskBuilder::Val reduceAcrossLanes(Lowerer& L, TaskBuilder& b, Opcode op, TaskBuilder::Val v, Cycle& at);

}  // namespace lpu
