#include "model_info.h"

#include <fmt/format.h>

namespace lpu {
namespace {

std::string withCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

}  // namespace

nlohmann::ordered_json modelRow(const ModelConfig& m) {
  const ParamCount p = countParams(m);
  nlohmann::ordered_json j;
  j["name"] = m.name;
  j["family"] = familyName(m.family);
  j["layers"] = m.layers;
  j["d_model"] = m.hidden;
  j["heads"] = m.heads;
  j["kv_heads"] = m.kv_heads;
  j["head_dim"] = m.head_dim;
  j["ffn"] = m.ffn;
  j["vocab"] = m.vocab;
  j["experts"] = m.experts;
  j["top_k"] = m.top_k;
  j["max_context"] = m.max_positions;
  j["params"] = p.total;
  j["active_params"] = p.active;
  j["embedding_params"] = p.embedding;
  j["bytes_int8"] = weightBytes(m, true);
  j["bytes_fp16"] = weightBytes(m, false);
  return j;
}

std::string modelsTable(const std::vector<ModelConfig>& ms) {
  std::string s =
      fmt::format("{:<14} {:<8} {:>6} {:>7} {:>9} {:>9} {:>16} {:>16} {:>10} {:>10}\n", "name", "family", "layers",
                  "d_model", "heads/kv", "experts", "params", "active params", "int8 GB", "fp16 GB");
  for (const ModelConfig& m : ms) {
    const ParamCount p = countParams(m);
    s += fmt::format("{:<14} {:<8} {:>6} {:>7} {:>9} {:>9} {:>16} {:>16} {:>10.3f} {:>10.3f}\n", m.name,
                     familyName(m.family), m.layers, m.hidden, fmt::format("{}/{}", m.heads, m.kv_heads),
                     m.moe() ? fmt::format("{} top {}", m.experts, m.top_k) : "-", withCommas(p.total),
                     withCommas(p.active), weightBytes(m, true) / 1e9, weightBytes(m, false) / 1e9);
  }
  return s;
}

}  // namespace lpu
