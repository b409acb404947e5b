// A whole request: the prompt prefilled in chunks (each a step compiled for
// its context, causal attention over the cache the earlier chunks wrote and
// its own rows), then N decode steps, each exact (predicted == simulated).
// Time to first token is the prefill's cycles (its last chunk yields the
// first token), time per output token the mean decode step, end to end
// their sum.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "isa/error.h"
#include "models/model_config.h"
#include "sim/cli/model_run.h"

namespace lpu {

struct RequestPlan {
  int64_t prompt = 0;    // prompt tokens
  int64_t chunk = 0;     // tokens per prefill step; 0: the whole prompt, halved while it does not fit
  int64_t decode = 0;    // decode steps after the prefill
  int64_t firstTry = 0;  // chunk 0: the size tried first (0: the whole prompt)
};

struct RequestRun {
  std::vector<ChipDecoder::Step> prefill, decode;
  std::vector<int64_t> chunkTokens;  // tokens of each prefill step
  std::vector<int> generated;        // functional: the chip's tokens (the prefill's, then each step's)
  Cycle prefillCycles() const;
  Cycle decodeCycles() const;
};

// One step of `tokens` after the positions so far (ChipDecoder::step or
// SystemDecoder::step); it throws an error naming "bytes of SRAM" when the
// step does not fit.
using StepFn = std::function<ChipDecoder::Step(const std::vector<int>&)>;

// Runs the plan; throws lpu::Error if a step's cycles differ from the
// prediction, or if even one token a chunk does not fit (naming the KV
// cache's bytes). `onStep` hears each step done (for progress).
RequestRun runRequest(const ModelConfig& m, const RequestPlan& plan, const StepFn& step,
                      const std::function<void(const std::string&)>& onStep = {});

// The report: `head` (model, chip or system keys) then the request's keys
// (cycles and seconds with their units in the names); and as a table.
// The bound: each step's summed (each step streams its weights through the
// MXM again), and the MXM utilisation of the whole request.
nlohmann::ordered_json requestJson(nlohmann::ordered_json head, const RequestRun& r, const ChipConfig& chip);
std::string requestTable(const std::string& title, const RequestRun& r, const ChipConfig& chip);

// Whether a step failed for want of room: one chip's "needs N bytes of
// SRAM", or a system's "does not fit system ... with any split".
bool doesNotFit(const Error& e);

// KV-cache bytes of `positions` (fp16 keys and values of every layer).
uint64_t kvCacheBytes(const ModelConfig& m, int64_t positions);

}  // namespace lpu
