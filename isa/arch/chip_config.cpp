#include "chip_config.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "isa/error.h"
#include "isa/json_input.h"
#include "json_type.h"
#include "queues.h"

namespace lpu {
namespace {

// The parameter table: JSON key, unit, meaning, assumed?, member, valid range.
struct Param {
  const char* key;
  const char* unit;
  const char* meaning;
  bool assumed;
  int ChipConfig::*i;
  double ChipConfig::*d;
  int Latency::*l;
  double lo, hi;
};

// Members of the row's type: an int field points at i, a double at d.
constexpr std::pair<int ChipConfig::*, double ChipConfig::*> member(int ChipConfig::*i) { return {i, nullptr}; }
constexpr std::pair<int ChipConfig::*, double ChipConfig::*> member(double ChipConfig::*d) { return {nullptr, d}; }

// The rows of chip_fields.def, then of latencies.def, in that order (the
// order of `chips --fields` and of chipToJson).
const std::vector<Param>& params() {
  static const std::vector<Param> p = [] {
    std::vector<Param> v;
#define LPU_CHIP_FIELD(type, k, def, unit, lo, hi, assumed, meaning)                                             \
  v.push_back({#k, unit, meaning, assumed, member(&ChipConfig::k).first, member(&ChipConfig::k).second, nullptr, \
               double(lo), double(hi)});
#include "chip_fields.def"
#define LPU_LATENCY(k, def, hi, assumed, meaning) \
  v.push_back({"latency." #k, "cycles", meaning, assumed, nullptr, nullptr, &Latency::k, 1, double(hi)});
#include "isa/latencies.def"
    return v;
  }();
  return p;
}

double get(const ChipConfig& c, const Param& p) {
  if (p.i) return c.*p.i;
  if (p.d) return c.*p.d;
  return c.latency.*p.l;
}

void set(ChipConfig& c, const Param& p, double v) {
  if (p.i)
    c.*p.i = int(v);
  else if (p.d)
    c.*p.d = v;
  else
    c.latency.*p.l = int(v);
}

}  // namespace

int ChipConfig::latencyOf(Lat l) const {
  static constexpr int Latency::*fields[] = {
      nullptr,
#define LPU_LATENCY(name, ...) &Latency::name,
#include "isa/latencies.def"
  };
  return l == Lat::none ? 0 : latency.*fields[size_t(l)];
}

int ChipConfig::c2cCyclesPerVector() const {
  const double bytesPerCycle = c2c_lanes_per_link * c2c_gbps_per_lane * 1e9 / 8.0 / clock_hz;
  return std::max(1, int(std::ceil(lanes() / bytesPerCycle - 1e-9)));
}

uint64_t ChipConfig::sramBytes() const {
  return 2ull * uint64_t(mem_slices_per_hemisphere) * uint64_t(mem_banks_per_slice) * uint64_t(mem_words_per_bank) *
         uint64_t(lanes());
}

int ChipConfig::memPosition(SliceRef s) const {
  const int m = mem_slices_per_hemisphere;
  return s.east ? m + 3 + s.index : m + 1 - s.index;
}

int ChipConfig::position(const QueueId& q) const { return queuePosition(*this, q); }

void ChipConfig::validate(const std::string& where) const {
  if (name.empty()) throw Error(fmt::format("{}: field name: must not be empty", where));
  for (const Param& p : params()) {
    const double v = get(*this, p);
    if (!(v >= p.lo && v <= p.hi))
      throw Error(
          fmt::format("{}: field {}: {} is out of range (expected {} to {} {})", where, p.key, v, p.lo, p.hi, p.unit));
  }
  if (mxm_weight_streams > streams_per_direction)
    throw Error(fmt::format("{}: field mxm_weight_streams: {} exceeds streams_per_direction {}", where,
                            mxm_weight_streams, streams_per_direction));
  if (mxm_weight_streams > lanes())
    throw Error(fmt::format("{}: field mxm_weight_streams: {} exceeds the vector length {}", where, mxm_weight_streams,
                            lanes()));
}

const std::vector<FieldDoc>& fieldDocs() {
  static const std::vector<FieldDoc> docs = [] {
    std::vector<FieldDoc> d;
    for (const Param& p : params()) d.push_back({p.key, p.unit, p.meaning, p.assumed});
    return d;
  }();
  return docs;
}

ChipConfig presetTspV1() { return ChipConfig{}; }

ChipConfig presetTeaching() {
  ChipConfig c;
  c.name = "teaching";
  c.description = "a tiny chip to follow by hand: 8 lanes, 4 MEM slices a side, 1 GHz";
  c.clock_hz = 1e9;
  c.superlanes = 2;
  c.lanes_per_superlane = 4;
  c.streams_per_direction = 8;
  c.mem_slices_per_hemisphere = 4;
  c.mem_words_per_bank = 64;
  c.vxm_alus = 4;
  c.mxm_planes_per_hemisphere = 1;
  c.mxm_weight_streams = 4;
  c.mxm_accumulators = 2;
  c.sxm_queues_per_hemisphere = 2;
  c.c2c_links = 2;
  c.c2c_lanes_per_link = 1;
  c.c2c_gbps_per_lane = 8;
  c.c2c_link_latency = 10;
  c.latency.icu_notify = 1;
  c.latency.mem_read = 2;
  c.latency.mem_write = 2;
  c.latency.vxm_alu = 1;
  c.latency.vxm_special = 3;
  c.latency.vxm_convert = 1;
  c.latency.mxm_load = 1;
  c.latency.mxm_install = 1;
  c.latency.mxm_pass = 4;
  c.latency.mxm_acc = 1;
  c.latency.sxm_shift = 2;
  c.latency.sxm_permute = 2;
  c.latency.sxm_transpose = 2;
  c.latency.c2c_send = 1;
  c.latency.c2c_recv = 1;
  c.latency.c2c_deskew = 4;
  return c;
}

std::vector<ChipConfig> presets() { return {presetTspV1(), presetTeaching()}; }

ChipConfig chipFromJson(const std::string& text, const std::string& where) {
  std::string base;
  const nlohmann::json j = parseConfigObject(text, where, "chip config", base);
  ChipConfig c;
  if (!base.empty()) {
    bool found = false;
    for (const auto& p : presets())
      if (p.name == base) c = p, found = true;
    if (!found) throw Error(fmt::format("{}: field base: unknown preset \"{}\"", where, printable(base)));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "base") continue;
    if (k == "name" || k == "description") {
      if (!it->is_string()) throw Error(fmt::format("{}: field {}: expected a string", where, k));
      (k == "name" ? c.name : c.description) = it->get<std::string>();
      if (printable(it->get<std::string>()) != it->get<std::string>())
        throw Error(fmt::format("{}: field {}: expected a string without control characters", where, k));
      continue;
    }
    if (k == "latency") {
      if (!it->is_object()) throw Error(fmt::format("{}: field latency: expected an object", where));
      continue;
    }
    bool known = false;
    for (const Param& p : params()) known |= p.key == k;
    if (!known)
      throw Error(fmt::format("{}: field {}: unknown field (see `lpusim chips --fields`)", where, printable(k)));
  }
  if (j.contains("latency"))
    for (auto it = j["latency"].begin(); it != j["latency"].end(); ++it) {
      bool known = false;
      for (const Param& p : params()) known |= std::string(p.key) == "latency." + it.key();
      if (!known) throw Error(fmt::format("{}: field latency.{}: unknown latency", where, printable(it.key())));
    }
  for (const Param& p : params()) {
    const std::string key = p.key;
    const nlohmann::json* v = nullptr;
    if (key.rfind("latency.", 0) == 0) {
      if (j.contains("latency") && j["latency"].contains(key.substr(8))) v = &j["latency"][key.substr(8)];
    } else if (j.contains(key)) {
      v = &j[key];
    }
    if (!v) continue;
    if (!v->is_number() || (p.d == nullptr && !v->is_number_integer()))
      throw Error(fmt::format("{}: field {}: expected {} in {}", where, key, p.d ? "a number" : "an integer", p.unit));
    const double d = v->get<double>();
    if (!(d >= p.lo && d <= p.hi))
      throw Error(
          fmt::format("{}: field {}: {} is out of range (expected {} to {} {})", where, key, d, p.lo, p.hi, p.unit));
    set(c, p, d);
  }
  c.validate(where);
  return c;
}

std::string chipToJson(const ChipConfig& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name;
  j["description"] = c.description;
  for (const Param& p : params()) {
    const std::string key = p.key;
    const double v = get(c, p);
    auto& slot = key.rfind("latency.", 0) == 0 ? j["latency"][key.substr(8)] : j[key];
    if (p.d)
      slot = v;
    else
      slot = int64_t(v);
  }
  return j.dump(2);
}

ChipConfig loadChip(const std::string& nameOrPath) {
  for (const auto& p : presets())
    if (p.name == nameOrPath) return p;
  if (nameOrPath.find('/') == std::string::npos && nameOrPath.find(".json") == std::string::npos) {
    std::string names;
    for (const auto& p : presets()) names += (names.empty() ? "" : ", ") + p.name;
    throw Error(
        fmt::format("unknown chip preset '{}' (presets: {}; or give a .json file)", printable(nameOrPath), names));
  }
  return chipFromJson(readJsonFile(nameOrPath), printable(nameOrPath));
}

}  // namespace lpu
