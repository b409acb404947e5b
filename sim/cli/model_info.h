// `lpusim models`: one row per model (family, shape, exact parameter count,
// weight bytes), as a table or JSON.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/model_config.h"

namespace lpu {

nlohmann::ordered_json modelRow(const ModelConfig& m);
std::string modelsTable(const std::vector<ModelConfig>& ms);

}  // namespace lpu
