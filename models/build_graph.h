// The graph of one step of a transformer: a decode step (one token over a KV
// cache of `context` positions, the new one included) or a prefill (a prompt
// of `prompt` tokens filling an empty cache, or a chunk of a longer prompt:
// `prompt` tokens at positions context - prompt .. context - 1, after the
// cache rows of the chunks before). Weight tensors are named as in
// the Hugging Face checkpoint, with a NumPy-style view where the graph uses a
// part of one (GPT-2's fused QKV: "h.0.attn.c_attn.weight[:, 0:768]").
#pragma once
#include <string>

#include "graph.h"
#include "model_config.h"

namespace lpu {

struct StepRequest {
  std::string mode = "decode";     // decode | prefill
  int64_t context = 0;             // positions attended (cache rows after the append); decode 0: min(1024, max);
                                   //   prefill 0: the prompt (a chunk of a longer prompt: its last position + 1)
  int64_t prompt = 0;              // prefill: the tokens of this step (the prompt, or a chunk of it)
  int firstLayer = 0;              // the layers [firstLayer, firstLayer + layers): a pipeline stage, or
  int layers = -1;                 //   one layer of a model too big for a chip (-1: to the last)
  bool embed = true;               // start with the embedding (else the step's input is "x" [tokens, d_model])
  bool head = true;                // end with the final norm, logits and argmax (else the output is the residual)
  bool startAtMlp = false;         // skip the attention block of the first layer (a stage boundary mid-layer)
  bool endAfterAttention = false;  // skip the MLP block of the last layer
  bool exposeKv = false;           // mark each layer's new key/value rows as outputs (to carry the cache on the host)
  int64_t batch = 1;               // decode: sequences stepped together, each with its own KV caches
  bool allLogits = false;          // prefill: the logits of every token (else of the last, which a request needs)
};

Graph buildGraph(const ModelConfig& m, const StepRequest& r);

// The name of a layer's key or value cache (of sequence `seq` in a batch,
// -1 when there is one sequence).
std::string cacheName(int layer, bool keys, int seq = -1);

}  // namespace lpu
