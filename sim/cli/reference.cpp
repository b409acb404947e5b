#include "reference.h"

#include <fmt/format.h>

#include "isa/arch/chip_config.h"
#include "isa/formats.h"

namespace lpu {

std::string isaReference() {
  const ChipConfig tsp = presetTspV1(), teach = presetTeaching();
  std::string s;
  for (int u = 0; u < kUnitCount; ++u) {
    s += fmt::format("\n#### {}\n\n", unitName(Unit(u)));
    s += "| instruction | types | delay | tsp-v1 | teaching | what it does |\n|---|---|---|---|---|---|\n";
    for (const OpInfo& o : allOps()) {
      if (o.unit != Unit(u)) continue;
      const FormatSpec& f = spec(o.format);
      std::string syntax(o.mnemonic);
      if (f.dtSuffix) syntax += ".T";
      if (f.dt2Suffix) syntax += ".S";
      if (!usage(o.format).empty()) syntax += " " + std::string(usage(o.format));
      std::string types;
      for (int d = 0; d < kDTypeCount; ++d)
        if (o.dtypes && allows(o.dtypes, DType(d)))
          types += (types.empty() ? "" : " ") + std::string(dtypeName(DType(d)));
      if (f.dt2Suffix) types += "; S any";
      const bool timed = o.latency != Lat::none;
      s += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", syntax, types.empty() ? "-" : types,
                       timed ? std::string(latencyName(o.latency)) : "-",
                       timed ? std::to_string(tsp.latencyOf(o.latency)) : "-",
                       timed ? std::to_string(teach.latencyOf(o.latency)) : "-", o.description);
    }
  }
  return s;
}

}  // namespace lpu
