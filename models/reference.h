// The golden model: a plain forward pass in Eigen, one token at a time with
// a KV cache, for the GPT-2 and Llama families and their Mixture-of-Experts
// variants. Written from the model definitions (Hugging Face transformers),
// not from the graph or the compiler: it reads the checkpoint tensors by name.
//
// `Numerics` rounds where the chip rounds, so that the comparison measures
// the schedule and not the number format (CHIP.md, "Numerics"):
//   Fp32  no rounding at all;
//   Fp16  matrix weights, matrix inputs, the KV cache and the attention
//         operands rounded to fp16 (accumulation in fp32);
//   Int8  matrix weights int8 with one scale per output channel, matrix
//         inputs int8 with a static scale (x_q = round(x / s), s = 1/16),
//         embedding rows int8 with one scale per column; attention as Fp16.
// Attention's mix takes exp(s - max) and divides its result by the sum
// (the chip's order: the sum is reduced beside the mix); with sinks, the
// probabilities themselves.
#pragma once
#include <Eigen/Dense>
#include <map>
#include <string>
#include <vector>

#include "model_config.h"
#include "weights.h"

namespace lpu {

enum class Numerics { Fp32, Fp16, Int8 };

class Reference {
 public:
  Reference(const ModelConfig& m, const WeightSource& w, Numerics n, float activationScale = 1.0f / 16);
  // Runs the token at the next position; returns the logits [vocab].
  Eigen::VectorXf step(int token);
  int64_t position() const { return pos_; }
  // Records intermediate vectors of the next steps under the graph builder's
  // activation names ("l0.q", "l0.mix", "l0.resid_mlp", ...), for debugging.
  void trace(std::map<std::string, Eigen::VectorXf>* t) { trace_ = t; }

 private:
  struct Linear {  // y = w x + b, w [out, in]
    Eigen::MatrixXf w;
    Eigen::VectorXf b;
  };
  struct Expert {
    Linear gate, up, down;
  };
  struct Layer {
    Eigen::VectorXf norm1, norm1b, norm2, norm2b;  // weights (and LayerNorm biases)
    Linear q, k, v, o;
    Linear fc, proj;        // GPT-2 MLP
    Linear gate, up, down;  // SwiGLU MLP
    Linear router;          // MoE
    std::vector<Expert> experts;
    Eigen::VectorXf sinks;           // gpt-oss: one logit per head that takes part in the softmax
    Eigen::MatrixXf kcache, vcache;  // [positions, kv_heads * head_dim]
  };

  Linear linear(const std::string& w, const std::string& b, bool transposed, bool rounded = true) const;
  void roundExperts(std::vector<Expert>& ex) const;
  Eigen::VectorXf vec(const std::string& name) const;
  void round(Eigen::MatrixXf& w) const;  // a matrix's weights as the chip stores them
  Eigen::VectorXf apply(const Linear& l, const Eigen::VectorXf& x) const;
  Eigen::VectorXf norm(const Eigen::VectorXf& x, const Eigen::VectorXf& w, const Eigen::VectorXf* b) const;
  void rope(Eigen::VectorXf& x, int64_t heads, int64_t pos) const;
  Eigen::VectorXf attention(Layer& l, int li, const Eigen::VectorXf& h);
  Eigen::VectorXf mlp(const Layer& l, const Eigen::VectorXf& h) const;

  const ModelConfig& m_;
  const WeightSource& w_;
  Numerics n_;
  float actScale_;
  Eigen::MatrixXf embed_, positions_;  // [vocab, d], GPT-2 [positions, d]
  Linear head_;
  Eigen::VectorXf finalNorm_, finalNormB_;
  std::vector<Layer> layers_;
  std::vector<double> invFreq_;
  double ropeScale_ = 1;  // yarn's attention factor on cos and sin
  int64_t pos_ = 0;
  std::map<std::string, Eigen::VectorXf>* trace_ = nullptr;
  const Eigen::VectorXf& note(const std::string& name, const Eigen::VectorXf& v) const {
    if (trace_) (*trace_)[name] = v;
    return v;
  }
};

// RoPE inverse frequencies with Hugging Face's scaling rules (default,
// linear, llama3, yarn); `attentionFactor` gets yarn's cos/sin multiplier.
std::vector<double> ropeInverseFrequencies(const ModelConfig& m, double* attentionFactor);

}  // namespace lpu
