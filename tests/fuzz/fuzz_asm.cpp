// Assembly text: assembled as `lpusim asm` does, then checked against the
// chip it names (a preset), disassembled, and written and read back as a binary.
#include "fuzz.h"
#include "isa/arch/chip_config.h"
#include "isa/assembler.h"
#include "isa/binary.h"

using namespace lpu;

namespace {

// The program's chip if it is a preset (never a file path: inputs name no files).
ChipConfig presetFor(const Program& p) {
  for (const ChipConfig& c : presets())
    if (c.name == p.chip) return c;
  return presetTspV1();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    const Program p = assemble(std::string(reinterpret_cast<const char*>(data), size), "fuzz.s");
    const std::string text = disassemble(p);
    const std::vector<uint8_t> bin = serialize(p);
    fuzz::require(serialize(deserialize(bin, "fuzz.bin")) == bin, "an assembled program reads back from its binary");
    checkProgramFits(p, presetFor(p), "fuzz.s");
  });
}
