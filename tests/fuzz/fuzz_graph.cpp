// A graph JSON file, as `run --graph FILE` loads it (models/graph.cpp's
// loadGraph: parse, then graphFromJson, which shape-checks); a valid graph is
// written out and validated again.
#include <nlohmann/json.hpp>

#include "fuzz.h"
#include "isa/json_input.h"
#include "models/graph.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    checkJsonDepth(data, data + size, "fuzz.graph.json");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(data, data + size);
    } catch (const nlohmann::json::exception&) {
      return;  // loadGraph turns parse errors and out-of-range numbers into a one-line lpu::Error
    }
    const Graph g = graphFromJson(j, "fuzz.graph.json");
    validate(g, "fuzz.graph.json");
    (void)toJson(g).dump();
  });
}
