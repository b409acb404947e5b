// A binary program (.bin): read as `lpusim sim` and `disasm` do, then checked
// against its chip (a preset), disassembled and the text assembled again.
// Each input is read as given and once more with its body length and
// checksum made consistent, so that mutations reach the body's parser.
#include "fuzz.h"
#include "isa/arch/chip_config.h"
#include "isa/assembler.h"
#include "isa/binary.h"

using namespace lpu;

namespace {

void load(const std::vector<uint8_t>& bytes) {
  const Program p = deserialize(bytes, "fuzz.bin");
  const std::string text = disassemble(p);
  fuzz::guarded([&] { assemble(text, "fuzz.s"); });  // names the reader accepts may not be assembly names
  ChipConfig chip = presetTspV1();
  for (const ChipConfig& c : presets())
    if (c.name == p.chip) chip = c;
  checkProgramFits(p, chip, "fuzz.bin");
}

// magic 8 | version 4 | body length 8 | body | FNV-1a-64 of the body 8 (isa/binary.h)
std::vector<uint8_t> withValidFraming(std::vector<uint8_t> b) {
  const size_t body = b.size() - 28;
  for (int i = 0; i < 8; ++i) b[12 + size_t(i)] = uint8_t(uint64_t(body) >> (8 * i));
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 20; i < 20 + body; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  for (int i = 0; i < 8; ++i) b[20 + body + size_t(i)] = uint8_t(h >> (8 * i));
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  fuzz::guarded([&] { load(bytes); });
  if (size >= 28) fuzz::guarded([&] { load(withValidFraming(bytes)); });
  return 0;
}
