// The workload: a graph of typed tensors and ops, independent of any chip.
// A graph is one step of a model (a decode step over a KV cache, or a
// prefill of a prompt) or any user-written computation. JSON format:
// models/README.md ("Graph JSON").
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace lpu {

// The ops, in named groups. Each group shares a lowering shape in the
// compiler; each op is one row of the lowering table (compiler/lowering.cpp).
// clang-format off
#define LPU_GRAPH_OPS(X)                                                        \
  /* matrix: weights stream through the MXM */                                  \
  X(MatMul, Matrix) X(AttnScores, Matrix) X(AttnMix, Matrix)                    \
  /* element-wise on the VXM */                                                 \
  X(Add, Binary) X(Mul, Binary) X(Sub, Binary)                                  \
  X(Exp, Unary) X(Tanh, Unary) X(Sigmoid, Unary) X(Silu, Unary) X(Gelu, Unary)  \
  X(Relu, Unary) X(Scale, Unary)                                                \
  /* reductions across lanes (VXM + SXM) */                                     \
  X(RmsNorm, Reduce) X(LayerNorm, Reduce) X(Softmax, Reduce) X(Argmax, Reduce)  \
  X(TopK, Reduce)                                                               \
  /* data movement */                                                           \
  X(MoeFFN, Matrix) X(Embedding, Memory) X(KvAppend, Memory) X(Rope, Memory)      \
  X(Reshape, Shape) X(Transpose, Shape) X(Concat, Shape) X(Slice, Shape)
// clang-format on

enum class OpGroup : uint8_t { Matrix, Binary, Unary, Reduce, Memory, Shape };

enum class OpKind : uint8_t {
#define X(name, group) name,
  LPU_GRAPH_OPS(X)
#undef X
};

const char* opName(OpKind k);
OpGroup opGroup(OpKind k);
bool parseOpKind(const std::string& s, OpKind& out);

enum class TensorKind : uint8_t {
  Input,       // supplied each step (token ids, positions)
  Weight,      // constant: a model parameter, named as in the checkpoint
  Activation,  // produced and consumed within the step
  Cache,       // persists across steps (KV cache); updated in place
  Output,      // produced and returned (logits, token id)
};

struct GTensor {
  std::string name;
  std::vector<int64_t> shape;
  TensorKind kind = TensorKind::Activation;
  bool integer = false;  // token ids, positions, indices; otherwise real-valued
  int64_t elements() const;
};

// Op attributes, one row each: name, C++ type, default, the ops that need it,
// the ops that may give it (otherwise taking the default), and its meaning.
// O(Op) is an op's bit in a set; an op that takes neither keeps the default
// (AttnMix: scale 1). Loading a graph checks each attribute's type and that
// its op takes it; validate() that every needed one is given.
// clang-format off
#define LPU_OP_ATTRS(X)                                                                                        \
  /* name      type            default    needed by                            may be given by */                \
  X(transpose_w, bool,         false,     O(MoeFFN),                           O(MatMul),                        \
    "w is stored [N, K] (Llama, Mixtral) and used transposed")                                                   \
  X(eps,       double,         1e-5,      O(RmsNorm) | O(LayerNorm),           0,                                \
    "added to the variance (or mean square) before its inverse square root")                                     \
  X(heads,     int64_t,        0,         O(AttnScores) | O(AttnMix) | O(Rope), O(Softmax),                      \
    "query heads (Rope: its input's); Softmax: rows head-major (h * tokens + t), needed with sinks")              \
  X(kv_heads,  int64_t,        0,         O(AttnScores) | O(AttnMix) | O(KvAppend), O(Softmax),                  \
    "key/value heads (grouped-query attention when fewer than heads)")                                           \
  X(head_dim,  int64_t,        0,         O(AttnScores) | O(AttnMix) | O(Rope) | O(KvAppend), 0,                 \
    "columns per head")                                                                                          \
  X(scale,     double,         1.0,       O(AttnScores),                       0,                                \
    "scores = scale * q k^T, usually 1 / sqrt(head_dim)")                                                        \
  X(causal,    bool,           false,     0,                                   O(AttnScores),                    \
    "prefill: token t attends to positions up to its own only")                                                  \
  X(keys,      bool,           false,     0,                                   O(KvAppend),                      \
    "the key cache (fp16 rows laid out for AttnScores); otherwise values")                                       \
  X(theta,     double,         10000.0,   O(Rope),                             0,                                \
    "RoPE base: frequency i is theta^(-2i / head_dim)")                                                          \
  X(scaling,   nlohmann::json, nullptr,   0,                                   O(Rope),                          \
    "RoPE scaling as in config.json: null or {rope_type: linear|llama3|yarn, factor, ...}")                      \
  X(value,     double,         1.0,       O(Scale),                            0,                                \
    "the factor each element is multiplied by")                                                                  \
  X(k,         int64_t,        0,         O(TopK),                             0,                                \
    "values kept per row")                                                                                       \
  X(normalize, std::string,    "softmax", 0,                                   O(TopK),                          \
    "the weights: a softmax over the k kept (the only rule)")                                                    \
  X(experts,   int64_t,        0,         O(MoeFFN),                           0,                                \
    "experts per layer")                                                                                         \
  X(top_k,     int64_t,        0,         O(MoeFFN),                           0,                                \
    "experts per token")                                                                                         \
  X(bias,      bool,           false,     0,                                   O(MoeFFN),                        \
    "experts have biases (gpt-oss): 6 inputs per expert instead of 3")                                           \
  X(activation, std::string,   "swiglu",  0,                                   O(MoeFFN),                        \
    "silu(gate) * up, or gpt_oss_swiglu: clamped at limit, (up + 1) gate sigmoid(1.702 gate)")                   \
  X(limit,     double,         7.0,       0,                                   O(MoeFFN),                        \
    "gpt_oss_swiglu: gate clamped above, up to [-limit, limit]")                                                 \
  X(axis,      int64_t,        0,         O(Concat) | O(Slice),                0,                                \
    "the dimension concatenated or sliced")                                                                      \
  X(start,     int64_t,        0,         O(Slice),                            0,                                \
    "first index kept along axis")                                                                               \
  X(end,       int64_t,        0,         O(Slice),                            0,                                \
    "one past the last index kept along axis")
// clang-format on

enum class Attr : uint8_t {
#define X(name, ...) name,
  LPU_OP_ATTRS(X)
#undef X
};
#define X(...) +1
constexpr int kAttrCount = 0 LPU_OP_ATTRS(X);
#undef X
const char* attrName(Attr a);

// An op's attributes, typed, each with its one default. `given` records which
// ones the graph sets, so that graph-to-JSON writes back exactly those.
struct OpAttrs {
#define X(name, type, dflt, ...) type name = dflt;
  LPU_OP_ATTRS(X)
#undef X
  uint32_t given = 0;  // bit Attr::x set: x was given
  static_assert(kAttrCount <= 32, "given holds one bit per attribute");

  bool has(Attr a) const { return (given >> int(a)) & 1u; }
  // For graph builders: OpAttrs().set_heads(4).set_head_dim(128) sets and marks given.
#define X(name, type, ...)          \
  OpAttrs& set_##name(type v) {     \
    name = std::move(v);            \
    given |= 1u << int(Attr::name); \
    return *this;                   \
  }
  LPU_OP_ATTRS(X)
#undef X
};

struct GOp {
  OpKind kind;
  std::string name;  // unique, e.g. "layers.3.attn.q_proj"
  std::vector<std::string> inputs, outputs;
  OpAttrs attrs;
  int layer = -1;  // transformer layer, for per-layer reports; -1 outside layers
};

struct Graph {
  std::string name;     // e.g. "gpt2 decode, context 1024"
  std::string model;    // model family name, informational
  std::string mode;     // "decode", "prefill" or "custom"
  int64_t tokens = 1;   // tokens processed this step (batch x sequence)
  int64_t batch = 1;    // sequences decoded together (each with its own KV caches)
  int64_t context = 0;  // KV positions attended to (decode: cache length)
  std::vector<GTensor> tensors;
  std::vector<GOp> ops;  // in a valid execution order

  const GTensor& tensor(const std::string& name) const;  // throws lpu::Error
  const GTensor* find(const std::string& name) const;
  int layers() const;
};

// Bounds on a graph's scalar fields; a graph outside them is an error.
constexpr int64_t kMaxGraphTokens = int64_t(1) << 20;   // tokens processed in one step
constexpr int64_t kMaxGraphBatch = 4096;                // sequences (as buildGraph takes)
constexpr int64_t kMaxGraphContext = int64_t(1) << 24;  // KV positions
constexpr int64_t kMaxGraphLayer = int64_t(1) << 20;    // an op's layer number

// Bounds on the size of a graph's tensors, counted in vectors of 256 elements
// along the last dimension (the compiler's unit of memory and work at 256 or
// more lanes): a tensor [..., r, c] is r x ceil(c / 256) vectors, a weight or
// cache with r rounded up to 256 (stored as tiles). Checked before anything
// is allocated: a 1e9-wide MatMul made the compiler allocate GBs of tiles.
// A graph file (run on one chip) takes the tighter kMaxFileTensorVectors.
// Measured (run --graph, one op at the bound): a Relu over 2^19 vectors and a
// MatMul with a [2^22, 256] weight each stay under 1 GiB of memory.
constexpr int64_t kVectorElements = 256;
constexpr int64_t kMaxTiledVectors = int64_t(1) << 22;       // a weight or cache: 2^30 elements
constexpr int64_t kMaxTensorVectors = int64_t(1) << 21;      // an input, activation or output: 2^29 elements
constexpr int64_t kMaxFileTensorVectors = int64_t(1) << 19;  // the same in a graph file: 2^27 elements
constexpr int64_t kMaxGraphVectors = int64_t(1) << 29;       // all tensors: 2^37 elements (gpt-oss-120b: 2^36.8)
// Rows (all dimensions but the last) of an input, activation or output in a
// graph file: the compiler's tasks grow with them (a [65536, 256] MatMul input
// took 1.7 GB to compile; 2^15 rows about half).
constexpr int64_t kMaxFileRows = int64_t(1) << 15;
// The vectors of a tensor of this shape (saturating at INT64_MAX).
int64_t tensorVectors(const std::vector<int64_t>& shape, bool tiled);

// What is wrong with a RoPE scaling object (an op's `scaling`, config.json's
// rope_scaling), or "" if nothing: null, or rope_type (or type) default,
// linear, llama3 or yarn, a positive factor, and the numbers (and yarn's
// truncate flag) the rule reads, each of its JSON type.
std::string ropeScalingError(const nlohmann::json& s);

// Checks names, shapes, op arities and attributes (each one the op needs is
// given, none it does not take), and that every op's inputs are produced
// earlier (or are inputs, weights or caches). Throws lpu::Error
// "<where>: op <name>: ..." naming the first problem.
void validate(const Graph& g, const std::string& where, int64_t maxTensorVectors = kMaxTensorVectors);

nlohmann::ordered_json toJson(const Graph& g);
Graph graphFromJson(const nlohmann::json& j, const std::string& where);
Graph loadGraph(const std::string& path);
void saveGraph(const Graph& g, const std::string& path);

}  // namespace lpu
