#include "values.h"

#include <cmath>

#include "isa/numeric.h"

namespace lpu {

TensorValues seededValues(uint64_t seed) {
  return [seed](const GTensor& t) {
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    for (char ch : t.name) h = (h ^ uint8_t(ch)) * 0x100000001b3ull;
    SplitMix64 rng(h);
    const double scale =
        t.kind == TensorKind::Weight && t.shape.size() == 2 ? 1.0 / std::sqrt(double(t.shape[0])) : 1.0;
    std::vector<float> v(size_t(t.elements()));
    for (float& x : v) x = t.integer ? float(rng.next() % 256) : float(rng.uniform(-scale, scale));
    return v;
  };
}

}  // namespace lpu
