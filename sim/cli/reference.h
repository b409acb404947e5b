// The instruction reference, generated from the ISA table and the presets'
// latencies (isa/README.md embeds it; a test keeps the two equal).
#pragma once
#include <string>

namespace lpu {

std::string isaReference();

}  // namespace lpu
