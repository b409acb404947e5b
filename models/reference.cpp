#include "reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "isa/error.h"
#include "isa/numeric.h"

namespace lpu {

using Eigen::MatrixXf;
using Eigen::VectorXf;

namespace {

constexpr double kPi = 3.14159265358979323846;

float toF16(float x) { return f16ToF32(f32ToF16(x)); }

MatrixXf matrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
  MatrixXf m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m(r, c) = v[size_t(r * cols + c)];
  return m;
}

// Int8 with one scale per row (a Linear's output channel): w -> round(w / s) s.
void quantizeRows(MatrixXf& w) {
  for (int64_t r = 0; r < w.rows(); ++r) {
    const double mx = w.row(r).cwiseAbs().maxCoeff();
    const double s = mx > 0 ? mx / 127.0 : 1.0;
    for (int64_t c = 0; c < w.cols(); ++c) w(r, c) = float(std::nearbyint(w(r, c) / s) * s);
  }
}

VectorXf softmax(const VectorXf& x) {
  const VectorXf e = (x.array() - x.maxCoeff()).exp();
  return e / e.sum();
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }
float gelu(float x) {  // GPT-2's gelu_new (tanh approximation)
  return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

}  // namespace

std::vector<double> ropeInverseFrequencies(const ModelConfig& m, double* attentionFactor) {
  const int64_t d = m.head_dim;
  std::vector<double> inv(size_t(d / 2));
  for (int64_t i = 0; i < d / 2; ++i) inv[size_t(i)] = std::pow(m.rope_theta, -2.0 * double(i) / double(d));
  if (attentionFactor) *attentionFactor = 1;
  const auto& s = m.rope_scaling;
  if (!s.is_object()) return inv;
  const std::string type = s.value("rope_type", s.value("type", std::string("default")));
  const double factor = s.value("factor", 1.0);
  if (type == "linear") {
    for (double& f : inv) f /= factor;
  } else if (type == "llama3") {
    const double lo = s.value("low_freq_factor", 1.0), hi = s.value("high_freq_factor", 4.0);
    const double old = s.value("original_max_position_embeddings", 8192.0);
    for (double& f : inv) {
      const double wavelen = 2 * kPi / f;
      if (wavelen > old / lo) {
        f /= factor;
      } else if (wavelen >= old / hi) {
        const double smooth = (old / wavelen - lo) / (hi - lo);
        f = (1 - smooth) * f / factor + smooth * f;
      }
    }
  } else if (type == "yarn") {  // transformers' _compute_yarn_parameters
    const double base = m.rope_theta, old = s.value("original_max_position_embeddings", 4096.0);
    const double fast = s.value("beta_fast", 32.0), slow = s.value("beta_slow", 1.0);
    auto corr = [&](double rot) { return double(d) * std::log(old / (rot * 2 * kPi)) / (2 * std::log(base)); };
    double low = corr(fast), high = corr(slow);
    if (s.value("truncate", true)) low = std::floor(low), high = std::ceil(high);
    low = std::max(low, 0.0), high = std::min(high, double(d - 1));
    if (low == high) high += 0.001;
    for (int64_t i = 0; i < d / 2; ++i) {
      const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
      const double extrapolation = 1 - ramp;  // share of the unscaled frequency
      const double f = inv[size_t(i)];
      inv[size_t(i)] = f / factor * (1 - extrapolation) + f * extrapolation;
    }
    if (attentionFactor) *attentionFactor = factor <= 1 ? 1.0 : 0.1 * std::log(factor) + 1.0;
  }
  return inv;
}

Reference::Reference(const ModelConfig& m, const WeightSource& w, Numerics n, float activationScale)
    : m_(m), w_(w), n_(n), actScale_(activationScale) {
  const bool gpt2 = m.family == Family::Gpt2;
  const std::string emb = gpt2 ? "wte.weight" : "model.embed_tokens.weight";
  embed_ = matrix(w.tensor(emb), m.vocab, m.hidden);  // [vocab, d]
  head_.w = m.tied_embeddings ? embed_ : matrix(w.tensor("lm_head.weight"), m.vocab, m.hidden);
  head_.b = VectorXf::Zero(m.vocab);
  round(head_.w);
  if (n_ == Numerics::Fp16) {
    embed_ = embed_.unaryExpr(&toF16);
  } else if (n_ == Numerics::Int8) {
    // The embedding table: one scale per column (over the vocabulary).
    for (int64_t c = 0; c < embed_.cols(); ++c) {
      const double mx = embed_.col(c).cwiseAbs().maxCoeff(), s = mx > 0 ? mx / 127.0 : 1.0;
      for (int64_t r = 0; r < embed_.rows(); ++r) embed_(r, c) = float(std::nearbyint(embed_(r, c) / s) * s);
    }
  }
  if (gpt2) positions_ = matrix(w.tensor("wpe.weight"), m.max_positions, m.hidden);
  finalNorm_ = vec(gpt2 ? "ln_f.weight" : "model.norm.weight");
  if (gpt2) finalNormB_ = vec("ln_f.bias");
  invFreq_ = ropeInverseFrequencies(m, &ropeScale_);

  layers_.resize(size_t(m.layers));
  for (int i = 0; i < int(m.layers); ++i) {
    Layer& l = layers_[size_t(i)];
    if (gpt2) {
      const std::string p = fmt::format("h.{}.", i);
      l.norm1 = vec(p + "ln_1.weight"), l.norm1b = vec(p + "ln_1.bias");
      l.norm2 = vec(p + "ln_2.weight"), l.norm2b = vec(p + "ln_2.bias");
      // c_attn [d, 3d] (Conv1D, [in, out]) holds q, k and v side by side.
      const MatrixXf qkv = matrix(w.tensor(p + "attn.c_attn.weight"), m.hidden, 3 * m.hidden).transpose();
      const VectorXf qkvb = vec(p + "attn.c_attn.bias");
      Linear* parts[] = {&l.q, &l.k, &l.v};
      for (int j = 0; j < 3; ++j) {
        parts[j]->w = qkv.middleRows(j * m.hidden, m.hidden);
        parts[j]->b = qkvb.segment(j * m.hidden, m.hidden);
        round(parts[j]->w);
      }
      l.o = linear(p + "attn.c_proj.weight", p + "attn.c_proj.bias", true);
      l.fc = linear(p + "mlp.c_fc.weight", p + "mlp.c_fc.bias", true);
      l.proj = linear(p + "mlp.c_proj.weight", p + "mlp.c_proj.bias", true);
    } else {
      const std::string p = fmt::format("model.layers.{}.", i), a = p + "self_attn.";
      const bool oss = m.family == Family::GptOss;
      l.norm1 = vec(p + "input_layernorm.weight");
      l.norm2 = vec(p + "post_attention_layernorm.weight");
      const std::string bias = m.attention_bias ? ".bias" : "";
      l.q = linear(a + "q_proj.weight", bias.empty() ? "" : a + "q_proj.bias", false);
      l.k = linear(a + "k_proj.weight", bias.empty() ? "" : a + "k_proj.bias", false);
      l.v = linear(a + "v_proj.weight", bias.empty() ? "" : a + "v_proj.bias", false);
      l.o = linear(a + "o_proj.weight", oss ? a + "o_proj.bias" : "", false);
      if (oss) l.sinks = vec(a + "sinks");
      if (m.family == Family::Llama) {
        const std::string b = m.mlp_bias ? ".bias" : "";
        l.gate = linear(p + "mlp.gate_proj.weight", b.empty() ? "" : p + "mlp.gate_proj.bias", false);
        l.up = linear(p + "mlp.up_proj.weight", b.empty() ? "" : p + "mlp.up_proj.bias", false);
        l.down = linear(p + "mlp.down_proj.weight", b.empty() ? "" : p + "mlp.down_proj.bias", false);
      } else if (m.family == Family::Mixtral) {
        l.router = linear(p + "block_sparse_moe.gate.weight", "", false);
        for (int e = 0; e < int(m.experts); ++e) {
          const std::string q = p + fmt::format("block_sparse_moe.experts.{}.", e);
          l.experts.push_back({linear(q + "w1.weight", "", false, false), linear(q + "w3.weight", "", false, false),
                               linear(q + "w2.weight", "", false, false)});
        }
        roundExperts(l.experts);
      } else {  // gpt-oss: [E, d, 2f] with gate and up interleaved; [E, f, d]
        l.router = linear(p + "mlp.router.weight", p + "mlp.router.bias", false);
        const int64_t D = m.hidden, F = m.ffn;
        const std::vector<float> gu = w.tensor(p + "mlp.experts.gate_up_proj"),
                                 gub = w.tensor(p + "mlp.experts.gate_up_proj_bias"),
                                 dn = w.tensor(p + "mlp.experts.down_proj"),
                                 dnb = w.tensor(p + "mlp.experts.down_proj_bias");
        for (int64_t e = 0; e < m.experts; ++e) {
          Expert x;
          x.gate.w.resize(F, D), x.up.w.resize(F, D), x.down.w.resize(D, F);
          x.gate.b.resize(F), x.up.b.resize(F), x.down.b.resize(D);
          for (int64_t f = 0; f < F; ++f) {
            for (int64_t dd = 0; dd < D; ++dd) {
              x.gate.w(f, dd) = gu[size_t((e * D + dd) * 2 * F + 2 * f)];
              x.up.w(f, dd) = gu[size_t((e * D + dd) * 2 * F + 2 * f + 1)];
              x.down.w(dd, f) = dn[size_t((e * F + f) * D + dd)];
            }
            x.gate.b(f) = gub[size_t(e * 2 * F + 2 * f)], x.up.b(f) = gub[size_t(e * 2 * F + 2 * f + 1)];
          }
          for (int64_t dd = 0; dd < D; ++dd) x.down.b(dd) = dnb[size_t(e * D + dd)];
          l.experts.push_back(std::move(x));
        }
        roundExperts(l.experts);
      }
    }
    l.kcache.resize(0, m.kv_heads * m.head_dim);
    l.vcache.resize(0, m.kv_heads * m.head_dim);
  }
}

void Reference::round(MatrixXf& w) const {
  if (n_ == Numerics::Fp16) w = w.unaryExpr(&toF16);
  if (n_ == Numerics::Int8) quantizeRows(w);
}

// The experts of a layer share their int8 scales: one per output channel
// of each matrix kind, over all experts (the chip's schedule cannot know
// which expert it multiplies by).
void Reference::roundExperts(std::vector<Expert>& ex) const {
  for (Linear Expert::*kind : {&Expert::gate, &Expert::up, &Expert::down}) {
    if (n_ == Numerics::Fp16)
      for (Expert& e : ex) (e.*kind).w = (e.*kind).w.unaryExpr(&toF16);
    if (n_ != Numerics::Int8) continue;
    const Eigen::Index rows = (ex[0].*kind).w.rows();
    for (Eigen::Index r = 0; r < rows; ++r) {
      double mx = 0;
      for (const Expert& e : ex) mx = std::max(mx, double((e.*kind).w.row(r).cwiseAbs().maxCoeff()));
      const double s = mx > 0 ? mx / 127.0 : 1.0;
      for (Expert& e : ex)
        for (Eigen::Index c = 0; c < (e.*kind).w.cols(); ++c)
          (e.*kind).w(r, c) = float(std::nearbyint((e.*kind).w(r, c) / s) * s);
    }
  }
}

VectorXf Reference::vec(const std::string& name) const {
  const std::vector<float> v = w_.tensor(name);
  return Eigen::Map<const VectorXf>(v.data(), Eigen::Index(v.size()));
}

Reference::Linear Reference::linear(const std::string& w, const std::string& b, bool transposed, bool rounded) const {
  Linear l;
  const std::vector<int64_t> s = w_.shape(w);
  l.w = matrix(w_.tensor(w), s[0], s[1]);
  if (transposed) l.w.transposeInPlace();  // Conv1D [in, out] -> [out, in]
  if (rounded) round(l.w);
  l.b = b.empty() ? VectorXf::Zero(l.w.rows()) : vec(b);
  return l;
}

VectorXf Reference::apply(const Linear& l, const VectorXf& x) const {
  VectorXf xin = x;
  if (n_ == Numerics::Fp16) xin = x.unaryExpr(&toF16);
  if (n_ == Numerics::Int8)  // static activation scale, saturating
    xin =
        x.unaryExpr([s = actScale_](float v) { return float(std::clamp(std::nearbyint(v / s), -128.0f, 127.0f)) * s; });
  return l.w * xin + l.b;
}

VectorXf Reference::norm(const VectorXf& x, const VectorXf& w, const VectorXf* b) const {
  const float eps = float(m_.norm_eps);
  if (!b) {  // RMSNorm
    const float r = 1.0f / std::sqrt(x.squaredNorm() / float(x.size()) + eps);
    return (x * r).cwiseProduct(w);
  }
  const float mean = x.mean();  // LayerNorm
  const VectorXf c = x.array() - mean;
  const float r = 1.0f / std::sqrt(c.squaredNorm() / float(x.size()) + eps);
  return (c * r).cwiseProduct(w) + *b;
}

// Rotates each head's halves (Hugging Face's rotate_half convention).
void Reference::rope(VectorXf& x, int64_t heads, int64_t pos) const {
  const int64_t d = m_.head_dim, half = d / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i) {
      const double a = double(pos) * invFreq_[size_t(i)];
      const float c = float(std::cos(a) * ropeScale_), s = float(std::sin(a) * ropeScale_);
      float& x1 = x(h * d + i);
      float& x2 = x(h * d + i + half);
      const float a1 = x1, a2 = x2;
      x1 = a1 * c - a2 * s;
      x2 = a2 * c + a1 * s;
    }
}

VectorXf Reference::attention(Layer& l, int li, const VectorXf& h) {
  const int64_t hd = m_.head_dim, group = m_.heads / m_.kv_heads;
  const std::string p = fmt::format("l{}.", li);
  VectorXf q = note(p + "q", apply(l.q, h)), k = note(p + "k", apply(l.k, h)), v = note(p + "v", apply(l.v, h));
  if (m_.family != Family::Gpt2) rope(q, m_.heads, pos_), rope(k, m_.kv_heads, pos_);
  const bool f16 = n_ != Numerics::Fp32;  // the cache and attention operands are fp16 on the chip
  if (f16) q = q.unaryExpr(&toF16), k = k.unaryExpr(&toF16), v = v.unaryExpr(&toF16);
  l.kcache.conservativeResize(pos_ + 1, Eigen::NoChange);
  l.vcache.conservativeResize(pos_ + 1, Eigen::NoChange);
  l.kcache.row(pos_) = k.transpose();
  l.vcache.row(pos_) = v.transpose();
  int64_t first = 0;  // gpt-oss sliding layers see the last `window` positions
  if (m_.sliding_window > 0 && !m_.sliding.empty() && m_.sliding[size_t(li)])
    first = std::max<int64_t>(0, pos_ + 1 - m_.sliding_window);
  const int64_t n = pos_ + 1 - first;
  VectorXf out(m_.heads * hd);
  const float scale = 1.0f / std::sqrt(float(hd));
  for (int64_t hh = 0; hh < m_.heads; ++hh) {
    const int64_t g = hh / group;
    const VectorXf qh = q.segment(hh * hd, hd);
    VectorXf s = l.kcache.block(first, g * hd, n, hd) * qh * scale;  // [n]
    if (l.sinks.size()) {                                            // the sink joins the softmax, then is dropped
      VectorXf e(n + 1);
      e << s, l.sinks(hh);
      VectorXf p = softmax(e).head(n);
      if (f16) p = p.unaryExpr(&toF16);
      out.segment(hh * hd, hd) = l.vcache.block(first, g * hd, n, hd).transpose() * p;
    } else {  // exp(s - max) into the mix, its result times 1 / sum after (as the chip does, as rsqrt(sum)^2)
      VectorXf e = (s.array() - s.maxCoeff()).exp();
      const float r = 1.0f / std::sqrt(e.sum());
      if (f16) e = e.unaryExpr(&toF16);
      out.segment(hh * hd, hd) = (l.vcache.block(first, g * hd, n, hd).transpose() * e) * (r * r);
    }
  }
  note(p + "mix", out);
  return note(p + "o", apply(l.o, out));
}

VectorXf Reference::mlp(const Layer& l, const VectorXf& h) const {
  if (m_.family == Family::Gpt2) return apply(l.proj, apply(l.fc, h).unaryExpr(&gelu));
  if (!m_.moe()) {
    const VectorXf g = apply(l.gate, h).unaryExpr(&silu);
    return apply(l.down, g.cwiseProduct(apply(l.up, h)));
  }
  // Router: the top-k logits (lowest index first among equals), softmax over them.
  const VectorXf logits = apply(l.router, h);
  std::vector<int> idx(size_t(m_.experts));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return logits(a) > logits(b); });
  VectorXf top(m_.top_k);
  for (int64_t j = 0; j < m_.top_k; ++j) top(j) = logits(idx[size_t(j)]);
  const VectorXf wts = softmax(top);
  VectorXf y = VectorXf::Zero(m_.hidden);
  for (int64_t j = 0; j < m_.top_k; ++j) {
    const Expert& e = l.experts[size_t(idx[size_t(j)])];
    VectorXf a;
    if (m_.family == Family::GptOss) {  // clamped SwiGLU with alpha 1.702 and (up + 1)
      const float lim = float(m_.swiglu_limit);
      const VectorXf g = apply(e.gate, h).cwiseMin(lim);
      const VectorXf u = apply(e.up, h).cwiseMax(-lim).cwiseMin(lim);
      const VectorXf glu = g.unaryExpr([](float x) { return x / (1.0f + std::exp(-1.702f * x)); });
      a = (u.array() + 1.0f).matrix().cwiseProduct(glu);
    } else {
      a = apply(e.gate, h).unaryExpr(&silu).cwiseProduct(apply(e.up, h));
    }
    y += wts(j) * apply(e.down, a);
  }
  return y;
}

VectorXf Reference::step(int token) {
  if (token < 0 || token >= m_.vocab)
    throw Error(fmt::format("token {} is outside the vocabulary 0..{}", token, m_.vocab - 1));
  if (pos_ >= m_.max_positions) throw Error(fmt::format("position {} exceeds the model's {}", pos_, m_.max_positions));
  VectorXf x = embed_.row(token).transpose();  // [d]
  if (m_.family == Family::Gpt2) x += positions_.row(pos_).transpose();
  note("embed", x);
  for (int i = 0; i < int(m_.layers); ++i) {
    Layer& l = layers_[size_t(i)];
    const bool ln = m_.family == Family::Gpt2;
    const std::string p = fmt::format("l{}.", i);
    x += attention(l, i, note(p + "norm1", norm(x, l.norm1, ln ? &l.norm1b : nullptr)));
    note(p + "resid_attn", x);
    x += note(p + "mlp", mlp(l, note(p + "norm2", norm(x, l.norm2, ln ? &l.norm2b : nullptr))));
    note(p + "resid_mlp", x);
  }
  const VectorXf h = note("final_norm", norm(x, finalNorm_, m_.family == Family::Gpt2 ? &finalNormB_ : nullptr));
  ++pos_;
  return apply(head_, h);  // [vocab]
}

}  // namespace lpu
