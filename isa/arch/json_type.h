// A plain struct to and from JSON with its fields listed once: nlohmann's
// NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE (for nlohmann::json), and the to_json
// for ordered_json that nlohmann 3.11.2 (Debian 12) leaves out, so reports
// keep the fields in the order listed. Use it in the struct's namespace.
#pragma once
#include <nlohmann/json.hpp>

// clang-format off
#define LPU_JSON_TYPE(Type, ...)                                                                     \
  NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Type, __VA_ARGS__)                                              \
  inline void to_json(nlohmann::ordered_json& nlohmann_json_j, const Type& nlohmann_json_t) {        \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))                         \
  }
// clang-format on
