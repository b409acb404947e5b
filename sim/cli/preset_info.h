// `lpusim chips` and `lpusim systems`: the bundled presets as tables, and
// every chip config field with its unit, default and meaning.
#pragma once
#include <string>

namespace lpu {

std::string chipsTable();
std::string fieldsTable();
std::string systemsTable();

}  // namespace lpu
