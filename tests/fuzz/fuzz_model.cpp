// A Hugging Face config.json, as `--model FILE` loads it (models/model_config.cpp's
// loadModel: parse, then modelFromJson); a valid one has its parameters counted
// (`lpusim models FILE`).
#include <nlohmann/json.hpp>

#include "fuzz.h"
#include "isa/json_input.h"
#include "models/model_config.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    checkJsonDepth(data, data + size, "fuzz.json");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(data, data + size);
    } catch (const nlohmann::json::exception&) {
      return;  // loadModel turns parse errors and out-of-range numbers into a one-line lpu::Error
    }
    const ModelConfig m = modelFromJson(j, "fuzz", "fuzz.json");
    (void)countParams(m);
    (void)weightBytes(m, true);
  });
}
