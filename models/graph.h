// The workload: a graph of typed tensors and ops, independent of any chip.
// A graph is one step of a model (a decode step over a KV cache, or a
// prefill of a prompt) or any user-written computation. JSON format:
// models/README.md ("Graph JSON").
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
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

struct GOp {
  OpKind kind;
  std::string name;  // unique, e.g. "layers.3.attn.q_proj"
  std::vector<std::string> inputs, outputs;
  nlohmann::json attrs = nlohmann::json::object();
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

// Checks names, shapes, op arities and attributes, and that every op's inputs
// are produced earlier (or are inputs, weights or caches). Throws lpu::Error
// "<where>: op <name>: ..." naming the first problem.
void validate(const Graph& g, const std::string& where);

nlohmann::ordered_json toJson(const Graph& g);
Graph graphFromJson(const nlohmann::json& j, const std::string& where);
Graph loadGraph(const std::string& path);
void saveGraph(const Graph& g, const std::string& path);

}  // namespace lpu
