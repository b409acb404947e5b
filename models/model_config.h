// A transformer model's architecture, read from a Hugging Face style
// config.json (the file users already have), and the list of its weight
// tensors with their checkpoint names and shapes. The weight list is the one
// source of truth for parameter counts, safetensors validation, seeded
// weights and the graph builder.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lpu {

// Families share a block structure: GPT-2 (learned positions, LayerNorm,
// GELU MLP, fused QKV), Llama (RoPE, RMSNorm, SwiGLU; also Mistral), and
// Llama-style blocks whose MLP is a Mixture of Experts (Mixtral, gpt-oss).
enum class Family { Gpt2, Llama, Mixtral, GptOss };
const char* familyName(Family f);

struct ModelConfig {
  std::string name;        // bundled name, or the config file's path
  std::string model_type;  // as in config.json
  Family family = Family::Llama;
  int64_t vocab = 0;   // tokens
  int64_t hidden = 0;  // d_model
  int64_t layers = 0;
  int64_t heads = 0;     // query heads
  int64_t kv_heads = 0;  // key/value heads (grouped-query attention when < heads)
  int64_t head_dim = 0;
  int64_t ffn = 0;            // MLP (or each expert's) inner width
  int64_t max_positions = 0;  // longest context the model supports
  double norm_eps = 1e-5;
  double rope_theta = 10000;
  nlohmann::json rope_scaling;   // null, or {rope_type: linear|llama3|yarn, factor, ...}
  bool tied_embeddings = false;  // lm_head shares the token embedding
  bool attention_bias = false;   // q/k/v (and gpt-oss o) projections have biases
  bool mlp_bias = false;
  int64_t experts = 0, top_k = 0;  // MoE: experts per layer and experts per token (0: dense MLP)
  int64_t sliding_window = 0;      // gpt-oss: window of its sliding-attention layers (0: none)
  std::vector<bool> sliding;       // per layer: uses the sliding window
  double swiglu_limit = 0;         // gpt-oss: clamp of the gated activation

  bool moe() const { return experts > 0; }
};

// Bounds on config.json's integer fields; a larger value is an error naming
// the field and the bound. Published models stay well under them (vocab
// 256k, d_model 16k, FFN 53k, 126 layers, 128 heads, 384 experts).
constexpr int64_t kMaxVocab = int64_t(1) << 20;         // token ids stay exact in the chip's fp32 arithmetic
constexpr int64_t kMaxHidden = int64_t(1) << 16;        // hidden_size, n_embd
constexpr int64_t kMaxFfn = int64_t(1) << 20;           // intermediate_size, n_inner
constexpr int64_t kMaxLayers = int64_t(1) << 10;        // num_hidden_layers, n_layer
constexpr int64_t kMaxHeads = int64_t(1) << 10;         // num_attention_heads, num_key_value_heads, n_head
constexpr int64_t kMaxHeadDim = int64_t(1) << 12;       // head_dim
constexpr int64_t kMaxPositions = int64_t(1) << 24;     // max_position_embeddings, n_positions, sliding_window
constexpr int64_t kMaxExperts = int64_t(1) << 10;       // num_local_experts, num_experts_per_tok
constexpr int64_t kMaxLayerExperts = int64_t(1) << 16;  // layers x experts: the expert MLPs listed

// Parses a config.json object; `where` names the file in errors
// ("<where>: field hidden_size: expected a positive integer").
ModelConfig modelFromJson(const nlohmann::json& j, const std::string& name, const std::string& where);
// A bundled name (see bundledModels()) or a path to a config.json.
ModelConfig loadModel(const std::string& nameOrPath);
std::vector<std::string> bundledModels();

enum class WeightRole { Embedding, Position, Norm, Matrix, Bias, Router, Expert, Sink };

// One checkpoint tensor: its Hugging Face name and shape as stored there.
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
  WeightRole role;
  int layer = -1;
  int64_t elements() const;
};
std::vector<WeightSpec> weightSpecs(const ModelConfig& m);

struct ParamCount {
  uint64_t total = 0;      // every parameter in the checkpoint
  uint64_t embedding = 0;  // token (and position) embeddings
  uint64_t active = 0;     // used per token (MoE: top_k of the experts)
};
ParamCount countParams(const ModelConfig& m);

// Bytes of all parameters at 1 (int8) or 2 (fp16) bytes each: the usual
// headline figure. The compiler's SRAM report adds what its layout needs on
// top (per-channel scales, fp32 norms and biases).
uint64_t weightBytes(const ModelConfig& m, bool int8);

}  // namespace lpu
