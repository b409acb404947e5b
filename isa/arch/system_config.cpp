#include "system_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "isa/error.h"
#include "isa/json_input.h"
#include "json_type.h"

namespace lpu {

namespace {

// The system's fields, one row each, in the order systemToJson writes them:
// JSON key and the member (a string, an integer or a number).
struct SysField {
  const char* key;
  std::string SystemConfig::*text = nullptr;
  int SystemConfig::*integer = nullptr;
  double SystemConfig::*number = nullptr;
};
const SysField kSysFields[] = {
    {"name", &SystemConfig::name},
    {"description", &SystemConfig::description},
    {"chip", &SystemConfig::chip},
    {"chips", nullptr, &SystemConfig::chips},
    {"chips_per_node", nullptr, &SystemConfig::chips_per_node},
    {"nodes_per_rack", nullptr, &SystemConfig::nodes_per_rack},
    {"global_links", nullptr, &SystemConfig::global_links},
    {"lanes_per_link", nullptr, &SystemConfig::lanes_per_link},
    {"gbps_per_lane", nullptr, nullptr, &SystemConfig::gbps_per_lane},
    {"hop_latency", nullptr, &SystemConfig::hop_latency},
    {"deskew", nullptr, &SystemConfig::deskew},
};

SystemConfig preset(std::string name, std::string description, int chips) {
  SystemConfig s;
  s.name = std::move(name);
  s.description = std::move(description);
  s.chips = chips;
  return s;
}

}  // namespace

std::vector<SystemConfig> systemPresets() {
  return {preset("groq-node", "one GroqNode: 8 chips, fully connected", 8),
          preset("groq-rack", "one GroqRack: 9 nodes of 8 chips (72)", 72),
          preset("groq-576", "8 racks (576 chips), as used for Llama-2-70B", 576),
          preset("groq-dragonfly", "the largest Dragonfly: 145 racks, 10,440 chips", 10440)};
}

SystemConfig systemOfChips(int n, const std::string& chip) {
  SystemConfig s;
  s.name = fmt::format("{}-chips", n);
  s.description = fmt::format("{} chips wired like the presets", n);
  s.chip = chip;
  s.chips = n;
  if (n > 0 && n < s.chips_per_node) s.chips_per_node = n;  // fewer chips than a node: one smaller node
  return s;
}

void SystemConfig::validate(const std::string& where) const {
  auto bad = [&](const char* field, const std::string& what) {
    throw Error(fmt::format("{}: field {}: {}", where, field, what));
  };
  if (chips < 1 || chips > 100000) bad("chips", fmt::format("{} is not in 1..100000", chips));
  if (chips_per_node < 1) bad("chips_per_node", "must be at least 1");
  if (nodes_per_rack < 1) bad("nodes_per_rack", "must be at least 1");
  if (global_links < 0) bad("global_links", "must not be negative");
  if (lanes_per_link < 1) bad("lanes_per_link", "must be at least 1");
  if (!(gbps_per_lane > 0)) bad("gbps_per_lane", "must be positive");
  if (hop_latency < 1) bad("hop_latency", "must be at least 1 cycle");
  if (deskew < 0) bad("deskew", "must not be negative");
  const ChipConfig c = loadChip(chip);
  const int used = chips_per_node - 1 + (nodes_per_rack > 1 ? global_links : 0);
  if (used > c.c2c_links)
    bad("chips_per_node", fmt::format("a fully connected node of {} chips and {} global links need {} links per chip, "
                                      "chip {} has {}",
                                      chips_per_node, global_links, used, c.name, c.c2c_links));
  if (nodes_per_rack > 1 && global_links == 0 && chips > chips_per_node)
    bad("global_links", "nodes cannot reach each other without global links");
  const int racks = (chips + chips_per_node * nodes_per_rack - 1) / (chips_per_node * nodes_per_rack);
  if (racks > 1 && c.c2c_links - used < 1)
    bad("chips",
        fmt::format("{} racks need links between racks; every link of chip {} is already used", racks, c.name));
}

ChipConfig SystemConfig::chipConfig() const {
  ChipConfig c = loadChip(chip);
  c.c2c_lanes_per_link = lanes_per_link;
  c.c2c_gbps_per_lane = gbps_per_lane;
  c.c2c_link_latency = hop_latency;
  c.latency.c2c_deskew = deskew;
  return c;
}

namespace {

// The files being read, each naming the next as its "base", outermost first.
using BaseChain = std::vector<std::string>;
SystemConfig load(const std::string& nameOrPath, BaseChain& chain);

SystemConfig fromJson(const std::string& text, const std::string& where, BaseChain& chain) {
  std::string base;
  const nlohmann::json j = parseConfigObject(text, where, "system config", base);
  SystemConfig s;
  if (!base.empty()) {
    std::error_code ec;
    const std::filesystem::path canon = std::filesystem::weakly_canonical(base, ec);
    const std::string key = ec ? base : canon.string();
    std::string cycle;
    for (const std::string& f : chain) cycle += f + " -> ";
    if (std::find(chain.begin(), chain.end(), key) != chain.end())
      throw Error(fmt::format("{}: field base: \"{}\" is a file already being read (a cycle: {}{})", where,
                              printable(base), printable(cycle), printable(key)));
    if (chain.size() >= 16) throw Error(fmt::format("{}: field base: more than 16 files deep", where));
    s = load(base, chain);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    if (k == "base") continue;
    const SysField* f = nullptr;
    for (const SysField& row : kSysFields)
      if (k == row.key) f = &row;
    if (!f) throw Error(fmt::format("{}: unknown field {}", where, printable(k)));
    // An integer past int (4294967304 was read as 8) is as wrong as a string.
    const bool fitsInt = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT_MAX)) &&
                         v.get<int64_t>() >= INT_MIN && v.get<int64_t>() <= INT_MAX;
    const bool ok = f->text ? v.is_string() : f->integer ? fitsInt : v.is_number();
    if (!ok)
      throw Error(fmt::format("{}: field {}: expected {}, got {}", where, k,
                              f->text      ? "a string"
                              : f->integer ? "an integer of 32 bits"
                                           : "a number",
                              jsonText(v)));
    if (f->text && printable(v.get<std::string>()) != v.get<std::string>())
      throw Error(fmt::format("{}: field {}: expected a string without control characters", where, k));
    if (f->text)
      s.*f->text = v.get<std::string>();
    else if (f->integer)
      s.*f->integer = v.get<int>();
    else
      s.*f->number = v.get<double>();
  }
  s.validate(where);
  return s;
}

}  // namespace

SystemConfig systemFromJson(const std::string& text, const std::string& where) {
  BaseChain chain;
  return fromJson(text, where, chain);
}

std::string systemToJson(const SystemConfig& s) {
  nlohmann::ordered_json j;
  for (const SysField& f : kSysFields) {
    if (f.text)
      j[f.key] = s.*f.text;
    else if (f.integer)
      j[f.key] = s.*f.integer;
    else
      j[f.key] = s.*f.number;
  }
  return j.dump(2);
}

namespace {

SystemConfig load(const std::string& nameOrPath, BaseChain& chain) {
  for (const SystemConfig& p : systemPresets())
    if (p.name == nameOrPath) return p;
  std::ifstream in(nameOrPath);
  if (!in) {
    std::string names;
    for (const auto& p : systemPresets()) names += (names.empty() ? "" : ", ") + p.name;
    throw Error(fmt::format("{}: not a system preset ({}) nor a readable JSON file", printable(nameOrPath), names));
  }
  std::error_code ec;
  const std::filesystem::path canon = std::filesystem::weakly_canonical(nameOrPath, ec);
  chain.push_back(ec ? nameOrPath : canon.string());
  SystemConfig s = fromJson(readJsonText(in, printable(nameOrPath)), printable(nameOrPath), chain);
  chain.pop_back();
  return s;
}

}  // namespace

SystemConfig loadSystem(const std::string& nameOrPath) {
  BaseChain chain;
  return load(nameOrPath, chain);
}

// Local link l of chip i in a node leads to chip l (l < i) or l + 1. Global
// port q = i * G + g of a node (G = global_links) leads to node n + 1 + q mod
// (N - 1) of the rack (N nodes), to port q' = q - q mod (N - 1) + (N - 2 -
// q mod (N - 1)), which leads back. Racks are joined the same way by the
// links left over, over the racks of the system.
std::vector<std::vector<LinkEnd>> wiring(const SystemConfig& s, int linksPerChip) {
  std::vector<std::vector<LinkEnd>> w(size_t(s.chips), std::vector<LinkEnd>(size_t(linksPerChip)));
  const int cpn = s.chips_per_node, npr = s.nodes_per_rack, G = npr > 1 ? s.global_links : 0;
  const int perRack = cpn * npr, racks = (s.chips + perRack - 1) / perRack;
  const int R = linksPerChip - (cpn - 1) - G;  // rack links per chip
  auto connect = [&](int a, int la, int b, int lb) {
    if (a < s.chips && b < s.chips && a != b) w[size_t(a)][size_t(la)] = {b, lb};
  };
  for (int c = 0; c < s.chips; ++c) {
    const int rack = c / perRack, node = (c / cpn) % npr, i = c % cpn, base = c - i;
    for (int l = 0; l < cpn - 1; ++l) {
      const int j = l < i ? l : l + 1;
      connect(c, l, base + j, i < j ? i : i - 1);
    }
    for (int g = 0; g < G; ++g) {
      const int q = i * G + g, k = q % (npr - 1), q2 = q - k + (npr - 2 - k);
      if (q2 >= cpn * G) continue;
      const int node2 = (node + 1 + k) % npr;
      connect(c, cpn - 1 + g, rack * perRack + node2 * cpn + q2 / G, cpn - 1 + q2 % G);
    }
    if (racks > 1)
      for (int r = 0; r < R; ++r) {  // port q of the rack leads to rack + 1 + q mod (racks - 1)
        const int q = (c % perRack) * R + r, k = q % (racks - 1), q2 = q - k + (racks - 2 - k);
        if (q2 >= perRack * R) continue;
        const int rack2 = (rack + 1 + k) % racks;
        connect(c, cpn - 1 + G + r, rack2 * perRack + q2 / R, cpn - 1 + G + q2 % R);
      }
  }
  return w;
}

int directLink(const std::vector<std::vector<LinkEnd>>& w, int a, int b) {
  for (size_t l = 0; l < w[size_t(a)].size(); ++l)
    if (w[size_t(a)][l].chip == b) return int(l);
  return -1;
}

std::vector<int> chainOrder(const SystemConfig& s, const std::vector<std::vector<LinkEnd>>& w, int n) {
  if (n > s.chips) throw Error(fmt::format("{} chips asked of system {}, which has {}", n, s.name, s.chips));
  std::vector<int> path{0};
  std::vector<bool> seen(size_t(s.chips), false);
  seen[0] = true;
  std::vector<size_t> next{0};  // per path position: the next link to try
  long steps = 0;
  while (int(path.size()) < n) {
    if (++steps > 10000000) break;
    const int c = path.back();
    size_t& l = next.back();
    bool moved = false;
    for (; l < w[size_t(c)].size(); ++l) {
      const int d = w[size_t(c)][l].chip;
      if (d < 0 || seen[size_t(d)]) continue;
      ++l;
      path.push_back(d);
      seen[size_t(d)] = true;
      next.push_back(0);
      moved = true;
      break;
    }
    if (moved) continue;
    if (path.size() == 1) break;
    seen[size_t(path.back())] = false;
    path.pop_back();
    next.pop_back();
  }
  if (int(path.size()) < n) throw Error(fmt::format("system {}: no chain of {} directly linked chips", s.name, n));
  return path;
}

}  // namespace lpu
