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

#include <fmt/format.h>

#include <string>

#include "isa/error.h"
#include "isa/json_input.h"

namespace lpu {

// A config file's text as a JSON object, or a one-line lpu::Error naming the
// file (`what`: "chip config", "system config"). Its "base" key, a preset
// name, is taken out into `base` ("" when absent).
inline nlohmann::json parseConfigObject(const std::string& text, const std::string& where, const char* what,
                                        std::string& base) {
  checkJsonDepth(text.begin(), text.end(), where);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: invalid JSON at byte {}: expected a {} object", where, e.byte, what));
  } catch (const nlohmann::json::exception&) {  // a number past 64 bits (out_of_range)
    throw Error(fmt::format("{}: invalid JSON: a number out of range: expected a {} object", where, what));
  }
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", where));
  base.clear();
  if (j.contains("base")) {
    if (!j["base"].is_string()) throw Error(fmt::format("{}: field base: expected a preset name", where));
    base = j["base"].get<std::string>();
    j.erase("base");
  }
  return j;
}

}  // namespace lpu
