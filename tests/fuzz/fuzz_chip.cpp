// A chip config JSON file, as `--chip FILE.json` loads it; a valid one is
// written out and read back (chips --show).
#include "fuzz.h"
#include "isa/arch/chip_config.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    const ChipConfig c = chipFromJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    const ChipConfig back = chipFromJson(chipToJson(c), "fuzz.json (written back)");
    fuzz::require(chipToJson(back) == chipToJson(c), "a chip config reads back as written");
    (void)c.sramBytes();
  });
}
