// A .safetensors file, as `run --weights FILE` loads it; every tensor in a
// valid file is read in full and as a view, and the file is checked against
// tiny-llama's weight list.
#include "fuzz.h"
#include "models/weights.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    const SafetensorsFile f(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
    for (const std::string& n : f.names()) {
      const std::vector<int64_t> shape = f.shape(n);
      int64_t elems = 1;
      for (int64_t d : shape) elems *= d;
      fuzz::require(f.tensor(n).size() == size_t(elems), "a tensor has as many values as its shape says");
      fuzz::guarded([&] { viewValues(f, n, shape); });
      if (!shape.empty() && shape[0] > 0) {
        std::string view = n + "[0";
        for (size_t d = 1; d < shape.size(); ++d) view += ", ::2";
        std::vector<int64_t> s;
        for (size_t d = 1; d < shape.size(); ++d) s.push_back((shape[d] + 1) / 2);
        fuzz::guarded([&] { viewValues(f, view + "]", s); });
      }
    }
    f.check(loadModel("tiny-llama"));
  });
}
