#include "model_config.h"

#include <fmt/format.h>

#include <fstream>

#include "isa/error.h"
#include "isa/json_input.h"
#include "models/graph.h"

namespace lpu {

const char* familyName(Family f) {
  switch (f) {
    case Family::Gpt2: return "gpt2";
    case Family::Llama: return "llama";
    case Family::Mixtral: return "mixtral";
    case Family::GptOss: return "gpt-oss";
  }
  return "?";
}

// The bundled configs, embedded at build time (bundled_configs.cpp, generated
// by CMake from models/configs/*.json).
struct BundledConfig {
  const char* name;
  const char* json;
};
extern const BundledConfig kBundledConfigs[];
extern const size_t kBundledConfigCount;

namespace {

// Reads config.json fields, naming the file and field in every error.
int exponentOf(int64_t pow2) {
  int n = 0;
  while ((int64_t(1) << n) < pow2) ++n;
  return n;
}

class Fields {
 public:
  Fields(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(fmt::format("{}: field {}: {}", where_, key, what));
  }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  // A positive integer up to `hi` (a power of two, named in the message).
  int64_t count(const std::string& key, int64_t hi) const {
    if (!has(key)) fail(key, "missing (expected a positive integer)");
    const auto& v = j_.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > hi)
      fail(key, fmt::format("expected a positive integer, at most {} (2^{}), got {}", hi, exponentOf(hi), jsonText(v)));
    return v.get<int64_t>();
  }
  int64_t count(const std::string& key, int64_t hi, int64_t dflt) const { return has(key) ? count(key, hi) : dflt; }
  // The first of several spellings that is present.
  int64_t count(std::initializer_list<const char*> keys, int64_t hi) const {
    for (const char* k : keys)
      if (has(k)) return count(k, hi);
    return count(*keys.begin(), hi);
  }
  double real(const std::string& key, double dflt) const {
    if (!has(key)) return dflt;
    const auto& v = j_.at(key);
    if (!v.is_number() || !(v.get<double>() > 0))
      fail(key, fmt::format("expected a positive number, got {}", jsonText(v)));
    return v.get<double>();
  }
  bool flag(const std::string& key, bool dflt) const {
    if (!has(key)) return dflt;
    if (!j_.at(key).is_boolean()) fail(key, fmt::format("expected true or false, got {}", jsonText(j_.at(key))));
    return j_.at(key).get<bool>();
  }
  std::string text(const std::string& key, const std::string& dflt) const {
    if (!has(key)) return dflt;
    if (!j_.at(key).is_string()) fail(key, fmt::format("expected a string, got {}", jsonText(j_.at(key))));
    return printable(j_.at(key).get<std::string>());  // echoed in messages and reports
  }
  const nlohmann::json& j() const { return j_; }

 private:
  const nlohmann::json& j_;
  std::string where_;
};

void checkRopeScaling(const Fields& f, const nlohmann::json& s) {
  if (const std::string e = ropeScalingError(s); !e.empty()) f.fail("rope_scaling", e);
}

}  // namespace

ModelConfig modelFromJson(const nlohmann::json& j, const std::string& name, const std::string& where) {
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object (a Hugging Face config.json)", where));
  const Fields f(j, where);
  ModelConfig m;
  m.name = name;
  m.model_type = f.text("model_type", "");
  if (m.model_type.empty()) f.fail("model_type", "missing (expected gpt2, llama, mistral, mixtral or gpt_oss)");
  if (m.model_type == "gpt2") {
    m.family = Family::Gpt2;
    m.vocab = f.count("vocab_size", kMaxVocab);
    m.hidden = f.count("n_embd", kMaxHidden);
    m.layers = f.count("n_layer", kMaxLayers);
    m.heads = f.count("n_head", kMaxHeads);
    m.kv_heads = m.heads;
    m.ffn = f.count("n_inner", kMaxFfn, 4 * m.hidden);
    m.max_positions = f.count("n_positions", kMaxPositions);
    m.norm_eps = f.real("layer_norm_epsilon", 1e-5);
    m.tied_embeddings = f.flag("tie_word_embeddings", true);
    m.attention_bias = m.mlp_bias = true;
    const std::string act = f.text("activation_function", "gelu_new");
    if (act != "gelu_new" && act != "gelu" && act != "gelu_pytorch_tanh")
      f.fail("activation_function", fmt::format("\"{}\" is not supported (gelu_new)", act));
  } else if (m.model_type == "llama" || m.model_type == "mistral" || m.model_type == "mixtral" ||
             m.model_type == "gpt_oss") {
    m.family = m.model_type == "mixtral" ? Family::Mixtral : m.model_type == "gpt_oss" ? Family::GptOss : Family::Llama;
    m.vocab = f.count("vocab_size", kMaxVocab);
    m.hidden = f.count("hidden_size", kMaxHidden);
    m.layers = f.count("num_hidden_layers", kMaxLayers);
    m.heads = f.count("num_attention_heads", kMaxHeads);
    m.kv_heads = f.count("num_key_value_heads", kMaxHeads, m.heads);
    m.ffn = f.count("intermediate_size", kMaxFfn);
    m.max_positions = f.count("max_position_embeddings", kMaxPositions, 2048);
    m.norm_eps = f.real("rms_norm_eps", 1e-6);
    m.rope_theta = f.real("rope_theta", 10000);
    m.rope_scaling = j.value("rope_scaling", nlohmann::json());
    checkRopeScaling(f, m.rope_scaling);
    m.tied_embeddings = f.flag("tie_word_embeddings", false);
    m.attention_bias = f.flag("attention_bias", m.family == Family::GptOss);
    m.mlp_bias = f.flag("mlp_bias", false);
    const std::string act = f.text("hidden_act", "silu");
    if (act != "silu") f.fail("hidden_act", fmt::format("\"{}\" is not supported (silu)", act));
    if (m.hidden % m.heads && !f.has("head_dim"))
      f.fail("num_attention_heads", fmt::format("{} does not divide hidden_size {}", m.heads, m.hidden));
    m.head_dim = f.count("head_dim", kMaxHeadDim, m.hidden / m.heads);
    if (m.head_dim > kMaxHeadDim)
      f.fail("num_attention_heads", fmt::format("hidden_size {} / {} heads = head_dim {} exceeds {}", m.hidden, m.heads,
                                                m.head_dim, kMaxHeadDim));
    if (m.family == Family::Mixtral || m.family == Family::GptOss) {
      m.experts = f.count("num_local_experts", kMaxExperts);
      m.top_k = f.count({"num_experts_per_tok", "experts_per_token"}, kMaxExperts);
      if (m.layers * m.experts > kMaxLayerExperts)
        f.fail("num_local_experts",
               fmt::format("{} experts x {} layers = {} expert MLPs, more than {} (2^{})", m.experts, m.layers,
                           m.layers * m.experts, kMaxLayerExperts, exponentOf(kMaxLayerExperts)));
      if (m.top_k > m.experts)
        f.fail("num_experts_per_tok", fmt::format("{} exceeds num_local_experts {}", m.top_k, m.experts));
    }
    if (m.family == Family::GptOss) {
      m.sliding_window = f.count("sliding_window", kMaxPositions, 0);
      m.swiglu_limit = f.real("swiglu_limit", 7.0);
      m.sliding.assign(size_t(m.layers), false);
      if (f.has("layer_types")) {
        const auto& lt = j.at("layer_types");
        if (!lt.is_array() || int64_t(lt.size()) != m.layers)
          f.fail("layer_types", fmt::format("expected an array of {} layer types", m.layers));
        for (size_t i = 0; i < lt.size(); ++i) {
          const std::string t = lt[i].is_string() ? lt[i].get<std::string>() : "";
          if (t != "sliding_attention" && t != "full_attention")
            f.fail("layer_types", fmt::format("entry {}: expected \"sliding_attention\" or \"full_attention\"", i));
          m.sliding[i] = t == "sliding_attention";
        }
      }
    }
  } else {
    f.fail("model_type", fmt::format("\"{}\" is not supported (gpt2, llama, mistral, mixtral, gpt_oss)", m.model_type));
  }
  if (m.family != Family::Gpt2 && m.heads % m.kv_heads)
    f.fail("num_key_value_heads", fmt::format("{} does not divide num_attention_heads {}", m.kv_heads, m.heads));
  if (m.family == Family::Gpt2) {
    if (m.hidden % m.heads) f.fail("n_head", fmt::format("{} does not divide n_embd {}", m.heads, m.hidden));
    m.head_dim = m.hidden / m.heads;
  }
  (void)countParams(m);  // throws if the counts overflow 64 bits
  return m;
}

std::vector<std::string> bundledModels() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kBundledConfigCount; ++i) names.push_back(kBundledConfigs[i].name);
  return names;
}

ModelConfig loadModel(const std::string& nameOrPath) {
  for (size_t i = 0; i < kBundledConfigCount; ++i)
    if (nameOrPath == kBundledConfigs[i].name)
      return modelFromJson(nlohmann::json::parse(kBundledConfigs[i].json), nameOrPath, nameOrPath);
  const std::string where = printable(nameOrPath);
  std::ifstream in(nameOrPath);
  if (!in) {
    std::string names;
    for (const auto& n : bundledModels()) names += (names.empty() ? "" : ", ") + n;
    throw Error(fmt::format("{}: not a bundled model ({}) nor a readable config.json", where, names));
  }
  const std::string text = readJsonText(in, where);
  checkJsonDepth(text.begin(), text.end(), where);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON (byte {})", where, e.byte));
  } catch (const nlohmann::json::exception&) {  // a number past 64 bits (out_of_range)
    throw Error(fmt::format("{}: not valid JSON (a number out of range)", where));
  }
  return modelFromJson(j, where, where);
}

int64_t WeightSpec::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<WeightSpec> weightSpecs(const ModelConfig& m) {
  std::vector<WeightSpec> w;
  const int64_t D = m.hidden, F = m.ffn, V = m.vocab, Q = m.heads * m.head_dim, KV = m.kv_heads * m.head_dim;
  auto add = [&](std::string name, std::vector<int64_t> shape, WeightRole role, int layer = -1) {
    w.push_back(WeightSpec{std::move(name), std::move(shape), role, layer});
  };
  if (m.family == Family::Gpt2) {  // Conv1D weights are stored [in, out]
    add("wte.weight", {V, D}, WeightRole::Embedding);
    add("wpe.weight", {m.max_positions, D}, WeightRole::Position);
    for (int i = 0; i < int(m.layers); ++i) {
      const std::string p = fmt::format("h.{}.", i);
      add(p + "ln_1.weight", {D}, WeightRole::Norm, i);
      add(p + "ln_1.bias", {D}, WeightRole::Norm, i);
      add(p + "attn.c_attn.weight", {D, 3 * D}, WeightRole::Matrix, i);
      add(p + "attn.c_attn.bias", {3 * D}, WeightRole::Bias, i);
      add(p + "attn.c_proj.weight", {D, D}, WeightRole::Matrix, i);
      add(p + "attn.c_proj.bias", {D}, WeightRole::Bias, i);
      add(p + "ln_2.weight", {D}, WeightRole::Norm, i);
      add(p + "ln_2.bias", {D}, WeightRole::Norm, i);
      add(p + "mlp.c_fc.weight", {D, F}, WeightRole::Matrix, i);
      add(p + "mlp.c_fc.bias", {F}, WeightRole::Bias, i);
      add(p + "mlp.c_proj.weight", {F, D}, WeightRole::Matrix, i);
      add(p + "mlp.c_proj.bias", {D}, WeightRole::Bias, i);
    }
    add("ln_f.weight", {D}, WeightRole::Norm);
    add("ln_f.bias", {D}, WeightRole::Norm);
    if (!m.tied_embeddings) add("lm_head.weight", {V, D}, WeightRole::Matrix);
    return w;
  }
  // Llama-style: nn.Linear weights are stored [out, in].
  add("model.embed_tokens.weight", {V, D}, WeightRole::Embedding);
  for (int i = 0; i < int(m.layers); ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    add(p + "input_layernorm.weight", {D}, WeightRole::Norm, i);
    for (const char* proj : {"q", "k", "v"}) {
      const int64_t out = proj[0] == 'q' ? Q : KV;
      add(p + fmt::format("self_attn.{}_proj.weight", proj), {out, D}, WeightRole::Matrix, i);
      if (m.attention_bias) add(p + fmt::format("self_attn.{}_proj.bias", proj), {out}, WeightRole::Bias, i);
    }
    add(p + "self_attn.o_proj.weight", {D, Q}, WeightRole::Matrix, i);
    if (m.family == Family::GptOss) {
      add(p + "self_attn.o_proj.bias", {D}, WeightRole::Bias, i);
      add(p + "self_attn.sinks", {m.heads}, WeightRole::Sink, i);
    }
    add(p + "post_attention_layernorm.weight", {D}, WeightRole::Norm, i);
    if (m.family == Family::Llama) {
      for (const char* proj : {"gate", "up"}) {
        add(p + fmt::format("mlp.{}_proj.weight", proj), {F, D}, WeightRole::Matrix, i);
        if (m.mlp_bias) add(p + fmt::format("mlp.{}_proj.bias", proj), {F}, WeightRole::Bias, i);
      }
      add(p + "mlp.down_proj.weight", {D, F}, WeightRole::Matrix, i);
      if (m.mlp_bias) add(p + "mlp.down_proj.bias", {D}, WeightRole::Bias, i);
    } else if (m.family == Family::Mixtral) {
      add(p + "block_sparse_moe.gate.weight", {m.experts, D}, WeightRole::Router, i);
      for (int e = 0; e < int(m.experts); ++e) {
        const std::string q = p + fmt::format("block_sparse_moe.experts.{}.", e);
        add(q + "w1.weight", {F, D}, WeightRole::Expert, i);  // gate
        add(q + "w2.weight", {D, F}, WeightRole::Expert, i);  // down
        add(q + "w3.weight", {F, D}, WeightRole::Expert, i);  // up
      }
    } else {  // gpt-oss: experts packed in 3-D tensors, gate and up interleaved
      add(p + "mlp.router.weight", {m.experts, D}, WeightRole::Router, i);
      add(p + "mlp.router.bias", {m.experts}, WeightRole::Router, i);
      add(p + "mlp.experts.gate_up_proj", {m.experts, D, 2 * F}, WeightRole::Expert, i);
      add(p + "mlp.experts.gate_up_proj_bias", {m.experts, 2 * F}, WeightRole::Expert, i);
      add(p + "mlp.experts.down_proj", {m.experts, F, D}, WeightRole::Expert, i);
      add(p + "mlp.experts.down_proj_bias", {m.experts, D}, WeightRole::Expert, i);
    }
  }
  add("model.norm.weight", {D}, WeightRole::Norm);
  if (!m.tied_embeddings) add("lm_head.weight", {V, D}, WeightRole::Matrix);
  return w;
}

namespace {

// a * b and a + b, or an lpu::Error naming the model if they overflow 64 bits.
uint64_t mulChecked(uint64_t a, uint64_t b, const ModelConfig& m) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(fmt::format("{}: the parameter count overflows 64 bits", m.name));
  return r;
}
uint64_t addChecked(uint64_t a, uint64_t b, const ModelConfig& m) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw Error(fmt::format("{}: the parameter count overflows 64 bits", m.name));
  return r;
}

}  // namespace

ParamCount countParams(const ModelConfig& m) {
  ParamCount c;
  uint64_t expert = 0;
  for (const WeightSpec& s : weightSpecs(m)) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n = mulChecked(n, uint64_t(d), m);
    c.total = addChecked(c.total, n, m);
    if (s.role == WeightRole::Embedding || s.role == WeightRole::Position) c.embedding += n;
    if (s.role == WeightRole::Expert) expert += n;
  }
  c.active = c.total - expert + (m.moe() ? mulChecked(expert / uint64_t(m.experts), uint64_t(m.top_k), m) : 0);
  return c;
}

uint64_t weightBytes(const ModelConfig& m, bool int8) { return mulChecked(countParams(m).total, int8 ? 1 : 2, m); }

}  // namespace lpu
