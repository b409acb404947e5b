#include "sxm.h"

namespace lpu {

std::vector<int> sxmSourceLanes(const ChipConfig& c, const Program& p, const Instr& in) {
  const int n = c.lanes(), ls = c.lanes_per_superlane;
  const int amount = int32_t(in.imm);
  std::vector<int> src(size_t(n), -1);
  for (int i = 0; i < n; ++i) {
    switch (in.op) {
      case Opcode::SHIFT: {  // by whole superlanes, zero fill
        const int j = i - amount * ls;
        src[size_t(i)] = j >= 0 && j < n ? j : -1;
        break;
      }
      case Opcode::ROT: src[size_t(i)] = ((i - amount) % n + n) % n; break;
      case Opcode::PERM: src[size_t(i)] = int(p.maps[in.imm].lanes[size_t(i)]); break;
      case Opcode::DIST: src[size_t(i)] = (i / ls) * ls + int(p.maps[in.imm].lanes[size_t(i)]); break;
      default: src[size_t(i)] = i; break;
    }
  }
  return src;
}

}  // namespace lpu
