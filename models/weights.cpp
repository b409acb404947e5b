#include "weights.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "isa/error.h"
#include "isa/json_input.h"
#include "isa/numeric.h"

namespace lpu {

// ---- seeded ---------------------------------------------------------------

SeededWeights::SeededWeights(const ModelConfig& m, uint64_t seed) : seed_(seed) {
  for (WeightSpec& s : weightSpecs(m)) specs_.emplace(s.name, std::move(s));
}

std::vector<int64_t> SeededWeights::shape(const std::string& name) const {
  const auto it = specs_.find(name);
  if (it == specs_.end()) throw Error(fmt::format("weight {}: the model has no such tensor", printable(name)));
  return it->second.shape;
}

std::vector<float> SeededWeights::tensor(const std::string& name) const {
  const auto it = specs_.find(name);
  if (it == specs_.end()) throw Error(fmt::format("weight {}: the model has no such tensor", printable(name)));
  const WeightSpec& s = it->second;
  uint64_t h = seed_ ^ 0x9e3779b97f4a7c15ull;
  for (char ch : name) h = (h ^ uint8_t(ch)) * 0x100000001b3ull;
  SplitMix64 rng(h);
  double lo = -1, hi = 1;
  switch (s.role) {
    case WeightRole::Embedding:
    case WeightRole::Position: break;
    case WeightRole::Norm:
      lo = 0.8, hi = 1.2;
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) lo = -0.1, hi = 0.1;
      break;
    case WeightRole::Bias:
    case WeightRole::Sink: lo = -0.1, hi = 0.1; break;
    case WeightRole::Matrix:
    case WeightRole::Router:
    case WeightRole::Expert: {
      // Fan-in: the input dimension ([out, in] Linear, [in, out] Conv1D, [E, in, out] packed experts).
      int64_t fanIn = s.shape.back();
      if (name.find(".c_attn.") != std::string::npos || name.find(".c_fc.") != std::string::npos ||
          name.find(".c_proj.") != std::string::npos)
        fanIn = s.shape[0];
      if (s.shape.size() == 3) fanIn = s.shape[1];
      if (s.shape.size() == 2 && name.find("_bias") != std::string::npos) fanIn = 100;  // packed expert biases
      if (s.shape.size() == 1) fanIn = 100;                                             // router bias
      hi = 1.0 / std::sqrt(double(fanIn)), lo = -hi;
      break;
    }
  }
  std::vector<float> v(size_t(s.elements()));
  for (float& x : v) x = float(rng.uniform(lo, hi));
  return v;
}

// ---- safetensors ----------------------------------------------------------

namespace {

int dtypeBytes(const std::string& dt) { return dt == "F32" ? 4 : dt == "F16" || dt == "BF16" ? 2 : 0; }

std::string shapeText(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace

namespace {

std::vector<uint8_t> readWeightFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : SafetensorsFile(readWeightFile(path), path) {}

SafetensorsFile::SafetensorsFile(std::vector<uint8_t> bytes, const std::string& path)
    : path_(path), data_(std::move(bytes)) {
  if (data_.size() < 8)
    throw Error(fmt::format("{}: truncated: no header length (expected 8 bytes, file has {})", path, data_.size()));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data_[size_t(i)];
  if (n > data_.size() - 8)
    throw Error(fmt::format("{}: truncated: header of {} bytes, file has {}", path, n, data_.size()));
  checkJsonDepth(data_.begin() + 8, data_.begin() + 8 + int64_t(n), path);
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(data_.begin() + 8, data_.begin() + 8 + int64_t(n));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: the header is not valid JSON (byte {})", path, e.byte));
  } catch (const nlohmann::json::exception&) {  // e.g. a number too large for 64 bits
    throw Error(fmt::format("{}: the header is not valid JSON (a number out of range)", path));
  }
  if (!h.is_object()) throw Error(fmt::format("{}: the header is not a JSON object", path));
  const uint64_t dataBytes = data_.size() - 8 - n;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& e = it.value();
    const std::string where = fmt::format("{}: tensor {}", path, printable(it.key()));
    if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() || !e.contains("shape") ||
        !e["shape"].is_array() || !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2)
      throw Error(where + ": expected {dtype, shape, data_offsets: [begin, end]}");
    Entry en;
    en.dtype = e["dtype"].get<std::string>();
    if (!dtypeBytes(en.dtype))
      throw Error(fmt::format("{}: dtype {} is not supported (F32, F16, BF16)", where, printable(en.dtype)));
    // Element count and byte size with checked arithmetic: a product that
    // does not fit in 64 bits cannot match the data and is an error.
    uint64_t count = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) throw Error(where + ": shape must hold non-negative integers");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > uint64_t(INT64_MAX)) throw Error(fmt::format("{}: shape dimension {} exceeds 2^63 - 1", where, dim));
      if (dim != 0 && count > dataBytes / dim)
        throw Error(fmt::format("{}: shape {} has more elements than the file's {} data bytes", where,
                                e["shape"].dump(), dataBytes));
      en.shape.push_back(int64_t(dim));
      count *= dim;
    }
    for (const auto& o : e["data_offsets"])
      if (!o.is_number_unsigned()) throw Error(where + ": data_offsets must be non-negative integers");
    en.begin = e["data_offsets"][0].get<uint64_t>();
    en.end = e["data_offsets"][1].get<uint64_t>();
    if (en.begin > en.end || en.end > dataBytes)
      throw Error(fmt::format("{}: data_offsets [{}, {}] outside the {} data bytes (truncated file?)", where, en.begin,
                              en.end, dataBytes));
    if (en.end - en.begin != count * uint64_t(dtypeBytes(en.dtype)))
      throw Error(fmt::format("{}: {} {} needs {} bytes, data_offsets give {}", where, en.dtype, shapeText(en.shape),
                              count * uint64_t(dtypeBytes(en.dtype)), en.end - en.begin));
    en.begin += 8 + n;
    en.end += 8 + n;
    entries_[it.key()] = en;
  }
}

std::vector<int64_t> SafetensorsFile::shape(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) throw Error(fmt::format("{}: no tensor {}", path_, printable(name)));
  return it->second.shape;
}

std::vector<float> SafetensorsFile::tensor(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) throw Error(fmt::format("{}: no tensor {}", path_, printable(name)));
  const Entry& e = it->second;
  const int eb = dtypeBytes(e.dtype);
  std::vector<float> v(size_t((e.end - e.begin) / uint64_t(eb)));
  const uint8_t* p = data_.data() + e.begin;
  for (size_t i = 0; i < v.size(); ++i, p += eb) {
    if (e.dtype == "F32") {
      std::memcpy(&v[i], p, 4);
    } else {
      const uint16_t b = uint16_t(p[0] | (p[1] << 8));
      if (e.dtype == "F16") {
        v[i] = f16ToF32(b);
      } else {
        const uint32_t w = uint32_t(b) << 16;
        std::memcpy(&v[i], &w, 4);
      }
    }
  }
  return v;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> n;
  for (const auto& [name, e] : entries_) n.push_back(name);
  return n;
}

void SafetensorsFile::check(const ModelConfig& m) const {
  for (const WeightSpec& s : weightSpecs(m)) {
    const auto it = entries_.find(s.name);
    if (it == entries_.end()) throw Error(fmt::format("{}: missing tensor {} {}", path_, s.name, shapeText(s.shape)));
    if (it->second.shape != s.shape)
      throw Error(fmt::format("{}: tensor {} is {}, the model needs {}", path_, s.name, shapeText(it->second.shape),
                              shapeText(s.shape)));
  }
}

void writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes,
                      const std::vector<std::vector<float>>& values) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  uint64_t off = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const uint64_t n = values[i].size() * 4;
    h[shapes[i].first] = {{"dtype", "F32"}, {"shape", shapes[i].second}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string head = h.dump();
  while (head.size() % 8) head += ' ';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(fmt::format("{}: cannot open for writing", path));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(head.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out << head;
  for (const auto& v : values) out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * 4));
}

// ---- views ----------------------------------------------------------------

namespace {

struct Axis {
  int64_t start = 0, stop = -1, step = 1;  // stop -1: to the end
  bool index = false;                      // a single index: the axis is dropped
};

int64_t parseInt(const std::string& s, const std::string& where) {
  try {
    size_t n = 0;
    const long long v = std::stoll(s, &n);
    if (n == s.size()) return v;
  } catch (...) {
  }
  throw Error(fmt::format("weight view {}: \"{}\" is not an integer", where, printable(s)));
}

std::vector<Axis> parseView(const std::string& spec, const std::string& where) {
  std::vector<Axis> axes;
  size_t i = 0;
  while (i <= spec.size()) {
    const size_t j = std::min(spec.find(',', i), spec.size());
    std::string part = spec.substr(i, j - i);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    Axis a;
    const size_t c1 = part.find(':');
    if (c1 == std::string::npos) {
      a.index = true;
      a.start = parseInt(part, where);
      a.stop = a.start < INT64_MAX ? a.start + 1 : a.start;  // an index past the end fails the range check
    } else {
      const size_t c2 = part.find(':', c1 + 1);
      const std::string s0 = part.substr(0, c1);
      const std::string s1 = part.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      if (!s0.empty()) a.start = parseInt(s0, where);
      if (!s1.empty()) a.stop = parseInt(s1, where);
      if (c2 != std::string::npos && c2 + 1 < part.size()) a.step = parseInt(part.substr(c2 + 1), where);
      if (a.step < 1) throw Error(fmt::format("weight view {}: step must be positive", where));
    }
    axes.push_back(a);
    i = j + 1;
  }
  return axes;
}

}  // namespace

std::vector<float> viewValues(const WeightSource& w, const std::string& graphName, const std::vector<int64_t>& shape) {
  const size_t br = graphName.find('[');
  const std::string base = graphName.substr(0, br);
  const std::vector<int64_t> full = w.shape(base);
  const std::string gn = printable(graphName);  // for messages
  std::vector<float> v = w.tensor(base);
  std::vector<Axis> axes;
  if (br != std::string::npos) {
    if (graphName.back() != ']') throw Error(fmt::format("weight view {}: expected a closing ]", gn));
    axes = parseView(graphName.substr(br + 1, graphName.size() - br - 2), gn);
    if (axes.size() != full.size())
      throw Error(fmt::format("weight view {}: {} indices for a tensor of rank {}", gn, axes.size(), full.size()));
  } else {
    axes.assign(full.size(), Axis{});
  }
  std::vector<int64_t> outShape, counts;
  for (size_t d = 0; d < axes.size(); ++d) {
    Axis& a = axes[d];
    if (a.stop < 0) a.stop = full[d];
    if (a.start < 0 || a.stop > full[d] || a.start >= a.stop)
      throw Error(fmt::format("weight view {}: axis {} range {}:{} outside 0:{}", gn, d, a.start, a.stop, full[d]));
    counts.push_back((a.stop - a.start - 1) / a.step + 1);  // no overflow for any positive step
    if (!a.index) outShape.push_back(counts.back());
  }
  int64_t n = 1;
  for (int64_t c : counts) n *= c;
  // The graph may see a [1, N] row as [N] and vice versa: compare element counts and non-unit dims.
  auto squeeze = [](std::vector<int64_t> s) {
    s.erase(std::remove(s.begin(), s.end(), int64_t(1)), s.end());
    return s;
  };
  if (squeeze(outShape) != squeeze(shape))
    throw Error(fmt::format("weight {}: the checkpoint gives {}, the graph needs {}", gn, shapeText(outShape),
                            shapeText(shape)));
  if (br == std::string::npos) return v;
  std::vector<int64_t> stride(full.size(), 1);
  for (int d = int(full.size()) - 2; d >= 0; --d) stride[size_t(d)] = stride[size_t(d) + 1] * full[size_t(d) + 1];
  std::vector<float> out(static_cast<size_t>(n));
  std::vector<int64_t> idx(axes.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < axes.size(); ++d) src += (axes[d].start + idx[d] * axes[d].step) * stride[d];
    out[size_t(k)] = v[size_t(src)];
    for (int d = int(axes.size()) - 1; d >= 0; --d) {
      if (++idx[size_t(d)] < counts[size_t(d)]) break;
      idx[size_t(d)] = 0;
    }
  }
  return out;
}

}  // namespace lpu
