#include "graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "isa/error.h"
#include "isa/json_input.h"

namespace lpu {
namespace {

struct OpRow {
  const char* name;
  OpGroup group;
};
constexpr OpRow kOps[] = {
#define X(name, group) {#name, OpGroup::group},
    LPU_GRAPH_OPS(X)
#undef X
};

const char* kindName(TensorKind k) {
  constexpr const char* names[] = {"input", "weight", "activation", "cache", "output"};
  return names[int(k)];
}

// The attribute table's op sets as bit masks: bit k for OpKind k.
struct AttrRow {
  const char* name;
  uint32_t needs, may;  // ops that need it; ops that may give it
  const char* meaning;
  bool takenBy(OpKind k) const { return ((needs | may) >> int(k)) & 1u; }
  bool neededBy(OpKind k) const { return (needs >> int(k)) & 1u; }
};
static_assert(std::size(kOps) <= 32, "an attribute's op sets hold one bit per op");
#define O(op) (uint32_t(1) << int(OpKind::op))
constexpr AttrRow kAttrs[] = {
#define X(name, type, dflt, needs, may, meaning) {#name, needs, may, meaning},
    LPU_OP_ATTRS(X)
#undef X
};
#undef O

// The largest heads, kv_heads, head_dim, experts and top_k (products of two stay far from overflow).
constexpr int64_t kMaxAttrCount = int64_t(1) << 16;

std::string opError(const std::string& where, const std::string& op, OpKind k, const std::string& what) {
  return fmt::format("{}: op {} ({}): {}", where, op, opName(k), what);
}

std::string notTaken(OpKind k, const std::string& key) {
  std::string takes;
  for (const AttrRow& a : kAttrs)
    if (a.takenBy(k)) takes += (takes.empty() ? "" : " ") + std::string(a.name);
  return fmt::format("attribute {}: {} takes no such attribute (it takes {})", printable(key), opName(k),
                     takes.empty() ? "none" : takes);
}

// What a JSON value must be to fill an attribute of each type, or nullptr if it is.
const char* mismatch(const nlohmann::json& v, const bool*) { return v.is_boolean() ? nullptr : "true or false"; }
const char* mismatch(const nlohmann::json& v, const int64_t*) {
  const bool fits = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX));
  return fits ? nullptr : "a 64-bit integer";
}
const char* mismatch(const nlohmann::json& v, const double*) { return v.is_number() ? nullptr : "a number"; }
const char* mismatch(const nlohmann::json& v, const std::string*) { return v.is_string() ? nullptr : "a string"; }
const char* mismatch(const nlohmann::json& v, const nlohmann::json*) {
  return v.is_object() || v.is_null() ? nullptr : "an object or null";
}

// An op's "attrs" object, each key checked against the table and typed.
OpAttrs parseAttrs(const nlohmann::json& j, const std::string& op, OpKind kind, const std::string& where) {
  OpAttrs a;
  for (const auto& [key, v] : j.items()) {
    size_t id = 0;
    while (id < std::size(kAttrs) && key != kAttrs[id].name) ++id;
    if (id == std::size(kAttrs) || !kAttrs[id].takenBy(kind))
      throw Error(opError(where, op, kind, notTaken(kind, key)));
    switch (Attr(id)) {
#define X(name, type, ...)                                                                                       \
  case Attr::name:                                                                                               \
    if (const char* want = mismatch(v, &a.name))                                                                 \
      throw Error(                                                                                               \
          opError(where, op, kind, fmt::format("attribute " #name ": expected {}, got {}", want, jsonText(v)))); \
    a.set_##name(v.get<type>());                                                                                 \
    break;
      LPU_OP_ATTRS(X)
#undef X
    }
  }
  return a;
}

nlohmann::json attrsToJson(const OpAttrs& a) {
  nlohmann::json j = nlohmann::json::object();
#define X(name, ...) \
  if (a.has(Attr::name)) j[#name] = a.name;
  LPU_OP_ATTRS(X)
#undef X
  return j;
}

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Shape rules of every op, one case per op. `in`/`out` are the tensors.
class Checker {
 public:
  Checker(const GOp& op, std::vector<const GTensor*> in, std::vector<const GTensor*> out, std::string where)
      : op_(op), in_(std::move(in)), out_(std::move(out)), where_(std::move(where)) {}

  void run() {
    const auto& s = [&](size_t i) -> const std::vector<int64_t>& { return in_[i]->shape; };
    const OpAttrs& a = op_.attrs;
    for (size_t i = 0; i < std::size(kAttrs); ++i) {
      if (kAttrs[i].neededBy(op_.kind) && !a.has(Attr(i))) fail(fmt::format("attribute {} is missing", kAttrs[i].name));
      if (a.has(Attr(i)) && !kAttrs[i].takenBy(op_.kind)) fail(notTaken(op_.kind, kAttrs[i].name));
    }
    switch (op_.kind) {
      case OpKind::MatMul: {
        arity(2, 3, 1);
        rank(0, 2);
        rank(1, 2);
        const bool tw = a.transpose_w;
        const int64_t k = tw ? s(1)[1] : s(1)[0], n = tw ? s(1)[0] : s(1)[1];
        if (s(0)[1] != k) fail(fmt::format("x is {} but w{} has K = {}", shapeStr(s(0)), tw ? "^T" : "", k));
        if (in_.size() == 3 && s(2) != std::vector<int64_t>{n}) fail(fmt::format("bias must be [{}]", n));
        outShape(0, {s(0)[0], n});
        break;
      }
      case OpKind::AttnScores: {
        arity(2, 2, 1);
        const int64_t h = count("heads", a.heads), kv = count("kv_heads", a.kv_heads),
                      d = count("head_dim", a.head_dim);
        if (h % kv) fail("heads must be a multiple of kv_heads");
        colsEq(0, h * d);
        colsEq(1, kv * d);
        outShape(0, {h * s(0)[0], s(1)[0]});
        break;
      }
      case OpKind::AttnMix: {
        arity(2, 2, 1);
        const int64_t h = count("heads", a.heads), kv = count("kv_heads", a.kv_heads),
                      d = count("head_dim", a.head_dim);
        if (h % kv) fail("heads must be a multiple of kv_heads");
        rank(0, 2);
        if (s(0)[0] % h) fail(fmt::format("probabilities {} do not have heads x tokens rows", shapeStr(s(0))));
        colsEq(1, kv * d);
        if (s(0)[1] != s(1)[0]) fail("probabilities and the value cache disagree on the context length");
        outShape(0, {s(0)[0] / h, h * d});
        break;
      }
      case OpKind::MoeFFN: {
        const int64_t e = count("experts", a.experts), k = count("top_k", a.top_k, e);
        const int64_t per = a.bias ? 6 : 3;
        arity(size_t(3 + e * per), size_t(3 + e * per), 1);
        rank(0, 2);
        if (s(1) != std::vector<int64_t>{s(0)[0], k} || s(2) != s(1))
          fail("indices and weights must be [tokens, top_k]");
        outShape(0, s(0));
        break;
      }
      case OpKind::Add:
      case OpKind::Mul:
      case OpKind::Sub:
        arity(2, 2, 1);
        if (s(1) != s(0) && !(s(1).size() == 1 && s(0).size() == 2 && s(1)[0] == s(0)[1]))
          fail(fmt::format("cannot combine {} with {}", shapeStr(s(0)), shapeStr(s(1))));
        outShape(0, s(0));
        break;
      case OpKind::Scale:
      case OpKind::Exp:
      case OpKind::Tanh:
      case OpKind::Sigmoid:
      case OpKind::Silu:
      case OpKind::Gelu:
      case OpKind::Relu:
        arity(1, 1, 1);
        outShape(0, s(0));
        break;
      case OpKind::RmsNorm:
      case OpKind::LayerNorm: {
        const size_t n = op_.kind == OpKind::RmsNorm ? 2 : 3;
        arity(n, n, 1);
        rank(0, 2);
        for (size_t i = 1; i < n; ++i)
          if (s(i) != std::vector<int64_t>{s(0)[1]}) fail(fmt::format("input {} must be [{}]", i, s(0)[1]));
        outShape(0, s(0));
        break;
      }
      case OpKind::Softmax:
        arity(1, 2, 1);
        rank(0, 2);
        if (a.has(Attr::heads) || in_.size() == 2) {  // rows head-major; sinks: one logit per head
          const int64_t h = count("heads", a.heads);
          if (s(0)[0] % h) fail(fmt::format("input {} does not have heads x tokens rows", shapeStr(s(0))));
          if (in_.size() == 2 && s(1) != std::vector<int64_t>{h}) fail(fmt::format("sinks must be [{}]", h));
        }
        if (a.has(Attr::kv_heads)) count("kv_heads", a.kv_heads);
        outShape(0, s(0));
        break;
      case OpKind::Argmax:
        arity(1, 1, 1);
        rank(0, 2);
        outShape(0, {s(0)[0]});
        break;
      case OpKind::TopK: {
        arity(1, 1, 2);
        rank(0, 2);
        const int64_t k = a.k;
        if (k < 1 || k > s(0)[1]) fail(fmt::format("k = {} must be in 1..{}", k, s(0)[1]));
        outShape(0, {s(0)[0], k});
        outShape(1, {s(0)[0], k});
        break;
      }
      case OpKind::Embedding:
        arity(2, 2, 1);
        rank(0, 1);
        rank(1, 2);
        outShape(0, {s(0)[0], s(1)[1]});
        break;
      case OpKind::KvAppend:
        arity(2, 2, 1);
        colsEq(0, count("kv_heads", a.kv_heads) * count("head_dim", a.head_dim));
        rank(1, 2);
        if (in_[0]->kind != TensorKind::Cache) fail("input 0 must be a cache tensor");
        if (s(0)[1] != s(1)[1] || s(1)[0] > s(0)[0])
          fail(fmt::format("cannot append {} to {}", shapeStr(s(1)), shapeStr(s(0))));
        if (op_.outputs[0] != op_.inputs[0]) fail("the output must be the cache itself (updated in place)");
        break;
      case OpKind::Rope: {
        arity(2, 2, 1);
        const int64_t h = count("heads", a.heads), d = count("head_dim", a.head_dim);
        if (d % 2) fail(fmt::format("attribute head_dim: {} must be even (RoPE rotates pairs)", d));
        if (const std::string e = ropeScalingError(a.scaling); !e.empty()) fail("attribute scaling: " + e);
        colsEq(0, h * d);
        if (s(1) != std::vector<int64_t>{s(0)[0]}) fail("positions must be [tokens]");
        outShape(0, s(0));
        break;
      }
      case OpKind::Reshape: {
        arity(1, 1, 1);
        if (out_[0]->elements() != in_[0]->elements()) fail("reshape must keep the element count");
        break;
      }
      case OpKind::Transpose:
        arity(1, 1, 1);
        rank(0, 2);
        outShape(0, {s(0)[1], s(0)[0]});
        break;
      case OpKind::Slice: {
        arity(1, 1, 1);
        const int64_t axis = a.axis, start = a.start, end = a.end;
        std::vector<int64_t> shape = s(0);
        if (axis < 0 || axis >= int64_t(shape.size())) fail("axis out of range");
        if (start < 0 || end <= start || end > shape[size_t(axis)])
          fail(fmt::format("start {} and end {} must satisfy 0 <= start < end <= {}", start, end, shape[size_t(axis)]));
        shape[size_t(axis)] = end - start;
        outShape(0, shape);
        break;
      }
      case OpKind::Concat: {
        arity(1, 64, 1);
        const int64_t axis = a.axis;
        std::vector<int64_t> shape = s(0);
        if (axis < 0 || axis >= int64_t(shape.size())) fail("axis out of range");
        for (size_t i = 1; i < in_.size(); ++i) {
          for (size_t d = 0; d < shape.size(); ++d)
            if (s(i).size() != shape.size() || (d != size_t(axis) && s(i)[d] != shape[d]))
              fail(fmt::format("input {} is {} but input 0 is {}: they may differ in dimension {} (axis) only", i,
                               shapeStr(s(i)), shapeStr(s(0)), axis));
          shape[size_t(axis)] += s(i)[size_t(axis)];
        }
        outShape(0, shape);
        break;
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(opError(where_, op_.name, op_.kind, what)); }
  // A count attribute (heads, experts, ...): 1..hi; returns it.
  int64_t count(const char* attr, int64_t v, int64_t hi = kMaxAttrCount) const {
    if (v < 1 || v > hi) fail(fmt::format("attribute {}: {} is not in 1..{}", attr, v, hi));
    return v;
  }
  void arity(size_t lo, size_t hi, size_t outs) const {
    if (in_.size() < lo || in_.size() > hi)
      fail(lo == hi ? fmt::format("takes {} inputs, has {}", lo, in_.size())
                    : fmt::format("takes {} to {} inputs, has {}", lo, hi, in_.size()));
    if (out_.size() != outs) fail(fmt::format("has {} outputs, expected {}", out_.size(), outs));
  }
  void rank(size_t i, size_t r) const {
    if (in_[i]->shape.size() != r)
      fail(fmt::format("input {} ({}) must have rank {}", in_[i]->name, shapeStr(in_[i]->shape), r));
  }
  void colsEq(size_t i, int64_t cols) const {
    rank(i, 2);
    if (in_[i]->shape[1] != cols)
      fail(fmt::format("input {} must have {} columns, has {}", in_[i]->name, cols, in_[i]->shape[1]));
  }
  void outShape(size_t i, const std::vector<int64_t>& want) const {
    if (out_[i]->shape != want)
      fail(fmt::format("output {} is {} but must be {}", out_[i]->name, shapeStr(out_[i]->shape), shapeStr(want)));
  }
  const GOp& op_;
  std::vector<const GTensor*> in_, out_;
  std::string where_;
};

}  // namespace

std::string ropeScalingError(const nlohmann::json& s) {
  if (s.is_null()) return "";
  if (!s.is_object()) return "expected an object or null";
  for (const char* key : {"rope_type", "type"})
    if (s.contains(key) && !s.at(key).is_string()) return fmt::format("{}: expected a string", key);
  const std::string type = s.contains("rope_type") ? s.at("rope_type").get<std::string>()
                           : s.contains("type")    ? s.at("type").get<std::string>()
                                                   : "default";
  if (type != "default" && type != "linear" && type != "llama3" && type != "yarn")
    return fmt::format("rope_type \"{}\" is not supported (default, linear, llama3, yarn)", printable(type));
  if (type != "default" && !(s.contains("factor") && s.at("factor").is_number() && s.at("factor").get<double>() > 0))
    return "expected a positive \"factor\"";
  for (const char* key :
       {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "beta_fast", "beta_slow"})
    if (s.contains(key) && !(s.at(key).is_number() && s.at(key).get<double>() > 0))
      return fmt::format("{}: expected a positive number, got {}", key, jsonText(s.at(key)));
  if (s.contains("truncate") && !s.at("truncate").is_boolean()) return "truncate: expected true or false";
  if (type == "llama3" && s.value("low_freq_factor", 1.0) >= s.value("high_freq_factor", 4.0))
    return "low_freq_factor must be less than high_freq_factor";
  return "";
}

const char* opName(OpKind k) { return kOps[int(k)].name; }
const char* attrName(Attr a) { return kAttrs[int(a)].name; }
OpGroup opGroup(OpKind k) { return kOps[int(k)].group; }

bool parseOpKind(const std::string& s, OpKind& out) {
  for (size_t i = 0; i < std::size(kOps); ++i)
    if (s == kOps[i].name) {
      out = OpKind(i);
      return true;
    }
  return false;
}

int64_t GTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const GTensor* Graph::find(const std::string& n) const {
  for (const auto& t : tensors)
    if (t.name == n) return &t;
  return nullptr;
}

const GTensor& Graph::tensor(const std::string& n) const {
  const GTensor* t = find(n);
  if (!t) throw Error(fmt::format("graph {}: no tensor {}", name, n));
  return *t;
}

int Graph::layers() const {
  int n = 0;
  for (const auto& op : ops) n = std::max(n, op.layer + 1);
  return n;
}

int64_t tensorVectors(const std::vector<int64_t>& shape, bool tiled) {
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = std::max<int64_t>(shape[i], 1);
    if (i + 1 == shape.size()) d = (d - 1) / kVectorElements + 1;  // vectors along the last dimension
    if (i + 2 == shape.size() && tiled) d = ((d - 1) / kVectorElements + 1) * kVectorElements;  // rows of whole tiles
    if (__builtin_mul_overflow(n, d, &n)) return INT64_MAX;
  }
  return n;
}

void validate(const Graph& g, const std::string& where, int64_t maxTensorVectors) {
  std::map<std::string, const GTensor*> byName;
  int64_t vectors = 0;  // of all tensors, saturating
  for (const GTensor& t : g.tensors) {
    if (t.name.empty()) throw Error(fmt::format("{}: a tensor has no name", where));
    if (!byName.emplace(t.name, &t).second) throw Error(fmt::format("{}: tensor {} is declared twice", where, t.name));
    if (t.shape.empty()) throw Error(fmt::format("{}: tensor {}: shape must not be empty", where, t.name));
    for (int64_t d : t.shape)
      if (d <= 0)
        throw Error(
            fmt::format("{}: tensor {}: dimensions must be positive, got {}", where, t.name, shapeStr(t.shape)));
    const bool tiled = t.kind == TensorKind::Weight || t.kind == TensorKind::Cache;
    const int64_t v = tensorVectors(t.shape, tiled), most = tiled ? kMaxTiledVectors : maxTensorVectors;
    if (v > most)
      throw Error(
          fmt::format("{}: tensor {}: {} is too large: {} vectors of 256 elements, at most {} ({} elements) "
                      "for a{} tensor",
                      where, t.name, shapeStr(t.shape), v, most, most * kVectorElements,
                      tiled ? " weight or cache" : "n input, activation or output"));
    vectors += v;  // at most 2^22 per tensor: no overflow before the check below
    if (vectors > kMaxGraphVectors)
      throw Error(fmt::format("{}: the tensors up to {} need more than {} vectors of 256 elements (2^37 elements)",
                              where, t.name, kMaxGraphVectors));
  }
  std::set<std::string> ready, opNames;
  for (const GTensor& t : g.tensors)
    if (t.kind == TensorKind::Input || t.kind == TensorKind::Weight || t.kind == TensorKind::Cache)
      ready.insert(t.name);
  for (const GOp& op : g.ops) {
    if (!opNames.insert(op.name).second) throw Error(fmt::format("{}: op name {} is used twice", where, op.name));
    std::vector<const GTensor*> in, out;
    for (const auto& n : op.inputs) {
      const auto it = byName.find(n);
      if (it == byName.end()) throw Error(fmt::format("{}: op {}: input {} is not declared", where, op.name, n));
      if (!ready.count(n))
        throw Error(fmt::format("{}: op {}: input {} is used before any op produces it", where, op.name, n));
      in.push_back(it->second);
    }
    for (const auto& n : op.outputs) {
      const auto it = byName.find(n);
      if (it == byName.end()) throw Error(fmt::format("{}: op {}: output {} is not declared", where, op.name, n));
      const TensorKind k = it->second->kind;
      if (k == TensorKind::Input || k == TensorKind::Weight)
        throw Error(fmt::format("{}: op {}: output {} is a {} tensor", where, op.name, n, kindName(k)));
      out.push_back(it->second);
    }
    Checker(op, in, out, where).run();
    for (const auto& n : op.outputs) ready.insert(n);
  }
  for (const GTensor& t : g.tensors)
    if (t.kind == TensorKind::Output && !ready.count(t.name))
      throw Error(fmt::format("{}: output tensor {} is never produced", where, t.name));
}

nlohmann::ordered_json toJson(const Graph& g) {
  nlohmann::ordered_json j;
  j["format"] = "lpusim-graph";
  j["version"] = 1;
  j["name"] = g.name;
  j["model"] = g.model;
  j["mode"] = g.mode;
  j["tokens"] = g.tokens;
  if (g.batch != 1) j["batch"] = g.batch;
  j["context"] = g.context;
  j["tensors"] = nlohmann::ordered_json::array();
  for (const GTensor& t : g.tensors) {
    nlohmann::ordered_json e{{"name", t.name}, {"shape", t.shape}, {"kind", kindName(t.kind)}};
    if (t.integer) e["integer"] = true;
    j["tensors"].push_back(e);
  }
  j["ops"] = nlohmann::ordered_json::array();
  for (const GOp& op : g.ops) {
    nlohmann::ordered_json e{
        {"op", opName(op.kind)}, {"name", op.name}, {"inputs", op.inputs}, {"outputs", op.outputs}};
    if (op.attrs.given) e["attrs"] = nlohmann::ordered_json::parse(attrsToJson(op.attrs).dump());
    if (op.layer >= 0) e["layer"] = op.layer;
    j["ops"].push_back(e);
  }
  return j;
}

namespace {

Graph parseGraph(const nlohmann::json& j, const std::string& where) {
  auto need = [&](const nlohmann::json& o, const char* key, const std::string& ctx) -> const nlohmann::json& {
    if (!o.is_object() || !o.contains(key)) throw Error(fmt::format("{}: {}field {} is missing", where, ctx, key));
    return o.at(key);
  };
  auto str = [&](const nlohmann::json& v, const std::string& field) {
    if (!v.is_string()) throw Error(fmt::format("{}: field {}: expected a string", where, field));
    const std::string s = v.get<std::string>();
    if (printable(s) != s)  // names are echoed in messages and reports: keep them one line
      throw Error(fmt::format("{}: field {}: \"{}\": expected a string without control characters", where, field,
                              printable(s)));
    return s;
  };
  // Optional fields, each of one JSON type (a wrong type names the field).
  auto text = [&](const nlohmann::json& o, const char* key, const std::string& dflt, const std::string& ctx) {
    return o.contains(key) ? str(o.at(key), ctx + key) : dflt;
  };
  auto flag = [&](const nlohmann::json& o, const char* key, const std::string& ctx) {
    if (!o.contains(key)) return false;
    if (!o.at(key).is_boolean())
      throw Error(fmt::format("{}: {}field {}: expected true or false, got {}", where, ctx, key, jsonText(o.at(key))));
    return o.at(key).get<bool>();
  };
  auto integer = [&](const nlohmann::json& o, const char* key, int64_t dflt, int64_t lo, int64_t hi,
                     const std::string& ctx) {
    if (!o.contains(key)) return dflt;
    const nlohmann::json& v = o.at(key);
    const bool ok = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi)) &&
                    v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!ok)
      throw Error(
          fmt::format("{}: {}field {}: expected an integer in {}..{}, got {}", where, ctx, key, lo, hi, jsonText(v)));
    return v.get<int64_t>();
  };
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object (an lpusim graph)", where));
  if (!j.contains("format") || j.at("format") != "lpusim-graph")
    throw Error(fmt::format("{}: field format: expected \"lpusim-graph\"", where));
  if (!j.contains("version") || j.at("version") != 1) throw Error(fmt::format("{}: field version: expected 1", where));
  Graph g;
  g.name = text(j, "name", "", "");
  g.model = text(j, "model", "", "");
  g.mode = text(j, "mode", "custom", "");
  g.tokens = integer(j, "tokens", 1, 1, kMaxGraphTokens, "");
  g.batch = integer(j, "batch", 1, 1, kMaxGraphBatch, "");
  g.context = integer(j, "context", 0, 0, kMaxGraphContext, "");
  const auto& ts = need(j, "tensors", "");
  if (!ts.is_array()) throw Error(fmt::format("{}: field tensors: expected an array", where));
  for (size_t i = 0; i < ts.size(); ++i) {
    const std::string ctx = fmt::format("tensors[{}]: ", i);
    GTensor t;
    t.name = str(need(ts[i], "name", ctx), ctx + "name");
    const auto& shape = need(ts[i], "shape", ctx);
    if (!shape.is_array()) throw Error(fmt::format("{}: {}field shape: expected an array of integers", where, ctx));
    for (const auto& d : shape) {
      if (!d.is_number_integer()) throw Error(fmt::format("{}: {}field shape: expected integers", where, ctx));
      t.shape.push_back(d.get<int64_t>());
    }
    const std::string kind = str(need(ts[i], "kind", ctx), ctx + "kind");
    bool ok = false;
    for (int k = 0; k < 5; ++k)
      if (kind == kindName(TensorKind(k))) t.kind = TensorKind(k), ok = true;
    if (!ok)
      throw Error(fmt::format("{}: {}field kind: \"{}\" (expected input, weight, activation, cache or output)", where,
                              ctx, printable(kind)));
    t.integer = flag(ts[i], "integer", ctx);
    g.tensors.push_back(std::move(t));
  }
  const auto& ops = need(j, "ops", "");
  if (!ops.is_array()) throw Error(fmt::format("{}: field ops: expected an array", where));
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string ctx = fmt::format("ops[{}]: ", i);
    GOp op;
    const std::string kind = str(need(ops[i], "op", ctx), ctx + "op");
    if (!parseOpKind(kind, op.kind))
      throw Error(fmt::format("{}: {}field op: unknown op \"{}\"", where, ctx, printable(kind)));
    op.name = text(ops[i], "name", fmt::format("op{}", i), ctx);
    for (const char* key : {"inputs", "outputs"}) {
      const auto& list = need(ops[i], key, ctx);
      if (!list.is_array())
        throw Error(fmt::format("{}: {}field {}: expected an array of tensor names", where, ctx, key));
      for (const auto& n : list) (std::string(key) == "inputs" ? op.inputs : op.outputs).push_back(str(n, ctx + key));
    }
    if (ops[i].contains("attrs")) {
      if (!ops[i].at("attrs").is_object())
        throw Error(fmt::format("{}: {}field attrs: expected an object", where, ctx));
      op.attrs = parseAttrs(ops[i].at("attrs"), op.name, op.kind, where);
    }
    op.layer = int(integer(ops[i], "layer", -1, -1, kMaxGraphLayer, ctx));
    g.ops.push_back(std::move(op));
  }
  for (const GTensor& t : g.tensors) {
    if (t.kind == TensorKind::Weight || t.kind == TensorKind::Cache) continue;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < t.shape.size(); ++d)
      if (__builtin_mul_overflow(rows, t.shape[d], &rows)) rows = INT64_MAX;
    if (rows > kMaxFileRows)
      throw Error(fmt::format("{}: tensor {}: {} has {} rows, at most {} in a graph file", where, t.name,
                              shapeStr(t.shape), rows, kMaxFileRows));
  }
  validate(g, where, kMaxFileTensorVectors);
  return g;
}

}  // namespace

Graph graphFromJson(const nlohmann::json& j, const std::string& where) {
  try {
    return parseGraph(j, where);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong JSON type
    throw Error(fmt::format("{}: {}", where, e.what()));
  }
}

Graph loadGraph(const std::string& path) {
  const std::string where = printable(path), b = readJsonFile(path);
  checkJsonDepth(b.begin(), b.end(), where);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(b.begin(), b.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: invalid JSON at byte {}: expected an lpusim graph", where, e.byte));
  } catch (const nlohmann::json::exception&) {  // a number past 64 bits (out_of_range)
    throw Error(fmt::format("{}: invalid JSON: a number out of range: expected an lpusim graph", where));
  }
  return graphFromJson(j, where);
}

void saveGraph(const Graph& g, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw Error(fmt::format("{}: cannot open for writing", path));
  f << toJson(g).dump(1) << "\n";
}

}  // namespace lpu
