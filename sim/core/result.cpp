#include "result.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "isa/assembler.h"
#include "isa/numeric.h"

namespace lpu {
namespace {

std::string fnvHex(const std::vector<uint8_t>& b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t c : b) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

int queuesOf(const ChipConfig& c, Unit u) {
  switch (u) {
    case Unit::MEM: return 2 * c.mem_slices_per_hemisphere;
    case Unit::VXM: return c.vxm_alus;
    case Unit::MXM: return 2 * c.mxm_planes_per_hemisphere * c.mxm_queues_per_plane;
    case Unit::SXM: return 2 * c.sxm_queues_per_hemisphere;
    case Unit::C2C: return c.c2c_links;
    case Unit::ICU: break;
  }
  return 0;
}

}  // namespace

SimResult collectResult(const Chip& chip, const std::string& programName, Cycle release) {
  SimResult r;
  const ChipConfig& c = chip.config();
  r.program = programName;
  r.chip = c.name;
  r.clock_hz = c.clock_hz;
  r.cycles = std::max<Cycle>(0, chip.lastRetire() - release);
  r.units = chip.stats();
  r.sources = chip.sourceStats();
  for (int u = 0; u < kUnitCount; ++u) r.queues[size_t(u)] = queuesOf(c, Unit(u));
  for (const Tensor& t : chip.program().tensors) {
    if (!t.output) continue;
    OutputValue o{t.name, t.dtype, t.rows, t.cols, chip.tensorBytes(t), ""};
    r.functional = !o.bytes.empty();
    o.checksum = o.bytes.empty() ? "" : fnvHex(o.bytes);
    r.outputs.push_back(std::move(o));
  }
  return r;
}

std::string resultJson(const SimResult& r, size_t maxValues) {
  nlohmann::ordered_json j;
  j["program"] = r.program;
  j["chip"] = r.chip;
  j["cycles"] = r.cycles;
  j["clock_hz"] = r.clock_hz;
  j["seconds"] = r.seconds();
  j["functional"] = r.functional;
  for (int u = 0; u < kUnitCount; ++u) {
    const std::string name(unitName(Unit(u)));
    j["instructions"][name] = r.units[size_t(u)].instructions;
  }
  for (int u = 0; u < kUnitCount; ++u) {
    const std::string name(unitName(Unit(u)));
    j["busy_cycles"][name] = r.units[size_t(u)].busy;
  }
  for (int u = 1; u < kUnitCount; ++u) {
    const std::string name(unitName(Unit(u)));
    const double denom = double(r.cycles) * r.queues[size_t(u)];
    j["utilization"][name] = denom > 0 ? double(r.units[size_t(u)].busy) / denom : 0.0;
  }
  // The producer check: stream reads (planes) whose producer was stated and verified, and those without one.
  j["stream_reads"] = {{"producer_checked", r.sources.checked}, {"producer_unstated", r.sources.unstated}};
  j["word_reads"] = {{"producer_checked", r.sources.words_checked},
                     {"producer_unstated", r.sources.words_unstated},
                     {"scattered", r.sources.words_scattered}};
  j["outputs"] = nlohmann::ordered_json::array();
  for (const OutputValue& o : r.outputs) {
    nlohmann::ordered_json e;
    e["name"] = o.name;
    e["dtype"] = std::string(dtypeName(o.dtype));
    e["shape"] = {o.rows, o.cols};
    if (!o.bytes.empty()) {
      e["checksum"] = o.checksum;
      const size_t n = size_t(o.rows) * o.cols, w = size_t(bytes(o.dtype));
      if (n <= maxValues) {
        e["values"] = nlohmann::ordered_json::array();
        for (size_t i = 0; i < n; ++i) e["values"].push_back(loadElement(o.dtype, &o.bytes[i * w]));
      }
    }
    j["outputs"].push_back(e);
  }
  j["wall_s"] = r.wall_s;
  return j.dump(2);
}

std::string resultTable(const SimResult& r) {
  std::string s;
  s += fmt::format("program   {}\nchip      {} ({:.0f} MHz)\n", r.program, r.chip, r.clock_hz / 1e6);
  s += fmt::format("cycles    {}\ntime      {:.3f} us\n\n", r.cycles, r.seconds() * 1e6);
  s += fmt::format("{:<6} {:>14} {:>12} {:>12}\n", "unit", "instructions", "busy cyc", "utilization");
  for (int u = 0; u < kUnitCount; ++u) {
    const double denom = double(r.cycles) * r.queues[size_t(u)];
    const std::string util =
        u == 0 || denom == 0 ? "-" : fmt::format("{:.1f}%", 100.0 * double(r.units[size_t(u)].busy) / denom);
    s += fmt::format("{:<6} {:>14} {:>12} {:>12}\n", unitName(Unit(u)), r.units[size_t(u)].instructions,
                     r.units[size_t(u)].busy, util);
  }
  if (!r.outputs.empty()) s += "\noutputs\n";
  for (const OutputValue& o : r.outputs) {
    s += fmt::format("  {} {} [{}, {}]", o.name, dtypeName(o.dtype), o.rows, o.cols);
    if (o.bytes.empty()) {
      s += "  (timing only)\n";
      continue;
    }
    s += fmt::format("  checksum {}  values", o.checksum);
    const size_t n = size_t(o.rows) * o.cols, w = size_t(bytes(o.dtype));
    for (size_t i = 0; i < std::min<size_t>(n, 8); ++i)
      s += fmt::format(" {:g}", loadElement(o.dtype, &o.bytes[i * w]));
    s += n > 8 ? " ...\n" : "\n";
  }
  s += fmt::format("\nwall time {:.3f} s\n", r.wall_s);
  return s;
}

std::string traceJson(const Chip& chip) {
  nlohmann::json events = nlohmann::json::array();
  const Program& p = chip.program();
  for (size_t q = 0; q < p.queues.size(); ++q)
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", q},
                      {"args", {{"name", formatQueueId(p.queues[q].id)}}}});
  for (const TraceEvent& e : chip.trace()) {
    const QueueId& id = p.queues[size_t(e.queue)].id;
    events.push_back({{"name", formatInstr(p, id, e.instr)},
                      {"cat", std::string(unitName(info(e.instr.op).unit))},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", e.queue},
                      {"ts", e.start},
                      {"dur", e.dur},
                      {"args", {{"cycle", e.start}}}});
  }
  nlohmann::json j;
  j["traceEvents"] = events;
  j["displayTimeUnit"] = "ns";
  j["otherData"] = {{"chip", chip.config().name}, {"time_unit", "1 us on the axis = 1 cycle"}};
  return j.dump();
}

void dumpOutputs(const SimResult& r, const std::string& dir) {
  for (const OutputValue& o : r.outputs) {
    if (o.bytes.empty()) continue;
    const std::string path = dir + "/" + o.name + ".npy";
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(fmt::format("{}: cannot open for writing", path));
    constexpr const char* descr[] = {"<i1", "<i2", "<i4", "<f2", "<f4"};
    std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}",
                                     descr[int(o.dtype)], o.rows, o.cols);
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    const uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.put(char(len & 0xff));
    f.put(char(len >> 8));
    f << header;
    f.write(reinterpret_cast<const char*>(o.bytes.data()), long(o.bytes.size()));
  }
}

}  // namespace lpu
