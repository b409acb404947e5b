#include "build_graph.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

#include "isa/error.h"

namespace lpu {

std::string cacheName(int layer, bool keys, int seq) {
  return fmt::format("l{}.{}cache{}", layer, keys ? 'k' : 'v', seq < 0 ? "" : fmt::format(".s{}", seq));
}

namespace {

// Appends tensors and ops; activations are named "l<layer>.<what>".
class Builder {
 public:
  Builder(const ModelConfig& m, Graph& g, int64_t T) : m_(m), g_(g), T_(T) {}
  void setRows(int64_t T) { T_ = T; }  // the rows of the activations made from here on

  std::string weight(const std::string& name, std::vector<int64_t> shape) {
    if (weights_.insert(name).second) g_.tensors.push_back(GTensor{name, std::move(shape), TensorKind::Weight});
    return name;
  }
  std::string act(const std::string& name, int64_t cols, TensorKind kind = TensorKind::Activation) {
    g_.tensors.push_back(GTensor{name, {T_, cols}, kind});
    return name;
  }
  std::string op(OpKind k, const std::string& name, std::vector<std::string> in, const std::string& out,
                 OpAttrs attrs = {}) {
    g_.ops.push_back(GOp{k, name, std::move(in), {out}, std::move(attrs), layer});
    return out;
  }
  // y = x W (+ b); W stored [out, in] (Llama) or [in, out] (GPT-2).
  std::string linear(const std::string& name, const std::string& x, const std::string& w, std::vector<int64_t> wshape,
                     const std::string& bias, int64_t out, bool transposed) {
    std::vector<std::string> in{x, weight(w, std::move(wshape))};
    if (!bias.empty()) in.push_back(weight(bias, {out}));
    return op(OpKind::MatMul, name, in, act(name, out), transposed ? OpAttrs().set_transpose_w(true) : OpAttrs());
  }

  const ModelConfig& m_;
  Graph& g_;
  int64_t T_;
  int layer = -1;

 private:
  std::unordered_set<std::string> weights_;  // the weight tensors added (g_.find is a linear search)
};

std::string pre(int i) { return fmt::format("l{}.", i); }

}  // namespace

// One piece (about 230 lines): the model's step graph read top to bottom
// like the reference forward pass (embedding, each layer's attention and MLP
// or experts, the head), so the two can be compared line by line; the
// per-family differences are flags of ModelConfig, not functions.
Graph buildGraph(const ModelConfig& m, const StepRequest& r) {
  Graph g;
  const bool prefill = r.mode == "prefill";
  if (!prefill && r.mode != "decode") throw Error(fmt::format("mode \"{}\": expected decode or prefill", r.mode));
  if (r.batch < 1 || r.batch > 4096) throw Error(fmt::format("batch {}: expected 1..4096 sequences", r.batch));
  if (prefill && r.batch > 1) throw Error("--batch applies to decode steps (a prefill takes one prompt)");
  if (r.exposeKv && r.batch > 1) throw Error("--batch: greedy decoding (--prompt) runs one sequence");
  const int64_t B = r.batch, T = prefill ? r.prompt : B;
  const int64_t C = r.context > 0 ? r.context : prefill ? r.prompt : std::min<int64_t>(1024, m.max_positions);
  if (T < 1) throw Error("prefill needs a prompt of at least one token (--prompt-len)");
  if (prefill && C < T)
    throw Error(fmt::format("prefill chunk of {} tokens ending at context {}: the context holds them all", T, C));
  if (C > m.max_positions)
    throw Error(fmt::format("{}: context {} exceeds the model's {} positions", m.name, C, m.max_positions));
  if (r.firstLayer < 0 || r.firstLayer >= m.layers)
    throw Error(fmt::format("{}: first layer {} outside 0..{}", m.name, r.firstLayer, m.layers - 1));
  const int L0 = r.firstLayer;
  const int L = r.layers < 0 ? int(m.layers) : std::min(L0 + r.layers, int(m.layers));
  g.name = !prefill || C == T ? fmt::format("{} {}, {} {}", m.name, r.mode, prefill ? "prompt" : "context", C)
                              : fmt::format("{} prefill, tokens {}..{} of the prompt", m.name, C - T, C - 1);
  if (B > 1) g.name += fmt::format(", batch {}", B);
  if (L0 > 0 || L < m.layers || r.startAtMlp || r.endAfterAttention) {
    g.name += fmt::format(", layers {}{}..{}{} of {}", L0, r.startAtMlp ? " (MLP)" : "", L - 1,
                          r.endAfterAttention ? " (attention)" : "", m.layers);
  }
  g.model = m.name;
  g.mode = r.mode;
  g.tokens = T;
  g.batch = B;
  g.context = C;

  Builder b(m, g, T);
  const int64_t D = m.hidden, F = m.ffn, V = m.vocab, hd = m.head_dim;
  const int64_t Q = m.heads * hd, KV = m.kv_heads * hd;
  const bool gpt2 = m.family == Family::Gpt2;
  if (r.embed) g.tensors.push_back(GTensor{"ids", {T}, TensorKind::Input, true});
  if (!gpt2) g.tensors.push_back(GTensor{"pos", {T}, TensorKind::Input, true});

  // Embedding (GPT-2: plus the learned rows of positions C-T .. C-1).
  const std::string emb = gpt2 ? "wte.weight" : "model.embed_tokens.weight";
  std::string x = "x";
  if (!r.embed)
    g.tensors.push_back(GTensor{"x", {T, D}, TensorKind::Input});
  else
    x = b.op(OpKind::Embedding, "embed", {"ids", b.weight(emb, {V, D})}, b.act("embed", D));
  if (gpt2 && r.embed) {
    // Decode: every sequence of the batch at position C - 1 (one row, added to each).
    const std::string wpe =
        !prefill ? fmt::format("wpe.weight[{}, :]", C - 1) : fmt::format("wpe.weight[{}:{}, :]", C - T, C);
    x = b.op(OpKind::Add, "embed_pos",
             {x, b.weight(wpe, !prefill ? std::vector<int64_t>{D} : std::vector<int64_t>{T, D})},
             b.act("embed_pos", D));
  }

  const OpAttrs rope = OpAttrs().set_theta(m.rope_theta).set_head_dim(hd);
  for (int i = L0; i < L; ++i) {
    b.layer = i;
    const std::string p = pre(i), hp = gpt2 ? fmt::format("h.{}.", i) : fmt::format("model.layers.{}.", i);
    const bool doAttention = !(i == L0 && r.startAtMlp), doMlp = !(i == L - 1 && r.endAfterAttention);
    std::string h;
    if (doAttention) {  // attention block
      if (gpt2)
        h = b.op(OpKind::LayerNorm, p + "ln_1", {x, b.weight(hp + "ln_1.weight", {D}), b.weight(hp + "ln_1.bias", {D})},
                 b.act(p + "ln_1", D), OpAttrs().set_eps(m.norm_eps));
      else
        h = b.op(OpKind::RmsNorm, p + "input_norm", {x, b.weight(hp + "input_layernorm.weight", {D})},
                 b.act(p + "input_norm", D), OpAttrs().set_eps(m.norm_eps));
      std::string q, k, v;
      if (gpt2) {
        const std::string w = hp + "attn.c_attn.weight", bias = hp + "attn.c_attn.bias";
        auto part = [&](const char* what, int j) {
          return b.linear(p + what, h, fmt::format("{}[:, {}:{}]", w, j * D, (j + 1) * D), {D, D},
                          fmt::format("{}[{}:{}]", bias, j * D, (j + 1) * D), D, false);
        };
        q = part("q", 0), k = part("k", 1), v = part("v", 2);
      } else {
        auto proj = [&](const char* what, int64_t out) {
          const std::string w = hp + fmt::format("self_attn.{}_proj", what);
          return b.linear(p + what, h, w + ".weight", {out, D}, m.attention_bias ? w + ".bias" : "", out, true);
        };
        q = proj("q", Q), k = proj("k", KV), v = proj("v", KV);
        OpAttrs rq = rope, rk = rope;
        rq.set_heads(m.heads);
        rk.set_heads(m.kv_heads);
        if (!m.rope_scaling.is_null()) rq.set_scaling(m.rope_scaling), rk.set_scaling(m.rope_scaling);
        q = b.op(OpKind::Rope, p + "q_rot", {q, "pos"}, b.act(p + "q_rot", Q), rq);
        k = b.op(OpKind::Rope, p + "k_rot", {k, "pos"},
                 b.act(p + "k_rot", KV, r.exposeKv ? TensorKind::Output : TensorKind::Activation), rk);
      }
      if (gpt2 && r.exposeKv) {  // the k and v rows come straight from the projection
        for (auto& t : g.tensors)
          if (t.name == k || t.name == v) t.kind = TensorKind::Output;
      } else if (r.exposeKv) {
        for (auto& t : g.tensors)
          if (t.name == v) t.kind = TensorKind::Output;
      }
      // gpt-oss sliding layers keep the last `sliding_window` positions (the
      // host shifts the window; RoPE uses the absolute positions).
      const bool slide = m.sliding_window > 0 && !m.sliding.empty() && m.sliding[size_t(i)] && C > m.sliding_window;
      const int64_t Ci = slide ? std::max(m.sliding_window, T / B) : C;
      // One sequence's attention over its own caches: q, k, v its rows; returns the mix.
      auto attend = [&](const std::string& q, const std::string& k, const std::string& v, int seq,
                        const std::string& tag) {
        const int64_t n = T / B;  // the sequence's tokens this step
        const std::string kc = cacheName(i, true, seq), vc = cacheName(i, false, seq);
        g.tensors.push_back(GTensor{kc, {Ci, KV}, TensorKind::Cache});
        g.tensors.push_back(GTensor{vc, {Ci, KV}, TensorKind::Cache});
        const OpAttrs kvA = OpAttrs().set_kv_heads(m.kv_heads).set_head_dim(hd);
        b.op(OpKind::KvAppend, p + "append_k" + tag, {kc, k}, kc, OpAttrs(kvA).set_keys(true));
        b.op(OpKind::KvAppend, p + "append_v" + tag, {vc, v}, vc, kvA);
        const OpAttrs att = OpAttrs().set_heads(m.heads).set_kv_heads(m.kv_heads).set_head_dim(hd);
        OpAttrs satt = OpAttrs(att).set_scale(1.0 / std::sqrt(double(hd)));
        if (prefill) satt.set_causal(true);
        g.tensors.push_back(GTensor{p + "scores" + tag, {n * m.heads, Ci}, TensorKind::Activation});
        g.tensors.push_back(GTensor{p + "probs" + tag, {n * m.heads, Ci}, TensorKind::Activation});
        const std::string s = b.op(OpKind::AttnScores, p + "scores" + tag, {q, kc}, p + "scores" + tag, satt);
        std::vector<std::string> sin{s};  // gpt-oss: a learned logit per head joins the softmax
        if (m.family == Family::GptOss) sin.push_back(b.weight(hp + "self_attn.sinks", {m.heads}));
        const std::string pr = b.op(OpKind::Softmax, p + "probs" + tag, sin, p + "probs" + tag,
                                    OpAttrs().set_heads(m.heads).set_kv_heads(m.kv_heads));
        g.tensors.push_back(GTensor{p + "mix" + tag, {n, Q}, TensorKind::Activation});
        return b.op(OpKind::AttnMix, p + "mix" + tag, {pr, vc}, p + "mix" + tag, att);
      };
      std::string o;
      if (B == 1) {
        o = attend(q, k, v, -1, "");
      } else {  // each sequence its rows of q, k, v and its caches; the mixes back in one [B, Q]
        std::vector<std::string> mixes;
        for (int s = 0; s < int(B); ++s) {
          const std::string tag = fmt::format(".s{}", s);
          auto row = [&](const std::string& t, int64_t cols) {
            g.tensors.push_back(GTensor{t + tag, {1, cols}, TensorKind::Activation});
            return b.op(OpKind::Slice, t + tag, {t}, t + tag, OpAttrs().set_axis(0).set_start(s).set_end(s + 1));
          };
          mixes.push_back(attend(row(q, Q), row(k, KV), row(v, KV), s, tag));
        }
        o = b.op(OpKind::Concat, p + "mix", mixes, b.act(p + "mix", Q), OpAttrs().set_axis(0));
      }
      const std::string a =
          gpt2 ? b.linear(p + "o", o, hp + "attn.c_proj.weight", {D, D}, hp + "attn.c_proj.bias", D, false)
               : b.linear(p + "o", o, hp + "self_attn.o_proj.weight", {D, Q},
                          m.family == Family::GptOss ? hp + "self_attn.o_proj.bias" : "", D, true);
      x = b.op(OpKind::Add, p + "resid_attn", {x, a}, b.act(p + "resid_attn", D));
    }

    if (!doMlp) continue;  // MLP block
    if (gpt2) {
      h = b.op(OpKind::LayerNorm, p + "ln_2", {x, b.weight(hp + "ln_2.weight", {D}), b.weight(hp + "ln_2.bias", {D})},
               b.act(p + "ln_2", D), OpAttrs().set_eps(m.norm_eps));
      const std::string f = b.linear(p + "fc", h, hp + "mlp.c_fc.weight", {D, F}, hp + "mlp.c_fc.bias", F, false);
      const std::string ge = b.op(OpKind::Gelu, p + "gelu", {f}, b.act(p + "gelu", F));
      const std::string d =
          b.linear(p + "down", ge, hp + "mlp.c_proj.weight", {F, D}, hp + "mlp.c_proj.bias", D, false);
      x = b.op(OpKind::Add, p + "resid_mlp", {x, d}, b.act(p + "resid_mlp", D));
      continue;
    }
    h = b.op(OpKind::RmsNorm, p + "post_norm", {x, b.weight(hp + "post_attention_layernorm.weight", {D})},
             b.act(p + "post_norm", D), OpAttrs().set_eps(m.norm_eps));
    std::string d;
    if (!m.moe()) {
      auto proj = [&](const char* what, const std::string& in, int64_t out, int64_t inDim) {
        const std::string w = hp + fmt::format("mlp.{}_proj", what);
        return b.linear(p + what, in, w + ".weight", {out, inDim}, m.mlp_bias ? w + ".bias" : "", out, true);
      };
      const std::string gate = proj("gate", h, F, D), up = proj("up", h, F, D);
      const std::string sg = b.op(OpKind::Silu, p + "silu", {gate}, b.act(p + "silu", F));
      const std::string gu = b.op(OpKind::Mul, p + "gated", {sg, up}, b.act(p + "gated", F));
      d = proj("down", gu, D, F);
    } else {
      // Router logits, top-k experts and their weights, then the experts.
      const bool oss = m.family == Family::GptOss;
      const std::string rw = oss ? hp + "mlp.router.weight" : hp + "block_sparse_moe.gate.weight";
      const std::string logits =
          b.linear(p + "router", h, rw, {m.experts, D}, oss ? hp + "mlp.router.bias" : "", m.experts, true);
      g.tensors.push_back(GTensor{p + "experts", {T, m.top_k}, TensorKind::Activation, true});
      g.tensors.push_back(GTensor{p + "expert_w", {T, m.top_k}, TensorKind::Activation});
      g.ops.push_back(GOp{OpKind::TopK,
                          p + "topk",
                          {logits},
                          {p + "experts", p + "expert_w"},
                          OpAttrs().set_k(m.top_k).set_normalize("softmax"),
                          i});
      std::vector<std::string> in{h, p + "experts", p + "expert_w"};
      for (int e = 0; e < int(m.experts); ++e) {
        if (oss) {
          const std::string w = hp + "mlp.experts.";
          in.push_back(b.weight(fmt::format("{}gate_up_proj[{}, :, 0::2]", w, e), {D, F}));
          in.push_back(b.weight(fmt::format("{}gate_up_proj[{}, :, 1::2]", w, e), {D, F}));
          in.push_back(b.weight(fmt::format("{}down_proj[{}, :, :]", w, e), {F, D}));
          in.push_back(b.weight(fmt::format("{}gate_up_proj_bias[{}, 0::2]", w, e), {F}));
          in.push_back(b.weight(fmt::format("{}gate_up_proj_bias[{}, 1::2]", w, e), {F}));
          in.push_back(b.weight(fmt::format("{}down_proj_bias[{}, :]", w, e), {D}));
        } else {
          const std::string w = hp + fmt::format("block_sparse_moe.experts.{}.", e);
          in.push_back(b.weight(w + "w1.weight", {F, D}));
          in.push_back(b.weight(w + "w3.weight", {F, D}));
          in.push_back(b.weight(w + "w2.weight", {D, F}));
        }
      }
      OpAttrs attrs = OpAttrs().set_experts(m.experts).set_top_k(m.top_k).set_transpose_w(!oss);
      if (oss) attrs.set_bias(true).set_activation("gpt_oss_swiglu").set_limit(m.swiglu_limit);
      d = b.op(OpKind::MoeFFN, p + "moe", in, b.act(p + "moe", D), attrs);
    }
    x = b.op(OpKind::Add, p + "resid_mlp", {x, d}, b.act(p + "resid_mlp", D));
  }

  b.layer = -1;
  if (!r.head) {
    for (auto& t : g.tensors)
      if (t.name == x) t.kind = TensorKind::Output;
    validate(g, g.name);
    return g;
  }
  if (prefill && T > 1 && !r.allLogits) {  // the next token follows the last one's logits alone
    g.tensors.push_back(GTensor{"last", {1, D}, TensorKind::Activation});
    x = b.op(OpKind::Slice, "last", {x}, "last", OpAttrs().set_axis(0).set_start(T - 1).set_end(T));
  }
  const int64_t rows = prefill && !r.allLogits ? 1 : T;
  b.setRows(rows);
  std::string h;
  if (gpt2)
    h = b.op(OpKind::LayerNorm, "ln_f", {x, b.weight("ln_f.weight", {D}), b.weight("ln_f.bias", {D})}, b.act("ln_f", D),
             OpAttrs().set_eps(m.norm_eps));
  else
    h = b.op(OpKind::RmsNorm, "final_norm", {x, b.weight("model.norm.weight", {D})}, b.act("final_norm", D),
             OpAttrs().set_eps(m.norm_eps));
  const std::string head = m.tied_embeddings ? emb : "lm_head.weight";
  b.linear("logits", h, head, {V, D}, "", V, true);
  for (auto& t : g.tensors)
    if (t.name == "logits") t.kind = TensorKind::Output;
  g.tensors.push_back(GTensor{"next_token", {rows}, TensorKind::Output, true});
  b.op(OpKind::Argmax, "argmax", {"logits"}, "next_token");
  validate(g, g.name);
  return g;
}

}  // namespace lpu
