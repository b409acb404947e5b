// Shared by the JSON loaders (chip, system, graph, config.json, the
// safetensors header): a bound on nesting checked before nlohmann parses
// (whose values are destroyed, copied and dumped recursively), and JSON
// values quoted in one-line messages. Needs nlohmann_json (the loaders link it).
#pragma once
#include <fmt/format.h>

#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>
#include <string>

#include "isa/error.h"

namespace lpu {

// The largest JSON input read: a whole-model graph of gpt-oss-120b is 5.5 MB.
constexpr size_t kMaxJsonBytes = size_t(1) << 28;  // 256 MiB

// All of `in` (at most kMaxJsonBytes: a larger input, or one without end such
// as /dev/zero, is an lpu::Error naming `where`).
inline std::string readJsonText(std::istream& in, const std::string& where) {
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > kMaxJsonBytes)
      throw Error(fmt::format("{}: larger than {} MiB: expected a JSON file", where, kMaxJsonBytes >> 20));
  }
  return text;
}
inline std::string readJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open file", printable(path)));
  return readJsonText(in, printable(path));
}

// Arrays and objects inside each other; the deepest real input (a graph's
// Rope scaling attribute) nests 5.
constexpr int kMaxJsonDepth = 64;

// Throws lpu::Error "<where>: invalid JSON: nesting deeper than 64 ..." if
// the bytes [begin, end) open more than kMaxJsonDepth arrays and objects
// inside each other (brackets inside strings do not count).
template <typename It>
void checkJsonDepth(It begin, It end, const std::string& where) {
  int depth = 0;
  bool inString = false;
  for (It it = begin; it != end; ++it) {
    const char c = char(*it);
    if (inString) {
      if (c == '\\') {
        if (++it == end) break;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw Error(fmt::format("{}: invalid JSON: nesting deeper than {} arrays and objects", where, kMaxJsonDepth));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// A JSON value for a message: compact, invalid UTF-8 replaced, at most 60
// characters (longer values end in "...").
inline std::string jsonText(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace lpu
