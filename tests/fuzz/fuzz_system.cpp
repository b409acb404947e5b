// A system config JSON file, as `--system FILE.json` loads it; a valid one is
// written out and read back (systems --show).
#include "fuzz.h"
#include "isa/arch/system_config.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    const SystemConfig s = systemFromJson(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    const SystemConfig back = systemFromJson(systemToJson(s), "fuzz.json (written back)");
    fuzz::require(systemToJson(back) == systemToJson(s), "a system config reads back as written");
  });
}
