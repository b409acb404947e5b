#include "chip_config.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "isa/binary.h"
#include "isa/error.h"

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

#define INT(k, unit, meaning, assumed, lo, hi) \
  { #k, unit, meaning, assumed, &ChipConfig::k, nullptr, nullptr, lo, hi }
#define DBL(k, unit, meaning, assumed, lo, hi) \
  { #k, unit, meaning, assumed, nullptr, &ChipConfig::k, nullptr, lo, hi }
#define LAT(k, meaning, assumed, hi) \
  { "latency." #k, "cycles", meaning, assumed, nullptr, nullptr, &Latency::k, 1, hi }

const std::vector<Param>& params() {
  static const std::vector<Param> p = {
      DBL(clock_hz, "Hz", "core clock; seconds = cycles / clock_hz", false, 1e3, 1e11),
      INT(superlanes, "count", "superlanes; instructions climb one per cycle (vector-granularity model)", false, 1, 64),
      INT(lanes_per_superlane, "count", "lanes per superlane; vector length = superlanes x lanes", false, 1, 64),
      INT(streams_per_direction, "count", "stream registers flowing east, and as many flowing west", false, 1, 32),
      INT(stream_hop, "cycles", "cycles for a stream value to advance one slice", true, 1, 64),
      INT(mem_slices_per_hemisphere, "count", "MEM slices on each side of the VXM", false, 1, 120),
      INT(mem_banks_per_slice, "count", "SRAM banks per MEM slice; bank = address % banks", false, 1, 16),
      INT(mem_words_per_bank, "vectors", "vector-sized words per bank (one byte per lane each)", false, 1, 1 << 24),
      INT(mem_ports_per_bank, "accesses/cycle", "reads + write commits one bank takes per cycle", true, 1, 8),
      INT(vxm_alus, "count", "VXM ALUs per lane, one instruction queue each", false, 1, 64),
      INT(mxm_planes_per_hemisphere, "count", "MXM planes on each edge, lanes x lanes each", false, 0, 8),
      INT(mxm_queues_per_plane, "count", "instruction queues per MXM plane", false, 1, 8),
      INT(mxm_weight_streams, "streams", "streams an LW reads in one cycle (weight rows per cycle for int8)", false, 1,
          32),
      INT(mxm_accumulators, "count", "accumulator registers per MXM plane", true, 1, 64),
      INT(sxm_queues_per_hemisphere, "count", "SXM instruction queues on each side", false, 0, 64),
      INT(c2c_links, "count", "chip-to-chip links; the first half at the west SXM, the rest east", false, 0, 64),
      INT(c2c_lanes_per_link, "count", "serial lanes per link", false, 1, 64),
      DBL(c2c_gbps_per_lane, "Gb/s", "line rate per lane", false, 0.001, 1000),
      INT(c2c_link_latency, "cycles", "wire latency of one link, send to arrival", true, 1, 1000000),
      LAT(icu_notify, "notify to release of the synced queues", true, 1000),
      LAT(mem_read, "Read issue to the vector on its stream", true, 1000),
      LAT(mem_write, "Write issue to the bank commit (the bank port is used then)", true, 1000),
      LAT(vxm_alu, "add/sub/mul/max/min/mov/neg/abs/relu issue to result", true, 1000),
      LAT(vxm_special, "exp/tanh/rsqrt issue to result", true, 1000),
      LAT(vxm_convert, "cvt issue to result", true, 1000),
      LAT(mxm_load, "LW issue to the rows in the weight buffer", true, 1000),
      LAT(mxm_install, "IW issue to the new weights in the array", true, 1000),
      LAT(mxm_pass, "ABC issue to the product in the accumulator", true, 1000),
      LAT(mxm_acc, "ACC issue to the accumulator on its streams", true, 1000),
      LAT(sxm_shift, "shift/rot issue to result", true, 1000),
      LAT(sxm_permute, "perm/dist issue to result", true, 1000),
      LAT(sxm_transpose, "transpose issue to result", true, 1000),
      LAT(c2c_send, "Send issue to the vector on the wire", true, 1000),
      LAT(c2c_recv, "Receive issue to the vector on its stream", true, 100000),
      LAT(c2c_deskew, "Deskew issue until its link may send and receive", true, 100000),
  };
  return p;
}
#undef INT
#undef DBL
#undef LAT

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
  switch (l) {
    case Lat::none: return 0;
#define X(n) \
  case Lat::n: return latency.n;
      LPU_LATENCY_FIELDS(X)
#undef X
  }
  return 0;
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

int ChipConfig::position(const QueueId& q) const {
  switch (q.unit) {
    case Unit::MEM: return memPosition(SliceRef{q.east, uint8_t(q.index)});
    case Unit::VXM: return vxmPosition();
    case Unit::MXM: return q.east ? eastEdge() : 0;
    case Unit::SXM: return q.east ? eastEdge() - 1 : 1;
    case Unit::C2C: return q.index < c2c_links / 2 ? 1 : eastEdge() - 1;
    case Unit::ICU: break;
  }
  return 0;
}

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
  c.latency = Latency{1, 2, 2, 1, 3, 1, 1, 1, 4, 1, 2, 2, 2, 1, 1, 4};
  return c;
}

std::vector<ChipConfig> presets() { return {presetTspV1(), presetTeaching()}; }

ChipConfig chipFromJson(const std::string& text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: invalid JSON at byte {}: expected a chip config object", where, e.byte));
  }
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", where));
  ChipConfig c;
  if (j.contains("base")) {
    if (!j["base"].is_string()) throw Error(fmt::format("{}: field base: expected a preset name", where));
    bool found = false;
    for (const auto& p : presets())
      if (p.name == j["base"].get<std::string>()) c = p, found = true;
    if (!found) throw Error(fmt::format("{}: field base: unknown preset \"{}\"", where, j["base"].get<std::string>()));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "base") continue;
    if (k == "name" || k == "description") {
      if (!it->is_string()) throw Error(fmt::format("{}: field {}: expected a string", where, k));
      (k == "name" ? c.name : c.description) = it->get<std::string>();
      continue;
    }
    if (k == "latency") {
      if (!it->is_object()) throw Error(fmt::format("{}: field latency: expected an object", where));
      continue;
    }
    bool known = false;
    for (const Param& p : params()) known |= p.key == k;
    if (!known) throw Error(fmt::format("{}: field {}: unknown field (see `lpusim chips --fields`)", where, k));
  }
  if (j.contains("latency"))
    for (auto it = j["latency"].begin(); it != j["latency"].end(); ++it) {
      bool known = false;
      for (const Param& p : params()) known |= std::string(p.key) == "latency." + it.key();
      if (!known) throw Error(fmt::format("{}: field latency.{}: unknown latency", where, it.key()));
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
    throw Error(fmt::format("unknown chip preset '{}' (presets: {}; or give a .json file)", nameOrPath, names));
  }
  const auto b = readFileBytes(nameOrPath);
  return chipFromJson(std::string(b.begin(), b.end()), nameOrPath);
}

}  // namespace lpu
