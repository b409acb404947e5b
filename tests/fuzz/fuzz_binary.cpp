// A binary program (.bin): read as `lpusim sim` and `disasm` do, then checked
// against its chip (a preset), disassembled and the text assembled again.
#include "fuzz.h"
#include "isa/arch/chip_config.h"
#include "isa/assembler.h"
#include "isa/binary.h"

using namespace lpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded([&] {
    const Program p = deserialize(std::vector<uint8_t>(data, data + size), "fuzz.bin");
    const std::string text = disassemble(p);
    fuzz::guarded([&] { assemble(text, "fuzz.s"); });  // names the reader accepts may not be assembly names
    ChipConfig chip = presetTspV1();
    for (const ChipConfig& c : presets())
      if (c.name == p.chip) chip = c;
    checkProgramFits(p, chip, "fuzz.bin");
  });
}
