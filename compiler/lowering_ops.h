// The lowering functions behind the table in lowering.cpp, by file.
#pragma once
#include "lowering.h"

namespace lpu {

void lowerMatMul(Lowerer& L, const GOp& op);        // lowering.cpp
void lowerElementwise(Lowerer& L, const GOp& op);   // lowering.cpp
void lowerNorm(Lowerer& L, const GOp& op);          // reduce.cpp: RmsNorm, LayerNorm
void lowerSoftmax(Lowerer& L, const GOp& op);       // reduce.cpp
void lowerArgmax(Lowerer& L, const GOp& op);        // reduce.cpp
void lowerRope(Lowerer& L, const GOp& op);          // attention.cpp
void lowerKvAppend(Lowerer& L, const GOp& op);      // attention.cpp
void lowerAttnScores(Lowerer& L, const GOp& op);    // attention.cpp
void lowerAttnMix(Lowerer& L, const GOp& op);       // attention.cpp
void lowerEmbedding(Lowerer& L, const GOp& op);     // embedding.cpp

uint32_t f32bits(float f);

}  // namespace lpu
